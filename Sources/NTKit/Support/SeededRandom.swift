/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
/// Every random source in NTKit takes one of these explicitly: no global RNG.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)
  private var spareNormal: Double?

  public init(seed: UInt64) {
    var mix = SplitMix64(seed: seed)
    s = (mix.next(), mix.next(), mix.next(), mix.next())
  }

  /// A generator for a named sub-stream (e.g. "target", "predictor", "run 3"),
  /// so that separate uses of one user seed never share numbers.
  public init(seed: UInt64, stream: String) {
    var h = FNV1a()
    h.add(bytesOf: stream)
    self.init(seed: seed ^ h.value)
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
