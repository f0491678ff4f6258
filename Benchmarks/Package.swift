// swift-tools-version: 6.1
// The benchmarks live in their own package so that the test path never builds
// ordo-one/benchmark. Run from this folder: `swift package benchmark --no-progress`.
import PackageDescription

let package = Package(
  name: "NTKitBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(name: "NTKit", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "NTKBenchmarks",
      dependencies: [
        .product(name: "NTKit", package: "NTKit"),
        .product(name: "NTKitBench", package: "NTKit"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "NTKBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ]
)
