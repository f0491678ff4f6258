// conv.cl — im2col and its adjoint col2im for 2-D convolutions over NHWC data.
//
// Geometry (ConvGeometry): input inH×inW×inC per sample, kernel kh×kw,
// stride sh×sw, zero padding padTop/padLeft, output outH×outW positions.
// cols: (n·outH·outW) × patch, patch = kh·kw·inC, ordered (ky, kx, c).
// ntk_im2col: one work-item per element of cols (zero outside the image).
// ntk_col2im: one work-item per input element, gathering every patch entry
//   that reads it (no atomics); overwrites the input cotangent.
// ntk_interleave_cotangents: Gt[s, p, a, c] = G[s, a, p, c] (conv-output
//   cotangents regrouped by position), one work-item per element.
// ntk_cotangent_sums: sums[s·ldSums + a·channels + c] = scale · Σ_p G[s, a, p, c]
//   (p ascending), one work-item per (s, a, c).
// Work-group size: any (1-D); global size rounded up, edges checked.

__kernel void ntk_im2col(__global const REAL *input, ulong offIn, __global REAL *cols, ulong offCols,
                         int n, int inH, int inW, int inC, int kh, int kw, int sh, int sw,
                         int padTop, int padLeft, int outH, int outW) {
  const size_t e = get_global_id(0);
  const size_t patch = (size_t)kh * kw * inC, positions = (size_t)outH * outW;
  if (e >= (size_t)n * positions * patch) return;
  const size_t k = e % patch, row = e / patch;
  const int pos = (int)(row % positions), s = (int)(row / positions);
  const int c = (int)(k % inC), kxy = (int)(k / inC);
  const int kx = kxy % kw, ky = kxy / kw;
  const int oy = pos / outW, ox = pos % outW;
  const int y = oy * sh + ky - padTop, x = ox * sw + kx - padLeft;
  REAL v = (REAL)0;
  if (y >= 0 && y < inH && x >= 0 && x < inW)
    v = input[offIn + (size_t)s * inH * inW * inC + ((size_t)y * inW + x) * inC + c];
  cols[offCols + e] = v;
}

__kernel void ntk_col2im(__global const REAL *cols, ulong offCols, __global REAL *input, ulong offIn,
                         int n, int inH, int inW, int inC, int kh, int kw, int sh, int sw,
                         int padTop, int padLeft, int outH, int outW) {
  const size_t e = get_global_id(0);
  const size_t inputSize = (size_t)inH * inW * inC;
  if (e >= (size_t)n * inputSize) return;
  const int s = (int)(e / inputSize);
  const size_t r = e % inputSize;
  const int c = (int)(r % inC), pix = (int)(r / inC);
  const int y = pix / inW, x = pix % inW;
  const size_t patch = (size_t)kh * kw * inC, positions = (size_t)outH * outW;
  REAL sum = (REAL)0;
  for (int ky = 0; ky < kh; ky++) {
    const int ty = y + padTop - ky;
    if (ty < 0 || ty % sh != 0) continue;
    const int oy = ty / sh;
    if (oy >= outH) continue;
    for (int kx = 0; kx < kw; kx++) {
      const int tx = x + padLeft - kx;
      if (tx < 0 || tx % sw != 0) continue;
      const int ox = tx / sw;
      if (ox >= outW) continue;
      sum += cols[offCols + ((size_t)s * positions + (size_t)oy * outW + ox) * patch
                  + ((size_t)ky * kw + kx) * inC + c];
    }
  }
  input[offIn + e] = sum;
}

__kernel void ntk_interleave_cotangents(__global const REAL *g, ulong offG, __global REAL *gt, ulong offGt,
                                        int n, int m, int positions, int channels) {
  const size_t e = get_global_id(0);
  const size_t block = (size_t)positions * channels, perSample = (size_t)m * block;
  if (e >= (size_t)n * perSample) return;
  const size_t s = e / perSample, r = e % perSample;
  const size_t a = r / block, q = r % block;
  const size_t p = q / channels, c = q % channels;
  gt[offGt + s * perSample + (p * m + a) * channels + c] = g[offG + e];
}

__kernel void ntk_cotangent_sums(__global const REAL *g, ulong offG, __global REAL *sums, ulong offSums,
                                 ulong ldSums, REAL scale, int n, int m, int positions, int channels) {
  const size_t e = get_global_id(0);
  if (e >= (size_t)n * m * channels) return;
  const size_t c = e % channels, a = (e / channels) % m, s = e / ((size_t)m * channels);
  const size_t block = (size_t)positions * channels;
  __global const REAL *src = g + offG + (s * m + a) * block + c;
  REAL sum = (REAL)0;
  for (int p = 0; p < positions; p++) sum += src[(size_t)p * channels];
  sums[offSums + s * ldSums + a * channels + c] = scale == (REAL)1 ? sum : sum * scale;
}
