// OpenBLAS and LAPACKE, loaded on first use (see include/ntkit_blas.h).
#include "ntkit_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__APPLE__)
#define NTK_OPENBLAS_LIB "libopenblas.dylib"
#define NTK_LAPACKE_LIB "liblapacke.dylib"
#define NTK_OPENBLAS_HINT "install OpenBLAS (brew install openblas)"
#define NTK_LAPACKE_HINT "install LAPACKE (brew install lapack)"
#else
#define NTK_OPENBLAS_LIB "libopenblas.so.0"
#define NTK_LAPACKE_LIB "liblapacke.so.3"
#define NTK_OPENBLAS_HINT "install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0)"
#define NTK_LAPACKE_HINT "install LAPACKE (Debian/Ubuntu: apt-get install liblapacke)"
#endif

static struct {
  __typeof__(&cblas_sgemm) sgemm;
  __typeof__(&cblas_dgemm) dgemm;
  __typeof__(&cblas_ssyrk) ssyrk;
  __typeof__(&cblas_dsyrk) dsyrk;
  __typeof__(&cblas_dgemv) dgemv;
  __typeof__(&cblas_ddot) ddot;
  __typeof__(&cblas_dnrm2) dnrm2;
  __typeof__(&openblas_set_num_threads) set_num_threads;
  __typeof__(&openblas_get_corename) get_corename;  // optional
  int (*thread_shutdown)(void);                     // optional: blas_thread_shutdown_ (pthread builds)
} blas;

static struct {
  __typeof__(&LAPACKE_dsyevd) dsyevd;
  __typeof__(&LAPACKE_dstev) dstev;
  __typeof__(&LAPACKE_dsterf) dsterf;
} lapack;

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static pthread_once_t lapack_once = PTHREAD_ONCE_INIT;
static int blas_status = -1, lapack_status = -1;  // written once, inside the once routines
static char blas_message[512], lapack_message[512];

// The library file: `variable` (NTKIT_OPENBLAS_LIBRARY, NTKIT_LAPACKE_LIBRARY)
// when set, e.g. a path to another build of OpenBLAS, else the soname.
static const char *library_name(const char *variable, const char *fallback) {
  const char *name = getenv(variable);
  return name && *name ? name : fallback;
}

static void *open_library(const char *name, const char *hint, char *message, size_t size) {
  void *handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    snprintf(message, size, "%s: cannot be loaded (%s); %s", name, why ? why : "not found", hint);
  }
  return handle;
}

static void *symbol(void *handle, const char *library, const char *name, int *missing, char *message, size_t size) {
  void *p = dlsym(handle, name);
  if (!p && !*missing) {
    *missing = 1;
    snprintf(message, size, "%s: has no %s (a BLAS/LAPACKE other than OpenBLAS and LAPACKE?)", library, name);
  }
  return p;
}

static void load_blas(void) {
  const char *library = library_name("NTKIT_OPENBLAS_LIBRARY", NTK_OPENBLAS_LIB);
  void *h = open_library(library, NTK_OPENBLAS_HINT, blas_message, sizeof blas_message);
  if (!h) return;
  int missing = 0;
#define NTK_SYM(field, name) blas.field = (__typeof__(blas.field))symbol(h, library, name, &missing, blas_message, sizeof blas_message)
  NTK_SYM(sgemm, "cblas_sgemm");
  NTK_SYM(dgemm, "cblas_dgemm");
  NTK_SYM(ssyrk, "cblas_ssyrk");
  NTK_SYM(dsyrk, "cblas_dsyrk");
  NTK_SYM(dgemv, "cblas_dgemv");
  NTK_SYM(ddot, "cblas_ddot");
  NTK_SYM(dnrm2, "cblas_dnrm2");
  NTK_SYM(set_num_threads, "openblas_set_num_threads");
#undef NTK_SYM
  if (missing) return;
  blas.get_corename = (__typeof__(blas.get_corename))dlsym(h, "openblas_get_corename");
  blas.thread_shutdown = (int (*)(void))dlsym(h, "blas_thread_shutdown_");
  // Single-threaded outside withBLASThreads regions (BLASThreads), and the
  // pool a pthread OpenBLAS starts when it loads parked at once: otherwise
  // each idle thread spins in sched_yield for ~0.1 s beside our workers.
  blas.set_num_threads(NTK_BLAS_DEFAULT_THREADS);
  if (blas.thread_shutdown) (void)blas.thread_shutdown();
  __atomic_store_n(&blas_status, 0, __ATOMIC_RELEASE);
}

