/// Reading and writing `*.model.json` (`formats.md`, "Model spec").
extension ModelSpec {
  /// Parses and validates a spec file; errors name the file and the field.
  public static func load(_ path: String) throws -> ModelSpec {
    let bytes = try readWholeFile(path)
    return try ModelSpec(json: JSONValue.parse(bytes, path: path), source: path)
  }

  public init(json: JSONValue, source: String) throws {
    func fail(_ reason: String) -> NTKitError { .invalidSpec(path: source, reason: reason) }
    guard json.objectValue != nil else { throw fail("expected a JSON object at the top level, found \(json.kindName)") }
    func ints(_ value: JSONValue?, _ field: String, count: Int? = nil) throws -> [Int] {
      guard let array = value?.arrayValue else { throw fail("\(field) must be an array of integers") }
      let out = try array.map { (v: JSONValue) -> Int in
        guard let i = v.intValue else { throw fail("\(field) must hold integers, found \(v.serialized())") }
        return i
      }
      if let count, out.count != count { throw fail("\(field) must have \(count) entries, found \(out.count)") }
      return out
    }
    let inputShape = try ints(json["input_shape"], "input_shape")
    var parameterization = Parameterization.standard
    if let p = json["parameterization"], !p.isNull {
      guard let s = p.stringValue, let value = Parameterization(rawValue: s) else {
        throw fail("parameterization must be \"standard\" or \"ntk\", found \(p.serialized())")
      }
      parameterization = value
    }
    guard let list = json["layers"]?.arrayValue else { throw fail("layers must be an array of layer objects") }
    var layers: [LayerSpec] = []
    for (i, entry) in list.enumerated() {
      guard entry.objectValue != nil, let type = entry["type"]?.stringValue else {
        throw fail("layers[\(i)] must be an object with a string \"type\"")
      }
      let at = "layers[\(i)] (\(type))"
      func int(_ key: String) throws -> Int {
        guard let v = entry[key]?.intValue else { throw fail("\(at): \(key) must be an integer") }
        return v
      }
      func float(_ key: String, _ fallback: Float) throws -> Float {
        guard let v = entry[key], !v.isNull else { return fallback }
        guard let d = v.doubleValue, d.isFinite else { throw fail("\(at): \(key) must be a number") }
        return Float(d)
      }
      func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = entry[key], !v.isNull else { return fallback }
        guard let b = v.boolValue else { throw fail("\(at): \(key) must be true or false") }
        return b
      }
      func pair(_ key: String, _ fallback: [Int]?) throws -> [Int] {
        guard let v = entry[key], !v.isNull else {
          if let fallback { return fallback }
          throw fail("\(at): \(key) is required ([h, w])")
        }
        return try ints(v, "\(at): \(key)", count: 2)
      }
      switch type {
      case "dense":
        layers.append(.dense(units: try int("units"), bias: try bool("bias", true),
                             wStd: try float("w_std", 1), bStd: try float("b_std", 1)))
      case "conv2d":
        let padName = entry["padding"]?.stringValue ?? "valid"
        guard let padding = Padding(rawValue: padName) else {
          throw fail("\(at): padding must be \"valid\" or \"same\", found \"\(padName)\"")
        }
        layers.append(.conv2d(filters: try int("filters"), kernel: try pair("kernel", nil), stride: try pair("stride", [1, 1]),
                              padding: padding, bias: try bool("bias", true),
                              wStd: try float("w_std", 1), bStd: try float("b_std", 1)))
      case "avgpool2d":
        let window = try pair("window", nil)
        if let p = entry["padding"]?.stringValue, p != "valid" {
          throw fail("\(at): only padding \"valid\" is supported for avgpool2d, found \"\(p)\"")
        }
        layers.append(.avgpool2d(window: window, stride: try pair("stride", window)))
      case "flatten": layers.append(.flatten)
      case "relu": layers.append(.activation(.relu))
      case "tanh": layers.append(.activation(.tanh))
      case "sigmoid": layers.append(.activation(.sigmoid))
      case "gelu": layers.append(.activation(.gelu))
      case "softplus": layers.append(.activation(.softplus))
      case "silu": layers.append(.activation(.silu))
      case "identity": layers.append(.activation(.identity))
      case "leaky_relu": layers.append(.activation(.leakyRelu(alpha: try float("alpha", 0.01))))
      default:
        throw fail("\(at): unknown layer type \"\(type)\"; expected one of dense, conv2d, avgpool2d, flatten, "
                   + Activation.names.joined(separator: ", "))
      }
    }
    self.init(inputShape: inputShape, parameterization: parameterization, layers: layers)
  }

  /// The spec as JSON, in the `formats.md` layout.
  public var json: JSONValue {
    var entries: [JSONValue] = []
    for layer in layers {
      var o: [(key: String, value: JSONValue)] = [("type", .string(layer.typeName))]
      switch layer {
      case .dense(let units, let bias, let wStd, let bStd):
        o.append(("units", .number(Double(units))))
        if !bias { o.append(("bias", .bool(false))) }
        if wStd != 1 { o.append(("w_std", .number(Double(wStd)))) }
        if bStd != 1 { o.append(("b_std", .number(Double(bStd)))) }
      case .conv2d(let filters, let kernel, let stride, let padding, let bias, let wStd, let bStd):
        o.append(("filters", .number(Double(filters))))
        o.append(("kernel", .array(kernel.map { .number(Double($0)) })))
        o.append(("stride", .array(stride.map { .number(Double($0)) })))
        o.append(("padding", .string(padding.rawValue)))
        if !bias { o.append(("bias", .bool(false))) }
        if wStd != 1 { o.append(("w_std", .number(Double(wStd)))) }
        if bStd != 1 { o.append(("b_std", .number(Double(bStd)))) }
      case .avgpool2d(let window, let stride):
        o.append(("window", .array(window.map { .number(Double($0)) })))
        o.append(("stride", .array(stride.map { .number(Double($0)) })))
      case .activation(.leakyRelu(let alpha)):
        o.append(("alpha", .number(Double(alpha))))
      case .flatten, .activation: break
      }
      entries.append(.object(o))
    }
    return .object([
      ("input_shape", .array(inputShape.map { .number(Double($0)) })),
      ("parameterization", .string(parameterization.rawValue)),
      ("layers", .array(entries)),
    ])
  }
}

extension ModelParameters {
  /// Loads `layers.{i}.kernel` / `layers.{i}.bias` from a safetensors file.
  public static func load(_ path: String, network: Network) throws -> ModelParameters {
    let tensors = try Safetensors.read(path)
    var map: [String: (shape: [Int], values: [Float])] = [:]
    for (name, t) in tensors { map[name] = (t.shape, t.values) }
    return try ModelParameters(network: network, tensors: map, source: path)
  }

  /// Writes the parameters as F32 safetensors (atomic).
  public func save(_ path: String, network: Network) throws {
    try Safetensors.write(path, tensors: tensors(for: network).map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) })
  }
}
