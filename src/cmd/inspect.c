/* inspect: say what the bytes of a dump file or of a live region are. */
#include "cmd.h"
#include "cmdutil.h"
#include "dumpcli.h"
#include "inspect.h"
#include "json.h"
#include "mallocprobe.h"
#include "parse.h"
#include "procfs.h"
#include "snapshot.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_help(void)
{
	printf("usage: offheap inspect FILE [options]\n"
	       "       offheap inspect PID REGION [options]\n"
	       "       offheap inspect PID --malloc [--budget TIME] [--json]\n\n"
	       "Says what memory holds: repeated strings (ASCII and UTF-16LE, at least 6\n"
	       "characters) ranked by bytes covered, a profile of its 4 KiB pages (zero,\n"
	       "text, compressed or random, other) with their mean entropy, known signatures\n"
	       "(gzip, zlib, zlib stream states, Java class files, ELF, JSON and XML\n"
	       "fragments), for a live process the share of 8-byte words that point into\n"
	       "each class of mapping, and for the brk heap or a glibc arena a walk of its\n"
	       "malloc chunks: the chunk sizes in use and free.\n\n"
	       "FILE is a dump written by 'offheap dump' (with its sidecar FILE.json).\n"
	       "REGION is START-END, START+LEN, --map N (0-based, 'offheap maps --sort addr'\n"
	       "order) or --class CLASS, as for 'offheap dump'; nothing is stopped.\n"
	       "--malloc counts the zlib streams and the chunk bytes in use and free in all\n"
	       "the glibc malloc heaps (brk heap and every arena heap): all of them when\n"
	       "their reads fit in --budget, else windows of 1 MiB chosen at random until\n"
	       "the budget is spent, extrapolated with a standard error.\n\n"
	       "options:\n"
	       "  --top N            rows per table (default 20)\n"
	       "  --json             JSON on stdout\n"
	       "  --raw              FILE has no sidecar: inspect its bytes alone\n"
	       "  --limit SIZE       refuse to read more than SIZE of a process (default 1G)\n"
	       "  -f, --force        read even beyond --limit\n"
	       "  --malloc           sample all malloc heaps (see above)\n"
	       "  --budget TIME      --malloc: time its reads may take (default 250ms)\n"
	       "  -h, --help         this help\n\n"
	       "exit status: 0 ok, 1 failed or partial input, 2 usage\n\n"
	       "EXAMPLES\n"
	       "  offheap inspect 4242 --class heap\n"
	       "  offheap inspect 4242 --class arena --top 5 --json\n"
	       "  offheap inspect 4242 --malloc --budget 1s\n"
	       "  offheap dump 4242 --map 12 -o m.bin && offheap inspect m.bin\n");
}

struct source {
	struct inspect_region *regs;
	size_t nregs;
	void *map; /* a mapped dump file */
	size_t maplen;
	unsigned char *buf; /* bytes read from a process */
	struct inspect_map *maps;
	size_t nmaps;
	bool partial;
	const char *what;
	char label[256];
};

