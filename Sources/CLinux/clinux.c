#define _GNU_SOURCE
#include "clinux.h"
#include <sys/random.h>
#include <fcntl.h>
#include <unistd.h>

int clinux_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}

ssize_t clinux_getrandom(void *buffer, size_t length) {
    return getrandom(buffer, length, 0);
}

int clinux_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