static void load_lapack(void) {
  if (ntk_blas_load() != 0) {
    snprintf(lapack_message, sizeof lapack_message, "%s", blas_message);
    return;
  }
  const char *library = library_name("NTKIT_LAPACKE_LIBRARY", NTK_LAPACKE_LIB);
  void *h = open_library(library, NTK_LAPACKE_HINT, lapack_message, sizeof lapack_message);
  if (!h) return;
  int missing = 0;
#define NTK_SYM(field, name) lapack.field = (__typeof__(lapack.field))symbol(h, library, name, &missing, lapack_message, sizeof lapack_message)
  NTK_SYM(dsyevd, "LAPACKE_dsyevd");
  NTK_SYM(dstev, "LAPACKE_dstev");
  NTK_SYM(dsterf, "LAPACKE_dsterf");
#undef NTK_SYM
  if (missing) return;
  __atomic_store_n(&lapack_status, 0, __ATOMIC_RELEASE);
}

int ntk_blas_load(void) {
  pthread_once(&blas_once, load_blas);
  return blas_status;
}

int ntk_lapack_load(void) {
  pthread_once(&lapack_once, load_lapack);
  return lapack_status;
}

int ntk_blas_is_loaded(void) { return __atomic_load_n(&blas_status, __ATOMIC_ACQUIRE) == 0; }

const char *ntk_blas_error(void) {
  if (lapack_message[0] && lapack_status != 0) return lapack_message;
  return blas_message;
}

void ntk_blas_park_pool(void) {
  if (ntk_blas_is_loaded() && blas.thread_shutdown) (void)blas.thread_shutdown();
}

// A forwarding function reached while its library cannot be loaded: the
// callers that can throw have checked already, so this is a last resort.
static void require_blas(void) {
  if (__builtin_expect(__atomic_load_n(&blas_status, __ATOMIC_ACQUIRE) == 0, 1)) return;
  if (ntk_blas_load() != 0) {
    fprintf(stderr, "ntk: error: %s\n", blas_message);
    exit(1);
  }
}

static void require_lapack(void) {
  if (__builtin_expect(__atomic_load_n(&lapack_status, __ATOMIC_ACQUIRE) == 0, 1)) return;
  if (ntk_lapack_load() != 0) {
    fprintf(stderr, "ntk: error: %s\n", lapack_message);
    exit(1);
  }
}

void ntk_cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                     blasint m, blasint n, blasint k, float alpha, const float *a, blasint lda,
                     const float *b, blasint ldb, float beta, float *c, blasint ldc) {
  require_blas();
  blas.sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ntk_cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                     blasint m, blasint n, blasint k, double alpha, const double *a, blasint lda,
                     const double *b, blasint ldb, double beta, double *c, blasint ldc) {
  require_blas();
  blas.dgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ntk_cblas_ssyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, blasint n, blasint k,
                     float alpha, const float *a, blasint lda, float beta, float *c, blasint ldc) {
  require_blas();
  blas.ssyrk(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
}

void ntk_cblas_dsyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, blasint n, blasint k,
                     double alpha, const double *a, blasint lda, double beta, double *c, blasint ldc) {
  require_blas();
  blas.dsyrk(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
}

void ntk_cblas_dgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, blasint m, blasint n,
                     double alpha, const double *a, blasint lda, const double *x, blasint incx,
                     double beta, double *y, blasint incy) {
  require_blas();
  blas.dgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

double ntk_cblas_ddot(blasint n, const double *x, blasint incx, const double *y, blasint incy) {
  require_blas();
  return blas.ddot(n, x, incx, y, incy);
}

double ntk_cblas_dnrm2(blasint n, const double *x, blasint incx) {
  require_blas();
  return blas.dnrm2(n, x, incx);
}

void ntk_openblas_set_num_threads(int n) {
  require_blas();
  blas.set_num_threads(n);
}

const char *ntk_openblas_get_corename(void) {
  require_blas();
  return blas.get_corename ? blas.get_corename() : NULL;
}

lapack_int ntk_LAPACKE_dsyevd(int layout, char jobz, char uplo, lapack_int n, double *a, lapack_int lda, double *w) {
  require_lapack();
  return lapack.dsyevd(layout, jobz, uplo, n, a, lda, w);
}

lapack_int ntk_LAPACKE_dstev(int layout, char jobz, lapack_int n, double *d, double *e, double *z, lapack_int ldz) {
  require_lapack();
  return lapack.dstev(layout, jobz, n, d, e, z, ldz);
}

lapack_int ntk_LAPACKE_dsterf(lapack_int n, double *d, double *e) {
  require_lapack();
  return lapack.dsterf(n, d, e);
}
