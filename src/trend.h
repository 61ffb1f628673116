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

#endif
