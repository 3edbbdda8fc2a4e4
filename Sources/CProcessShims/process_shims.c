#define _GNU_SOURCE
#include "process_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <unistd.h>

int mediad_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int mediad_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

int mediad_isolate_network(void) {
    if (unshare(CLONE_NEWNET) == 0) return 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) return 0;
    return -1;
}

int mediad_spawn_worker(const char *path, char *const argv[], char *const envp[], int channel, int output, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    if ((result = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) != 0) goto done;
    if ((result = posix_spawn_file_actions_adddup2(&actions, output, 1)) != 0) goto done;
    if ((result = posix_spawn_file_actions_adddup2(&actions, output, 2)) != 0) goto done;
    if ((result = posix_spawn_file_actions_adddup2(&actions, channel, 3)) != 0) goto done;
    // Nothing else of the parent (Kafka and S3 sockets, files) reaches the worker.
    if ((result = posix_spawn_file_actions_addclosefrom_np(&actions, 4)) != 0) goto done;

    posix_spawnattr_t attributes;
    if ((result = posix_spawnattr_init(&attributes)) != 0) goto done;
    // Default signal handling and an empty mask, whatever the parent blocks or ignores.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setsigmask(&attributes, &none);
    // Its own process group: a terminal's Ctrl-C reaches the parent, which decides.
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
done:
    posix_spawn_file_actions_destroy(&actions);
    return result;
}
