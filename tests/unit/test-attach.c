/* Unit tests for attach: status parsing, request encoding, reply parsing, socket checks. */
#include "attach.h"
#include "procfs.h"
#include "strbuf.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* tests/fixtures from the source root (where prove runs), else beside build/tests/. */
static char fixtures[PATH_MAX] = "tests/fixtures";

static void find_fixtures(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	if (!access(fixtures, F_OK) || !slash)
		return;
	snprintf(fixtures, sizeof(fixtures), "%.*s/../../tests/fixtures", (int)(slash - argv0),
		 argv0);
}

static void load(const char *name, struct strbuf *sb)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/attach/%s", fixtures, name);
	if (procfs_read_file(path, sb, 1 << 20)) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
}

static void test_status(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct attach_proc p;

	load("status-jvm17", &sb);
	is_int(attach_parse_status(sb.buf, 13228, &p), 0, "status: JVM parses");
	is_int(p.nspid, 13228, "status: nspid on the host is the pid");
	is_int(p.euid, 0, "status: euid");
	ok(p.quit_caught, "status: the JVM catches SIGQUIT");
	ok(!p.gone, "status: the JVM is alive");

	load("status-jvm17-container", &sb);
	is_int(attach_parse_status(sb.buf, 13228, &p), 0, "status: container JVM parses");
	is_int(p.nspid, 7, "status: nspid is the last NSpid number");

	load("status-jvm17-no-nspid", &sb);
	is_int(attach_parse_status(sb.buf, 13228, &p), 0, "status: no NSpid line parses");
	is_int(p.nspid, 13228, "status: without NSpid the nspid is the pid");
	ok(!p.nspid_known, "status: and says it is not known");

	pid_t host = 0;

	is_int(attach_parse_sched_pid("java (4242, #threads: 19)\n----\n", &host), 0,
	       "sched: parses");
	is_int(host, 4242, "sched: the pid");
	is_int(attach_parse_sched_pid("a (b) (17, #threads: 1)\n", &host), 0,
	       "sched: a name with parentheses");
	is_int(host, 17, "sched: the last parenthesis holds the pid");
	is_int(attach_parse_sched_pid("java (x, #threads: 1)\n", &host), -EPROTO,
	       "sched: a bad pid refused");
	is_int(attach_parse_sched_pid("java\n (1, #threads: 1)\n", &host), -EPROTO,
	       "sched: only the first line counts");

	load("status-sleep", &sb);
	is_int(attach_parse_status(sb.buf, 1, &p), 0, "status: sleep parses");
	ok(!p.quit_caught, "status: sleep does not catch SIGQUIT");

	load("status-zombie", &sb);
	is_int(attach_parse_status(sb.buf, 1, &p), 0, "status: zombie parses");
	ok(p.gone, "status: a zombie is gone");

	is_int(attach_parse_status("Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nSigIgn:\t0000000000000004\n"
				   "SigCgt:\t0000000000000004\n",
				   9, &p),
	       0, "status: minimal text parses");
	is_int(p.euid, 2, "status: euid is the second Uid field");
	is_int(p.egid, 6, "status: egid is the second Gid field");
	ok(!p.quit_caught, "status: SIGQUIT caught but ignored counts as not caught");
	is_int(attach_parse_status("Uid:\t1\nGid:\t5\t6\nSigIgn:\t0\nSigCgt:\t4\n", 9, &p), -EPROTO,
	       "status: Uid with one field refused");
	is_int(attach_parse_status("Uid:\t1\t2\nGid:\t5\t6\nSigIgn:\t0\n", 9, &p), -EPROTO,
	       "status: missing SigCgt refused");
	is_int(attach_parse_status("Uid:\t1\t2\nGid:\t5\t6\nSigIgn:\tzz\nSigCgt:\t4\n", 9, &p),
	       -EPROTO, "status: bad mask refused");
	is_int(attach_parse_status("Uid:\t1\t2\nGid:\t5\t6\nSigIgn:\t0\nSigCgt:\t4\nNSpid:\t9 x\n",
				   9, &p),
	       -EPROTO, "status: bad NSpid refused");
	is_int(attach_parse_status("", 9, &p), -EPROTO, "status: empty refused");
	strbuf_release(&sb);
}

