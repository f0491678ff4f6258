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

// ntk_accumulate_block: the same sum for CPU OpenCL devices (PoCL), with no
// local memory and no barriers. Each work-item owns an ARB×ARB block of out
// (rows I0.., columns J0..) and forms its ARB² dot products with AVW-wide
// vector loads along k (rows are contiguous in k), so the ARB² accumulators
// are vector registers and each loaded vector is used ARB times; a scalar
// loop takes the k tail. Rows and columns past the edge are clamped (read,
// never written). Summation order differs from ntk_accumulate (float
// rounding only). Work-group size: any; global (⌈cols/ARB⌉, ⌈rows/ARB⌉).
#ifndef ARB
#define ARB 4    // rows and columns of out per work-item
#endif
#define AVW 16   // vector width along k (REAL16)
#define ACC_CAT_(a, b) a##b
#define ACC_CAT(a, b) ACC_CAT_(a, b)
#define REAL16V ACC_CAT(REAL, 16)
#define REAL8V ACC_CAT(REAL, 8)
#define REAL4V ACC_CAT(REAL, 4)
#define REAL2V ACC_CAT(REAL, 2)

inline REAL hsum16(REAL16V v) {
  const REAL8V s8 = v.lo + v.hi;
  const REAL4V s4 = s8.lo + s8.hi;
  const REAL2V s2 = s4.lo + s4.hi;
  return s2.x + s2.y;
}

// acc[r·ARB + q] = Σ_k X[xr[r]·width + k] · Y[yr[q]·width + k].
inline void block_dots(__global const REAL *X, const int *xr, __global const REAL *Y, const int *yr, int width,
                       REAL *acc) {
  REAL16V v[ARB][ARB];
  for (int r = 0; r < ARB; r++)
    for (int q = 0; q < ARB; q++) v[r][q] = (REAL16V)(0);
  int k = 0;
  for (; k + AVW <= width; k += AVW) {
    REAL16V x[ARB], y[ARB];
    for (int r = 0; r < ARB; r++) x[r] = vload16(0, X + (size_t)xr[r] * width + k);
    for (int q = 0; q < ARB; q++) y[q] = vload16(0, Y + (size_t)yr[q] * width + k);
    for (int r = 0; r < ARB; r++)
      for (int q = 0; q < ARB; q++) v[r][q] = fma(x[r], y[q], v[r][q]);
  }
  for (int r = 0; r < ARB; r++)
    for (int q = 0; q < ARB; q++) {
      REAL s = hsum16(v[r][q]);
      for (int t = k; t < width; t++) s = fma(X[(size_t)xr[r] * width + t], Y[(size_t)yr[q] * width + t], s);
      acc[r * ARB + q] = s;
    }
}

__kernel void ntk_accumulate_block(int rows1, int rows2, int mult, int ka, int kg, REAL scaleA, REAL c,
                                   __global const REAL *A1, ulong offA1, __global const REAL *A2, ulong offA2,
                                   __global const REAL *G1, ulong offG1, __global const REAL *G2, ulong offG2,
                                   __global REAL *out, ulong offOut, int ldo) {
  const int R = rows1 * mult, Cn = rows2 * mult;
  const int I0 = get_global_id(1) * ARB, J0 = get_global_id(0) * ARB;
  if (I0 >= R || J0 >= Cn) return;
  int gi[ARB], gj[ARB], ai[ARB], aj[ARB];
  for (int r = 0; r < ARB; r++) { gi[r] = min(I0 + r, R - 1); ai[r] = gi[r] / mult; }
  for (int q = 0; q < ARB; q++) { gj[q] = min(J0 + q, Cn - 1); aj[q] = gj[q] / mult; }
  REAL dotA[ARB * ARB], dotG[ARB * ARB];
  block_dots(A1 + offA1, ai, A2 + offA2, aj, ka, dotA);
  block_dots(G1 + offG1, gi, G2 + offG2, gj, kg, dotG);
  for (int r = 0; r < ARB; r++) {
    if (I0 + r >= R) break;
    __global REAL *row = out + offOut + (size_t)(I0 + r) * ldo;
    for (int q = 0; q < ARB; q++) {
      if (J0 + q >= Cn) break;
      row[J0 + q] += (scaleA * dotA[r * ARB + q] + c) * dotG[r * ARB + q];
    }
  }
}
