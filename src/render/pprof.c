/*
 * pprof: allocation sites → profile.proto (proto/profile.proto), gzipped.
 *
 * The format: every string is an index into one string table whose entry 0
 * is ""; samples point at Locations (leaf first), a Location holds an
 * address and its Lines (several when calls were inlined there: the
 * innermost callee first, the function they were inlined into last), a
 * Line points at a Function (name, file). Mappings name the modules. pprof
 * readers accept the file gzipped, which is what 'go tool pprof' writes too.
 *
 * Our frames come innermost first with inlined ones flagged: a run of
 * inlined frames plus the next non-inlined frame is one Location. Strings,
 * functions and locations are de-duplicated through small open-addressing
 * hash tables so a big recording stays linear.
 */
#include "pprof.h"

#include "allocdb.h"
#include "allocrank.h"
#include "strbuf.h"

#include "profile.pb-c.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_vtype;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

/* A hash table of keys (strings) → 1-based ids; 0 = empty slot. */
struct intern {
	char **keys;
	uint64_t *ids;
	size_t cap, nr;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int intern_grow(struct intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	char **keys = calloc(cap, sizeof(*keys));
	uint64_t *ids = calloc(cap, sizeof(*ids));

	if (!keys || !ids) {
		free(keys);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->keys[i])
			continue;
		for (j = hash_str(t->keys[i]) & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = t->keys[i];
		ids[j] = t->ids[i];
	}
	free(t->keys);
	free(t->ids);
	t->keys = keys;
	t->ids = ids;
	t->cap = cap;
	return 0;
}

/* *id = the key's id, a new one (nr + 1) with *added set when absent. */
static int intern_get(struct intern *t, const char *key, uint64_t *id, int *added)
{
	size_t j;

	*added = 0;
	if ((t->nr + 1) * 2 > t->cap && intern_grow(t))
		return -ENOMEM;
	for (j = hash_str(key) & (t->cap - 1); t->keys[j]; j = (j + 1) & (t->cap - 1)) {
		if (!strcmp(t->keys[j], key)) {
			*id = t->ids[j];
			return 0;
		}
	}
	t->keys[j] = strdup(key);
	if (!t->keys[j])
		return -ENOMEM;
	t->ids[j] = *id = ++t->nr;
	*added = 1;
	return 0;
}

static void intern_release(struct intern *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->ids);
}

struct builder {
	pb_profile p;
	struct intern strs, funcs, locs, maps;
	size_t astr, afunc, aloc, amap, asample;
};

#define GROW(arr, nr, alloc)                                                                       \
	((nr) < (alloc) ? 0 : grow_array((void **)&(arr), &(alloc), sizeof(*(arr)), (nr) + 1))

