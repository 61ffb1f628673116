/*
 * serve: 'offheap serve --listen ADDR [PID... | --jvms | --all]' — a
 * Prometheus exporter of what the other commands show one process at a time.
 *
 * Two threads that share one pointer swap. The main thread samples a round
 * every interval (src/analysis/fleet.c), renders both expositions
 * (src/render/prom.c) and publishes them under a mutex; libmicrohttpd's own
 * polling thread answers scrapes by copying the published text. A scrape
 * therefore never reads /proc or talks to a JVM, and a slow or stuck client
 * never holds the sampler: connections are non-blocking, limited in number
 * and closed after a timeout. The listening socket is made here (so a bind
 * failure says why) and only on the address --listen names; an address that
 * is not loopback is refused unless it is the wildcard spelled out.
 *
 * libmicrohttpd is loaded when serve starts (mhd_load), not linked: it
 * brings GnuTLS, whose start-up work (about 5 ms, measured with perf stat on
 * an empty program linked with and without it) every other command, and
 * every `record` run, would pay for nothing.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "fleet.h"
#include "parse.h"
#include "prom.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERVE_MAX_POINTS 1000		/* points per process, whatever --window says */
#define SERVE_CONN_LIMIT 32		/* scrapes served at once */
#define SERVE_CONN_TIMEOUT_S 10		/* a connection idle this long is closed */

static void print_help(void)
{
	printf("usage: offheap serve --listen ADDR [PID... | --jvms | --all] [-i INTERVAL]\n"
	       "                     [--window DUR] [--max-procs N] [--max-series N]\n"
	       "                     [-t TIMEOUT] [--no-jvm]\n\n"
	       "Export the memory of processes to Prometheus: GET /metrics on ADDR answers in\n"
	       "the Prometheus text format, or in OpenMetrics when the scraper asks for it.\n"
	       "Every INTERVAL a background round samples each process (as offheap watch):\n"
	       "resident, PSS, anonymous and swapped memory in all and by class of mapping,\n"
	       "threads by group, for a JVM its hsperfdata counters (heap, metaspace,\n"
	       "threads, classes, collections) and NMT categories when NMT is on; over the\n"
	       "last --window it fits each figure's trend (rate per hour, confidence) and runs\n"
	       "offheap doctor's series rules (offheap_finding{pattern,severity} 1). A scrape\n"
	       "only copies the last round's text. Processes that exit disappear; with --jvms\n"
	       "or --all new ones are picked up at each round.\n\n"
	       "Options:\n"
	       "      --listen ADDR    HOST:PORT to listen on; HOST is a loopback address\n"
	       "                       (127.0.0.1 when only :PORT or PORT is given, [::1],\n"
	       "                       localhost) or, to listen on every interface, 0.0.0.0 or\n"
	       "                       [::] spelled out; other addresses are refused. PORT 0\n"
	       "                       picks a free port (printed)\n"
	       "      --jvms           every JVM the user may read, rescanned each round\n"
	       "      --all            every process the user may read, largest RSS first\n"
	       "  -i, --interval DUR   time between rounds (default 15s; 100ms to 1h)\n"
	       "      --window DUR     time the trends and findings look back (default 1h;\n"
	       "                       at most 1000 rounds are kept per process)\n"
	       "      --max-procs N    processes watched at most (default 64); the others are\n"
	       "                       counted in offheap_exporter_skipped_processes\n"
	       "      --max-series N   series of processes per scrape at most (default 20000);\n"
	       "                       the others are counted in offheap_exporter_dropped_series\n"
	       "  -t, --timeout DUR    for each request to a JVM (default 5s)\n"
	       "      --no-jvm         do not read hsperfdata or attach to JVMs\n"
	       "  -h, --help           this help\n\n"
	       "It runs until SIGTERM or Ctrl-C. Exit codes: 0 stopped by a signal, 1 runtime\n"
	       "error (the address cannot be bound), 2 usage error.\n\n"
	       "Examples:\n"
	       "  offheap serve --listen 127.0.0.1:9464 --jvms\n"
	       "  offheap serve --listen :9464 4242 4243 -i 30s --window 6h\n"
	       "  curl -s http://127.0.0.1:9464/metrics | grep offheap_finding\n");
}

