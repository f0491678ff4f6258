/// Models through the C ABI: an opaque handle holding a resolved `Network`.
///
///     int32_t ntk_model_create(const char *spec, const char *source, void **out, char *err, size_t errlen);
///       spec: JSON text of a model spec (first non-blank byte '{') or a path to a *.model.json;
///       source: the name used in error messages for JSON text (NULL: "model").
///     void    ntk_model_free(void *model);
///     int32_t ntk_model_describe(void *model, char **info, char *err, size_t errlen);
///       info: {"input_shape":[…], "outputs":M, "parameters":P, "parameterization":…,
///              "spec":{…}, "tensors":[{"name","shape","offset","count"}…]} (offsets into θ).
///     int32_t ntk_model_init(void *model, uint64_t seed, float *theta /* P */, char *err, size_t errlen);
///     int32_t ntk_model_pack(void *model, int64_t count, const char **names, const int64_t *ranks,
///                            const int64_t *dims /* concatenated */, const float **data,
///                            const char *source, float *theta /* P */, char *err, size_t errlen);
///       Named tensors (layers.{i}.kernel / .bias) → the flat θ, checked as a weights file is.
///
/// θ is the flat float32 parameter vector in `ModelParameters` order (per
/// parameter layer: kernel row-major, then bias).
import NTKit

/// What a model handle points to.
final class ModelHandle {
  let network: Network
  let source: String
  init(network: Network, source: String) {
    self.network = network
    self.source = source
  }

  static func from(_ p: UnsafeMutableRawPointer?) throws -> ModelHandle {
    guard let p else { throw NTKitError.invalidArgument("model handle is NULL (the model was freed or never created)") }
    return Unmanaged<ModelHandle>.fromOpaque(p).takeUnretainedValue()
  }

  /// θ from the caller's pointer, P values.
  func parameters(_ theta: UnsafePointer<Float>?) throws -> ModelParameters {
    guard let theta else { throw NTKitError.invalidArgument("parameters are missing (NULL)") }
    let values = Array(UnsafeBufferPointer(start: theta, count: network.parameterCount))
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw NTKitError.nonFinite(path: "parameters", detail: "at flat index \(bad) of θ")
    }
    return ModelParameters(values: values)
  }
}

@_cdecl("ntk_model_create")
public func ntk_model_create(
  _ spec: UnsafePointer<CChar>?, _ source: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let text = try requiredString(spec, "model spec")
    guard let out else { throw NTKitError.invalidArgument("ntk_model_create: out is NULL") }
    let isJSON = text.first(where: { !$0.isWhitespace }) == "{"
    let label = source.map { String(cString: $0) } ?? (isJSON ? "model" : text)
    let parsed: ModelSpec
    if isJSON {
      parsed = try ModelSpec(json: JSONValue.parse(text, path: label), source: label)
    } else {
      parsed = try ModelSpec.load(text)
    }
    let network = try Network(spec: parsed, source: label)
    out.pointee = Unmanaged.passRetained(ModelHandle(network: network, source: label)).toOpaque()
  }
}

@_cdecl("ntk_model_free")
public func ntk_model_free(_ model: UnsafeMutableRawPointer?) {
  guard let model else { return }
  Unmanaged<ModelHandle>.fromOpaque(model).release()
}

@_cdecl("ntk_model_describe")
public func ntk_model_describe(
  _ model: UnsafeMutableRawPointer?, _ info: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    let net = h.network
    var tensors: [JSONValue] = []
    for layer in net.affineLayers {
      tensors.append(.object([("name", .string(layer.kernelName)), ("shape", JSONValue(numbers: layer.kernelShape.map(Double.init))),
                              ("offset", .number(Double(layer.kernelOffset))), ("count", .number(Double(layer.kernelCount)))]))
      if layer.hasBias {
        tensors.append(.object([("name", .string(layer.biasName)), ("shape", .array([.number(Double(layer.geometry.outC))])),
                                ("offset", .number(Double(layer.biasOffset))), ("count", .number(Double(layer.geometry.outC)))]))
      }
    }
    setInfo(info, .object([
      ("input_shape", JSONValue(numbers: net.spec.inputShape.map(Double.init))),
      ("outputs", .number(Double(net.outputSize))), ("parameters", .number(Double(net.parameterCount))),
      ("parameterization", .string(net.spec.parameterization.rawValue)), ("source", .string(h.source)),
      ("spec", net.spec.json), ("tensors", .array(tensors)),
    ]))
  }
}

@_cdecl("ntk_model_init")
public func ntk_model_init(
  _ model: UnsafeMutableRawPointer?, _ seed: UInt64, _ theta: UnsafeMutablePointer<Float>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    guard let theta else { throw NTKitError.invalidArgument("ntk_model_init: output θ is NULL") }
    let p = ModelParameters(initializing: h.network, seed: seed)
    for (i, v) in p.values.enumerated() { theta[i] = v }
  }
}

@_cdecl("ntk_model_pack")
public func ntk_model_pack(
  _ model: UnsafeMutableRawPointer?, _ count: Int64, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
  _ ranks: UnsafePointer<Int64>?, _ dims: UnsafePointer<Int64>?, _ data: UnsafePointer<UnsafePointer<Float>?>?,
  _ source: UnsafePointer<CChar>?, _ theta: UnsafeMutablePointer<Float>?,
  _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int
) -> Int32 {
  abiCall(err, errlen) {
    let h = try ModelHandle.from(model)
    guard let theta else { throw NTKitError.invalidArgument("ntk_model_pack: output θ is NULL") }
    let label = source.map { String(cString: $0) } ?? "parameters"
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    if count > 0 {
      guard let names, let ranks, let dims, let data else { throw NTKitError.invalidArgument("ntk_model_pack: NULL array") }
      var at = 0
      for t in 0..<Int(count) {
        let name = try requiredString(names[t], "tensor name")
        let rank = Int(ranks[t])
        guard rank >= 0 && rank <= 8 else { throw NTKitError.invalidArgument("\(label): tensor \(name) has rank \(rank)") }
        let shape = (0..<rank).map { Int(dims[at + $0]) }
        at += rank
        guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
          throw NTKitError.invalidArgument("\(label): tensor \(name) has shape \(shape)")
        }
        let n = shape.reduce(1, *)
        guard n == 0 || data[t] != nil else { throw NTKitError.invalidArgument("\(label): tensor \(name) has no data") }
        tensors[name] = (shape, n == 0 ? [] : Array(UnsafeBufferPointer(start: data[t], count: n)))
      }
    }
    let p = try ModelParameters(network: h.network, tensors: tensors, source: label)
    for (i, v) in p.values.enumerated() { theta[i] = v }
  }
}
