// A fixed-order float32 product for the NTK features (forward and backward
// passes of dense layers):
//
//     C[i*ldc + j] = alpha * Σ_p A[i*lda + p] * op(B)[p, j]     (i < m, j < n)
//
// op(B)[p, j] = B[p*ldb + j] (transB = 0, B is k × n) or B[j*ldb + p]
// (transB = 1, B is n × k). Each sum runs p = 0, 1, … with one fused
// multiply-add per term from 0, then one multiplication by alpha: the same
// bits on every instruction set (vectors run across j) and every CPU,
// unlike BLAS, whose kernels differ per CPU. `scratch` holds k·n floats
// when transB = 1 (B is transposed into it), else may be NULL.
#pragma once
#include <stddef.h>

void ntk_gemm_fixed_f32(int transB, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                        const float *b, size_t ldb, float *c, size_t ldc, float *scratch);

/// 1 when the C kernels were compiled with optimisation (release builds), 0
/// otherwise (debug builds, where the fixed-order product is ~100× slower).
int ntk_cpu_kernels_optimized(void);
