// The fused multi-layer structured NTK kernel (trace mode, float32).
//
// For an output tile of rows1 × cols samples it computes, in one pass,
//
//     out[i*ldo + j] = Σ_l (scale_l · <a1_l[i], a2_l[j]> + c_l) · <g1_l[i], g2_l[j]>
//
// over the dense layers l, with a1_l: rows1 × ka_l and a2_l: cols × ka_l the
// layer inputs (row-major, row stride ka_l) and g1_l: rows1 × kg_l,
// g2_l: cols × kg_l the output cotangents (row stride kg_l).
//
// Fixed reduction order, the same on every instruction set, vector width and
// thread split: for each output entry, each dot product runs k = 0, 1, … with
// one fused multiply-add per term from 0, then t = fma(scale, <a>, c) and
// acc = fma(t, <g>, acc) layer by layer from acc = 0. Vectors run across
// output entries, never along a reduction, so baseline (fmaf), AVX2 and
// AVX-512 give byte-identical results. The instruction set is ntk_isa_get().
#pragma once
#include <stddef.h>

/// Polled between column blocks (every few milliseconds of work); non-zero
/// stops the call, which then returns 1 with the tile partly written.
typedef int (*ntk_poll_fn)(void);

typedef struct ntk_fused_layer_f32 {
  const float *a1, *a2;
  const float *g1, *g2;
  size_t ka, kg;
  float scale, c;
} ntk_fused_layer_f32;

/// Scratch floats one call of ntk_fused_gram_f32 with `rows` rows allocates
/// (a packed column block of ~192 KiB, at least one micro-panel, and a
/// partial last row micro-panel).
size_t ntk_fused_gram_scratch_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows);

/// Writes out[i*ldo + j] for i < rows1, j < cols (overwriting). Row i of the
/// tile is row i of a1/g1; column j is row j of a2/g2. With diagonal >= 0,
/// row i is sample diagonal + i of the same set as the columns, and only
/// entries on or above the diagonal (column >= diagonal + row) are required:
/// micro-tiles wholly below it are skipped (left unwritten), others written
/// whole. Returns 0, 1 when `cancelled` (may be NULL) stopped it, or -1
/// when the scratch cannot be allocated.
int ntk_fused_gram_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows1, size_t cols,
                       float *out, size_t ldo, long diagonal, ntk_poll_fn cancelled);

/// Pre-packed operands, for callers that reuse them across many tiles.
/// Floats that ntk_fused_pack_f32 writes for n samples of the first set
/// (second = 0: row panels) or the second (second = 1: column panels), with
/// the instruction set in force (pack and compute under the same one).
size_t ntk_fused_packed_floats(const ntk_fused_layer_f32 *layers, size_t count, size_t n, int second);
/// Packs samples [s0, s0+n) (a1/g1 when second = 0, a2/g2 when 1), zero-padded.
void ntk_fused_pack_f32(const ntk_fused_layer_f32 *layers, size_t count, int second, size_t s0, size_t n,
                        float *dst);
/// ntk_fused_gram_f32 over pre-packed operands: apacked holds rows1 samples
/// from a row-panel boundary, or is NULL (rows read in place from a1/g1, as
/// ntk_fused_gram_f32 does); bpacked cols samples from a column-panel
/// boundary (64-byte aligned). Same arithmetic, same bits.
int ntk_fused_gram_packed_f32(const ntk_fused_layer_f32 *layers, size_t count, size_t rows1, size_t cols,
                              const float *apacked, const float *bpacked, float *out, size_t ldo, long diagonal,
                              ntk_poll_fn cancelled);

/// The micro-tile (rows × columns) of the kernel ntk_fused_gram_f32 uses now.
void ntk_fused_gram_micro_tile(int *rows, int *columns);

/// Explicit (Jacobian-block) features: out[i*ldo + j] += Σ_p x1[i*ld1 + p] · x2[j*ld2 + p] for
/// i < rows1, j < cols, p < k. The sum runs in fixed chunks of 256 values, each a chain of fused
/// multiply-adds from 0 added to out in chunk order: the same bits on every instruction set and row
/// or column split. With `diagonal` set, row i and column j are samples i + offset and j of one set
/// (offset: this call's first row minus its first column), and micro-tiles wholly below the
/// diagonal (j < i + offset) are skipped. Returns 0, 1 when `cancelled` stopped it (out partly
/// updated), -1 when its scratch (ntk_explicit_gram_scratch_f32 floats) cannot be allocated.
int ntk_explicit_gram_f32(const float *x1, size_t ld1, const float *x2, size_t ld2, size_t rows1, size_t cols,
                          size_t k, float *out, size_t ldo, int diagonal, long offset, ntk_poll_fn cancelled);
size_t ntk_explicit_gram_scratch_f32(void);
