#ifndef EVALH_SYS_H
#define EVALH_SYS_H
#include <spawn.h>
#include <sys/types.h>

/// pidfd_open(2): a descriptor that becomes readable when the process exits; -1 and errno on failure.
int evalh_pidfd_open(pid_t pid);

/// posix_spawn_file_actions_addchdir_np, which Swift's Glibc module hides behind _GNU_SOURCE.
int evalh_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` on, so
/// an agent inherits none that evalh itself inherited without close-on-exec.
int evalh_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// pipe2(2), hidden behind _GNU_SOURCE too.
int evalh_pipe2(int fds[2], int flags);

/// copy_file_range(2) from the current offsets, hidden behind _GNU_SOURCE too: bytes copied, 0 at the
/// end of `in`, -1 and errno on failure.
ssize_t evalh_copy_file_range(int in, int out, size_t length);

/// prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants (an agent's child that called setsid) are
/// reparented to evalh instead of init, so evalh can find and end them.
int evalh_set_child_subreaper(void);

/// Records a running child's process group for the crash handler (4096 at most at once).
void evalh_track_group(pid_t pgid);

/// Forgets a process group recorded by `evalh_track_group`.
void evalh_untrack_group(pid_t pgid);

/// On SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE and SIGSEGV (a Swift trap among them), SIGKILLs every
/// recorded process group, then dies of the same signal: no agent outlives a crashed evalh.
void evalh_install_crash_handler(void);

/// renameat2(RENAME_NOREPLACE): rename, failing with EEXIST when `to` exists (even an empty folder).
int evalh_rename_noreplace(const char *from, const char *to);

#endif
