import Foundation
import XCTest
@testable import NTKit
@testable import NTKitIO
#if canImport(Glibc)
import Glibc
#endif

/// Tests of the file formats: round trips, conversions and every bad input.
final class IOTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    var template = Array("/tmp/ntkit-io-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
    dir = String(cString: p)
  }

  override func tearDown() {
    if let d = opendir(dir) {
      while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { _ = unlink(dir + "/" + name) }
      }
      closedir(d)
    }
    rmdir(dir)
  }

  func file(_ name: String) -> String { dir + "/" + name }

  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let path = file(name)
    try AtomicFile.write(path, bytes: bytes)
    return path
  }

  func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  /// Temporaries of the output-commit layer left in the test directory.
  func temporaries() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".ntk-") }
  }

  /// Writes an array with NaN or Inf (NPY.write refuses them), for reader tests.
  func writeUnchecked<T: BitwiseCopyable>(_ path: String, shape: [Int], floats values: [T]) throws {
    let dtype: NPYDType = T.self == Double.self ? .float64 : .float32
    try AtomicFile.write(path) { sink in
      try sink.append(NPYHeader.encode(dtype: dtype, shape: shape))
      try sink.append(contentsOf: values)
    }
  }

  func writeUnchecked(_ path: String, shape: [Int], doubles: [Double]) throws {
    try writeUnchecked(path, shape: shape, floats: doubles)
  }

  /// Asserts that `body` throws an NTKitError whose text contains every word.
  func assertError<T>(_ body: @autoclosure () throws -> T, contains words: [String],
                      file: StaticString = #filePath, line: UInt = #line) {
    do {
      _ = try body()
      XCTFail("expected an error containing \(words)", file: file, line: line)
    } catch let error as NTKitError {
      let text = error.description
      XCTAssertFalse(text.contains("\n"), "multi-line message: \(text)", file: file, line: line)
      for w in words where !text.contains(w) {
        XCTFail("message \"\(text)\" lacks \"\(w)\"", file: file, line: line)
      }
    } catch {
      XCTFail("unexpected error type \(error)", file: file, line: line)
    }
  }

  /// A .npy file with a hand-built header of `version` (1, 2 or 3).
  func npyBytes(descr: String, shape: String, fortran: Bool = false, version: UInt8 = 1, payload: [UInt8]) -> [UInt8] {
    var dict = Array("{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }".utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + dict.count + 1) % 64 != 0 { dict.append(0x20) }
    dict.append(0x0A)
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let n = dict.count
    out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), 0, 0]
    return out + dict + payload
  }

  func le<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

  // MARK: - AtomicFile

  func testAtomicWriteLeavesNoFileWhenBodyThrows() throws {
    struct Boom: Error {}
    let path = file("out.bin")
    XCTAssertThrowsError(try AtomicFile.write(path) { sink in
      try sink.append([1, 2, 3])
      throw Boom()
    })
    XCTAssertFalse(exists(path))
    XCTAssertEqual(temporaries(), [])
    // An existing file is left untouched.
    try AtomicFile.write(path, bytes: [9])
    XCTAssertThrowsError(try AtomicFile.write(path) { _ in throw Boom() })
    XCTAssertEqual(try readWholeFile(path), [9])
  }

  func testFileSinkBuffersLargeAndSmallWrites() throws {
    let path = file("big.bin")
    let big = [Float](repeating: 1.5, count: 600_000)
    try AtomicFile.write(path) { sink in
      try sink.append([7])
      try sink.append(contentsOf: big)
      try sink.append("x")
      XCTAssertEqual(sink.count, 1 + 2_400_000 + 1)
    }
    let bytes = try readWholeFile(path)
    XCTAssertEqual(bytes.count, 2_400_002)
    XCTAssertEqual(bytes.first, 7)
    XCTAssertEqual(bytes.last, UInt8(ascii: "x"))
  }

  func testReadWholeFileErrors() throws {
    assertError(try readWholeFile(file("nope.npy")), contains: ["nope.npy", "no such file"])
    assertError(try readWholeFile(dir), contains: [dir, "directory"])
    let empty = try write("empty.csv", [])
    assertError(try readWholeFile(empty), contains: ["empty.csv", "empty file"])
    assertError(try AtomicFile.write(file("missing/x.bin"), bytes: [1]), contains: ["x.bin", "directory does not exist"])
  }

  // MARK: - JSON

  func testJSONParseAndSerialize() throws {
    let text = #"{"a": [1, -2.5e3, 0.125, true, false, null], "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}}"#
    let v = try JSONValue.parse(text)
    XCTAssertEqual(v["a"], [1, -2500, 0.125, true, false, nil])
    XCTAssertEqual(v["s"]?.stringValue, "q\"\\/\u{08}\u{0C}\n\r\té😀")
    XCTAssertEqual(v["o"], .object([]))
    XCTAssertEqual(try JSONValue.parse(v.serialized()), v)
    XCTAssertEqual(try JSONValue.parse(v.serialized(pretty: true)), v)
    XCTAssertEqual(JSONValue.number(3).serialized(), "3")
    XCTAssertEqual(JSONValue.number(-0.5).serialized(), "-0.5")
    XCTAssertEqual(JSONValue.number(.nan).serialized(), "null")
    XCTAssertEqual(JSONValue.number(.infinity).serialized(), "null")
    XCTAssertEqual(JSONValue.string("\u{01}").serialized(), #""\u0001""#)
    XCTAssertEqual(try JSONValue.parse("1e-5").doubleValue, 1e-5)
    XCTAssertEqual(try JSONValue.parse(JSONValue.number(1e-5).serialized()).doubleValue, 1e-5)
    XCTAssertEqual(try JSONValue.parse("[1E+2]").arrayValue?.first?.intValue, 100)
    let pretty: JSONValue = ["x": [1, 2], "y": ["z": "w"]]
    XCTAssertEqual(pretty.serialized(pretty: true), "{\n  \"x\": [1, 2],\n  \"y\": {\n    \"z\": \"w\"\n  }\n}")
  }

  func testJSONErrors() {
    assertError(try JSONValue.parse("{\"a\": 1,}", path: "m.json"), contains: ["m.json", "line 1, column 9", "string key"])
    assertError(try JSONValue.parse("{\n  \"a\": tru\n}", path: "m.json"), contains: ["line 2, column 8", "true"])
    assertError(try JSONValue.parse("[1 2]"), contains: ["expected ',' or ']'", "'2'"])
    assertError(try JSONValue.parse("01"), contains: ["leading zero"])
    assertError(try JSONValue.parse("1."), contains: ["digit after '.'"])
    assertError(try JSONValue.parse("\"\\ud800\""), contains: ["surrogate"])
    assertError(try JSONValue.parse("\"\\udc00\""), contains: ["unpaired low surrogate"])
    assertError(try JSONValue.parse("\"a\nb\""), contains: ["control character"])
    assertError(try JSONValue.parse("{\"a\":1,\"a\":2}"), contains: ["duplicate key \"a\""])
    assertError(try JSONValue.parse("1e999"), contains: ["out of range"])
    assertError(try JSONValue.parse(""), contains: ["empty document"])
    assertError(try JSONValue.parse("[1] x"), contains: ["end of input"])
    assertError(try JSONValue.parse(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)), contains: ["nesting deeper"])
    assertError(try JSONValue.parse([0x22, 0xFF, 0x22]), contains: ["UTF-8"])
  }

  // MARK: - NPY

  func testNPYRoundTripsEveryWriter() throws {
    let f = file("f.npy"), d = file("d.npy"), i = file("i.npy"), j = file("j.npy"), u = file("u.npy")
    try NPY.write(f, shape: [2, 3], floats: [1, 2, 3, 4, 5, -6.5])
    try NPY.write(d, shape: [3], doubles: [0.1, 0.2, 1e300])
    try NPY.write(i, shape: [2, 1], int64s: [-5, 1 << 40])
    try NPY.write(j, shape: [], int32s: [42])
    try NPY.write(u, shape: [1, 2, 2], uint8s: [0, 255, 51, 102])
    let a = try NPY.read(f)
    XCTAssertEqual(a.shape, [2, 3]); XCTAssertEqual(a.dtype, .float32)
    XCTAssertEqual(a.floats(), [1, 2, 3, 4, 5, -6.5])
    XCTAssertEqual(try NPY.read(d).doubles(), [0.1, 0.2, 1e300])
    XCTAssertEqual(try NPY.read(i).int64s(), [-5, 1 << 40])
    let s = try NPY.read(j)
    XCTAssertEqual(s.shape, []); XCTAssertEqual(try s.int64s(), [42]); XCTAssertEqual(s.tensor().data, [42])
    let b = try NPY.read(u)
    XCTAssertEqual(b.dtype, .uint8)
    XCTAssertEqual(b.floats(), [0, 1, 0.2, 0.4])
    XCTAssertEqual(try b.int64s(), [0, 255, 51, 102])
    // Header padding: data starts at a multiple of 64, header ends in '\n'.
    let raw = try readWholeFile(f)
    XCTAssertEqual((raw.count - 24) % 64, 0)
    XCTAssertEqual(raw[raw.count - 25], 0x0A)
    assertError(try NPY.read(f).int64s(), contains: ["f.npy", "element 5", "-6.5"])
  }

  func testNPYVersions2And3AndDTypeSpellings() throws {
    for version: UInt8 in [1, 2, 3] {
      let path = try write("v\(version).npy", npyBytes(descr: "<f8", shape: "(2,)", version: version, payload: le([1.5, -2.0])))
      XCTAssertEqual(try NPY.read(path).doubles(), [1.5, -2.0], "version \(version)")
      XCTAssertEqual(try MappedNPY(path: path).rows, 2)
    }
    let i4 = try write("i4.npy", npyBytes(descr: "<i4", shape: "(3L,)", payload: le([Int32(-1), 0, 7])))
    XCTAssertEqual(try NPY.read(i4).floats(), [-1, 0, 7])
    let u1 = try write("u1.npy", npyBytes(descr: "<u1", shape: "(1,)", payload: [255]))
    XCTAssertEqual(try NPY.read(u1).floats(), [1])
    let native = try write("eq.npy", npyBytes(descr: "=f4", shape: "(1, 1)", payload: le([Float(3)])))
    XCTAssertEqual(try NPY.read(native).floats(), [3])
    // Fortran order of a 1-D array is the same layout and is accepted.
    let f1 = try write("f1.npy", npyBytes(descr: "<f4", shape: "(2,)", fortran: true, payload: le([Float(1), 2])))
    XCTAssertEqual(try NPY.read(f1).floats(), [1, 2])
  }

  func testNPYIntegralCheck() throws {
    let path = file("lab.npy")
    try NPY.write(path, shape: [3], floats: [1, 2, 2.5])
    assertError(try NPY.read(path).int64s(), contains: ["lab.npy", "element 2", "2.5", "integer"])
  }

  /// `readTensor` (float32 straight into the tensor, other dtypes through
  /// `read`) gives the same values as `read(_:).tensor()` and the same errors.
  func testNPYReadTensorMatchesRead() throws {
    let good = npyBytes(descr: "<f4", shape: "(2, 3)", payload: le([Float]([1, -2, 3.5, 0, 7, -0.25])))
    let f4 = try write("t4.npy", good)
    XCTAssertEqual(try NPY.readTensor(f4), try NPY.read(f4).tensor())
    XCTAssertEqual(try NPY.readTensor(f4).shape, [2, 3])
    let u1 = try write("tu1.npy", npyBytes(descr: "|u1", shape: "(3,)", payload: [0, 128, 255]))
    XCTAssertEqual(try NPY.readTensor(u1), try NPY.read(u1).tensor())
    let bad: [(String, [UInt8])] = [
      ("rt-trunc.npy", Array(good.dropLast(3))),
      ("rt-huge.npy", npyBytes(descr: "<f4", shape: "(1000000, 1000000)", payload: le([Float(1)]))),
      ("rt-fort.npy", npyBytes(descr: "<f4", shape: "(2, 3)", fortran: true, payload: le([Float](repeating: 1, count: 6)))),
      ("rt-short.npy", Array(good.prefix(7))),
    ]
    for (name, bytes) in bad {
      let path = try write(name, bytes)
      var expected = "", found = ""
      do { _ = try NPY.read(path) } catch { expected = "\(error)" }
      do { _ = try NPY.readTensor(path) } catch { found = "\(error)" }
      XCTAssertFalse(expected.isEmpty, name)
      XCTAssertEqual(found, expected, name)
    }
  }

  func testNPYBadInputs() throws {
    let good = npyBytes(descr: "<f4", shape: "(2, 2)", payload: le([Float](repeating: 1, count: 4)))
    let trunc = try write("trunc.npy", Array(good.dropLast(3)))
    assertError(try NPY.read(trunc), contains: ["trunc.npy", "truncated", "needs 16 bytes", "found 13"])
    assertError(try MappedNPY(path: trunc), contains: ["trunc.npy", "truncated"])
    let huge = try write("huge.npy", npyBytes(descr: "<f4", shape: "(1000000, 1000000)", payload: le([Float(1)])))
    assertError(try NPY.read(huge), contains: ["huge.npy", "truncated", "4000000000000 bytes"])
    let overflow = try write("ovf.npy", npyBytes(descr: "<f8", shape: "(9223372036854775807, 4)", payload: []))
    assertError(try NPY.read(overflow), contains: ["ovf.npy", "too large"])
    let fortran = try write("fort.npy", npyBytes(descr: "<f4", shape: "(2, 2)", fortran: true, payload: le([Float](repeating: 1, count: 4))))
    assertError(try NPY.read(fortran), contains: ["fort.npy", "Fortran-order"])
    let big = try write("be.npy", npyBytes(descr: ">f4", shape: "(1,)", payload: [0, 0, 0, 0]))
    assertError(try NPY.read(big), contains: ["be.npy", "big-endian", ">f4"])
    let f2 = try write("f2.npy", npyBytes(descr: "<f2", shape: "(1,)", payload: [0, 0]))
    assertError(try NPY.read(f2), contains: ["f2.npy", "unsupported dtype '<f2'", "<f4"])
    var badMagic = good; badMagic[1] = UInt8(ascii: "X")
    let magic = try write("magic.npy", badMagic)
    assertError(try NPY.read(magic), contains: ["magic.npy", "wrong magic", "NUMPY"])
    let short = try write("short.npy", Array(good.prefix(7)))
    assertError(try NPY.read(short), contains: ["short.npy", "truncated"])
    var longHeader = Array(good.prefix(10)); longHeader[8] = 0xFF; longHeader[9] = 0xFF
    let lh = try write("lh.npy", longHeader + [0x7B])
    assertError(try NPY.read(lh), contains: ["lh.npy", "header claims 65535 bytes"])
    let garbage = try write("garbage.npy", npyBytes(descr: "<f4", shape: "(2, x)", payload: []))
    assertError(try NPY.read(garbage), contains: ["garbage.npy", "invalid .npy header"])
    let notDict = try write("nd.npy", npyBytes(descr: "<f4", shape: "(1,)", payload: le([Float(1)])).map { $0 == UInt8(ascii: "{") ? UInt8(ascii: "[") : $0 })
    assertError(try NPY.read(notDict), contains: ["nd.npy", "invalid .npy header"])
    let extra = try write("extra.npy", good + [0])
    assertError(try NPY.read(extra), contains: ["extra.npy", "1 unexpected bytes"])
    let version = try write("v9.npy", Array(good.prefix(6)) + [9, 0] + Array(good.dropFirst(8)))
    assertError(try NPY.read(version), contains: ["v9.npy", "version 9.0"])
    let empty = try write("empty.npy", [])
    assertError(try NPY.read(empty), contains: ["empty.npy", "empty file"])
    assertError(try NPY.read(dir), contains: [dir, "directory"])
    assertError(try NPY.read(file("absent.npy")), contains: ["absent.npy", "no such file"])
    assertError(try NPY.write(file("w.npy"), shape: [2, 2], floats: [1]), contains: ["w.npy", "4 values", "found 1"])
    XCTAssertFalse(exists(file("w.npy")))
  }

  func testMappedNPYAndMappedOutput() throws {
    let path = file("k.npy")
    try NPY.withMappedOutput(path, shape: [3, 2]) { out in
      for i in 0..<out.count { out[i] = Float(i) }
    }
    let a = try NPY.read(path)
    XCTAssertEqual(a.shape, [3, 2]); XCTAssertEqual(a.floats(), [0, 1, 2, 3, 4, 5])
    let m = try MappedNPY(path: path)
    XCTAssertEqual(m.rows, 3); XCTAssertEqual(m.rowLength, 2)
    var buf = [Float](repeating: -1, count: 4)
    try m.copyRows(1..<3, into: &buf)
    XCTAssertEqual(buf, [2, 3, 4, 5])
    XCTAssertEqual(try m.tensor(rows: 0..<3).data, [0, 1, 2, 3, 4, 5])
    try m.checkFinite()
    // f64 and u8 convert.
    let d = file("d.npy")
    try writeUnchecked(d, shape: [2, 2], doubles: [1, 2, 3, .nan])
    let md = try MappedNPY(path: d)
    try md.copyRows(0..<1, into: &buf)
    XCTAssertEqual(Array(buf.prefix(2)), [1, 2])
    assertError(try md.checkFinite(), contains: ["d.npy", "row 1", "column 1"])
    let u = file("u.npy")
    try NPY.write(u, shape: [1, 2], uint8s: [255, 0])
    try MappedNPY(path: u).copyRows(0..<1, into: &buf)
    XCTAssertEqual(Array(buf.prefix(2)), [1, 0])
    // A throwing body leaves nothing behind.
    struct Boom: Error {}
    let gone = file("gone.npy")
    XCTAssertThrowsError(try NPY.withMappedOutput(gone, shape: [10]) { _ in throw Boom() })
    XCTAssertFalse(exists(gone))
    XCTAssertEqual(temporaries(), [])
  }

  func testCheckFinite() {
    XCTAssertNoThrow(try NPY.checkFinite([1, 2], path: "x.npy"))
    assertError(try NPY.checkFinite([1, 2, 3, .infinity], path: "x.npy", rowLength: 2), contains: ["x.npy", "row 1", "column 1"])
    assertError(try NPY.checkFinite([1, .nan], path: "x.npy"), contains: ["x.npy", "index 1"])
  }

  /// The blocked scan of an output about to be written: the first NaN/Inf in
  /// a later block, at block edges, several in one block, none, float64, and
  /// a large array scanned in chunks at once.
  func testOutputFiniteScanFindsTheFirstNonFinite() throws {
    func first(_ values: [Float]) throws -> String? {
      do {
        try values.withUnsafeBufferPointer {
          try NPY.checkOutputFinite($0, path: "k.npy", rowLength: 1000, precision: "float32")
        }
        return nil
      } catch { return "\(error)" }
    }
    var v = [Float](repeating: 1.5, count: 10_000)
    XCTAssertNil(try first(v))
    v[9_999] = .infinity
    XCTAssertEqual(try first(v)?.contains("row 9, column 999"), true)
    v[8_192] = -.infinity  // first of the third block
    v[8_193] = .nan
    XCTAssertEqual(try first(v)?.contains("row 8, column 192"), true)
    v[4_095] = .nan  // last of the first block
    XCTAssertEqual(try first(v)?.contains("row 4, column 95"), true)
    v[0] = .signalingNaN
    XCTAssertEqual(try first(v)?.contains("row 0, column 0"), true)
    // Large outputs are scanned in chunks at once: the first bad value of the first flagged chunk wins.
    var big = [Float](repeating: 0.5, count: 9 << 20)
    XCTAssertNil(try first(big))
    big[big.count - 1] = .nan
    big[(5 << 20) + 3] = .infinity
    XCTAssertEqual(try first(big)?.contains("row \(((5 << 20) + 3) / 1000), column \(((5 << 20) + 3) % 1000)"), true)
    big[(1 << 20) + 7] = .nan
    XCTAssertEqual(try first(big)?.contains("row \(((1 << 20) + 7) / 1000), column \(((1 << 20) + 7) % 1000)"), true)
    let d: [Double] = [0, 1, 2, -.infinity, .nan]
    XCTAssertThrowsError(try d.withUnsafeBufferPointer {
      try NPY.checkOutputFinite($0, path: "k.npy", rowLength: 1, precision: "float64")
    }) { XCTAssertTrue("\($0)".contains("index 3"), "\($0)") }
  }

  // MARK: - Half floats

  func testHalfAndBFloat16BitPatterns() {
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x3C00), 1.0)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0xC000), -2.0)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x7BFF), 65504)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x0001), 0x1p-24)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x03FF), 1023 * 0x1p-24)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x0400), 0x1p-14)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x3555), 0.333251953125)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x8000).sign, .minus)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x8000), 0)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0x7C00), .infinity)
    XCTAssertEqual(HalfFloat.float(fromHalf: 0xFC00), -.infinity)
    XCTAssertTrue(HalfFloat.float(fromHalf: 0x7E00).isNaN)
    XCTAssertEqual(HalfFloat.float(fromBFloat16: 0x3F80), 1.0)
    XCTAssertEqual(HalfFloat.float(fromBFloat16: 0xC040), -3.0)
    XCTAssertEqual(HalfFloat.float(fromBFloat16: 0x0001), Float(bitPattern: 0x0001_0000))
    XCTAssertEqual(HalfFloat.float(fromBFloat16: 0x7F80), .infinity)
    XCTAssertTrue(HalfFloat.float(fromBFloat16: 0x7FC0).isNaN)
    // Matches the platform's Float16 where it exists.
    #if arch(arm64) || arch(x86_64)
    for bits in stride(from: 0, through: 0xFFFF, by: 1) {
      let mine = HalfFloat.float(fromHalf: UInt16(bits))
      let ref = Float(Float16(bitPattern: UInt16(bits)))
      XCTAssert(mine == ref || (mine.isNaN && ref.isNaN), "half 0x\(String(bits, radix: 16))")
    }
    #endif
  }

  // MARK: - Safetensors

  /// Builds a safetensors file from a header text and data bytes.
  func safetensors(_ header: String, _ data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    return le([UInt64(h.count)]) + h + data
  }

  func testSafetensorsRoundTripAndDTypes() throws {
    let path = file("w.safetensors")
    try Safetensors.write(path, tensors: [
      NamedTensor(name: "layers.2.kernel", shape: [2, 1], values: [0.5, -1]),
      NamedTensor(name: "layers.0.bias", shape: [3], values: [1, 2, 3]),
      NamedTensor(name: "empty", shape: [0, 4], values: []),
    ], metadata: ["format": "pt"])
    let t = try Safetensors.read(path)
    XCTAssertEqual(t.count, 3)
    XCTAssertEqual(t["layers.2.kernel"], NamedTensor(name: "layers.2.kernel", shape: [2, 1], values: [0.5, -1]))
    XCTAssertEqual(t["layers.0.bias"]?.values, [1, 2, 3])
    XCTAssertEqual(t["empty"]?.shape, [0, 4])
    let bytes = try readWholeFile(path)
    let n = Int(bytes[0]) | Int(bytes[1]) << 8
    XCTAssertEqual((8 + n) % 8, 0)
    let header = try JSONValue.parse(Array(bytes[8..<(8 + n)]))
    XCTAssertEqual(header.objectValue?.map(\.key), ["__metadata__", "empty", "layers.0.bias", "layers.2.kernel"])
    XCTAssertEqual(header["layers.0.bias"]?["data_offsets"], [0, 12])
    XCTAssertEqual(header["layers.2.kernel"]?["data_offsets"], [12, 20])

    let mixed = safetensors("""
      {"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},\
      "d":{"dtype":"F64","shape":[1,1],"data_offsets":[10,18]},"__metadata__":{"k":"v"}}
      """, le([UInt16(0x3C00), 0x7BFF, 0x0001, 0x3F80, 0xC040]) + le([0.25]))
    let m = try Safetensors.read(write("m.safetensors", mixed))
    XCTAssertEqual(m["h"]?.values, [1, 65504, 0x1p-24])
    XCTAssertEqual(m["b"]?.values, [1, -3])
    XCTAssertEqual(m["d"]?.values, [0.25]); XCTAssertEqual(m["d"]?.shape, [1, 1])
  }

  func testSafetensorsBadInputs() throws {
    let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    let trunc = try write("trunc.safetensors", Array(safetensors(ok, le([Float(1), 2])).dropLast(2)))
    assertError(try Safetensors.read(trunc), contains: ["trunc.safetensors", "tensor 'a'", "out of range", "6-byte"])
    let long = try write("long.safetensors", le([UInt64(1000)]) + Array("{}".utf8))
    assertError(try Safetensors.read(long), contains: ["long.safetensors", "header length 1000", "2 bytes"])
    let tiny = try write("tiny.safetensors", [1, 2, 3])
    assertError(try Safetensors.read(tiny), contains: ["tiny.safetensors", "truncated"])
    let mismatch = try write("mm.safetensors", safetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, le([Float(1), 2])))
    assertError(try Safetensors.read(mismatch), contains: ["mm.safetensors", "tensor 'a'", "needs 12 bytes", "span 8"])
    let overlap = try write("ov.safetensors", safetensors(
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, le([Float(1), 2])))
    assertError(try Safetensors.read(overlap), contains: ["ov.safetensors", "overlap", "'a'", "'b'"])
    let dtype = try write("dt.safetensors", safetensors(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, le([Int64(1)])))
    assertError(try Safetensors.read(dtype), contains: ["dt.safetensors", "tensor 'a'", "unsupported dtype I64", "F32"])
    let json = try write("js.safetensors", safetensors(#"{"a":{"dtype":"F32",}}"#, []))
    assertError(try Safetensors.read(json), contains: ["js.safetensors", "invalid JSON", "line 1"])
    let notJSON = try write("nj.safetensors", safetensors("xyz", []))
    assertError(try Safetensors.read(notJSON), contains: ["nj.safetensors", "not a safetensors file"])
    let badOffsets = try write("bo.safetensors", safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, le([Float(1), 2])))
    assertError(try Safetensors.read(badOffsets), contains: ["bo.safetensors", "[8, 4]"])
    assertError(try Safetensors.read(try write("e.safetensors", [])), contains: ["e.safetensors", "empty file"])
    assertError(try Safetensors.write(file("x.safetensors"), tensors: [NamedTensor(name: "a", shape: [2], values: [1])]),
                contains: ["x.safetensors", "tensor 'a'", "2 values"])
    XCTAssertFalse(exists(file("x.safetensors")))
  }

  // MARK: - CSV

  func testCSVParsing() throws {
    let path = try write("t.csv", Array("a, \"b\" ,c\r\n1,2.5,-3e2\n\n \"4\" ,.5,+6\r\n\n".utf8))
    let t = try CSVTable(path: path)
    XCTAssertEqual(t.header, ["a", "b", "c"])
    XCTAssertEqual(t.rows, [[1, 2.5, -300], [4, 0.5, 6]])
    XCTAssertEqual(t.lineNumbers, [2, 4])
    XCTAssertEqual(try t.columns(["c", "a"]), Tensor(shape: [2, 2], data: [-300, 1, 6, 4]))
    XCTAssertEqual(try t.column("b"), [2.5, 0.5])
  }

  func testCSVErrors() throws {
    let t = try CSVTable(path: write("cols.csv", Array("x,y\n1,2\n".utf8)))
    assertError(try t.columns(["x", "mpg"]), contains: ["cols.csv", "column 'mpg'", "available: x, y"])
    let ragged = try write("ragged.csv", Array("x,y\n1,2\n3\n".utf8))
    assertError(try CSVTable(path: ragged), contains: ["ragged.csv", "line 3", "expected 2 cells", "found 1"])
    let text = try write("text.csv", Array("x,name\n1,2\n\n3,ford\n".utf8))
    assertError(try CSVTable(path: text), contains: ["text.csv", "line 4", "column 2 'name'", "'ford'"])
    let emptyCell = try write("ec.csv", Array("x,y\n1,\n".utf8))
    assertError(try CSVTable(path: emptyCell), contains: ["ec.csv", "line 2", "empty cell"])
    let quote = try write("q.csv", Array("x\n\"1\n".utf8))
    assertError(try CSVTable(path: quote), contains: ["q.csv", "line 2", "unterminated"])
    let dup = try write("dup.csv", Array("x,x\n1,2\n".utf8))
    assertError(try CSVTable(path: dup), contains: ["dup.csv", "duplicate column name 'x'"])
    assertError(try CSVTable(path: write("e.csv", [])), contains: ["e.csv", "empty file"])
    assertError(try CSVTable(path: write("blank.csv", Array("\n\n".utf8))), contains: ["blank.csv", "no header"])
  }

  // MARK: - Standardizer

  func testStandardizerRoundTrip() throws {
    let x = Tensor(shape: [3, 2], data: [1, 5, 2, 5, 3, 5])
    let s = Standardizer.fit(x, columns: ["a", "b"])
    XCTAssertEqual(s.mean, [2, 5])
    XCTAssertEqual(s.std[0], (2.0 / 3).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(s.std[1], Standardizer.stdFloor)
    let z = try s.apply(x)
    XCTAssertEqual(z.data[0], Float(-1 / (2.0 / 3).squareRoot()), accuracy: 1e-6)
    XCTAssertEqual(z.data[1], 0)
    let back = try s.inverse(z)
    for (a, b) in zip(back.data, x.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    let path = file("std.json")
    try s.save(path)
    XCTAssertEqual(try Standardizer.load(path), s)
    let text = String(decoding: try readWholeFile(path), as: UTF8.self)
    XCTAssertTrue(text.contains("\"columns\": [\"a\", \"b\"]"), text)
    assertError(try s.apply(Tensor(shape: [1, 3], data: [1, 2, 3])), contains: ["2 columns", "3"])
    let bad = try write("bad.json", Array(#"{"mean": [1], "std": [0]}"#.utf8))
    assertError(try Standardizer.load(bad), contains: ["bad.json", "'std'", "> 0"])
    let missing = try write("miss.json", Array(#"{"mean": [1]}"#.utf8))
    assertError(try Standardizer.load(missing), contains: ["miss.json", "'std'"])
  }

  // MARK: - InputData

  func testInputData() throws {
    let u = file("img.npy")
    try NPY.write(u, shape: [2, 1, 2, 1], uint8s: [0, 255, 51, 0])
    let t = try InputData.load(u)
    XCTAssertEqual(t.shape, [2, 1, 2, 1]); XCTAssertEqual(t.data, [0, 1, 0.2, 0])
    let csv = try write("in.csv", Array("a,b,c\n1,2,3\n4,5,6\n".utf8))
    XCTAssertEqual(try InputData.load(csv), Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
    XCTAssertEqual(try InputData.load(csv, features: ["c"]), Tensor(shape: [2, 1], data: [3, 6]))
    assertError(try InputData.load(csv, features: ["zz"]), contains: ["in.csv", "column 'zz'", "available: a, b, c"])

    let nanCSV = try write("nan.csv", Array("a,b\n1,2\n3,nan\n".utf8))
    assertError(try InputData.load(nanCSV), contains: ["nan.csv", "non-finite", "row 1", "line 3", "'b'"])
    XCTAssertEqual(try InputData.load(nanCSV, features: ["a"]).data, [1, 3])
    let nanNPY = file("nan.npy")
    try writeUnchecked(nanNPY, shape: [3, 2], floats: [1, 2, 3, 4, .infinity, 6])
    assertError(try InputData.load(nanNPY), contains: ["nan.npy", "non-finite", "row 2"])
    assertError(try InputData.load(dir), contains: [dir, "directory"])
    assertError(try InputData.load(file("none.npy")), contains: ["none.npy", "no such file"])
    let txt = try write("x.txt", [1])
    assertError(try InputData.load(txt), contains: ["x.txt", "'.txt'", ".npy or .csv"])
  }
}
