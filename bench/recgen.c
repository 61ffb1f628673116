/* recgen: writes a synthetic allocation recording through the real store and allocdb writers. */

/*
 * Usage: recgen FILE INTERVALS STACKS [DEPTH [RUNS]]
 *
 * RUNS runs (default 1: a --follow-fork recording has one per process
 * image), one after the other, each of STACKS stacks of DEPTH frames (default 16) whose callers are
 * shared the way a program's are (a few entry points, then fan-out), every
 * return address symbolized, and INTERVALS intervals in which every stack's
 * counters change (the worst case for alloc_site: one row per stack per
 * interval), then a final interval. One stack in eight grows steadily, the
 * others go up and down. The figures are deterministic, so two files made
 * with the same arguments hold the same totals. For bench/report-scale.sh and
 * the scale test (t3026).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocdb.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"
#include "xalloc.h"

#define PC_BASE 0x555500001000ull

/* The return address at level k (0 innermost) of stack i. */
static uint64_t pc_of(uint32_t i, uint32_t k, uint32_t depth)
{
	/* outer levels are shared by more stacks: level k is shared by 2^(k/2) neighbours */
	uint32_t group = i >> (k / 2 < 10 ? k / 2 : 10);

	return PC_BASE + ((uint64_t)(depth - k) << 24) + (uint64_t)group * 16;
}

/* Run r of the file: its stacks, their frames, nint intervals and the final one. */
static int add_run(struct allocdb *adb, uint32_t r, uint32_t nint, uint32_t nstacks,
		   uint32_t depth, int64_t *ids, bool *changed, uint64_t *pcs,
		   struct track_view *v, struct strbuf *err)
{
	int64_t run_id;
	int pid = 4242 + (int)r;

	if (allocdb_add_run(adb, r + 1, pid, 0, "recgen synthetic workload", &run_id, err) ||
	    allocdb_set_exe(adb, run_id, "/usr/bin/recgen-target", err))
		return -1;
	memset(v->sites, 0, nstacks * sizeof(*v->sites));
	v->nr = nstacks;
	v->pid = pid;
	v->generation = r + 1;
	v->flags = ALLOC_EXACT;
	v->sites_seq = 1;

	if (allocdb_begin(adb, err))
		return -1;
	for (uint32_t i = 0; i < nstacks; i++) {
		for (uint32_t k = 0; k < depth; k++)
			pcs[k] = pc_of(i, k, depth);
		v->sites[i].slot = i + 1;
		v->sites[i].depth = depth;
		changed[i] = true;
		if (allocdb_add_stack(adb, run_id, i + 1, pcs, depth, &ids[i], err))
			return -1;
		for (uint32_t k = 0; k < depth; k++) {
			char fn[64], file[64];
			struct sym_frame f = {.pc = pcs[k], .line = (int)(k * 10 + 1),
					      .module = "/usr/lib/librecgen.so",
					      .build_id = "0123456789abcdef",
					      .module_offset = pcs[k] - PC_BASE};

			if (allocdb_has_frames(adb, run_id, pcs[k]))
				continue;
			snprintf(fn, sizeof(fn), "level%u_fn_%" PRIx64, k, pcs[k] & 0xffffff);
			snprintf(file, sizeof(file), "src/level%u.c", k);
			f.function = f.demangled = fn;
			f.file = file;
			if (allocdb_add_frames(adb, run_id, &f, 1, err))
				return -1;
		}
	}
	if (allocdb_commit(adb, err))
		return -1;

	for (uint32_t t = 0; t <= nint; t++) {
		bool final = t == nint;

		v->live_bytes = 0;
		for (uint32_t i = 0; i < nstacks; i++) {
			struct track_site *s = &v->sites[i];
			int64_t live = (i % 8 == 0) ? (int64_t)(t + 1) * (64 + i)
						     : (int64_t)((t * 7 + i) % 13 + 1) * 512;

			s->alloc_bytes += 4096 + i;
			s->alloc_count += 3;
			s->live_bytes = live;
			s->live_count = live / 64 + 1;
			s->free_bytes = s->alloc_bytes > (uint64_t)live ? s->alloc_bytes - (uint64_t)live
								       : 0;
			s->free_count = s->alloc_count - 1;
			s->peak_live = t == 0 ? live : s->peak_live;
			v->live_bytes += live;
		}
		if (t == 0) {
			v->peak_bytes = v->sites_live = v->live_bytes;
			v->peak_ms = v->sites_ms = 0;
		}
		if (allocdb_begin(adb, err) ||
		    allocdb_add_interval(adb, run_id, (int64_t)t * 1000, v, ids, changed, final,
					 err) ||
		    allocdb_commit(adb, err))
			return -1;
	}
	return allocdb_set_ended(adb, run_id, "exit 0", err) ? -1 : 0;
}

static int die_err(const char *what, struct strbuf *err)
{
	fprintf(stderr, "recgen: %s: %s\n", what, err->buf);
	return 1;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	struct allocdb *adb = NULL;
	struct track_view v = {0};
	uint32_t nint, nstacks, depth = 16, nruns = 1;
	int64_t *ids;
	bool *changed;
	uint64_t *pcs;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: recgen FILE INTERVALS STACKS [DEPTH [RUNS]]\n");
		return 2;
	}
	nint = (uint32_t)strtoul(argv[2], NULL, 10);
	nstacks = (uint32_t)strtoul(argv[3], NULL, 10);
	if (argc >= 5)
		depth = (uint32_t)strtoul(argv[4], NULL, 10);
	if (argc == 6)
		nruns = (uint32_t)strtoul(argv[5], NULL, 10);
	if (!nint || !nstacks || !depth || depth > TRACK_MAX_DEPTH || !nruns) {
		fprintf(stderr, "recgen: intervals, stacks, runs > 0 and depth in 1..%d\n",
			TRACK_MAX_DEPTH);
		return 2;
	}
	if (store_create(argv[1], STORE_RECORDING, true, &st, &err) || store_commit(st, &err) ||
	    allocdb_open(store_db(st), true, &adb, &err))
		return die_err("cannot create the recording", &err);
	ids = xcalloc(nstacks, sizeof(*ids));
	changed = xcalloc(nstacks, sizeof(*changed));
	pcs = xcalloc(depth, sizeof(*pcs));
	v.sites = xcalloc(nstacks, sizeof(*v.sites));
	for (uint32_t r = 0; r < nruns; r++)
		if (add_run(adb, r, nint, nstacks, depth, ids, changed, pcs, &v, &err))
			return die_err("cannot write a run", &err);
	allocdb_free(adb);
	store_close(st);
	free(ids);
	free(changed);
	free(pcs);
	free(v.sites);
	strbuf_release(&err);
	return 0;
}
