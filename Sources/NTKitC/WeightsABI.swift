/// Safetensors files through the C ABI, with the library's strict reader and
/// atomic writer (so Python sees the CLI's errors and never a partial file).
///
///     int32_t ntk_weights_read(const char *path, char **info, float **values, char *err, size_t errlen);
///       info: [{"name", "shape", "offset", "count"}…] in file order; *values: every tensor's
///       float32 values concatenated (F64/F16/BF16 converted), malloc'd, freed with ntk_free.
///     int32_t ntk_weights_write(const char *path, int64_t count, const char **names, const int64_t *ranks,
///                               const int64_t *dims /* concatenated */, const float **data, char *err, size_t errlen);
///       Writes F32 tensors in the given order (temporary file, then rename).
#if canImport(Glibc)
import Glibc
#endif
import NTKit

@_cdecl("ntk_weights_read")
public func ntk_weights_read(
  _ path: UnsafePointer<CChar>?, _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  _ values: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>?, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let file = try requiredString(path, "weights path")
    guard let values else { throw NTKitError.invalidArgument("ntk_weights_read: values is NULL") }
    let tensors = try Safetensors.read(file).values.sorted { $0.name < $1.name }
    let total = tensors.reduce(0) { $0 + $1.values.count }
    guard let buffer = malloc(max(total, 1) * 4)?.assumingMemoryBound(to: Float.self) else {
      throw NTKitError.invalidArgument("\(file): cannot allocate \(formatBytes(total * 4)) for its tensors")
    }
    var entries: [JSONValue] = []
    var at = 0
    for t in tensors {
      for (i, v) in t.values.enumerated() { buffer[at + i] = v }
      entries.append(.object([("name", .string(t.name)), ("shape", JSONValue(numbers: t.shape.map(Double.init))),
                              ("offset", .number(Double(at))), ("count", .number(Double(t.values.count)))]))
      at += t.values.count
    }
    values.pointee = buffer
    setInfo(info, .array(entries))
  }
}

@_cdecl("ntk_weights_write")
public func ntk_weights_write(
  _ path: UnsafePointer<CChar>?, _ count: Int64, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
  _ ranks: UnsafePointer<Int64>?, _ dims: UnsafePointer<Int64>?, _ data: UnsafePointer<UnsafePointer<Float>?>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let file = try requiredString(path, "weights path")
    var tensors: [NamedTensor] = []
    if count > 0 {
      guard let names, let ranks, let dims, let data else { throw NTKitError.invalidArgument("ntk_weights_write: NULL array") }
      var at = 0
      for t in 0..<Int(count) {
        let name = try requiredString(names[t], "tensor name")
        let rank = Int(ranks[t])
        guard rank >= 0 && rank <= 8 else { throw NTKitError.invalidArgument("\(file): tensor \(name) has rank \(rank)") }
        let shape = (0..<rank).map { Int(dims[at + $0]) }
        at += rank
        guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
          throw NTKitError.invalidArgument("\(file): tensor \(name) has shape \(shape)")
        }
        let n = shape.reduce(1, *)
        guard n == 0 || data[t] != nil else { throw NTKitError.invalidArgument("\(file): tensor \(name) has no data") }
        let v = n == 0 ? [] : Array(UnsafeBufferPointer(start: data[t], count: n))
        if let bad = v.firstIndex(where: { !$0.isFinite }) {
          throw NTKitError.nonFinite(path: file, detail: "in tensor \(name) at flat index \(bad)")
        }
        tensors.append(NamedTensor(name: name, shape: shape, values: v))
      }
    }
    try Safetensors.write(file, tensors: tensors)
  }
}
