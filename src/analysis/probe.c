/*
 * probe: looks inside a live process once, for doctor: its malloc regions,
 * and for a JVM its flags, class loaders and string table (jcmds over the
 * attach socket, src/source/attach.c).
 *
 * The malloc regions are sampled by src/analysis/mallocprobe.c.
 */
#include "probe.h"
#include "attach.h"
#include "doctor.h"
#include "jvmmem.h"
#include "parse.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Each jcmd of the JVM probes; they are cheap, a JVM answers them at once. */
/* VM.stringtable asked at most this often while the table is being resized. */
#define PROBE_TABLE_TRIES 6

/* The next whitespace-separated token of [*p, end) into tok; false at the end of the line. */
static bool token(const char **p, const char *end, char *tok, size_t n)
{
	size_t len = 0;

	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	if (*p >= end)
		return false;
	while (*p < end && **p != ' ' && **p != '\t') {
		if (len + 1 < n)
			tok[len++] = **p;
		(*p)++;
	}
	tok[len] = '\0';
	return len > 0;
}

/* a + b, held at UINT64_MAX: a hostile reply's counts must not wrap a total below a part. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

struct loader_type {
	char name[160];
	uint64_t count, classes;
};

int probe_parse_loaders(const char *text, struct loader_stats *out)
{
	struct loader_type *types = NULL;
	size_t ntypes = 0, alloc = 0;
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (*line) {
		const char *eol = strchr(line, '\n'), *p = line;
		char tok[64], type[160];
		const char *num;
		uint64_t classes;
		size_t i;

		if (!eol)
			eol = line + strlen(line);
		/* "0xLOADER 0xPARENT 0xCLD CLASSES CHUNKSZ BLOCKSZ TYPE…" */
		if (token(&p, eol, tok, sizeof(tok)) && !strncmp(tok, "0x", 2) &&
		    token(&p, eol, tok, sizeof(tok)) && token(&p, eol, tok, sizeof(tok)) &&
		    token(&p, eol, tok, sizeof(tok))) {
			num = tok;
			if (scan_dec(&num, tok + strlen(tok), &classes) && !*num &&
			    token(&p, eol, tok, sizeof(tok)) &&
			    token(&p, eol, tok, sizeof(tok))) {
				while (p < eol && *p == ' ')
					p++;
				snprintf(type, sizeof(type), "%.*s", (int)(eol - p), p);
				for (i = 0; i < ntypes; i++)
					if (!strcmp(types[i].name, type))
						break;
				if (i == ntypes && ntypes < 4096) {
					ALLOC_GROW(types, ntypes + 1, alloc);
					memset(&types[ntypes], 0, sizeof(types[0]));
					snprintf(types[ntypes].name, sizeof(types[0].name), "%s", type);
					ntypes++;
				}
				if (i < ntypes) {
					types[i].count++;
					types[i].classes = add_sat(types[i].classes, classes);
				}
				out->loaders++;
				out->classes = add_sat(out->classes, classes);
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	for (size_t i = 0; i < ntypes; i++)
		if (types[i].count > out->top_count ||
		    (types[i].count == out->top_count && types[i].classes > out->top_classes)) {
			snprintf(out->top_type, sizeof(out->top_type), "%s", types[i].name);
			out->top_count = types[i].count;
			out->top_classes = types[i].classes;
		}
	free(types);
	return out->loaders ? 0 : -EINVAL;
}

int probe_parse_table_entries(const char *text, uint64_t *entries)
{
	const char *p = strstr(text, "Number of entries");

	if (!p)
		return -EINVAL;
	p = strchr(p, ':');
	if (!p)
		return -EINVAL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return scan_dec(&p, p + strlen(p), entries) ? 0 : -EINVAL;
}

int probe_parse_class_count(const char *text, const char *const *cls, size_t ncls,
			    uint64_t *count)
{
	const char *line = text;
	bool histogram = false;

	*count = 0;
	while (*line) {
		const char *eol = strchr(line, '\n'), *p = line, *q;
		uint64_t instances;
		char tok[64], name[256];

		if (!eol)
			eol = line + strlen(line);
		/* " 123:   INSTANCES   BYTES  CLASS (MODULE)" */
		if (token(&p, eol, tok, sizeof(tok)) && tok[0] >= '0' && tok[0] <= '9' &&
		    tok[strlen(tok) - 1] == ':') {
			histogram = true;
			if (!token(&p, eol, tok, sizeof(tok)))
				goto next;
			q = tok;
			/* the bytes, then the class name */
			if (scan_dec(&q, tok + strlen(tok), &instances) && !*q &&
			    token(&p, eol, name, sizeof(name)) && token(&p, eol, name, sizeof(name)))
				for (size_t i = 0; i < ncls; i++)
					if (!strcmp(name, cls[i]))
						*count = add_sat(*count, instances);
		}
next:
		line = *eol ? eol + 1 : eol;
	}
	return histogram ? 0 : -EINVAL;
}

int probe_flag_listed(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	/* "     uint TrimNativeHeapInterval        = 0     {product} {default}" */
	while ((p = strstr(p, name))) {
		const char *eol = strchr(p, '\n');

		if (!eol)
			eol = p + strlen(p);
		if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '=')) {
			const char *e = strstr(p, "{experimental}"), *g = strstr(p, "{diagnostic}");

			return (e && e < eol) || (g && g < eol) ? 2 : 1;
		}
		p += n;
	}
	return 0;
}

