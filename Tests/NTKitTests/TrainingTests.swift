import XCTest
@testable import NTKit

final class TrainingTests: XCTestCase {
  let device = CPUDevice.shared

  func denseNet(_ inputs: Int, _ hidden: [Int], _ outputs: Int, act: Activation = .tanh) throws -> Network {
    var layers: [LayerSpec] = []
    for h in hidden { layers += [.dense(h), .activation(act)] }
    layers.append(.dense(outputs))
    return try Network(spec: ModelSpec(inputShape: [inputs], layers: layers))
  }

  /// A linear model y = x·w + b: one Adam step against a hand computation.
  func testAdamSingleStepMatchesHandComputation() throws {
    let net = try denseNet(2, [], 1)
    // θ = [w0, w1, b]
    let theta: [Float] = [0.5, -0.25, 0.1]
    let x: [Float] = [1, 2, -1, 0.5]
    let t: [Float] = [0.3, -0.7]
    let trainer = try Trainer(network: net, parameters: ModelParameters(values: theta), device: device, capacity: 2)
    let hyper = AdamHyper(learningRate: 0.01)
    _ = try trainer.train(inputs: Tensor(shape: [2, 2], data: x), targets: .values(t), epochs: 1,
                          optimizer: .adam(hyper))
    // Hand: y_i = x_i·w + b; L = Σ(y−t)²/2; g = 2/2 Σ (y−t)·[x, 1].
    var grad = [Double](repeating: 0, count: 3)
    for i in 0..<2 {
      let y = Double(x[2 * i]) * 0.5 + Double(x[2 * i + 1]) * -0.25 + 0.1
      let r = y - Double(t[i])
      grad[0] += r * Double(x[2 * i]); grad[1] += r * Double(x[2 * i + 1]); grad[2] += r
    }
    let got = try trainer.parameters.values
    for k in 0..<3 {
      let m = 0.1 * grad[k], v = 0.001 * grad[k] * grad[k]
      let mHat = m / (1 - 0.9), vHat = v / (1 - 0.999)
      let expected = Double(theta[k]) - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
      XCTAssertEqual(Double(got[k]), expected, accuracy: 1e-6, "parameter \(k)")
    }
  }

  func testSGDStepMatchesGradient() throws {
    let net = try denseNet(2, [], 1)
    let theta: [Float] = [0.5, -0.25, 0.1]
    let trainer = try Trainer(network: net, parameters: ModelParameters(values: theta), device: device, capacity: 1)
    _ = try trainer.train(inputs: Tensor(shape: [1, 2], data: [2, 1]), targets: .values([1]), epochs: 1,
                          optimizer: .sgd(learningRate: 0.1))
    // y = 1 - 0.25 + 0.1 = 0.85, r = -0.15, g = 2r·[2, 1, 1]
    let r = 0.85 - 1.0
    let expected = [0.5 - 0.1 * 2 * r * 2, -0.25 - 0.1 * 2 * r, 0.1 - 0.1 * 2 * r]
    let got = try trainer.parameters.values
    for k in 0..<3 { XCTAssertEqual(Double(got[k]), expected[k], accuracy: 1e-6) }
  }

  func regressionData(_ n: Int, seed: UInt64) -> (Tensor, [Float]) {
    var rng = SeededRandom(seed: seed, stream: "data")
    var x = [Float](), y = [Float]()
    for _ in 0..<n {
      let a = Float(rng.uniform() * 2 - 1), b = Float(rng.uniform() * 2 - 1)
      x += [a, b]
      y.append(sinf(2 * a) + 0.5 * b * b)
    }
    return (Tensor(shape: [n, 2], data: x), y)
  }

