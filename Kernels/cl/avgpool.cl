// avgpool.cl — 2-D average pooling (valid padding) over NHWC data.
//
// Geometry (PoolGeometry): input inH×inW×channels, window wh×ww, stride
// sh×sw, output outH×outW×channels per sample.
// ntk_avgpool_forward: one work-item per output element (mean of its window).
// ntk_avgpool_backward: one work-item per input element, gathering
//   out_cotangent / (wh·ww) from every window that holds it (overwrites).
// Work-group size: any (1-D); global size rounded up, edges checked.

__kernel void ntk_avgpool_forward(__global const REAL *input, ulong offIn, __global REAL *output, ulong offOut,
                                  int n, int inH, int inW, int channels, int wh, int ww, int sh, int sw,
                                  int outH, int outW) {
  const size_t e = get_global_id(0);
  const size_t outSize = (size_t)outH * outW * channels;
  if (e >= (size_t)n * outSize) return;
  const int s = (int)(e / outSize);
  const size_t r = e % outSize;
  const int c = (int)(r % channels), pos = (int)(r / channels);
  const int oy = pos / outW, ox = pos % outW;
  __global const REAL *image = input + offIn + (size_t)s * inH * inW * channels;
  REAL sum = (REAL)0;
  for (int dy = 0; dy < wh; dy++)
    for (int dx = 0; dx < ww; dx++)
      sum += image[((size_t)(oy * sh + dy) * inW + ox * sw + dx) * channels + c];
  output[offOut + e] = sum * ((REAL)1 / (REAL)(wh * ww));
}

__kernel void ntk_avgpool_backward(__global const REAL *output, ulong offOut, __global REAL *input, ulong offIn,
                                   int n, int inH, int inW, int channels, int wh, int ww, int sh, int sw,
                                   int outH, int outW) {
  const size_t e = get_global_id(0);
  const size_t inSize = (size_t)inH * inW * channels;
  if (e >= (size_t)n * inSize) return;
  const int s = (int)(e / inSize);
  const size_t r = e % inSize;
  const int c = (int)(r % channels), pix = (int)(r / channels);
  const int y = pix / inW, x = pix % inW;
  const REAL inv = (REAL)1 / (REAL)(wh * ww);
  __global const REAL *out = output + offOut + (size_t)s * outH * outW * channels;
  REAL sum = (REAL)0;
  for (int dy = 0; dy < wh; dy++) {
    const int ty = y - dy;
    if (ty < 0 || ty % sh != 0 || ty / sh >= outH) continue;
    for (int dx = 0; dx < ww; dx++) {
      const int tx = x - dx;
      if (tx < 0 || tx % sw != 0 || tx / sw >= outW) continue;
      sum += out[((size_t)(ty / sh) * outW + tx / sw) * channels + c] * inv;
    }
  }
  input[offIn + e] = sum;
}
