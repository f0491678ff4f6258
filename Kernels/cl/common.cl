// common.cl — shared definitions for every NTKit kernel.
// REAL is the scalar type (float by default; -DREAL=double where fp64 exists).
#ifndef REAL
#define REAL float
#endif
