/* Unit tests for trend: steady growth, a plateau, noise, short series, steps. */
#include "tap.h"
#include "trend.h"

#include <math.h>

/* trend_judge on 16 points 200 ms apart, the floor 1 MiB (as series_trends uses it). */
static void judge(const int64_t *y, struct trend_judgement *j)
{
	uint64_t t[16];

	for (int i = 0; i < 16; i++)
		t[i] = 1000000000ull + (uint64_t)i * 200000000ull;
	trend_judge(t, y, 16, 1 << 20, j);
}

static void judge_tests(void)
{
	int64_t leak[16], step[16], flat[16], saw[16], down[16], two[16];
	int64_t warm[16], warmleak[16], slow[16], ramp[16];
	struct trend_judgement j;

	for (int i = 0; i < 16; i++) {
		leak[i] = (3 << 20) + (int64_t)i * (8 << 20) / 5;	/* 8 MiB/s */
		step[i] = i < 8 ? 1 << 20 : 65 << 20;		/* one 64 MiB jump */
		flat[i] = 32 << 20;
		saw[i] = i % 2 ? 40 << 20 : 20 << 20;
		down[i] = (100 << 20) - (int64_t)i * (2 << 20);
		two[i] = i < 5 ? 1 << 20 : i < 10 ? 9 << 20 : 17 << 20;	/* two equal jumps */
	}
	judge(leak, &j);
	is_str(trend_kind_name(j.kind), "growing", "steady mmap growth is growing");
	ok(j.per_hour > 0.99 * 8 * 3600.0 * (1 << 20) && j.per_hour < 1.01 * 8 * 3600.0 * (1 << 20),
	   "its rate per hour is 8 MiB/s times 3600");
	ok(j.confidence > 0.99, "a straight line of rises is sure");

	judge(step, &j);
	is_str(trend_kind_name(j.kind), "step", "one jump is a step");
	ok(j.fit.r2 > 0.7, "a step fits a line well enough to fool R² alone");
	ok(j.confidence < 0.01, "one jump gives no confidence of steady growth");

	step[8] = 33 << 20;	/* the jump straddles a sample: half before it, half after */
	judge(step, &j);
	is_str(trend_kind_name(j.kind), "step", "a jump split over two samples is a step");
	ok(j.confidence < 0.01, "with no confidence either");

	judge(two, &j);
	is_str(trend_kind_name(j.kind), "growing", "two equal jumps are growth, not a step");
	ok(j.confidence > 0.8, "and keep their confidence");

	judge(flat, &j);
	is_str(trend_kind_name(j.kind), "flat", "a level series is flat");
	ok(j.confidence == 0 && j.per_hour == 0, "with no rate and no confidence");

	judge(saw, &j);
	is_str(trend_kind_name(j.kind), "noisy", "up and down by 20 MiB is noisy");
	ok(j.confidence < 0.1, "and not a leak");

	judge(down, &j);
	is_str(trend_kind_name(j.kind), "shrinking", "a falling series is shrinking");

	/* warm-up: a fast climb that levels off, alone and under a steady leak */
	for (int i = 0; i < 16; i++) {
		double w = 20.0 * (1 << 20) * (1.0 - exp(-(double)i / 1.5));

		warm[i] = (int64_t)w;
		ramp[i] = (int64_t)(i < 7 ? i : 7) * (1 << 20);	/* rose 7 MiB, then held */
		warmleak[i] = (int64_t)w + (int64_t)i * (1 << 20);		/* + 5 MiB/s */
		slow[i] = (int64_t)i * (1 << 20) * 6 / 75 + (i % 2 ? 40 << 10 : 0); /* 1.2 MiB */
	}
	judge(ramp, &j);
	ok(j.fit.r2 >= 0.7 && j.step_share < 0.6, "a rise that stopped fits a rising line, no jump");
	is_str(trend_kind_name(j.kind), "step", "but it levelled off: a step, not a leak");
	ok(j.confidence < 0.1, "with little confidence of steady growth");
	judge(warm, &j);
	ok(j.kind != TREND_GROWING, "a warm-up that levels off is no leak");
	judge(warmleak, &j);
	is_str(trend_kind_name(j.kind), "growing", "a leak under a warm-up is still growing");
	judge(slow, &j);
	is_str(trend_kind_name(j.kind), "growing", "a slow, noisy leak just past the floor grows");
}

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

	judge_tests();
	return done_testing();
}