static void test_encode(void)
{
	struct strbuf req = STRBUF_INIT;
	char big[1100];
	const char *arg = "Foo.bar";
	static const char v1[] = "1\0jcmd\0VM.version\0\0"; /* + the literal's own NUL */
	static const char v1probe[] = "1\0getversion\0options\0\0";
	static const char v2[] = "2\0"
				 "25\0jcmd streaming=1\0Foo.bar";

	/* Seen on the wire from JDK 17's and JDK 25's jcmd. */
	is_int(attach_encode_v1(&req, "jcmd", "VM.version", NULL, NULL), 0, "v1: encodes");
	ok(req.len == sizeof(v1) && !memcmp(req.buf, v1, sizeof(v1)), "v1: bytes as JDK 17 sends");
	strbuf_reset(&req);
	attach_encode_v1(&req, "getversion", "options", NULL, NULL);
	ok(req.len == sizeof(v1probe) && !memcmp(req.buf, v1probe, sizeof(v1probe)),
	   "v1: the getversion probe as JDK 25 sends");
	strbuf_reset(&req);
	is_int(attach_encode_v2(&req, "jcmd streaming=1", &arg, 1), 0, "v2: encodes");
	ok(req.len == sizeof(v2) && !memcmp(req.buf, v2, sizeof(v2)), "v2: bytes as JDK 25 sends");

	strbuf_reset(&req);
	memset(big, 'a', sizeof(big));
	big[1024] = '\0';
	is_int(attach_encode_v1(&req, "jcmd", big, NULL, NULL), 0, "v1: a 1024-byte argument fits");
	strbuf_reset(&req);
	big[1024] = 'a';
	big[1025] = '\0';
	is_int(attach_encode_v1(&req, "jcmd", big, NULL, NULL), -E2BIG, "v1: 1025 bytes refused");
	is_int(req.len, 0, "v1: nothing appended on refusal");
	is_int(attach_encode_v1(&req, "seventeen-bytes-x", NULL, NULL, NULL), -E2BIG,
	       "v1: a command over 16 bytes refused");

	char *huge = malloc(300 * 1024);

	memset(huge, 'b', 300 * 1024 - 1);
	huge[300 * 1024 - 1] = '\0';
	arg = huge;
	is_int(attach_encode_v2(&req, "jcmd", &arg, 1), -E2BIG, "v2: over 256 KiB refused");
	huge[100 * 1024] = '\0';
	is_int(attach_encode_v2(&req, "jcmd", &arg, 1), 0, "v2: 100 KiB accepted");
	ok(!strcmp(req.buf + 2, "102406"), "v2: size counts command, argument and their NULs");
	free(huge);
	strbuf_release(&req);
}

static int nreply;

static void reply(const char *text, int want_ret, int want_status, size_t want_off)
{
	int status = 12345, ret;
	size_t off = 999;
	char what[128];

	ret = attach_parse_reply(text, strlen(text), &status, &off);
	snprintf(what, sizeof(what), "reply #%d → %d", ++nreply, want_ret);
	ok(ret == want_ret && (ret || (status == want_status && off == want_off)), what);
	if (ret != want_ret || (!ret && (status != want_status || off != want_off)))
		printf("#   got ret %d status %d off %zu\n", ret, status, off);
}

