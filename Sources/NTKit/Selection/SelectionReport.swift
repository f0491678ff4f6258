extension SelectionResult {
  /// The report as JSON: method, indices, early stop, timing totals and one record per step.
  public func json() -> JSONValue {
    var fields: [(key: String, value: JSONValue)] = [
      ("method", .string(method.rawValue)),
      ("size", .number(Double(indices.count))),
      ("indices", .array(indices.map { .number(Double($0)) })),
      ("stopped_early", .bool(stoppedEarly)),
    ]
    if let stopReason { fields.append(("stop_reason", .string(stopReason))) }
    fields += [
      ("resumed_steps", .number(Double(resumedSteps))),
      ("seconds", .number(seconds)),
      ("evaluation_seconds", .number(steps.reduce(0) { $0 + $1.evaluationSeconds })),
      ("training_seconds", .number(steps.reduce(0) { $0 + $1.trainingSeconds })),
      ("steps", .array(steps.map { s in
        .object([("step", .number(Double(s.step))), ("indices", .array(s.indices.map { .number(Double($0)) })),
                 ("distances", JSONValue(numbers: s.distances)),
                 ("evaluation_seconds", .number(s.evaluationSeconds)), ("training_seconds", .number(s.trainingSeconds))])
      })),
    ]
    return .object(fields)
  }

  /// Writes `json()` atomically.
  public func writeJSON(_ path: String, pretty: Bool = true) throws {
    try AtomicFile.write(path, text: json().serialized(pretty: pretty) + "\n")
  }
}
