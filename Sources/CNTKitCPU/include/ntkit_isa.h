// Instruction-set level of the CPU kernels, shared by every C kernel file.
//
// Levels: 0 = baseline (x86-64 SSE2, no FMA), 1 = AVX2 + FMA, 2 = AVX-512F.
// `ntk_isa_detect` reports what the CPU supports; the Swift side caps it with
// NTKIT_ISA and stores the result once with `ntk_isa_set` before any kernel
// runs. Kernels with per-ISA variants dispatch on `ntk_isa_get()` instead of
// letting target_clones pick the widest, so that a run can be restricted to a
// narrower instruction set (reproducibility tests, benchmarks).
#pragma once

enum { NTK_ISA_BASELINE = 0, NTK_ISA_AVX2 = 1, NTK_ISA_AVX512 = 2 };

/// The widest level this CPU supports.
int ntk_isa_detect(void);
/// Sets the level the kernels use (clamped to 0...ntk_isa_detect()).
void ntk_isa_set(int level);
/// The level the kernels use (ntk_isa_detect() until ntk_isa_set is called).
int ntk_isa_get(void);
