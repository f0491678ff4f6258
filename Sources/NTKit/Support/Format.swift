#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// printf-style formatting of one floating-point value without Foundation
/// (keeps ICU out of static binaries). `spec` is a C format such as "%.3f".
public func format(_ value: Double, _ spec: String) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  _ = buffer.withUnsafeMutableBufferPointer { ptr in
    withVaList([value]) { vsnprintf(ptr.baseAddress, 64, spec, $0) }
  }
  return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
