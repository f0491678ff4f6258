/* OpenMPI (pkg-config ompi-c) and ScaLAPACK/BLACS (libscalapack-openmpi, Debian).
 * Only the C shim target CNTKitMPI includes this; Swift code never sees mpi.h.
 * ScaLAPACK and BLACS routines are Fortran: every argument by reference, the
 * matrix local arrays column-major with a 9-integer descriptor. */
#ifndef NTKIT_CMPI_SHIM_H
#define NTKIT_CMPI_SHIM_H
#include <mpi.h>

/* BLACS C interface (shipped inside libscalapack-openmpi). */
void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_get(int context, int what, int *value);
void Cblacs_gridinit(int *context, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int context);

/* ScaLAPACK (Fortran names). */
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
               const int *icsrc, const int *ictxt, const int *lld, int *info);
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz,
              double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void pdsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
             const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz,
             double *work, const int *lwork, int *info);
void pdtran_(const int *m, const int *n, const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, const double *beta, double *c, const int *ic, const int *jc, const int *descc);
void Cblacs_exit(int notdone);
#endif
