// swift-tools-version: 6.1
import PackageDescription

// MARK: - Products

let package = Package(
  name: "NTKit",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "NTKit", targets: ["NTKit"]),
    .executable(name: "ntk", targets: ["ntk"]),
    // `mpirun -n P ntk-mpi gram|stats|select`: needs OpenMPI and ScaLAPACK; `ntk` and the library do not.
    .executable(name: "ntk-mpi", targets: ["ntk-mpi"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - C libraries (system)
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
    .systemLibrary(
      name: "COpenCL", path: "Sources/COpenCL", pkgConfig: "OpenCL",
      providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),

    // MARK: - Small dense-layer kernels (RND fast path), with per-CPU clones
    .target(
      name: "CFastMLP", path: "Sources/CFastMLP",
      // -Wno-psabi: the baseline clone passes vector types to always-inline helpers only.
      cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno", "-Wno-psabi"])]),

    // MARK: - OpenCL kernel sources, embedded in the binary
    .target(
      name: "NTKitKernels", path: "Kernels",
      exclude: ["README.md"],
      resources: [.embedInCode("cl")]),

    // MARK: - CPU loops in C (vectorised by clang)
    .target(
      name: "CNTKitCPU", path: "Sources/CNTKitCPU",
      cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),

    // MARK: - Library
    .target(
      name: "NTKit",
      dependencies: ["COpenBLAS", "COpenCL", "NTKitKernels", "CNTKitCPU", "CFastMLP"],
      swiftSettings: [
        // Raw device pointers cross threads inside documented parallel loops.
        .swiftLanguageMode(.v5),
        .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
      ]),

    // MARK: - Command-line tool
    .executableTarget(
      name: "ntk",
      dependencies: [
        "NTKit",
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
      name: "NTKitMPI", dependencies: ["NTKit", "CNTKitMPI", "COpenBLAS"], path: "Sources/NTKitMPI",
      swiftSettings: [.swiftLanguageMode(.v5)]),
    .executableTarget(
      name: "ntk-mpi",
      dependencies: [
        "NTKit", "NTKitMPI", "COpenBLAS",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/ntk-mpi",
      swiftSettings: [.swiftLanguageMode(.v5)]),

    // MARK: - Tests
    .testTarget(
      name: "NTKitTests", dependencies: ["NTKit"],
      resources: [.copy("Fixtures")],
      swiftSettings: [.swiftLanguageMode(.v5)]),
    .testTarget(name: "NTKCLITests", dependencies: ["NTKit"], swiftSettings: [.swiftLanguageMode(.v5)]),
    // Runs `mpirun -n P ntk-mpi` against `ntk` (both built by `make test`).
    .testTarget(name: "NTKMPITests", dependencies: ["NTKit"], swiftSettings: [.swiftLanguageMode(.v5)]),
  ]
)
