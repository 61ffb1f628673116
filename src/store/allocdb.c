/* allocdb: the alloc_* tables of a recording (offheap record writes, offheap report reads). */

/*
 * The tables live next to the store's own in the same SQLite file and are
 * created with CREATE TABLE IF NOT EXISTS, so a file without them is still a
 * valid snapshot or recording. alloc_site holds a row only for a stack whose
 * counters changed in that interval: the reader fills the series forward.
 * A stack is a path in the trie alloc_node (outermost frame at the root), and
 * a return address is an alloc_pc row symbolized once a run (alloc_symbol);
 * alloc_frame, which older files store as a table, is a view over them, so
 * one query reads both. The writer keeps the ids it wrote in memory (idmap)
 * to write each row once. See docs/SCHEMA.md.
 */
#include "allocdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "perfmap.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"
#include "xalloc.h"

_Static_assert((int)ALLOC_STACKS_FULL == (int)TRACK_STACKS_FULL, "stored as they come");
_Static_assert((int)ALLOC_ADDRS_FULL == (int)TRACK_ADDRS_FULL, "stored as they come");
_Static_assert((int)ALLOC_EXACT == (int)TRACK_EXACT, "stored as they come");
_Static_assert((int)ALLOC_DEGRADED == (int)TRACK_DEGRADED, "stored as they come");
_Static_assert((int)ALLOC_NOSPACE == (int)TRACK_NOSPACE, "stored as they come");

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS alloc_run ("
    " id INTEGER PRIMARY KEY, generation INTEGER NOT NULL, pid INTEGER NOT NULL,"
    " sample_mean INTEGER NOT NULL, command TEXT, exe TEXT,"
    " peak_bytes INTEGER, peak_ms INTEGER, peak_sites_bytes INTEGER, peak_sites_ms INTEGER,"
    " ppid INTEGER, parent_run INTEGER, ended TEXT,"
    " degraded_ms INTEGER, degraded_mean INTEGER, max_memory INTEGER);"
    "CREATE TABLE IF NOT EXISTS alloc_stack ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES alloc_run(id),"
    " slot INTEGER NOT NULL, depth INTEGER NOT NULL, node INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alloc_pc ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES alloc_run(id),"
    " pc INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alloc_node ("
    " id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, pc_id INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alloc_module ("
    " id INTEGER PRIMARY KEY, path TEXT, build_id TEXT);"
    "CREATE TABLE IF NOT EXISTS alloc_symbol ("
    " pc_id INTEGER NOT NULL REFERENCES alloc_pc(id), level INTEGER NOT NULL,"
    " function TEXT, file TEXT, line INTEGER NOT NULL, module_id INTEGER,"
    " module_offset INTEGER NOT NULL, inlined INTEGER NOT NULL);"
    /*
     * The frames of every stack, as files before alloc_node stored them: walk
     * from the stack's innermost node to the outermost (bounded, a damaged
     * file may hold a cycle), and give each pc its inlined levels.
     */
    "CREATE VIEW IF NOT EXISTS alloc_frame AS"
    " WITH RECURSIVE walk(stack_id, k, node) AS ("
    "  SELECT id, 0, node FROM alloc_stack WHERE node > 0"
    "  UNION ALL SELECT w.stack_id, w.k + 1, n.parent FROM walk w"
    "  JOIN alloc_node n ON n.id = w.node WHERE n.parent > 0 AND w.k < 1024)"
    " SELECT w.stack_id AS stack_id,"
    "  row_number() OVER (PARTITION BY w.stack_id ORDER BY w.k, y.level) - 1 AS level,"
    "  p.pc AS pc, y.function AS function, y.file AS file, coalesce(y.line, 0) AS line,"
    "  m.path AS module, m.build_id AS build_id,"
    "  coalesce(y.module_offset, 0) AS module_offset, coalesce(y.inlined, 0) AS inlined"
    " FROM walk w JOIN alloc_node n ON n.id = w.node JOIN alloc_pc p ON p.id = n.pc_id"
    " LEFT JOIN alloc_symbol y ON y.pc_id = p.id"
    " LEFT JOIN alloc_module m ON m.id = y.module_id;"
    "CREATE TABLE IF NOT EXISTS alloc_interval ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES alloc_run(id),"
    " t_ms INTEGER NOT NULL, live_bytes INTEGER NOT NULL, sites INTEGER NOT NULL,"
    " flags INTEGER NOT NULL, dropped INTEGER NOT NULL, final INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alloc_site ("
    " interval_id INTEGER NOT NULL REFERENCES alloc_interval(id),"
    " stack_id INTEGER NOT NULL REFERENCES alloc_stack(id),"
    " live_bytes INTEGER NOT NULL, live_count INTEGER NOT NULL,"
    " alloc_bytes INTEGER NOT NULL, alloc_count INTEGER NOT NULL,"
    " free_bytes INTEGER NOT NULL, free_count INTEGER NOT NULL,"
    " PRIMARY KEY (interval_id, stack_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alloc_jitmap ("
    " run_id INTEGER NOT NULL REFERENCES alloc_run(id), start INTEGER NOT NULL,"
    " size INTEGER NOT NULL, name TEXT NOT NULL,"
    " PRIMARY KEY (run_id, start)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alloc_peak ("
    " stack_id INTEGER PRIMARY KEY REFERENCES alloc_stack(id),"
    " run_id INTEGER NOT NULL REFERENCES alloc_run(id), live_bytes INTEGER NOT NULL);";

/* (a, b) -> id, for the rows already written: pcs of a run, nodes of the stack trie. */
struct idmap_entry {
	uint64_t a, b;		/* the key */
	int64_t id;		/* the row; 0 marks an empty slot */
	bool done;		/* alloc_pc: its alloc_symbol rows are written */
};

struct idmap {
	struct idmap_entry *v;	/* open addressing, size a power of 2 */
	size_t size, used;
};

struct alloc_module_id {
	char *path, *build_id;	/* as symbolize named them; NULL when unknown */
	int64_t id;		/* its alloc_module row */
};

struct allocdb {
	sqlite3 *db;
	sqlite3_stmt *ins_run, *ins_stack, *ins_interval, *ins_site;
	sqlite3_stmt *ins_pc, *ins_node, *ins_symbol, *ins_module;
	struct idmap pcs;	/* (run_id, pc) -> alloc_pc.id */
	struct idmap nodes;	/* (parent node, pc_id) -> alloc_node.id */
	struct alloc_module_id *mods;
	size_t nmods, amods;
	sqlite3_stmt *set_peak, *del_peak, *ins_peak, *set_degraded;
	uint32_t degraded_kib; /* what alloc_run holds of the last degraded run */
	int64_t degraded_run;
	/* what alloc_run and alloc_peak hold of this run's peak */
	int64_t peak_run, peak_bytes;
	uint64_t peak_seq;
	struct load_cache *cache; /* what allocdb_load_run read of the file; NULL until then */
};

struct load_cache;
static void load_cache_free(struct load_cache *c);

static int sql_err(struct allocdb *a, struct strbuf *err, const char *what)
{
	strbuf_addf(err, "cannot %s allocation data: %s", what, sqlite3_errmsg(a->db));
	return sqlite3_errcode(a->db) == SQLITE_FULL ? -ENOSPC : -EIO;
}

static int prep(struct allocdb *a, sqlite3_stmt **st, const char *sql, struct strbuf *err)
{
	if (sqlite3_prepare_v2(a->db, sql, -1, st, NULL) != SQLITE_OK)
		return sql_err(a, err, "prepare");
	return 0;
}

const char *allocdb_schema(void)
{
	return schema;
}

/* Whether db has the alloc_* tables already (a file made from allocdb_template). */
static bool has_tables(sqlite3 *db)
{
	sqlite3_stmt *q;
	bool yes;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE name = 'alloc_run'", -1, &q,
			       NULL) != SQLITE_OK)
		return false;
	yes = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return yes;
}

