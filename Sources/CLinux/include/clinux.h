#ifndef FNRT_CLINUX_H
#define FNRT_CLINUX_H
/* Linux calls that Glibc's Swift module hides behind _GNU_SOURCE. */
#include <spawn.h>
#include <sys/types.h>

/* Closes every descriptor from `lowfd` up in the child (glibc 2.34+). */
int clinux_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);

/* getrandom(2): up to `length` random bytes from the kernel's generator. */
ssize_t clinux_getrandom(void *buffer, size_t length);

/* pipe2(2) with O_CLOEXEC: both ends closed on exec from the start. */
int clinux_pipe_cloexec(int fds[2]);

#endif
