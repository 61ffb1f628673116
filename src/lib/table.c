/* table: column-driven rows printed as aligned text or as JSON from one description. */
#include "table.h"
#include "json.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void table_init(struct table *t, const struct table_col *cols, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i].str);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

size_t table_add_row(struct table *t)
{
	size_t need = (t->nrows + 1) * (size_t)t->ncols;

	ALLOC_GROW(t->cells, need, t->alloc);
	memset(t->cells + t->nrows * (size_t)t->ncols, 0, sizeof(*t->cells) * (size_t)t->ncols);
	return t->nrows++;
}

static struct table_cell *cell(struct table *t, size_t row, int col)
{
	struct table_cell *c = &t->cells[row * (size_t)t->ncols + (size_t)col];

	c->set = true;
	return c;
}

void table_set_str(struct table *t, size_t row, int col, const char *s)
{
	struct table_cell *c = cell(t, row, col);

	free(c->str);
	c->str = xstrdup(s ? s : "");
}

void table_set_u64(struct table *t, size_t row, int col, uint64_t v)
{
	cell(t, row, col)->u = v;
}

void table_set_i64(struct table *t, size_t row, int col, int64_t v)
{
	cell(t, row, col)->i = v;
}

void table_set_double(struct table *t, size_t row, int col, double v)
{
	cell(t, row, col)->d = v;
}

void table_human_size(uint64_t v, bool neg, bool sign, char *buf, size_t n)
{
	static const char units[] = "BKMGTPE";
	const char *sg = neg ? "-" : sign ? "+" : "";
	uint64_t tenths;
	double d = (double)v;
	int e = 0;

	if (v < 1024) {
		snprintf(buf, n, "%s%" PRIu64 "B", sg, v);
		return;
	}
	while (d >= 1024 && e < 6) {
		d /= 1024;
		e++;
	}
	tenths = (uint64_t)(d * 10 + 0.5);
	if (tenths >= 10240 && e < 6) {	/* 1023.96K rounds to 1M, not 1024.0K */
		e++;
		tenths = (uint64_t)(d / 1024 * 10 + 0.5);
	}
	if (tenths % 10)
		snprintf(buf, n, "%s%" PRIu64 ".%" PRIu64 "%c", sg, tenths / 10, tenths % 10,
			 units[e]);
	else
		snprintf(buf, n, "%s%" PRIu64 "%c", sg, tenths / 10, units[e]);
}

/* A coarser unit (size_unit, e.g. nmt scale=MB) rounds to the nearest, as NMT does. */
static uint64_t scaled_u(uint64_t v, uint64_t unit)
{
	return v / unit + (v % unit >= unit / 2);
}

static int64_t scaled_i(int64_t v, uint64_t unit)
{
	uint64_t m = scaled_u(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, unit);

	return v < 0 ? -(int64_t)m : (int64_t)m;
}

static void format_size(const struct table *t, uint64_t mag, bool neg, bool sign, char *buf,
			size_t n)
{
	const char *sg = neg ? "-" : sign ? "+" : "";

	if (t->style && t->style->bytes)
		snprintf(buf, n, "%s%" PRIu64, sg, mag);
	else if (t->size_unit)
		snprintf(buf, n, "%s%" PRIu64, sg, scaled_u(mag, t->size_unit));
	else
		table_human_size(mag, neg, sign, buf, n);
}

static void format_cell(const struct table *t, const struct table_col *col,
			const struct table_cell *c, char *buf, size_t n)
{
	uint64_t mag;

	if (!c->set) {
		snprintf(buf, n, "-");
		return;
	}
	if (c->str && col->kind != TK_STR) {
		snprintf(buf, n, "%s", c->str);	/* text in a number column, e.g. "total" */
		return;
	}
	switch (col->kind) {
	case TK_STR: snprintf(buf, n, "%s", c->str ? c->str : ""); break;
	case TK_U64: snprintf(buf, n, "%" PRIu64, c->u); break;
	case TK_I64: snprintf(buf, n, "%+" PRId64, c->i); break;
	case TK_KIB: format_size(t, c->u, false, false, buf, n); break;
	case TK_DKIB:
		mag = c->i < 0 ? 0 - (uint64_t)c->i : (uint64_t)c->i;
		if (t->size_unit && !(t->style && t->style->bytes))
			snprintf(buf, n, "%+" PRId64, scaled_i(c->i, t->size_unit));
		else
			format_size(t, mag, c->i < 0, true, buf, n);
		break;
	case TK_HEX: snprintf(buf, n, "%012" PRIx64, c->u); break;
	case TK_DOUBLE: snprintf(buf, n, "%.2f", c->d); break;
	}
}

static bool left_aligned(const struct table_col *col)
{
	return col->left || col->kind == TK_STR || col->kind == TK_HEX;
}

/* Writes n spaces. */
static void pad(FILE *out, size_t n)
{
	static const char spaces[] = "                                                                ";

	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		fwrite(spaces, 1, k, out);
		n -= k;
	}
}

/* The column of cols named name (its JSON name or its header, any case), or -1. */
static int find_col(const struct table_col *cols, int ncols, const char *name)
{
	for (int c = 0; c < ncols; c++)
		if (!strcasecmp(name, cols[c].name) || !strcasecmp(name, cols[c].header))
			return c;
	return -1;
}

/*
 * The columns to print, in order, into vis (t->ncols entries); returns how many. Names
 * this table lacks are skipped (a command's --output list covers all its tables).
 */
