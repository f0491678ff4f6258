/* ntk-mpi's thin C layer over OpenMPI and ScaLAPACK: plain C types only, so
 * the Swift side never imports mpi.h (whose handles are macros Swift cannot
 * see). Every function returns 0 on success or an MPI/ScaLAPACK error code;
 * `ntkmpi_error_text` turns a code into one line.
 *
 * Layouts: 2-D arrays in files are row-major (C order) after an .npy header
 * of `disp` bytes; ScaLAPACK local arrays are column-major with leading
 * dimension = local rows, 2-D block-cyclic with square blocks `nb` on an
 * nprow × npcol row-major process grid, sources at (0, 0). */
#ifndef NTKIT_MPI_H
#define NTKIT_MPI_H
#include <stdint.h>

/* Lifecycle: MPI_Init (errors returned, not fatal), rank, size, finalize. */
int ntkmpi_init(void);
int ntkmpi_rank(void);
int ntkmpi_size(void);
void ntkmpi_finalize(void);
void ntkmpi_abort(int code);
double ntkmpi_wtime(void);
/* SIGINT/SIGTERM set a flag (a second SIGINT exits 130 at once). */
void ntkmpi_install_interrupt(void);
int ntkmpi_interrupted(void);
void ntkmpi_error_text(int code, char *buffer, int length);

/* Collectives on MPI_COMM_WORLD. */
int ntkmpi_barrier(void);
int ntkmpi_allreduce_i64(int64_t *inout, int64_t count, int op); /* op: 0 sum, 1 min, 2 max */
int ntkmpi_allreduce_f64(double *inout, int64_t count, int op);
int ntkmpi_bcast(void *buffer, int64_t bytes, int root);
/* Global best (value, index): largest value, ties to the lowest index;
 * index < 0 means "no candidate" on this rank; NaN counts as -infinity. */
int ntkmpi_argmax(double value, int64_t index, double *best_value, int64_t *best_index);
/* Gathers every rank's `count` doubles into `out` in rank order (counts,
 * displacements as int64 per rank; each must fit an int). */
int ntkmpi_allgatherv_f64(const double *mine, int64_t count, double *out, const int64_t *counts, const int64_t *displs);

/* MPI-IO. `mode`: 0 read-only, 1 create/write-only (truncating is the caller's job). */
int ntkmpi_file_open(const char *path, int mode, void **handle);
int ntkmpi_file_close(void **handle);
int ntkmpi_file_delete(const char *path);
int ntkmpi_file_set_size(void *handle, int64_t bytes);       /* collective */
int ntkmpi_file_write_at(void *handle, int64_t offset, const void *buffer, int64_t bytes);
int ntkmpi_file_read_at(void *handle, int64_t offset, void *buffer, int64_t bytes);
int ntkmpi_file_read_at_all(void *handle, int64_t offset, void *buffer, int64_t bytes);
/* Collective: writes the nr × nc block at (r0, c0) of the row-major
 * rows × cols array of `elem`-byte elements that starts at byte `disp`;
 * `buffer` holds the block row-major. nr or nc 0: takes part, writes nothing. */
int ntkmpi_file_write_block_all(void *handle, int64_t disp, int elem, int64_t rows, int64_t cols,
                                int64_t r0, int64_t c0, int64_t nr, int64_t nc, const void *buffer);
/* Independent: the same block written row by row (one contiguous write a row,
 * no data sieving, no exchange between ranks). */
int ntkmpi_file_write_block(void *handle, int64_t disp, int elem, int64_t rows, int64_t cols,
                            int64_t r0, int64_t c0, int64_t nr, int64_t nc, const void *buffer);
/* Collective: reads this rank's part of the n × n matrix at `disp` (`elem` 4
 * or 8 bytes) straight into the block-cyclic local array `local`
 * (local_rows × local_cols, column-major, same element type). The file is
 * row-major, so the local array holds the transpose's part: Aᵀ. */
int ntkmpi_file_read_block_cyclic(void *handle, int64_t disp, int elem, int n, int nb, int nprow, int npcol,
                                  int myrow, int mycol, void *local, int64_t local_count);

/* ScaLAPACK / BLACS. */
/* The process grid nprow × npcol (row-major) of all ranks; BLACS context out. */
int ntkmpi_grid_init(int nprow, int npcol, int *context, int *myrow, int *mycol);
void ntkmpi_grid_exit(int context);
int ntkmpi_numroc(int n, int nb, int iproc, int nprocs);
/* Eigenvalues (ascending, all n into `w` on every rank) of S = (B + Bᵀ)/2 for
 * the distributed n × n matrix B (local array `b`, overwritten), by pdsyevd. */
int ntkmpi_symmetric_eigenvalues(int context, int n, int nb, int local_rows, int local_cols, double *b, double *w);
#endif
