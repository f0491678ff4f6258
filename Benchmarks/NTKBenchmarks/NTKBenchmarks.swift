import Benchmark
import NTKit
import NTKitBench

/// The cases of `ntk bench`, under ordo-one/benchmark: the trace NTK of the
/// paper's nets (CPU device) and the SGEMM rate they are judged against.
/// Sizes are the smaller ones of the issue so that a run stays short; use
/// `ntk bench` for the full table beside neural-tangents.
let benchmarks: @Sendable () -> Void = {
  // Debian's OpenBLAS may pick slow generic kernels here; restart once with
  // the right core type, as `ntk` does (same process, same descriptors).
  BLASCoreSelection.restartWithBetterCoreIfNeeded()
  Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(20), maxIterations: 5)

  Benchmark("sgemm 2048³") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(try NTKBench.sgemm(device: CPUDevice.shared, n: 2048, repeats: 1))
    }
  }

  for (net, n) in [(BenchmarkNets.fuel, 4096), (BenchmarkNets.mnistDense, 2048), (BenchmarkNets.convMNIST, 512)] {
    Benchmark("trace NTK \(net.name) N=\(n)") { benchmark in
      for _ in benchmark.scaledIterations {
        blackHole(try NTKBench.gram(net, n: n, device: CPUDevice.shared))
      }
    }
  }
}
