/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
/// Every random source in NTKit takes one of these explicitly: no global RNG.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)
  private var spareNormal: Double?

  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  /// A generator for a named sub-stream (e.g. "target", "predictor", "run 3"),
  /// so that separate uses of one user seed never share numbers.
  public init(seed: UInt64, stream: String) {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in stream.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
    self.init(seed: seed ^ h)
  }

  @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = SeededRandom.rotl(s.1 &* 5, 7) &* 9
    let t = s.1 << 17
    s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
    s.2 ^= t
    s.3 = SeededRandom.rotl(s.3, 45)
    return result
  }

  /// Uniform in [0, 1).
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal N(0, 1) (Box–Muller).
  public mutating func normal() -> Double {
    if let z = spareNormal { spareNormal = nil; return z }
    var u = uniform()
    while u <= 0 { u = uniform() }
    let v = uniform()
    let r = (-2 * libm_log(u)).squareRoot()
    spareNormal = r * libm_sin(2 * Double.pi * v)
    return r * libm_cos(2 * Double.pi * v)
  }
}
