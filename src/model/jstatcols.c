/*
 * jstatcols: jstat's statistics over hsperfdata counters.
 *
 * The tables follow the columns the JDK's jstat prints (names, widths,
 * alignments, decimals, which counters and how they combine), checked
 * against its output on JDK 17 and 25 by tests/t2103-jstat-options.sh.
 * Expressions are evaluated in double precision, like jstat.
 */
#include "jstatcols.h"

#include "hsperf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layout shorthands: a size in KiB, a time in seconds, a count, a percentage. */
#define KIB(h, w, e)  { h, JA_CENTER, JA_RIGHT, w, 1, true, false, NULL, e }
#define SECS(h, w, e) { h, JA_CENTER, JA_RIGHT, w, 3, false, false, NULL, e "/sun.os.hrt.frequency" }
#define CNT(h, w, e)  { h, JA_CENTER, JA_RIGHT, w, 0, false, false, NULL, e }
/* Share of a space's capacity in use, in percent. */
#define PCT(h, s) \
	{ h, JA_CENTER, JA_RIGHT, 6, 2, false, false, NULL, \
	  "(1-((" s ".capacity - " s ".used)/" s ".capacity)) * 100" }

#define GEN0 "sun.gc.generation.0"
#define GEN1 "sun.gc.generation.1"
#define EDEN GEN0 ".space.0"
#define SURV0 GEN0 ".space.1"
#define SURV1 GEN0 ".space.2"
#define OLD GEN1 ".space.0"
#define META "sun.gc.metaspace"
#define CCS "sun.gc.compressedclassspace"
#define COLL(n) "sun.gc.collector." #n

#define YGC CNT("YGC", 6, COLL(0) ".invocations")
#define YGCT SECS("YGCT", 9, COLL(0) ".time")
#define FGC CNT("FGC", 5, COLL(1) ".invocations")
#define FGCT SECS("FGCT", 9, COLL(1) ".time")
#define CGC CNT("CGC", 5, COLL(2) ".invocations")
#define CGCT SECS("CGCT", 9, COLL(2) ".time")
#define GCT                                                                              \
	{ "GCT", JA_CENTER, JA_RIGHT, 9, 3, false, true, NULL,                           \
	  "(" COLL(0) ".time + " COLL(1) ".time + " COLL(2) ".time)/sun.os.hrt.frequency" }
#define UTIL_COLS                                                                        \
	PCT("S0", SURV0), PCT("S1", SURV1), PCT("E", EDEN), PCT("O", OLD), PCT("M", META), \
		PCT("CCS", CCS), YGC, YGCT, FGC, FGCT, CGC, CGCT, GCT

static const struct jstat_col class_cols[] = {
	{ "Loaded", JA_CENTER, JA_RIGHT, 5, 0, false, false, NULL,
	  "java.cls.loadedClasses + java.cls.sharedLoadedClasses" },
	{ "Bytes", JA_CENTER, JA_RIGHT, 7, 1, true, false, "LoadedBytes",
	  "sun.cls.loadedBytes + sun.cls.sharedLoadedBytes" },
	{ "Unloaded", JA_CENTER, JA_RIGHT, 5, 0, false, false, NULL,
	  "java.cls.unloadedClasses + java.cls.sharedUnloadedClasses" },
	{ "Bytes", JA_CENTER, JA_RIGHT, 7, 1, true, false, "UnloadedBytes",
	  "sun.cls.unloadedBytes + sun.cls.sharedUnloadedBytes" },
	{ "Time", JA_CENTER, JA_RIGHT, 10, 2, false, false, NULL,
	  "sun.cls.time/sun.os.hrt.frequency" },
};

static const struct jstat_col compiler_cols[] = {
	CNT("Compiled", 6, "sun.ci.totalCompiles"),
	CNT("Failed", 6, "sun.ci.totalBailouts"),
	CNT("Invalid", 6, "sun.ci.totalInvalidates"),
	{ "Time", JA_CENTER, JA_RIGHT, 8, 2, false, false, NULL,
	  "java.ci.totalTime/sun.os.hrt.frequency" },
	{ "FailedType", JA_CENTER, JA_RIGHT, 4, -1, false, false, NULL, "sun.ci.lastFailedType" },
	{ "FailedMethod", JA_LEFT, JA_LEFT, 1, -1, false, false, NULL, "sun.ci.lastFailedMethod" },
};

static const struct jstat_col gc_cols[] = {
	KIB("S0C", 11, SURV0 ".capacity"), KIB("S1C", 11, SURV1 ".capacity"),
	KIB("S0U", 11, SURV0 ".used"),	   KIB("S1U", 11, SURV1 ".used"),
	KIB("EC", 12, EDEN ".capacity"),   KIB("EU", 12, EDEN ".used"),
	KIB("OC", 12, OLD ".capacity"),	   KIB("OU", 12, OLD ".used"),
	KIB("MC", 10, META ".capacity"),   KIB("MU", 10, META ".used"),
	KIB("CCSC", 9, CCS ".capacity"),   KIB("CCSU", 9, CCS ".used"),
	YGC, YGCT, FGC, FGCT, CGC, CGCT, GCT,
};