/* The expositions of the last round, shared with the HTTP thread. */
struct published {
	pthread_mutex_t lock;
	struct strbuf text, om;
};

static volatile sig_atomic_t stop_signal;

/* The library's soname in Debian 12 (package libmicrohttpd12). */
#define MHD_SONAME "libmicrohttpd.so.12"

/* The functions serve uses, typed by the library's own header. */
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
} mhd;

/* Loads the library and its functions; false with err saying why. */
static bool mhd_load(struct strbuf *err)
{
	static const char *const names[] = {
		"MHD_start_daemon", "MHD_stop_daemon", "MHD_create_response_from_buffer",
		"MHD_add_response_header", "MHD_queue_response", "MHD_destroy_response",
		"MHD_lookup_connection_value",
	};
	void **slots[] = {
		(void **)&mhd.start_daemon, (void **)&mhd.stop_daemon,
		(void **)&mhd.create_response_from_buffer, (void **)&mhd.add_response_header,
		(void **)&mhd.queue_response, (void **)&mhd.destroy_response,
		(void **)&mhd.lookup_connection_value,
	};
	void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		strbuf_addf(err, "cannot load %s: %s", MHD_SONAME, dlerror());
		return false;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(*slots[i] = dlsym(h, names[i]))) {
			strbuf_addf(err, "%s has no %s", MHD_SONAME, names[i]);
			dlclose(h);
			return false;
		}
	return true;
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *body, size_t len, const char *allow)
{
	struct MHD_Response *r =
		mhd.create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	static const char index_page[] = "offheap serve: the metrics are at /metrics\n";
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "only GET and HEAD are served\n";
	struct published *pub = cls;
	struct strbuf *sb;
	enum prom_format fmt;
	enum MHD_Result ret;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     not_allowed, sizeof(not_allowed) - 1, "GET, HEAD");
	/* A body sent with a GET is read and ignored. */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", index_page,
			     sizeof(index_page) - 1, NULL);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found,
			     sizeof(not_found) - 1, NULL);
	fmt = prom_negotiate(mhd.lookup_connection_value(c, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_ACCEPT));
	pthread_mutex_lock(&pub->lock);
	sb = fmt == PROM_OPENMETRICS ? &pub->om : &pub->text;
	ret = reply(c, MHD_HTTP_OK, prom_content_type(fmt), sb->buf, sb->len, NULL);
	pthread_mutex_unlock(&pub->lock);
	return ret;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/*
 * Opens the listening socket --listen asks for. Prints the error and
 * returns -1 (EXIT_USAGE in *code for a refused address, EXIT_RUNTIME when
 * it cannot be bound), else the socket.
 */
