import Foundation
import NTKit
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The fault-injection suite of issue 16, through the real `ntk` binary:
/// outputs that collide with inputs or each other, devices, FIFOs and planted
/// symlinks, SIGINT/SIGTERM/SIGHUP/SIGKILL at each phase of gram, train,
/// select and stats (`NTK_TEST_PAUSE`), a pool truncated mid-run, a full disk
/// (a small tmpfs, root only) and overflowing inputs. Every case must end as
/// the README's reliability table says: the right exit status, one line, and
/// no output or temporary file left behind.
final class FaultInjectionTests: XCTestCase {
  var dir = ""
  var mounted: [String] = []

  override func setUpWithError() throws {
    // NTKBinary.run fails the test (never skips) when the binary is missing.
    dir = NTKBinary.tempDirectory()
    // A small dense net (7 → 8 → 1) and 40 samples of 7 features.
    try #"{"input_shape": [7], "layers": [{"type": "dense", "units": 8}, {"type": "relu"}, {"type": "dense", "units": 1}]}"#
      .write(toFile: path("m.json"), atomically: true, encoding: .utf8)
    var x = [Float](), y = [Float]()
    for i in 0..<40 {
      for j in 0..<7 { x.append(Float(sin(Double(i * 7 + j)))) }
      y.append(Float(cos(Double(i))))
    }
    try NPY.write(path("x.npy"), shape: [40, 7], floats: x)
    try NPY.write(path("y.npy"), shape: [40, 1], floats: y)
    var csv = "a,b,c\n"
    for i in 0..<20 { csv += "\(i),\(Double(i * i) * 0.5),\(100 - i)\n" }
    try csv.write(toFile: path("t.csv"), atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws {
    for m in mounted { _ = shell("/bin/umount", [m]) }
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  func path(_ name: String) -> String { dir + "/" + name }

  /// Runs a system tool; its exit status.
  @discardableResult
  func shell(_ tool: String, _ args: [String]) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
  }
  func exists(_ p: String) -> Bool { var s = stat(); return lstat(p, &s) == 0 }
  func bytes(_ p: String) -> Data? { FileManager.default.contents(atPath: p) }
  /// Files of the commit layer left in `dir` (or `folder`).
  func temporaries(_ folder: String? = nil) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder ?? dir)) ?? []).filter { $0.hasPrefix(".ntk-") }
  }

  func ntk(_ args: [String], env: [String: String] = [:]) throws -> NTKBinary.Result {
    try NTKBinary.run(args, environment: env)
  }

  /// Exit status, one error line naming `contains`, nothing on stdout.
  func assertFails(_ r: NTKBinary.Result, status: Int32, _ contains: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, status, "stderr: \(r.stderr)", file: file, line: line)
    XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
    for c in contains { XCTAssertTrue(r.stderr.contains(c), "expected '\(c)' in: \(r.stderr)", file: file, line: line) }
    if status == 1 {
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
      XCTAssertEqual(r.stdout, "", file: file, line: line)
    }
  }

  var gram: [String] { ["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("x.npy"), "--device", "cpu"] }
  var train: [String] {
    ["train", "--model", path("m.json"), "--train", path("x.npy"), "--labels", path("y.npy"), "--epochs", "3", "--device", "cpu"]
  }
  var select: [String] { ["select", "--pool", path("x.npy"), "--size", "5", "--epochs", "2"] }

  // MARK: - Collisions: exit 2, the input untouched

  /// OpenBLAS and LAPACKE are loaded on first use (CNTKitBLAS): a command
  /// that needs one that cannot be loaded (here NTKIT_OPENBLAS_LIBRARY /
  /// NTKIT_LAPACKE_LIBRARY name missing files) fails with one line naming the
  /// library and the package to install, and writes nothing; `ntk select` on
  /// the fused RND path and `ntk --version` never load them, so they succeed.
  func testMissingOpenBLASOrLAPACKEIsOneErrorNamingTheLibrary() throws {
    let n = 6
    var k = [Float](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { k[i * n + j] = Float(1 + (i == j ? n : 0)) } }
    try NPY.write(path("k.npy"), shape: [n, n], floats: k)
    let noBLAS = ["NTKIT_OPENBLAS_LIBRARY": path("missing-libopenblas.so.0")]
    let noLAPACKE = ["NTKIT_LAPACKE_LIBRARY": path("missing-liblapacke.so.3")]
    assertFails(try ntk(["stats", "--kernel", path("k.npy"), "--spectrum", path("s.npy")], env: noBLAS), status: 1,
                ["missing-libopenblas.so.0", "apt-get install libopenblas0"])
    assertFails(try ntk(["stats", "--kernel", path("k.npy"), "--spectrum", path("s.npy")], env: noLAPACKE), status: 1,
                ["missing-liblapacke.so.3", "apt-get install liblapacke"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.npy")))
    let env = noBLAS.merging(noLAPACKE) { a, _ in a }
    let picked = try ntk(select + ["--out", path("picks.npy")], env: env)
    XCTAssertEqual(picked.status, 0, picked.stderr)
    XCTAssertEqual(try ntk(["--version"], env: env).status, 0)
    XCTAssertEqual(try ntk(["stats", "--kernel", path("k.npy"), "--spectrum", path("s.npy")]).status, 0)
  }

  func testOutputsThatAreInputsOrEachOtherAreRefused() throws {
    let x = bytes(path("x.npy"))
    let cases: [[String]] = [
      gram + ["--out", path("x.npy")],
      gram + ["--out", path("m.json")],
      ["train", "--model", path("m.json"), "--train", path("x.npy"), "--labels", path("y.npy"), "--epochs", "1", "--out", path("y.npy")],
      train + ["--out", path("w.st"), "--history", path("w.st")],
      select + ["--out", path("x.npy")],
      select + ["--out", path("p.npy"), "--report", path("p.npy")],
      select + ["--out", path("p.npy"), "--checkpoint", path("p.npy")],
      ["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("t.csv"), "--standardize", "--save-scaler", path("t.csv"), "--out", path("k.npy")],
      ["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("t.csv"), "--standardize", "--save-scaler", path("k.npy"), "--out", path("k.npy")],
    ]
    for args in cases {
      let r = try ntk(args)
      assertFails(r, status: 2, ["same file"])
    }
    XCTAssertEqual(bytes(path("x.npy")), x)
    XCTAssertFalse(exists(path("w.st")) || exists(path("p.npy")) || exists(path("k.npy")))
    // A hard link and a symlink to the input are the same file too.
    XCTAssertEqual(link(path("x.npy"), path("hard.npy")), 0)
    XCTAssertEqual(symlink(path("x.npy"), path("soft.npy")), 0)
    assertFails(try ntk(gram + ["--out", path("hard.npy")]), status: 2, ["same file"])
    assertFails(try ntk(gram + ["--out", path("soft.npy")]), status: 2, ["same file"])
    // stats --spectrum onto its kernel.
    XCTAssertEqual(try ntk(gram + ["--out", path("k.npy")]).status, 0)
    let k = bytes(path("k.npy"))
    assertFails(try ntk(["stats", "--kernel", path("k.npy"), "--spectrum", path("k.npy")]), status: 2, ["same file"])
    XCTAssertEqual(bytes(path("k.npy")), k)
    // train --weights w --out w continues training in place: allowed.
    XCTAssertEqual(try ntk(["init", "--model", path("m.json"), "--out", path("w.st")]).status, 0)
    let r = try ntk(train + ["--weights", path("w.st"), "--out", path("w.st")])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(temporaries(), [])
  }

  // MARK: - Devices, FIFOs, symlinks, long names

  func testDevicesAreWrittenDirectlyAndFIFOsRefused() throws {
    let r = try ntk(gram + ["--out", "/dev/null"])
    XCTAssertEqual(r.status, 0, r.stderr)
    var info = stat()
    XCTAssertEqual(stat("/dev/null", &info), 0)
    XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null must stay a device")
    // Several outputs may all be discarded in /dev/null.
    XCTAssertEqual(try ntk(train + ["--out", "/dev/null", "--history", "/dev/null"]).status, 0)
    // A full device: the failed write is an error, not "wrote".
    assertFails(try ntk(gram + ["--out", "/dev/full"]), status: 1, ["/dev/full", "No space left"])
    // A FIFO as output or input: refused at once, never blocking.
    XCTAssertEqual(mkfifo(path("fifo"), 0o644), 0)
    let t0 = Date()
    assertFails(try ntk(gram + ["--out", path("fifo")]), status: 1, ["FIFO"])
    assertFails(try ntk(["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("fifo"), "--out", path("k.npy")]),
                status: 1, ["fifo", "regular file"])
    assertFails(try ntk(["gram", "--model", path("fifo"), "--seed", "0", "--inputs", path("x.npy"), "--out", path("k.npy")]),
                status: 1, ["fifo"])
    XCTAssertLessThan(Date().timeIntervalSince(t0), 30)
    XCTAssertEqual(lstat(path("fifo"), &info), 0)
    XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO)
    // A device node made with mknod (root only) stays a device.
    if getuid() == 0 {
      XCTAssertEqual(mknod(path("null"), S_IFCHR | 0o666, dev_t((1 << 8) | 3)), 0)
      XCTAssertEqual(try ntk(gram + ["--out", path("null")]).status, 0)
      XCTAssertEqual(lstat(path("null"), &info), 0)
      XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR)
    } else {
      print("FaultInjectionTests: mknod case skipped (needs root)")
    }
    XCTAssertEqual(temporaries(), [])
  }

  func testPlantedSymlinksAreNeverFollowed() throws {
    try "precious".write(toFile: path("victim"), atomically: true, encoding: .utf8)
    // Temporary names of the old scheme, and of the new one for a dead process.
    for name in ["k.npy.tmp-1", ".ntk-999999-0123456789abcdef.tmp"] {
      XCTAssertEqual(symlink(path("victim"), path(name)), 0)
    }
    for pid in 1...64 { _ = symlink(path("victim"), path("k.npy.tmp-\(getpid() + Int32(pid))")) }
    XCTAssertEqual(try ntk(gram + ["--out", path("k.npy")]).status, 0)
    XCTAssertEqual(try String(contentsOfFile: path("victim"), encoding: .utf8), "precious")
    // The sweep removes only regular files: the planted symlink stays a symlink.
    var info = stat()
    XCTAssertEqual(lstat(path(".ntk-999999-0123456789abcdef.tmp"), &info), 0)
    XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK)
  }

  func testLongOutputNamesWork() throws {
    for length in [245, 250, 255] {
      let name = String(repeating: "n", count: length - 4) + ".npy"
      let r = try ntk(gram + ["--out", path(name)])
      XCTAssertEqual(r.status, 0, "\(length): \(r.stderr)")
      XCTAssertTrue(exists(path(name)))
    }
  }

  // MARK: - Signals at each phase

  /// Starts `ntk args` paused at `phase`, sends `signals` once it says so,
  /// and returns its exit status (or -signal when killed) and stderr.
  func interrupt(_ args: [String], at phase: String, with signals: [Int32], extraEnv: [String: String] = [:],
                 file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: NTKBinary.path)
    process.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["NTK_TEST_PAUSE"] = phase
    for (k, v) in extraEnv { env[k] = v }
    process.environment = env
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    var text = ""
    let deadline = Date().addingTimeInterval(120)
    while !text.contains("test pause at \(phase)") && Date() < deadline {
      let chunk = err.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    XCTAssertTrue(text.contains("test pause at \(phase)"), "never reached \(phase): \(text)", file: file, line: line)
    for s in signals {
      kill(process.processIdentifier, s)
      usleep(50_000)
    }
    text += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    return (status, text)
  }

  func testSignalsAtEachPhaseLeaveNothing() throws {
    XCTAssertEqual(try ntk(gram + ["--out", path("k.npy")]).status, 0)
    let commands: [(String, [String], [String])] = [
      ("gram", gram + ["--out", path("o.npy")], ["o.npy"]),
      ("train", train + ["--out", path("o.st"), "--history", path("o.csv")], ["o.st", "o.csv"]),
      ("select", select + ["--out", path("o.npy"), "--report", path("o.json")], ["o.npy", "o.json"]),
      ("stats", ["stats", "--kernel", path("k.npy"), "--method", "lanczos", "--top-k", "4", "--spectrum", path("o.npy")], ["o.npy"]),
    ]
    for (name, args, outputs) in commands {
      for phase in ["compute", "staged", "commit"] {
        for signal in [SIGINT, SIGTERM, SIGHUP] {
          let r = try interrupt(args, at: phase, with: [signal])
          XCTAssertEqual(r.status, 130, "\(name) at \(phase), signal \(signal): \(r.stderr)")
          for o in outputs { XCTAssertFalse(exists(path(o)), "\(name) at \(phase), signal \(signal) left \(o)") }
          XCTAssertEqual(temporaries(), [], "\(name) at \(phase), signal \(signal)")
        }
      }
      // A second SIGINT ends it at once, also removing the temporaries.
      let twice = try interrupt(args, at: "staged", with: [SIGINT, SIGINT])
      XCTAssertEqual(twice.status, 130, "\(name): \(twice.stderr)")
      XCTAssertEqual(temporaries(), [], name)
      // SIGKILL cannot be caught: no output, at most a temporary, swept by the next run.
      let killed = try interrupt(args, at: "staged", with: [SIGKILL])
      XCTAssertEqual(killed.status, -SIGKILL, name)
      for o in outputs { XCTAssertFalse(exists(path(o)), "\(name) killed left \(o)") }
      let next = try ntk(args)
      XCTAssertEqual(next.status, 0, next.stderr)
      XCTAssertEqual(temporaries(), [], "\(name): the next run sweeps what SIGKILL left")
      for o in outputs { unlink(path(o)) }
    }
  }

  func testSignalDuringLAPACKEndsPromptly() throws {
    XCTAssertEqual(try ntk(gram + ["--out", path("k.npy")]).status, 0)
    for signal in [SIGINT, SIGTERM] {
      let t0 = Date()
      let r = try interrupt(["stats", "--kernel", path("k.npy"), "--method", "exact", "--spectrum", path("s.npy")],
                            at: "lapack", with: [signal])
      XCTAssertEqual(r.status, 130, r.stderr)
      XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
      XCTAssertFalse(exists(path("s.npy")))
    }
  }

  // MARK: - Files changed under the run

  func testPoolTruncatedMidRunIsAnErrorNamingIt() throws {
    var pool = [Float]()
    for i in 0..<(5000 * 7) { pool.append(Float(sin(Double(i)))) }
    try NPY.write(path("pool.npy"), shape: [5000, 7], floats: pool)
    let args = ["select", "--pool", path("pool.npy"), "--size", "3", "--epochs", "1", "--out", path("p.npy")]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: NTKBinary.path)
    process.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["NTK_TEST_PAUSE"] = "compute"
    env["NTK_TEST_PAUSE_SECONDS"] = "3"
    process.environment = env
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    var text = ""
    while !text.contains("test pause at compute") {
      let chunk = err.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    XCTAssertEqual(truncate(path("pool.npy"), 4096), 0)
    text += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit, "a bus error is not an exit: \(text)")
    XCTAssertEqual(process.terminationStatus, 1, text)
    XCTAssertTrue(text.contains("pool.npy") && text.contains("changed"), text)
    XCTAssertFalse(exists(path("p.npy")))
  }

  // MARK: - Full disk

  /// A fresh tmpfs of `size` (root only), or nil with a visible message.
  func smallDisk(_ size: String) -> String? {
    guard getuid() == 0 else {
      print("FaultInjectionTests: full-disk cases skipped (mounting a tmpfs needs root)")
      return nil
    }
    let m = path("disk-\(size)")
    mkdir(m, 0o755)
    guard shell("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", m]) == 0 else {
      print("FaultInjectionTests: full-disk cases skipped (mount -t tmpfs failed)")
      return nil
    }
    mounted.append(m)
    return m
  }

  func testFullDiskFailsAndLeavesNothing() throws {
    guard let disk = smallDisk("8k") else { return }
    // gram's 40 × 40 kernel (6.5 kB) fits; a 200 × 200 one (160 kB) does not.
    var x = [Float]()
    for i in 0..<(200 * 7) { x.append(Float(cos(Double(i)))) }
    try NPY.write(path("x200.npy"), shape: [200, 7], floats: x)
    let r = try ntk(["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("x200.npy"), "--out", disk + "/k.npy"])
    assertFails(r, status: 1, ["k.npy", "disk is full"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk), [])
    // train: the weights fit, the history does not; neither is left.
    let t = try ntk(train.map { $0 == "3" ? "2000" : $0 } + ["--out", disk + "/w.st", "--history", disk + "/h.csv"])
    assertFails(t, status: 1, ["h.csv"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk), [])
  }

  // MARK: - Numbers

  func testOverflowingNumbersAreRefusedWithAHint() throws {
    var x = [Float]()
    for i in 0..<(10 * 7) { x.append(Float(sin(Double(i))) * 1e20) }
    try NPY.write(path("huge.npy"), shape: [10, 7], floats: x)
    let g = try ntk(["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("huge.npy"), "--device", "cpu", "--out", path("k.npy")])
    assertFails(g, status: 1, ["k.npy", "--precision f64"])
    XCTAssertFalse(exists(path("k.npy")))
    // 3e38 inputs overflow x·W to ±Inf, Inf − Inf is NaN, and ReLU no longer hides it as 0.
    try NPY.write(path("max.npy"), shape: [10, 7], floats: x.map { $0 > 0 ? 3e38 : -3e38 })
    for command in ["forward", "jacobian", "gram"] {
      let f = try ntk([command, "--model", path("m.json"), "--seed", "0", "--inputs", path("max.npy"), "--device", "cpu", "--out", path("f.npy")])
      assertFails(f, status: 1, ["f.npy", "non-finite"])
      XCTAssertFalse(exists(path("f.npy")))
    }
    // w_std 1e300 (inf as float32) and a scaler std of 1e-300.
    try #"{"input_shape": [7], "parameterization": "ntk", "layers": [{"type": "dense", "units": 8, "w_std": 1e300}, {"type": "relu"}, {"type": "dense", "units": 1}]}"#
      .write(toFile: path("wstd.json"), atomically: true, encoding: .utf8)
    assertFails(try ntk(["gram", "--model", path("wstd.json"), "--seed", "0", "--inputs", path("x.npy"), "--device", "cpu", "--out", path("k.npy")]),
                status: 1, ["k.npy", "non-finite"])
    try #"{"columns": [], "mean": [0, 0, 0, 0, 0, 0, 0], "std": [1e-300, 1, 1, 1, 1, 1, 1]}"#.write(toFile: path("sc.json"), atomically: true, encoding: .utf8)
    assertFails(try ntk(["gram", "--model", path("m.json"), "--seed", "0", "--inputs", path("x.npy"), "--scaler", path("sc.json"), "--device", "cpu", "--out", path("k.npy")]),
                status: 1, ["k.npy", "non-finite"])
    XCTAssertFalse(exists(path("k.npy")))
    // lp with a tiny p overflows: an error, nothing picked by index order.
    let s = try ntk(select + ["--distance", "lp:1e-30", "--generic", "--out", path("p.npy")])
    assertFails(s, status: 1, ["distance"])
    XCTAssertFalse(exists(path("p.npy")))
    // lp with a huge p is the L∞ distance, not 0 for every point (which picked 0, 1, 2, …).
    let big = try ntk(select + ["--distance", "lp:1e300", "--generic", "--out", path("p.npy")])
    XCTAssertEqual(big.status, 0, big.stderr)
    XCTAssertNotEqual(try NPY.read(path("p.npy")).int64s(), [0, 1, 2, 3, 4])
    unlink(path("p.npy"))
    let lr = try ntk(select + ["--lr", "1e30", "--epochs", "20", "--out", path("p.npy")])
    assertFails(lr, status: 1, [])
    XCTAssertFalse(exists(path("p.npy")))
  }

  func testHugeSizesAreOneLineNotATrap() throws {
    let specs = [
      #"{"input_shape": [7], "layers": [{"type": "dense", "units": 1000000000}, {"type": "dense", "units": 1}]}"#,
      #"{"input_shape": [1000000000000000], "layers": [{"type": "dense", "units": 1}]}"#,
      #"{"input_shape": [28, 28, 1], "layers": [{"type": "conv2d", "filters": 1000000000, "kernel": [3, 3]}, {"type": "flatten"}, {"type": "dense", "units": 1}]}"#,
    ]
    try NPY.write(path("w0.npy"), shape: [1], floats: [0])
    for (i, spec) in specs.enumerated() {
      try spec.write(toFile: path("big\(i).json"), atomically: true, encoding: .utf8)
      assertFails(try ntk(["init", "--model", path("big\(i).json"), "--out", path("w.st")]), status: 1, ["big\(i).json", "needs"])
      assertFails(try ntk(["gram", "--model", path("big\(i).json"), "--weights", path("x.npy"), "--inputs", path("x.npy"), "--out", path("k.npy")]),
                  status: 1, ["big\(i).json"])
    }
    assertFails(try ntk(["bench", "--device", "cpu", "--gemm-size", "1000000"]), status: 1, ["--gemm-size", "needs"])
    assertFails(try ntk(["bench", "--device", "cpu", "--gemm-size", "64", "--nets", "fuel", "--sizes", "100000000"]), status: 1, ["--sizes", "needs"])
  }

  func testTwoHundredThousandLayersFinishQuickly() throws {
    var layers = [#"{"type": "dense", "units": 4}"#]
    layers += Array(repeating: #"{"type": "relu"}"#, count: 200_001)
    layers.append(#"{"type": "dense", "units": 1}"#)
    try (#"{"input_shape": [7], "layers": ["# + layers.joined(separator: ",") + "]}").write(toFile: path("deep.json"), atomically: true, encoding: .utf8)
    let t0 = Date()
    let r = try ntk(["gram", "--model", path("deep.json"), "--seed", "0", "--inputs", path("x.npy"), "--device", "cpu", "--out", path("k.npy")])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(t0), 60, "linear in the layer count")
  }

  func testStrictInputs() throws {
    // stats refuses a |u1 kernel.
    try NPY.write(path("u.npy"), shape: [2, 2], uint8s: [1, 2, 2, 1])
    assertFails(try ntk(["stats", "--kernel", path("u.npy")]), status: 1, ["u.npy", "|u1"])
    // A scaler names its columns; inputs without one of them are refused.
    try #"{"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}"#.write(toFile: path("m2.json"), atomically: true, encoding: .utf8)
    XCTAssertEqual(try ntk(["gram", "--model", path("m2.json"), "--seed", "0", "--inputs", path("t.csv"), "--features", "a,b",
                            "--standardize", "--save-scaler", path("s.json"), "--out", path("k0.npy")]).status, 0)
    assertFails(try ntk(["gram", "--model", path("m2.json"), "--seed", "0", "--inputs", path("t.csv"), "--features", "a,c",
                         "--scaler", path("s.json"), "--out", path("k.npy")]), status: 1, ["s.json", "column 'c'"])
    // The same scaler applied to b,a matches by name: the same kernel as a,b with the columns' weights swapped is
    // not checkable here, but b,a must standardise b with b's statistics: compare against a,b on a symmetric net.
    XCTAssertEqual(try ntk(["gram", "--model", path("m2.json"), "--seed", "0", "--inputs", path("t.csv"), "--features", "a,b",
                            "--scaler", path("s.json"), "--out", path("ab.npy")]).status, 0)
    XCTAssertEqual(try ntk(["gram", "--model", path("m2.json"), "--seed", "0", "--inputs", path("t.csv"), "--features", "b,a",
                            "--scaler", path("s.json"), "--out", path("ba.npy")]).status, 0)
    // A linear net's trace NTK is X Xᵀ + 1 (standard parameterisation): order-independent.
    let ab = try NPY.read(path("ab.npy")).floats(), ba = try NPY.read(path("ba.npy")).floats()
    for (p, q) in zip(ab, ba) { XCTAssertEqual(p, q, accuracy: 1e-4 * max(1, abs(p))) }
  }

  func testCheckpointsAreValidated() throws {
    let ck = path("ck.json")
    let base = select + ["--size", "6", "--checkpoint", ck, "--checkpoint-every", "1", "--out", path("p.npy")]
    let stopped = try ntk(base, env: ["NTK_SELECT_TEST_STOP_AFTER": "2"])
    XCTAssertEqual(stopped.status, 130, stopped.stderr)
    let good = try String(contentsOfFile: ck, encoding: .utf8)
    func resume(_ text: String) throws -> NTKBinary.Result {
      try text.write(toFile: ck, atomically: true, encoding: .utf8)
      return try ntk(base + ["--resume"])
    }
    assertFails(try resume(good.replacingOccurrences(of: #""version":1"#, with: #""version":7"#)), status: 1, ["ck.json", "version 7"])
    let noPredictor = good.replacingOccurrences(of: #","predictor":\[[^\]]*\]"#, with: "", options: .regularExpression)
    XCTAssertNotEqual(noPredictor, good)
    assertFails(try resume(noPredictor), status: 1, ["ck.json", "predictor"])
    let noSteps = good.replacingOccurrences(of: #""steps":\[.*\],"predictor""#, with: #""steps":[],"predictor""#, options: .regularExpression)
    XCTAssertNotEqual(noSteps, good)
    assertFails(try resume(noSteps), status: 1, ["ck.json"])
    XCTAssertFalse(exists(path("p.npy")))
    let ok = try resume(good)
    XCTAssertEqual(ok.status, 0, ok.stderr)
  }
}
