import Foundation
import NTKit
import XCTest

/// `mpirun -n P ntk-mpi select` picks exactly what `ntk select` picks (rnd,
/// kcenter, random; P = 1, 2, 4; ranks holding no rows; checkpoint/resume),
/// and every failure — bad input, an I/O error on one rank, Ctrl-C — ends
/// all ranks with one stderr line, the right exit status and no output file.
final class MPISelectFaultTests: XCTestCase {
  var dir = ""
  override func setUp() { dir = MPIHarness.tempDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func picks(_ path: String) throws -> [Int64] { try NPY.read(path).int64s() }

  func testPicksEqualSingleProcess() throws {
    let pool = dir + "/pool.npy"
    try MPIHarness.writeInputs(pool, shape: [1000, 6])
    // --chunk-rows 300: 4 scoring blocks (the last short); 500: 2 blocks, so 2 of 4 ranks hold no rows.
    let cases: [[String]] = [
      ["--method", "rnd", "--chunk-rows", "300"], ["--method", "rnd", "--chunk-rows", "500", "--picks-per-step", "3"],
      ["--method", "rnd", "--distance", "l1", "--train-batch-size", "4", "--chunk-rows", "300"],
      ["--method", "kcenter", "--chunk-rows", "300"], ["--method", "kcenter", "--chunk-rows", "500"],
      ["--method", "random"],
    ]
    for (c, extra) in cases.enumerated() {
      let ref = dir + "/ref\(c).npy"
      let r = try MPIHarness.single(["select", "--pool", pool, "--size", "9", "--seed", "5", "--out", ref] + extra)
      XCTAssertEqual(r.status, 0, r.stderr)
      let expected = try picks(ref)
      XCTAssertEqual(expected.count, 9)
      for p in [1, 2, 4] {
        let out = dir + "/mpi\(c)-\(p).npy"
        let m = try MPIHarness.mpi(p, ["select", "--pool", pool, "--size", "9", "--seed", "5", "--out", out] + extra)
        XCTAssertEqual(m.status, 0, "\(extra) -n \(p): \(m.stderr)")
        XCTAssertEqual(try picks(out), expected, "\(extra) -n \(p)")
        XCTAssertEqual(m.stdout.split(separator: "\n").count, 1, "one summary line, from rank 0")
      }
    }
  }

  func testCheckpointResumeUnderMPI() throws {
    let pool = dir + "/pool.npy", ck = dir + "/ck.json"
    try MPIHarness.writeInputs(pool, shape: [700, 4])
    let args = ["select", "--pool", pool, "--size", "8", "--seed", "2", "--chunk-rows", "200"]
    XCTAssertEqual(try MPIHarness.single(args + ["--out", dir + "/ref.npy"]).status, 0)
    // Stopped after 3 steps on 2 ranks (as Ctrl-C would), resumed on 4.
    let stopped = try MPIHarness.mpi(2, args + ["--out", dir + "/out.npy", "--checkpoint", ck, "--checkpoint-every", "2"],
                                     env: ["NTK_SELECT_TEST_STOP_AFTER": "3"])
    XCTAssertNotEqual(stopped.status, 0)
    XCTAssertTrue(stopped.stderr.contains("interrupted"), stopped.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out.npy"), "no output after an interruption")
    XCTAssertTrue(FileManager.default.fileExists(atPath: ck))
    let resumed = try MPIHarness.mpi(4, args + ["--out", dir + "/out.npy", "--checkpoint", ck, "--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertTrue(resumed.stdout.contains("resumed after 3 steps"), resumed.stdout)
    XCTAssertEqual(try picks(dir + "/out.npy"), try picks(dir + "/ref.npy"))
  }

  /// One line on stderr (rank 0's, mpirun -q adds nothing), the exit status, no output, no temporary file.
  func assertFailure(_ r: MPIHarness.Result, status: Int32, mentions: String, out: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
    let lines = r.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "exactly one stderr line: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(mentions), "\(r.stderr) should mention \(mentions)", file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output file", file: file, line: line)
    let name = URL(fileURLWithPath: out).lastPathComponent
    XCTAssertTrue(MPIHarness.files(dir, prefix: name + ".tmp").isEmpty, "no temporary file", file: file, line: line)
  }

  func testBadInputAndOneRankFailureStopAllRanks() throws {
    let x = dir + "/x.npy", model = dir + "/m.json", out = dir + "/k.npy"
    try MPIHarness.writeInputs(x, shape: [50, 3])
    try MPIHarness.write(#"{"input_shape": [3], "layers": [{"type": "dense", "units": 4}, {"type": "relu"}, {"type": "dense", "units": 1}]}"#, to: model)
    let gram = ["gram", "--model", model, "--inputs", x, "--out", out, "--block-size", "8"]
    assertFailure(try MPIHarness.mpi(2, ["gram", "--model", model, "--inputs", dir + "/missing.npy", "--out", out]),
                  status: 1, mentions: "missing.npy", out: out)
    let wide = dir + "/wide.npy"
    try MPIHarness.writeInputs(wide, shape: [50, 4])
    assertFailure(try MPIHarness.mpi(4, ["gram", "--model", model, "--inputs", wide, "--out", out]), status: 1, mentions: "inputs", out: out)
    // An I/O error on rank 1 only: every rank stops, rank 0 reports it.
    assertFailure(try MPIHarness.mpi(4, gram, env: ["NTKIT_MPI_TEST_FAIL_RANK": "1"]), status: 1, mentions: "rank 1", out: out)
    assertFailure(try MPIHarness.mpi(2, ["gram", "--model", model, "--inputs", x, "--out", dir + "/no/such/dir/k.npy"]),
                  status: 1, mentions: "no/such/dir", out: dir + "/no/such/dir/k.npy")
    // A usage error: exit 2, the message and usage printed once (by rank 0).
    let usage = try MPIHarness.mpi(2, gram + ["--mode", "diagonal"])
    XCTAssertEqual(usage.status, 2, usage.stderr)
    XCTAssertEqual(usage.stderr.components(separatedBy: "'diagonal' is invalid for '--mode").count, 2, usage.stderr)
    XCTAssertTrue(usage.stderr.contains("'trace' and 'full'"), usage.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    // stats: not square; a NaN on the last rank's rows.
    assertFailure(try MPIHarness.mpi(2, ["stats", "--kernel", x]), status: 1, mentions: "square", out: out)
    XCTAssertEqual(try MPIHarness.mpi(2, gram).status, 0)
    var k = try NPY.read(out).floats()
    k[49 * 50 + 7] = .nan
    let bad = dir + "/bad.npy"
    try NPY.write(bad, shape: [50, 50], floats: k, allowingNonFinite: true)
    assertFailure(try MPIHarness.mpi(3, ["stats", "--kernel", bad]), status: 1, mentions: "row 49, column 7", out: dir + "/none")
    // select: a NaN in the pool (on rank 1's rows).
    var pool = try NPY.read(x).floats()
    pool[40 * 3 + 1] = .infinity
    try NPY.write(bad, shape: [50, 3], floats: pool, allowingNonFinite: true)
    assertFailure(try MPIHarness.mpi(2, ["select", "--pool", bad, "--size", "3", "--out", dir + "/p.npy", "--chunk-rows", "10"]),
                  status: 1, mentions: "row 40", out: dir + "/p.npy")
    // --help from rank 0 only.
    let help = try MPIHarness.mpi(2, ["--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertEqual(help.stdout.components(separatedBy: "OVERVIEW:").count, 2, "help printed once")
  }

  func testInterruptStopsEveryRankCleanly() throws {
    let x = dir + "/x.npy", model = dir + "/m.json", out = dir + "/k.npy"
    try MPIHarness.writeInputs(x, shape: [6000, 7])
    try MPIHarness.write(#"{"input_shape": [7], "layers": [{"type": "dense", "units": 1024}, {"type": "relu"}, {"type": "dense", "units": 1024}, {"type": "relu"}, {"type": "dense", "units": 1}]}"#, to: model)
    // Wide enough that the computation outlasts the signal's way through mpirun on a fast CPU (~10 s on 2 EPYC cores).
    let started = try MPIHarness.start(MPIHarness.mpirun, ["-q", "-n", "2", "--oversubscribe", MPIHarness.ntkMPI, "gram",
                                                          "--model", model, "--inputs", x, "--out", out, "--block-size", "256"])
    // Wait until the ranks are writing (the temporary file exists), then Ctrl-C mpirun.
    let deadline = Date().addingTimeInterval(60)
    while MPIHarness.files(dir, prefix: "k.npy.tmp").isEmpty && started.0.isRunning && Date() < deadline { usleep(20_000) }
    XCTAssertTrue(started.0.isRunning, "the job should still be running when interrupted")
    kill(started.0.processIdentifier, SIGINT)
    let t0 = Date()
    let r = MPIHarness.finish(started)
    XCTAssertLessThan(Date().timeIntervalSince(t0), 30, "ranks stop promptly, no hang")
    XCTAssertNotEqual(r.status, 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output file after Ctrl-C")
    XCTAssertTrue(MPIHarness.files(dir, prefix: "k.npy.tmp").isEmpty, "temporary file removed")
  }
}
