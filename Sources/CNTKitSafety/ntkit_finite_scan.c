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

// One scan per element type: BITS the same-width unsigned integer, EXPONENT its exponent mask.
#define FIRST_NONFINITE(NAME, TYPE, BITS, EXPONENT)                   \
  long NAME(const TYPE *values, size_t n) {                           \
    for (size_t lo = 0; lo < n; lo += NTK_SCAN_BLOCK) {               \
      size_t hi = n - lo < NTK_SCAN_BLOCK ? n : lo + NTK_SCAN_BLOCK;  \
      BITS flagged = 0;                                               \
      for (size_t k = lo; k < hi; k++) {                              \
        BITS bits;                                                    \
        memcpy(&bits, values + k, sizeof bits);                       \
        flagged |= (BITS)((bits & (EXPONENT)) == (EXPONENT));         \
      }                                                               \
      if (!flagged) continue;                                         \
      for (size_t k = lo; k < hi; k++) {                              \
        BITS bits;                                                    \
        memcpy(&bits, values + k, sizeof bits);                       \
        if ((bits & (EXPONENT)) == (EXPONENT)) return (long)k;        \
      }                                                               \
    }                                                                 \
    return -1;                                                        \
  }

FIRST_NONFINITE(ntk_first_nonfinite_f32, float, uint32_t, 0x7F800000u)
FIRST_NONFINITE(ntk_first_nonfinite_f64, double, uint64_t, 0x7FF0000000000000ull)
