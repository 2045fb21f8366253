/* Series and trends: follows regions through many snapshots of a process
 * (matched step by step as the diff matches two), measures each one with
 * theilsen.c and flags the ones that keep growing as leak suspects. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
	uint32_t *parent;    /* union-find over tracks: merged regions */
	struct birth *birth; /* per track */
	size_t ntracks, cap;
	int32_t *groups[2], *label_track;
	size_t groups_cap;
};

static int32_t new_track(struct builder *b, struct birth birth)
{
	if (b->ntracks == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint32_t *parent = realloc(b->parent, cap * sizeof(*parent));
		if (parent)
			b->parent = parent;
		struct birth *bi = realloc(b->birth, cap * sizeof(*bi));
		if (bi)
			b->birth = bi;
		if (!parent || !bi || cap > INT32_MAX)
			return NO_TRACK;
		b->cap = cap;
	}
	b->parent[b->ntracks] = (uint32_t)b->ntracks;
	b->birth[b->ntracks] = birth;
	return (int32_t)b->ntracks++;
}

/* Joins the tracks of two regions found to be one object. The older
 * track stays the root, so a history keeps its first name. */
static void join_tracks(struct builder *b, int32_t x, int32_t y)
{
	uf_join(b->parent, (uint32_t)x, (uint32_t)y);
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
				  new_id, b->t->opts.match, NULL)) < 0)
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
		if ((rc = snap_identity_new(&cur, t->snaps[s], NULL)) < 0)
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
			int32_t o = out_index[uf_find(b->parent, (uint32_t)f->track[i])];
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
		out_index[x] = uf_find(b->parent, (uint32_t)x) == x
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
						     r->values[m], t->nsnaps, NULL);
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
	int rc = snap_growth_compute(&out->growth, t->seconds, values, t->nsnaps, NULL);
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
		    snap_parse_utc(snaps[i]->captured_at, &st[i].at, NULL) < 0) {
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
