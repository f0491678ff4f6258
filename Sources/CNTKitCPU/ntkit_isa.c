// Instruction-set level of the CPU kernels (see include/ntkit_isa.h).
#include "ntkit_isa.h"

static int ntk_isa_level = -1;

int ntk_isa_detect(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return NTK_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return NTK_ISA_AVX2;
#endif
  return NTK_ISA_BASELINE;
}

void ntk_isa_set(int level) {
  int widest = ntk_isa_detect();
  if (level < NTK_ISA_BASELINE) level = NTK_ISA_BASELINE;
  ntk_isa_level = level > widest ? widest : level;
}

int ntk_isa_get(void) {
  if (ntk_isa_level < 0) ntk_isa_level = ntk_isa_detect();
  return ntk_isa_level;
}
