// common.cl — shared definitions for every NTKit kernel (prepended to each file).
//
// REAL is the scalar type: float by default; the host passes -DREAL=double
// together with -DREAL_IS_DOUBLE=1 where the device has cl_khr_fp64.
// HAVE_FP64 (host-defined) lets reductions accumulate in double, as the CPU
// reference does, even when REAL is float.
// Buffers travel as (global REAL *p, ulong offset) pairs, offsets in elements.
#ifndef REAL
#define REAL float
#endif

#if defined(REAL_IS_DOUBLE) || defined(HAVE_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#ifdef HAVE_FP64
typedef double ACC;
#define ACC_PI M_PI
#else
typedef REAL ACC;
#define ACC_PI M_PI_F
#endif
