// The core clock as measured: a chain of dependent integer additions (one
// cycle each on every x86-64 core since the P6) timed over ~2 ms, best of
// `trials`. It sees turbo, which /proc/cpuinfo's nominal "cpu MHz" of a VM
// does not; a preempted trial only reads low, hence the best of several.
// Returns 0 where it cannot measure (not x86-64).
#pragma once

double ntk_measure_clock_mhz(int trials);