static int load_file(const char *path, bool raw, struct source *src)
{
	struct strbuf side = STRBUF_INIT, err = STRBUF_INIT;
	struct dump_sidecar sc;
	char sp[4200];
	struct stat st;
	int fd, ret;
	uint64_t have;

	fd = cmd_open_infile(path, raw ? NULL : "a dump file", &st);
	if (fd < 0)
		return -1;
	snprintf(src->label, sizeof(src->label), "file %s", path);
	if (st.st_size > 0) {
		src->maplen = (size_t)st.st_size;
		src->map = mmap(NULL, src->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
		if (src->map == MAP_FAILED) {
			src->map = NULL;
			close(fd);
			return error("cannot map '%s': %s", path, strerror(errno));
		}
		madvise(src->map, src->maplen, MADV_SEQUENTIAL);
	}
	close(fd);
	if (raw) {
		if (!src->maplen)
			return error("'%s' is empty", path);
		src->regs = xcalloc(1, sizeof(*src->regs));
		src->regs[0] = (struct inspect_region){0, src->maplen, -1, src->map};
		src->nregs = 1;
		return 0;
	}
	snprintf(sp, sizeof(sp), "%s.json", path);
	ret = procfs_read_file(sp, &side, 64 << 20);
	if (ret) {
		error("cannot read the sidecar '%s': %s", sp, strerror(-ret));
		hint("'offheap dump' writes FILE and FILE.json; --raw inspects FILE without "
		     "addresses");
		return -1;
	}
	if (dump_sidecar_parse(side.buf, side.len, &sc, &err)) {
		error("'%s': %s", sp, err.buf);
		hint("--raw inspects '%s' without addresses", path);
		strbuf_release(&side);
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&side);
	strbuf_release(&err);
	have = src->maplen;
	src->partial = sc.partial;
	if (sc.partial)
		warning("'%s' is a partial dump: process %ld exited while it was dumped", path,
			sc.pid);
	if (have < sc.bytes || (!sc.partial && have != sc.ranges[sc.nranges - 1].file_offset +
							   sc.ranges[sc.nranges - 1].end -
							   sc.ranges[sc.nranges - 1].start)) {
		char a[32], b[32];
		uint64_t want = sc.partial ? sc.bytes
					   : sc.ranges[sc.nranges - 1].file_offset +
						 sc.ranges[sc.nranges - 1].end -
						 sc.ranges[sc.nranges - 1].start;

		error("'%s' is truncated: %s where its sidecar says %s; inspecting what is there",
		      path, format_size(a, sizeof(a), have), format_size(b, sizeof(b), want));
		src->partial = true;
	}
	src->regs = xcalloc(sc.nranges, sizeof(*src->regs));
	for (size_t i = 0; i < sc.nranges; i++) {
		struct dump_file_range *fr = &sc.ranges[i];
		uint64_t len = fr->end - fr->start;

		if (fr->file_offset >= have)
			break;
		if (len > have - fr->file_offset)
			len = have - fr->file_offset;
		src->regs[src->nregs++] = (struct inspect_region){
		    fr->start, fr->start + len,
		    /* the chunk walk needs the mapping from its start */
		    fr->map_start == fr->start ? fr->cls : (fr->cls >= 0 ? -2 - fr->cls : -1),
		    (unsigned char *)src->map + fr->file_offset};
	}
	snprintf(src->label, sizeof(src->label), "file %s (process %ld, %zu range%s, %llu hole%s)",
		 path, sc.pid, sc.nranges, sc.nranges == 1 ? "" : "s",
		 (unsigned long long)sc.nholes, sc.nholes == 1 ? "" : "s");
	dump_sidecar_release(&sc);
	if (!src->nregs)
		return error("'%s' holds no bytes", path);
	return 0;
}

static int load_pid(pid_t pid, const struct dump_sel *sel, uint64_t limit, bool force,
		    struct source *src)
{
	struct snapshot s;
	struct strbuf err = STRBUF_INIT;
	struct dump_range *v = NULL;
	struct dump_reader rd;
	size_t nv = 0;
	uint64_t total = 0, off = 0;
	int ret, rc = 0;

	snapshot_init(&s);
	ret = snapshot_take(pid, SNAP_NO_THREAD_SP, &s, &err);
	if (ret) {
		cmd_report_error(ret, err.buf);
		rc = -1;
		goto out;
	}
	ret = dump_select(s.regions, s.nregions, s.pid, sel, &v, &nv, &err);
	if (ret) {
		error("%s", err.buf);
		hint("'offheap maps %d --sort addr' lists the mappings", (int)pid);
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < nv; i++)
		total += v[i].end - v[i].start;
	if (total > limit && !force) {
		char a[32], b[32];

		error("%s to read is more than the limit of %s", format_size(a, sizeof(a), total),
		      format_size(b, sizeof(b), limit));
		hint("--limit SIZE raises it, --force ignores it");
		rc = -1;
		goto out;
	}
	src->buf = xmalloc(total ? total : 1);
	src->regs = xcalloc(nv, sizeof(*src->regs));
	dump_reader_init(&rd, pid);
	for (size_t i = 0; i < nv; i++) {
		size_t len = (size_t)(v[i].end - v[i].start), got = 0;

		strbuf_reset(&err);
		ret = dump_read(&rd, v[i].start, src->buf + off, len, &got, &err);
		if (ret && ret != -ESRCH) {
			error("%s", err.buf);
			rc = -1;
			break;
		}
		src->regs[src->nregs++] = (struct inspect_region){
		    v[i].start, v[i].start + (ret ? got : len),
		    v[i].r->start == v[i].start ? (int)v[i].r->cls : -2 - (int)v[i].r->cls,
		    src->buf + off};
		off += len;
		if (ret) {
			error("process %d exited while it was read: inspecting the %zu bytes read",
			      (int)pid, (size_t)off - len + got);
			src->partial = true;
			break;
		}
	}
	snprintf(src->label, sizeof(src->label), "process %d (%zu range%s, %zu hole%s)", (int)pid,
		 nv, nv == 1 ? "" : "s", rd.nholes, rd.nholes == 1 ? "" : "s");
	dump_reader_release(&rd);
	src->maps = xcalloc(s.nregions + 1, sizeof(*src->maps));
	for (size_t i = 0; i < s.nregions; i++)
		src->maps[src->nmaps++] = (struct inspect_map){s.regions[i].start, s.regions[i].end,
							       (int)s.regions[i].cls};
out:
	free(v);
	snapshot_release(&s);
	strbuf_release(&err);
	return rc;
}

static void release_source(struct source *src)
{
	if (src->map)
		munmap(src->map, src->maplen);
	free(src->buf);
	free(src->regs);
	free(src->maps);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_text(const struct inspect *in, const struct source *src, size_t top)
{
	const struct inspect_string **ss = xmalloc((top + 1) * sizeof(*ss));
	const struct inspect_size **zs = xmalloc((top + 1) * sizeof(*zs));
	uint64_t pages = 0;
	size_t n;
	char a[32], b[32];

	printf("%s: %s%s\n\n", src->label, format_size(a, sizeof(a), in->bytes),
	       src->partial ? " (PARTIAL)" : "");
	n = inspect_top_strings(in, ss, top);
	printf("repeated strings, by bytes covered%s:\n", in->sweeps ? " (approximate)" : "");
	printf("%10s %10s  %-5s %s\n", "BYTES", "COUNT", "ENC", "STRING");
	for (size_t i = 0; i < n; i++)
		printf("%10llu %10llu  %-5s %.*s\n",
		       (unsigned long long)(ss[i]->count * ss[i]->len * (ss[i]->utf16 ? 2 : 1)),
		       (unsigned long long)ss[i]->count, ss[i]->utf16 ? "utf16" : "ascii",
		       (int)(ss[i]->len > 80 ? 80 : ss[i]->len), ss[i]->s);
	if (!n)
		printf("  (none)\n");

	for (int p = 0; p < IP_NR; p++)
		pages += in->pages[p];
	printf("\npages (4 KiB): %llu", (unsigned long long)pages);
	for (int p = 0; p < IP_NR; p++)
		printf(", %s %llu (%.1f%%)", inspect_page_name((enum inspect_page)p),
		       (unsigned long long)in->pages[p], pct(in->pages[p], pages));
	printf("\nmean entropy of non-zero pages: %.2f bits/byte\n",
	       pages > in->pages[IP_ZERO] ? in->entropy_sum / (double)(pages - in->pages[IP_ZERO])
					  : 0.0);

	printf("\nsignatures:");
	for (int k = 0; k < IS_NR; k++)
		printf(" %s %llu%s", inspect_sig_name((enum inspect_sig)k),
		       (unsigned long long)in->sigs[k], k + 1 < IS_NR ? "," : "\n");

	if (in->maps) {
		printf("\npointers: %llu aligned words; pointing into:",
		       (unsigned long long)in->words);
		for (int c = 0; c < in->ncls; c++)
			if (in->ptr_cls[c])
				printf(" %s %.2f%%,", region_class_name((enum region_class)c),
				       pct(in->ptr_cls[c], in->words));
		printf(" nothing %.2f%%\n", pct(in->ptr_none, in->words));
	}

	for (size_t w = 0; w < in->nwalks; w++) {
		const struct inspect_walk *k = &in->walks[w];

		printf("\nmalloc chunks of %llx-%llx: ", (unsigned long long)k->start,
		       (unsigned long long)k->end);
		if (!k->first) {
			printf("%s\n", k->stop);
			continue;
		}
		printf("%llu chunks from %llx, in use %s, free %s, top %s; stopped at %llx: %s\n",
		       (unsigned long long)k->chunks, (unsigned long long)k->first,
		       format_size(a, sizeof(a), k->inuse_bytes),
		       format_size(b, sizeof(b), k->free_bytes),
		       format_size((char[32]){0}, 32, k->top_size),
		       (unsigned long long)k->stop_addr, k->stop);
	}
	if (in->nwalks) {
		n = inspect_top_sizes(in, zs, top);
		printf("\nchunk sizes, by bytes in use:\n%10s %10s %12s %10s %12s\n", "SIZE",
		       "IN-USE", "BYTES", "FREE", "BYTES");
		for (size_t i = 0; i < n; i++)
			printf("%10llu %10llu %12llu %10llu %12llu\n",
			       (unsigned long long)zs[i]->size, (unsigned long long)zs[i]->inuse,
			       (unsigned long long)(zs[i]->inuse * zs[i]->size),
			       (unsigned long long)zs[i]->freed,
			       (unsigned long long)(zs[i]->freed * zs[i]->size));
	}
	free(ss);
	free(zs);
}

static void print_json(const struct inspect *in, const struct source *src, size_t top)
{
	const struct inspect_string **ss = xmalloc((top + 1) * sizeof(*ss));
	const struct inspect_size **zs = xmalloc((top + 1) * sizeof(*zs));
	struct json j;
	uint64_t pages = 0;
	size_t n;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "source", src->label);
	json_bool(&j, "partial", src->partial);
	json_u64(&j, "bytes", in->bytes);
	json_bool(&j, "strings_approximate", in->sweeps > 0);
	json_arr_begin(&j, "strings");
	n = inspect_top_strings(in, ss, top);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j, NULL);
		json_strn(&j, "string", ss[i]->s, ss[i]->len);
		json_str(&j, "encoding", ss[i]->utf16 ? "utf16le" : "ascii");
		json_u64(&j, "count", ss[i]->count);
		json_u64(&j, "bytes", ss[i]->count * ss[i]->len * (ss[i]->utf16 ? 2 : 1));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_begin(&j, "pages");
	for (int p = 0; p < IP_NR; p++) {
		json_u64(&j, inspect_page_name((enum inspect_page)p), in->pages[p]);
		pages += in->pages[p];
	}
	json_u64(&j, "total", pages);
	json_double(&j, "mean_entropy",
		    pages > in->pages[IP_ZERO]
			? in->entropy_sum / (double)(pages - in->pages[IP_ZERO])
			: 0.0);
	json_obj_end(&j);
	json_obj_begin(&j, "signatures");
	for (int k = 0; k < IS_NR; k++)
		json_u64(&j, inspect_sig_name((enum inspect_sig)k), in->sigs[k]);
	json_obj_end(&j);
	if (in->maps) {
		json_obj_begin(&j, "pointers");
		json_u64(&j, "words", in->words);
		for (int c = 0; c < in->ncls; c++)
			json_double(&j, region_class_name((enum region_class)c),
				    pct(in->ptr_cls[c], in->words) / 100.0);
		json_double(&j, "none", pct(in->ptr_none, in->words) / 100.0);
		json_obj_end(&j);
	}
	json_arr_begin(&j, "chunk_walks");
	for (size_t w = 0; w < in->nwalks; w++) {
		const struct inspect_walk *k = &in->walks[w];

		json_obj_begin(&j, NULL);
		json_u64(&j, "start", k->start);
		json_u64(&j, "end", k->end);
		json_u64(&j, "first_chunk", k->first);
		json_u64(&j, "chunks", k->chunks);
		json_u64(&j, "inuse_bytes", k->inuse_bytes);
		json_u64(&j, "free_bytes", k->free_bytes);
		json_u64(&j, "top_size", k->top_size);
		json_u64(&j, "stop_addr", k->stop_addr);
		json_str(&j, "stop", k->stop);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "chunk_sizes");
	n = in->nwalks ? inspect_top_sizes(in, zs, top) : 0;
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "size", zs[i]->size);
		json_u64(&j, "inuse", zs[i]->inuse);
		json_u64(&j, "free", zs[i]->freed);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	free(ss);
	free(zs);
}

