/*
 * jstatcols: the statistics `jstat -OPTION` shows, as columns computed from
 * a JVM's hsperfdata counters.
 *
 * Each column is an arithmetic expression over counter names (+ - * / and
 * parentheses, numbers), with the layout jstat gives it: width, alignment of
 * header and value, decimals, KiB scaling. A column whose counter the JVM
 * lacks has no value (jstat's "-"), except a required one, where a missing
 * counter counts as 0 (GCT sums the collectors that exist). A bare name of a
 * string counter (the last GC cause, a method name) is a string value.
 */
#ifndef OFFHEAP_JSTATCOLS_H
#define OFFHEAP_JSTATCOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hsperf;

enum jstat_align { JA_RIGHT, JA_LEFT, JA_CENTER };

struct jstat_col {
	const char *header;
	enum jstat_align halign; /* the header's alignment in the column */
	enum jstat_align align;	 /* the value's (right or left) */
	int width;		 /* jstat's; a longer header widens the column */
	int decimals;		 /* digits after the point; -1: an integer counter as is */
	bool kib;		 /* bytes shown in KiB (JSON keeps bytes) */
	bool required;		 /* a missing counter counts as 0 */
	const char *json;	 /* the JSON key when it is not the header */
	const char *expr;
};

struct jstat_option {
	const char *name; /* without the dash: "gcutil" */
	const struct jstat_col *cols;
	size_t ncols;
};

/* The option named name ("gc", "gcutil", ...), or NULL. */
const struct jstat_option *jstat_option_find(const char *name);
/* Every option, in jstat's order of its help; *n is set to their number. */
const struct jstat_option *jstat_options(size_t *n);

enum jstat_kind { JV_NONE, JV_NUM, JV_STR };

struct jstat_val {
	enum jstat_kind kind;
	double d;     /* JV_NUM: before KiB scaling (bytes for sizes) */
	char *s;      /* JV_STR: malloc'd */
};

/*
 * Evaluates column c over h into v (release it with jstat_val_release).
 * Returns 0, or -EINVAL when c's expression is malformed (a bug in the
 * table, caught by the unit test).
 */
int jstat_eval(const struct hsperf *h, const struct jstat_col *c, struct jstat_val *v);
void jstat_val_release(struct jstat_val *v);

/*
 * Formats v as jstat prints it in column c (without padding): "-" for no
 * value or a result that is not a number (a space of capacity 0), the
 * string, or the number scaled and with c's decimals.
 */
void jstat_format(const struct jstat_col *c, const struct jstat_val *v, char *buf, size_t n);

/* The width c takes: its width, or its header's length when longer. */
int jstat_col_width(const struct jstat_col *c);

#endif