static void test_reply(void)
{
	bool st;

	reply("0\nOpenJDK 64-Bit Server VM\n", 0, 0, 2);
	reply("-1\njava.lang.IllegalArgumentException: Unknown diagnostic command\n", 0, -1, 3);
	reply("101\n", 0, 101, 4);
	reply("-2147483648\n", 0, INT_MIN, 12);
	reply("", -EAGAIN, 0, 0);
	reply("12", -EAGAIN, 0, 0);
	reply("-", -EAGAIN, 0, 0);
	reply("\n", -EPROTO, 0, 0);
	reply("-\n", -EPROTO, 0, 0);
	reply("+1\n", -EPROTO, 0, 0);
	reply(" 0\n", -EPROTO, 0, 0);
	reply("0 \n", -EPROTO, 0, 0);
	reply("0\r\n", -EPROTO, 0, 0);
	reply("01\n", -EPROTO, 0, 0);
	reply("2147483648\n", -EPROTO, 0, 0);
	reply("99999999999\n", -EPROTO, 0, 0);
	reply("99999999999", -EPROTO, 0, 0);
	reply("HTTP/1.1 200 OK\n", -EPROTO, 0, 0);

	is_int(attach_parse_version(0, "2 streaming", &st), 2, "version: 2 streaming");
	ok(st, "version: streaming offered");
	is_int(attach_parse_version(0, "2", &st), 2, "version: bare 2");
	ok(!st, "version: no streaming");
	is_int(attach_parse_version(0, "3 foo,streaming", &st), 3, "version: option list");
	ok(st, "version: streaming among several options");
	is_int(attach_parse_version(-1, "Operation getversion not recognized!", &st), 1,
	       "version: JDK 17's refusal means protocol 1");
	is_int(attach_parse_version(0, "garbage", &st), 1, "version: garbage means protocol 1");
}

static int make_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static void test_socket(void)
{
	char dir[] = "/tmp/offheap-attach-XXXXXX", sock[64], link[64], file[64];
	struct strbuf err = STRBUF_INIT;
	int fd;

	if (!mkdtemp(dir)) {
		ok(0, "socket: mkdtemp");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/.java_pid42", dir);
	snprintf(link, sizeof(link), "%s/.java_pid43", dir);
	snprintf(file, sizeof(file), "%s/.java_pid44", dir);
	fd = make_socket(sock);
	ok(fd >= 0, "socket: planted");
	chmod(sock, 0600);
	is_int(attach_check_socket(sock, geteuid(), &err), 0, "socket: 0600, ours: accepted");
	is_int(attach_check_socket(sock, geteuid() + 1, &err), -EPERM,
	       "socket: another owner refused");
	ok(strstr(err.buf, "owned by uid") != NULL, "socket: the reason names the owner");
	strbuf_reset(&err);
	chmod(sock, 0666);
	is_int(attach_check_socket(sock, geteuid(), &err), -EPERM, "socket: mode 0666 refused");
	strbuf_reset(&err);
	chmod(sock, 0640);
	is_int(attach_check_socket(sock, geteuid(), &err), -EPERM, "socket: mode 0640 refused");
	strbuf_reset(&err);
	chmod(sock, 0600);
	ok(!symlink(sock, link), "socket: symlink planted");
	is_int(attach_check_socket(link, geteuid(), &err), -EPERM,
	       "socket: a symlink to a good socket refused");
	ok(strstr(err.buf, "symbolic link") != NULL, "socket: the reason says symlink");
	strbuf_reset(&err);
	close(creat(file, 0600));
	is_int(attach_check_socket(file, geteuid(), &err), -EPERM,
	       "socket: a regular file refused");
	strbuf_reset(&err);
	snprintf(file, sizeof(file), "%s/.java_pid45", dir);
	is_int(attach_check_socket(file, geteuid(), &err), -ENOENT, "socket: absent is ENOENT");

	close(fd);
	unlink(sock);
	unlink(link);
	unlink(file);
	snprintf(file, sizeof(file), "%s/.java_pid44", dir);
	unlink(file);
	rmdir(dir);
	strbuf_release(&err);
}

int main(int argc, char **argv)
{
	(void)argc;
	find_fixtures(argv[0]);
	test_status();
	test_encode();
	test_reply();
	test_socket();
	return done_testing();
}
