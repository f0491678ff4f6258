// NTK_CLONES: one copy of a loop per instruction set (AVX-512, AVX2, the
// x86-64 baseline), chosen at load time by the CPU, for the vectorised loops
// of this target (private header). Files that use it set
// `#pragma clang fp contract(off)` so every clone gives the same bits.
#pragma once

#if defined(__x86_64__) && defined(__clang__)
#define NTK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NTK_CLONES
#endif