static int open_listener(const char *arg, int *code)
{
	char host[256], port[16], shown[300];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	bool wildcard;
	int fd = -1, one = 1, rc;
	uint64_t p;

	*code = EXIT_USAGE;
	if (!colon) {
		snprintf(host, sizeof(host), "127.0.0.1");
		snprintf(port, sizeof(port), "%s", arg);
	} else {
		size_t hl = (size_t)(colon - arg);
		bool bracketed = hl >= 2 && arg[0] == '[' && arg[hl - 1] == ']';

		if (hl >= sizeof(host) || strlen(colon + 1) >= sizeof(port)) {
			error("--listen takes HOST:PORT, not '%s'", arg);
			return -1;
		}
		if (bracketed)
			hl -= 2;
		memcpy(host, arg + bracketed, hl);
		host[hl] = 0;
		if (strchr(host, ':') && !bracketed) {
			error("--listen takes an IPv6 address in brackets, as [::1]:PORT, not '%s'",
			      arg);
			return -1;
		}
		if (!hl)
			snprintf(host, sizeof(host), "127.0.0.1");
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	if (parse_u64(port, &p) || p > 65535) {
		error("--listen takes HOST:PORT with a port from 0 to 65535, not '%s'", arg);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		error("cannot listen on '%s': %s", host, gai_strerror(rc));
		hint("--listen takes HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
		return -1;
	}
	wildcard = !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
	snprintf(shown, sizeof(shown), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	if (!wildcard && !is_loopback(ai->ai_addr)) {
		error("refusing to listen on '%s': not a loopback address", shown);
		hint("the metrics name processes and their memory; to serve them on every "
		     "interface say so: --listen 0.0.0.0:%s", port);
		freeaddrinfo(ai);
		return -1;
	}
	*code = EXIT_RUNTIME;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		error("cannot listen on '%s': %s", shown, strerror(errno));
		if (errno == EADDRINUSE)
			hint("another program listens there: choose another port");
		else if (errno == EACCES)
			hint("ports below 1024 need privileges: choose a port of 1024 or more");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		char a[INET6_ADDRSTRLEN] = "?";
		unsigned pt = 0;

		if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
			pt = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			printf("listening on http://[%s]:%u/metrics\n", a, pt);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
			pt = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			printf("listening on http://%s:%u/metrics\n", a, pt);
		}
		fflush(stdout);
	}
	return fd;
}

/* Renders both expositions of f and swaps them in. Returns the series dropped. */
static size_t publish(struct published *pub, const struct fleet *f, const struct prom_opts *o)
{
	struct strbuf text = STRBUF_INIT, om = STRBUF_INIT, tmp;
	size_t dropped = prom_render(f, PROM_TEXT, o, &text);

	prom_render(f, PROM_OPENMETRICS, o, &om);
	pthread_mutex_lock(&pub->lock);
	tmp = pub->text;
	pub->text = text;
	text = tmp;
	tmp = pub->om;
	pub->om = om;
	om = tmp;
	pthread_mutex_unlock(&pub->lock);
	strbuf_release(&text);
	strbuf_release(&om);
	return dropped;
}

static size_t parse_count(const char *opt, const char *arg)
{
	uint64_t v;

	if (parse_u64(arg, &v) || !v || v > 1000000)
		usage_die("serve", "%s takes a number from 1 to 1000000, not '%s'", opt, arg);
	return (size_t)v;
}

int cmd_serve(int argc, char **argv)
{
	enum { OPT_JVMS = 256, OPT_ALL, OPT_WINDOW, OPT_MAX_PROCS, OPT_MAX_SERIES, OPT_NO_JVM };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "jvms", no_argument, NULL, OPT_JVMS },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
		{ "max-series", required_argument, NULL, OPT_MAX_SERIES },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-jvm", no_argument, NULL, OPT_NO_JVM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_arg = NULL, *first = NULL;
	const char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	uint64_t interval_ms = 15000, window_ms = 3600000, timeout_ms = 5000;
	size_t nargs = 0, max_procs = 64, max_series = 20000, max_points;
	enum fleet_mode mode = FLEET_PIDS;
	bool jvms = false, all = false, no_jvm = false;
	struct published pub = { PTHREAD_MUTEX_INITIALIZER, STRBUF_INIT, STRBUF_INIT };
	struct strbuf err = STRBUF_INIT;
	struct prom_opts po;
	struct MHD_Daemon *d = NULL;
	struct sigaction sa;
	sigset_t stops, old;
	struct fleet f;
	pid_t *pids;
	uint64_t next;
	bool warned = false;
	int c, fd, code, ret = EXIT_RUNTIME;

	while ((c = cmd_getopt(argc, argv, "+i:t:h", opts, &first)) != -1) {
		switch (c) {
		case 'l':
			listen_arg = optarg;
			break;
		case 'i':
			interval_ms = cmd_opt_duration("serve", "--interval", optarg, 100, 3600000);
			break;
		case OPT_WINDOW:
			window_ms = cmd_opt_duration("serve", "--window", optarg, 1, 0);
			break;
		case 't':
			timeout_ms = cmd_opt_duration("serve", "--timeout", optarg, 1, 600000);
			break;
		case OPT_JVMS:
			jvms = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_MAX_PROCS:
			max_procs = parse_count("--max-procs", optarg);
			break;
		case OPT_MAX_SERIES:
			max_series = parse_count("--max-series", optarg);
			break;
		case OPT_NO_JVM:
			no_jvm = true;
			break;
		case 'h':
			free(args);
			print_help();
			return EXIT_OK;
		case 1:
			args[nargs++] = argv[optind++];
			break;
		default:
			usage_die("serve", "unknown option");
		}
	}
	if (first)
		args[nargs++] = first;
	for (; optind < argc; optind++)
		args[nargs++] = argv[optind];
	if (!listen_arg)
		usage_die("serve", "where to listen? (offheap serve --listen 127.0.0.1:PORT ...)");
	if (jvms && all)
		usage_die("serve", "--jvms and --all cannot be combined");
	if ((jvms || all) && nargs)
		usage_die("serve", "give PIDs or --jvms or --all, not both");
	if (!jvms && !all && !nargs)
		usage_die("serve", "which processes? give PIDs, --jvms or --all");
	mode = jvms ? FLEET_JVMS : all ? FLEET_ALL : FLEET_PIDS;
	if (!mhd_load(&err)) {
		error("%s", err.buf);
		hint("serve needs libmicrohttpd (Debian: apt-get install libmicrohttpd12)");
		strbuf_release(&err);
		free(args);
		return EXIT_RUNTIME;
	}

	pids = xcalloc(nargs + 1, sizeof(*pids));
	for (size_t i = 0; i < nargs; i++) {
		if (cmd_resolve_pid(args[i], &pids[i])) {
			free(pids);
			free(args);
			return EXIT_RUNTIME;
		}
	}
	max_points = (size_t)(window_ms / interval_ms) + 1;
	if (max_points > SERVE_MAX_POINTS)
		max_points = SERVE_MAX_POINTS;
	fleet_init(&f, mode, pids, nargs, max_procs, max_points, no_jvm ? SAMPLER_NO_JVM : 0,
		   (int)timeout_ms);
	free(pids);
	free(args);
	po.max_series = max_series;
	po.dropped_before = 0;

	fd = open_listener(listen_arg, &code);
	if (fd < 0) {
		ret = code;
		goto out;
	}
	publish(&pub, &f, &po);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The HTTP thread inherits a mask without them: the signals wake the sampler. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	d = mhd.start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, &pub,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONN_LIMIT,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_CONN_TIMEOUT_S,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d) {
		error("cannot start the HTTP server on '%s'", listen_arg);
		close(fd);
		goto out;
	}

	next = cmd_mono_ns();
	while (!stop_signal) {
		uint64_t now;

		strbuf_reset(&err);
		if (fleet_round(&f, &err)) {
			if (!warned)
				warning("%s", err.buf);
			warned = true;
		} else {
			warned = false;
		}
		po.dropped_before += publish(&pub, &f, &po);
		next += interval_ms * 1000000u;
		now = cmd_mono_ns();
		/* A round longer than the interval: the next one starts now, no burst. */
		if (now > next)
			next = now;
		cmd_sleep_until(next, &stop_signal);
	}
	ret = EXIT_OK;
out:
	if (d)
		mhd.stop_daemon(d);
	fleet_release(&f);
	strbuf_release(&pub.text);
	strbuf_release(&pub.om);
	strbuf_release(&err);
	return ret;
}
