#if canImport(Glibc)
import Glibc
#endif

/// The state of a selection run after a step, enough to continue it to
/// exactly the result an uninterrupted run gives: the picks so far (with
/// their step records), the predictor weights (RND), and fingerprints of the
/// pool, the model and the seed that a resumed run must match.
struct SelectionCheckpoint: Equatable {
  static let format = "ntkit-selection-checkpoint"
  var settings: String
  var seed: UInt64
  var pool: PoolFingerprint
  /// Hash of the model spec and both initial networks (0 without a model).
  var modelHash: UInt64
  var steps: [StepRecord]
  var predictor: [Float]?

  var indices: [Int] { steps.flatMap(\.indices) }

  func json() -> JSONValue {
    var fields: [(key: String, value: JSONValue)] = [
      ("format", .string(Self.format)), ("version", 1),
      ("settings", .string(settings)), ("seed", .string(String(seed))),
      ("pool_rows", .number(Double(pool.rows))), ("pool_features", .number(Double(pool.features))),
      ("pool_hash", .string(String(pool.hash, radix: 16))), ("model_hash", .string(String(modelHash, radix: 16))),
      ("steps", .array(steps.map { s in
        .object([("step", .number(Double(s.step))), ("indices", .array(s.indices.map { .number(Double($0)) })),
                 ("distances", JSONValue(numbers: s.distances)),
                 ("evaluation_seconds", .number(s.evaluationSeconds)), ("training_seconds", .number(s.trainingSeconds))])
      })),
    ]
    if let predictor { fields.append(("predictor", JSONValue(numbers: predictor))) }
    return .object(fields)
  }

  func write(_ path: String) throws {
    try AtomicFile.writeNow(path, text: json().serialized())
  }

  static func read(_ path: String) throws -> SelectionCheckpoint {
    let bytes = try readWholeFile(path)
    let j = try JSONValue.parse(bytes, path: path)
    func bad(_ what: String) -> NTKitError { .format(path: path, reason: "not a selection checkpoint: \(what)") }
    guard j["format"]?.stringValue == format else { throw bad("missing format \"\(format)\"") }
    guard let version = j["version"]?.intValue else { throw bad("missing integer 'version'") }
    guard version == 1 else {
      throw NTKitError.format(path: path, reason: "checkpoint version \(version) is not supported (this ntk reads version 1); remove it or drop --resume")
    }
    guard let settings = j["settings"]?.stringValue,
          let seed = j["seed"]?.stringValue.flatMap({ UInt64($0) }),
          let rows = j["pool_rows"]?.intValue, let features = j["pool_features"]?.intValue,
          let poolHash = j["pool_hash"]?.stringValue.flatMap({ UInt64($0, radix: 16) }),
          let modelHash = j["model_hash"]?.stringValue.flatMap({ UInt64($0, radix: 16) }),
          let stepsJSON = j["steps"]?.arrayValue else { throw bad("a field is missing or malformed") }
    var steps: [StepRecord] = []
    for s in stepsJSON {
      guard let step = s["step"]?.intValue, let idx = s["indices"]?.arrayValue?.compactMap(\.intValue),
            let dist = s["distances"]?.arrayValue?.map({ $0.doubleValue ?? .nan }), idx.count == dist.count else {
        throw bad("a step record is malformed")
      }
      steps.append(StepRecord(step: step, indices: idx, distances: dist,
                              evaluationSeconds: s["evaluation_seconds"]?.doubleValue ?? 0,
                              trainingSeconds: s["training_seconds"]?.doubleValue ?? 0))
    }
    for (k, s) in steps.enumerated() {
      guard s.step == k + 1 else { throw bad("step records are not numbered 1, 2, … (record \(k + 1) says step \(s.step))") }
      guard !s.indices.isEmpty else { throw bad("step \(s.step) has no picks") }
      guard s.distances.allSatisfy(\.isFinite) else { throw bad("step \(s.step) has a non-finite distance") }
    }
    var predictor: [Float]?
    if let p = j["predictor"], p.arrayValue == nil { throw bad("'predictor' must be an array of numbers") }
    if let p = j["predictor"]?.arrayValue {
      predictor = try p.map { v in
        guard let x = v.doubleValue, x.isFinite else { throw bad("predictor weights are not finite numbers") }
        return Float(x)
      }
    }
    return SelectionCheckpoint(settings: settings, seed: seed, pool: PoolFingerprint(rows: rows, features: features, hash: poolHash),
                               modelHash: modelHash, steps: steps, predictor: predictor)
  }

  /// Throws a clear error naming the first thing that differs from the current run.
  func check(settings: String, seed: UInt64, pool: PoolFingerprint, modelHash: UInt64, path: String) throws {
    func mismatch(_ what: String, _ found: String, _ expected: String) -> NTKitError {
      .invalidArgument("checkpoint \(path) belongs to another run: its \(what) is \(found) but this run's is \(expected); remove it or drop --resume")
    }
    if self.pool.rows != pool.rows || self.pool.features != pool.features {
      throw mismatch("pool size", "\(self.pool.rows) × \(self.pool.features)", "\(pool.rows) × \(pool.features)")
    }
    if self.pool.hash != pool.hash { throw mismatch("pool fingerprint", hex(self.pool.hash), hex(pool.hash) + " (same size, other data)") }
    if self.seed != seed { throw mismatch("seed", "\(self.seed)", "\(seed)") }
    if self.settings != settings { throw mismatch("settings", "'\(self.settings)'", "'\(settings)'") }
    if self.modelHash != modelHash { throw mismatch("model fingerprint", hex(self.modelHash), hex(modelHash)) }
  }

  private func hex(_ x: UInt64) -> String { String(x, radix: 16) }
}

/// True when `path` names an existing file.
func fileExists(_ path: String) -> Bool {
  var info = stat()
  return lstat(path, &info) == 0
}
