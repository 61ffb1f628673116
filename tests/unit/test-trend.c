/* Unit tests for trend: steady growth, a plateau, noise, short series. */
#include "tap.h"
#include "../../src/trend.h"

int main(void)
{
	int64_t lin[10], plateau[10], saw[10], down[10];
	struct trend t;

	for (int i = 0; i < 10; i++) {
		lin[i] = 1000 + 4096 * i;
		plateau[i] = i < 3 ? 1000 * i : 3000;
		saw[i] = i % 2 ? 5000 : 1000;
		down[i] = 50000 - 1000 * i;
	}
	trend_fit(lin, 10, &t);
	ok(t.growing, "linear growth is growing");
	ok(t.slope > 4095 && t.slope < 4097, "slope of linear growth is its step");
	ok(t.r2 > 0.999, "r2 of a line is 1");
	is_int((int)t.ups, 9, "every step grew");

	trend_fit(plateau, 10, &t);
	ok(!t.growing, "a cache that fills and holds is not growing");

	trend_fit(saw, 10, &t);
	ok(!t.growing, "alloc/free at a steady level is not growing");

	trend_fit(down, 10, &t);
	ok(!t.growing && t.slope < 0, "shrinking is not growing");

	trend_fit(lin, 2, &t);
	ok(!t.growing && t.slope == 0, "two points are too few");
	return done_testing();
}
