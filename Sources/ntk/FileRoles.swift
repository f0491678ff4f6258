import ArgumentParser
import NTKit

/// The files each command reads and writes, by flag, so that `main` can refuse
/// (exit 2) an output that is the same file as an input or another output
/// before any work starts, and open the output transaction that commits all
/// of a command's outputs together (`OutputTransaction`).
protocol FileRoles {
  var inputFiles: [FileIdentity.Role] { get }
  var outputFiles: [FileIdentity.Role] { get }
  /// (input flag, output flag) pairs that may name the same file.
  var allowedOverlaps: [(input: String, output: String)] { get }
  /// False for commands whose files must exist at once (bench's scratch files).
  var stagesOutputs: Bool { get }
  /// The format (extension) each output flag writes: `--out k.csv` for an
  /// `.npy` output is a usage error (`checkOutputExtension`).
  var outputFormats: [String: String] { get }
}

extension FileRoles {
  var allowedOverlaps: [(input: String, output: String)] { [] }
  var outputFormats: [String: String] { [:] }
  var stagesOutputs: Bool { true }
}

/// Roles from optional paths.
private func roles(_ pairs: [(String, String?)]) -> [FileIdentity.Role] {
  pairs.compactMap { flag, path in path.map { FileIdentity.Role(flag, $0) } }
}

extension ModelOptions {
  var roles: [(String, String?)] { [("--model", model), ("--weights", weights)] }
}

extension InputOptions {
  var roles: [(String, String?)] { [("--inputs", inputs), ("--indices", indices), ("--scaler", scaling.scaler)] }
}

extension InitCommand: FileRoles {
  var inputFiles: [FileIdentity.Role] { roles([("--model", model)]) }
  var outputFiles: [FileIdentity.Role] { roles([("--out", out)]) }
  var outputFormats: [String: String] { ["--out": ".safetensors"] }
}

/// `forward` and `jacobian`: the files of `EvaluationOptions`.
protocol EvaluationFileRoles: FileRoles { var options: EvaluationOptions { get } }

extension EvaluationFileRoles {
  var outputFormats: [String: String] { ["--out": ".npy", "--save-scaler": ".json"] }
  var inputFiles: [FileIdentity.Role] { roles(options.model.roles + options.input.roles) }
  var outputFiles: [FileIdentity.Role] { roles([("--out", options.out), ("--save-scaler", options.input.scaling.saveScaler)]) }
}

extension ForwardCommand: EvaluationFileRoles {}
extension JacobianCommand: EvaluationFileRoles {}

extension GramCommand: FileRoles {
  var outputFormats: [String: String] { ["--out": ".npy", "--save-scaler": ".json"] }
  var inputFiles: [FileIdentity.Role] { roles(model.roles + input.roles + [("--inputs2", inputs2)]) }
  var outputFiles: [FileIdentity.Role] { roles([("--out", out), ("--save-scaler", input.scaling.saveScaler)]) }
}

extension StatsCommand: FileRoles {
  var outputFormats: [String: String] { ["--spectrum": ".npy"] }
  var inputFiles: [FileIdentity.Role] {
    roles([("--kernel", kernel), ("--model", model), ("--weights", weights), ("--inputs", inputs), ("--indices", indices)])
  }
  var outputFiles: [FileIdentity.Role] { roles([("--spectrum", spectrum)]) }
}

extension TrainCommand: FileRoles {
  var outputFormats: [String: String] { ["--out": ".safetensors", "--history": ".csv", "--save-scaler": ".json"] }
  var inputFiles: [FileIdentity.Role] {
    roles([("--model", model), ("--weights", weights), ("--train", train), ("--labels", labels), ("--test", test),
           ("--test-labels", testLabels), ("--indices", indices), ("--scaler", scaling.scaler)])
  }
  var outputFiles: [FileIdentity.Role] {
    roles([("--out", out), ("--history", history), ("--save-scaler", scaling.saveScaler)])
  }
  /// `--weights w --out w` continues training in place: w is read in full first.
  var allowedOverlaps: [(input: String, output: String)] { [("--weights", "--out")] }
}

extension SelectCommand: FileRoles {
  var outputFormats: [String: String] {
    ["--out": ".npy", "--report": ".json", "--checkpoint": ".json", "--save-scaler": ".json"]
  }
  var inputFiles: [FileIdentity.Role] {
    roles([("--pool", pool), ("--model", model), ("--target-weights", targetWeights),
           ("--predictor-weights", predictorWeights), ("--scaler", scaling.scaler)])
  }
  var outputFiles: [FileIdentity.Role] {
    roles([("--out", out), ("--report", report), ("--checkpoint", checkpoint), ("--save-scaler", scaling.saveScaler)])
  }
}

extension BenchCommand: FileRoles {
  var inputFiles: [FileIdentity.Role] { rndPoolFile.map { FileIdentity.Role("--rnd-pool-file", $0) } }
  var outputFiles: [FileIdentity.Role] { roles([("--out", out)]) }
  var stagesOutputs: Bool { false }
}

/// Refuses a clash of files as a usage error (exit 2); true when `command`
/// wants its outputs staged and committed together.
func checkFileRoles(_ command: ParsableCommand) throws -> Bool {
  guard let files = command as? FileRoles else { return true }
  if let clash = FileIdentity.firstConflict(inputs: files.inputFiles, outputs: files.outputFiles,
                                            allowed: files.allowedOverlaps) {
    throw ValidationError(clash)
  }
  for role in files.outputFiles {
    if let expected = files.outputFormats[role.flag] { try checkOutputExtension(role.path, flag: role.flag, expected: expected) }
  }
  return files.stagesOutputs
}