  func testTrainingReducesRegressionLoss() throws {
    let net = try denseNet(2, [16, 16], 1)
    let (x, y) = regressionData(64, seed: 1)
    let (tx, ty) = regressionData(32, seed: 2)
    let trainer = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 3), device: device,
                              capacity: 16)
    var seen = 0
    let history = try trainer.train(inputs: x, targets: .values(y), epochs: 200, batchSize: 16,
                                    optimizer: .adam(AdamHyper(learningRate: 1e-2)), seed: 4,
                                    test: (tx, .values(ty))) { _ in seen += 1 }
    XCTAssertEqual(seen, 200)
    XCTAssertEqual(history.epochs.count, 200)
    let first = try XCTUnwrap(history.epochs.first?.trainLoss)
    let last = try XCTUnwrap(history.finalTrainLoss)
    XCTAssertLessThan(last, first * 0.1)
    XCTAssertLessThan(try XCTUnwrap(history.minTestLoss), try XCTUnwrap(history.epochs.first?.testLoss))
    XCTAssertLessThanOrEqual(history.minTestLoss!, history.finalTestLoss!)
    // The recorded test loss is what `evaluate` says.
    let eval = try trainer.evaluate(inputs: tx, targets: .values(ty))
    XCTAssertEqual(eval.loss, history.finalTestLoss!, accuracy: 1e-6)
    XCTAssertNil(eval.accuracy)
    // Full-batch run: same loss recorded before each step as evaluate gives.
    let t2 = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 3), device: device, capacity: 1)
    let before = try t2.evaluate(inputs: x, targets: .values(y)).loss
    let h2 = try t2.train(inputs: x, targets: .values(y), epochs: 3)
    XCTAssertEqual(h2.epochs[0].trainLoss!, before, accuracy: 1e-6 * max(1, before))
    let csv = history.csv()
    XCTAssertTrue(csv.hasPrefix("epoch,train_loss,test_loss,seconds\n1,"))
    XCTAssertEqual(csv.split(separator: "\n").count, 201)
  }

  func testTrainingIsDeterministic() throws {
    let net = try denseNet(2, [8], 1)
    let (x, y) = regressionData(20, seed: 5)
    func run() throws -> [Float] {
      let t = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 1), device: device, capacity: 4)
      _ = try t.train(inputs: x, targets: .values(y), epochs: 5, batchSize: 3, seed: 9)
      return try t.parameters.values
    }
    XCTAssertEqual(try run(), try run())
  }

  /// The cross-entropy parameter gradient (via one SGD step of lr 1) against central differences.
  func testCrossEntropyGradientMatchesFiniteDifferences() throws {
    let net = try denseNet(3, [5], 4)
    let theta = ModelParameters(initializing: net, seed: 11)
    var rng = SeededRandom(seed: 12)
    let n = 6
    let x = Tensor(shape: [n, 3], data: (0..<n * 3).map { _ in Float(rng.normal()) })
    let labels = (0..<n).map { $0 % 4 }
    let trainer = try Trainer(network: net, parameters: theta, device: device, capacity: n)
    _ = try trainer.train(inputs: x, targets: .labels(labels), epochs: 1, optimizer: .sgd(learningRate: 1))
    let after = try trainer.parameters.values
    let analytic = zip(theta.values, after).map { Double($0 - $1) }
    let probe = try Trainer(network: net, parameters: theta, device: device, capacity: n)
    func loss(_ v: [Float]) throws -> Double {
      try probe.setParameters(ModelParameters(values: v))
      return try probe.evaluate(inputs: x, targets: .labels(labels)).loss
    }
    let h: Float = 1e-2
    for k in stride(from: 0, to: net.parameterCount, by: 3) {
      var plus = theta.values, minus = theta.values
      plus[k] += h; minus[k] -= h
      let numeric = (try loss(plus) - loss(minus)) / Double(2 * h)
      XCTAssertEqual(analytic[k], numeric, accuracy: 2e-3, "parameter \(k)")
    }
    let eval = try probe.evaluate(inputs: x, targets: .labels(labels))
    XCTAssertNotNil(eval.accuracy)
  }

  func testClassificationLearnsAndReportsAccuracy() throws {
    let net = try denseNet(2, [16], 2)
    var rng = SeededRandom(seed: 21)
    var data = [Float](), labels = [Int]()
    for i in 0..<80 {
      let c = i % 2
      data += [Float(rng.normal() * 0.3) + (c == 0 ? -1 : 1), Float(rng.normal() * 0.3)]
      labels.append(c)
    }
    let x = Tensor(shape: [80, 2], data: data)
    let t = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 2), device: device, capacity: 80)
    let h = try t.train(inputs: x, targets: .labels(labels), epochs: 100, optimizer: .adam(AdamHyper(learningRate: 1e-2)),
                        test: (x, .labels(labels)))
    XCTAssertGreaterThan(h.finalTestAccuracy!, 0.95)
    XCTAssertLessThan(h.finalTrainLoss!, h.epochs[0].trainLoss!)
    XCTAssertTrue(h.csv().hasPrefix("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"))
  }

  func testBadTrainingInputIsRejected() throws {
    let net = try denseNet(2, [], 2)
    let t = try Trainer(network: net, parameters: ModelParameters(initializing: net, seed: 1), device: device, capacity: 2)
    let x = Tensor(shape: [2, 2], data: [1, 2, 3, 4])
    XCTAssertThrowsError(try t.train(inputs: x, targets: .values([1, 2, 3]), epochs: 1)) {
      XCTAssertTrue("\($0)".contains("4 values"), "\($0)")
    }
    XCTAssertThrowsError(try t.train(inputs: x, targets: .labels([0, 2]), epochs: 1)) {
      XCTAssertTrue("\($0)".contains("out of range"), "\($0)")
    }
    XCTAssertThrowsError(try t.train(inputs: Tensor(shape: [2, 3], data: [Float](repeating: 0, count: 6)),
                                     targets: .values([1, 2, 3, 4]), epochs: 1)) {
      XCTAssertTrue("\($0)".contains("training inputs"), "\($0)")
    }
    XCTAssertThrowsError(try t.train(inputs: Tensor(shape: [2, 2], data: [1, .nan, 3, 4]),
                                     targets: .values([1, 2, 3, 4]), epochs: 1)) {
      XCTAssertTrue("\($0)".contains("non-finite"), "\($0)")
    }
    XCTAssertThrowsError(try Trainer(network: net, parameters: ModelParameters(values: [1]), device: device, capacity: 1))
    XCTAssertThrowsError(try Loss(parsing: "hinge")) { XCTAssertTrue("\($0)".contains("mse, cross_entropy")) }
    XCTAssertEqual(try Loss(parsing: "cross-entropy"), .crossEntropy)
  }
}
