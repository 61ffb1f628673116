/*
 * fakejvm: a process that passes for a HotSpot JVM with offheap and then answers
 * its attach requests one byte at a time (t2204). It maps a file named
 * .../libjvm.so (what offheap looks for in /proc/PID/maps; a copy of this binary
 * will do: it defines gHotSpotVMStructs, HotSpot's mark), catches SIGQUIT, and on
 * SIGQUIT opens /tmp/.java_pid<PID> when a trigger file .attach_pid<PID> is in its
 * cwd or /tmp, as HotSpot does (JVM.md, "Dynamic attach"). Each connection's
 * request is read whole (protocol 1: five NUL-ended words); the reply "0\n" and
 * then text is sent one byte every --trickle-ms, until the client hangs up.
 *
 *   --lib FILE         the file to map (its name must end in /libjvm.so)
 *   --ready FILE       written once the mapping and the handler are in place
 *   --trickle-ms N     between two bytes of a reply (default 700)
 *   --served FILE      a line appended per request read ("request CMD")
 *   --lifetime SECS    exit 5 after this long (default 120)
 *
 * Exit: 5 lifetime over, 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t quit_seen;

/* HotSpot's self-description: a copy of this binary passes for HotSpot's libjvm.so. */
int gHotSpotVMStructs;

static void on_quit(int sig)
{
	(void)sig;
	quit_seen = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "fakejvm: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void touch(const char *path, const char *line, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f || fputs(line, f) < 0 || fclose(f))
		die(path);
}

/* A trigger file where HotSpot looks for one: the cwd first, then /tmp. */
static int have_trigger(void)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), ".attach_pid%d", (int)getpid());
	if (!stat(path, &st))
		return 1;
	snprintf(path, sizeof(path), "/tmp/.attach_pid%d", (int)getpid());
	return !stat(path, &st);
}

static int open_listener(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	unlink(sock);
	/* umask 077: the socket is 0600, as HotSpot makes it */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 5) < 0)
		die(sock);
	return fd;
}

/* Reads a protocol-1 request: "1" and four more NUL-ended words. 0, or -1 on EOF. */
static int read_request(int fd, char *cmd, size_t n)
{
	char buf[4200];
	size_t len = 0, nuls = 0;

	while (nuls < 5) {
		ssize_t r;

		if (len == sizeof(buf))
			return -1;
		r = read(fd, buf + len, 1);
		if (r <= 0)
			return -1;
		if (buf[len++] == '\0')
			nuls++;
	}
	len = strnlen(buf + 2, n - 1);
	memcpy(cmd, buf + 2, len);
	cmd[len] = '\0';
	return 0;
}

/* Sends "0\n" and then text, a byte every ms, until the peer goes away. */
static void trickle(int fd, long ms, long long end)
{
	static const char text[] = "0\nThis JVM answers slowly, one byte at a time. ";
	size_t i = 0;

	while (now_ms() < end) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		char c = i < sizeof(text) - 1 ? text[i] : text[2 + (i - 2) % (sizeof(text) - 3)];

		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			return;
		i++;
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	const char *lib = NULL, *ready = NULL, *served = NULL;
	long trickle_ms = 700, lifetime = 120;
	struct sigaction sa;
	struct stat st;
	char sock[64];
	long long end;
	void *map;
	int fd, lfd = -1;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--lib"))
			lib = argv[++i];
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[++i];
		else if (!strcmp(argv[i], "--served"))
			served = argv[++i];
		else if (!strcmp(argv[i], "--trickle-ms"))
			trickle_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--lifetime"))
			lifetime = atol(argv[++i]);
		else
			goto usage;
	}
	if (!lib || trickle_ms <= 0 || lifetime <= 0)
		goto usage;
	end = now_ms() + lifetime * 1000;
	umask(077);
	fd = open(lib, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !st.st_size)
		die(lib);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	close(fd);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quit;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGQUIT, &sa, NULL) < 0)
		die("sigaction");
	snprintf(sock, sizeof(sock), "/tmp/.java_pid%d", (int)getpid());
	if (ready)
		touch(ready, "1\n", "w");

	while (now_ms() < end) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		char cmd[64];
		int c;

		if (lfd < 0) {
			/* the signal thread of HotSpot: a SIGQUIT with a trigger opens the socket */
			struct timespec ts = {0, 20 * 1000000L};

			if (quit_seen) {
				quit_seen = 0;
				if (have_trigger())
					lfd = open_listener(sock);
			}
			if (lfd < 0)
				nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		c = accept(lfd, NULL, NULL);
		if (c < 0)
			continue;
		if (!read_request(c, cmd, sizeof(cmd))) {
			if (served) {
				char line[96];

				snprintf(line, sizeof(line), "request %s\n", cmd);
				touch(served, line, "a");
			}
			trickle(c, trickle_ms, end);
		}
		close(c);
	}
	if (lfd >= 0)
		unlink(sock);
	return 5;
usage:
	fprintf(stderr, "usage: fakejvm --lib DIR/libjvm.so [--ready FILE] [--trickle-ms N] "
			"[--served FILE] [--lifetime SECS]\n");
	return 2;
}
