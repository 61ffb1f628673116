/*
 * allocrank: allocation sites ranked by sustained growth, then live bytes.
 *
 * The growth test is trend_fit's (least squares over the live bytes of the
 * intervals taken while the target ran): a site that grew and then freed
 * back to a level is ranked by its live bytes only.
 *
 * A site is named after its culprit, the first frame that decided to
 * allocate. From the innermost frame outwards, a frame is passed over when:
 *  - it is the allocator's entry or the tracker (malloc, mmap, liboffheap);
 *  - it lives in a runtime library that allocates only because its caller
 *    asked (libc, libstdc++, GLib, zlib, libgcc): __strdup, operator new,
 *    vasprintf, g_malloc, inflateInit2_;
 *  - it is a known forwarder compiled into the program (C++ std:: and
 *    __gnu_cxx:: templates: std::vector<T>::_M_realloc_insert, allocators;
 *    g_new/g_strdup macros' helpers; the xmalloc family);
 *  - it is a wrapper of the program itself, detected rather than listed: its
 *    name reads like an allocator (a word of it is new, make, create, dup,
 *    clone or holds alloc) AND, across every stack of the recording, it is
 *    reached from at least WRAPPER_MIN_CALLERS distinct callers while it sits
 *    within the first frames above the allocator, or its own caller is such
 *    a function too (xstrdup calling my_alloc: a wrapper's helper, however
 *    few of its callers the window saw). A function that allocates for many
 *    callers forwards their decision; one with a single caller that is no
 *    allocator, or whose name says nothing of allocating (parse_request), is
 *    the decider;
 *  - below a Java frame: JNI glue (Java_* and JVM_* functions, libjvm and the
 *    JDK's own libraries) — the Java code above called them — and Java
 *    frames of the JDK itself (java., javax., jdk., sun., com.sun.) or of no
 *    method (Interpreter, stubs) while a frame of the application is above.
 * Nothing left (a stack that is all runtime): the nearest Java frame, else
 * the first frame past the allocator.
 */
#include "allocrank.h"

#include "allocdb.h"
#include "xalloc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t allocrank_sites(const struct alloc_data *d, struct alloc_site **out)
{
	struct alloc_site *v = xcalloc(d->nr ? d->nr : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *s = &d->stacks[i];

		if (!s->alloc_count && !s->live_bytes)
			continue;
		v[n].s = s;
		v[n].live = s->live_bytes;
		trend_fit(s->live, s->n, &v[n].t);
		n++;
	}
	*out = v;
	return n;
}

static int cmp_sites(const void *a, const void *b)
{
	const struct alloc_site *x = a, *y = b;

	if (x->t.growing != y->t.growing)
		return x->t.growing ? -1 : 1;
	if (x->t.growing && x->t.growth != y->t.growth)
		return x->t.growth > y->t.growth ? -1 : 1;
	if (x->live != y->live)
		return x->live > y->live ? -1 : 1;
	return x->s->id < y->s->id ? -1 : x->s->id > y->s->id;
}

void allocrank_sort(struct alloc_site *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_sites);
}

const char *allocrank_frame_name(const struct alloc_frame *f, char *buf, size_t n)
{
	const char *mod;

	if (f->java) { /* marked as the JIT map's names are */
		snprintf(buf, n, "[java] %s", f->function ? f->function : "?");
		return buf;
	}
	if (f->function)
		return f->function;
	if (!f->module) {
		snprintf(buf, n, "0x%" PRIx64, f->pc);
		return buf;
	}
	mod = strrchr(f->module, '/');
	snprintf(buf, n, "0x%" PRIx64 " in %s+0x%" PRIx64, f->pc, mod ? mod + 1 : f->module,
		 f->module_offset);
	return buf;
}

/* Distinct callers above which an allocator-like function is a wrapper. */
#define WRAPPER_MIN_CALLERS 2
/* Frames above the allocator in which wrappers are looked for. */
#define WRAPPER_DEPTH 6

bool allocrank_frame_is_java(const struct alloc_frame *f)
{
	return f->jit || f->java;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool prefix_in(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has_prefix(s, v[i]))
			return true;
	return false;
}

#define PREFIX_IN(s, v) prefix_in(s, v, sizeof(v) / sizeof(v[0]))

