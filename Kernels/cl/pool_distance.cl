// pool_distance.cl — RND novelty over a pool: row distances, then a masked
// parallel arg-max whose single winner (index, value) goes back to the host.
//
// ntk_row_distances: out[i] = D(a[i, :], b[i, :]) for n rows of width d,
//   one work-item per row, accumulated in ACC (double where the device has
//   fp64, as on the CPU). Metric codes: 0 mse (mean of squares), 1 l1, 2 l2,
//   3 lp (exponent p), 4 cosine (1 − cos), 5 angular (arccos(cos)/π).
// ntk_argmax_partial: stage 1; work-group g reduces entries g·WG + t, striding
//   by the global size, skipping excluded[i] ≠ 0 (when hasMask), NaN counted
//   as −∞; writes (index, value) per group, index −1 when it saw none.
// ntk_argmax_final: stage 2; one work-group reduces the partials to out[0].
// Ties go to the lowest index. Work-group size: ARGMAX_WG (power of two).
// NTK_METRIC_* (metric codes): the code table of Sources/CNTKitCPU/include/ntkit_codes.h,
// defined in front of every program by CLCodeTable.
#ifndef ARGMAX_WG
#define ARGMAX_WG 256
#endif

__kernel void ntk_row_distances(int metric, float p, __global const REAL *a, ulong offA,
                                __global const REAL *b, ulong offB, __global REAL *out, ulong offOut,
                                int n, int d) {
  const int i = get_global_id(0);
  if (i >= n) return;
  __global const REAL *x = a + offA + (size_t)i * d;
  __global const REAL *y = b + offB + (size_t)i * d;
  ACC r;
  if (metric == NTK_METRIC_COSINE || metric == NTK_METRIC_ANGULAR) {
    ACC ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < d; k++) {
      const ACC u = (ACC)x[k], w = (ACC)y[k];
      ab += u * w; aa += u * u; bb += w * w;
    }
    const ACC den = sqrt(aa * bb);
    const ACC cosine = den > 0 ? fmin((ACC)1, fmax((ACC)-1, ab / den)) : (ACC)0;
    r = metric == NTK_METRIC_COSINE ? (ACC)1 - cosine : acos(cosine) / (ACC)ACC_PI;
  } else {
    ACC s = 0;
    // lp: scaled by m = max |e| (no underflow to 0 for a large p), as on the CPU.
    ACC m = 0;
    if (metric == NTK_METRIC_LP) {
      for (int k = 0; k < d; k++) m = fmax(m, fabs((ACC)x[k] - (ACC)y[k]));
    }
    for (int k = 0; k < d; k++) {
      const ACC e = (ACC)x[k] - (ACC)y[k];
      if (metric == NTK_METRIC_L1) s += fabs(e);
      else if (metric == NTK_METRIC_LP) s += m > 0 ? pow(fabs(e) / m, (ACC)p) : (ACC)0;
      else s += e * e;
    }
    if (metric == NTK_METRIC_MSE) r = s / (ACC)max(d, 1);
    else if (metric == NTK_METRIC_L2) r = sqrt(s);
    else if (metric == NTK_METRIC_LP) r = m > 0 ? m * pow(s, (ACC)1 / (ACC)p) : (ACC)0;
    else r = s;
  }
  out[offOut + i] = (REAL)r;
}

// True when candidate (ia, va) beats (ib, vb): larger value, then lower index.
inline int argmax_better(int ia, REAL va, int ib, REAL vb) {
  if (ia < 0) return 0;
  if (ib < 0) return 1;
  return va > vb || (va == vb && ia < ib);
}

inline void argmax_reduce_local(__local int *li, __local REAL *lv, int t) {
  for (int s = ARGMAX_WG / 2; s > 0; s >>= 1) {
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t < s && argmax_better(li[t + s], lv[t + s], li[t], lv[t])) {
      li[t] = li[t + s];
      lv[t] = lv[t + s];
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);
}

__kernel __attribute__((reqd_work_group_size(ARGMAX_WG, 1, 1)))
void ntk_argmax_partial(__global const REAL *values, ulong offV, __global const REAL *excluded, ulong offX,
                        int hasMask, int count, __global int *partIndex, __global REAL *partValue) {
  const int t = get_local_id(0);
  const int stride = get_global_size(0);
  int bi = -1;
  REAL bv = -INFINITY;
  for (int i = get_global_id(0); i < count; i += stride) {
    if (hasMask && excluded[offX + i] != (REAL)0) continue;
    REAL v = values[offV + i];
    if (isnan(v)) v = -INFINITY;
    if (argmax_better(i, v, bi, bv)) { bi = i; bv = v; }
  }
  __local int li[ARGMAX_WG];
  __local REAL lv[ARGMAX_WG];
  li[t] = bi;
  lv[t] = bv;
  argmax_reduce_local(li, lv, t);
  if (t == 0) {
    partIndex[get_group_id(0)] = li[0];
    partValue[get_group_id(0)] = lv[0];
  }
}

__kernel __attribute__((reqd_work_group_size(ARGMAX_WG, 1, 1)))
void ntk_argmax_final(__global const int *partIndex, __global const REAL *partValue, int parts,
                      __global int *outIndex, __global REAL *outValue) {
  const int t = get_local_id(0);
  int bi = -1;
  REAL bv = -INFINITY;
  for (int i = t; i < parts; i += ARGMAX_WG) {
    if (argmax_better(partIndex[i], partValue[i], bi, bv)) { bi = partIndex[i]; bv = partValue[i]; }
  }
  __local int li[ARGMAX_WG];
  __local REAL lv[ARGMAX_WG];
  li[t] = bi;
  lv[t] = bv;
  argmax_reduce_local(li, lv, t);
  if (t == 0) { outIndex[0] = li[0]; outValue[0] = lv[0]; }
}
