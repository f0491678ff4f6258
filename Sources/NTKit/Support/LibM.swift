#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Thin, explicitly named wrappers of the C maths library, so that generic code
// can call them without ambiguity with Swift's own overloads.
@inline(__always) func libm_expf(_ x: Float) -> Float { expf(x) }
@inline(__always) func libm_tanhf(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func libm_erff(_ x: Float) -> Float { erff(x) }
@inline(__always) func libm_log1pf(_ x: Float) -> Float { log1pf(x) }
@inline(__always) func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libm_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) func libm_erf(_ x: Double) -> Double { erf(x) }
@inline(__always) func libm_log1p(_ x: Double) -> Double { log1p(x) }
@inline(__always) func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func libm_acos(_ x: Double) -> Double { acos(x) }

/// Installed physical memory in bytes (0 when unknown).
func physicalMemoryBytes() -> Int {
  #if canImport(Glibc)
  return Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
  #else
  return 0
  #endif
}
@inline(__always) func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) func libm_sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func libm_cos(_ x: Double) -> Double { cos(x) }
