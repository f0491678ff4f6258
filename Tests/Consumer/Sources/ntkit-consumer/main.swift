// Computes the trace NTK and collective variables of a golden case through
// NTKit's public API and compares them with the float64 reference.
// Usage: ntkit-consumer <golden case folder>
import NTKit

#if canImport(Glibc)
import Glibc
#endif

let folder = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "."
do {
  let model = try LoadedModel.load(model: folder + "/model.json", weights: folder + "/weights.safetensors", seed: nil)
  let inputs = try NPY.read(folder + "/inputs.npy").tensor()
  let reference = try NPY.read(folder + "/ntk_trace.npy").doubles()
  let n = inputs.rows
  var kernel = [Double](repeating: 0, count: n * n)
  _ = try kernel.withUnsafeMutableBufferPointer {
    try NTKGram.compute(network: model.network, parameters: model.parameters, inputs1: inputs,
                        device: CPUDevice.shared, output: $0)
  }
  var difference = 0.0, norm = 0.0
  for (a, b) in zip(kernel, reference) {
    difference += (a - b) * (a - b)
    norm += b * b
  }
  let relative = (difference / max(norm, .leastNormalMagnitude)).squareRoot()
  let cv = try CollectiveVariables.compute(kernel: kernel, n: n)
  print("ntkit-consumer: N = \(n), trace = \(cv.trace), relative error vs golden = \(relative)")
  guard relative < 1e-9 else {
    print("ntkit-consumer: the NTK differs from the golden reference")
    exit(1)
  }
} catch {
  print("ntkit-consumer: \(error)")
  exit(1)
}
