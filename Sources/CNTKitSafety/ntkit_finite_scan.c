// First NaN or ±Inf in an array (see include/ntkit_finite_scan.h).
//
// Layout: n contiguous IEEE-754 values. A value is not finite exactly when
// all its exponent bits are set. Blocks of 4096 values are tested without
// branches (an OR over the block, which clang vectorises to the widest
// vectors of the baseline ISA); only a flagged block is searched value by
// value. A GiB scans in the time its memory takes to stream.
#include "ntkit_finite_scan.h"
#include <stdint.h>
#include <string.h>

enum { NTK_SCAN_BLOCK = 4096 };

long ntk_first_nonfinite_f32(const float *values, size_t n) {
  const uint32_t exponent = 0x7F800000u;
  for (size_t lo = 0; lo < n; lo += NTK_SCAN_BLOCK) {
    size_t hi = n - lo < NTK_SCAN_BLOCK ? n : lo + NTK_SCAN_BLOCK;
    uint32_t flagged = 0;
    for (size_t k = lo; k < hi; k++) {
      uint32_t bits;
      memcpy(&bits, values + k, sizeof bits);
      flagged |= (uint32_t)((bits & exponent) == exponent);
    }
    if (!flagged) continue;
    for (size_t k = lo; k < hi; k++) {
      uint32_t bits;
      memcpy(&bits, values + k, sizeof bits);
      if ((bits & exponent) == exponent) return (long)k;
    }
  }
  return -1;
}

long ntk_first_nonfinite_f64(const double *values, size_t n) {
  const uint64_t exponent = 0x7FF0000000000000ull;
  for (size_t lo = 0; lo < n; lo += NTK_SCAN_BLOCK) {
    size_t hi = n - lo < NTK_SCAN_BLOCK ? n : lo + NTK_SCAN_BLOCK;
    uint64_t flagged = 0;
    for (size_t k = lo; k < hi; k++) {
      uint64_t bits;
      memcpy(&bits, values + k, sizeof bits);
      flagged |= (uint64_t)((bits & exponent) == exponent);
    }
    if (!flagged) continue;
    for (size_t k = lo; k < hi; k++) {
      uint64_t bits;
      memcpy(&bits, values + k, sizeof bits);
      if ((bits & exponent) == exponent) return (long)k;
    }
  }
  return -1;
}