/* The allocator's entry points and the tracker: never the culprit. */
static bool frame_is_entry(const struct alloc_frame *f)
{
	static const char *const entry[] = {
		"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
		"aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "mmap64", "mremap",
		"__mmap", "__libc_", "__GI_", "offheap_", "_int_malloc", "tcache_",
	};
	const char *mod = base_name(f->module);

	if (mod && has_prefix(mod, "liboffheap"))
		return true;
	if (!f->function || allocrank_frame_is_java(f))
		return false;
	for (size_t i = 0; i < sizeof(entry) / sizeof(entry[0]); i++) {
		size_t len = strlen(entry[i]);

		/* "malloc" but not "malloc_trim_helper": whole names unless a prefix is meant */
		if (!strncmp(f->function, entry[i], len) &&
		    (entry[i][len - 1] == '_' || !f->function[len] || f->function[len] == '('))
			return true;
	}
	return false;
}

const struct alloc_frame *allocrank_past_allocator(const struct alloc_stack *st)
{
	for (size_t i = 0; i < st->nframes; i++)
		if (!frame_is_entry(&st->frames[i]))
			return &st->frames[i];
	return st->nframes ? &st->frames[0] : NULL;
}

/* Libraries that allocate only because their caller asked. */
static bool module_is_runtime(const char *module)
{
	static const char *const runtime[] = {
		"libc.so", "libc-", "libstdc++.so", "libglib-2.0.so", "libz.so", "libgcc_s",
		"ld-linux", "libm.so",
	};
	const char *mod = base_name(module);

	return mod && PREFIX_IN(mod, runtime);
}

/* Forwarders known by name, wherever they were compiled. */
static bool name_is_forwarder(const char *fn)
{
	static const char *const fwd[] = {
		"strdup", "strndup", "__strdup", "__strndup", "asprintf", "vasprintf",
		"__asprintf", "__vasprintf", "operator new", "std::", "__gnu_cxx::",
		"g_malloc", "g_try_malloc", "g_realloc", "g_new", "g_slice_", "g_strdup",
		"g_strndup", "g_memdup", "xmalloc", "xcalloc", "xrealloc", "xstrdup", "xzalloc",
		"xmemdup",
	};
	const char *sp = strstr(fn, " std::"), *paren = strchr(fn, '(');

	/* demangled names of templates may start with their return type: "void* std::..." */
	if (sp && (!paren || sp < paren))
		return true;
	return PREFIX_IN(fn, fwd);
}

/* JNI glue: what Java code calls into (only meaningful below a Java frame). */
static bool frame_is_jni_glue(const struct alloc_frame *f)
{
	const char *mod = base_name(f->module);

	if (f->function && (has_prefix(f->function, "Java_") || has_prefix(f->function, "JVM_")))
		return true;
	if (mod && has_prefix(mod, "libjvm"))
		return true;
	return f->module && strstr(f->module, "/lib/jvm/");
}

/* A Java frame of the JDK, or of no method at all (Interpreter, a stub). */
static bool java_is_runtime(const struct alloc_frame *f)
{
	static const char *const jdk[] = { "java.", "javax.", "jdk.", "sun.", "com.sun.",
					   "Ljava/", "Ljavax/", "Ljdk/", "Lsun/", "Lcom/sun/" };
	const char *name = f->function, *paren, *sp;

	if (!name)
		return true;
	/*
	 * A frame the JVM named (f->java) is "pkg.Class.method" as it is; a
	 * placeholder in parentheses ("(more Java frames)", "(unloaded)") names
	 * no method of the application.
	 */
	if (f->java && !f->jit)
		return name[0] == '(' || PREFIX_IN(name, jdk);
	if (!has_prefix(name, "[java] "))
		return true;
	name += strlen("[java] ");
	/* "long java.util.zip.Inflater.init(boolean)": the qualified name before '(' */
	paren = strchr(name, '(');
	for (sp = name; (sp = strchr(name, ' ')) && (!paren || sp < paren);)
		name = sp + 1;
	return PREFIX_IN(name, jdk);
}

/*
 * A word of the function's own name (past any "Class::" or "pkg.", before
 * its parameters) says allocating: new, make, create, dup, clone, or a word
 * holding alloc (malloc, calloc, allocate). Words split at '_', digits and
 * lower-to-upper case changes.
 */
