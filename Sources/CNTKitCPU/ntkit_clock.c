// Core clock from a dependent-add chain (see include/ntkit_clock.h).
#include "ntkit_clock.h"
#include <time.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double ntk_measure_clock_mhz(int trials) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  enum { ITERATIONS = 200000, CHAIN = 20 };  // 4 M cycles: ~1–2 ms
  double best = 0;
  for (int t = 0; t < trials; t++) {
    unsigned long x = 0;
    double t0 = now_seconds();
    for (long i = 0; i < ITERATIONS; i++) {
      __asm__ volatile(
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
          : "+r"(x));
    }
    double s = now_seconds() - t0;
    if (s > 0) {
      double mhz = (double)ITERATIONS * CHAIN / s / 1e6;
      if (mhz > best) best = mhz;
    }
  }
  return best;
#else
  (void)trials;
  return 0;
#endif
}
