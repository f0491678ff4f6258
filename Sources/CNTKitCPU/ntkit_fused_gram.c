// The fused multi-layer structured NTK kernel (see include/ntkit_fused_gram.h).
//
// Shapes and layout. Per call: an output tile of rows1 × cols entries, row
// stride ldo. Per dense layer l: A1 rows1 × ka, A2 cols × ka, G1 rows1 × kg,
// G2 cols × kg, all row-major with the reduction (ka, kg) contiguous.
// F = Σ_l (ka + kg) values per sample.
//
// Blocking (GotoBLAS-style, but over all layers at once):
//   for each block of NC columns:    pack A2/G2 of every layer   → [NC/NR][F][NR]
//     for each block of MC rows:     (read in place: MR row streams per layer)
//       for each MR × NR micro-tile: for each layer, <a> and <g> over the whole
//         reduction in registers, then acc = fma(fma(scale, <a>, c), <g>, acc);
//         acc is written once to the output at the end (no per-layer pass).
// Column panels are zero-padded to whole micro-tiles, and so is a partial last
// row micro-panel (packed apart), so edge entries run the same code as
// interior ones. (ntk_fused_gram_packed_f32 takes pre-packed column panels,
// and rows pre-packed [MC/MR][F][MR] or in place.) Every entry's arithmetic is a fixed sequence of
// fused multiply-adds, whatever MR, NR, the vector width or the row split:
// results are byte-identical across baseline / AVX2 / AVX-512 and threads.
#include "ntkit_fused_gram.h"
#include "ntkit_isa.h"
#include <math.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

// No implicit contraction: every fused multiply-add below is explicit.
#pragma clang fp contract(off)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define NTK_X86 1
#include <immintrin.h>
#endif

typedef struct {
  int mr, nr;
} micro_shape;

static micro_shape shape_for(int isa) {
  micro_shape s = {4, 8};
#ifdef NTK_X86
  if (isa == NTK_ISA_AVX512) { s.mr = 8; s.nr = 32; }
  else if (isa == NTK_ISA_AVX2) { s.mr = 6; s.nr = 16; }
#else
  (void)isa;
#endif
  return s;
}

void ntk_fused_gram_micro_tile(int *rows, int *columns) {
  micro_shape s = shape_for(ntk_isa_get());
  *rows = s.mr;
  *columns = s.nr;
}

static size_t features(const ntk_fused_layer_f32 *layers, size_t count) {
  size_t f = 0;
  for (size_t l = 0; l < count; l++) f += layers[l].ka + layers[l].kg;
  return f;
}

// Cache targets: a packed column block of ~192 KiB (L2-resident while the row
// panels stream past it); row blocks of up to 4 MiB (outer caches).
enum { NTK_B_BYTES = 192 * 1024, NTK_A_BYTES = 4 * 1024 * 1024, NTK_MAX_NC = 512 };

static size_t round_down(size_t v, size_t m) { return v / m * m; }

static size_t block_rows(size_t f, size_t mr, size_t rows) {
  size_t mc = round_down(NTK_A_BYTES / (4 * (f ? f : 1)), mr);
  if (mc < mr) mc = mr;
  size_t need = (rows + mr - 1) / mr * mr;
  return need < mc ? need : mc;
}

static size_t block_cols(size_t f, size_t nr) {
  size_t nc = round_down(NTK_B_BYTES / (4 * (f ? f : 1)), nr);
  if (nc < nr) nc = nr;
  if (nc > NTK_MAX_NC) nc = round_down(NTK_MAX_NC, nr);
  return nc;
}

static size_t scratch_floats(size_t f, micro_shape s, size_t rows) {
  (void)rows;
  return (size_t)s.mr * f + block_cols(f, s.nr) * f + 32;
}

size_t ntk_fused_gram_scratch_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows) {
  size_t f = features(layers, count);
  // The widest need over the instruction sets (the set may change between calls in tests).
  size_t most = 0;
  for (int isa = NTK_ISA_BASELINE; isa <= NTK_ISA_AVX512; isa++) {
    size_t need = scratch_floats(f, shape_for(isa), rows);
    if (need > most) most = need;
  }
  return most;
}

