/* trend: is a series growing steadily (least squares slope, R², share of steps up)? */
#include "trend.h"

#include <string.h>

void trend_fit(const int64_t *y, size_t n, struct trend *t)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, cov, vx, vy;

	memset(t, 0, sizeof(*t));
	if (n < 3)
		return;
	for (size_t i = 0; i < n; i++) {
		double x = (double)i, v = (double)y[i];

		sx += x;
		sy += v;
		sxx += x * x;
		sxy += x * v;
		syy += v * v;
		if (i && y[i] > y[i - 1])
			t->ups++;
		else if (i && y[i] < y[i - 1])
			t->downs++;
	}
	cov = sxy - sx * sy / (double)n;
	vx = sxx - sx * sx / (double)n;
	vy = syy - sy * sy / (double)n;
	t->slope = vx > 0 ? cov / vx : 0;
	t->r2 = vx > 0 && vy > 0 ? cov * cov / (vx * vy) : 0;
	t->growth = t->slope * (double)(n - 1);
	t->growing = t->growth > 0 && t->r2 >= 0.7 && y[n - 1] > y[n / 2] && t->ups > t->downs;
}

const char *trend_kind_name(enum trend_kind k)
{
	switch (k) {
	case TREND_FLAT: return "flat";
	case TREND_GROWING: return "growing";
	case TREND_STEP: return "step";
	case TREND_NOISY: return "noisy";
	case TREND_SHRINKING: return "shrinking";
	}
	return "?";
}

/*
 * A rise that stopped: a process warming up (classes loaded, code compiled,
 * arenas and pools filled) climbs fast and then levels off, and a window
 * that starts with it can fit a rising line well. Over a steady leak the
 * means of the three thirds of the window climb by equal amounts. Here the
 * last third's mean stands less than 15% as far above the middle third's
 * as that one above the first, and less than floor / 2: the growth is over,
 * a step. (A leak under a warm-up keeps the last third rising by its own
 * rate: from half the floor a third, it is still growing.) Its confidence
 * falls with what is left of the rise.
 */
static bool levelled_off(const int64_t *y, size_t n, int64_t floor, double *confidence)
{
	double m[3] = {0, 0, 0}, rest;
	size_t c[3] = {0, 0, 0};

	if (n < 6 || floor <= 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t k = i * 3 / n;

		m[k] += (double)y[i];
		c[k]++;
	}
	for (int k = 0; k < 3; k++)
		m[k] /= (double)c[k];
	rest = m[2] - m[1];
	if (rest >= (double)floor / 2.0 || rest >= 0.15 * (m[1] - m[0]))
		return false;
	*confidence *= rest > 0 ? rest / (m[1] - m[0]) : 0;
	return true;
}

void trend_judge(const uint64_t *t_ns, const int64_t *y, size_t n, int64_t floor,
		 struct trend_judgement *j)
{
	double span, rises = 0, top = 0, q, mid, sx = 0, sy = 0, sxx = 0, sxy = 0, vx;
	size_t qn = 0, mn = 0;

	memset(j, 0, sizeof(*j));
	j->kind = TREND_FLAT;
	if (!n)
		return;
	j->first = j->min = j->max = y[0];
	j->last = y[n - 1];
	for (size_t i = 0; i < n; i++) {
		double x = (double)(t_ns[i] - t_ns[0]) / 1e9, v = (double)y[i];

		if (y[i] < j->min)
			j->min = y[i];
		if (y[i] > j->max)
			j->max = y[i];
		sx += x;
		sy += v;
		sxx += x * x;
		sxy += x * v;
		if (i && y[i] > y[i - 1]) {
			/* in double: a hostile recording's figures overflow a difference */
			double d = (double)y[i] - (double)y[i - 1];

			rises += d;
			if (d > top)
				top = d;
			/*
			 * A jump that takes some milliseconds (faulting in 64 MiB) can
			 * straddle a sample and show as two rises in a row: in a series
			 * long enough for a steady rise to spread over many steps, two
			 * neighbouring rises count as one jump.
			 */
			if (n >= 8 && i > 1 && y[i - 1] > y[i - 2] &&
			    d + ((double)y[i - 1] - (double)y[i - 2]) > top)
				top = d + ((double)y[i - 1] - (double)y[i - 2]);
		}
	}
	trend_fit(y, n, &j->fit);
	if (n < 3 || t_ns[n - 1] <= t_ns[0])
		return;
	vx = sxx - sx * sx / (double)n;
	j->per_hour = vx > 0 ? (sxy - sx * sy / (double)n) / vx * 3600.0 : 0;
	span = (double)(t_ns[n - 1] - t_ns[0]) / 1e9;
	j->step_share = rises > 0 ? top / rises : 0;
	if (j->fit.ups + j->fit.downs)
		j->confidence = j->fit.r2 * (double)j->fit.ups / (double)(j->fit.ups + j->fit.downs);
	/*
	 * One jump between flat stretches fits a line with R² near 0.75 and has
	 * only steps up: without this it would read as 0.75 sure of a leak. Past
	 * the step threshold the confidence falls with the jump's share of the
	 * rise, to 0 for a single jump; a growing series is never touched.
	 */
	if (j->step_share > 0.6)
		j->confidence *= (1.0 - j->step_share) / 0.4;
	if (j->per_hour / 3600.0 * span < (double)floor &&
	    j->per_hour / 3600.0 * span > -(double)floor) {
		/* A fit that barely moves; a jump of the floor or more is still a step. */
		if ((double)(j->max - j->min) >= (double)floor && floor > 0)
			j->kind = j->step_share >= 0.6 && j->last > j->first ? TREND_STEP : TREND_NOISY;
		return;
	}
	if (j->per_hour < 0) {
		j->kind = j->fit.r2 >= 0.5 ? TREND_SHRINKING : TREND_NOISY;
		return;
	}
	/* The mean of the last quarter against the mean of the middle half. */
	q = mid = 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= n - (n + 3) / 4) {
			q += (double)y[i];
			qn++;
		} else if (i >= n / 4) {
			mid += (double)y[i];
			mn++;
		}
	}
	if (j->step_share > 0.6)
		j->kind = TREND_STEP;
	else if (j->fit.r2 >= 0.7 && j->fit.ups > j->fit.downs && (!mn || q / qn > mid / mn))
		j->kind = levelled_off(y, n, floor, &j->confidence) ? TREND_STEP : TREND_GROWING;
	else
		j->kind = TREND_NOISY;
}
