// swift-tools-version: 6.1
import PackageDescription

// MARK: - Products

let package = Package(
  name: "NTKit",
  platforms: [.macOS(.v13)],
  products: [
    // The engine: models, devices, NTK, spectrum, training, selection (re-exports NTKitIO).
    .library(name: "NTKit", targets: ["NTKit"]),
    // File formats alone: npy (and memory-mapped pools), safetensors, CSV, JSON, scalers, atomic outputs.
    .library(name: "NTKitIO", targets: ["NTKitIO"]),
    // The paper's experiments (correlate, compare, demo) with CSV/JSON/SVG outputs.
    .library(name: "NTKitExperiments", targets: ["NTKitExperiments"]),
    // Throughput benchmarks (NTK, RND, GEMM) and device peak estimates.
    .library(name: "NTKitBench", targets: ["NTKitBench"]),
    .executable(name: "ntk", targets: ["ntk"]),
    // `mpirun -n P ntk-mpi gram|stats|select`: needs OpenMPI and ScaLAPACK; `ntk` and the library do not.
    .executable(name: "ntk-mpi", targets: ["ntk-mpi"]),
    // The C ABI for in-process callers (the Python package `python/ntkit`).
    .library(name: "ntkit_c", type: .dynamic, targets: ["NTKitC"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - C libraries (system)
    // CBLAS and LAPACKE headers only: nothing links OpenBLAS or LAPACKE (and
    // no pkgConfig, whose libraries SwiftPM would link). CNTKitBLAS loads them
    // on first use, so that `ntk`, libntkit_c.so and consumer packages start
    // without them.
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
    .systemLibrary(
      name: "COpenCL", path: "Sources/COpenCL", pkgConfig: "OpenCL",
      providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),

    // MARK: - Small dense-layer kernels (RND fast path), one copy per instruction set (NTKIT_ISA)
    // Floating-point contraction and warnings are set in the C sources
    // (#pragma clang fp contract, #pragma clang diagnostic): no unsafe flags,
    // so that other packages can depend on NTKit by version.
    .target(name: "CFastMLP", dependencies: ["CNTKitCPU"], path: "Sources/CFastMLP"),

    // MARK: - OpenCL kernel sources, embedded in the binary
    .target(
      name: "NTKitKernels", path: "Kernels",
      exclude: ["README.md"],
      resources: [.embedInCode("cl")]),

    // MARK: - OpenBLAS and LAPACKE, dlopen()ed on first use (ntk_cblas_*, ntk_LAPACKE_*)
    .target(name: "CNTKitBLAS", dependencies: ["COpenBLAS"], path: "Sources/CNTKitBLAS"),

    // MARK: - CPU loops in C (vectorised by clang)
    .target(name: "CNTKitCPU", path: "Sources/CNTKitCPU"),

    // MARK: - Signal handling and guarded reads in C (async-signal-safe parts of the output-commit layer)
    .target(name: "CNTKitSafety", path: "Sources/CNTKitSafety"),

    // MARK: - File formats (no BLAS, no OpenCL)
    .target(name: "NTKitIO", dependencies: ["CNTKitSafety"], swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - Library
    .target(
      name: "NTKit",
      dependencies: ["NTKitIO", "CNTKitBLAS", "COpenCL", "NTKitKernels", "CNTKitCPU", "CFastMLP", "CNTKitSafety"],
      // Raw device pointers cross threads inside documented parallel loops.
      swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - Experiments and benchmarks, on top of the engine
    .target(name: "NTKitExperiments", dependencies: ["NTKit"], swiftSettings: [.swiftLanguageMode(.v5)]),
    .target(name: "NTKitBench", dependencies: ["NTKit", "CNTKitCPU"], swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - C ABI (libntkit_c.so): @_cdecl functions over the library, no CLI logic
    .target(
      name: "NTKitC", dependencies: ["NTKit"], path: "Sources/NTKitC",
      swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - Command-line tool
    .executableTarget(
      name: "ntk",
      dependencies: [
        "NTKit", "NTKitExperiments", "NTKitBench",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - MPI command-line tool (OpenMPI + ScaLAPACK; only ntk-mpi depends on these)
    .systemLibrary(
      name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
      providers: [.apt(["libopenmpi-dev", "openmpi-bin", "libscalapack-openmpi-dev"])]),
    .target(
      name: "CNTKitMPI", dependencies: ["CMPI"], path: "Sources/CNTKitMPI",
      linkerSettings: [.linkedLibrary("scalapack-openmpi")]),
    // Distributed gram/stats/select over MPI (the logic; ntk-mpi only parses and prints).
    .target(
      name: "NTKitMPI", dependencies: ["NTKit", "CNTKitMPI", "CNTKitBLAS"], path: "Sources/NTKitMPI",
      swiftSettings: [.swiftLanguageMode(.v5)]),
    .executableTarget(
      name: "ntk-mpi",
      dependencies: [
        "NTKit", "NTKitMPI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/ntk-mpi",
      swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - Tests
    .testTarget(
      name: "NTKitTests", dependencies: ["NTKit", "NTKitIO", "NTKitExperiments", "NTKitBench"],
      resources: [.copy("Fixtures")],
      swiftSettings: [.swiftLanguageMode(.v5)]),
    .testTarget(name: "NTKCLITests", dependencies: ["NTKit", "ntk"], swiftSettings: [.swiftLanguageMode(.v5)]),
    // Runs `mpirun -n P ntk-mpi` against `ntk` (both built beside the test bundle).
    .testTarget(name: "NTKMPITests", dependencies: ["NTKit", "ntk", "ntk-mpi"], swiftSettings: [.swiftLanguageMode(.v5)]),
  ]
)
