// Signal handling and guarded copies for NTKit's output-commit layer (see ntkit_safety.h).
#define _GNU_SOURCE
#include "ntkit_safety.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

#define NTK_TEMP_SLOTS 64
#define NTK_TEMP_PATH 4096

static volatile sig_atomic_t requested = 0;
static volatile sig_atomic_t first_signal = 0;
static volatile sig_atomic_t immediate = 0;
static volatile sig_atomic_t slot_used[NTK_TEMP_SLOTS];
static char slot_path[NTK_TEMP_SLOTS][NTK_TEMP_PATH];
static int installed = 0;

void ntk_temp_remove_all(void) {
  for (int i = 0; i < NTK_TEMP_SLOTS; i++) {
    if (slot_used[i]) unlink(slot_path[i]);
  }
}

static void on_signal(int sig) {
  if (requested || immediate) {
    ntk_temp_remove_all();
    _exit(130);
  }
  first_signal = sig;
  requested = 1;
}

void ntk_signals_install(void) {
  if (installed) return;
  installed = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: no read or write fails with EINTR (inputs are regular files,
  // so nothing blocks for long; long loops poll the flag instead).
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

int ntk_signals_requested(void) { return requested != 0; }
int ntk_signals_number(void) { return first_signal; }
void ntk_signals_request(void) { requested = 1; }

void ntk_signals_enter_immediate(void) {
  immediate += 1;
  if (requested) {
    ntk_temp_remove_all();
    _exit(130);
  }
}
void ntk_signals_leave_immediate(void) {
  if (immediate > 0) immediate -= 1;
}

int ntk_temp_register(const char *path) {
  size_t n = strlen(path);
  if (n >= NTK_TEMP_PATH) return -1;
  for (int i = 0; i < NTK_TEMP_SLOTS; i++) {
    if (!slot_used[i]) {
      memcpy(slot_path[i], path, n + 1);
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      slot_used[i] = 1;
      return i;
    }
  }
  return -1;
}

void ntk_temp_unregister(int slot) {
  if (slot >= 0 && slot < NTK_TEMP_SLOTS) slot_used[slot] = 0;
}

void ntk_stdout_discard(void) { __fpurge(stdout); }

// MARK: - SIGBUS guard

static __thread sigjmp_buf *bus_jump = NULL;

static void on_bus(int sig, siginfo_t *info, void *context) {
  (void)info; (void)context;
  if (bus_jump) siglongjmp(*bus_jump, 1);
  // Not inside a guarded copy: restore the default action and re-raise.
  signal(sig, SIG_DFL);
  raise(sig);
}

static int bus_installed = 0;

int ntk_guarded_copy(void *dst, const void *src, size_t count) {
  if (!__atomic_exchange_n(&bus_installed, 1, __ATOMIC_SEQ_CST)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
  }
  sigjmp_buf here;
  if (sigsetjmp(here, 1) != 0) {
    bus_jump = NULL;
    return -1;
  }
  bus_jump = &here;
  memcpy(dst, src, count);
  bus_jump = NULL;
  return 0;
}

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat-nonliteral"
int ntk_format_double(char *out, size_t size, const char *spec, double value) {
  return snprintf(out, size, spec, value);
}
#pragma clang diagnostic pop
