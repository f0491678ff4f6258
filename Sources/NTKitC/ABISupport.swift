/// Shared plumbing of the C ABI (`libntkit_c`): status codes, the caller's
/// error buffer, JSON option objects, cancellation tokens and malloc'd strings.
///
/// Conventions of every `ntk_*` function that can fail:
/// - the return value is a status: `0` ok, `1` error (the one-line message of
///   the library's `NTKitError` is written NUL-terminated into `err`, at most
///   `errlen` bytes), `2` interrupted (`cancel` was set, or SIGINT reached the
///   library's `Interrupt` flag of a process that installed it);
/// - arrays are raw pointers to C-order (row-major) data the caller owns, with
///   their shapes as `int64_t` arrays; outputs are written into caller buffers
///   of the documented size;
/// - `options` is a JSON object text (or NULL for `{}`) whose keys are the
///   CLI's flag names with `_` for `-`; an unknown key is an error;
/// - `info` (may be NULL) receives a malloc'd JSON object text that the caller
///   frees with `ntk_free`;
/// - `cancel` (may be NULL) points to an `int32_t` the caller sets non-zero from
///   another thread to stop long work (polled between tiles, steps, epochs).
/// Nothing here exits, traps on bad input, or prints.
#if canImport(Glibc)
import Glibc
#endif
import NTKit

/// Status codes returned by every fallible `ntk_*` function.
enum ABIStatus: Int32 {
  case ok = 0
  case error = 1
  case interrupted = 2
}

/// Runs `body`, mapping a thrown error to a status and a message in `err`.
func abiCall(_ err: UnsafeMutablePointer<CChar>?, _ errlen: Int, _ body: () throws -> Void) -> Int32 {
  do {
    try body()
    return ABIStatus.ok.rawValue
  } catch NTKitError.interrupted {
    writeMessage("interrupted", to: err, capacity: errlen)
    return ABIStatus.interrupted.rawValue
  } catch let error as NTKitError {
    writeMessage(error.description, to: err, capacity: errlen)
    return ABIStatus.error.rawValue
  } catch {
    writeMessage("\(error)", to: err, capacity: errlen)
    return ABIStatus.error.rawValue
  }
}

/// Copies `text` (truncated on a UTF-8 boundary) and a NUL into `buffer`.
func writeMessage(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
  guard let buffer, capacity > 0 else { return }
  var bytes = Array(text.utf8)
  if bytes.count > capacity - 1 {
    var cut = capacity - 1
    while cut > 0 && (bytes[cut] & 0xC0) == 0x80 { cut -= 1 }
    bytes = Array(bytes[..<cut])
  }
  for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
  buffer[bytes.count] = 0
}

/// A malloc'd NUL-terminated copy of `text`, for `info` outputs (freed by `ntk_free`).
func mallocString(_ text: String) -> UnsafeMutablePointer<CChar>? {
  let bytes = Array(text.utf8)
  guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
  for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
  p[bytes.count] = 0
  return p
}

/// Stores `json` into `*info` when the caller asked for it.
func setInfo(_ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ json: JSONValue) {
  info?.pointee = mallocString(json.serialized())
}

/// A required C string argument.
func requiredString(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
  guard let p else { throw NTKitError.invalidArgument("\(name) is missing (NULL)") }
  return String(cString: p)
}

/// Polls the caller's token and the library's SIGINT flag.
struct CancelToken: @unchecked Sendable {
  // @unchecked: the caller writes the int32 from another thread; a torn read is impossible for an aligned int32.
  let pointer: UnsafePointer<Int32>?

  var isCancelled: Bool {
    if Interrupt.isRequested { return true }
    return (pointer?.pointee ?? 0) != 0
  }

  func check() throws { if isCancelled { throw NTKitError.interrupted } }
}

/// The options object of a call: typed getters with one-line errors; keys not
/// read by the time `finish()` runs are reported as unknown.
final class ABIOptions {
  private let fields: [(key: String, value: JSONValue)]
  private var used = Set<String>()
  private let context: String

  init(_ text: UnsafePointer<CChar>?, context: String) throws {
    self.context = context
    guard let text else { fields = []; return }
    let json = try JSONValue.parse(String(cString: text), path: "\(context) options")
    guard let object = json.objectValue else {
      throw NTKitError.invalidArgument("\(context) options: expected a JSON object, found \(json.kindName)")
    }
    fields = object
  }

  private func value(_ key: String) -> JSONValue? {
    used.insert(key)
    guard let v = fields.last(where: { $0.key == key })?.value, !v.isNull else { return nil }
    return v
  }

  private func fail(_ key: String, _ expected: String, _ v: JSONValue) -> NTKitError {
    .invalidArgument("\(context): \(key) must be \(expected), found \(v.serialized())")
  }

  func string(_ key: String) throws -> String? {
    guard let v = value(key) else { return nil }
    guard let s = v.stringValue else { throw fail(key, "a string", v) }
    return s
  }

