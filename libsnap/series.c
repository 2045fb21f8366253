/* Series and trends: follows regions through many snapshots of a process
 * (matched step by step as the diff matches two), measures how each one
 * grows with a robust slope (Theil-Sen), and flags the ones that keep
 * growing as leak suspects. Also the durations, rates and times the
 * series front ends parse, and the trend's CI gate. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ---- durations, rates, times ---- */

/* A non-negative decimal number at *s; advances *s past it. */
static int take_number(const char **s, double *out)
{
	const char *p = *s;
	if (!isdigit((unsigned char)*p) && *p != '.')
		return SNAP_EINVAL;
	errno = 0;
	char *end;
	*out = strtod(p, &end);
	if (errno || end == p || !isfinite(*out) || *out < 0)
		return SNAP_EINVAL;
	*s = end;
	return SNAP_OK;
}

/* Seconds in a time unit word, 0 when it is none. */
static double unit_seconds(const char *unit)
{
	static const struct {
		const char *word;
		double seconds;
	} units[] = {
		{ "ms", 0.001 }, { "s", 1 },     { "sec", 1 },     { "m", 60 },
		{ "min", 60 },   { "h", 3600 },  { "hour", 3600 }, { "d", 86400 },
		{ "day", 86400 },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (strcasecmp(unit, units[i].word) == 0)
			return units[i].seconds;
	return 0;
}

int snap_parse_duration(const char *text, int64_t *ms)
{
	const char *p = text;
	double value;
	if (take_number(&p, &value) < 0)
		return SNAP_EINVAL;
	double seconds = *p ? unit_seconds(p) : 1;
	double total = value * seconds * 1000.0;
	if (seconds == 0 || total < 0.5 || total > 1e15)
		return SNAP_EINVAL;
	*ms = (int64_t)(total + 0.5);
	return SNAP_OK;
}

int snap_parse_rate(const char *text, bool sizes, double *per_min)
{
	const char *slash = strchr(text, '/');
	if (!slash || slash == text || slash - text >= 64)
		return SNAP_EINVAL;
	char amount_text[64];
	memcpy(amount_text, text, (size_t)(slash - text));
	amount_text[slash - text] = '\0';
	double seconds = unit_seconds(slash + 1), amount;
	if (seconds == 0)
		return SNAP_EINVAL;
	if (sizes) {
		int64_t bytes;
		if (snap_parse_size(amount_text, true, &bytes) < 0)
			return SNAP_EINVAL;
		amount = (double)bytes / 1024.0;
	} else {
		const char *p = amount_text;
		double sign = *p == '-' ? -1 : 1;
		if (*p == '+' || *p == '-')
			p++;
		if (take_number(&p, &amount) < 0 || *p)
			return SNAP_EINVAL;
		amount *= sign;
	}
	*per_min = amount * 60.0 / seconds;
	return SNAP_OK;
}

/* n digits at *s as a number; advances *s. -1 when they are not digits. */
static int take_digits(const char **s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return v;
}

static bool take_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

int snap_parse_utc(const char *text, double *seconds)
{
	const char *p = text;
	struct tm tm = { 0 };
	int year = take_digits(&p, 4);
	bool ok = year >= 1970 && take_char(&p, '-') &&
		  (tm.tm_mon = take_digits(&p, 2) - 1) >= 0 && take_char(&p, '-') &&
		  (tm.tm_mday = take_digits(&p, 2)) >= 1 && take_char(&p, 'T') &&
		  (tm.tm_hour = take_digits(&p, 2)) >= 0 && take_char(&p, ':') &&
		  (tm.tm_min = take_digits(&p, 2)) >= 0 && take_char(&p, ':') &&
		  (tm.tm_sec = take_digits(&p, 2)) >= 0;
	if (!ok || tm.tm_mon > 11 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return SNAP_EINVAL;
	tm.tm_year = year - 1900;
	double fraction = 0, scale = 0.1;
	if (take_char(&p, '.')) {
		if (!isdigit((unsigned char)*p))
			return SNAP_EINVAL;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			fraction += (*p - '0') * scale;
	}
	if (!take_char(&p, 'Z') || *p)
		return SNAP_EINVAL;
	*seconds = (double)timegm(&tm) + fraction;
	return SNAP_OK;
}

/* ---- the Theil-Sen slope ---- */

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

int snap_theil_sen(double *slope, const double *t, const double *y, size_t n)
{
	*slope = 0;
	if (n < 2 || all_equal(y, n))
		return SNAP_OK;
	size_t pairs = n * (n - 1) / 2;
	double *slopes = malloc((pairs < MAX_PAIRS ? pairs : MAX_PAIRS) * sizeof(double));
	if (!slopes)
		return SNAP_ENOMEM;
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
			size_t n)
{
	memset(g, 0, sizeof(*g));
	double *xs = malloc((n + 1) * sizeof(double));
	double *ys = malloc((n + 1) * sizeof(double));
	int rc = xs && ys ? SNAP_OK : SNAP_ENOMEM;
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
		if ((rc = snap_theil_sen(&g->slope, xs, ys, m)) == SNAP_OK)
			rc = snap_theil_sen(&g->late_slope, xs + late, ys + late, m - late);
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

int snap_trend_opts_init(snap_trend_opts *opts, unsigned int version)
{
	if (version != SNAP_TREND_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	opts->measure = SNAP_M_RSS;
	opts->min_slope_kb = 16;
	opts->steady_fraction = 0.9;
	opts->min_points = 5;
	opts->match = SNAP_MATCH_AUTO;
	return SNAP_OK;
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

static const enum snap_measure trend_measures[SNAP_TREND_MEASURES] = {
	SNAP_M_RSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SIZE,
};

enum snap_measure snap_trend_measure(size_t index)
{
	return index < SNAP_TREND_MEASURES ? trend_measures[index] : SNAP_M_RSS;
}

int snap_trend_measure_index(enum snap_measure m)
{
	for (int i = 0; i < SNAP_TREND_MEASURES; i++)
		if (trend_measures[i] == m)
			return i;
	return -1;
}

/* ---- following regions through the series ---- */

#define NO_TRACK (-1)

/* What the forward pass keeps of each snapshot: per region its track
 * (before tracks merged), kind and measures. */
struct frame {
	int32_t *track;
	uint8_t *kind;
	int64_t *kb; /* SNAP_TREND_MEASURES per region */
};

/* A track born after the first snapshot remembers what it was at birth,
 * so that regions born alike (four new 64 MiB mmaps) can be followed as
 * one group. */
struct birth {
	bool born;
	uint8_t kind;
	uint64_t key; /* the region's identity key */
};

struct builder {
	snap_trend *t;
	struct frame *frames;
	int32_t *parent;     /* union-find over tracks: merged regions */
	struct birth *birth; /* per track */
	size_t ntracks, cap;
	int32_t *groups[2], *label_track;
	size_t groups_cap;
};

static int32_t find_root(int32_t *parent, int32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static int32_t new_track(struct builder *b, struct birth birth)
{
	if (b->ntracks == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		int32_t *parent = realloc(b->parent, cap * sizeof(*parent));
		if (parent)
			b->parent = parent;
		struct birth *bi = realloc(b->birth, cap * sizeof(*bi));
		if (bi)
			b->birth = bi;
		if (!parent || !bi || cap > INT32_MAX)
			return NO_TRACK;
		b->cap = cap;
	}
	b->parent[b->ntracks] = (int32_t)b->ntracks;
	b->birth[b->ntracks] = birth;
	return (int32_t)b->ntracks++;
}

/* Joins the tracks of two regions found to be one object. The older
 * track stays the root, so a history keeps its first name. */
static void join_tracks(struct builder *b, int32_t x, int32_t y)
{
	x = find_root(b->parent, x);
	y = find_root(b->parent, y);
	if (x < y)
		b->parent[y] = x;
	else if (y < x)
		b->parent[x] = y;
}

static int grow_step_buffers(struct builder *b, size_t no, size_t nn)
{
	size_t need = no + nn + 1;
	if (need <= b->groups_cap)
		return SNAP_OK;
	free(b->groups[0]);
	free(b->groups[1]);
	free(b->label_track);
	b->groups[0] = malloc(need * sizeof(int32_t));
	b->groups[1] = malloc(need * sizeof(int32_t));
	b->label_track = malloc(need * sizeof(int32_t));
	b->groups_cap = b->groups[0] && b->groups[1] && b->label_track ? need : 0;
	return b->groups_cap ? SNAP_OK : SNAP_ENOMEM;
}

/* Tracks of the new snapshot's regions from the old one's, by the
 * diff's matching. */
static int link_step(struct builder *b, size_t s, const snap_identity *old_id,
		     const snap_identity *new_id)
{
	size_t no = old_id->snap->nregions, nn = new_id->snap->nregions;
	bool by_address;
	int rc;
	if ((rc = grow_step_buffers(b, no, nn)) < 0 ||
	    (rc = snap_diff_match(b->groups[0], b->groups[1], &by_address, old_id,
				  new_id, b->t->opts.match)) < 0)
		return rc;
	b->t->address_steps += by_address;
	int32_t *label_track = b->label_track;
	for (size_t x = 0; x < no + nn; x++)
		label_track[x] = NO_TRACK;
	const int32_t *old_track = b->frames[s - 1].track;
	for (size_t i = 0; i < no; i++) {
		int32_t label = b->groups[0][i], tr = old_track[i];
		if (label < 0)
			continue;
		if (label_track[label] == NO_TRACK)
			label_track[label] = tr;
		else
			join_tracks(b, label_track[label], tr);
	}
	for (size_t j = 0; j < nn; j++) {
		int32_t label = b->groups[1][j];
		struct birth birth = { true, (uint8_t)new_id->kinds[j], new_id->keys[j] };
		int32_t tr = label >= 0 && label_track[label] != NO_TRACK
			     ? label_track[label] : new_track(b, birth);
		if (tr == NO_TRACK)
			return SNAP_ENOMEM;
		b->frames[s].track[j] = tr;
	}
	return SNAP_OK;
}

static int first_step(struct builder *b, const snap_identity *id)
{
	for (size_t j = 0; j < id->snap->nregions; j++) {
		int32_t tr = new_track(b, (struct birth){ false, 0, 0 });
		if (tr == NO_TRACK)
			return SNAP_ENOMEM;
		b->frames[0].track[j] = tr;
	}
	return SNAP_OK;
}

/* Values per snapshot of the whole-process and per-kind series. */
struct sums_pass {
	int64_t *total[SNAP_TREND_MEASURES];
	int64_t *kind[SNAP_KIND_COUNT][SNAP_TREND_MEASURES];
	int64_t *regions, *threads;
};

static int64_t *arena_series(snap_arena *a, size_t n)
{
	return arena_alloc(a, (n + 1) * sizeof(int64_t));
}

static int alloc_sums(snap_trend *t, struct sums_pass *p)
{
	size_t n = t->nsnaps;
	bool ok = (p->regions = arena_series(t->internal->arena, n)) &&
		  (p->threads = arena_series(t->internal->arena, n));
	for (int m = 0; ok && m < SNAP_TREND_MEASURES; m++) {
		ok = (p->total[m] = arena_series(t->internal->arena, n)) != NULL;
		for (int k = 0; ok && k < SNAP_KIND_COUNT; k++)
			ok = (p->kind[k][m] = arena_series(t->internal->arena, n)) != NULL;
	}
	return ok ? SNAP_OK : SNAP_ENOMEM;
}

/* Keeps what the later passes need of snapshot s while its identity is
 * at hand. */
static int record_frame(struct builder *b, struct sums_pass *p, size_t s,
			const snap_identity *id)
{
	const snap_snapshot *snap = id->snap;
	size_t n = snap->nregions;
	struct frame *f = &b->frames[s];
	f->track = malloc((n + 1) * sizeof(*f->track));
	f->kind = malloc(n + 1);
	f->kb = malloc((n + 1) * SNAP_TREND_MEASURES * sizeof(*f->kb));
	if (!f->track || !f->kind || !f->kb)
		return SNAP_ENOMEM;
	int fields[SNAP_M_COUNT];
	measure_fields(snap, fields);
	for (size_t i = 0; i < n; i++) {
		snap_sums sums;
		region_sums(&snap->regions[i], fields, &sums);
		f->kind[i] = (uint8_t)id->kinds[i];
		b->t->kind_seen[id->kinds[i]] = true;
		for (int m = 0; m < SNAP_TREND_MEASURES; m++) {
			int64_t kb = sums.kb[trend_measures[m]];
			f->kb[i * SNAP_TREND_MEASURES + m] = kb;
			p->total[m][s] = ck_sat_add(p->total[m][s], kb);
			p->kind[id->kinds[i]][m][s] = ck_sat_add(p->kind[id->kinds[i]][m][s], kb);
		}
	}
	p->regions[s] = (int64_t)n;
	p->threads[s] = (int64_t)id->thread_stacks;
	return SNAP_OK;
}

static int forward_pass(struct builder *b, struct sums_pass *p)
{
	snap_trend *t = b->t;
	snap_identity *prev = NULL, *cur = NULL;
	int rc = SNAP_OK;
	for (size_t s = 0; s < t->nsnaps && rc == SNAP_OK; s++) {
		if ((rc = snap_identity_new(&cur, t->snaps[s])) < 0)
			break;
		if ((rc = record_frame(b, p, s, cur)) == SNAP_OK)
			rc = s == 0 ? first_step(b, cur) : link_step(b, s, prev, cur);
		snap_identity_free(prev);
		prev = cur;
		cur = NULL;
	}
	snap_identity_free(prev);
	return rc;
}

/* ---- from tracks to the report ---- */

/* The largest region names a track: kept while filling its values. */
struct naming {
	size_t at;      /* the snapshot the span below belongs to */
	uint64_t best;  /* Size of the naming region */
};

static void name_track(snap_trend_region *r, struct naming *nm, size_t s,
		       const snap_region *reg, enum snap_kind kind)
{
	if (r->nregions == 0 || nm->at != s) {
		nm->at = s;
		nm->best = 0;
		r->nregions = 0;
		r->start = reg->start;
	}
	r->nregions++;
	r->end = reg->end;
	r->last = s;
	if (reg->end - reg->start < nm->best)
		return;
	nm->best = reg->end - reg->start;
	r->kind = kind;
	r->path = reg->path;
	r->path_len = reg->path_len;
	memcpy(r->perms, reg->perms, 5);
}

/* Tracks born after the first snapshot, grouped by kind and identity
 * key: group[o] is the born group of tracked region o, or -1. Groups of
 * two or more regions are followed as one (numbered from 0 in *ngroups):
 * regions appearing one after another is growth no single region shows. */
static int group_births(const struct builder *b, const int32_t *out_index,
			size_t count, int32_t *group, size_t *ngroups)
{
	u64map ids;
	uint32_t *members = calloc(count + 1, sizeof(*members));
	if (!members || u64map_init(&ids, 64) < 0) {
		free(members);
		return SNAP_ENOMEM;
	}
	int rc = SNAP_OK;
	for (size_t x = 0; x < b->ntracks && rc == SNAP_OK; x++) {
		int32_t o = out_index[x];
		if (o == NO_TRACK)
			continue;
		group[o] = -1;
		if (!b->birth[x].born)
			continue;
		uint64_t key[2] = { b->birth[x].key, b->birth[x].kind };
		bool added;
		uint32_t *id = u64map_put(&ids, snap_hash64(key, sizeof(key)),
					  (uint32_t)ids.count, &added);
		if (!id) {
			rc = SNAP_ENOMEM;
			break;
		}
		group[o] = (int32_t)*id;
		members[*id]++;
	}
	/* Dense numbers for the groups worth following. */
	uint32_t *dense = members;
	*ngroups = 0;
	for (size_t g = 0; rc == SNAP_OK && g < ids.count; g++)
		dense[g] = members[g] >= 2 ? (uint32_t)(*ngroups)++ : UINT32_MAX;
	for (size_t o = 0; rc == SNAP_OK && o < count; o++)
		if (group[o] >= 0)
			group[o] = dense[group[o]] == UINT32_MAX ? -1 : (int32_t)dense[group[o]];
	u64map_free(&ids);
	free(members);
	return rc;
}

/* A born group: its members' values added up, 0 before any was born. */
static void fill_group(snap_trend *t, snap_trend_region *g, const snap_trend_region *m)
{
	size_t n = t->nsnaps;
	if (g->members == 0) {
		g->kind = m->kind;
		g->path = m->path;
		g->path_len = m->path_len;
		memcpy(g->perms, m->perms, 5);
		g->first = 0;
	}
	g->members++;
	for (int k = 0; k < SNAP_TREND_MEASURES; k++) {
		int64_t *v = (int64_t *)g->values[k];
		for (size_t s = 0; s < n; s++)
			v[s] = ck_sat_add(v[s] < 0 ? 0 : v[s], m->values[k][s] < 0 ? 0 : m->values[k][s]);
	}
	if (m->last + 1 == n) {
		if (g->nregions == 0 || m->start < g->start)
			g->start = m->start;
		if (m->end > g->end)
			g->end = m->end;
		g->nregions += m->nregions;
	}
	if (m->last > g->last)
		g->last = m->last;
}

/* Where each group's members are in the last snapshot, so a view can
 * point at them. */
static int note_spans(snap_trend *t, const int32_t *group, size_t count)
{
	for (size_t g = count; g < t->nregions; g++) {
		snap_trend_region *r = &t->regions[g];
		r->spans = arena_alloc(t->internal->arena, (r->members + 1) * sizeof(*r->spans));
		if (!r->spans)
			return SNAP_ENOMEM;
	}
	for (size_t o = 0; o < count; o++) {
		const snap_trend_region *m = &t->regions[o];
		if (group[o] < 0 || m->last + 1 != t->nsnaps)
			continue;
		snap_trend_region *r = &t->regions[count + (size_t)group[o]];
		((snap_range *)r->spans)[r->nspans++] = (snap_range){ m->start, m->end };
	}
	return SNAP_OK;
}

static void prepare_region(snap_trend *t, snap_trend_region *r, int64_t *values)
{
	r->path = "";
	r->first = SIZE_MAX;
	for (int m = 0; m < SNAP_TREND_MEASURES; m++)
		r->values[m] = values + (size_t)m * t->nsnaps;
}

static void add_frames(struct builder *b, const int32_t *out_index, struct naming *nm)
{
	snap_trend *t = b->t;
	for (size_t s = 0; s < t->nsnaps; s++) {
		const struct frame *f = &b->frames[s];
		for (size_t i = 0; i < t->snaps[s]->nregions; i++) {
			int32_t o = out_index[find_root(b->parent, f->track[i])];
			snap_trend_region *r = &t->regions[o];
			if (r->first == SIZE_MAX)
				r->first = s;
			name_track(r, &nm[o], s, &t->snaps[s]->regions[i],
				   (enum snap_kind)f->kind[i]);
			for (int m = 0; m < SNAP_TREND_MEASURES; m++) {
				int64_t *v = (int64_t *)r->values[m] + s;
				*v = ck_sat_add(*v < 0 ? 0 : *v, f->kb[i * SNAP_TREND_MEASURES + m]);
			}
		}
	}
}

static int fill_regions(struct builder *b, int32_t *out_index)
{
	snap_trend *t = b->t;
	size_t n = t->nsnaps, count = 0, ngroups = 0;
	for (size_t x = 0; x < b->ntracks; x++)
		out_index[x] = find_root(b->parent, (int32_t)x) == (int32_t)x
			       ? (int32_t)count++ : NO_TRACK;
	int32_t *group = malloc((count + 1) * sizeof(*group));
	struct naming *nm = calloc(count + 1, sizeof(*nm));
	int rc = group && nm ? group_births(b, out_index, count, group, &ngroups)
			     : SNAP_ENOMEM;
	size_t total = count + ngroups;
	int64_t *values = NULL;
	if (rc == SNAP_OK) {
		t->regions = arena_alloc(t->internal->arena, (total + 1) * sizeof(*t->regions));
		values = arena_alloc(t->internal->arena, (total * SNAP_TREND_MEASURES * n + 1) *
					       sizeof(int64_t));
		rc = t->regions && values ? SNAP_OK : SNAP_ENOMEM;
	}
	if (rc == SNAP_OK) {
		t->nregions = total;
		for (size_t k = 0; k < total * SNAP_TREND_MEASURES * n; k++)
			values[k] = -1;
		for (size_t o = 0; o < total; o++)
			prepare_region(t, &t->regions[o], values + o * SNAP_TREND_MEASURES * n);
		add_frames(b, out_index, nm);
		for (size_t o = 0; o < count; o++)
			if (group[o] >= 0)
				fill_group(t, &t->regions[count + (size_t)group[o]], &t->regions[o]);
		for (size_t g = count; g < total; g++)
			t->regions[g].born = true;
		rc = note_spans(t, group, count);
	}
	free(group);
	free(nm);
	return rc;
}

static int judge_regions(snap_trend *t)
{
	int mi = snap_trend_measure_index(t->opts.measure);
	for (size_t k = 0; k < t->nregions; k++) {
		snap_trend_region *r = &t->regions[k];
		for (int m = 0; m < SNAP_TREND_MEASURES; m++) {
			int rc = snap_growth_compute(&r->growth[m], t->seconds,
						     r->values[m], t->nsnaps);
			if (rc < 0)
				return rc;
		}
		r->verdict = snap_growth_judge(&r->growth[mi], t->opts.min_slope_kb,
					       &t->opts);
		if (r->verdict != SNAP_TREND_FLAT && r->last + 1 != t->nsnaps)
			r->verdict = SNAP_TREND_GONE;
		t->suspects += r->verdict == SNAP_TREND_STEADY;
		t->flat += r->verdict == SNAP_TREND_FLAT;
	}
	return SNAP_OK;
}

static int series_of(snap_trend *t, snap_trend_series *out, const int64_t *values,
		     double min_slope)
{
	out->values = values;
	int rc = snap_growth_compute(&out->growth, t->seconds, values, t->nsnaps);
	out->verdict = snap_growth_judge(&out->growth, min_slope, &t->opts);
	return rc;
}

static int judge_series(snap_trend *t, const struct sums_pass *p)
{
	int rc = SNAP_OK;
	for (int m = 0; rc == SNAP_OK && m < SNAP_TREND_MEASURES; m++) {
		rc = series_of(t, &t->total[m], p->total[m], t->opts.min_slope_kb);
		for (int k = 0; rc == SNAP_OK && k < SNAP_KIND_COUNT; k++)
			if (t->kind_seen[k])
				rc = series_of(t, &t->kind[k][m], p->kind[k][m],
					       t->opts.min_slope_kb);
	}
	/* Counts: any steady rise is worth a word. */
	if (rc == SNAP_OK)
		rc = series_of(t, &t->region_count, p->regions, 0);
	if (rc == SNAP_OK)
		rc = series_of(t, &t->thread_stacks, p->threads, 0);
	return rc;
}

static int rank(enum snap_trend_verdict v)
{
	return v == SNAP_TREND_STEADY ? 0 : v == SNAP_TREND_FLAT ? 2 : 1;
}

/* Suspects steepest first; the others by how far they moved, so one page
 * touched once does not outrank megabytes going up and down. */
static int region_order(const void *pa, const void *pb, void *ctx)
{
	const snap_trend_region *a = pa, *b = pb;
	int mi = *(const int *)ctx;
	const snap_growth *ga = &a->growth[mi], *gb = &b->growth[mi];
	if (rank(a->verdict) != rank(b->verdict))
		return rank(a->verdict) - rank(b->verdict);
	int64_t ra = ck_sat_sub(ga->max, ga->min), rb = ck_sat_sub(gb->max, gb->min);
	if (a->verdict != SNAP_TREND_STEADY && ra != rb)
		return ra > rb ? -1 : 1;
	double sa = fabs(ga->slope), sb = fabs(gb->slope);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

static void builder_free(struct builder *b)
{
	if (b->frames)
		for (size_t s = 0; s < b->t->nsnaps; s++) {
			free(b->frames[s].track);
			free(b->frames[s].kind);
			free(b->frames[s].kb);
		}
	free(b->frames);
	free(b->parent);
	free(b->birth);
	free(b->groups[0]);
	free(b->groups[1]);
	free(b->label_track);
}

struct stamped {
	double at;
	size_t index;
	snap_snapshot *snap;
};

static int by_time(const void *pa, const void *pb)
{
	const struct stamped *a = pa, *b = pb;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* The snapshots in capture order, with seconds since the first. */
static int order_snapshots(snap_trend *t, snap_snapshot *const *snaps, size_t n,
			   snap_error *err)
{
	struct stamped *st = malloc(n * sizeof(*st));
	t->snaps = arena_alloc(t->internal->arena, n * sizeof(*t->snaps));
	double *seconds = arena_alloc(t->internal->arena, n * sizeof(*seconds));
	if (!st || !t->snaps || !seconds) {
		free(st);
		return snap_error_set(err, SNAP_ENOMEM, "trend", 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		st[i] = (struct stamped){ 0, i, snaps[i] };
		if (!snaps[i]->captured_at ||
		    snap_parse_utc(snaps[i]->captured_at, &st[i].at) < 0) {
			free(st);
			return snap_error_set(err, SNAP_EINVAL, "trend", 0,
					      "snapshot %zu has no capture time "
					      "(captured_at): a trend needs one", i + 1);
		}
	}
	qsort(st, n, sizeof(*st), by_time);
	for (size_t i = 0; i < n; i++) {
		t->snaps[i] = st[i].snap;
		seconds[i] = st[i].at - st[0].at;
	}
	t->seconds = seconds;
	t->nsnaps = n;
	free(st);
	return SNAP_OK;
}

static int build_trend(snap_trend *t, struct builder *b, snap_error *err)
{
	struct sums_pass p;
	int rc = alloc_sums(t, &p);
	b->frames = calloc(t->nsnaps, sizeof(*b->frames));
	int32_t *out_index = NULL;
	if (rc == SNAP_OK && !b->frames)
		rc = SNAP_ENOMEM;
	if (rc == SNAP_OK && (rc = forward_pass(b, &p)) == SNAP_OK) {
		out_index = malloc((b->ntracks + 1) * sizeof(*out_index));
		rc = out_index ? fill_regions(b, out_index) : SNAP_ENOMEM;
	}
	free(out_index);
	if (rc == SNAP_OK && (rc = judge_regions(t)) == SNAP_OK)
		rc = judge_series(t, &p);
	if (rc == SNAP_EFORMAT)
		return snap_error_set(err, rc, "trend", 0,
				      "a snapshot's regions overlap or are out of "
				      "address order");
	if (rc < 0)
		return snap_error_set(err, rc, "trend", 0, "out of memory");
	int mi = snap_trend_measure_index(t->opts.measure);
	qsort_r(t->regions, t->nregions, sizeof(*t->regions), region_order, &mi);
	return SNAP_OK;
}

/* A trend and what the library keeps of it, in one allocation. */
struct trend_block {
	snap_trend pub;
	struct snap_trend_internal in;
};

int snap_trend_new(snap_trend **out, snap_snapshot *const *snaps, size_t n,
		   const snap_trend_opts *opts, snap_error *err)
{
	struct trend_block *block = calloc(1, sizeof(*block));
	snap_trend *t = block ? &block->pub : NULL;
	if (t)
		t->internal = &block->in;
	if (!t || !(t->internal->arena = arena_new())) {
		free(block);
		return snap_error_set(err, SNAP_ENOMEM, "trend", 0, "out of memory");
	}
	if (opts)
		t->opts = *opts;
	else
		snap_trend_opts_init(&t->opts, SNAP_TREND_OPTS_VERSION);
	int rc;
	if (opts && opts->version != SNAP_TREND_OPTS_VERSION)
		rc = opts_version_check(opts->version, SNAP_TREND_OPTS_VERSION,
					"snap_trend_opts", err);
	else if (snap_trend_measure_index(t->opts.measure) < 0 || t->opts.min_points < 2 ||
	    !(t->opts.steady_fraction >= 0 && t->opts.steady_fraction <= 1))
		rc = snap_error_set(err, SNAP_EINVAL, "trend", 0, "bad options");
	else if (n < 2)
		rc = snap_error_set(err, SNAP_EINVAL, "trend", 0,
				    "a trend needs two or more snapshots (got %zu)", n);
	else
		rc = order_snapshots(t, snaps, n, err);
	if (rc == SNAP_OK) {
		struct builder b = { .t = t };
		rc = build_trend(t, &b, err);
		builder_free(&b);
	}
	if (rc < 0) {
		snap_trend_free(t);
		return rc;
	}
	*out = t;
	return SNAP_OK;
}

void snap_trend_free(snap_trend *trend)
{
	if (!trend)
		return;
	arena_free(trend->internal->arena);
	free(trend);
}

/* ---- the trend's gate ---- */

enum term { TERM_SUSPECTS, TERM_SLOPE, TERM_REGIONS_SLOPE, TERM_THREADS_SLOPE,
	    TERM_DIFF };
enum cmp { CMP_GT, CMP_GE, CMP_LT, CMP_LE };

struct trend_expr {
	char *text;
	enum term term;
	int kind;          /* SNAP_KIND_*, or -1 for the whole process */
	int measure;       /* TERM_SLOPE: index among the trend measures */
	enum cmp op;
	double limit;      /* a count, or an amount per minute (kB for sizes) */
	size_t diff_index; /* TERM_DIFF: its place in the diff gate */
};

struct snap_trend_gate {
	struct trend_expr *exprs;
	size_t n, cap;
	snap_gate *diff; /* everything that is not a trend term */
	snap_violation *violations;
	size_t nviolations;
};

int snap_trend_gate_new(snap_trend_gate **out)
{
	snap_trend_gate *g = calloc(1, sizeof(*g));
	if (!g || snap_gate_new(&g->diff) < 0) {
		free(g);
		return SNAP_ENOMEM;
	}
	*out = g;
	return SNAP_OK;
}

void snap_trend_gate_free(snap_trend_gate *gate)
{
	if (!gate)
		return;
	for (size_t i = 0; i < gate->n; i++)
		free(gate->exprs[i].text);
	free(gate->exprs);
	snap_gate_free(gate->diff);
	free(gate->violations);
	free(gate);
}

size_t snap_trend_gate_size(const snap_trend_gate *gate)
{
	return gate ? gate->n : 0;
}

static int bad_term(snap_error *err, const char *expr, const char *fmt,
		    const char *what)
{
	char msg[300];
	snprintf(msg, sizeof(msg), fmt, what);
	return snap_error_set(err, SNAP_EINVAL, expr, 0,
			      "bad --fail-if expression: %s (trend forms: "
			      "leak-suspects>0, [KIND.]rss.slope>+1M/min, "
			      "regions.slope>10/min)", msg);
}

/* Splits "lhs OP rhs" in place; returns rhs or NULL. */
static char *split_cmp(char *s, enum cmp *op)
{
	char *p = strpbrk(s, "<>=");
	if (!p || *p == '=')
		return NULL;
	bool greater = *p == '>', equal = p[1] == '=';
	*op = greater ? (equal ? CMP_GE : CMP_GT) : (equal ? CMP_LE : CMP_LT);
	*p = '\0';
	return p + 1 + equal;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

static int parse_slope(struct trend_expr *x, char *lhs, const char *rhs,
		       const char *expr, snap_error *err)
{
	lhs[strlen(lhs) - strlen(".slope")] = '\0';
	char *dot = strchr(lhs, '.'), *word = lhs;
	if (dot) {
		*dot = '\0';
		word = dot + 1;
		if (strcmp(lhs, "total") != 0 && (x->kind = snap_kind_parse(lhs)) < 0)
			return bad_term(err, expr, "unknown kind '%s'", lhs);
	}
	bool sizes = true;
	if (strcmp(word, "regions") == 0 || strcmp(word, "thread-stacks") == 0) {
		if (x->kind >= 0)
			return bad_term(err, expr, "'%s' takes no kind", word);
		x->term = word[0] == 'r' ? TERM_REGIONS_SLOPE : TERM_THREADS_SLOPE;
		sizes = false;
	} else {
		int m = snap_measure_parse(word);
		x->measure = m < 0 ? -1 : snap_trend_measure_index((enum snap_measure)m);
		if (x->measure < 0)
			return bad_term(err, expr, "no slope of '%s' (rss, dirty, size, "
					"regions, thread-stacks)", word);
		x->term = TERM_SLOPE;
	}
	if (snap_parse_rate(rhs, sizes, &x->limit) < 0)
		return bad_term(err, expr, sizes ? "bad rate '%s' (e.g. +1M/min, 64K/s)"
					       : "bad rate '%s' (e.g. 10/min, +1/s)", rhs);
	return SNAP_OK;
}

static int parse_suspects(struct trend_expr *x, const char *rhs, const char *expr,
			  snap_error *err)
{
	const char *p = rhs;
	if (*p == '+')
		p++;
	char *end;
	x->term = TERM_SUSPECTS;
	x->limit = strtod(p, &end);
	if (!isdigit((unsigned char)*p) || *end || !isfinite(x->limit))
		return bad_term(err, expr, "bad count '%s'", rhs);
	return SNAP_OK;
}

/* Lower case without spaces, as the diff gate reads expressions. */
static char *normalize(const char *expr)
{
	char *s = malloc(strlen(expr) + 1);
	size_t n = 0;
	for (const char *p = expr; s && *p; p++)
		if (!isspace((unsigned char)*p))
			s[n++] = (char)tolower((unsigned char)*p);
	if (s)
		s[n] = '\0';
	return s;
}

static int parse_term(struct trend_expr *x, snap_trend_gate *g, const char *expr,
		      snap_error *err)
{
	char *s = normalize(expr);
	if (!s)
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	char *rhs = split_cmp(s, &x->op);
	int rc;
	if (rhs && strcmp(s, "leak-suspects") == 0)
		rc = parse_suspects(x, rhs, expr, err);
	else if (rhs && ends_with(s, ".slope"))
		rc = parse_slope(x, s, rhs, expr, err);
	else if (rhs && strpbrk(rhs, "<>="))
		rc = bad_term(err, expr, "%s", "more than one comparison");
	else {
		x->term = TERM_DIFF;
		x->diff_index = snap_gate_size(g->diff);
		rc = snap_gate_add(g->diff, expr, err);
	}
	free(s);
	return rc;
}

int snap_trend_gate_add(snap_trend_gate *gate, const char *expr, snap_error *err)
{
	struct trend_expr x = { .kind = -1 };
	int rc = parse_term(&x, gate, expr, err);
	if (rc < 0)
		return rc;
	if (array_grow(&gate->exprs, &gate->cap, gate->n, sizeof(*gate->exprs), 4) < 0)
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	if (!(x.text = strdup(expr)))
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	gate->exprs[gate->n++] = x;
	return SNAP_OK;
}

static bool violates(enum cmp op, double actual, double limit)
{
	switch (op) {
	case CMP_GT: return actual > limit;
	case CMP_GE: return actual >= limit;
	case CMP_LT: return actual < limit;
	case CMP_LE: return actual <= limit;
	}
	return false;
}

/* "[heap]", "/usr/lib/libfoo.so", "anon at 7f12a000", "4 anon regions
 * born during the series". */
static void region_name(char *buf, size_t size, const snap_trend_region *r)
{
	if (r->born)
		snprintf(buf, size, "%zu %s regions born during the series%s%.*s",
			 r->members, snap_kind_name(r->kind), r->path_len ? " " : "",
			 (int)r->path_len, r->path);
	else if (r->path_len)
		snprintf(buf, size, "%.*s", (int)r->path_len, r->path);
	else
		snprintf(buf, size, "%s at %08llx", snap_kind_name(r->kind),
			 (unsigned long long)r->start);
}

static void describe_suspects(const struct trend_expr *x, const snap_trend *t,
			      snap_violation *v)
{
	size_t at = (size_t)snprintf(v->message, sizeof(v->message),
				     "%s: %zu leak suspect%s", x->text, t->suspects,
				     t->suspects == 1 ? "" : "s");
	int mi = snap_trend_measure_index(t->opts.measure);
	for (size_t k = 0; k < t->suspects && k < 3 && at < sizeof(v->message); k++) {
		char name[128], rate[32];
		region_name(name, sizeof(name), &t->regions[k]);
		snap_format_kb(rate, sizeof(rate), t->regions[k].growth[mi].slope, true);
		at += (size_t)snprintf(v->message + at, sizeof(v->message) - at,
				       "%s%s %s/min", k ? ", " : " (", name, rate);
	}
	if (t->suspects && at < sizeof(v->message))
		snprintf(v->message + at, sizeof(v->message) - at, "%s)",
			 t->suspects > 3 ? ", ..." : "");
}

static const snap_trend_series *slope_series(const struct trend_expr *x,
					     const snap_trend *t)
{
	if (x->term == TERM_REGIONS_SLOPE)
		return &t->region_count;
	if (x->term == TERM_THREADS_SLOPE)
		return &t->thread_stacks;
	return x->kind < 0 ? &t->total[x->measure] : &t->kind[x->kind][x->measure];
}

static void describe_slope(const struct trend_expr *x, const snap_trend_series *se,
			   snap_violation *v)
{
	char rate[32], first[32], last[32];
	const snap_growth *g = &se->growth;
	if (x->term == TERM_SLOPE) {
		snap_format_kb(rate, sizeof(rate), g->slope, true);
		snap_format_kb(first, sizeof(first), (double)g->first, false);
		snap_format_kb(last, sizeof(last), (double)g->last, false);
		snprintf(v->message, sizeof(v->message), "%s: %s%s%s slope %s/min (%s -> %s)",
			 x->text, x->kind >= 0 ? snap_kind_name((enum snap_kind)x->kind) : "",
			 x->kind >= 0 ? " " : "",
			 snap_measure_name(snap_trend_measure((size_t)x->measure)), rate,
			 first, last);
		return;
	}
	snprintf(v->message, sizeof(v->message), "%s: %s slope %+.1f/min (%lld -> %lld)",
		 x->text, x->term == TERM_REGIONS_SLOPE ? "regions" : "thread stacks",
		 g->slope, (long long)g->first, (long long)g->last);
}

/* The diff terms, checked on the first and last snapshots. */
static int check_diff_terms(snap_trend_gate *g, const snap_trend *t, snap_error *err)
{
	if (!snap_gate_size(g->diff))
		return SNAP_OK;
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.match = t->opts.match;
	snap_diff *d;
	int rc = snap_diff_new(&d, t->snaps[0], t->snaps[t->nsnaps - 1], &opts, err);
	if (rc < 0)
		return rc;
	rc = snap_gate_check(g->diff, d);
	snap_diff_free(d);
	return rc < 0 ? snap_error_set(err, rc, "gate", 0, "out of memory") : SNAP_OK;
}

static const snap_violation *diff_violation(const snap_trend_gate *g, size_t index)
{
	size_t n;
	const snap_violation *v = snap_gate_violations(g->diff, &n);
	const char *text = snap_gate_expr(g->diff, index);
	for (size_t k = 0; k < n; k++)
		if (v[k].expr == text)
			return &v[k];
	return NULL;
}

int snap_trend_gate_check(snap_trend_gate *gate, const snap_trend *trend,
			  snap_error *err)
{
	gate->nviolations = 0;
	if (!gate->n)
		return 0;
	free(gate->violations);
	gate->violations = calloc(gate->n, sizeof(*gate->violations));
	if (!gate->violations)
		return snap_error_set(err, SNAP_ENOMEM, "gate", 0, "out of memory");
	int rc = check_diff_terms(gate, trend, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < gate->n; i++) {
		const struct trend_expr *x = &gate->exprs[i];
		snap_violation *v = &gate->violations[gate->nviolations];
		if (x->term == TERM_DIFF) {
			const snap_violation *dv = diff_violation(gate, x->diff_index);
			if (dv) {
				*v = *dv;
				v->expr = x->text;
				gate->nviolations++;
			}
			continue;
		}
		const snap_trend_series *se = x->term == TERM_SUSPECTS ? NULL
					      : slope_series(x, trend);
		double actual = se ? se->growth.slope : (double)trend->suspects;
		if (!violates(x->op, actual, x->limit))
			continue;
		v->expr = x->text;
		v->actual = actual;
		v->limit = x->limit;
		if (se)
			describe_slope(x, se, v);
		else
			describe_suspects(x, trend, v);
		gate->nviolations++;
	}
	return (int)gate->nviolations;
}

const snap_violation *snap_trend_gate_violations(const snap_trend_gate *gate,
						 size_t *count)
{
	*count = gate ? gate->nviolations : 0;
	return gate ? gate->violations : NULL;
}
