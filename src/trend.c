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
