// CBLAS (OpenBLAS) and LAPACKE headers, as one system module; no library is
// linked (CNTKitBLAS loads OpenBLAS and LAPACKE on first use). No stable Swift API.
#include <cblas.h>
#include <lapacke.h>