int allocdb_open(struct sqlite3 *db, bool create, struct allocdb **out, struct strbuf *err)
{
	struct allocdb *a = xcalloc(1, sizeof(*a));
	int ret = 0;

	a->db = db;
	if (create) {
		/* one transaction: each statement alone would be a commit of its own */
		if (!has_tables(db) &&
		    (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
		     sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
		     sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
			ret = sql_err(a, err, "create tables for");
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		if ((ret = prep(a, &a->ins_run,
				"INSERT INTO alloc_run (generation, pid, sample_mean, command)"
				" VALUES (?,?,?,?)",
				err)) ||
		    (ret =
			 prep(a, &a->ins_stack,
			      "INSERT INTO alloc_stack (run_id, slot, depth, node) VALUES (?,?,?,?)",
			      err)) ||
		    (ret = prep(a, &a->ins_pc, "INSERT INTO alloc_pc (run_id, pc) VALUES (?,?)",
				err)) ||
		    (ret = prep(a, &a->ins_node,
				"INSERT INTO alloc_node (parent, pc_id) VALUES (?,?)", err)) ||
		    (ret = prep(a, &a->ins_symbol,
				"INSERT INTO alloc_symbol VALUES (?,?,?,?,?,?,?,?)",
				err)) ||
		    (ret = prep(a, &a->ins_module,
				"INSERT INTO alloc_module (path, build_id) VALUES (?,?)", err)) ||
		    (ret =
			 prep(a, &a->ins_interval,
			      "INSERT INTO alloc_interval (run_id, t_ms, live_bytes, sites, flags,"
			      " dropped, final) VALUES (?,?,?,?,?,?,?)",
			      err)) ||
		    (ret = prep(a, &a->ins_site, "INSERT INTO alloc_site VALUES (?,?,?,?,?,?,?,?)",
				err)) ||
		    (ret = prep(
			 a, &a->set_peak,
			 "UPDATE alloc_run SET peak_bytes = ?, peak_ms = ?, peak_sites_bytes = ?,"
			 " peak_sites_ms = ? WHERE id = ?",
			 err)) ||
		    (ret = prep(a, &a->del_peak, "DELETE FROM alloc_peak WHERE run_id = ?", err)) ||
		    (ret = prep(a, &a->ins_peak,
				"INSERT OR REPLACE INTO alloc_peak (stack_id, run_id, live_bytes)"
				" VALUES (?,?,?)",
				err)) ||
		    (ret = prep(a, &a->set_degraded,
				"UPDATE alloc_run SET degraded_ms = ?, degraded_mean = ?,"
				" max_memory = ? WHERE id = ?",
				err)))
			goto out;
	}
out:
	if (ret)
		allocdb_free(a);
	else
		*out = a;
	return ret;
}

static void forget_ids(struct allocdb *a);

void allocdb_free(struct allocdb *a)
{
	if (!a)
		return;
	sqlite3_finalize(a->ins_run);
	sqlite3_finalize(a->ins_stack);
	sqlite3_finalize(a->ins_pc);
	sqlite3_finalize(a->ins_node);
	sqlite3_finalize(a->ins_symbol);
	sqlite3_finalize(a->ins_module);
	forget_ids(a);
	free(a->mods);
	sqlite3_finalize(a->ins_interval);
	sqlite3_finalize(a->ins_site);
	sqlite3_finalize(a->set_peak);
	sqlite3_finalize(a->set_degraded);
	sqlite3_finalize(a->del_peak);
	sqlite3_finalize(a->ins_peak);
	load_cache_free(a->cache);
	free(a);
}

static int step(struct allocdb *a, sqlite3_stmt *st, struct strbuf *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sql_err(a, err, "write");
}

int allocdb_begin(struct allocdb *a, struct strbuf *err)
{
	return sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
		   ? 0
		   : sql_err(a, err, "write");
}

static struct idmap_entry *idmap_slot(struct idmap *m, uint64_t a, uint64_t b);

static void forget_ids(struct allocdb *a)
{
	free(a->pcs.v);
	free(a->nodes.v);
	memset(&a->pcs, 0, sizeof(a->pcs));
	memset(&a->nodes, 0, sizeof(a->nodes));
	for (size_t i = 0; i < a->nmods; i++) {
		free(a->mods[i].path);
		free(a->mods[i].build_id);
	}
	a->nmods = 0;
}

/*
 * After a rollback the rows of the pcs, nodes and modules it took back are
 * gone: what was written is read again from the file, so later stacks and
 * symbols never point at a row that does not exist. Rare (a full disk).
 */
static void reload_ids(struct allocdb *a)
{
	sqlite3_stmt *q = NULL;

	forget_ids(a);
	if (sqlite3_prepare_v2(a->db, "SELECT id, run_id, pc FROM alloc_pc", -1, &q, NULL) ==
	    SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			uint64_t run = (uint64_t)sqlite3_column_int64(q, 1);
			uint64_t pc = (uint64_t)sqlite3_column_int64(q, 2);
			struct idmap_entry *e = idmap_slot(&a->pcs, run, pc);

			if (!e->id)
				a->pcs.used++;
			*e = (struct idmap_entry){run, pc, sqlite3_column_int64(q, 0), false};
		}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(a->db,
			       "SELECT p.run_id, p.pc FROM alloc_pc p"
			       " WHERE EXISTS (SELECT 1 FROM alloc_symbol y WHERE y.pc_id = p.id)",
			       -1, &q, NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			struct idmap_entry *e =
			    idmap_slot(&a->pcs, (uint64_t)sqlite3_column_int64(q, 0),
				       (uint64_t)sqlite3_column_int64(q, 1));

			if (e->id)
				e->done = true;
		}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(a->db, "SELECT id, parent, pc_id FROM alloc_node", -1, &q, NULL) ==
	    SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			uint64_t parent = (uint64_t)sqlite3_column_int64(q, 1);
			uint64_t pc_id = (uint64_t)sqlite3_column_int64(q, 2);
			struct idmap_entry *e = idmap_slot(&a->nodes, parent, pc_id);

			if (!e->id)
				a->nodes.used++;
			*e = (struct idmap_entry){parent, pc_id, sqlite3_column_int64(q, 0), false};
		}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(a->db, "SELECT id, path, build_id FROM alloc_module", -1, &q,
			       NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			const unsigned char *path = sqlite3_column_text(q, 1);
			const unsigned char *bid = sqlite3_column_text(q, 2);
			struct alloc_module_id *m;

			ALLOC_GROW(a->mods, a->nmods + 1, a->amods);
			m = &a->mods[a->nmods++];
			m->id = sqlite3_column_int64(q, 0);
			m->path = path ? xstrdup((const char *)path) : NULL;
			m->build_id = bid ? xstrdup((const char *)bid) : NULL;
		}
	sqlite3_finalize(q);
}

int allocdb_commit(struct allocdb *a, struct strbuf *err)
{
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sql_err(a, err, "write");
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	reload_ids(a);
	return -EIO;
}

int allocdb_add_run(struct allocdb *a, uint64_t generation, int pid, uint64_t sample_mean,
		    const char *command, int64_t *run_id, struct strbuf *err)
{
	int ret;

	sqlite3_bind_int64(a->ins_run, 1, (int64_t)generation);
	sqlite3_bind_int(a->ins_run, 2, pid);
	sqlite3_bind_int64(a->ins_run, 3, (int64_t)sample_mean);
	sqlite3_bind_text(a->ins_run, 4, command, -1, SQLITE_TRANSIENT);
	ret = step(a, a->ins_run, err);
	if (!ret)
		*run_id = sqlite3_last_insert_rowid(a->db);
	return ret;
}

int allocdb_set_exe(struct allocdb *a, int64_t run_id, const char *exe, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret = prep(a, &q, "UPDATE alloc_run SET exe = ? WHERE id = ?", err);

	if (ret)
		return ret;
	sqlite3_bind_text(q, 1, exe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, run_id);
	ret = step(a, q, err);
	sqlite3_finalize(q);
	return ret;
}

int allocdb_set_parent(struct allocdb *a, int64_t run_id, int ppid, int64_t parent_run,
		       struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret = prep(a, &q, "UPDATE alloc_run SET ppid = ?, parent_run = ? WHERE id = ?", err);

	if (ret)
		return ret;
	sqlite3_bind_int(q, 1, ppid);
	if (parent_run > 0)
		sqlite3_bind_int64(q, 2, parent_run);
	sqlite3_bind_int64(q, 3, run_id);
	ret = step(a, q, err);
	sqlite3_finalize(q);
	return ret;
}

int allocdb_set_ended(struct allocdb *a, int64_t run_id, const char *ended, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret = prep(a, &q, "UPDATE alloc_run SET ended = ? WHERE id = ?", err);

	if (ret)
		return ret;
	sqlite3_bind_text(q, 1, ended, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, run_id);
	ret = step(a, q, err);
	sqlite3_finalize(q);
	return ret;
}

static size_t idmap_hash(uint64_t a, uint64_t b)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29));
}

