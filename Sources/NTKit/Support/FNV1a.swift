/// FNV-1a, 64-bit: the one non-cryptographic hash of NTKit (checkpoint
/// fingerprints of pools and models, named random sub-streams). Stable across
/// machines and versions of Swift, unlike `Hasher`.
public struct FNV1a: Sendable, Equatable {
  public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

  public init() {}

  /// One round over one byte.
  @inline(__always)
  public mutating func add(byte: UInt8) {
    value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
  }

  /// Eight rounds over the bytes of `word`, least significant first.
  @inline(__always)
  public mutating func add(word: UInt64) {
    var v = word
    for _ in 0..<8 {
      add(byte: UInt8(v & 0xFF))
      v >>= 8
    }
  }

  /// The UTF-8 bytes of `text`, one round each.
  public mutating func add(bytesOf text: String) {
    for byte in text.utf8 { add(byte: byte) }
  }
}
