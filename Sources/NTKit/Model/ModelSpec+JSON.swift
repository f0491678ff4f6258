/// Reading and writing `*.model.json` (`formats.md`, "Model spec").
extension ModelSpec {
  /// Parses and validates a spec file; errors name the file and the field.
  /// The shapes are resolved too (`Network(spec:source:)`), so a spec whose
  /// layers do not chain fails here, naming the file, not later without it.
  public static func load(_ path: String) throws -> ModelSpec {
    let bytes = try readWholeFile(path)
    let spec = try ModelSpec(json: JSONValue.parse(bytes, path: path), source: path)
    _ = try Network(spec: spec, source: path)
    return spec
  }

  /// The keys a spec accepts: at the top level, and per layer type. Every
  /// other key is an error (`docs/formats.md`, "Model spec").
  public static let topLevelKeys = ["input_shape", "parameterization", "layers", "w_std", "b_std"]
  /// Accepted alternative spellings, mapped to the key they stand for.
  public static let keyAliases: [String: String] = [
    "parameterisation": "parameterization", "use_bias": "bias", "negative_slope": "alpha", "slope": "alpha",
  ]
  public static let layerKeys: [String: [String]] = {
    var keys: [String: [String]] = [
      "dense": ["type", "units", "bias", "w_std", "b_std", "activation"],
      "conv2d": ["type", "filters", "kernel", "stride", "padding", "bias", "w_std", "b_std", "activation"],
      "avgpool2d": ["type", "window", "stride", "padding"],
      "flatten": ["type"],
    ]
    for name in Activation.names { keys[name] = ["type"] }
    keys["leaky_relu"] = ["type", "alpha"]
    return keys
  }()

