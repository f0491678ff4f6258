// ntk_accumulate.cl — fused structured-NTK accumulation of one dense layer.
//
//   out[I, J] += (scaleA · ⟨A1[I/mult], A2[J/mult]⟩ + c) · ⟨G1[I], G2[J]⟩
//
// for I < rows1·mult, J < rows2·mult (see NTKAccumulateOp). Row-major:
// A1 rows1×ka, A2 rows2×ka, G1 (rows1·mult)×kg, G2 (rows2·mult)×kg, out with
// row stride ldo. Each work-group owns a TS×TS tile of out and streams
// TS-wide slices of the rows it needs through local memory, so the only
// N×N-sized storage is out itself.
// Work-group size: (TS, TS, 1); global size rounded up to TS, edges checked.
#ifndef TS
#define TS 16   // tile edge (work-items per dimension)
#endif

// Σ_k X[rx(I)][k] · Y[ry(J)][k] for this work-item's (I, J), through local tiles.
#define TILED_DOT(result, X, offX, rowX, validX, Y, offY, rowY, validY, width)   \
  {                                                                               \
    for (int k0 = 0; k0 < (width); k0 += TS) {                                    \
      const int kx = k0 + lx;                                                     \
      xs[ly][lx] = ((validX) && kx < (width)) ? X[offX + (size_t)(rowX) * (width) + kx] : (REAL)0; \
      ys[ly][lx] = ((validY) && kx < (width)) ? Y[offY + (size_t)(rowY) * (width) + kx] : (REAL)0; \
      barrier(CLK_LOCAL_MEM_FENCE);                                               \
      for (int kk = 0; kk < TS; kk++) result = fma(xs[ty_][kk], ys[tx_][kk], result); \
      barrier(CLK_LOCAL_MEM_FENCE);                                               \
    }                                                                             \
  }

__kernel __attribute__((reqd_work_group_size(TS, TS, 1)))
void ntk_accumulate(int rows1, int rows2, int mult, int ka, int kg, REAL scaleA, REAL c,
                    __global const REAL *A1, ulong offA1, __global const REAL *A2, ulong offA2,
                    __global const REAL *G1, ulong offG1, __global const REAL *G2, ulong offG2,
                    __global REAL *out, ulong offOut, int ldo) {
  const int lx = get_local_id(0), ly = get_local_id(1);
  const int tx_ = lx, ty_ = ly;
  const int I0 = get_group_id(1) * TS, J0 = get_group_id(0) * TS;
  const int R = rows1 * mult, Cn = rows2 * mult;
  __local REAL xs[TS][TS + 1];  // +1: no bank conflicts on column reads
  __local REAL ys[TS][TS + 1];
  // Loader roles: work-item (ly, lx) loads row I0+ly of X and row J0+ly of Y.
  const int loadI = I0 + ly, loadJ = J0 + ly;
  const int validI = loadI < R, validJ = loadJ < Cn;

  REAL dotA = (REAL)0, dotG = (REAL)0;
  TILED_DOT(dotA, A1, offA1, loadI / mult, validI, A2, offA2, loadJ / mult, validJ, ka)
  TILED_DOT(dotG, G1, offG1, loadI, validI, G2, offG2, loadJ, validJ, kg)

  // This work-item's output element: row I0+ly, column J0+lx.
  const int I = I0 + ty_, J = J0 + tx_;
  if (I < R && J < Cn) {
    __global REAL *p = out + offOut + (size_t)I * ldo + J;
    *p += (scaleA * dotA + c) * dotG;
  }
}
