// CBLAS (OpenBLAS) and LAPACKE, as one system module. No stable Swift API.
#include <cblas.h>
#include <lapacke.h>