static const struct jstat_col gccapacity_cols[] = {
	KIB("NGCMN", 12, GEN0 ".minCapacity"),
	KIB("NGCMX", 12, GEN0 ".maxCapacity"),
	KIB("NGC", 12, GEN0 ".capacity"),
	KIB("S0C", 11, SURV0 ".capacity"),
	/* jstat's table aligns this one header left (its "^S1C" lacks the closing mark) */
	{ "S1C", JA_LEFT, JA_RIGHT, 11, 1, true, false, NULL, SURV1 ".capacity" },
	KIB("EC", 12, EDEN ".capacity"),
	KIB("OGCMN", 12, GEN1 ".minCapacity"),
	KIB("OGCMX", 12, GEN1 ".maxCapacity"),
	KIB("OGC", 12, GEN1 ".capacity"),
	KIB("OC", 12, OLD ".capacity"),
	KIB("MCMN", 10, META ".minCapacity"),
	KIB("MCMX", 10, META ".maxCapacity"),
	KIB("MC", 10, META ".capacity"),
	KIB("CCSMN", 9, CCS ".minCapacity"),
	KIB("CCSMX", 9, CCS ".maxCapacity"),
	KIB("CCSC", 9, CCS ".capacity"),
	YGC, FGC, CGC,
};

static const struct jstat_col gccause_cols[] = {
	UTIL_COLS,
	{ "LGCC", JA_LEFT, JA_LEFT, 20, -1, false, false, NULL, "sun.gc.lastCause" },
	{ "GCC", JA_LEFT, JA_LEFT, 20, -1, false, false, NULL, "sun.gc.cause" },
};

static const struct jstat_col gcnew_cols[] = {
	KIB("S0C", 11, SURV0 ".capacity"),
	KIB("S1C", 11, SURV1 ".capacity"),
	KIB("S0U", 11, SURV0 ".used"),
	KIB("S1U", 11, SURV1 ".used"),
	CNT("TT", 2, "sun.gc.policy.tenuringThreshold"),
	CNT("MTT", 2, "sun.gc.policy.maxTenuringThreshold"),
	KIB("DSS", 11, "sun.gc.policy.desiredSurvivorSize"),
	KIB("EC", 12, EDEN ".capacity"),
	KIB("EU", 12, EDEN ".used"),
	YGC, YGCT,
};

static const struct jstat_col gcnewcapacity_cols[] = {
	KIB("NGCMN", 12, GEN0 ".minCapacity"),
	KIB("NGCMX", 12, GEN0 ".maxCapacity"),
	KIB("NGC", 12, GEN0 ".capacity"),
	KIB("S0CMX", 11, SURV0 ".maxCapacity"),
	KIB("S0C", 11, SURV0 ".capacity"),
	KIB("S1CMX", 11, SURV1 ".maxCapacity"),
	KIB("S1C", 11, SURV1 ".capacity"),
	KIB("ECMX", 12, EDEN ".maxCapacity"),
	KIB("EC", 12, EDEN ".capacity"),
	YGC, FGC, CGC,
};

static const struct jstat_col gcold_cols[] = {
	KIB("MC", 10, META ".capacity"), KIB("MU", 10, META ".used"),
	KIB("CCSC", 9, CCS ".capacity"), KIB("CCSU", 9, CCS ".used"),
	KIB("OC", 12, OLD ".capacity"),	 KIB("OU", 12, OLD ".used"),
	YGC, FGC, FGCT, CGC, CGCT, GCT,
};

static const struct jstat_col gcoldcapacity_cols[] = {
	KIB("OGCMN", 12, GEN1 ".minCapacity"),
	KIB("OGCMX", 12, GEN1 ".maxCapacity"),
	KIB("OGC", 12, GEN1 ".capacity"),
	KIB("OC", 12, OLD ".capacity"),
	YGC, FGC, FGCT, CGC, CGCT, GCT,
};

static const struct jstat_col gcmetacapacity_cols[] = {
	KIB("MCMN", 10, META ".minCapacity"),
	KIB("MCMX", 10, META ".maxCapacity"),
	KIB("MC", 10, META ".capacity"),
	KIB("CCSMN", 9, CCS ".minCapacity"),
	KIB("CCSMX", 9, CCS ".maxCapacity"),
	KIB("CCSC", 9, CCS ".capacity"),
	YGC, FGC, FGCT, CGC, CGCT, GCT,
};

static const struct jstat_col gcutil_cols[] = { UTIL_COLS };