static bool name_reads_alloc(const char *fn)
{
	static const char *const words[] = { "new", "make", "create", "dup", "clone" };
	const char *end = strchr(fn, '('), *p, *start = fn;
	char w[64];
	size_t len = 0;

	if (!end)
		end = fn + strlen(fn);
	for (p = fn; p < end; p++)
		if (*p == ':' || *p == '.' || *p == ' ')
			start = p + 1;
	for (p = start; p <= end; p++) {
		bool cut = p == end || *p == '_' || isdigit((unsigned char)*p) ||
			   (p > start && isupper((unsigned char)*p) && islower((unsigned char)p[-1]));

		if (cut && len) {
			w[len] = '\0';
			if (strstr(w, "alloc") || (len >= 3 && !strcmp(w + len - 3, "dup")))
				return true;
			for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
				if (!strcmp(w, words[i]))
					return true;
			len = 0;
		}
		if (p < end && isalpha((unsigned char)*p) && len + 1 < sizeof(w))
			w[len++] = (char)tolower((unsigned char)*p);
	}
	return false;
}

/* A function and one caller of it, as seen in one stack. */
struct call_pair {
	const char *fn;
	const char *caller; /* its function, or NULL: then caller_pc tells it */
	uint64_t caller_pc;
};

struct allocrank_culprits {
	struct call_pair *v; /* one per distinct (fn, caller), sorted by fn */
	size_t n;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct call_pair *x = a, *y = b;
	int c = strcmp(x->fn, y->fn);

	if (c)
		return c;
	if (!x->caller != !y->caller)
		return x->caller ? -1 : 1;
	if (x->caller)
		return strcmp(x->caller, y->caller);
	return x->caller_pc < y->caller_pc ? -1 : x->caller_pc > y->caller_pc;
}

struct allocrank_culprits *allocrank_culprits_new(const struct alloc_data *d)
{
	struct allocrank_culprits *c = xcalloc(1, sizeof(*c));
	size_t alloc = 0, out = 0;

	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];
		size_t k = 0, depth = 0;

		while (k < st->nframes && frame_is_entry(&st->frames[k]))
			k++;
		for (; k + 1 < st->nframes && depth < WRAPPER_DEPTH; k++, depth++) {
			const struct alloc_frame *f = &st->frames[k], *up = &st->frames[k + 1];

			if (!f->function || allocrank_frame_is_java(f) || !name_reads_alloc(f->function))
				continue;
			ALLOC_GROW(c->v, c->n + 1, alloc);
			c->v[c->n++] = (struct call_pair){ f->function, up->function, up->pc };
		}
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cmp_pair);
	for (size_t i = 0; i < c->n; i++)
		if (!out || cmp_pair(&c->v[out - 1], &c->v[i]))
			c->v[out++] = c->v[i];
	c->n = out;
	return c;
}

void allocrank_culprits_free(struct allocrank_culprits *c)
{
	if (!c)
		return;
	free(c->v);
	free(c);
}

/* Distinct callers of fn seen in the recording (0 when fn never reads like an allocator). */
static size_t callers_of(const struct allocrank_culprits *c, const char *fn)
{
	size_t lo = 0, hi = c ? c->n : 0, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->v[mid].fn, fn) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < (c ? c->n : 0) && !strcmp(c->v[lo + n].fn, fn))
		n++;
	return n;
}

/*
 * Frame f (not an entry) only forwards the allocation; java_above: a Java
 * frame is above it; up: its caller's frame, NULL for the last.
 */
static bool frame_forwards(const struct allocrank_culprits *c, const struct alloc_frame *f,
			   const struct alloc_frame *up, bool java_above, bool app_java_above)
{
	if (allocrank_frame_is_java(f))
		return app_java_above && java_is_runtime(f);
	/* below Java, a frame of no module is the JVM's generated code (stubs, adapters) */
	if (java_above && (frame_is_jni_glue(f) || (!f->module && !f->function)))
		return true;
	if (module_is_runtime(f->module))
		return true;
	if (!f->function)
		return false;
	if (name_is_forwarder(f->function))
		return true;
	if (!name_reads_alloc(f->function))
		return false;
	/*
	 * An allocator-like function called by one too (xstrdup -> my_alloc):
	 * the inner helper of a wrapper, whatever the window saw of its other
	 * callers; else a wrapper by its many callers.
	 */
	if (up && up->function && !allocrank_frame_is_java(up) &&
	    (name_is_forwarder(up->function) || name_reads_alloc(up->function)))
		return true;
	return callers_of(c, f->function) >= WRAPPER_MIN_CALLERS;
}