static int visible_columns(const struct table *t, int *vis)
{
	const char *list = t->style ? t->style->columns : NULL;
	char *copy, *save = NULL;
	int n = 0;

	if (list) {
		copy = xstrdup(list);
		for (char *tok = strtok_r(copy, ",", &save); tok && n < t->ncols;
		     tok = strtok_r(NULL, ",", &save)) {
			int c = find_col(t->cols, t->ncols, tok);

			if (c >= 0)
				vis[n++] = c;
		}
		free(copy);
	}
	if (!n)
		for (; n < t->ncols; n++)
			vis[n] = n;
	return n;
}

/* lsblk --raw's escaping: a space, a control character or a backslash as \xHH. */
static void add_raw(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch == 0x7f || ch == '\\')
			strbuf_addf(sb, "\\x%02x", ch);
		else
			strbuf_addch(sb, ch);
	}
}

void table_print(const struct table *t, FILE *out)
{
	int *vis = xmalloc(sizeof(*vis) * (size_t)(t->ncols ? t->ncols : 1));
	int nv = visible_columns(t, vis);
	bool raw = t->style && t->style->raw;
	size_t first = t->style && t->style->no_headings ? 1 : 0;
	size_t ncells = (t->nrows + 1) * (size_t)nv;
	size_t *width = xcalloc((size_t)nv ? (size_t)nv : 1, sizeof(*width));
	size_t *off = xmalloc(sizeof(*off) * (ncells + 1));
	struct strbuf text = STRBUF_INIT;
	char buf[4096];

	/* Format every cell once (row 0 is the header), then pad and write. */
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int v = 0; v < nv; v++) {
			int c = vis[v];
			size_t i = r * (size_t)nv + (size_t)v, len;

			if (r == 0)
				snprintf(buf, sizeof(buf), "%s", t->cols[c].header);
			else
				format_cell(t, &t->cols[c],
					    &t->cells[(r - 1) * (size_t)t->ncols + (size_t)c], buf,
					    sizeof(buf));
			off[i] = text.len;
			if (raw)
				add_raw(&text, buf);
			else
				strbuf_addstr(&text, buf);
			len = text.len - off[i];
			if (r >= first && len > width[v])
				width[v] = len;
		}
	}
	off[ncells] = text.len;
	for (size_t r = first; r <= t->nrows; r++) {
		for (int v = 0; v < nv; v++) {
			const struct table_col *col = &t->cols[vis[v]];
			size_t i = r * (size_t)nv + (size_t)v, len = off[i + 1] - off[i];
			bool last = v == nv - 1;

			if (raw) {
				fwrite(text.buf + off[i], 1, len, out);
				if (!last)
					fputc(' ', out);
				continue;
			}
			if (left_aligned(col)) {
				fwrite(text.buf + off[i], 1, len, out);
				if (!last)
					pad(out, width[v] - len);
			} else {
				pad(out, width[v] - len);
				fwrite(text.buf + off[i], 1, len, out);
			}
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	strbuf_release(&text);
	free(off);
	free(width);
	free(vis);
}

void table_columns_names(const struct table_colset *sets, int n, struct strbuf *sb)
{
	size_t start = sb->len;

	for (int k = 0; k < n; k++) {
		for (int c = 0; c < sets[k].ncols; c++) {
			const char *name = sets[k].cols[c].name;
			bool seen = false;

			for (int j = 0; j < k && !seen; j++)
				seen = find_col(sets[j].cols, sets[j].ncols, name) >= 0;
			for (int j = 0; j < c && !seen; j++)
				seen = !strcasecmp(sets[k].cols[j].name, name);
			if (seen)
				continue;
			if (sb->len > start)
				strbuf_addch(sb, ',');
			strbuf_addstr(sb, name);
		}
	}
}

int table_columns_check(const char *list, const struct table_colset *sets, int n,
			struct strbuf *err)
{
	char *copy = xstrdup(list), *save = NULL;
	int ret = -EINVAL, found = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (int k = 0; k < n && !known; k++)
			known = find_col(sets[k].cols, sets[k].ncols, tok) >= 0;
		if (!known) {
			strbuf_addf(err, "unknown column '%s' (valid: ", tok);
			goto bad;
		}
		found++;
	}
	if (found) {
		ret = 0;
		goto out;
	}
	strbuf_addstr(err, "no column in --output list (valid: ");
bad:
	table_columns_names(sets, n, err);
	strbuf_addch(err, ')');
out:
	free(copy);
	return ret;
}

void table_json(const struct table *t, struct json *j, const char *key)
{
	char buf[32];

	json_arr_begin(j, key);
	for (size_t r = 0; r < t->nrows; r++) {
		json_obj_begin(j, NULL);
		for (int c = 0; c < t->ncols; c++) {
			const struct table_col *col = &t->cols[c];
			const struct table_cell *v = &t->cells[r * (size_t)t->ncols + (size_t)c];

			if (!v->set) {
				json_null(j, col->name);
				continue;
			}
			switch (col->kind) {
			case TK_STR: json_str(j, col->name, v->str); break;
			case TK_U64:
			case TK_KIB: json_u64(j, col->name, v->u); break;
			case TK_I64:
			case TK_DKIB: json_i64(j, col->name, v->i); break;
			case TK_HEX:
				snprintf(buf, sizeof(buf), "0x%" PRIx64, v->u);
				json_str(j, col->name, buf);
				break;
			case TK_DOUBLE: json_double(j, col->name, v->d); break;
			}
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}
