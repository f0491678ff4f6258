/// Async-signal-safe pieces of NTKit's output-commit layer: SIGINT, SIGTERM and
/// SIGHUP set one flag that long loops poll; a second signal, or any signal
/// while a call that cannot poll runs (LAPACK), removes every registered
/// temporary file and ends the process with status 130 at once.
#ifndef NTKIT_SAFETY_H
#define NTKIT_SAFETY_H

#include <stddef.h>

/// Installs the handlers (idempotent).
void ntk_signals_install(void);
/// 1 once SIGINT, SIGTERM or SIGHUP arrived.
int ntk_signals_requested(void);
/// The signal that arrived first (0 if none).
int ntk_signals_number(void);
/// Makes the request flag set, as if a signal had arrived (tests).
void ntk_signals_request(void);
/// While > 0, a signal removes the temporaries and exits 130 at once.
void ntk_signals_enter_immediate(void);
void ntk_signals_leave_immediate(void);
/// Registers a temporary path that the handler unlinks before exiting;
/// returns a slot (>= 0) or -1 when the table is full or the path too long.
int ntk_temp_register(const char *path);
/// Forgets a slot (after the file was renamed into place or removed).
void ntk_temp_unregister(int slot);
/// Unlinks every registered temporary (async-signal-safe).
void ntk_temp_remove_all(void);
/// Discards what stdout has buffered (so a failed command prints no "wrote …").
void ntk_stdout_discard(void);

/// SIGBUS guard for reads from a memory map: copies `count` bytes from `src`
/// to `dst`; returns 0, or -1 if the mapped file shrank under the read (SIGBUS).
int ntk_guarded_copy(void *dst, const void *src, size_t count);

/// snprintf(out, size, spec, value) for one double (`spec` holds one double
/// conversion, e.g. "%.3f"). Swift's withVaList casts each argument to a
/// runtime protocol, whose first use scans every conformance in the binary.
int ntk_format_double(char *out, size_t size, const char *spec, double value);

#endif
