/*
 * shmguard: removes the tracker's shared file when the recorder cannot.
 *
 * offheap record makes /tmp/offheap-track.XXXXXX (several MiB) for the target to
 * map; the target and the images it execs open it by name, so it must stay until
 * the recording ends. A recorder killed by SIGKILL cannot remove it: a small
 * guardian process, started beside the recorder in a session of its own, waits on
 * a pipe whose write end only the recorder holds, and unlinks the file when that
 * pipe closes without a word (the recorder died). The target keeps its mapping.
 */
#ifndef OFFHEAP_SHMGUARD_H
#define OFFHEAP_SHMGUARD_H

/*
 * Starts a guardian for path (and, when dir is not NULL, for the files in
 * dir and dir itself). Returns the pipe's write end (close-on-exec) to give
 * to shmguard_done, or -errno (no guardian: the caller goes on without).
 */
int shmguard_start(const char *path, const char *dir);

/*
 * The recorder ended well and removed the files itself: the guardian leaves
 * without touching anything. fd < 0 is ignored.
 */
void shmguard_done(int fd);

/* Unlinks the files of dir (not its subdirectories) and dir itself. */
void shmguard_remove_dir(const char *dir);

#endif