static int grow_array(void **arr, size_t *alloc, size_t size, size_t need)
{
	size_t a = *alloc ? *alloc : 16;
	void *p;

	while (a < need)
		a *= 2;
	p = realloc(*arr, a * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*alloc = a;
	return 0;
}

/* The string table index of s; 0 for NULL or "". */
static int str_index(struct builder *b, const char *s, int64_t *idx)
{
	uint64_t id;
	int added;

	if (!s || !*s) {
		*idx = 0;
		return 0;
	}
	if (intern_get(&b->strs, s, &id, &added))
		return -ENOMEM;
	if (added) {
		if (GROW(b->p.string_table, b->p.n_string_table, b->astr))
			return -ENOMEM;
		b->p.string_table[b->p.n_string_table] = strdup(s);
		if (!b->p.string_table[b->p.n_string_table])
			return -ENOMEM;
		b->p.n_string_table++;
	}
	*idx = (int64_t)id; /* ids are 1-based and slot 0 is "" */
	return 0;
}

static int function_id(struct builder *b, const struct alloc_frame *f, uint64_t *id)
{
	char key[1024], name[512];
	const char *label = allocrank_frame_name(f, name, sizeof(name));
	int added;

	snprintf(key, sizeof(key), "%s\n%s", label, f->file ? f->file : "");
	if (intern_get(&b->funcs, key, id, &added))
		return -ENOMEM;
	if (added) {
		pb_function *fn = calloc(1, sizeof(*fn));

		if (!fn || GROW(b->p.function, b->p.n_function, b->afunc)) {
			free(fn);
			return -ENOMEM;
		}
		perftools__profiles__function__init(fn);
		fn->id = *id;
		if (str_index(b, label, &fn->name) || str_index(b, f->file, &fn->filename)) {
			free(fn);
			return -ENOMEM;
		}
		fn->system_name = fn->name;
		b->p.function[b->p.n_function++] = fn;
	}
	return 0;
}

static int mapping_id(struct builder *b, const char *module, uint64_t pc, uint64_t *id)
{
	int added;

	if (!module) {
		*id = 0;
		return 0;
	}
	if (intern_get(&b->maps, module, id, &added))
		return -ENOMEM;
	if (added) {
		pb_mapping *m = calloc(1, sizeof(*m));

		if (!m || GROW(b->p.mapping, b->p.n_mapping, b->amap)) {
			free(m);
			return -ENOMEM;
		}
		perftools__profiles__mapping__init(m);
		m->id = *id;
		m->memory_start = pc;
		m->memory_limit = pc ? pc + 1 : 0; /* 0: no address seen yet (main_mapping) */
		if (str_index(b, module, &m->filename)) {
			free(m);
			return -ENOMEM;
		}
		/* already symbolized: pprof must not try to symbolize again */
		m->has_functions = m->has_filenames = m->has_line_numbers = 1;
		m->has_inline_frames = 1;
		b->p.mapping[b->p.n_mapping++] = m;
	} else {
		pb_mapping *m = b->p.mapping[*id - 1];

		if (!m->memory_limit)
			m->memory_start = pc;
		if (pc < m->memory_start)
			m->memory_start = pc;
		if (pc >= m->memory_limit)
			m->memory_limit = pc + 1;
	}
	return 0;
}

/* The Location of frames[0..k] (k the first non-inlined one, or the last). */
static int location_id(struct builder *b, const struct alloc_frame *fr, size_t nf, uint64_t *id)
{
	struct strbuf key = STRBUF_INIT;
	char name[512];
	pb_location *loc = NULL;
	int added, ret = -ENOMEM;

	strbuf_addf(&key, "%" PRIx64, fr[0].pc);
	for (size_t i = 0; i < nf; i++)
		strbuf_addf(&key, "\n%s:%d", allocrank_frame_name(&fr[i], name, sizeof(name)), fr[i].line);
	if (intern_get(&b->locs, key.buf, id, &added))
		goto out;
	ret = 0;
	if (!added)
		goto out;
	ret = -ENOMEM;
	loc = calloc(1, sizeof(*loc));
	if (!loc)
		goto out;
	perftools__profiles__location__init(loc);
	loc->id = *id;
	loc->address = fr[0].pc;
	if (mapping_id(b, fr[nf - 1].module, fr[0].pc, &loc->mapping_id))
		goto out;
	loc->line = calloc(nf, sizeof(*loc->line));
	if (!loc->line)
		goto out;
	for (size_t i = 0; i < nf; i++) {
		pb_line *l = calloc(1, sizeof(*l));

		if (!l)
			goto out;
		perftools__profiles__line__init(l);
		loc->line[loc->n_line++] = l;
		l->line = fr[i].line;
		if (function_id(b, &fr[i], &l->function_id))
			goto out;
	}
	if (GROW(b->p.location, b->p.n_location, b->aloc))
		goto out;
	b->p.location[b->p.n_location++] = loc;
	loc = NULL;
	ret = 0;
out:
	if (loc) {
		for (size_t i = 0; i < loc->n_line; i++)
			free(loc->line[i]);
		free(loc->line);
		free(loc);
	}
	strbuf_release(&key);
	return ret;
}

/*
 * Mapping 1 is the main executable: pprof calls the first mapping the
 * profile's binary ("File:"), and would otherwise name whichever module the
 * first sample's leaf is in (libz.so, libstdc++.so).
 */
static int main_mapping(struct builder *b, const struct pprof_site *v, size_t n, const char *exe)
{
	uint64_t id;

	for (size_t i = 0; !exe && i < n; i++) {
		const struct alloc_stack *s = v[i].s;
		const struct alloc_frame *root = s->nframes ? &s->frames[s->nframes - 1] : NULL;

		if (root && root->module && root->function && !strcmp(root->function, "_start"))
			exe = root->module;
	}
	return exe ? mapping_id(b, exe, 0, &id) : 0;
}

static int add_sample(struct builder *b, const struct pprof_site *x)
{
	static const struct alloc_frame other = {.function = "[other]"};
	const struct alloc_stack *s = x->s;
	const struct alloc_frame *fr = s->nframes ? s->frames : &other;
	size_t nf = s->nframes ? s->nframes : 1;
	pb_sample *smp = calloc(1, sizeof(*smp));

	if (!smp || GROW(b->p.sample, b->p.n_sample, b->asample)) {
		free(smp);
		return -ENOMEM;
	}
	perftools__profiles__sample__init(smp);
	b->p.sample[b->p.n_sample++] = smp;
	smp->value = calloc(4, sizeof(*smp->value));
	smp->location_id = calloc(nf, sizeof(*smp->location_id));
	if (!smp->value || !smp->location_id)
		return -ENOMEM;
	smp->n_value = 4;
	smp->value[0] = x->live;
	smp->value[1] = s->live_count;
	smp->value[2] = (int64_t)s->alloc_bytes;
	smp->value[3] = (int64_t)s->alloc_count;
	for (size_t i = 0; i < nf;) {
		size_t k = i;

		while (k + 1 < nf && fr[k].inlined)
			k++;
		if (location_id(b, &fr[i], k - i + 1, &smp->location_id[smp->n_location_id++]))
			return -ENOMEM;
		i = k + 1;
	}
	return 0;
}

static void builder_release(struct builder *b)
{
	pb_profile *p = &b->p;

	for (size_t i = 0; i < p->n_sample; i++) {
		free(p->sample[i]->value);
		free(p->sample[i]->location_id);
		free(p->sample[i]);
	}
	for (size_t i = 0; i < p->n_location; i++) {
		for (size_t k = 0; k < p->location[i]->n_line; k++)
			free(p->location[i]->line[k]);
		free(p->location[i]->line);
		free(p->location[i]);
	}
	for (size_t i = 0; i < p->n_function; i++)
		free(p->function[i]);
	for (size_t i = 0; i < p->n_mapping; i++)
		free(p->mapping[i]);
	for (size_t i = 1; i < p->n_string_table; i++)
		free(p->string_table[i]);
	for (size_t i = 0; i < p->n_sample_type; i++)
		free(p->sample_type[i]);
	free(p->sample);
	free(p->location);
	free(p->function);
	free(p->mapping);
	free(p->string_table);
	free(p->sample_type);
	intern_release(&b->strs);
	intern_release(&b->funcs);
	intern_release(&b->locs);
	intern_release(&b->maps);
}

static int write_gzip(int fd, const uint8_t *buf, size_t len, struct strbuf *err)
{
	int dfd = dup(fd);
	gzFile gz;
	size_t off = 0;
	int zerr;

	if (dfd < 0) {
		strbuf_addf(err, "cannot write the profile: %s", strerror(errno));
		return -EIO;
	}
	gz = gzdopen(dfd, "wb");
	if (!gz) {
		close(dfd);
		strbuf_addstr(err, "cannot start gzip output");
		return -EIO;
	}
	while (off < len) {
		unsigned chunk = len - off > (1u << 30) ? 1u << 30 : (unsigned)(len - off);
		int w = gzwrite(gz, buf + off, chunk);

		if (w <= 0) {
			strbuf_addf(err, "cannot write the profile: %s", gzerror(gz, &zerr));
			gzclose(gz);
			return -EIO;
		}
		off += (size_t)w;
	}
	if (gzclose(gz) != Z_OK) {
		strbuf_addf(err, "cannot write the profile: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int pprof_write(int fd, const struct pprof_site *v, size_t n, uint64_t sample_mean,
		const char *exe, struct strbuf *err)
{
	static const char *const types[4][2] = {
	    {"inuse_space", "bytes"},
	    {"inuse_objects", "count"},
	    {"alloc_space", "bytes"},
	    {"alloc_objects", "count"},
	};
	struct builder b;
	pb_vtype period_type = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	uint8_t *buf = NULL;
	size_t len;
	int ret = -ENOMEM;

	memset(&b, 0, sizeof(b));
	perftools__profiles__profile__init(&b.p);
	if (GROW(b.p.string_table, 0, b.astr))
		goto out;
	b.p.string_table[b.p.n_string_table++] = (char *)"";
	b.p.sample_type = calloc(4, sizeof(*b.p.sample_type));
	if (!b.p.sample_type)
		goto out;
	for (size_t i = 0; i < 4; i++) {
		pb_vtype *t = calloc(1, sizeof(*t));

		if (!t)
			goto out;
		perftools__profiles__value_type__init(t);
		b.p.sample_type[b.p.n_sample_type++] = t;
		if (str_index(&b, types[i][0], &t->type) || str_index(&b, types[i][1], &t->unit))
			goto out;
	}
	if (str_index(&b, "space", &period_type.type) || str_index(&b, "bytes", &period_type.unit))
		goto out;
	b.p.period_type = &period_type;
	b.p.period = sample_mean ? (int64_t)sample_mean : 1; /* exact: every event */
	b.p.default_sample_type = b.p.sample_type[0]->type;
	if (main_mapping(&b, v, n, exe))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (add_sample(&b, &v[i]))
			goto out;
	len = perftools__profiles__profile__get_packed_size(&b.p);
	buf = malloc(len ? len : 1);
	if (!buf)
		goto out;
	perftools__profiles__profile__pack(&b.p, buf);
	ret = write_gzip(fd, buf, len, err);
out:
	if (ret == -ENOMEM)
		strbuf_addstr(err, "out of memory while building the profile");
	b.p.period_type = NULL;
	free(buf);
	builder_release(&b);
	return ret;
}