  /// The nearest of `candidates` to `key` (Levenshtein distance, at most 2 or
  /// a third of the key's length), for "did you mean …?" hints.
  public static func nearest(_ key: String, in candidates: [String]) -> String? {
    let a = Array(key.lowercased())
    var best: (String, Int)?
    for c in candidates {
      let b = Array(c)
      var row = Array(0...b.count)
      for i in 1...max(a.count, 1) where !a.isEmpty {
        var next = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
          next[j] = min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        row = next
      }
      let d = row[b.count]
      if d <= max(2, a.count / 3), d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    return best?.0
  }

  /// Parses a spec. Unknown keys are errors naming the key and suggesting the
  /// nearest valid one; the spellings in `keyAliases` are accepted (giving a
  /// key twice, once under each spelling, is an error). Top-level `w_std` /
  /// `b_std` are the defaults of every dense/conv2d layer; a dense/conv2d
  /// `"activation"` (a name, or an activation layer object) adds that
  /// activation right after the layer, sharing its index (`fileIndices`).
  public init(json: JSONValue, source: String) throws {
    func fail(_ reason: String) -> NTKitError { .invalidSpec(path: source, reason: reason) }
    guard let topMembers = json.objectValue else {
      throw fail("expected a JSON object at the top level, found \(json.kindName)")
    }
    /// The members of an object under their canonical keys, checked against `allowed`.
    func canonical(_ members: [(key: String, value: JSONValue)], allowed: [String], at: String) throws -> [String: JSONValue] {
      var out: [String: JSONValue] = [:]
      var spelledAs: [String: String] = [:]
      for (key, value) in members {
        let name = allowed.contains(key) ? key : (ModelSpec.keyAliases[key].flatMap { allowed.contains($0) ? $0 : nil })
        guard let name else {
          let hint = ModelSpec.nearest(key, in: allowed + ModelSpec.keyAliases.filter { allowed.contains($0.value) }.map(\.key))
            .map { "; did you mean '\($0)'?" } ?? "; expected one of \(allowed.joined(separator: ", "))"
          throw fail("\(at)unknown key '\(key)'\(hint)")
        }
        if let other = spelledAs[name] {
          throw fail(other == key ? "\(at)key '\(key)' appears twice; keep one"
                                  : "\(at)'\(key)' and '\(other)' give the same setting twice; keep one")
        }
        spelledAs[name] = key
        out[name] = value
      }
      return out
    }
    let top = try canonical(topMembers, allowed: ModelSpec.topLevelKeys, at: "")
    func ints(_ value: JSONValue?, _ field: String, count: Int? = nil) throws -> [Int] {
      guard let value, !value.isNull else { throw fail("\(field) is missing; expected an array of integers") }
      guard let array = value.arrayValue else {
        throw fail("\(field) must be an array of integers, found \(value.serialized())")
      }
      let out = try array.map { (v: JSONValue) -> Int in
        guard let i = v.intValue else { throw fail("\(field) must hold integers, found \(v.serialized())") }
        return i
      }
      if let count, out.count != count { throw fail("\(field) must have \(count) entries, found \(out.count)") }
      return out
    }
    func number(_ value: JSONValue?, _ field: String, _ fallback: Double) throws -> Double {
      guard let value, !value.isNull else { return fallback }
      guard let d = value.doubleValue, d.isFinite else { throw fail("\(field) must be a finite number, found \(value.serialized())") }
      return d
    }
    let inputShape = try ints(top["input_shape"], "input_shape")
    var parameterization = Parameterization.standard
    if let p = top["parameterization"], !p.isNull {
      guard let s = p.stringValue, let value = Parameterization(rawValue: s) else {
        throw fail("parameterization must be \"standard\" or \"ntk\", found \(p.serialized())")
      }
      parameterization = value
    }
    /// w_std / b_std scale the forward pass under ntk only; under standard they
    /// would be silently ignored, so they are refused instead.
    func checkScale(_ entry: [String: JSONValue], _ at: String) throws {
      guard parameterization == .standard else { return }
      for key in ["w_std", "b_std"] where entry[key].map({ !$0.isNull }) == true {
        throw fail("\(at)\(key) applies only under \"parameterization\": \"ntk\" (y = (w_std/√fan_in)·x·W + b_std·b); "
                   + "under \"standard\" the scale is in the weights themselves: remove \(key) or set the ntk parameterization")
      }
    }
    try checkScale(top, "")
    let defaultWStd = try number(top["w_std"], "w_std", 1)
    let defaultBStd = try number(top["b_std"], "b_std", 1)
    guard let list = top["layers"]?.arrayValue else { throw fail("layers must be an array of layer objects") }
    var layers: [LayerSpec] = []
    var fileIndices: [Int] = []

    /// An activation layer from its object members (`type` already read).
    func activation(_ type: String, _ entry: [String: JSONValue], at: String) throws -> Activation? {
      switch type {
      case "relu": return .relu
      case "tanh": return .tanh
      case "sigmoid": return .sigmoid
      case "gelu": return .gelu
      case "softplus": return .softplus
      case "silu": return .silu
      case "identity": return .identity
      case "leaky_relu": return .leakyRelu(alpha: try number(entry["alpha"], "\(at): alpha", 0.01))
      default: return nil
      }
    }
    let layerTypes = ["dense", "conv2d", "avgpool2d", "flatten"] + Activation.names
    func unknownType(_ type: String, _ at: String) -> NTKitError {
      let hint = ModelSpec.nearest(type, in: layerTypes).map { "did you mean \"\($0)\"? " } ?? ""
      return fail("\(at): unknown layer type \(MessageText.quoted(type)); \(hint)expected one of \(layerTypes.joined(separator: ", "))")
    }

    for (i, item) in list.enumerated() {
      guard let members = item.objectValue, let type = item["type"]?.stringValue else {
        throw fail("layers[\(i)] must be an object with a string \"type\"")
      }
      let at = "layers[\(i)] (\(type))"
      guard let allowed = ModelSpec.layerKeys[type] else { throw unknownType(type, "layers[\(i)]") }
      let entry = try canonical(members, allowed: allowed, at: "\(at): ")
      func int(_ key: String) throws -> Int {
        guard let v = entry[key]?.intValue else {
          throw fail("\(at): \(key) must be an integer\(entry[key].map { ", found \($0.serialized())" } ?? " (missing)")")
        }
        return v
      }
      func float(_ key: String, _ fallback: Double) throws -> Double { try number(entry[key], "\(at): \(key)", fallback) }
      func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = entry[key], !v.isNull else { return fallback }
        guard let b = v.boolValue else { throw fail("\(at): \(key) must be true or false, found \(v.serialized())") }
        return b
      }
      func pair(_ key: String, _ fallback: [Int]?) throws -> [Int] {
        guard let v = entry[key], !v.isNull else {
          if let fallback { return fallback }
          throw fail("\(at): \(key) is required ([h, w])")
        }
        return try ints(v, "\(at): \(key)", count: 2)
      }
      func padding() throws -> Padding {
        guard let v = entry["padding"], !v.isNull else { return .valid }
        guard let name = v.stringValue, let padding = Padding(rawValue: name) else {
          throw fail("\(at): padding must be \"valid\" or \"same\", found \(v.serialized())")
        }
        return padding
      }
      try checkScale(entry, "\(at): ")
      var layer: LayerSpec
      switch type {
      case "dense":
        layer = .dense(units: try int("units"), bias: try bool("bias", true),
                       wStd: try float("w_std", defaultWStd), bStd: try float("b_std", defaultBStd))
      case "conv2d":
        layer = .conv2d(filters: try int("filters"), kernel: try pair("kernel", nil), stride: try pair("stride", [1, 1]),
                        padding: try padding(), bias: try bool("bias", true),
                        wStd: try float("w_std", defaultWStd), bStd: try float("b_std", defaultBStd))
      case "avgpool2d":
        let window = try pair("window", nil)
        if try padding() != .valid {
          throw fail("\(at): only padding \"valid\" is supported for avgpool2d, found \"same\"")
        }
        layer = .avgpool2d(window: window, stride: try pair("stride", window))
      case "flatten": layer = .flatten
      default:
        guard let a = try activation(type, entry, at: at) else { throw unknownType(type, "layers[\(i)]") }
        layer = .activation(a)
      }
      layers.append(layer)
      fileIndices.append(i)
      // The shorthand {"type": "dense", ..., "activation": "tanh"}.
      if let a = entry["activation"], !a.isNull {
        let where_ = "\(at): activation"
        let name: String
        var members: [String: JSONValue] = [:]
        if let s = a.stringValue {
          name = s
        } else if let object = a.objectValue, let s = a["type"]?.stringValue {
          name = s
          guard let allowed = ModelSpec.layerKeys[s], Activation.names.contains(s) else {
            throw fail("\(where_): \(MessageText.quoted(s)) is not an activation; expected one of \(Activation.names.joined(separator: ", "))")
          }
          members = try canonical(object, allowed: allowed, at: "\(where_): ")
        } else {
          throw fail("\(where_) must be an activation name such as \"relu\" or an object like {\"type\": \"leaky_relu\", \"alpha\": 0.1}, found \(a.serialized())")
        }
        guard Activation.names.contains(name), let act = try activation(name, members, at: where_) else {
          let hint = ModelSpec.nearest(name, in: Activation.names).map { "did you mean \"\($0)\"? " } ?? ""
          throw fail("\(where_): unknown activation \(MessageText.quoted(name)); \(hint)expected one of \(Activation.names.joined(separator: ", "))")
        }
        layers.append(.activation(act))
        fileIndices.append(i)
      }
    }
    self.init(inputShape: inputShape, parameterization: parameterization, layers: layers, fileIndices: fileIndices)
  }

