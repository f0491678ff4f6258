import CNTKitSafety
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// printf-style formatting of one floating-point value without Foundation
/// (keeps ICU out of static binaries). `spec` is a C format such as "%.3f".
public func format(_ value: Double, _ spec: String) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  _ = buffer.withUnsafeMutableBufferPointer { ptr in ntk_format_double(ptr.baseAddress, 64, spec, value) }
  return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Parses a byte size such as "1073741824", "512M", "1.5G", "2GiB" (binary units).
public func parseByteSize(_ text: String) -> Int? {
  var s = text.trimmingWhitespace().uppercased()
  for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count { s.removeLast(suffix.count) }
  var factor = 1.0
  if let last = s.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
    factor = Double(1 << (10 * power))
    s.removeLast()
  }
  guard let value = Double(s), value.isFinite, value > 0, value * factor < 9e18 else { return nil }
  return Int(value * factor)
}

extension String {
  public func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return String(s)
  }
}
