/* ntk-mpi's C layer over OpenMPI, MPI-IO and ScaLAPACK (see include/ntkmpi.h
 * for the layouts). Errors are returned, never fatal: MPI_COMM_WORLD and every
 * file use MPI_ERRORS_RETURN. */
#include "ntkmpi.h"
#include "../CMPI/shim.h" /* mpi.h and the BLACS/ScaLAPACK prototypes */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig) {
  if (sig == SIGINT && interrupted) _exit(130);
  interrupted = 1;
}

void ntkmpi_install_interrupt(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int ntkmpi_interrupted(void) { return interrupted != 0; }

int ntkmpi_init(void) {
  int rc = MPI_Init(NULL, NULL);
  if (rc != MPI_SUCCESS) return rc;
  return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int ntkmpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
int ntkmpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
void ntkmpi_finalize(void) { MPI_Finalize(); }
void ntkmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
double ntkmpi_wtime(void) { return MPI_Wtime(); }

void ntkmpi_error_text(int code, char *buffer, int length) {
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(code, text, &n) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", code);
  snprintf(buffer, (size_t)length, "%s", text);
}

int ntkmpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static MPI_Op reduce_op(int op) { return op == 1 ? MPI_MIN : op == 2 ? MPI_MAX : MPI_SUM; }

int ntkmpi_allreduce_i64(int64_t *inout, int64_t count, int op) {
  if (count > INT_MAX) return MPI_ERR_COUNT;
  return MPI_Allreduce(MPI_IN_PLACE, inout, (int)count, MPI_INT64_T, reduce_op(op), MPI_COMM_WORLD);
}

int ntkmpi_allreduce_f64(double *inout, int64_t count, int op) {
  if (count > INT_MAX) return MPI_ERR_COUNT;
  return MPI_Allreduce(MPI_IN_PLACE, inout, (int)count, MPI_DOUBLE, reduce_op(op), MPI_COMM_WORLD);
}

int ntkmpi_bcast(void *buffer, int64_t bytes, int root) {
  char *p = buffer;
  while (bytes > 0) {
    int chunk = bytes > (1 << 30) ? (1 << 30) : (int)bytes;
    int rc = MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    p += chunk;
    bytes -= chunk;
  }
  return MPI_SUCCESS;
}

typedef struct { double value; int64_t index; } candidate;

/* MAXLOC with 64-bit indices: the larger value, ties to the lower index; index < 0 is "none". */
static void argmax_op(void *in, void *inout, int *len, MPI_Datatype *type) {
  (void)type;
  candidate *a = in, *b = inout;
  for (int k = 0; k < *len; k++) {
    if (a[k].index < 0) continue;
    if (b[k].index < 0 || a[k].value > b[k].value || (a[k].value == b[k].value && a[k].index < b[k].index)) b[k] = a[k];
  }
}

int ntkmpi_argmax(double value, int64_t index, double *best_value, int64_t *best_index) {
  static MPI_Datatype type = MPI_DATATYPE_NULL;
  static MPI_Op op = MPI_OP_NULL;
  int rc;
  if (type == MPI_DATATYPE_NULL) {
    if ((rc = MPI_Type_contiguous(sizeof(candidate), MPI_BYTE, &type)) != MPI_SUCCESS) return rc;
    if ((rc = MPI_Type_commit(&type)) != MPI_SUCCESS) return rc;
    if ((rc = MPI_Op_create(argmax_op, 1, &op)) != MPI_SUCCESS) return rc;
  }
  candidate mine = { isnan(value) ? -INFINITY : value, index }, best;
  rc = MPI_Allreduce(&mine, &best, 1, type, op, MPI_COMM_WORLD);
  *best_value = best.value;
  *best_index = best.index;
  return rc;
}

int ntkmpi_allgatherv_f64(const double *mine, int64_t count, double *out, const int64_t *counts, const int64_t *displs) {
  int p = ntkmpi_size();
  int *c = malloc(sizeof(int) * (size_t)p), *d = malloc(sizeof(int) * (size_t)p);
  if (!c || !d) { free(c); free(d); return MPI_ERR_NO_MEM; }
  for (int i = 0; i < p; i++) {
    if (counts[i] > INT_MAX || displs[i] > INT_MAX) { free(c); free(d); return MPI_ERR_COUNT; }
    c[i] = (int)counts[i];
    d[i] = (int)displs[i];
  }
  int rc = MPI_Allgatherv(mine, (int)count, MPI_DOUBLE, out, c, d, MPI_DOUBLE, MPI_COMM_WORLD);
  free(c);
  free(d);
  return rc;
}

/* ---- MPI-IO ---- */

int ntkmpi_file_open(const char *path, int mode, void **handle) {
  MPI_File *f = malloc(sizeof(MPI_File));
  if (!f) return MPI_ERR_NO_MEM;
  int amode = mode == 0 ? MPI_MODE_RDONLY : (MPI_MODE_CREATE | MPI_MODE_WRONLY);
  int rc = MPI_File_open(MPI_COMM_WORLD, path, amode, MPI_INFO_NULL, f);
  if (rc != MPI_SUCCESS) { free(f); return rc; }
  MPI_File_set_errhandler(*f, MPI_ERRORS_RETURN);
  *handle = f;
  return MPI_SUCCESS;
}

int ntkmpi_file_close(void **handle) {
  if (!handle || !*handle) return MPI_SUCCESS;
  MPI_File *f = *handle;
  int rc = MPI_File_close(f);
  free(f);
  *handle = NULL;
  return rc;
}

int ntkmpi_file_delete(const char *path) { return MPI_File_delete(path, MPI_INFO_NULL); }

int ntkmpi_file_set_size(void *handle, int64_t bytes) { return MPI_File_set_size(*(MPI_File *)handle, (MPI_Offset)bytes); }

int ntkmpi_file_write_at(void *handle, int64_t offset, const void *buffer, int64_t bytes) {
  const char *p = buffer;
  while (bytes > 0) {
    int chunk = bytes > (1 << 30) ? (1 << 30) : (int)bytes;
    MPI_Status st;
    int rc = MPI_File_write_at(*(MPI_File *)handle, (MPI_Offset)offset, p, chunk, MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) return rc;
    p += chunk; offset += chunk; bytes -= chunk;
  }
  return MPI_SUCCESS;
}

int ntkmpi_file_read_at(void *handle, int64_t offset, void *buffer, int64_t bytes) {
  char *p = buffer;
  while (bytes > 0) {
    int chunk = bytes > (1 << 30) ? (1 << 30) : (int)bytes;
    MPI_Status st;
    int rc = MPI_File_read_at(*(MPI_File *)handle, (MPI_Offset)offset, p, chunk, MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) return rc;
    int got = 0;
    MPI_Get_count(&st, MPI_BYTE, &got);
    if (got != chunk) return MPI_ERR_TRUNCATE;
    p += chunk; offset += chunk; bytes -= chunk;
  }
  return MPI_SUCCESS;
}

int ntkmpi_file_read_at_all(void *handle, int64_t offset, void *buffer, int64_t bytes) {
  /* One collective call per rank (bytes may differ, 0 included); large reads in one go. */
  if (bytes > INT_MAX) return ntkmpi_file_read_at(handle, offset, buffer, bytes);
  MPI_Status st;
  int rc = MPI_File_read_at_all(*(MPI_File *)handle, (MPI_Offset)offset, buffer, (int)bytes, MPI_BYTE, &st);
  if (rc != MPI_SUCCESS) return rc;
  int got = 0;
  MPI_Get_count(&st, MPI_BYTE, &got);
  return got == (int)bytes ? MPI_SUCCESS : MPI_ERR_TRUNCATE;
}

static int element_type(int elem, MPI_Datatype *type) {
  int rc = MPI_Type_contiguous(elem, MPI_BYTE, type);
  return rc == MPI_SUCCESS ? MPI_Type_commit(type) : rc;
}

int ntkmpi_file_write_block_all(void *handle, int64_t disp, int elem, int64_t rows, int64_t cols,
                                int64_t r0, int64_t c0, int64_t nr, int64_t nc, const void *buffer) {
  MPI_File f = *(MPI_File *)handle;
  if (rows > INT_MAX || cols > INT_MAX || nr * nc > INT_MAX) return MPI_ERR_COUNT;
  MPI_Datatype etype, ftype;
  int rc = element_type(elem, &etype);
  if (rc != MPI_SUCCESS) return rc;
  int empty = nr <= 0 || nc <= 0;
  if (empty) {
    ftype = etype;
  } else {
    int sizes[2] = { (int)rows, (int)cols }, sub[2] = { (int)nr, (int)nc }, start[2] = { (int)r0, (int)c0 };
    if ((rc = MPI_Type_create_subarray(2, sizes, sub, start, MPI_ORDER_C, etype, &ftype)) != MPI_SUCCESS) goto done;
    if ((rc = MPI_Type_commit(&ftype)) != MPI_SUCCESS) goto done;
  }
  rc = MPI_File_set_view(f, (MPI_Offset)disp, etype, ftype, "native", MPI_INFO_NULL);
  if (rc == MPI_SUCCESS) {
    MPI_Status st;
    rc = MPI_File_write_all(f, buffer, empty ? 0 : (int)(nr * nc), etype, &st);
  }
  if (!empty) MPI_Type_free(&ftype);
done:
  MPI_Type_free(&etype);
  return rc;
}

int ntkmpi_file_write_block(void *handle, int64_t disp, int elem, int64_t rows, int64_t cols,
                            int64_t r0, int64_t c0, int64_t nr, int64_t nc, const void *buffer) {
  (void)rows;
  const char *p = buffer;
  for (int64_t r = 0; r < nr; r++) {
    int64_t offset = disp + ((r0 + r) * cols + c0) * elem;
    int rc = ntkmpi_file_write_at(handle, offset, p + r * nc * elem, nc * elem);
    if (rc != MPI_SUCCESS) return rc;
  }
  return MPI_SUCCESS;
}

int ntkmpi_file_read_block_cyclic(void *handle, int64_t disp, int elem, int n, int nb, int nprow, int npcol,
                                  int myrow, int mycol, void *local, int64_t local_count) {
  MPI_File f = *(MPI_File *)handle;
  if (local_count > INT_MAX) return MPI_ERR_COUNT;
  MPI_Datatype etype = elem == 8 ? MPI_DOUBLE : MPI_FLOAT, ftype;
  int gsizes[2] = { n, n }, distribs[2] = { MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_CYCLIC };
  int dargs[2] = { nb, nb }, psizes[2] = { nprow, npcol };
  int rc = MPI_Type_create_darray(nprow * npcol, myrow * npcol + mycol, 2, gsizes, distribs, dargs, psizes,
                                  MPI_ORDER_FORTRAN, etype, &ftype);
  if (rc != MPI_SUCCESS) return rc;
  if ((rc = MPI_Type_commit(&ftype)) == MPI_SUCCESS) {
    rc = MPI_File_set_view(f, (MPI_Offset)disp, etype, ftype, "native", MPI_INFO_NULL);
    if (rc == MPI_SUCCESS) {
      MPI_Status st;
      rc = MPI_File_read_all(f, local, (int)local_count, etype, &st);
      int got = 0;
      if (rc == MPI_SUCCESS && MPI_Get_count(&st, etype, &got) == MPI_SUCCESS && got != (int)local_count) rc = MPI_ERR_TRUNCATE;
    }
  }
  MPI_Type_free(&ftype);
  return rc;
}

/* ---- ScaLAPACK ---- */

int ntkmpi_grid_init(int nprow, int npcol, int *context, int *myrow, int *mycol) {
  int ctx = 0, pr = 0, pc = 0;
  Cblacs_get(-1, 0, &ctx);
  Cblacs_gridinit(&ctx, "Row", nprow, npcol);
  Cblacs_gridinfo(ctx, &pr, &pc, myrow, mycol);
  *context = ctx;
  return (pr == nprow && pc == npcol) ? 0 : -1;
}

void ntkmpi_grid_exit(int context) { Cblacs_gridexit(context); }

int ntkmpi_numroc(int n, int nb, int iproc, int nprocs) {
  int zero = 0;
  return numroc_(&n, &nb, &iproc, &zero, &nprocs);
}

int ntkmpi_symmetric_eigenvalues(int context, int n, int nb, int local_rows, int local_cols, double *b, double *w) {
  int desc[9], info = 0, zero = 0, one = 1, lld = local_rows > 1 ? local_rows : 1;
  descinit_(desc, &n, &n, &nb, &nb, &zero, &zero, &context, &lld, &info);
  if (info != 0) return 1000 + (info < 0 ? -info : info);
  size_t count = (size_t)lld * (size_t)(local_cols > 0 ? local_cols : 1);
  double *s = malloc(count * sizeof(double)), *z = malloc(count * sizeof(double));
  if (!s || !z) { free(s); free(z); return MPI_ERR_NO_MEM; }
  memcpy(s, b, (size_t)local_rows * (size_t)local_cols * sizeof(double));
  /* S = ½B + ½Bᵀ: exactly (B + Bᵀ)/2, as the single-process path forms it. */
  const double half = 0.5;
  pdtran_(&n, &n, &half, b, &one, &one, desc, &half, s, &one, &one, desc);
  double query = 0;
  int iquery = 0, lwork = -1, liwork = -1;
  pdsyevd_("V", "L", &n, s, &one, &one, desc, w, z, &one, &one, desc, &query, &lwork, &iquery, &liwork, &info);
  if (info != 0) { free(s); free(z); return 2000 + (info < 0 ? -info : info); }
  /* The reference workspace query is known to come out short for some grids: add slack. */
  lwork = (int)query + 2 * n + 1024;
  liwork = iquery + 2 * n + 1024;
  double *work = malloc((size_t)lwork * sizeof(double));
  int *iwork = malloc((size_t)liwork * sizeof(int));
  if (!work || !iwork) { free(s); free(z); free(work); free(iwork); return MPI_ERR_NO_MEM; }
  pdsyevd_("V", "L", &n, s, &one, &one, desc, w, z, &one, &one, desc, work, &lwork, iwork, &liwork, &info);
  free(s); free(z); free(work); free(iwork);
  return info == 0 ? 0 : 3000 + (info < 0 ? -info : info);
}
