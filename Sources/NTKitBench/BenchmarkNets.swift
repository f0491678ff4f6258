import NTKit
/// The paper's nets that `ntk bench` times, as in `shared/bench/nt_bench.py`.
public enum BenchmarkNets {
  public struct Case: Sendable {
    public var name: String
    public var spec: ModelSpec
    public var sizes: [Int]
    public var quickSizes: [Int]
  }

  /// Fuel 8→128→128→1, ReLU (the paper's Fuel net; 8 inputs as the issue names).
  public static let fuel = Case(
    name: "fuel", spec: ModelSpec(inputShape: [8], layers: [.dense(128), .activation(.relu), .dense(128), .activation(.relu), .dense(1)]),
    sizes: [1024, 4096, 16384], quickSizes: [256, 1024])

  /// MNIST dense 784→128→128→10, ReLU.
  public static let mnistDense = Case(
    name: "mnist_dense",
    spec: ModelSpec(inputShape: [784], layers: [.dense(128), .activation(.relu), .dense(128), .activation(.relu), .dense(10)]),
    sizes: [1024, 2048, 4096], quickSizes: [128, 256])

  /// The MNIST conv net of the paper's Table A1 (`conv_mnist` in nt_bench.py).
  public static let convMNIST = Case(
    name: "conv_mnist",
    spec: ModelSpec(inputShape: [28, 28, 1], layers: [
      .conv2d(filters: 32, kernel: [3, 3], stride: [1, 1], padding: .valid, bias: true, wStd: 1, bStd: 1),
      .activation(.relu), .avgpool2d(window: [2, 2], stride: [2, 2]),
      .conv2d(filters: 32, kernel: [2, 2], stride: [1, 1], padding: .valid, bias: true, wStd: 1, bStd: 1),
      .activation(.relu), .avgpool2d(window: [2, 2], stride: [2, 2]),
      .flatten, .dense(128), .activation(.relu), .dense(10),
    ]),
    sizes: [512, 2048], quickSizes: [64, 128])

  public static let all = [fuel, mnistDense, convMNIST]
}