/*
 * Runs one jcmd of a probe, twice at most; fills out with its reply and
 * returns 0, or returns -1 (-ETIMEDOUT when the last try timed out) with why
 * in why[n].
 */
static int probe_jcmd(pid_t pid, const char *cmd, int timeout_ms, struct strbuf *out, char *why,
		      size_t n)
{
	struct strbuf err = STRBUF_INIT;
	int status = 0, ret = -1;

	for (int tries = 0; tries < 2 && ret; tries++) {
		int r;

		strbuf_reset(out);
		strbuf_reset(&err);
		r = attach_jcmd(pid, cmd, timeout_ms, &status, out, &err);
		if (r) {
			snprintf(why, n, "%s", err.len ? err.buf : "attach failed");
			/* twice too slow: the caller asks this JVM nothing more */
			ret = r == -ETIMEDOUT ? r : -1;
		} else if (status) {
			snprintf(why, n, "%s answered with status %d", cmd, status);
			ret = -1;
		} else {
			ret = 0;
		}
	}
	strbuf_release(&err);
	return ret;
}

static const char *const direct_classes[] = { "java.nio.DirectByteBuffer",
					      "java.nio.DirectByteBufferR" };

void probe_jvm(pid_t pid, int timeout_ms, struct jvm_probe *jp)
{
	static const char *const zlib_classes[] = { "java.util.zip.Inflater",
						    "java.util.zip.Deflater" };
	struct strbuf out = STRBUF_INIT;
	int ret;

	memset(jp, 0, sizeof(*jp));
	ret = probe_jcmd(pid, "VM.classloader_stats", timeout_ms, &out, jp->loaders_error,
			 sizeof(jp->loaders_error));
	if (!ret) {
		if (!probe_parse_loaders(out.buf, &jp->loaders))
			jp->loaders_ok = true;
		else
			snprintf(jp->loaders_error, sizeof(jp->loaders_error),
				 "its reply did not parse");
	}
	/*
	 * While the table resizes (it grows with what is interned) HotSpot
	 * answers "statistics unavailable at this moment": ask again. A JVM
	 * that let the first request time out is not asked more.
	 */
	if (ret == -ETIMEDOUT)
		snprintf(jp->strings_error, sizeof(jp->strings_error), "%s", jp->loaders_error);
	for (int tries = 0; ret != -ETIMEDOUT && tries < PROBE_TABLE_TRIES && !jp->strings_ok;
	     tries++) {
		struct timespec pause = { 0, 300 * 1000000L };

		if (tries)
			nanosleep(&pause, NULL);
		if (probe_jcmd(pid, "VM.stringtable", timeout_ms, &out, jp->strings_error,
			       sizeof(jp->strings_error)))
			break;
		if (!probe_parse_table_entries(out.buf, &jp->strings))
			jp->strings_ok = true;
		else if (strstr(out.buf, "unavailable"))
			snprintf(jp->strings_error, sizeof(jp->strings_error),
				 "the JVM had no statistics %d times (the table was being resized)",
				 tries + 1);
		else
			snprintf(jp->strings_error, sizeof(jp->strings_error),
				 "its reply did not parse");
	}
	if (ret == -ETIMEDOUT)
		snprintf(jp->histogram_error, sizeof(jp->histogram_error), "%s", jp->loaders_error);
	else if (!probe_jcmd(pid, "GC.class_histogram -all", timeout_ms, &out, jp->histogram_error,
			     sizeof(jp->histogram_error))) {
		if (!probe_parse_class_count(out.buf, zlib_classes, 2, &jp->zlib_objects) &&
		    !probe_parse_class_count(out.buf, direct_classes, 2, &jp->direct_objects))
			jp->histogram_ok = true;
		else
			snprintf(jp->histogram_error, sizeof(jp->histogram_error),
				 "its reply did not parse");
	}
	strbuf_release(&out);
}

int probe_direct_live(pid_t pid, int timeout_ms, uint64_t *direct, char *why, size_t n)
{
	struct strbuf out = STRBUF_INIT;
	int ret;

	/* without -all the histogram follows a full collection: live objects only */
	ret = probe_jcmd(pid, "GC.class_histogram", timeout_ms, &out, why, n);
	if (!ret && probe_parse_class_count(out.buf, direct_classes, 2, direct)) {
		snprintf(why, n, "its reply did not parse");
		ret = -1;
	}
	strbuf_release(&out);
	return ret;
}

int probe_jvm_flags(pid_t pid, int timeout_ms, struct doctor_probes *p, char *why, size_t n)
{
	struct strbuf out = STRBUF_INIT;
	struct jvm_flags f;
	int ret;

	memset(&f, 0, sizeof(f));
	ret = probe_jcmd(pid, "VM.flags -all", timeout_ms, &out, why, n);
	if (!ret && jvmmem_parse_flags(out.buf, &f)) {
		snprintf(why, n, "its reply did not parse");
		ret = -1;
	}
	if (!ret) {
		p->have_flags = true;
		p->max_heap = f.max_heap.set ? f.max_heap.val : 0;
		p->max_direct = f.max_direct.set ? f.max_direct.val : 0;
		p->max_metaspace = f.max_metaspace.set ? f.max_metaspace.val : 0;
		p->code_cache = f.code_cache.set ? f.code_cache.val : 0;
		p->thread_stack = f.thread_stack.set ? f.thread_stack.val * 1024 : 0;
		p->trim_native_flag = probe_flag_listed(out.buf, "TrimNativeHeapInterval");
	}
	strbuf_release(&out);
	return ret;
}