const struct alloc_frame *allocrank_culprit(const struct allocrank_culprits *c,
					    const struct alloc_stack *st,
					    const struct alloc_frame **via)
{
	size_t first = 0, java = st->nframes, app_java = st->nframes;

	if (via)
		*via = NULL;
	if (!st->nframes)
		return NULL;
	while (first < st->nframes && frame_is_entry(&st->frames[first]))
		first++;
	if (first == st->nframes)
		return &st->frames[0];
	/* the nearest Java frame, and the nearest one of the application */
	for (size_t k = st->nframes; k-- > first;)
		if (allocrank_frame_is_java(&st->frames[k])) {
			java = k;
			if (!java_is_runtime(&st->frames[k]))
				app_java = k;
		}
	for (size_t k = first; k < st->nframes; k++) {
		if (!frame_forwards(c, &st->frames[k],
				    k + 1 < st->nframes ? &st->frames[k + 1] : NULL, k < java,
				    k < app_java)) {
			if (via && k > first)
				*via = &st->frames[k - 1];
			return &st->frames[k];
		}
	}
	if (java < st->nframes) {
		if (via && java > first)
			*via = &st->frames[java - 1];
		return &st->frames[java];
	}
	return &st->frames[first];
}

/* buf, cut by snprintf at n - 1 bytes, loses the last character if it was cut in two. */
static void utf8_trim(char *buf, size_t n)
{
	size_t len = strlen(buf), k = len, need;
	unsigned char lead;

	if (!n || len + 1 < n)
		return;
	while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
		k--;
	if (!k)
		return;
	lead = (unsigned char)buf[k - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (len - (k - 1) < need)
		buf[k - 1] = '\0';
}

const char *allocrank_site_label(const struct allocrank_culprits *c, const struct alloc_stack *st,
				 char *buf, size_t n)
{
	const struct alloc_frame *f = allocrank_culprit(c, st, NULL);
	const char *mod;
	char name[128];

	if (!f) {
		snprintf(buf, n, "%s", allocrank_unnamed(st));
		return buf;
	}
	if (!f->function) {
		allocrank_frame_name(f, buf, n);
		return buf;
	}
	mod = base_name(f->module);
	snprintf(buf, n, "%s", allocrank_frame_name(f, name, sizeof(name)));
	/* line 0: unknown (a native method, a class without line numbers), as report prints it */
	if (f->file && f->line > 0)
		snprintf(buf + strlen(buf), n - strlen(buf), " (%s:%d)", f->file, f->line);
	else if (f->file)
		snprintf(buf + strlen(buf), n - strlen(buf), " (%s)", f->file);
	if (mod)
		snprintf(buf + strlen(buf), n - strlen(buf), " in %s", mod);
	utf8_trim(buf, n);
	return buf;
}

static int cmp_peak(const void *a, const void *b)
{
	const struct alloc_stack *x = *(const struct alloc_stack *const *)a;
	const struct alloc_stack *y = *(const struct alloc_stack *const *)b;

	if (x->peak_live != y->peak_live)
		return x->peak_live > y->peak_live ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t allocrank_peak(const struct alloc_data *d, const struct alloc_stack ***out)
{
	const struct alloc_stack **v = xcalloc(d->nr ? d->nr : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; d->has_peak && i < d->nr; i++)
		if (d->stacks[i].run_id == d->peak_run && d->stacks[i].peak_live > 0)
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), cmp_peak);
	*out = v;
	return n;
}

void allocrank_at_exit(const struct alloc_data *d, int64_t *bytes, int64_t *count)
{
	int64_t last = -1;

	*bytes = *count = 0;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].run_id > last)
			last = d->stacks[i].run_id;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].run_id == last) {
			*bytes += d->stacks[i].live_bytes;
			*count += d->stacks[i].live_count;
		}
}

const char *allocrank_unnamed(const struct alloc_stack *s)
{
	if (s->slot == 0)
		return "(other: stacks beyond the tracker's table)";
	return "(no frames: the recorder ended before it wrote them)";
}