/* The entry of (a, b): the one holding it, else the empty slot it would take. */
static struct idmap_entry *idmap_slot(struct idmap *m, uint64_t a, uint64_t b)
{
	size_t i;

	if (2 * (m->used + 1) > m->size) {
		struct idmap old = *m;

		m->size = old.size ? 2 * old.size : 1024;
		m->v = xcalloc(m->size, sizeof(*m->v));
		m->used = 0;
		for (size_t k = 0; k < old.size; k++)
			if (old.v[k].id) {
				*idmap_slot(m, old.v[k].a, old.v[k].b) = old.v[k];
				m->used++;
			}
		free(old.v);
	}
	for (i = idmap_hash(a, b) & (m->size - 1); m->v[i].id; i = (i + 1) & (m->size - 1))
		if (m->v[i].a == a && m->v[i].b == b)
			break;
	return &m->v[i];
}

/* The alloc_pc row of pc in run_id, written when new. */
static int pc_entry(struct allocdb *a, int64_t run_id, uint64_t pc, struct idmap_entry **out,
		    struct strbuf *err)
{
	struct idmap_entry *e = idmap_slot(&a->pcs, (uint64_t)run_id, pc);
	int ret;

	if (!e->id) {
		sqlite3_bind_int64(a->ins_pc, 1, run_id);
		sqlite3_bind_int64(a->ins_pc, 2, (int64_t)pc);
		if ((ret = step(a, a->ins_pc, err)))
			return ret;
		*e = (struct idmap_entry){(uint64_t)run_id, pc, sqlite3_last_insert_rowid(a->db), false};
		a->pcs.used++;
	}
	*out = e;
	return 0;
}

int allocdb_add_stack(struct allocdb *a, int64_t run_id, uint32_t slot, const uint64_t *pcs,
		      uint32_t depth, int64_t *stack_id, struct strbuf *err)
{
	int64_t node = 0;
	int ret;

	/* outermost first: stacks that share their callers share those nodes */
	for (uint32_t k = depth; k-- > 0;) {
		struct idmap_entry *p, *n;

		if ((ret = pc_entry(a, run_id, pcs[k], &p, err)))
			return ret;
		n = idmap_slot(&a->nodes, (uint64_t)node, (uint64_t)p->id);
		if (!n->id) {
			int64_t pc_id = p->id;

			sqlite3_bind_int64(a->ins_node, 1, node);
			sqlite3_bind_int64(a->ins_node, 2, pc_id);
			if ((ret = step(a, a->ins_node, err)))
				return ret;
			*n = (struct idmap_entry){(uint64_t)node, (uint64_t)pc_id,
						  sqlite3_last_insert_rowid(a->db), false};
			a->nodes.used++;
		}
		node = n->id;
	}
	sqlite3_bind_int64(a->ins_stack, 1, run_id);
	sqlite3_bind_int64(a->ins_stack, 2, slot);
	sqlite3_bind_int64(a->ins_stack, 3, depth);
	sqlite3_bind_int64(a->ins_stack, 4, node);
	ret = step(a, a->ins_stack, err);
	if (!ret)
		*stack_id = sqlite3_last_insert_rowid(a->db);
	return ret;
}

