/* table: one column-description table drives text output and --json (after util-linux libsmartcols). */
#ifndef OFFHEAP_TABLE_H
#define OFFHEAP_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum table_kind {
	TK_STR,		/* text as given */
	TK_U64,		/* unsigned count */
	TK_I64,		/* signed count, "+N"/"-N" in text */
	TK_KIB,		/* bytes: KiB in text (as pmap -x), bytes in JSON */
	TK_DKIB,	/* signed bytes: "+KiB"/"-KiB" in text, bytes in JSON */
	TK_HEX,		/* address: 0-padded hex in text, "0x…" string in JSON */
	TK_DOUBLE,	/* real number, two decimals in text */
};

struct table_col {
	const char *name;	/* JSON key, and the name --help lists */
	const char *header;	/* text header */
	enum table_kind kind;	/* how values print */
	bool left;		/* left-align (default: strings left, numbers right) */
};

struct table_cell {
	bool set;		/* false: printed as "-" / null */
	char *str;		/* TK_STR (owned); in other kinds, text shown instead */
	int64_t i;		/* TK_I64, TK_DKIB */
	uint64_t u;		/* TK_U64, TK_KIB, TK_HEX */
	double d;		/* TK_DOUBLE */
};

struct table {
	const struct table_col *cols;	/* borrowed, ncols entries */
	int ncols;
	struct table_cell *cells;	/* nrows * ncols */
	size_t nrows, alloc;
	uint64_t size_unit;	/* bytes per unit of TK_KIB/TK_DKIB text; 0: 1024 */
};

/* cols is borrowed and must outlive the table. */
void table_init(struct table *t, const struct table_col *cols, int ncols);
void table_release(struct table *t);
/* Appends an empty row and returns its index. */
size_t table_add_row(struct table *t);
/* In a column that is not TK_STR, s is shown in text output instead of the value. */
void table_set_str(struct table *t, size_t row, int col, const char *s);
void table_set_u64(struct table *t, size_t row, int col, uint64_t v);
void table_set_i64(struct table *t, size_t row, int col, int64_t v);
void table_set_double(struct table *t, size_t row, int col, double v);
/* Text: a header line, then aligned rows; the last column is never padded. */
void table_print(const struct table *t, FILE *out);
/* JSON: an array of objects under key (NULL at top level). */
struct json;
void table_json(const struct table *t, struct json *j, const char *key);

#endif
