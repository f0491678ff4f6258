// Finding the first NaN or ±Inf in an array about to be written (the last
// check before an output is committed; nothing non-finite leaves NTKit).
#ifndef NTKIT_FINITE_SCAN_H
#define NTKIT_FINITE_SCAN_H

#include <stddef.h>

/// Index of the first NaN or ±Inf among the n floats at `values`, or -1.
long ntk_first_nonfinite_f32(const float *values, size_t n);
/// The same for doubles.
long ntk_first_nonfinite_f64(const double *values, size_t n);

#endif
