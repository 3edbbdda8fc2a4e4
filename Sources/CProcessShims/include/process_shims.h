#ifndef MEDIAD_PROCESS_SHIMS_H
#define MEDIAD_PROCESS_SHIMS_H

#include <sys/types.h>

/// prctl(2) is variadic, so Swift cannot call it: one wrapper per option mediad uses.
int mediad_set_no_new_privs(void);
int mediad_set_parent_death_signal(int signal);

/// Moves the calling process into new, empty network namespaces (loopback down, no routes).
/// Tries a plain network namespace first (needs CAP_SYS_ADMIN), then a user namespace
/// with one (unprivileged, where the kernel allows it). Returns 0 when isolated.
int mediad_isolate_network(void);

/// Spawns `path` with `argv`/`envp`; the child gets `/dev/null` as stdin, `channel` as
/// fd 3, `output` as stdout and stderr, and no other descriptor of the parent.
/// Returns 0 and the pid, or an errno value.
int mediad_spawn_worker(const char *path, char *const argv[], char *const envp[], int channel, int output, pid_t *pid);

#endif