// Packs rows [r0, r0 + w) × values [p0, p0 + kc) of x (row stride ld, n rows
// in all) as [kc][w], rows past n zero: w source streams read in step,
// the destination written contiguously.
static void pack_chunk_scalar(const float *x, size_t ld, size_t n, size_t r0, size_t w, size_t p0, size_t kc,
                              float *dst) {
  const float *src[32];
  size_t live = n > r0 ? (n - r0 < w ? n - r0 : w) : 0;
  for (size_t r = 0; r < live; r++) src[r] = x + (r0 + r) * ld + p0;
  for (size_t p = 0; p < kc; p++) {
    float *d = dst + p * w;
    for (size_t r = 0; r < live; r++) d[r] = src[r][p];
    for (size_t r = live; r < w; r++) d[r] = 0;
  }
}

#ifdef NTK_X86
// pack_chunk for w whole rows (w a multiple of 8): 8 × 8 blocks transposed
// in registers, each source row read as a contiguous stream.
__attribute__((target("avx2"))) static void pack_chunk_avx2(const float *x, size_t ld, size_t r0, size_t w, size_t p0,
                                                            size_t kc, float *dst) {
  for (size_t rb = 0; rb < w; rb += 8) {
    const float *s = x + (r0 + rb) * ld + p0;
    size_t p = 0;
    for (; p + 8 <= kc; p += 8) {
      __m256 a0 = _mm256_loadu_ps(s + p), a1 = _mm256_loadu_ps(s + ld + p);
      __m256 a2 = _mm256_loadu_ps(s + 2 * ld + p), a3 = _mm256_loadu_ps(s + 3 * ld + p);
      __m256 a4 = _mm256_loadu_ps(s + 4 * ld + p), a5 = _mm256_loadu_ps(s + 5 * ld + p);
      __m256 a6 = _mm256_loadu_ps(s + 6 * ld + p), a7 = _mm256_loadu_ps(s + 7 * ld + p);
      __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
      __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
      __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
      __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
      __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      float *d = dst + p * w + rb;
      _mm256_storeu_ps(d + 0 * w, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(d + 1 * w, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(d + 2 * w, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(d + 3 * w, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(d + 4 * w, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(d + 5 * w, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(d + 6 * w, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(d + 7 * w, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    for (; p < kc; p++)
      for (size_t r = 0; r < 8; r++) dst[p * w + rb + r] = s[r * ld + p];
  }
}
#endif

static void pack_chunk(const float *x, size_t ld, size_t n, size_t r0, size_t w, size_t p0, size_t kc, float *dst) {
#ifdef NTK_X86
  if (ntk_isa_get() >= NTK_ISA_AVX2 && w % 8 == 0 && n >= r0 + w) {
    pack_chunk_avx2(x, ld, r0, w, p0, kc, dst);
    return;
  }
#endif
  pack_chunk_scalar(x, ld, n, r0, w, p0, kc, dst);
}

// Packs samples [s0, s0+n) of every layer (a then g) into panels of w samples:
// [ceil(n/w)][F][w].
static void pack_block(const ntk_fused_layer_f32 *layers, size_t count, int second, size_t s0, size_t n,
                       size_t w, size_t f, float *dst) {
  for (size_t q = 0; q * w < n; q++) {
    size_t rows = n - q * w < w ? n - q * w : w;
    float *panel = dst + q * w * f;
    for (size_t l = 0; l < count; l++) {
      const ntk_fused_layer_f32 *L = &layers[l];
      const float *a = second ? L->a2 : L->a1, *g = second ? L->g2 : L->g1;
      pack_chunk(a + (s0 + q * w) * L->ka, L->ka, rows, 0, w, 0, L->ka, panel);
      panel += L->ka * w;
      pack_chunk(g + (s0 + q * w) * L->kg, L->kg, rows, 0, w, 0, L->kg, panel);
      panel += L->kg * w;
    }
  }
}

// A micro-kernel's two dot products for layer L, sa = <a> and sg = <g>: rows
// from the packed panel ap (then advanced past the layer) or, with ap NULL,
// MR rows i.. of a1/g1 in place; columns from the packed panel bp (advanced).
#define LAYER_DOTS(DOT)                                                   \
  do {                                                                    \
    if (ap) {                                                             \
      DOT(ap, 1, MR, bp, L->ka, sa);                                      \
      DOT(ap + L->ka * MR, 1, MR, bp + L->ka * NR, L->kg, sg);            \
      ap += (L->ka + L->kg) * MR;                                         \
    } else {                                                              \
      DOT(L->a1 + i * L->ka, L->ka, 1, bp, L->ka, sa);                    \
      DOT(L->g1 + i * L->kg, L->kg, 1, bp + L->ka * NR, L->kg, sg);       \
    }                                                                     \
    bp += (L->ka + L->kg) * NR;                                           \
  } while (0)

// MARK: - Portable micro-kernel (4 × 8, fmaf)

// res (MR × NR) = the k-term products of a row and a column micro-panel,
// each a chain of fmaf from 0.
static void dot_portable(const float *ap, size_t as, size_t ks, const float *bp, size_t k, float *res) {
  enum { MR = 4, NR = 8 };
  float s[MR * NR];
  for (int e = 0; e < MR * NR; e++) s[e] = 0;
  for (size_t p = 0; p < k; p++)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) s[r * NR + j] = fmaf(ap[p * ks + r * as], bp[p * NR + j], s[r * NR + j]);
  memcpy(res, s, sizeof s);
}

static void micro_portable(const ntk_fused_layer_f32 *layers, size_t count, const float *ap, size_t i,
                           const float *bp, float *acc) {
  enum { MR = 4, NR = 8 };
  float o[MR * NR], sa[MR * NR], sg[MR * NR];
  for (int e = 0; e < MR * NR; e++) o[e] = 0;
  for (size_t l = 0; l < count; l++) {
    const ntk_fused_layer_f32 *L = &layers[l];
    LAYER_DOTS(dot_portable);
    for (int e = 0; e < MR * NR; e++) o[e] = fmaf(fmaf(L->scale, sa[e], L->c), sg[e], o[e]);
  }
  memcpy(acc, o, sizeof o);
}

#ifdef NTK_X86
// MARK: - AVX2 + FMA micro-kernel (6 × 16: 12 ymm accumulators)

#define AVX2_ROW(r)                                                 \
  {                                                                 \
    __m256 a = _mm256_broadcast_ss(ap + r * as);                    \
    c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                      \
    c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);                      \
  }

__attribute__((target("avx2,fma"), always_inline)) static inline void
dot_avx2(const float *ap, size_t as, size_t ks, const float *bp, size_t k, float *res) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (size_t p = 0; p < k; p++) {
    __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
    AVX2_ROW(0) AVX2_ROW(1) AVX2_ROW(2) AVX2_ROW(3) AVX2_ROW(4) AVX2_ROW(5)
    ap += ks;
    bp += 16;
  }
  _mm256_store_ps(res + 0, c00); _mm256_store_ps(res + 8, c01);
  _mm256_store_ps(res + 16, c10); _mm256_store_ps(res + 24, c11);
  _mm256_store_ps(res + 32, c20); _mm256_store_ps(res + 40, c21);
  _mm256_store_ps(res + 48, c30); _mm256_store_ps(res + 56, c31);
  _mm256_store_ps(res + 64, c40); _mm256_store_ps(res + 72, c41);
  _mm256_store_ps(res + 80, c50); _mm256_store_ps(res + 88, c51);
}

__attribute__((target("avx2,fma"))) static void
micro_avx2(const ntk_fused_layer_f32 *layers, size_t count, const float *ap, size_t i, const float *bp, float *acc) {
  enum { MR = 6, NR = 16 };
  _Alignas(64) float sa[MR * NR], sg[MR * NR];
  for (int e = 0; e < MR * NR; e += 8) _mm256_store_ps(acc + e, _mm256_setzero_ps());
  for (size_t l = 0; l < count; l++) {
    const ntk_fused_layer_f32 *L = &layers[l];
    LAYER_DOTS(dot_avx2);
    __m256 s = _mm256_set1_ps(L->scale), c = _mm256_set1_ps(L->c);
    for (int e = 0; e < MR * NR; e += 8) {
      __m256 t = _mm256_fmadd_ps(s, _mm256_load_ps(sa + e), c);
      _mm256_store_ps(acc + e, _mm256_fmadd_ps(t, _mm256_load_ps(sg + e), _mm256_load_ps(acc + e)));
    }
  }
}

// MARK: - AVX-512 micro-kernel (8 × 32: 16 zmm accumulators)

#define AVX512_ROW(r)                                               \
  {                                                                 \
    __m512 a = _mm512_set1_ps(ap[r * as]);                          \
    c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                      \
    c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);                      \
  }

__attribute__((target("avx512f"), always_inline)) static inline void
dot_avx512(const float *ap, size_t as, size_t ks, const float *bp, size_t k, float *res) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  for (size_t p = 0; p < k; p++) {
    __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
    AVX512_ROW(0) AVX512_ROW(1) AVX512_ROW(2) AVX512_ROW(3)
    AVX512_ROW(4) AVX512_ROW(5) AVX512_ROW(6) AVX512_ROW(7)
    ap += ks;
    bp += 32;
  }
  _mm512_store_ps(res + 0, c00); _mm512_store_ps(res + 16, c01);
  _mm512_store_ps(res + 32, c10); _mm512_store_ps(res + 48, c11);
  _mm512_store_ps(res + 64, c20); _mm512_store_ps(res + 80, c21);
  _mm512_store_ps(res + 96, c30); _mm512_store_ps(res + 112, c31);
  _mm512_store_ps(res + 128, c40); _mm512_store_ps(res + 144, c41);
  _mm512_store_ps(res + 160, c50); _mm512_store_ps(res + 176, c51);
  _mm512_store_ps(res + 192, c60); _mm512_store_ps(res + 208, c61);
  _mm512_store_ps(res + 224, c70); _mm512_store_ps(res + 240, c71);
}

__attribute__((target("avx512f"))) static void
micro_avx512(const ntk_fused_layer_f32 *layers, size_t count, const float *ap, size_t i, const float *bp, float *acc) {
  enum { MR = 8, NR = 32 };
  _Alignas(64) float sa[MR * NR], sg[MR * NR];
  for (int e = 0; e < MR * NR; e += 16) _mm512_store_ps(acc + e, _mm512_setzero_ps());
  for (size_t l = 0; l < count; l++) {
    const ntk_fused_layer_f32 *L = &layers[l];
    LAYER_DOTS(dot_avx512);
    __m512 s = _mm512_set1_ps(L->scale), c = _mm512_set1_ps(L->c);
    for (int e = 0; e < MR * NR; e += 16) {
      __m512 t = _mm512_fmadd_ps(s, _mm512_load_ps(sa + e), c);
      _mm512_store_ps(acc + e, _mm512_fmadd_ps(t, _mm512_load_ps(sg + e), _mm512_load_ps(acc + e)));
    }
  }
}
#endif

// A micro-tile of every layer: rows from the packed panel ap, or (ap NULL)
// MR whole rows i.. of a1/g1 read in place; columns from the packed panel bp.
typedef void (*micro_fn)(const ntk_fused_layer_f32 *, size_t, const float *, size_t, const float *, float *);

size_t ntk_fused_packed_floats(const ntk_fused_layer_f32 *layers, size_t count, size_t n, int second) {
  micro_shape s = shape_for(ntk_isa_get());
  size_t w = second ? (size_t)s.nr : (size_t)s.mr;
  return (n + w - 1) / w * w * features(layers, count);
}

void ntk_fused_pack_f32(const ntk_fused_layer_f32 *layers, size_t count, int second, size_t s0, size_t n,
                        float *dst) {
  micro_shape s = shape_for(ntk_isa_get());
  size_t w = second ? (size_t)s.nr : (size_t)s.mr;
  pack_block(layers, count, second, s0, n, w, features(layers, count), dst);
}

static micro_fn pick_micro(int isa) {
#ifdef NTK_X86
  if (isa == NTK_ISA_AVX512) return micro_avx512;
  if (isa == NTK_ISA_AVX2) return micro_avx2;
#endif
  (void)isa;
  return micro_portable;
}

// Rows [i0, i0 + ni) of a call against the packed column panels bp of
// columns [j0, j0 + nj): whole row micro-panels from apacked or, with
// apacked NULL, read in place from a1/g1 (a partial last one from `tail`,
// packed by the caller). Writes the micro-tiles on or above the diagonal.
static void fused_row_block(const ntk_fused_layer_f32 *layers, size_t count, micro_fn micro, micro_shape s, size_t f,
                            size_t rows1, size_t i0, size_t ni, size_t j0, size_t nj, const float *apacked,
                            const float *tail, const float *bp, float *out, size_t ldo, long diagonal, float *acc) {
  const size_t mr = (size_t)s.mr, nr = (size_t)s.nr;
  for (size_t ir = i0; ir < i0 + ni; ir += mr) {
    size_t rows = rows1 - ir < mr ? rows1 - ir : mr;
    const float *ap = apacked ? apacked + (ir / mr) * mr * f : (rows < mr ? tail : NULL);
    for (size_t jr = 0; jr < nj; jr += nr) {
      size_t width = nj - jr < nr ? nj - jr : nr;
      if (diagonal >= 0 && j0 + jr + width <= (size_t)diagonal + ir) continue;
      micro(layers, count, ap, ir, bp + (jr / nr) * nr * f, acc);
      float *o = out + ir * ldo + j0 + jr;
      for (size_t r = 0; r < rows; r++) memcpy(o + r * ldo, acc + r * nr, width * sizeof(float));
    }
  }
}

// The zero-padded packed panel of a partial last row micro-panel (rows1 not
// a multiple of mr), or NULL when there is none; -1 in *failed when out of memory.
static float *pack_tail(const ntk_fused_layer_f32 *layers, size_t count, size_t rows1, size_t mr, size_t f,
                        int *failed) {
  *failed = 0;
  size_t rem = rows1 % mr;
  if (rem == 0) return NULL;
  void *raw = NULL;
  if (posix_memalign(&raw, 64, mr * f * sizeof(float)) != 0) { *failed = 1; return NULL; }
  pack_block(layers, count, 0, rows1 - rem, rem, mr, f, raw);
  return raw;
}

int ntk_fused_gram_packed_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows1, size_t cols,
                              const float *apacked, const float *bpacked, float *out, size_t ldo, long diagonal,
                              ntk_poll_fn cancelled) {
  if (rows1 == 0 || cols == 0) return 0;
  int isa = ntk_isa_get();
  micro_shape s = shape_for(isa);
  micro_fn micro = pick_micro(isa);
  const size_t mr = (size_t)s.mr, nr = (size_t)s.nr;
  const size_t f = features(layers, count);
  const size_t nc = block_cols(f, nr);
  const size_t mc = block_rows(f, mr, rows1);
  int failed = 0;
  float *tail = apacked ? NULL : pack_tail(layers, count, rows1, mr, f, &failed);
  if (failed) return -1;
  _Alignas(64) float acc[8 * 32];
  // Row blocks of mc rows (they stay in the outer caches) while the column
  // panels stream past them.
  for (size_t i0 = 0; i0 < rows1; i0 += mc) {
    size_t ni = rows1 - i0 < mc ? rows1 - i0 : mc;
    for (size_t j0 = 0; j0 < cols; j0 += nc) {
      size_t nj = cols - j0 < nc ? cols - j0 : nc;
      if (diagonal >= 0 && j0 + nj <= (size_t)diagonal + i0) continue;
      if (cancelled && cancelled()) { free(tail); return 1; }
      fused_row_block(layers, count, micro, s, f, rows1, i0, ni, j0, nj, apacked, tail,
                      bpacked + (j0 / nr) * nr * f, out, ldo, diagonal, acc);
    }
  }
  free(tail);
  return 0;
}

int ntk_fused_gram_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows1, size_t cols,
                       float *out, size_t ldo, long diagonal, ntk_poll_fn cancelled) {
  if (rows1 == 0 || cols == 0) return 0;
  int isa = ntk_isa_get();
  micro_shape s = shape_for(isa);
  micro_fn micro = pick_micro(isa);
  const size_t mr = (size_t)s.mr, nr = (size_t)s.nr;
  const size_t f = features(layers, count);
  const size_t mc = block_rows(f, mr, rows1), nc = block_cols(f, nr);
  int failed = 0;
  float *tail = pack_tail(layers, count, rows1, mr, f, &failed);
  void *raw = NULL;
  if (failed || posix_memalign(&raw, 64, nc * f * sizeof(float)) != 0) { free(tail); return -1; }
  // Scratch: the packed column block (64-byte aligned); the rows are read in place.
  float *bpack = raw;
  _Alignas(64) float acc[8 * 32];
  for (size_t j0 = 0; j0 < cols; j0 += nc) {
    size_t nj = cols - j0 < nc ? cols - j0 : nc;
    // Upper triangle only: skip column blocks left of every row.
    if (diagonal >= 0 && j0 + nj <= (size_t)diagonal) continue;
    if (cancelled && cancelled()) { free(raw); free(tail); return 1; }
    pack_block(layers, count, 1, j0, nj, nr, f, bpack);
    for (size_t i0 = 0; i0 < rows1; i0 += mc) {
      size_t ni = rows1 - i0 < mc ? rows1 - i0 : mc;
      if (diagonal >= 0 && j0 + nj <= (size_t)diagonal + i0) break;
      fused_row_block(layers, count, micro, s, f, rows1, i0, ni, j0, nj, NULL, tail, bpack, out, ldo, diagonal, acc);
    }
  }
  free(raw);
  free(tail);
  return 0;
}

// MARK: - Explicit features: out += X1·X2ᵀ in fixed chunks (ntk_explicit_gram_f32)
//
// Shapes and layout: X1 rows1 × k (row stride ld1), X2 cols × k (row stride
// ld2), out rows1 × cols (row stride ldo), all row-major. Loops: column
// blocks whose chunk fills half the L2 (explicit_block_columns); the
// reduction in chunks of NTK_EXPLICIT_KC values (the block's chunk, packed
// [NC/NR][KC][NR] by 8 × 8 register transposes, stays in L2); per chunk each
// row micro-panel, read in place (MR row streams; only a partial last panel
// is packed), is multiplied by every column micro-panel of the block with the
// register-blocked dot kernels above. Each chunk's dot product is a chain of
// fused multiply-adds from 0, added to out chunk by chunk in order: the same
// bits on every instruction set, micro-tile and row or column split.

enum { NTK_EXPLICIT_KC = 256, NTK_EXPLICIT_NC = 512 };

// A micro-panel's rows: packed [k][MR] (ld 0) or MR rows of the source
// itself, ld apart (no packing: the same values in the same order).
typedef void (*dot_fn)(const float *ap, size_t ld, const float *bp, size_t k, float *res);

static void dot_portable_call(const float *ap, size_t ld, const float *bp, size_t k, float *res) {
  if (ld == 0) dot_portable(ap, 1, 4, bp, k, res);
  else dot_portable(ap, ld, 1, bp, k, res);
}

#ifdef NTK_X86
__attribute__((target("avx2,fma"))) static void dot_avx2_call(const float *ap, size_t ld, const float *bp, size_t k,
                                                              float *res) {
  if (ld == 0) dot_avx2(ap, 1, 6, bp, k, res);
  else dot_avx2(ap, ld, 1, bp, k, res);
}
__attribute__((target("avx512f"))) static void dot_avx512_call(const float *ap, size_t ld, const float *bp, size_t k,
                                                               float *res) {
  if (ld == 0) dot_avx512(ap, 1, 8, bp, k, res);
  else dot_avx512(ap, ld, 1, bp, k, res);
}
#endif

static dot_fn pick_dot(int isa) {
#ifdef NTK_X86
  if (isa == NTK_ISA_AVX512) return dot_avx512_call;
  if (isa == NTK_ISA_AVX2) return dot_avx2_call;
#endif
  (void)isa;
  return dot_portable_call;
}

// Columns per block: the block's chunk takes half the L2 (Zen 3: 512 KiB ->
// 256 columns; Zen 4/5: 1 MiB -> 512), at most NTK_EXPLICIT_NC. Speed only:
// the chunks, and so the bits, do not depend on it.
static size_t explicit_block_columns(void) {
  static size_t cached;
  size_t nc = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (nc) return nc;
  long l2 = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
  l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (l2 <= 0) l2 = 512 * 1024;
  nc = (size_t)l2 / 2 / (NTK_EXPLICIT_KC * sizeof(float));
  if (nc < 64) nc = 64;
  if (nc > NTK_EXPLICIT_NC) nc = NTK_EXPLICIT_NC;
  __atomic_store_n(&cached, nc, __ATOMIC_RELAXED);
  return nc;
}

size_t ntk_explicit_gram_scratch_f32(void) {
  return (size_t)NTK_EXPLICIT_NC * NTK_EXPLICIT_KC + (size_t)NTK_EXPLICIT_KC * 8 + 8 * 32 + 16;
}

int ntk_explicit_gram_f32(const float *x1, size_t ld1, const float *x2, size_t ld2, size_t rows1, size_t cols,
                          size_t k, float *out, size_t ldo, int diagonal, long offset, ntk_poll_fn cancelled) {
  if (rows1 == 0 || cols == 0 || k == 0) return 0;
  int isa = ntk_isa_get();
  micro_shape s = shape_for(isa);
  dot_fn dot = pick_dot(isa);
  const size_t mr = (size_t)s.mr, nr = (size_t)s.nr, kcmax = NTK_EXPLICIT_KC;
  const size_t nc = round_down(explicit_block_columns(), nr);
  // Entries (i, j) with j < i + offset lie below the diagonal; none are when !diagonal.
  const long below = diagonal ? offset : LONG_MIN / 2;
  void *raw = NULL;
  if (posix_memalign(&raw, 64, ntk_explicit_gram_scratch_f32() * sizeof(float)) != 0) return -1;
  // Scratch: the block's packed chunk, a partial row micro-panel's chunk, the micro-tile (64-byte aligned).
  float *bpack = raw, *apack = bpack + nc * kcmax, *acc = apack + kcmax * mr;
  for (size_t j0 = 0; j0 < cols; j0 += nc) {
    size_t nj = cols - j0 < nc ? cols - j0 : nc;
    if ((long)(j0 + nj) <= below) continue;
    if (cancelled && cancelled()) { free(raw); return 1; }
    for (size_t p0 = 0; p0 < k; p0 += kcmax) {
      size_t kc = k - p0 < kcmax ? k - p0 : kcmax;
      for (size_t q = 0; q * nr < nj; q++) pack_chunk(x2, ld2, cols, j0 + q * nr, nr, p0, kc, bpack + q * kcmax * nr);
      for (size_t ir = 0; ir < rows1; ir += mr) {
        // Later row panels lie further below the diagonal.
        if ((long)(j0 + nj) <= below + (long)ir) break;
        size_t rows = rows1 - ir < mr ? rows1 - ir : mr;
        // A whole row micro-panel is read in place; a partial one packed with zero rows.
        const float *ap = x1 + ir * ld1 + p0;
        size_t lda = ld1;
        if (rows < mr) {
          pack_chunk(x1, ld1, rows1, ir, mr, p0, kc, apack);
          ap = apack;
          lda = 0;
        }
        for (size_t jr = 0; jr < nj; jr += nr) {
          size_t width = nj - jr < nr ? nj - jr : nr;
          if ((long)(j0 + jr + width) <= below + (long)ir) continue;
          // The tile's rows of out, on their way to L1 while the dot runs.
          for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < width; c += 16) __builtin_prefetch(out + (ir + r) * ldo + j0 + jr + c, 1, 3);
          dot(ap, lda, bpack + (jr / nr) * kcmax * nr, kc, acc);
          for (size_t r = 0; r < rows; r++) {
            float *o = out + (ir + r) * ldo + j0 + jr;
            for (size_t c = 0; c < width; c++) o[c] += acc[r * nr + c];
          }
        }
      }
    }
  }
  free(raw);
  return 0;
}
