#define _GNU_SOURCE
#include "evalh_sys.h"
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int evalh_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int evalh_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
  return posix_spawn_file_actions_addchdir_np(actions, path);
}

int evalh_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

ssize_t evalh_copy_file_range(int in, int out, size_t length) { return copy_file_range(in, NULL, out, NULL, length, 0); }

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>

int evalh_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

// The process groups of the children running now, for the crash handler: a fixed table of atomics,
// so the handler reads it without locks (async-signal-safe).
#define EVALH_GROUPS 4096
static _Atomic pid_t groups[EVALH_GROUPS];

void evalh_track_group(pid_t pgid) {
  for (int i = 0; i < EVALH_GROUPS; i++) {
    pid_t empty = 0;
    if (atomic_compare_exchange_strong(&groups[i], &empty, pgid)) return;
  }
}

void evalh_untrack_group(pid_t pgid) {
  for (int i = 0; i < EVALH_GROUPS; i++) {
    pid_t expected = pgid;
    if (atomic_compare_exchange_strong(&groups[i], &expected, 0)) return;
  }
}

static const int fatal_signals[] = {SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV};
#define EVALH_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[EVALH_FATAL];

static void evalh_on_crash(int sig, siginfo_t *info, void *context) {
  for (int i = 0; i < EVALH_GROUPS; i++) {
    pid_t pgid = atomic_load(&groups[i]);
    if (pgid > 0) kill(-pgid, SIGKILL);
  }
  // Whatever handled the signal before (the Swift runtime's backtracer) runs next; then evalh dies
  // of the signal, whether or not that handler returned.
  for (unsigned i = 0; i < EVALH_FATAL; i++) {
    if (fatal_signals[i] != sig) continue;
    struct sigaction before = previous[i];
    if ((before.sa_flags & SA_SIGINFO) && before.sa_sigaction) {
      before.sa_sigaction(sig, info, context);
    } else if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN && before.sa_handler) {
      before.sa_handler(sig);
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void evalh_install_crash_handler(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = evalh_on_crash;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (unsigned i = 0; i < EVALH_FATAL; i++) sigaction(fatal_signals[i], &action, &previous[i]);
}

#include <fcntl.h>
#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

int evalh_rename_noreplace(const char *from, const char *to) {
  return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int evalh_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
  return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