  /// The spec as JSON, in the `formats.md` layout.
  public var json: JSONValue {
    var entries: [JSONValue] = []
    for (k, layer) in layers.enumerated() {
      if isShorthandActivation(k), case .activation(let a) = layer, case .object(var previous) = entries.removeLast() {
        if case .leakyRelu(let alpha) = a {
          previous.append(("activation", .object([("type", .string(a.name)), ("alpha", .number(alpha))])))
        } else {
          previous.append(("activation", .string(a.name)))
        }
        entries.append(.object(previous))
        continue
      }
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

extension ModelSpec {
  /// SHA-256 of the canonical spec JSON (`json.serialized()`): equal for specs
  /// that describe the same network, whatever spelling or layout the file used.
  public var hash: String { SHA256.hex(json.serialized()) }

  /// The `__metadata__` written into every weights file: `ntkit_version`,
  /// `parameterization`, `spec_sha256` (`docs/formats.md`, "Weights").
  public var weightsMetadata: [String: String] {
    ["ntkit_version": NTKitVersion.string, "parameterization": parameterization.rawValue, "spec_sha256": hash]
  }
}

extension ModelParameters {
  /// Loads `layers.{i}.kernel` / `layers.{i}.bias` from a safetensors file;
  /// F64 tensors keep their float64 values (`values64`). A file whose
  /// metadata names a different parameterization than the spec is refused.
  /// `specPath` names the spec in that message.
  public static func load(_ path: String, network: Network, specPath: String? = nil) throws -> ModelParameters {
    let (tensors, metadata) = try Safetensors.readFile(path)
    if let written = metadata["parameterization"], written != network.spec.parameterization.rawValue {
      throw NTKitError.format(
        path: path, reason: "written for parameterization \(MessageText.quoted(written)) (its __metadata__) but the model spec "
          + (specPath.map { "\($0) " } ?? "") + "uses \"\(network.spec.parameterization.rawValue)\": the weights' scales differ between the two; "
          + "re-initialise with `ntk init` or fix the spec's parameterization")
    }
    return try ModelParameters(network: network,
                               named: tensors.mapValues { (shape: $0.shape, values: $0.values, values64: $0.values64) },
                               source: path)
  }

  /// Writes the parameters as F32 safetensors (atomic), with the spec's
  /// `weightsMetadata` in `__metadata__`.
  public func save(_ path: String, network: Network) throws {
    try Safetensors.write(path, tensors: tensors(for: network).map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) },
                          metadata: network.spec.weightsMetadata)
  }
}
