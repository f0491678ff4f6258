// libFuzzer target for NTKit's parsers (issue 16): npy, safetensors, model
// spec JSON and CSV. Built by scripts/fuzz.sh with `swiftc -sanitize=fuzzer`
// against an instrumented NTKit; the parser is chosen by NTK_FUZZ_TARGET.
// Every input goes through the same entry point the CLI uses (a path), via a
// scratch file in /dev/shm, so the checks on sizes and offsets are exercised
// exactly as for a file on disk. Any thrown NTKitError is a correct refusal;
// a crash, trap, hang or sanitizer report is a finding.
import NTKit

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String {
  case npy, safetensors, spec, csv
}

nonisolated(unsafe) var target: FuzzTarget = {
  guard let raw = getenv("NTK_FUZZ_TARGET"), let t = FuzzTarget(rawValue: String(cString: raw)) else {
    fputs("set NTK_FUZZ_TARGET to npy, safetensors, spec or csv\n", stderr)
    exit(2)
  }
  return t
}()

nonisolated(unsafe) var scratchPath = ""
nonisolated(unsafe) var scratch: Int32 = -1

/// The input as a regular file (in /dev/shm when there is one); its path.
func fileHolding(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
  if scratch < 0 {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    scratchPath = "\(base)/ntk-fuzz-\(getpid()).input"
    scratch = open(scratchPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    if scratch < 0 { abort() }
    atexit { unlink(scratchPath) }
  }
  if ftruncate(scratch, off_t(size)) != 0 { abort() }
  var done = 0
  while done < size {
    let n = pwrite(scratch, data + done, size - done, off_t(done))
    if n <= 0 { abort() }
    done += n
  }
  return scratchPath
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let path = fileHolding(data, size)
  do {
    switch target {
    case .npy:
      let a = try NPY.read(path)
      _ = a.floats().count
      _ = try NPY.readTensor(path).rowLength
    case .safetensors:
      _ = try Safetensors.read(path).count
    case .spec:
      let spec = try ModelSpec.load(path)
      _ = try Network(spec: spec, source: path).parameterCount
    case .csv:
      let table = try CSVTable(path: path)
      _ = try table.columns(table.header).data.count
    }
  } catch is NTKitError {
    // A refusal with a message: the expected outcome for malformed input.
  } catch {
    fputs("unexpected error type: \(error)\n", stderr)
    abort()
  }
  return 0
}