  func string(_ key: String, default d: String) throws -> String { try string(key) ?? d }

  func int(_ key: String) throws -> Int? {
    guard let v = value(key) else { return nil }
    guard let i = v.intValue else { throw fail(key, "an integer", v) }
    return i
  }

  func double(_ key: String) throws -> Double? {
    guard let v = value(key) else { return nil }
    guard let d = v.doubleValue, d.isFinite else { throw fail(key, "a finite number", v) }
    return d
  }

  func bool(_ key: String) throws -> Bool? {
    guard let v = value(key) else { return nil }
    guard let b = v.boolValue else { throw fail(key, "true or false", v) }
    return b
  }

  func seed(_ key: String = "seed") throws -> UInt64? {
    guard let v = value(key) else { return nil }
    guard let i = v.intValue, i >= 0 else { throw fail(key, "a non-negative integer", v) }
    return UInt64(i)
  }

  /// `memory_budget`: a size text such as "1G" or a byte count.
  func byteSize(_ key: String) throws -> Int? {
    guard let v = value(key) else { return nil }
    if let i = v.intValue, i > 0 { return i }
    if let s = v.stringValue, let n = parseByteSize(s) { return n }
    throw fail(key, "a size such as \"1G\" or \"512M\" (or a byte count)", v)
  }

  /// `precision`: f32 (default) or f64.
  func precision() throws -> Precision {
    let text = try string("precision", default: "f32")
    guard let p = Precision(rawValue: text) else {
      throw NTKitError.invalidArgument("\(context): precision must be f32 or f64, found \"\(text)\"")
    }
    return p
  }

  /// `device` as in the CLI (auto, cpu, opencl, opencl:P:D); the library's
  /// warnings are collected into `warnings`.
  func device(default d: String, warnings: inout [String]) throws -> (device: any ComputeDevice, fallback: Bool) {
    let name = try string("device", default: d)
    let choice = try DeviceChoice(parsing: name)
    var collected: [String] = []
    // Always enumerate under auto: the Python package's first auto call loads PoCL before TensorFlow can.
    let device = try DeviceSelector.make(choice, enumerateAlways: true) { collected.append($0) }
    warnings += collected
    return (device, choice == .auto)
  }

  /// Throws for a key that no getter asked for (a misspelt option).
  func finish() throws {
    if let unknown = fields.map(\.key).first(where: { !used.contains($0) }) {
      throw NTKitError.invalidArgument(
        "\(context): unknown option \"\(unknown)\" (known: \(used.sorted().joined(separator: ", ")))")
    }
  }
}

/// Builds a host tensor from a caller array of `rank` dims at `shape`.
func hostTensor(_ data: UnsafePointer<Float>?, _ shape: UnsafePointer<Int64>?, _ rank: Int, name: String) throws -> Tensor {
  guard let data, let shape, rank >= 1 else { throw NTKitError.invalidArgument("\(name) is missing (NULL or rank 0)") }
  let dims = (0..<rank).map { Int(shape[$0]) }
  guard dims.allSatisfy({ $0 >= 0 }) else { throw NTKitError.invalidArgument("\(name): negative dimension in shape \(dims)") }
  var count = 1
  for d in dims {
    let (p, o) = count.multipliedReportingOverflow(by: d)
    guard !o else { throw NTKitError.invalidArgument("\(name): shape \(dims) is too large") }
    count = p
  }
  guard dims[0] > 0 else { throw NTKitError.invalidArgument("\(name): no samples (N = 0)") }
  return Tensor(shape: dims, data: Array(UnsafeBufferPointer(start: data, count: count)))
}

/// Checks inputs against a model's `input_shape` (`[N, d]` flattened or `[N, *input_shape]`).
func checkInputs(_ x: Tensor, _ network: Network, name: String) throws -> Tensor {
  var x = x
  let expected = network.spec.inputShape
  let matches = x.rowLength == network.inputSize && (x.shape.count == 2 || Array(x.shape.dropFirst()) == expected)
  guard matches else {
    throw NTKitError.shapeMismatch(
      context: name, expected: "[N, \(expected.map(String.init).joined(separator: ", "))] (the model's input_shape)",
      found: "\(x.shape)")
  }
  if x.shape.count == 2 && expected.count > 1 { x.shape = [x.rows] + expected }
  if let bad = x.data.firstIndex(where: { !$0.isFinite }) {
    throw NTKitError.nonFinite(path: name, detail: "at row \(bad / max(x.rowLength, 1)), column \(bad % max(x.rowLength, 1))")
  }
  return x
}

/// `ntk_free(p)`: frees a string returned through an `info` argument.
@_cdecl("ntk_free")
public func ntk_free(_ p: UnsafeMutableRawPointer?) {
  free(p)
}

/// `ntk_abi_version()`: the ABI revision (bumped on any incompatible change).
@_cdecl("ntk_abi_version")
public func ntk_abi_version() -> Int32 { 1 }
