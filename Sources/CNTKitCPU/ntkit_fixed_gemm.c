// Fixed-order float32 product (see include/ntkit_fixed_gemm.h).
//
// Shapes: A m × k (row stride lda), op(B) k × n, C m × n (row stride ldc).
// Per row i of C: acc[j] = fma(A[i, p], op(B)[p, j], acc[j]) for p = 0..k-1,
// then C[i, j] = alpha * acc[j]; the j loop is what the compiler vectorises
// (AVX-512, AVX2+FMA or scalar fmaf, chosen by ntk_isa_get()), never p.
#include "ntkit_fixed_gemm.h"
#include "ntkit_isa.h"
#include <math.h>

#pragma clang fp contract(off)

enum { NTK_FIXED_COLS = 256 };

__attribute__((always_inline)) static inline void fixed_rows(size_t m, size_t n, size_t k, float alpha,
                                                             const float *a, size_t lda, const float *b,
                                                             size_t ldb, float *c, size_t ldc) {
  float acc[NTK_FIXED_COLS];
  for (size_t j0 = 0; j0 < n; j0 += NTK_FIXED_COLS) {
    size_t w = n - j0 < NTK_FIXED_COLS ? n - j0 : NTK_FIXED_COLS;
    for (size_t i = 0; i < m; i++) {
      for (size_t j = 0; j < w; j++) acc[j] = 0;
      const float *ar = a + i * lda;
      for (size_t p = 0; p < k; p++) {
        float x = ar[p];
        const float *br = b + p * ldb + j0;
        for (size_t j = 0; j < w; j++) acc[j] = __builtin_fmaf(x, br[j], acc[j]);
      }
      float *cr = c + i * ldc + j0;
      for (size_t j = 0; j < w; j++) cr[j] = alpha * acc[j];
    }
  }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
__attribute__((target("avx512f"))) static void fixed_avx512(size_t m, size_t n, size_t k, float alpha,
                                                            const float *a, size_t lda, const float *b, size_t ldb,
                                                            float *c, size_t ldc) {
  fixed_rows(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}
__attribute__((target("avx2,fma"))) static void fixed_avx2(size_t m, size_t n, size_t k, float alpha,
                                                           const float *a, size_t lda, const float *b, size_t ldb,
                                                           float *c, size_t ldc) {
  fixed_rows(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}
#endif

static void fixed_portable(size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda, const float *b,
                           size_t ldb, float *c, size_t ldc) {
  fixed_rows(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

void ntk_gemm_fixed_f32(int transB, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                        const float *b, size_t ldb, float *c, size_t ldc, float *scratch) {
  if (m == 0 || n == 0) return;
  if (transB) {
    // op(B) = Bᵀ: scratch[p*n + j] = B[j*ldb + p].
    for (size_t j = 0; j < n; j++)
      for (size_t p = 0; p < k; p++) scratch[p * n + j] = b[j * ldb + p];
    b = scratch;
    ldb = n;
  }
  int isa = ntk_isa_get();
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (isa == NTK_ISA_AVX512) { fixed_avx512(m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
  if (isa == NTK_ISA_AVX2) { fixed_avx2(m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
#endif
  (void)isa;
  fixed_portable(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

int ntk_cpu_kernels_optimized(void) {
#ifdef __OPTIMIZE__
  return 1;
#else
  return 0;
#endif
}
