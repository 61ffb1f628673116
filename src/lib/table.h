/*
 * table: one column-description table drives text output and --json (after util-linux
 * libsmartcols, whose options it follows: --output, --no-headings, --raw, --bytes).
 *
 * Sizes print human-readable by default, in powers of 1024 with one letter as lsblk does
 * ("512B", "4K", "1.5M", "12.3G"); --bytes prints the exact count; JSON always has bytes.
 */
#ifndef OFFHEAP_TABLE_H
#define OFFHEAP_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum table_kind {
	TK_STR,		/* text as given */
	TK_U64,		/* unsigned count */
	TK_I64,		/* signed count, "+N"/"-N" in text */
	TK_KIB,		/* bytes: "1.5M" in text (size_unit or --bytes: a plain count) */
	TK_DKIB,	/* signed bytes: "+1.5M"/"-4K" in text, bytes in JSON */
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

/* How table_print lays text out: the shared output options (cmdutil's cmd_table_option). */
struct table_style {
	const char *columns;	/* --output: comma list of column names; NULL: every column */
	bool no_headings;	/* --no-headings: no header line */
	bool raw;		/* --raw: one space between fields, no alignment, \xHH escapes */
	bool bytes;		/* --bytes: sizes as exact byte counts */
};

struct table {
	const struct table_col *cols;	/* borrowed, ncols entries */
	int ncols;
	struct table_cell *cells;	/* nrows * ncols */
	size_t nrows, alloc;
	uint64_t size_unit;	/* bytes per unit of TK_KIB/TK_DKIB text (nmt --scale); 0: human */
	const struct table_style *style;	/* borrowed; NULL: aligned, headed, human sizes */
};

/* A table's column set, for table_columns_check over the tables of one command. */
struct table_colset {
	const struct table_col *cols;
	int ncols;
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
/*
 * Text: a header line, then aligned rows; the last column is never padded. t->style
 * changes that: style->columns shows the listed columns the table has, in that order
 * (a table with none of them shows all of its own), and so on (struct table_style).
 */
void table_print(const struct table *t, FILE *out);
/*
 * Checks a --output list against the column sets of a command's n tables: 0 when every
 * name is a column of one of them (case does not matter), -EINVAL with err naming the
 * first unknown one and the valid names, or the empty list.
 */
struct strbuf;
int table_columns_check(const char *list, const struct table_colset *sets, int n,
			struct strbuf *err);
/* The comma list of the names in sets, each once ("pid,user,rss"), appended to sb. */
void table_columns_names(const struct table_colset *sets, int n, struct strbuf *sb);
/* v bytes as lsblk prints a size ("0B", "512B", "1.5K", "23G"); sign: "+"/"-" first. */
void table_human_size(uint64_t v, bool neg, bool sign, char *buf, size_t n);
/* JSON: an array of objects under key (NULL at top level). */
struct json;
void table_json(const struct table *t, struct json *j, const char *key);

#endif