/* "N" when exact, else "≈ N (± E)"; sizes when bytes. */
static const char *estimate(char *buf, size_t n, uint64_t v, uint64_t e, bool exact, bool bytes)
{
	char a[32], b[32];

	if (bytes)
		snprintf(buf, n, exact ? "%s" : "\u2248 %s (\u00b1 %s)", format_size(a, sizeof(a), v),
			 format_size(b, sizeof(b), e));
	else
		snprintf(buf, n, exact ? "%llu" : "\u2248 %llu (\u00b1 %llu)", (unsigned long long)v,
			 (unsigned long long)e);
	return buf;
}

static int inspect_malloc(pid_t pid, uint64_t budget_ms, bool json)
{
	struct strbuf err = STRBUF_INIT;
	struct malloc_probe m;
	char a[32], b[32], c[32], x[96], y[96];
	int ret = probe_malloc(pid, budget_ms * 1000000, &m, &err);

	if (ret) {
		cmd_report_error(ret, err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	strbuf_release(&err);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "pid", (uint64_t)pid);
		json_obj_begin(&j, "malloc");
		json_u64(&j, "heaps", m.regions);
		json_u64(&j, "arenas", m.arenas);
		json_u64(&j, "arenas_merged", m.merged);
		json_u64(&j, "rss", m.rss);
		json_u64(&j, "total_bytes", m.total_bytes);
		json_u64(&j, "sampled_bytes", m.sampled_bytes);
		json_u64(&j, "windows", m.windows);
		json_u64(&j, "windows_read", m.windows_read);
		json_bool(&j, "exact", m.exact);
		json_u64(&j, "zlib_streams", m.zlib_states);
		json_u64(&j, "zlib_streams_error", m.zlib_err);
		json_u64(&j, "zlib_streams_seen", m.zlib_seen);
		json_u64(&j, "inuse_bytes", m.inuse);
		json_u64(&j, "inuse_bytes_error", m.inuse_err);
		json_u64(&j, "free_bytes", m.free);
		json_u64(&j, "free_bytes_error", m.free_err);
		json_bool(&j, "chunks_overcounted", m.overcount);
		json_u64(&j, "windows_rewalked", m.rewalked);
		json_double(&j, "read_ms", (double)m.read_ns / 1e6);
		json_double(&j, "read_wall_ms", (double)m.read_wall_ns / 1e6);
		json_double(&j, "wall_ms", (double)m.wall_ns / 1e6);
		json_double(&j, "budget_ms", (double)m.budget_ns / 1e6);
		json_bool(&j, "pagemap", m.pagemap);
		json_obj_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return EXIT_OK;
	}
	printf("process %d: malloc heaps: %llu (%llu arena heap%s), %s, RSS %s\n", (int)pid,
	       (unsigned long long)m.regions, (unsigned long long)m.arenas, m.arenas == 1 ? "" : "s",
	       format_size(a, sizeof(a), m.total_bytes), format_size(b, sizeof(b), m.rss));
	if (m.merged)
		printf("%llu arena heap%s found inside larger anonymous mappings (merged by the kernel)\n",
		       (unsigned long long)m.merged, m.merged == 1 ? "" : "s");
	if (m.exact)
		printf("read all of them (exact) in %.0f ms of CPU reading\n",
		       (double)m.read_ns / 1e6);
	else
		printf("sampled %s of %s (%llu of %llu windows) in %.0f ms of CPU reading (budget %.0f ms)\n",
		       format_size(a, sizeof(a), m.sampled_bytes),
		       format_size(c, sizeof(c), m.total_bytes), (unsigned long long)m.windows_read,
		       (unsigned long long)m.windows, (double)m.read_ns / 1e6,
		       (double)m.budget_ns / 1e6);
	printf("zlib streams: %s\n", estimate(x, sizeof(x), m.zlib_states, m.zlib_err, m.exact, false));
	printf("chunks in use: %s, free: %s\n",
	       estimate(x, sizeof(x), m.inuse, m.inuse_err, m.exact, true),
	       estimate(y, sizeof(y), m.free, m.free_err, m.exact, true));
	if (m.overcount)
		printf("warning: the chunks counted hold more bytes than the heaps: the walk took data for chunks, those two figures are not to be trusted\n");
	return EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
	enum { OPT_LIMIT = 256, OPT_MAP, OPT_CLASS, OPT_JSON, OPT_TOP, OPT_RAW, OPT_MALLOC,
	       OPT_BUDGET };
	static const struct option opts[] = {
	    {"top", required_argument, NULL, OPT_TOP},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"force", no_argument, NULL, 'f'},
	    {"malloc", no_argument, NULL, OPT_MALLOC},
	    {"budget", required_argument, NULL, OPT_BUDGET},
	    {"map", required_argument, NULL, OPT_MAP},
	    {"class", required_argument, NULL, OPT_CLASS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ops[2] = {NULL, NULL};
	struct dump_sel sel = {.kind = DUMP_SEL_RANGE, .map = -1, .cls = -1};
	bool have_sel = false, force = false, json = false, raw = false, malloc_heaps = false;
	uint64_t limit = 1ULL << 30, budget_ms = MALLOC_PROBE_BUDGET / 1000000;
	struct source src;
	struct inspect in;
	size_t nops = 0;
	int c, top = 20, ret;
	pid_t pid;

	memset(&src, 0, sizeof(src));
	optind = 1;
	for (;;) {
		c = getopt_long(argc, argv, "+fh", opts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (nops >= 2)
				usage_die("inspect", "unexpected argument '%s'", argv[optind]);
			ops[nops++] = argv[optind++];
			continue;
		}
		switch (c) {
		case OPT_TOP:
			if (parse_int(optarg, 1, 100000, &top))
				usage_die("inspect", "bad --top '%s' (1 to 100000)", optarg);
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_RAW:
			raw = true;
			break;
		case OPT_LIMIT:
			if (parse_size(optarg, &limit))
				usage_die("inspect", "bad --limit '%s'", optarg);
			break;
		case 'f':
			force = true;
			break;
		case OPT_MALLOC:
			malloc_heaps = true;
			break;
		case OPT_BUDGET:
			budget_ms = cmd_opt_duration("inspect", "--budget", optarg, 1, 0);
			break;
		case OPT_MAP:
			dumpcli_map("inspect", optarg, &sel, &have_sel);
			break;
		case OPT_CLASS:
			dumpcli_class("inspect", optarg, &sel, &have_sel);
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		default:
			usage_die("inspect", "unknown option");
		}
	}
	if (!ops[0])
		usage_die("inspect", "what? (offheap inspect FILE, or PID REGION)");
	if (malloc_heaps) {
		if (ops[1] || have_sel || raw)
			usage_die("inspect", "--malloc takes a PID and no REGION");
		if (cmd_resolve_pid(ops[0], &pid))
			return EXIT_RUNTIME;
		return inspect_malloc(pid, budget_ms, json);
	}
	if (ops[1])
		dumpcli_range("inspect", ops[1], &sel, &have_sel);
	if (have_sel) {
		if (raw)
			usage_die("inspect", "--raw is for a FILE");
		if (cmd_resolve_pid(ops[0], &pid))
			return EXIT_RUNTIME;
		ret = load_pid(pid, &sel, limit, force, &src);
	} else {
		ret = load_file(ops[0], raw, &src);
	}
	if (ret && !src.nregs) {
		release_source(&src);
		return EXIT_RUNTIME;
	}
	inspect_init(&in, src.maps, src.nmaps, RC_NR);
	inspect_run(&in, src.regs, src.nregs);
	for (size_t i = 0; i < src.nregs; i++)
		if (src.regs[i].cls == RC_HEAP || src.regs[i].cls == RC_ARENA)
			inspect_walk_chunks(&in, &src.regs[i], src.regs[i].cls == RC_HEAP);
	if (json)
		print_json(&in, &src, (size_t)top);
	else
		print_text(&in, &src, (size_t)top);
	inspect_release(&in);
	release_source(&src);
	return ret || src.partial ? EXIT_RUNTIME : EXIT_OK;
}