static const struct jstat_col printcompilation_cols[] = {
	CNT("Compiled", 6, "sun.ci.totalCompiles"),
	{ "Size", JA_CENTER, JA_RIGHT, 6, -1, false, false, NULL, "sun.ci.lastSize" },
	{ "Type", JA_CENTER, JA_RIGHT, 4, -1, false, false, NULL, "sun.ci.lastType" },
	{ "Method", JA_LEFT, JA_LEFT, 1, -1, false, false, NULL, "sun.ci.lastMethod" },
};

#define OPT(n) { #n, n##_cols, sizeof(n##_cols) / sizeof(n##_cols[0]) }
static const struct jstat_option options[] = {
	OPT(class),	    OPT(compiler),	 OPT(gc),    OPT(gccapacity),
	OPT(gccause),	    OPT(gcnew),		 OPT(gcnewcapacity),
	OPT(gcold),	    OPT(gcoldcapacity),	 OPT(gcmetacapacity),
	OPT(gcutil),	    OPT(printcompilation),
};

const struct jstat_option *jstat_options(size_t *n)
{
	*n = sizeof(options) / sizeof(options[0]);
	return options;
}

const struct jstat_option *jstat_option_find(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (!strcmp(options[i].name, name))
			return &options[i];
	return NULL;
}

int jstat_col_width(const struct jstat_col *c)
{
	int len = (int)strlen(c->header);

	return len > c->width ? len : c->width;
}

/* A recursive-descent evaluation over the expression text. */
struct ev {
	const struct hsperf *h;
	const char *p;
	bool missing; /* a counter was absent */
	bool bad;     /* the expression is malformed */
};

static double expr(struct ev *e);

static void skip_space(struct ev *e)
{
	while (*e->p == ' ')
		e->p++;
}

static double factor(struct ev *e)
{
	char name[128];
	size_t len = 0;
	int64_t v;

	skip_space(e);
	if (*e->p == '(') {
		double d;

		e->p++;
		d = expr(e);
		skip_space(e);
		if (*e->p != ')')
			e->bad = true;
		else
			e->p++;
		return d;
	}
	if (isdigit((unsigned char)*e->p)) {
		char *end;
		double d = strtod(e->p, &end);

		e->p = end;
		return d;
	}
	while (isalnum((unsigned char)e->p[len]) || e->p[len] == '.' || e->p[len] == '_')
		len++;
	if (!len || len >= sizeof(name)) {
		e->bad = true;
		return 0;
	}
	memcpy(name, e->p, len);
	name[len] = '\0';
	e->p += len;
	if (hsperf_get_long(e->h, name, &v)) {
		e->missing = true;
		return 0;
	}
	return (double)v;
}

static double term(struct ev *e)
{
	double d = factor(e);

	for (;;) {
		skip_space(e);
		if (*e->p == '*') {
			e->p++;
			d *= factor(e);
		} else if (*e->p == '/') {
			e->p++;
			d /= factor(e);
		} else {
			return d;
		}
	}
}

static double expr(struct ev *e)
{
	double d = term(e);

	for (;;) {
		skip_space(e);
		if (*e->p == '+') {
			e->p++;
			d += term(e);
		} else if (*e->p == '-') {
			e->p++;
			d -= term(e);
		} else {
			return d;
		}
	}
}

static bool bare_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_')
			return false;
	return true;
}

int jstat_eval(const struct hsperf *h, const struct jstat_col *c, struct jstat_val *v)
{
	struct ev e = { .h = h, .p = c->expr };
	int64_t unused;

	memset(v, 0, sizeof(*v));
	/* A bare string counter (a cause, a method) is shown as it is. */
	if (bare_name(c->expr) && hsperf_get_long(h, c->expr, &unused) == -EINVAL) {
		v->s = hsperf_get_string(h, c->expr);
		v->kind = v->s ? JV_STR : JV_NONE;
		return 0;
	}
	v->d = expr(&e);
	skip_space(&e);
	if (e.bad || *e.p)
		return -EINVAL;
	v->kind = e.missing && !c->required ? JV_NONE : JV_NUM;
	return 0;
}

void jstat_val_release(struct jstat_val *v)
{
	free(v->s);
	memset(v, 0, sizeof(*v));
}

void jstat_format(const struct jstat_col *c, const struct jstat_val *v, char *buf, size_t n)
{
	double d = v->d;

	switch (v->kind) {
	case JV_NONE:
		snprintf(buf, n, "-");
		return;
	case JV_STR:
		snprintf(buf, n, "%s", v->s);
		return;
	case JV_NUM:
		break;
	}
	/* A space of capacity 0 (G1's survivors on JDK 25): jstat prints "-" too. */
	if (!isfinite(d)) {
		snprintf(buf, n, "-");
		return;
	}
	if (c->kib)
		d /= 1024;
	snprintf(buf, n, "%.*f", c->decimals < 0 ? 0 : c->decimals, d);
}