static bool same(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

/* The alloc_module row of (path, build_id), written when new. */
static int module_id(struct allocdb *a, const char *path, const char *build_id, int64_t *id,
		     struct strbuf *err)
{
	struct alloc_module_id *m;
	int ret;

	for (size_t i = 0; i < a->nmods; i++)
		if (same(a->mods[i].path, path) && same(a->mods[i].build_id, build_id)) {
			*id = a->mods[i].id;
			return 0;
		}
	sqlite3_bind_text(a->ins_module, 1, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ins_module, 2, build_id, -1, SQLITE_TRANSIENT);
	if ((ret = step(a, a->ins_module, err)))
		return ret;
	ALLOC_GROW(a->mods, a->nmods + 1, a->amods);
	m = &a->mods[a->nmods++];
	m->path = path ? xstrdup(path) : NULL;
	m->build_id = build_id ? xstrdup(build_id) : NULL;
	m->id = *id = sqlite3_last_insert_rowid(a->db);
	return 0;
}

bool allocdb_has_frames(struct allocdb *a, int64_t run_id, uint64_t pc)
{
	const struct idmap_entry *e = idmap_slot(&a->pcs, (uint64_t)run_id, pc);

	return e->id && e->done;
}

int allocdb_add_frames(struct allocdb *a, int64_t run_id, const struct sym_frame *f, size_t n,
		       struct strbuf *err)
{
	sqlite3_stmt *s = a->ins_symbol;
	struct idmap_entry *e;
	int64_t pc_id;
	int ret;

	if (!n)
		return 0;
	if ((ret = pc_entry(a, run_id, f[0].pc, &e, err)))
		return ret;
	if (e->done)
		return 0;
	pc_id = e->id;
	for (size_t j = 0; j < n; j++) {
		int64_t mod = 0;

		if ((f[j].module || f[j].build_id) &&
		    (ret = module_id(a, f[j].module, f[j].build_id, &mod, err)))
			return ret;
		sqlite3_bind_int64(s, 1, pc_id);
		sqlite3_bind_int64(s, 2, (int64_t)j);
		/* the readable name: what a report shows and pprof names the function */
		sqlite3_bind_text(s, 3, f[j].demangled ? f[j].demangled : f[j].function, -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, f[j].file, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 5, f[j].line);
		if (mod)
			sqlite3_bind_int64(s, 6, mod);
		sqlite3_bind_int64(s, 7, (int64_t)f[j].module_offset);
		sqlite3_bind_int(s, 8, f[j].inlined);
		if ((ret = step(a, s, err)))
			return ret;
	}
	e->done = true;
	return 0;
}

/*
 * The run's peak in alloc_run when it grew, and the sites live at it in
 * alloc_peak (replaced) when the tracker copied them again.
 */
static int write_peak(struct allocdb *a, int64_t run_id, const struct track_view *v,
		      const int64_t *stack_ids, struct strbuf *err)
{
	bool new_run = a->peak_run != run_id;
	int ret;

	if (!new_run && v->peak_bytes == a->peak_bytes && v->sites_seq == a->peak_seq)
		return 0;
	sqlite3_bind_int64(a->set_peak, 1, v->peak_bytes);
	sqlite3_bind_int64(a->set_peak, 2, (int64_t)v->peak_ms);
	sqlite3_bind_int64(a->set_peak, 3, v->sites_live);
	sqlite3_bind_int64(a->set_peak, 4, (int64_t)v->sites_ms);
	sqlite3_bind_int64(a->set_peak, 5, run_id);
	if ((ret = step(a, a->set_peak, err)))
		return ret;
	if (new_run || v->sites_seq != a->peak_seq) {
		sqlite3_bind_int64(a->del_peak, 1, run_id);
		if ((ret = step(a, a->del_peak, err)))
			return ret;
		for (size_t i = 0; i < v->nr; i++) {
			if (v->sites[i].peak_live <= 0)
				continue;
			sqlite3_bind_int64(a->ins_peak, 1, stack_ids[i]);
			sqlite3_bind_int64(a->ins_peak, 2, run_id);
			sqlite3_bind_int64(a->ins_peak, 3, v->sites[i].peak_live);
			if ((ret = step(a, a->ins_peak, err)))
				return ret;
		}
	}
	a->peak_run = run_id;
	a->peak_bytes = v->peak_bytes;
	a->peak_seq = v->sites_seq;
	return 0;
}

int allocdb_add_interval(struct allocdb *a, int64_t run_id, int64_t t_ms,
			 const struct track_view *v, const int64_t *stack_ids, const bool *changed,
			 bool final, struct strbuf *err)
{
	int64_t iid;
	int ret;

	sqlite3_bind_int64(a->ins_interval, 1, run_id);
	sqlite3_bind_int64(a->ins_interval, 2, t_ms);
	sqlite3_bind_int64(a->ins_interval, 3, v->live_bytes);
	sqlite3_bind_int64(a->ins_interval, 4, (int64_t)v->nr);
	sqlite3_bind_int64(a->ins_interval, 5, (int64_t)v->flags);
	sqlite3_bind_int64(a->ins_interval, 6, (int64_t)v->dropped);
	sqlite3_bind_int(a->ins_interval, 7, final);
	ret = step(a, a->ins_interval, err);
	if (ret)
		return ret;
	iid = sqlite3_last_insert_rowid(a->db);
	for (size_t i = 0; i < v->nr; i++) {
		const struct track_site *s = &v->sites[i];
		sqlite3_stmt *q = a->ins_site;

		if (!changed[i])
			continue;
		sqlite3_bind_int64(q, 1, iid);
		sqlite3_bind_int64(q, 2, stack_ids[i]);
		sqlite3_bind_int64(q, 3, s->live_bytes);
		sqlite3_bind_int64(q, 4, s->live_count);
		sqlite3_bind_int64(q, 5, (int64_t)s->alloc_bytes);
		sqlite3_bind_int64(q, 6, (int64_t)s->alloc_count);
		sqlite3_bind_int64(q, 7, (int64_t)s->free_bytes);
		sqlite3_bind_int64(q, 8, (int64_t)s->free_count);
		ret = step(a, q, err);
		if (ret)
			return ret;
	}
	if ((v->flags & TRACK_DEGRADED) &&
	    (a->degraded_run != run_id || a->degraded_kib != v->degraded_kib)) {
		sqlite3_bind_int64(a->set_degraded, 1, (int64_t)v->degraded_ms);
		sqlite3_bind_int64(a->set_degraded, 2, (int64_t)v->degraded_kib * 1024);
		sqlite3_bind_int64(a->set_degraded, 3, (int64_t)v->max_mem_mib << 20);
		sqlite3_bind_int64(a->set_degraded, 4, run_id);
		ret = step(a, a->set_degraded, err);
		if (ret)
			return ret;
		a->degraded_run = run_id;
		a->degraded_kib = v->degraded_kib;
	}
	return write_peak(a, run_id, v, stack_ids, err);
}

int allocdb_end_run(struct allocdb *a, int64_t run_id, int64_t t_ms, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret;

	ret = prep(a, &q,
		   "INSERT INTO alloc_interval (run_id, t_ms, live_bytes, sites, flags, dropped, final)"
		   " SELECT run_id, ?, live_bytes, sites, flags, dropped, 1 FROM alloc_interval"
		   " WHERE run_id = ? AND final = 0 ORDER BY id DESC LIMIT 1",
		   err);
	if (ret)
		return ret;
	sqlite3_bind_int64(q, 1, t_ms);
	sqlite3_bind_int64(q, 2, run_id);
	ret = step(a, q, err);
	sqlite3_finalize(q);
	return ret;
}

int allocdb_set_jitmap(struct allocdb *a, int64_t run_id, const struct perfmap *m,
		       struct strbuf *err)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	int ret;

	if ((ret = prep(a, &del, "DELETE FROM alloc_jitmap WHERE run_id = ?", err)) ||
	    (ret = prep(a, &ins, "INSERT OR REPLACE INTO alloc_jitmap VALUES (?,?,?,?)", err)))
		goto out;
	sqlite3_bind_int64(del, 1, run_id);
	ret = step(a, del, err);
	for (size_t i = 0; !ret && i < m->nr; i++) {
		sqlite3_bind_int64(ins, 1, run_id);
		sqlite3_bind_int64(ins, 2, (int64_t)m->v[i].start);
		sqlite3_bind_int64(ins, 3, (int64_t)m->v[i].size);
		sqlite3_bind_text(ins, 4, m->v[i].name, -1, SQLITE_STATIC);
		ret = step(a, ins, err);
	}
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return ret;
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static struct alloc_stack *find(struct alloc_data *d, int64_t id)
{
	size_t lo = 0, hi = d->nr;

	while (lo < hi) { /* stacks are loaded ordered by id */
		size_t mid = (lo + hi) / 2;

		if (d->stacks[mid].id == id)
			return &d->stacks[mid];
		if (d->stacks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Frames without a function that fall into the JIT code of their run's perf map. */
static void name_run(struct alloc_data *d, int64_t run_id, const struct perfmap *m)
{
	char buf[1024];

	for (size_t i = 0; i < d->nr; i++) {
		struct alloc_stack *s = &d->stacks[i];

		if (s->run_id != run_id)
			continue;
		for (size_t k = 0; k < s->nframes; k++) {
			struct alloc_frame *f = &s->frames[k];
			const struct perfmap_entry *e;

			if (f->function || f->module || !(e = perfmap_find(m, f->pc)))
				continue;
			f->function = xstrdup(perfmap_frame_name(e, buf, sizeof(buf)));
			f->jit = true;
		}
	}
}

/* Recordings made before alloc_jitmap existed have no such table: nothing to name. */
static int name_jit_frames(struct allocdb *a, struct alloc_data *d, int64_t only,
			   struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	struct perfmap m = {0};
	int64_t run = -1;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(a->db,
			       "SELECT run_id, start, size, name FROM alloc_jitmap"
			       " WHERE ?1 = 0 OR run_id = ?1 ORDER BY run_id, start",
			       -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(q, 1, only);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t r = sqlite3_column_int64(q, 0);
		const unsigned char *name = sqlite3_column_text(q, 3);

		if (r != run) {
			perfmap_sort(&m);
			name_run(d, run, &m);
			perfmap_release(&m);
			run = r;
		}
		if (name && sqlite3_column_int64(q, 2) > 0 &&
		    perfmap_add(&m, (uint64_t)sqlite3_column_int64(q, 1),
				(uint64_t)sqlite3_column_int64(q, 2), (const char *)name)) {
			strbuf_addstr(err, "out of memory reading the JIT map");
			ret = -ENOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		ret = sql_err(a, err, "read");
		goto out;
	}
	perfmap_sort(&m);
	name_run(d, run, &m);
out:
	perfmap_release(&m);
	sqlite3_finalize(q);
	return ret;
}

int allocdb_default_run(struct allocdb *a, int64_t *run_id, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret = prep(a, &q,
		       "SELECT coalesce(max(id), 0) FROM alloc_run"
		       " WHERE pid = (SELECT pid FROM alloc_run ORDER BY id LIMIT 1)",
		       err);

	if (ret)
		return ret;
	*run_id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return 0;
}

int allocdb_load(struct allocdb *a, struct alloc_data *d, struct strbuf *err)
{
	int64_t run = 0;
	int ret = allocdb_default_run(a, &run, err);

	if (ret) {
		memset(d, 0, sizeof(*d));
		return ret;
	}
	return allocdb_load_run(a, d, run, err);
}

/*
 * What allocdb_load_run needs of every run, read once per handle: a report
 * that shows each run of a --follow-fork recording loads them one by one,
 * and reading the whole file for each would be quadratic in runs. Valid
 * while the file is unchanged (this connection's changes and PRAGMA
 * data_version, which moves when another connection commits).
 */
struct cached_stack {
	int64_t id, run_id;		/* by id */
	uint32_t slot;
	struct alloc_frame *frames;	/* as the alloc_frame view gives them */
	size_t nframes, aframes;
};

struct cached_interval {
	int64_t id, run_id;		/* by id */
	int64_t k;			/* non-final intervals of its run before it */
	int64_t t_ms;
	uint64_t flags, dropped;
	bool final;
};

struct cached_run {
	int64_t id;			/* by id */
	int64_t n;			/* its non-final intervals */
	uint64_t sample_mean;
};

struct cached_peak {
	int64_t stack_id, live;		/* by stack_id */
};

struct load_cache {
	bool valid;
	int64_t changes, version;	/* the file as it was read */
	struct cached_stack *stacks;
	size_t nstacks, astacks;
	struct cached_interval *ivs;
	size_t nivs, aivs;
	struct cached_run *runs;
	size_t nruns, aruns;
	struct cached_peak *peaks;
	size_t npeaks, apeaks;
};

static void free_frames(struct alloc_frame *f, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		free(f[j].function);
		free(f[j].file);
		free(f[j].module);
	}
	free(f);
}

static void load_cache_free(struct load_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nstacks; i++)
		free_frames(c->stacks[i].frames, c->stacks[i].nframes);
	free(c->stacks);
	free(c->ivs);
	free(c->runs);
	free(c->peaks);
	free(c);
}

/* Binary search of a table sorted by its first int64_t field (id). */
#define BSEARCH_ID(v, n, key, field)                                                               \
	({                                                                                          \
		size_t lo_ = 0, hi_ = (n);                                                          \
		__typeof__(&(v)[0]) hit_ = NULL;                                                    \
		while (lo_ < hi_) {                                                                 \
			size_t mid_ = (lo_ + hi_) / 2;                                              \
			if ((v)[mid_].field == (key)) {                                             \
				hit_ = &(v)[mid_];                                                  \
				break;                                                              \
			}                                                                           \
			if ((v)[mid_].field < (key))                                                \
				lo_ = mid_ + 1;                                                     \
			else                                                                        \
				hi_ = mid_;                                                         \
		}                                                                                   \
		hit_;                                                                               \
	})

static int64_t data_version(struct allocdb *a)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(a->db, "PRAGMA data_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Reads the cache: one pass over each table, in key order (no sort but the view's). */
static int fill_cache(struct allocdb *a, struct load_cache *c, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int rc, ret;

	if ((ret = prep(a, &q, "SELECT id, sample_mean FROM alloc_run ORDER BY id", err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(c->runs, c->nruns + 1, c->aruns);
		c->runs[c->nruns++] = (struct cached_run){
			sqlite3_column_int64(q, 0), 0, (uint64_t)sqlite3_column_int64(q, 1)};
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(q);
	q = NULL;

	if ((ret = prep(a, &q,
			"SELECT id, run_id, final, t_ms, flags, dropped FROM alloc_interval"
			" ORDER BY id",
			err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t run_id = sqlite3_column_int64(q, 1);
		struct cached_run *r = BSEARCH_ID(c->runs, c->nruns, run_id, id);
		bool final = sqlite3_column_int(q, 2) != 0;

		if (!r)
			continue;
		ALLOC_GROW(c->ivs, c->nivs + 1, c->aivs);
		c->ivs[c->nivs++] = (struct cached_interval){
			sqlite3_column_int64(q, 0), run_id, r->n, sqlite3_column_int64(q, 3),
			(uint64_t)sqlite3_column_int64(q, 4), (uint64_t)sqlite3_column_int64(q, 5),
			final};
		if (!final)
			r->n++;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(q);
	q = NULL;

	if ((ret = prep(a, &q, "SELECT id, run_id, slot FROM alloc_stack ORDER BY id", err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(c->stacks, c->nstacks + 1, c->astacks);
		c->stacks[c->nstacks++] = (struct cached_stack){
			sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
			(uint32_t)sqlite3_column_int64(q, 2), NULL, 0, 0};
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(q);
	q = NULL;

	if ((ret =
		 prep(a, &q,
		      "SELECT stack_id, pc, function, file, line, module, inlined, module_offset"
		      " FROM alloc_frame"
		      " ORDER BY stack_id, level",
		      err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		struct cached_stack *s = BSEARCH_ID(c->stacks, c->nstacks, id, id);
		struct alloc_frame *f;

		if (!s)
			continue;
		ALLOC_GROW(s->frames, s->nframes + 1, s->aframes);
		f = &s->frames[s->nframes++];
		f->pc = (uint64_t)sqlite3_column_int64(q, 1);
		f->function = col_dup(q, 2);
		f->file = col_dup(q, 3);
		f->line = sqlite3_column_int(q, 4);
		f->module = col_dup(q, 5);
		f->inlined = sqlite3_column_int(q, 6) != 0;
		f->module_offset = (uint64_t)sqlite3_column_int64(q, 7);
		f->jit = false; /* the array grows uninitialised; name_jit_frames sets it */
		/* a Java frame the tracker named: its pc is the tag and an index, no address */
		f->java = (f->pc & TRACK_JAVA_TAG) != 0;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(q);
	q = NULL;

	/* recordings made before the peak was tracked have no alloc_peak */
	if (sqlite3_prepare_v2(a->db,
			       "SELECT stack_id, live_bytes FROM alloc_peak ORDER BY stack_id", -1,
			       &q, NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW) {
			ALLOC_GROW(c->peaks, c->npeaks + 1, c->apeaks);
			c->peaks[c->npeaks++] = (struct cached_peak){sqlite3_column_int64(q, 0),
								     sqlite3_column_int64(q, 1)};
		}
	goto out;
sqlerr:
	ret = sql_err(a, err, "read");
out:
	sqlite3_finalize(q);
	return ret;
}

/* The handle's cache, read again when the file changed since. NULL and err filled on error. */
static struct load_cache *load_cache(struct allocdb *a, struct strbuf *err)
{
	int64_t changes = sqlite3_total_changes64(a->db), version = data_version(a);
	struct load_cache *c = a->cache;

	if (c && c->valid && c->changes == changes && c->version == version)
		return c;
	load_cache_free(c);
	c = a->cache = xcalloc(1, sizeof(*c));
	if (fill_cache(a, c, err)) {
		load_cache_free(c);
		a->cache = NULL;
		return NULL;
	}
	c->valid = true;
	c->changes = changes;
	c->version = version;
	return c;
}

static struct alloc_frame *copy_frames(const struct alloc_frame *f, size_t n)
{
	struct alloc_frame *v = xcalloc(n ? n : 1, sizeof(*v));

	for (size_t j = 0; j < n; j++) {
		v[j] = f[j];
		v[j].function = f[j].function ? xstrdup(f[j].function) : NULL;
		v[j].file = f[j].file ? xstrdup(f[j].file) : NULL;
		v[j].module = f[j].module ? xstrdup(f[j].module) : NULL;
	}
	return v;
}

int allocdb_load_run(struct allocdb *a, struct alloc_data *d, int64_t run, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	int ret = 0, rc;
	int64_t last_run = -1, t_min = 0, t_max = 0;
	bool any_t = false;
	struct load_cache *c;
	size_t *fill_from = NULL;
	int64_t *fill_val = NULL;

	memset(d, 0, sizeof(*d));
	d->run = run;
	if (!(c = load_cache(a, err))) {
		ret = -EIO;
		goto out;
	}
	for (size_t i = 0; i < c->nstacks; i++) {
		const struct cached_stack *cs = &c->stacks[i];
		const struct cached_run *r;
		struct alloc_stack *s;

		if (run && cs->run_id != run)
			continue;
		if (!(r = BSEARCH_ID(c->runs, c->nruns, cs->run_id, id)))
			continue; /* a stack of no run (the join the old query made) */
		if (r->n > 100000000) {
			strbuf_addstr(err, "corrupt allocation data: interval count");
			ret = -EBADMSG;
			goto out;
		}
		ALLOC_GROW(d->stacks, d->nr + 1, d->alloc);
		s = &d->stacks[d->nr++];
		memset(s, 0, sizeof(*s));
		s->id = cs->id;
		s->run_id = cs->run_id;
		s->slot = cs->slot;
		s->n = (size_t)r->n;
		s->live = xcalloc(s->n ? s->n : 1, sizeof(*s->live));
		s->frames = copy_frames(cs->frames, cs->nframes);
		s->nframes = s->aframes = cs->nframes;
		d->sample_mean = r->sample_mean;
	}
	ret = name_jit_frames(a, d, run, err);
	if (ret)
		goto out;

	/*
	 * Series: the interval's rank among its run's intervals taken while the
	 * target ran gives the index; the one taken after its exit (final) only
	 * sets the figures at the end. The run's intervals in id order, the
	 * sites of each by the table's key: each stack's indexes rise, and a
	 * value holds from its index up to the stack's next row, filled once it
	 * is known (linear).
	 */
	fill_from = xcalloc(d->nr ? d->nr : 1, sizeof(*fill_from));
	fill_val = xcalloc(d->nr ? d->nr : 1, sizeof(*fill_val));
	if ((ret = prep(a, &q,
			"SELECT stack_id, live_bytes, live_count, alloc_bytes, alloc_count,"
			" free_bytes, free_count FROM alloc_site WHERE interval_id = ?",
			err)))
		goto out;
	for (size_t i = 0; i < c->nivs; i++) {
		const struct cached_interval *iv = &c->ivs[i];

		if (run && iv->run_id != run)
			continue;
		/* the run's figures: the last run's span, every interval's flags */
		if (iv->run_id > last_run) {
			last_run = iv->run_id;
			any_t = false;
		}
		if (iv->run_id == last_run && !iv->final) {
			t_min = any_t && t_min < iv->t_ms ? t_min : iv->t_ms;
			t_max = any_t && t_max > iv->t_ms ? t_max : iv->t_ms;
			any_t = true;
		}
		d->flags |= iv->flags;
		if (iv->dropped > d->dropped)
			d->dropped = iv->dropped;
		sqlite3_bind_int64(q, 1, iv->id);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct alloc_stack *s = find(d, sqlite3_column_int64(q, 0));
			size_t si;

			if (!s || iv->k < 0 || (size_t)iv->k > s->n)
				continue;
			si = (size_t)(s - d->stacks);
			if (!iv->final && (size_t)iv->k >= fill_from[si]) {
				for (size_t j = fill_from[si]; j < (size_t)iv->k; j++)
					s->live[j] = fill_val[si];
				fill_from[si] = (size_t)iv->k;
				fill_val[si] = sqlite3_column_int64(q, 1);
			}
			s->live_bytes = sqlite3_column_int64(q, 1);
			s->live_count = sqlite3_column_int64(q, 2);
			s->alloc_bytes = (uint64_t)sqlite3_column_int64(q, 3);
			s->alloc_count = (uint64_t)sqlite3_column_int64(q, 4);
			s->free_bytes = (uint64_t)sqlite3_column_int64(q, 5);
			s->free_count = (uint64_t)sqlite3_column_int64(q, 6);
		}
		sqlite3_reset(q);
		if (rc != SQLITE_DONE) {
			ret = sql_err(a, err, "read");
			goto out;
		}
	}
	for (size_t i = 0; i < d->nr; i++) /* fill forward to the end */
		for (size_t j = fill_from[i]; j < d->stacks[i].n; j++)
			d->stacks[i].live[j] = fill_val[i];
	sqlite3_finalize(q);
	q = NULL;
	d->runs = c->nruns;
	d->span_ms = any_t ? (uint64_t)(t_max - t_min) : 0;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].run_id == last_run)
			d->intervals = d->stacks[i].n;
	/* no stack at all (nothing sampled yet): the run still says how it was recorded */
	if (!d->nr) {
		if ((ret = prep(a, &q,
				"SELECT sample_mean, (SELECT count(*) FROM alloc_interval i"
				" WHERE i.run_id = r.id AND NOT i.final)"
				" FROM alloc_run r WHERE ?1 = 0 OR id = ?1 ORDER BY id DESC LIMIT 1",
				err)))
			goto out;
		sqlite3_bind_int64(q, 1, run);
		if (sqlite3_step(q) == SQLITE_ROW) {
			d->sample_mean = (uint64_t)sqlite3_column_int64(q, 0);
			d->intervals = (size_t)sqlite3_column_int64(q, 1);
		}
		sqlite3_finalize(q);
		q = NULL;
	}

	/* recordings made before the peak was tracked have no alloc_peak nor these columns */
	if (sqlite3_prepare_v2(
		a->db,
		"SELECT peak_bytes, peak_ms, peak_sites_bytes, peak_sites_ms, id FROM alloc_run"
		" WHERE peak_bytes IS NOT NULL AND (?1 = 0 OR id = ?1) ORDER BY id DESC LIMIT 1",
		-1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 1, run) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		d->has_peak = true;
		d->peak_bytes = sqlite3_column_int64(q, 0);
		d->peak_ms = (uint64_t)sqlite3_column_int64(q, 1);
		d->peak_sites_bytes = sqlite3_column_int64(q, 2);
		d->peak_sites_ms = (uint64_t)sqlite3_column_int64(q, 3);
		d->peak_run = sqlite3_column_int64(q, 4);
	}
	sqlite3_finalize(q);
	q = NULL;
	for (size_t i = 0; i < d->nr; i++) {
		const struct cached_peak *p = BSEARCH_ID(c->peaks, c->npeaks, d->stacks[i].id,
							 stack_id);

		if (p)
			d->stacks[i].peak_live = p->live;
	}

	/* recordings made before the ceiling degraded to sampling have no such columns */
	if (sqlite3_prepare_v2(a->db,
			       "SELECT degraded_ms, degraded_mean, max_memory FROM alloc_run"
			       " WHERE degraded_mean IS NOT NULL ORDER BY id DESC LIMIT 1",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		d->degraded = true;
		d->degraded_ms = (uint64_t)sqlite3_column_int64(q, 0);
		d->degraded_mean = (uint64_t)sqlite3_column_int64(q, 1);
		d->max_memory = (uint64_t)sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	q = NULL;

	/* recordings made before alloc_run.exe existed do not name it */
	if (sqlite3_prepare_v2(a->db,
			       "SELECT exe FROM alloc_run WHERE ?1 = 0 OR id = ?1"
			       " ORDER BY id DESC LIMIT 1",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 1, run) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		d->exe = col_dup(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	/* recordings made before alloc_run.ended existed have no detached run */
	if (sqlite3_prepare_v2(a->db,
			       "SELECT ended = 'detached', ended IS NULL FROM alloc_run"
			       " WHERE ?1 = 0 OR id = ?1 ORDER BY id DESC LIMIT 1",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 1, run) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		d->detached = sqlite3_column_int(q, 0) == 1;
		d->unended = sqlite3_column_int(q, 1) == 1;
	}
out:
	sqlite3_finalize(q);
	free(fill_from);
	free(fill_val);
	if (ret)
		alloc_data_release(d);
	else
		alloc_data_clamp(d);
	return ret;
}

void alloc_data_clamp(struct alloc_data *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		struct alloc_stack *s = &d->stacks[i];

		for (size_t j = 0; j < s->n; j++)
			s->live[j] = figure_clamp(s->live[j]);
		s->live_bytes = figure_clamp(s->live_bytes);
		s->live_count = figure_clamp(s->live_count);
		s->peak_live = figure_clamp(s->peak_live);
		/* the cumulative counts are unsigned and wrap: kept whole */
	}
	d->peak_bytes = figure_clamp(d->peak_bytes);
	d->peak_sites_bytes = figure_clamp(d->peak_sites_bytes);
}

void alloc_data_release(struct alloc_data *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		struct alloc_stack *s = &d->stacks[i];

		for (size_t j = 0; j < s->nframes; j++) {
			free(s->frames[j].function);
			free(s->frames[j].file);
			free(s->frames[j].module);
		}
		free(s->frames);
		free(s->live);
	}
	free(d->stacks);
	free(d->exe);
	memset(d, 0, sizeof(*d));
}

/* The columns recordings made before --follow-fork lack are read as NULL. */
static const char runs_sql[] = "SELECT r.id, r.pid, r.command, r.exe, r.sample_mean, %s"
			       " FROM alloc_run r ORDER BY r.id";

/* A stack's run and figures at its last alloc_site row. */
struct stack_last {
	int64_t id, run_id;
	int64_t live_bytes, live_count;
};

static struct stack_last *find_last(struct stack_last *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid].id == id)
			return &v[mid];
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Each run's live bytes and blocks at its end: the sum over its stacks of
 * their last alloc_site row. One pass over alloc_site in its key's order
 * (interval, then stack), so a stack's later row overwrites the earlier.
 */
static int run_totals(struct allocdb *a, struct alloc_run_info *v, size_t nr, struct strbuf *err)
{
	sqlite3_stmt *q = NULL;
	struct stack_last *st = NULL;
	size_t ns = 0, as = 0, k = 0;
	int rc, ret;

	if ((ret = prep(a, &q, "SELECT id, run_id FROM alloc_stack ORDER BY id", err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(st, ns + 1, as);
		st[ns++] = (struct stack_last){sqlite3_column_int64(q, 0),
					       sqlite3_column_int64(q, 1), 0, 0};
	}
	if (rc != SQLITE_DONE) {
		ret = sql_err(a, err, "read");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((ret = prep(a, &q,
			"SELECT stack_id, live_bytes, live_count FROM alloc_site ORDER BY interval_id",
			err)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct stack_last *s = find_last(st, ns, sqlite3_column_int64(q, 0));

		if (s) {
			s->live_bytes = sqlite3_column_int64(q, 1);
			s->live_count = sqlite3_column_int64(q, 2);
		}
	}
	if (rc != SQLITE_DONE) {
		ret = sql_err(a, err, "read");
		goto out;
	}
	/* stacks by id and runs by id: a stack's run is usually the one of the stack before */
	for (size_t i = 0; i < ns; i++) {
		if (k >= nr || v[k].id != st[i].run_id) {
			size_t lo = 0, hi = nr;

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (v[mid].id < st[i].run_id)
					lo = mid + 1;
				else
					hi = mid;
			}
			k = lo;
			if (k >= nr || v[k].id != st[i].run_id)
				continue;
		}
		v[k].live_bytes += st[i].live_bytes;
		v[k].live_count += st[i].live_count;
	}
out:
	sqlite3_finalize(q);
	free(st);
	return ret;
}

int allocdb_runs(struct allocdb *a, struct alloc_run_info **out, size_t *n, struct strbuf *err)
{
	struct alloc_run_info *v = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *q = NULL;
	char sql[sizeof(runs_sql) + 64];
	int rc, ret = 0;

	snprintf(sql, sizeof(sql), runs_sql, "r.ppid, r.parent_run, r.ended");
	if (sqlite3_prepare_v2(a->db, sql, -1, &q, NULL) != SQLITE_OK) {
		snprintf(sql, sizeof(sql), runs_sql, "NULL, NULL, NULL");
		if ((ret = prep(a, &q, sql, err)))
			goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct alloc_run_info *r;

		ALLOC_GROW(v, nr + 1, alloc);
		r = &v[nr++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(q, 0);
		r->pid = sqlite3_column_int(q, 1);
		r->command = col_dup(q, 2);
		r->exe = col_dup(q, 3);
		r->sample_mean = (uint64_t)sqlite3_column_int64(q, 4);
		r->ppid = sqlite3_column_int(q, 5);
		r->parent_run = sqlite3_column_int64(q, 6);
		r->ended = col_dup(q, 7);
	}
	if (rc != SQLITE_DONE)
		ret = sql_err(a, err, "read");
	if (!ret)
		ret = run_totals(a, v, nr, err);
out:
	sqlite3_finalize(q);
	if (ret) {
		alloc_runs_free(v, nr);
		v = NULL;
		nr = 0;
	}
	*out = v;
	*n = nr;
	return ret;
}

void alloc_runs_free(struct alloc_run_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].command);
		free(v[i].exe);
		free(v[i].ended);
	}
	free(v);
}
