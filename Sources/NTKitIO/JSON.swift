#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON document: a strict RFC 8259 parser and a serializer, without Foundation.
///
/// Objects keep their members in document order. Parsing rejects duplicate
/// keys, lone surrogates, invalid UTF-8, control characters in strings,
/// trailing commas, numbers out of Double range and nesting deeper than
/// `maxDepth`. Errors are `NTKitError.format` naming the line and column.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([(key: String, value: JSONValue)])

  /// Default nesting limit for `parse`.
  public static let maxDepth = 256

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: return false
    }
  }

  // MARK: - Accessors

  /// The member `key` of an object (nil for a missing key or a non-object).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }

  public var isNull: Bool { if case .null = self { return true } else { return false } }
  public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  public var doubleValue: Double? { if case .number(let x) = self { return x } else { return nil } }
  public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
  public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
  public var objectValue: [(key: String, value: JSONValue)]? {
    if case .object(let o) = self { return o } else { return nil }
  }
  /// The number as an `Int` when it is integral and in range, else nil.
  public var intValue: Int? {
    guard case .number(let x) = self, x.rounded() == x, abs(x) < 9.0e15 else { return nil }
    return Int(x)
  }

  /// A short name of the value's kind for error messages ("a string", "an array", …).
  public var kindName: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }

  // MARK: - Parsing

  /// Parses UTF-8 `bytes`; `path` names the source in error messages.
  public static func parse(_ bytes: [UInt8], path: String = "<json>", maxDepth: Int = JSONValue.maxDepth) throws -> JSONValue {
    try bytes.withUnsafeBufferPointer { buffer in
      var parser = JSONParser(bytes: buffer, path: path, maxDepth: maxDepth)
      return try parser.parseDocument()
    }
  }

  /// Parses `text`; `path` names the source in error messages.
  public static func parse(_ text: String, path: String = "<json>", maxDepth: Int = JSONValue.maxDepth) throws -> JSONValue {
    try parse(Array(text.utf8), path: path, maxDepth: maxDepth)
  }

  // MARK: - Serialization

  /// The JSON text. Integral numbers print without ".0", non-finite numbers
  /// as `null`. `pretty` indents by two spaces and keeps arrays of scalars on one line.
  public func serialized(pretty: Bool = false) -> String {
    var out = ""
    write(to: &out, pretty: pretty, indent: 0)
    return out
  }

  /// The JSON text of a number (integers without a fraction, non-finite as null).
  public static func numberText(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    if x.rounded() == x && abs(x) < 1e16 { return String(Int64(x)) }
    return "\(x)"  // shortest round-trip form, e.g. 0.1, 1e-05, 1.5e+20
  }

  /// `text` as a quoted JSON string literal.
  public static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  private var isScalar: Bool {
    switch self {
    case .array(let a): return a.isEmpty
    case .object(let o): return o.isEmpty
    default: return true
    }
  }

  private func write(to out: inout String, pretty: Bool, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let x): out += JSONValue.numberText(x)
    case .string(let s): out += JSONValue.quoted(s)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      if !pretty || items.allSatisfy(\.isScalar) {
        out += "["
        for (i, item) in items.enumerated() {
          if i > 0 { out += pretty ? ", " : "," }
          item.write(to: &out, pretty: pretty, indent: indent)
        }
        out += "]"
        return
      }
      let pad = String(repeating: " ", count: indent + 2)
      out += "[\n"
      for (i, item) in items.enumerated() {
        out += pad
        item.write(to: &out, pretty: pretty, indent: indent + 2)
        out += i + 1 < items.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "]"
    case .object(let members):
      if members.isEmpty { out += "{}"; return }
      if !pretty {
        out += "{"
        for (i, m) in members.enumerated() {
          if i > 0 { out += "," }
          out += JSONValue.quoted(m.key) + ":"
          m.value.write(to: &out, pretty: false, indent: 0)
        }
        out += "}"
        return
      }
      let pad = String(repeating: " ", count: indent + 2)
      out += "{\n"
      for (i, m) in members.enumerated() {
        out += pad + JSONValue.quoted(m.key) + ": "
        m.value.write(to: &out, pretty: true, indent: indent + 2)
        out += i + 1 < members.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "}"
    }
  }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
  public init(floatLiteral value: Double) { self = .number(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(elements.map { (key: $0.0, value: $0.1) })
  }
}

extension JSONValue {
  /// An array of numbers.
  public init<T: BinaryFloatingPoint>(numbers: [T]) { self = .array(numbers.map { .number(Double($0)) }) }
  /// An array of strings.
  public init(strings: [String]) { self = .array(strings.map { .string($0) }) }
}

// MARK: - Parser

