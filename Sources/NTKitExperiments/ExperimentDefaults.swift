import NTKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The defaults of `ntk experiment correlate|compare` per data set, in one
/// place: epochs, training-set sizes and the model spec file.
public enum ExperimentDefaults {
  /// Training epochs: fuel 500, mnist 30 (your own data: as fuel).
  public static func epochs(_ dataset: ExperimentDataset?) -> Int { dataset == .mnist ? 30 : 500 }

  /// Correlate's training-set sizes: mnist 100…1000, else 10…the pool.
  public static func correlateSizeRange(_ data: ExperimentData) -> ClosedRange<Int> {
    data.name == ExperimentDataset.mnist.rawValue ? 100...1000 : 10...data.pool.rows
  }

  /// Compare's training-set sizes: mnist 50, 100, 200, else 10, 20, 50, 100.
  public static func compareSizes(_ data: ExperimentData) -> [Int] {
    data.name == ExperimentDataset.mnist.rawValue ? [50, 100, 200] : [10, 20, 50, 100]
  }

  /// The model spec of `experiment` on `dataset`: `model` when given, else
  /// `Models/` in the working folder, else `Models/` beside the data folder
  /// (when only that one is readable).
  public static func modelPath(model: String?, dataset: ExperimentDataset, experiment: String,
                               dataDirectory: String) -> String {
    if let model { return model }
    let local = ExperimentData.defaultModelPath(dataset, experiment: experiment)
    let besideData = ExperimentData.defaultModelPath(dataset, experiment: experiment,
                                                     modelsDirectory: dataDirectory + "/../Models")
    return access(local, R_OK) == 0 || access(besideData, R_OK) != 0 ? local : besideData
  }

  /// Parallel runs on `device`: `requested` (default: every core) on the CPU,
  /// one at a time elsewhere, with a warning line when more were asked for.
  public static func jobs(requested: Int?, device: any ComputeDevice) -> (jobs: Int, warning: String?) {
    guard device.info.kind == .cpu else {
      let warning = requested.flatMap { $0 > 1 ? "--jobs \($0) ignored on \(device.identifier): runs go one at a time" : nil }
      return (1, warning)
    }
    return (requested ?? ExperimentRunner.cores, nil)
  }

  /// Refuses a size larger than the pool, naming the data set.
  public static func checkSizes(_ sizes: [Int], fit data: ExperimentData) throws {
    if let big = sizes.first(where: { $0 > data.pool.rows }) {
      throw NTKitError.invalidArgument("size \(big) is larger than the \(data.name) pool (\(data.pool.rows) points)")
    }
  }
}
