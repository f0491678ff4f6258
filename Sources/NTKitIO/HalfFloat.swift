/// Bit-exact conversions from IEEE half (binary16) and bfloat16 to Float,
/// written by hand so they behave the same on every platform (subnormals,
/// infinities and NaN payloads included).
public enum HalfFloat {
  /// binary16 bits → Float (exact: every half value is representable).
  @inline(__always)
  public static func float(fromHalf bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x03FF)
    switch exponent {
    case 0:
      // Zero or subnormal: mantissa · 2^-24 (exact in Float).
      let magnitude = Float(mantissa) * 0x1p-24
      return sign != 0 ? -magnitude : magnitude
    case 0x1F:
      // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
      // Normal: rebias the exponent from 15 to 127.
      return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
  }

  /// bfloat16 bits → Float (bfloat16 is the top half of a float32).
  @inline(__always)
  public static func float(fromBFloat16 bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }
}
