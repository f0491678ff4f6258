#ifndef NTKIT_BLAS_H
#define NTKIT_BLAS_H

// OpenBLAS (CBLAS) and LAPACKE, loaded on first use.
//
// Nothing in NTKit links OpenBLAS or LAPACKE: `ntk`, libntkit_c.so and
// packages that depend on NTKit start without loading (and relocating)
// libopenblas, liblapacke and what they pull in (liblapack, libblas,
// libgfortran, libquadmath, libtmglib). The first BLAS call dlopen()s
// libopenblas.so.0, the first LAPACKE call liblapacke.so.3, once per process
// (pthread_once); NTKIT_OPENBLAS_LIBRARY / NTKIT_LAPACKE_LIBRARY name other
// files (a path, or a soname the dynamic loader searches). The headers come from the system (COpenBLAS's cblas.h and
// lapacke.h); the entry points NTKit uses are the ntk_-prefixed functions
// below, with the signatures of the functions they forward to.
//
// Callers that can report an error call ntk_blas_load() / ntk_lapack_load()
// first (NTKit: OpenBLAS.require() / OpenBLAS.requireLAPACKE()): they return
// 0, or -1 with the reason (naming the library and the package that provides
// it) in ntk_blas_error(). A forwarding function called while its library
// cannot be loaded prints that reason on stderr and exits with status 1.

#include <cblas.h>
#include <lapacke.h>

#ifdef __cplusplus
extern "C" {
#endif

/// OpenBLAS's thread count outside `withBLASThreads` regions, set when the
/// library loads (NTKit's BLASThreads.defaultCount).
#define NTK_BLAS_DEFAULT_THREADS 1

/// Loads OpenBLAS (once, thread-safe). 0 on success, -1 on failure.
int ntk_blas_load(void);
/// Loads OpenBLAS, then LAPACKE (once, thread-safe). 0 on success, -1 on failure.
int ntk_lapack_load(void);
/// 1 when OpenBLAS is loaded (in this process, by NTKit), else 0. Loads nothing.
int ntk_blas_is_loaded(void);
/// Why the last failed ntk_blas_load / ntk_lapack_load failed ("" if none).
const char *ntk_blas_error(void);
/// Ends OpenBLAS's idle worker threads (its blas_thread_shutdown_, when the
/// library has it); nothing when OpenBLAS is not loaded.
void ntk_blas_park_pool(void);

void ntk_cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                     blasint m, blasint n, blasint k, float alpha, const float *a, blasint lda,
                     const float *b, blasint ldb, float beta, float *c, blasint ldc);
void ntk_cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                     blasint m, blasint n, blasint k, double alpha, const double *a, blasint lda,
                     const double *b, blasint ldb, double beta, double *c, blasint ldc);
void ntk_cblas_ssyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, blasint n, blasint k,
                     float alpha, const float *a, blasint lda, float beta, float *c, blasint ldc);
void ntk_cblas_dsyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, blasint n, blasint k,
                     double alpha, const double *a, blasint lda, double beta, double *c, blasint ldc);
void ntk_cblas_dgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, blasint m, blasint n,
                     double alpha, const double *a, blasint lda, const double *x, blasint incx,
                     double beta, double *y, blasint incy);
double ntk_cblas_ddot(blasint n, const double *x, blasint incx, const double *y, blasint incy);
double ntk_cblas_dnrm2(blasint n, const double *x, blasint incx);
/// openblas_set_num_threads (loads OpenBLAS).
void ntk_openblas_set_num_threads(int n);
/// openblas_get_corename (loads OpenBLAS); NULL when the library has none.
const char *ntk_openblas_get_corename(void);

lapack_int ntk_LAPACKE_dsyevd(int layout, char jobz, char uplo, lapack_int n, double *a, lapack_int lda, double *w);
lapack_int ntk_LAPACKE_dstev(int layout, char jobz, lapack_int n, double *d, double *e, double *z, lapack_int ldz);
lapack_int ntk_LAPACKE_dsterf(lapack_int n, double *d, double *e);

#ifdef __cplusplus
}
#endif

#endif
