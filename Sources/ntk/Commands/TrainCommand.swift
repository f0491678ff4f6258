import ArgumentParser
import NTKit

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a network (mse regression or softmax cross-entropy classification) and record its losses.",
    discussion: """
      Labels: .npy of N or N × M values (mse) or N integer classes (cross_entropy); with CSV inputs, \
      --target names the target column(s) of the same file instead. Without --loss, integer \
      labels mean cross_entropy and float labels mse. Records train and test loss (and accuracy for \
      cross_entropy) per epoch (--history CSV) and prints the min and final test loss; with --eval-every K \
      the test set is evaluated every K-th epoch and after the last (the min is then over those epochs). \
      --indices picks the training rows (inputs and labels alike), e.g. the output of ntk select.
      """)

  @Option(help: "Model spec JSON (docs/formats.md).") var model: String
  @Option(help: "Initial weights (.safetensors); default: a fresh initialisation from --seed.") var weights: String?
  @Option(help: "Training inputs: .npy [N, *input_shape] or .csv with a header.") var train: String
  @Option(help: "Training labels/targets (.npy).") var labels: String?
  @Option(help: IndicesOption.help("--train (and of --labels)")) var indices: String?
  @Option(help: "Test inputs (same format as --train).") var test: String?
  @Option(name: .customLong("test-labels"), help: "Test labels/targets (.npy).") var testLabels: String?
  @Option(help: "CSV feature columns, comma-separated (default: every column but --target).") var features: String?
  @OptionGroup var scaling: ScalingOptions
  @Flag(name: .customLong("standardize-target"), help: "Standardise regression targets with the training set's mean and sd (test targets too).")
  var standardizeTarget = false
  @Option(help: "CSV target column(s), comma-separated (instead of --labels).") var target: String?
  @Option(help: "Loss (default: from the labels' dtype).") var loss: Loss?
  @Option(help: "Optimizer.") var optimizer: OptimizerChoice = .adam
  @Option(help: "Learning rate.") var lr: Double = 1e-3
  @Option(help: "Adam β1.") var beta1: Double = 0.9
  @Option(help: "Adam β2.") var beta2: Double = 0.999
  @Option(help: "Adam ε.") var eps: Double = 1e-8
  @Option(name: .customLong("weight-decay"), help: "L2 weight decay added to the Adam gradient.") var weightDecay: Double = 0
  @Option(name: .customLong("batch-size"), help: "Mini-batch size (default: full batch).") var batchSize: Int?
  @Option(help: "Epochs.") var epochs: Int
  @Option(help: "Seed of the initialisation and the shuffles.") var seed: UInt64 = 0
  @Option(help: "Output weights (.safetensors).") var out: String
  @Option(name: .customLong("eval-every"), help: "Evaluate the test set every K epochs (and after the last).") var evalEvery: Int = 1
  @Option(help: "Per-epoch history (.csv).") var history: String?
  @Option(help: DeviceOption.help) var device: DeviceChoice = .auto
  @Flag(help: "Print a JSON summary on stdout.") var json = false

  func validate() throws {
    try usage {
      try ArgumentRules.atLeast(0, epochs, flag: "--epochs")
      try ArgumentRules.learningRate(lr)
      try ArgumentRules.adam(beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay)
      try ArgumentRules.atLeast(1, batchSize, flag: "--batch-size")
      try ArgumentRules.atLeast(1, evalEvery, flag: "--eval-every")
    }
    if evalEvery != 1 && test == nil { throw ValidationError("--eval-every needs --test") }
    if labels == nil && target == nil { throw ValidationError("give the training targets: --labels Y.npy (or --target COLUMN for CSV)") }
    if labels != nil && target != nil { throw ValidationError("give --labels or --target, not both") }
    if target != nil && !train.lowercased().hasSuffix(".csv") { throw ValidationError("--target applies to CSV inputs only") }
    if test == nil && testLabels != nil {
      throw ValidationError("--test-labels needs --test")
    }
    if test != nil && target == nil && testLabels == nil { throw ValidationError("--test needs --test-labels") }
  }

  func run() throws {
    let loaded = try LoadedModel.load(model: model, weights: weights, seed: seed)
    var request = TrainingDataRequest(train: train)
    request.labels = labels
    request.targetColumns = target.map(commaSeparatedList)
    request.features = features.map(commaSeparatedList)
    request.indices = indices
    request.scaling = scaling.library
    request.standardizeTarget = standardizeTarget
    request.test = test
    request.testLabels = testLabels
    request.loss = loss
    let data = try usage { try request.load(for: loaded) }
    let (x, y) = (data.inputs, data.targets)
    let opt = optimizer.make(AdamHyper(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay))
    let dev = try resolveDevice(device)
    let trainer = try Trainer(network: loaded.network, parameters: loaded.parameters, device: dev,
                              capacity: min(batchSize ?? x.rows, x.rows))
    let bar = ProgressBar("ntk train", total: epochs, unit: " epochs")
    let history = try trainer.train(inputs: x, targets: y, epochs: epochs, batchSize: batchSize, optimizer: opt, seed: seed,
                                    test: data.test, evaluateEvery: evalEvery, onEpoch: { bar.update($0.epoch) })
    try trainer.parameters.save(out, network: loaded.network)
    if let path = self.history { try history.writeCSV(path) }
    let finalTrain = history.finalTrainLoss
    if json {
      func num(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
      print(JSONValue.object(provenanceFields(loaded, weights: weights, seed: seed) + [
        ("out", .string(out)), ("loss", .string(y.loss.rawValue)), ("epochs", .number(Double(epochs))),
        ("train_rows", .number(Double(x.rows))), ("indices", indices.map { .string($0) } ?? .null),
        ("eval_every", .number(Double(evalEvery))), ("device", .string(dev.identifier)),
        ("final_train_loss", num(finalTrain)), ("min_test_loss", num(history.minTestLoss)),
        ("min_test_loss_epoch", num(history.minTestLossEpoch.map(Double.init))),
        ("final_test_loss", num(history.finalTestLoss)), ("final_test_accuracy", num(history.finalTestAccuracy)),
        ("seconds", .number(history.seconds)),
      ]).serialized())
    } else {
      print("wrote \(out): \(epochs) epochs of \(y.loss.rawValue) in \(format(history.seconds, "%.3f")) s")
      if let finalTrain { print("final train loss: \(format(finalTrain, "%.6g"))") }
      if let minTest = history.minTestLoss, let at = history.minTestLossEpoch, let final = history.finalTestLoss {
        print("min test loss: \(format(minTest, "%.6g")) (epoch \(at)); final test loss: \(format(final, "%.6g"))")
        if let acc = history.finalTestAccuracy { print("final test accuracy: \(format(acc, "%.4f"))") }
      }
    }
  }
}
