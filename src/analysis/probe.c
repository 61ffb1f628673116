/*
 * probe: looks inside a live process once, for doctor: its malloc regions,
 * and for a JVM its flags, class loaders and string table (jcmds over the
 * attach socket, src/source/attach.c).
 *
 * The malloc regions are copied with process_vm_readv (src/source/dump.c) while
 * the target runs: a chunk being changed while read can make one walk stop
 * early or one zlib state be missed, never harm the target. The analysis
 * is src/analysis/inspect.c's: a zlib state is recognised by the back pointer from
 * its z_stream, which glibc places in the same heap.
 */
#include "probe.h"
#include "attach.h"
#include "doctor.h"
#include "dump.h"
#include "inspect.h"
#include "jvmmem.h"
#include "parse.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each jcmd of the JVM probes; they are cheap, a JVM answers them at once. */

static int cmp_rss_desc(const void *a, const void *b)
{
	const struct region *x = *(const struct region *const *)a,
			    *y = *(const struct region *const *)b;

	return x->m.rss == y->m.rss ? 0 : x->m.rss > y->m.rss ? -1 : 1;
}

static int cmp_start(const void *a, const void *b)
{
	const struct inspect_region *x = a, *y = b;

	return x->start == y->start ? 0 : x->start < y->start ? -1 : 1;
}

int probe_malloc(pid_t pid, uint64_t limit, struct malloc_probe *out, struct strbuf *err)
{
	struct snapshot s;
	struct dump_reader rd;
	struct inspect in;
	const struct region **pick = NULL;
	struct inspect_region *regs = NULL;
	unsigned char *buf = NULL;
	size_t npick = 0, nregs = 0;
	uint64_t total = 0, off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	snapshot_init(&s);
	ret = snapshot_take(pid, SNAP_NO_THREAD_SP, &s, err);
	if (ret)
		goto out;
	pick = xcalloc(s.nregions + 1, sizeof(*pick));
	for (size_t i = 0; i < s.nregions; i++) {
		const struct region *r = &s.regions[i];

		if ((r->cls != RC_HEAP && r->cls != RC_ARENA) || r->guard || r->perms[0] != 'r')
			continue;
		pick[npick++] = r;
		if (r->cls == RC_ARENA)
			out->arenas++;
	}
	/* The most resident first, so a limit keeps what holds the memory. */
	qsort(pick, npick, sizeof(*pick), cmp_rss_desc);
	for (size_t i = 0; i < npick; i++) {
		uint64_t len = pick[i]->end - pick[i]->start;

		if (total + len > limit) {
			out->truncated = true;
			npick = i;
			break;
		}
		total += len;
	}
	buf = xmalloc(total ? total : 1);
	regs = xcalloc(npick + 1, sizeof(*regs));
	dump_reader_init(&rd, pid);
	for (size_t i = 0; i < npick; i++) {
		const struct region *r = pick[i];
		size_t len = (size_t)(r->end - r->start), got = 0;

		ret = dump_read(&rd, r->start, buf + off, len, &got, err);
		if (ret)
			break;
		regs[nregs++] = (struct inspect_region){ r->start, r->end, (int)r->cls, buf + off };
		off += len;
		out->rss += r->m.rss;
	}
	dump_reader_release(&rd);
	if (ret)
		goto out;
	qsort(regs, nregs, sizeof(*regs), cmp_start);
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_run(&in, regs, nregs);
	for (size_t i = 0; i < nregs; i++)
		inspect_walk_chunks(&in, &regs[i], regs[i].cls == RC_HEAP);
	out->regions = nregs;
	out->bytes = off;
	out->zlib_states = in.sigs[IS_ZLIB_STATE];
	for (size_t i = 0; i < in.nwalks; i++) {
		out->inuse += in.walks[i].inuse_bytes;
		out->free += in.walks[i].free_bytes;
	}
	inspect_release(&in);
out:
	free(regs);
	free(buf);
	free(pick);
	snapshot_release(&s);
	return ret;
}

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

void probe_jvm(pid_t pid, int timeout_ms, struct jvm_probe *jp)
{
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
	if (ret == -ETIMEDOUT)
		snprintf(jp->strings_error, sizeof(jp->strings_error), "%s", jp->loaders_error);
	else if (!probe_jcmd(pid, "VM.stringtable", timeout_ms, &out, jp->strings_error,
			     sizeof(jp->strings_error))) {
		if (!probe_parse_table_entries(out.buf, &jp->strings))
			jp->strings_ok = true;
		else
			snprintf(jp->strings_error, sizeof(jp->strings_error),
				 "its reply did not parse");
	}
	strbuf_release(&out);
}

void probe_jvm_flags(pid_t pid, int timeout_ms, struct doctor_probes *p)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct jvm_flags f;
	int status;

	memset(&f, 0, sizeof(f));
	if (!attach_jcmd(pid, "VM.flags -all", timeout_ms, &status, &out, &err) &&
	    !status && !jvmmem_parse_flags(out.buf, &f)) {
		p->have_flags = true;
		p->max_heap = f.max_heap.set ? f.max_heap.val : 0;
		p->max_direct = f.max_direct.set ? f.max_direct.val : 0;
		p->max_metaspace = f.max_metaspace.set ? f.max_metaspace.val : 0;
		p->code_cache = f.code_cache.set ? f.code_cache.val : 0;
		p->thread_stack = f.thread_stack.set ? f.thread_stack.val * 1024 : 0;
	}
	strbuf_release(&out);
	strbuf_release(&err);
}
