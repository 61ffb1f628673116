/* trend: is a series growing steadily (least squares slope, R², share of steps up)? */
#ifndef OFFHEAP_TREND_H
#define OFFHEAP_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trend {
	double slope;	   /* per step, least squares */
	double r2;	   /* coefficient of determination of the fit, 0..1 */
	double growth;	   /* slope * (n - 1): fitted growth over the series */
	size_t ups, downs; /* steps that grew / shrank */
	bool growing;	   /* sustained: see trend_fit */
};

/*
 * Fits y[0..n) against its index. growing is true when the fit rises
 * (growth > 0), explains the series well (r2 >= 0.7), the series still
 * rises in its second half (y[n-1] > y[n/2]) and more steps grew than
 * shrank: a cache that fills and then holds its level is not growing.
 */
void trend_fit(const int64_t *y, size_t n, struct trend *t);

/* What a series did over a span of time (trend_judge). */
enum trend_kind {
	TREND_FLAT,	  /* moved less than the floor */
	TREND_GROWING,	  /* sustained growth: a leak looks like this */
	TREND_STEP,	  /* grew, but most of it in one jump or then levelled off (a cache
			     filled, a pool grew, a process warmed up) */
	TREND_NOISY,	  /* moved up and down without a clear direction */
	TREND_SHRINKING,  /* fell */
};

const char *trend_kind_name(enum trend_kind k);

struct trend_judgement {
	enum trend_kind kind;
	struct trend fit;	/* against the index, as trend_fit */
	int64_t first, last, min, max;
	double per_hour;	/* fitted slope against time, units per hour */
	double confidence;	/* 0..1 that it grows steadily: R² times the share of steps up,
				   scaled down past a step_share of 0.6 (0 for one jump) */
	double step_share;	/* the largest rise between two points (or over two
				   neighbouring steps, from 8 points) / all rises */
};

/*
 * Judges y[0..n), sampled at t_ns[0..n) (ascending): growing when the fit
 * rises by at least floor over the span, explains the series (R² >= 0.7),
 * more steps rose than fell, the last quarter stands above the middle, and
 * no single step holds more than 60% of the rise (else a step; from 8 points
 * on, two rises in a row count as one step: a jump can straddle a sample);
 * a rise that levelled off (from 6 points: the last third's mean above the
 * middle third's by less than floor / 2 and less than 15% of the middle's
 * rise over the first: warm-up's shape) is a step too.
 */
void trend_judge(const uint64_t *t_ns, const int64_t *y, size_t n, int64_t floor,
		 struct trend_judgement *j);

#endif
