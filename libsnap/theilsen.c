/* How one value grows through a series: a robust slope (Theil-Sen, the
 * median of the pairwise slopes), its later half, the steps it rose and
 * fell, and the verdict drawn from them (steady, plateau, ...). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_PAIRS 200000

static void swap_d(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* Rearranges v so that v[k] is the k-th smallest (Hoare's selection). */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap_d(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_d(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_d(&v[hi], &v[mid]);
		double pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_d(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

static double median(double *v, size_t n)
{
	size_t half = n / 2;
	double upper = select_kth(v, n, half);
	if (n % 2)
		return upper;
	/* select_kth left everything below v[half] in v[0 .. half) */
	double lower = v[0];
	for (size_t i = 1; i < half; i++)
		if (v[i] > lower)
			lower = v[i];
	return (lower + upper) / 2;
}

static bool all_equal(const double *y, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (y[i] != y[0])
			return false;
	return true;
}

/* A fixed generator: the same input always gives the same sample. */
static uint64_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

static size_t collect_slopes(double *out, const double *t, const double *y,
			     size_t n, size_t pairs)
{
	size_t k = 0;
	if (pairs <= MAX_PAIRS) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (t[j] != t[i])
					out[k++] = (y[j] - y[i]) / (t[j] - t[i]);
		return k;
	}
	uint64_t state = n;
	for (size_t tries = 0; k < MAX_PAIRS && tries < 4 * (size_t)MAX_PAIRS; tries++) {
		size_t i = (size_t)(next_random(&state) % n);
		size_t j = (size_t)(next_random(&state) % n);
		if (t[j] != t[i])
			out[k++] = (y[j] - y[i]) / (t[j] - t[i]);
	}
	return k;
}

int snap_theil_sen(double *slope, const double *t, const double *y, size_t n,
		   snap_error *err)
{
	*slope = 0;
	if (n < 2 || all_equal(y, n))
		return SNAP_OK;
	size_t pairs = n * (n - 1) / 2;
	size_t kept = pairs < MAX_PAIRS ? pairs : MAX_PAIRS;
	double *slopes = malloc(kept * sizeof(double));
	if (!slopes)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory for the %zu "
				      "slopes between %zu points", kept, n);
	size_t k = collect_slopes(slopes, t, y, n, pairs);
	if (k)
		*slope = median(slopes, k);
	free(slopes);
	return SNAP_OK;
}

/* ---- growth and verdicts ---- */

static void count_steps(snap_growth *g, const double *y, size_t m)
{
	size_t last_rise = 0;
	bool rose = false;
	for (size_t k = 1; k < m; k++) {
		if (y[k] > y[k - 1]) {
			g->grew++;
			last_rise = k;
			rose = true;
		} else if (y[k] < y[k - 1]) {
			g->shrank++;
		}
	}
	g->flat_tail = rose ? m - 1 - last_rise : m - 1;
}

int snap_growth_compute(snap_growth *g, const double *t, const int64_t *v,
			size_t n, snap_error *err)
{
	memset(g, 0, sizeof(*g));
	double *xs = malloc((n + 1) * sizeof(double));
	double *ys = malloc((n + 1) * sizeof(double));
	int rc = xs && ys ? SNAP_OK
		 : snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory for a series "
				  "of %zu points", n);
	size_t m = 0;
	for (size_t i = 0; rc == SNAP_OK && i < n; i++) {
		if (v[i] < 0)
			continue;
		if (!m || v[i] < g->min)
			g->min = v[i];
		if (!m || v[i] > g->max)
			g->max = v[i];
		if (!m)
			g->first = v[i];
		g->last = v[i];
		xs[m] = t[i];
		ys[m++] = (double)v[i];
	}
	g->points = m;
	if (rc == SNAP_OK && m > 1) {
		count_steps(g, ys, m);
		size_t late = m / 2;
		if ((rc = snap_theil_sen(&g->slope, xs, ys, m, err)) == SNAP_OK)
			rc = snap_theil_sen(&g->late_slope, xs + late, ys + late, m - late,
					    err);
		g->slope *= 60;
		g->late_slope *= 60;
	}
	free(xs);
	free(ys);
	return rc;
}

static const char *const verdict_names[SNAP_TREND_VERDICTS] = {
	[SNAP_TREND_FLAT] = "flat",
	[SNAP_TREND_STEADY] = "steady",
	[SNAP_TREND_PLATEAU] = "plateau",
	[SNAP_TREND_UNSTEADY] = "unsteady",
	[SNAP_TREND_SLOW] = "slow",
	[SNAP_TREND_SHRINKING] = "shrinking",
	[SNAP_TREND_SHORT] = "short",
	[SNAP_TREND_GONE] = "gone",
};

const char *snap_trend_verdict_name(enum snap_trend_verdict v)
{
	return (unsigned)v < SNAP_TREND_VERDICTS ? verdict_names[v] : "?";
}

enum snap_trend_verdict snap_growth_judge(const snap_growth *g, double min_slope,
					  const snap_trend_opts *opts)
{
	if (g->points == 0 || g->min == g->max)
		return SNAP_TREND_FLAT;
	if (g->points < opts->min_points || g->points < 2)
		return SNAP_TREND_SHORT;
	size_t steps = g->points - 1;
	double held = (double)(steps - g->shrank);
	/* The epsilon keeps 9 of 10 at 0.9 from failing on rounding. */
	if (held + 1e-9 < opts->steady_fraction * (double)steps)
		return g->slope < 0 ? SNAP_TREND_SHRINKING : SNAP_TREND_UNSTEADY;
	int64_t growth = ck_sat_sub(g->last, g->first);
	if (growth <= 0)
		return growth < 0 ? SNAP_TREND_SHRINKING : SNAP_TREND_UNSTEADY;
	/* Steady growth keeps its pace in the later half and rises at
	 * regular intervals; growth that stopped does neither. */
	double mean_gap = (double)steps / (double)g->grew;
	double tail_limit = 3 * mean_gap > 2 ? 3 * mean_gap : 2;
	if (g->late_slope <= 0 || g->late_slope < g->slope / 2 ||
	    (double)g->flat_tail > tail_limit)
		return SNAP_TREND_PLATEAU;
	if (g->slope <= 0 || g->slope < min_slope)
		return SNAP_TREND_SLOW;
	return SNAP_TREND_STEADY;
}
