/// A numeric CSV table with a header line.
///
/// Cells are separated by commas, may be wrapped in double quotes (`""`
/// escapes a quote) and are trimmed. Blank lines are skipped. Every data cell
/// must be a number (`nan`/`inf` parse, and are caught by callers that need
/// finite data); errors name the file, the 1-based line and the column.
public struct CSVTable: Sendable {
  public let path: String
  public let header: [String]
  public let rows: [[Double]]
  /// The 1-based file line of each row, for messages.
  public let lineNumbers: [Int]

  /// Reads and parses `path`.
  public init(path: String) throws {
    try self.init(parsing: readWholeFile(path), path: path)
  }

  /// Parses CSV `bytes`; `path` names the source in messages.
  public init(parsing bytes: [UInt8], path: String) throws {
    var header: [String]?
    var rows: [[Double]] = []
    var lines: [Int] = []
    var lineNumber = 0
    var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // skip a UTF-8 byte-order mark
    while start < bytes.count {
      lineNumber += 1
      var end = start
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      let line = bytes[start..<end]
      start = end + 1
      let cells = try CSVTable.split(line, path: path, line: lineNumber)
      if cells.count == 1 && cells[0].isEmpty { continue }  // blank line
      guard let names = header else {
        header = cells
        var seen = Set<String>()
        for name in cells where !name.isEmpty && !seen.insert(name).inserted {
          throw NTKitError.format(path: path, reason: "line \(lineNumber): duplicate column name '\(name)' in the header")
        }
        continue
      }
      guard cells.count == names.count else {
        throw NTKitError.format(path: path, reason: "line \(lineNumber): expected \(names.count) cells (as in the header), found \(cells.count)")
      }
      var row: [Double] = []
      row.reserveCapacity(cells.count)
      for (c, cell) in cells.enumerated() {
        guard let value = CSVTable.number(cell) else {
          let what = cell.isEmpty ? "empty cell" : "non-numeric cell '\(cell)'"
          throw NTKitError.format(path: path, reason: "line \(lineNumber), column \(c + 1) '\(names[c])': \(what), expected a number")
        }
        row.append(value)
      }
      rows.append(row)
      lines.append(lineNumber)
    }
    guard let header else { throw NTKitError.format(path: path, reason: "no header line (the file holds only blank lines)") }
    self.path = path
    self.header = header
    self.rows = rows
    self.lineNumbers = lines
  }

  /// Index of column `name`, or `.missing` listing the available columns.
  public func index(of name: String) throws -> Int {
    guard let i = header.firstIndex(of: name) else {
      throw NTKitError.missing(path: path, name: "column '\(name)' (available: \(header.joined(separator: ", ")))")
    }
    return i
  }

  /// The columns `names`, in that order, as an `[N, k]` tensor (the cells'
  /// float64 values kept in `data64`).
  public func columns(_ names: [String]) throws -> Tensor {
    let indices = try names.map(index(of:))
    var data: [Double] = []
    data.reserveCapacity(rows.count * indices.count)
    for row in rows { for i in indices { data.append(row[i]) } }
    return Tensor(shape: [rows.count, indices.count], doubles: data)
  }

  /// One column as floats.
  public func column(_ name: String) throws -> [Float] {
    let i = try index(of: name)
    return rows.map { Float($0[i]) }
  }

  /// Splits one line into trimmed, unquoted cells.
  static func split(_ line: ArraySlice<UInt8>, path: String, line number: Int) throws -> [String] {
    var cells: [String] = []
    var i = line.startIndex
    let end = line.last == 0x0D ? line.endIndex - 1 : line.endIndex
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    while true {
      while i < end && isSpace(line[i]) { i += 1 }
      var cell: [UInt8] = []
      if i < end && line[i] == UInt8(ascii: "\"") {
        i += 1
        while true {
          guard i < end else {
            throw NTKitError.format(path: path, reason: "line \(number), column \(cells.count + 1): unterminated quoted cell")
          }
          if line[i] == UInt8(ascii: "\"") {
            if i + 1 < end && line[i + 1] == UInt8(ascii: "\"") { cell.append(line[i]); i += 2; continue }
            i += 1
            break
          }
          cell.append(line[i])
          i += 1
        }
        while i < end && isSpace(line[i]) { i += 1 }
        if i < end && line[i] != UInt8(ascii: ",") {
          throw NTKitError.format(path: path, reason: "line \(number), column \(cells.count + 1): text after a closing quote")
        }
        cells.append(String(decoding: cell, as: UTF8.self).trimmingSpaces())
      } else {
        while i < end && line[i] != UInt8(ascii: ",") { cell.append(line[i]); i += 1 }
        while let last = cell.last, isSpace(last) { cell.removeLast() }
        cells.append(String(decoding: cell, as: UTF8.self))
      }
      if i < end && line[i] == UInt8(ascii: ",") { i += 1; continue }
      return cells
    }
  }

  /// Parses a decimal number (optional sign, digits with an optional '.',
  /// optional exponent) or nan / inf / infinity in any case; nil otherwise.
  static func number(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    var i = 0
    if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
    let word = String(decoding: bytes[i...], as: UTF8.self).lowercased()
    if word == "nan" { return .nan }
    if word == "inf" || word == "infinity" { return bytes.first == UInt8(ascii: "-") ? -.infinity : .infinity }
    func digits() -> Int {
      let s = i
      while i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
      return i - s
    }
    var mantissaDigits = digits()
    if i < bytes.count && bytes[i] == UInt8(ascii: ".") { i += 1; mantissaDigits += digits() }
    guard mantissaDigits > 0 else { return nil }
    if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
      i += 1
      if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
      guard digits() > 0 else { return nil }
    }
    guard i == bytes.count else { return nil }
    return parseDouble(bytes)
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
          let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
    return String(scalars[first...last])
  }
}
