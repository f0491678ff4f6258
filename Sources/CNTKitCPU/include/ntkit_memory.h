// Memory advice for large outputs.
#pragma once
#include <stddef.h>

/// Asks the kernel for transparent huge pages over the whole pages inside
/// [p, p + bytes) (Linux madvise(MADV_HUGEPAGE); a no-op elsewhere or when
/// refused). For a large output written once: 512× fewer first-touch faults,
/// which on a VM cost several times the page clearing itself.
void ntk_advise_huge_pages(void *p, size_t bytes);