private struct JSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  let path: String
  let maxDepth: Int
  var pos = 0
  var depth = 0

  init(bytes: UnsafeBufferPointer<UInt8>, path: String, maxDepth: Int) {
    self.bytes = bytes
    self.path = path
    self.maxDepth = maxDepth
  }

  /// An error at byte `at` (default: the current position), with line and column.
  func fail(_ message: String, at: Int? = nil) -> NTKitError {
    let offset = min(at ?? pos, bytes.count)
    var line = 1, column = 1
    for i in 0..<offset {
      if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
    }
    return .format(path: path, reason: "invalid JSON at line \(line), column \(column): \(message)")
  }

  /// What is at the current position, for "found …" in messages.
  func found() -> String {
    guard pos < bytes.count else { return "end of input" }
    let b = bytes[pos]
    if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x\(String(b, radix: 16))"
  }

  mutating func skipWhitespace() {
    while pos < bytes.count {
      switch bytes[pos] {
      case 0x20, 0x09, 0x0A, 0x0D: pos += 1
      default: return
      }
    }
  }

  mutating func parseDocument() throws -> JSONValue {
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }  // tolerate a UTF-8 byte-order mark
    skipWhitespace()
    if pos == bytes.count { throw fail("empty document, expected a value") }
    let value = try parseValue()
    skipWhitespace()
    if pos < bytes.count { throw fail("expected end of input after the value, found \(found())") }
    return value
  }

  mutating func parseValue() throws -> JSONValue {
    guard pos < bytes.count else { throw fail("expected a value, found end of input") }
    switch bytes[pos] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw fail("expected a value, found \(found())")
    }
  }

  mutating func literal(_ word: StaticString) throws {
    let start = pos
    let n = word.utf8CodeUnitCount
    guard pos + n <= bytes.count, (0..<n).allSatisfy({ bytes[pos + $0] == word.utf8Start[$0] }) else {
      throw fail("invalid literal, expected '\(word)'", at: start)
    }
    pos += n
  }

  mutating func enter() throws {
    depth += 1
    if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
  }

  mutating func parseArray() throws -> JSONValue {
    try enter()
    pos += 1
    var items: [JSONValue] = []
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
      pos += 1; depth -= 1
      return .array(items)
    }
    while true {
      skipWhitespace()
      items.append(try parseValue())
      skipWhitespace()
      guard pos < bytes.count else { throw fail("unterminated array, expected ',' or ']'") }
      if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
      if bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
      throw fail("expected ',' or ']' in array, found \(found())")
    }
    depth -= 1
    return .array(items)
  }

  mutating func parseObject() throws -> JSONValue {
    try enter()
    pos += 1
    var members: [(key: String, value: JSONValue)] = []
    var seen = Set<String>()
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
      pos += 1; depth -= 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
        throw fail("expected a string key in object, found \(found())")
      }
      let keyStart = pos
      let key = try parseString()
      if !seen.insert(key).inserted { throw fail("duplicate key \(JSONValue.quoted(key))", at: keyStart) }
      skipWhitespace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
        throw fail("expected ':' after key \(JSONValue.quoted(key)), found \(found())")
      }
      pos += 1
      skipWhitespace()
      members.append((key: key, value: try parseValue()))
      skipWhitespace()
      guard pos < bytes.count else { throw fail("unterminated object, expected ',' or '}'") }
      if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
      if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
      throw fail("expected ',' or '}' in object, found \(found())")
    }
    depth -= 1
    return .object(members)
  }

  mutating func hex4() throws -> UInt32 {
    guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[pos]
      let digit: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
      default: throw fail("invalid hex digit \(found()) in \\u escape")
      }
      value = value << 4 | UInt32(digit)
      pos += 1
    }
    return value
  }

  mutating func parseString() throws -> String {
    let start = pos
    pos += 1
    var utf8: [UInt8] = []
    while true {
      guard pos < bytes.count else { throw fail("unterminated string", at: start) }
      let b = bytes[pos]
      if b == UInt8(ascii: "\"") { pos += 1; break }
      if b < 0x20 { throw fail("unescaped control character 0x\(String(b, radix: 16)) in string") }
      if b != UInt8(ascii: "\\") { utf8.append(b); pos += 1; continue }
      let escapeStart = pos
      pos += 1
      guard pos < bytes.count else { throw fail("unterminated string", at: start) }
      let e = bytes[pos]
      pos += 1
      switch e {
      case UInt8(ascii: "\""): utf8.append(0x22)
      case UInt8(ascii: "\\"): utf8.append(0x5C)
      case UInt8(ascii: "/"): utf8.append(0x2F)
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
          guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
            throw fail("unpaired high surrogate in \\u escape", at: escapeStart)
          }
          pos += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else {
            throw fail("high surrogate not followed by a low surrogate", at: escapeStart)
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
          throw fail("unpaired low surrogate in \\u escape", at: escapeStart)
        }
        utf8.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
      default:
        throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: escapeStart)
      }
    }
    guard let text = String(validating: utf8, as: UTF8.self) else {
      throw fail("invalid UTF-8 in string", at: start)
    }
    return text
  }

  mutating func parseNumber() throws -> Double {
    let start = pos
    func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
    if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    guard isDigit(pos) else { throw fail("expected a digit in number, found \(found())") }
    if bytes[pos] == UInt8(ascii: "0") {
      pos += 1
      if isDigit(pos) { throw fail("leading zero in number", at: start) }
    } else {
      while isDigit(pos) { pos += 1 }
    }
    if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      guard isDigit(pos) else { throw fail("expected a digit after '.', found \(found())") }
      while isDigit(pos) { pos += 1 }
    }
    if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
      pos += 1
      if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
      guard isDigit(pos) else { throw fail("expected a digit in exponent, found \(found())") }
      while isDigit(pos) { pos += 1 }
    }
    let value = parseDouble(bytes[start..<pos])
    if !value.isFinite { throw fail("number out of range", at: start) }
    return value
  }
}

/// Converts validated ASCII number text to a Double with the C library
/// (correctly rounded; the grammar has been checked by the caller).
func parseDouble<C: Collection>(_ text: C) -> Double where C.Element == UInt8 {
  var chars = [CChar](repeating: 0, count: text.count + 1)
  for (i, b) in text.enumerated() { chars[i] = CChar(bitPattern: b) }
  return strtod(chars, nil)
}
