// Memory advice for large outputs (see include/ntkit_memory.h).
#define _GNU_SOURCE
#include "ntkit_memory.h"
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

void ntk_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0 || bytes < (size_t)(4 << 20)) return;
  uintptr_t start = ((uintptr_t)p + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
  uintptr_t end = ((uintptr_t)p + bytes) / (uintptr_t)page * (uintptr_t)page;
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}
