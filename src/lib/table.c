/* table: column-driven rows printed as aligned text or as JSON from one description. */
#include "table.h"
#include "json.h"
#include "strbuf.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * KiB truncate, as pmap does; a coarser unit (size_unit, e.g. nmt scale=MB)
 * rounds to the nearest, as NMT does, so the figures match jcmd's.
 */
static uint64_t scaled_u(uint64_t v, uint64_t unit)
{
	return unit == 1024 ? v / unit : v / unit + (v % unit >= unit / 2);
}

static int64_t scaled_i(int64_t v, uint64_t unit)
{
	uint64_t m = scaled_u(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, unit);

	return v < 0 ? -(int64_t)m : (int64_t)m;
}

static void format_cell(const struct table_col *col, const struct table_cell *c,
			uint64_t unit, char *buf, size_t n)
{
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
	case TK_KIB: snprintf(buf, n, "%" PRIu64, scaled_u(c->u, unit)); break;
	case TK_DKIB: snprintf(buf, n, "%+" PRId64, scaled_i(c->i, unit)); break;
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

void table_print(const struct table *t, FILE *out)
{
	size_t ncells = (t->nrows + 1) * (size_t)t->ncols;
	size_t *width = xcalloc((size_t)t->ncols, sizeof(*width));
	size_t *off = xmalloc(sizeof(*off) * (ncells + 1));
	struct strbuf text = STRBUF_INIT;
	char buf[4096];

	/* Format every cell once (row 0 is the header), then pad and write. */
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			size_t i = r * (size_t)t->ncols + (size_t)c, len;

			if (r == 0)
				snprintf(buf, sizeof(buf), "%s", t->cols[c].header);
			else
				format_cell(&t->cols[c], &t->cells[i - (size_t)t->ncols],
					    t->size_unit ? t->size_unit : 1024, buf, sizeof(buf));
			len = strlen(buf);
			off[i] = text.len;
			strbuf_add(&text, buf, len);
			if (len > width[c])
				width[c] = len;
		}
	}
	off[ncells] = text.len;
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const struct table_col *col = &t->cols[c];
			size_t i = r * (size_t)t->ncols + (size_t)c, len = off[i + 1] - off[i];
			bool last = c == t->ncols - 1;

			if (left_aligned(col)) {
				fwrite(text.buf + off[i], 1, len, out);
				if (!last)
					pad(out, width[c] - len);
			} else {
				pad(out, width[c] - len);
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
