/// Escaping of text echoed from input files into messages, so that one error
/// stays one printable line: a NUL byte, a newline or an escape sequence in a
/// CSV cell, a tensor name or a JSON key cannot cut, split or recolour it.
public enum MessageText {
  /// `text` with every control character (C0, DEL, C1) written as an escape:
  /// `\n`, `\r`, `\t`, `\0`, else `\u{XX}`; a backslash is left as it is.
  /// Printable text, including non-ASCII letters, is unchanged.
  public static func escaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 8)
    for s in text.unicodeScalars {
      guard isControl(s) else { out.unicodeScalars.append(s); continue }
      switch s {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\0": out += "\\0"
      default: out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
      }
    }
    return out
  }

  /// `text` escaped and in double quotes, for echoing a value found in a file.
  public static func quoted(_ text: String) -> String { "\"" + escaped(text) + "\"" }

  static func isControl(_ s: Unicode.Scalar) -> Bool {
    s.value < 0x20 || (0x7F...0x9F).contains(s.value)
  }
}
