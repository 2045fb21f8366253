/* mapsnap watch: tracks of memory objects across refreshes (watch.h). */
#include <stdlib.h>
#include <string.h>

#include "watch.h"

/* The measures a history keeps, one per sort (growth follows Rss). */
static const enum snap_measure sort_measure[WATCH_SORTS] = {
	SNAP_M_RSS, SNAP_M_PSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SWAP, SNAP_M_RSS,
};
#define HIST_MEASURES 4

static const char *const sort_names[WATCH_SORTS] = {
	"rss", "pss", "dirty", "swap", "growth",
};

const char *watch_sort_name(enum watch_sort s)
{
	return (unsigned)s < WATCH_SORTS ? sort_names[s] : "?";
}

int watch_sort_parse(const char *word)
{
	for (int s = 0; s < WATCH_SORTS; s++)
		if (strcmp(word, sort_names[s]) == 0)
			return s;
	return -1;
}

struct track {
	enum snap_kind kind;
	bool born;              /* after the baseline: its base is 0 */
	bool seen;              /* has regions in the latest capture */
	int32_t merged_into;    /* -1, or the track it joined this refresh */
	unsigned long birth;    /* refresh it appeared in */
	unsigned long gone_at;  /* refresh it vanished in (gone list) */
	snap_sums now, prev, base;
	/* HIST_MEASURES x WATCH_HISTORY values by refresh % WATCH_HISTORY,
	 * allocated the first time a value changes (until then it is flat). */
	int64_t *hist;
	uint64_t start, end;
	size_t nregions;
	uint64_t largest;       /* Size of its largest region: names perms */
	char perms[5];
	const char *path;       /* borrowed from the latest capture, or path_copy */
	size_t path_len;
	char *path_copy;        /* vanished tracks own their path */
};

struct watch_model {
	const cli_filter *filter;
	snap_snapshot *base, *prev, *cur;
	snap_identity *prev_id, *cur_id;
	struct track *tracks;       /* alive */
	size_t ntracks, tracks_cap;
	int32_t *track_of;          /* per region of cur */
	struct track *gone;         /* vanished lately, oldest first */
	size_t ngone, gone_cap;
	unsigned long refresh;
	snap_sums total_now, total_prev, total_base;
	snap_sums kind_now[SNAP_KIND_COUNT], kind_prev[SNAP_KIND_COUNT];
	snap_sums kind_base[SNAP_KIND_COUNT];
	/* The last frame's buffers. */
	uint32_t *order;
	fmt_watch_row *rows, *gone_rows;
	int64_t *row_hist;
};

int watch_model_new(watch_model **out, const cli_filter *filter)
{
	watch_model *m = calloc(1, sizeof(*m));
	if (!m)
		return SNAP_ENOMEM;
	m->filter = filter;
	*out = m;
	return SNAP_OK;
}

static void drop_track(struct track *t)
{
	free(t->hist);
	free(t->path_copy);
}

void watch_model_free(watch_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ntracks; i++)
		drop_track(&m->tracks[i]);
	for (size_t i = 0; i < m->ngone; i++)
		drop_track(&m->gone[i]);
	free(m->tracks);
	free(m->gone);
	free(m->track_of);
	snap_identity_free(m->prev_id);
	snap_identity_free(m->cur_id);
	if (m->base != m->cur && m->base != m->prev)
		snap_snapshot_free(m->base);
	if (m->prev != m->cur)
		snap_snapshot_free(m->prev);
	snap_snapshot_free(m->cur);
	free(m->order);
	free(m->rows);
	free(m->gone_rows);
	free(m->row_hist);
	free(m);
}

const snap_snapshot *watch_model_base(const watch_model *m)
{
	return m->base;
}

const snap_snapshot *watch_model_latest(const watch_model *m)
{
	return m->cur;
}

unsigned long watch_model_refreshes(const watch_model *m)
{
	return m->refresh;
}

/* ---- one region's values ---- */

/* The measure each field of the latest capture counts for (-1: none),
 * so a region's entries are read once. */
struct fields {
	int8_t *measure_of;
	size_t n;
};

static int find_fields(struct fields *fi, const snap_snapshot *snap)
{
	fi->n = snap->nfields;
	fi->measure_of = malloc(fi->n + 1);
	if (!fi->measure_of)
		return SNAP_ENOMEM;
	memset(fi->measure_of, -1, fi->n + 1);
	for (int k = 1; k < SNAP_M_COUNT; k++) {
		int f = snap_field_find(snap, snap_measure_name((enum snap_measure)k));
		if (f >= 0)
			fi->measure_of[f] = (int8_t)k;
	}
	return SNAP_OK;
}

static void add_values(snap_sums *s, const struct fields *fi, const snap_region *r)
{
	s->kb[SNAP_M_SIZE] += (int64_t)((r->end - r->start) >> 10);
	for (uint16_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		if (!e->is_text && e->field < fi->n && fi->measure_of[e->field] >= 0)
			s->kb[fi->measure_of[e->field]] += (int64_t)e->value;
	}
	s->regions++;
}

static void add_region(snap_sums *s, const snap_sums *one)
{
	for (int k = 0; k < SNAP_M_COUNT; k++)
		s->kb[k] += one->kb[k];
	s->regions += one->regions;
}

static bool keep(const watch_model *m, const snap_region *r, enum snap_kind kind)
{
	return !m->filter || !filter_active(m->filter) || filter_region(m->filter, r, kind);
}

/* ---- histories ---- */

static int64_t hist_value(const struct track *t, int k)
{
	return t->now.kb[sort_measure[k]];
}

/* The history of a track that never changed: its value since birth. */
static int ensure_hist(struct track *t, unsigned long refresh, const snap_sums *value)
{
	if (t->hist)
		return SNAP_OK;
	t->hist = malloc(HIST_MEASURES * WATCH_HISTORY * sizeof(*t->hist));
	if (!t->hist)
		return SNAP_ENOMEM;
	for (unsigned long r = refresh >= WATCH_HISTORY ? refresh - WATCH_HISTORY + 1 : 0;
	     r <= refresh; r++)
		for (int k = 0; k < HIST_MEASURES; k++)
			t->hist[k * WATCH_HISTORY + r % WATCH_HISTORY] =
				r >= t->birth ? value->kb[sort_measure[k]] : -1;
	return SNAP_OK;
}

static bool changed(const struct track *t)
{
	for (int k = 0; k < HIST_MEASURES; k++)
		if (t->now.kb[sort_measure[k]] != t->prev.kb[sort_measure[k]])
			return true;
	return false;
}

static int record_history(struct track *t, unsigned long refresh)
{
	if (!t->hist && (t->birth == refresh || !changed(t)))
		return SNAP_OK;
	if (ensure_hist(t, refresh - 1, &t->prev) < 0)
		return SNAP_ENOMEM;
	for (int k = 0; k < HIST_MEASURES; k++)
		t->hist[k * WATCH_HISTORY + refresh % WATCH_HISTORY] = hist_value(t, k);
	return SNAP_OK;
}

/* ---- matching ---- */

static int32_t new_track(watch_model *m, unsigned long birth, bool born)
{
	if (m->ntracks == m->tracks_cap) {
		size_t cap = m->tracks_cap ? m->tracks_cap * 2 : 256;
		struct track *grown = realloc(m->tracks, cap * sizeof(*grown));
		if (!grown || cap > INT32_MAX)
			return -1;
		m->tracks = grown;
		m->tracks_cap = cap;
	}
	struct track *t = &m->tracks[m->ntracks];
	memset(t, 0, sizeof(*t));
	t->birth = birth;
	t->born = born;
	t->merged_into = -1;
	return (int32_t)m->ntracks++;
}

static int32_t root_of(const watch_model *m, int32_t t)
{
	while (m->tracks[t].merged_into >= 0)
		t = m->tracks[t].merged_into;
	return t;
}

static void add_sums(snap_sums *to, const snap_sums *s)
{
	for (int k = 0; k < SNAP_M_COUNT; k++)
		to->kb[k] += s->kb[k];
	to->regions += s->regions;
}

/* Two tracks matched to one object (regions merged): the older keeps
 * the name, their values and histories add up. Called before the new
 * capture is summed: `now` still holds the last refresh. */
static int join(watch_model *m, int32_t a, int32_t b)
{
	a = root_of(m, a);
	b = root_of(m, b);
	if (a == b)
		return SNAP_OK;
	if (b < a) {
		int32_t x = a;
		a = b;
		b = x;
	}
	struct track *ta = &m->tracks[a], *tb = &m->tracks[b];
	unsigned long last = m->refresh - 1;
	if (ensure_hist(ta, last, &ta->now) < 0 || ensure_hist(tb, last, &tb->now) < 0)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < HIST_MEASURES * WATCH_HISTORY; i++)
		if (tb->hist[i] >= 0)
			ta->hist[i] = (ta->hist[i] > 0 ? ta->hist[i] : 0) + tb->hist[i];
	add_sums(&ta->now, &tb->now);
	add_sums(&ta->base, &tb->base);
	ta->born &= tb->born;
	ta->birth = ta->birth < tb->birth ? ta->birth : tb->birth;
	tb->merged_into = a;
	return SNAP_OK;
}

/* The track of every region of cur, from prev's by the diff's matching. */
static int link_tracks(watch_model *m, int32_t *cur_track)
{
	size_t no = m->prev->nregions, nn = m->cur->nregions;
	int32_t *groups = malloc((no + nn + 1) * sizeof(*groups));
	int32_t *label_track = malloc((no + nn + 1) * sizeof(*label_track));
	int rc = groups && label_track ? SNAP_OK : SNAP_ENOMEM;
	if (rc == SNAP_OK)
		rc = snap_diff_match(groups, groups + no, NULL, m->prev_id, m->cur_id,
				     SNAP_MATCH_AUTO, NULL);
	for (size_t x = 0; rc == SNAP_OK && x < no + nn; x++)
		label_track[x] = -1;
	for (size_t i = 0; rc == SNAP_OK && i < no; i++) {
		int32_t label = groups[i];
		if (label < 0)
			continue;
		if (label_track[label] < 0)
			label_track[label] = m->track_of[i];
		else
			rc = join(m, label_track[label], m->track_of[i]);
	}
	for (size_t j = 0; rc == SNAP_OK && j < nn; j++) {
		int32_t label = groups[no + j];
		int32_t t = label >= 0 && label_track[label] >= 0
			    ? root_of(m, label_track[label])
			    : new_track(m, m->refresh, true);
		if (t < 0)
			rc = SNAP_ENOMEM;
		cur_track[j] = t;
	}
	free(groups);
	free(label_track);
	return rc;
}

/* ---- the latest values ---- */

static void place_region(struct track *t, const snap_region *r, enum snap_kind kind)
{
	uint64_t size = r->end - r->start;
	if (!t->nregions || r->start < t->start)
		t->start = r->start;
	if (!t->nregions || r->end > t->end)
		t->end = r->end;
	if (!t->nregions || size > t->largest) {
		t->largest = size;
		t->kind = kind;
		memcpy(t->perms, r->perms, sizeof(t->perms));
		t->path = r->path;
		t->path_len = r->path_len;
	}
	t->nregions++;
}

static int sum_latest(watch_model *m)
{
	struct fields fi;
	if (find_fields(&fi, m->cur) < 0)
		return SNAP_ENOMEM;
	memset(&m->total_now, 0, sizeof(m->total_now));
	memset(m->kind_now, 0, sizeof(m->kind_now));
	for (size_t i = 0; i < m->ntracks; i++) {
		struct track *t = &m->tracks[i];
		t->prev = t->now;
		memset(&t->now, 0, sizeof(t->now));
		t->nregions = 0;
		t->seen = false;
	}
	for (size_t j = 0; j < m->cur->nregions; j++) {
		const snap_region *r = &m->cur->regions[j];
		enum snap_kind kind = m->cur_id->kinds[j];
		struct track *t = &m->tracks[m->track_of[j]];
		t->seen = true;
		if (!keep(m, r, kind))
			continue;
		snap_sums one = { 0 };
		add_values(&one, &fi, r);
		add_region(&t->now, &one);
		add_region(&m->total_now, &one);
		add_region(&m->kind_now[kind], &one);
		place_region(t, r, kind);
	}
	free(fi.measure_of);
	return SNAP_OK;
}

static int keep_gone(watch_model *m, struct track *t)
{
	if (m->ngone == m->gone_cap) {
		size_t cap = m->gone_cap ? m->gone_cap * 2 : 16;
		struct track *grown = realloc(m->gone, cap * sizeof(*grown));
		if (!grown)
			return SNAP_ENOMEM;
		m->gone = grown;
		m->gone_cap = cap;
	}
	t->gone_at = m->refresh;
	t->now = t->prev;
	t->nregions = (size_t)t->prev.regions; /* as last seen */
	if (t->path_len && !(t->path_copy = strndup(t->path, t->path_len)))
		return SNAP_ENOMEM;
	t->path = t->path_copy ? t->path_copy : "";
	m->gone[m->ngone++] = *t;
	return SNAP_OK;
}

static void forget_old_gone(watch_model *m)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->ngone; i++) {
		if (m->refresh - m->gone[i].gone_at >= WATCH_GONE_KEEP) {
			drop_track(&m->gone[i]);
			continue;
		}
		m->gone[kept++] = m->gone[i];
	}
	m->ngone = kept;
}

/* Alive tracks move to the front; merged ones are dropped, vanished ones
 * (shown before, no region now) go to the gone list. */
static int compact(watch_model *m)
{
	int32_t *moved = malloc((m->ntracks + 1) * sizeof(*moved));
	if (!moved)
		return SNAP_ENOMEM;
	size_t kept = 0;
	int rc = SNAP_OK;
	for (size_t i = 0; i < m->ntracks; i++) {
		struct track *t = &m->tracks[i];
		moved[i] = -1;
		if (t->seen) {
			moved[i] = (int32_t)kept;
			m->tracks[kept++] = *t;
			continue;
		}
		if (t->merged_into < 0 && t->prev.regions && rc == SNAP_OK) {
			rc = keep_gone(m, t);
			if (rc == SNAP_OK)
				t->hist = NULL, t->path_copy = NULL;
		}
		drop_track(t);
	}
	for (size_t j = 0; j < m->cur->nregions; j++)
		m->track_of[j] = moved[m->track_of[j]];
	m->ntracks = kept;
	free(moved);
	return rc;
}

static void set_baseline(watch_model *m)
{
	for (size_t i = 0; i < m->ntracks; i++) {
		m->tracks[i].base = m->tracks[i].now;
		m->tracks[i].born = false;
	}
	for (size_t i = 0; i < m->ngone; i++)
		drop_track(&m->gone[i]);
	m->ngone = 0;
	m->total_base = m->total_now;
	memcpy(m->kind_base, m->kind_now, sizeof(m->kind_base));
}

void watch_model_reset(watch_model *m)
{
	if (m->base != m->cur && m->base != m->prev)
		snap_snapshot_free(m->base);
	m->base = m->cur;
	set_baseline(m);
}

static int first_capture(watch_model *m)
{
	for (size_t j = 0; j < m->cur->nregions; j++) {
		int32_t t = new_track(m, 1, false);
		if (t < 0)
			return SNAP_ENOMEM;
		m->track_of[j] = t;
	}
	if (sum_latest(m) < 0)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < m->ntracks; i++)
		m->tracks[i].prev = m->tracks[i].now;
	m->base = m->cur;
	set_baseline(m);
	m->total_prev = m->total_now;
	memcpy(m->kind_prev, m->kind_now, sizeof(m->kind_prev));
	return SNAP_OK;
}

/* The previous capture is no longer needed (unless it is the baseline). */
static void retire_prev(watch_model *m)
{
	if (m->prev && m->prev != m->base)
		snap_snapshot_free(m->prev);
	snap_identity_free(m->prev_id);
	m->prev = m->cur;
	m->prev_id = m->cur_id;
	m->cur = NULL;
	m->cur_id = NULL;
}

int watch_model_update(watch_model *m, snap_snapshot *snap, snap_error *err)
{
	int rc;
	if (m->cur)
		retire_prev(m);
	m->cur = snap;
	m->refresh++;
	int32_t *track_of = malloc((snap->nregions + 1) * sizeof(*track_of));
	if (!track_of)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory");
	if ((rc = snap_identity_new(&m->cur_id, snap, err)) < 0) {
		free(track_of);
		return rc;
	}
	if (!m->prev) {
		free(m->track_of);
		m->track_of = track_of;
		rc = first_capture(m);
		return rc < 0 ? snap_error_set(err, rc, NULL, 0, "out of memory") : SNAP_OK;
	}
	if ((rc = link_tracks(m, track_of)) < 0) {
		free(track_of);
		return snap_error_set(err, rc, NULL, 0, rc == SNAP_ENOMEM ? "out of memory"
							: "regions out of address order");
	}
	free(m->track_of);
	m->track_of = track_of;
	m->total_prev = m->total_now;
	memcpy(m->kind_prev, m->kind_now, sizeof(m->kind_prev));
	if (sum_latest(m) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory");
	forget_old_gone(m);
	if ((rc = compact(m)) < 0)
		return snap_error_set(err, rc, NULL, 0, "out of memory");
	for (size_t i = 0; i < m->ntracks; i++)
		if (record_history(&m->tracks[i], m->refresh) < 0)
			return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory");
	return SNAP_OK;
}

/* ---- frames ---- */

static int64_t sort_key(const struct track *t, enum watch_sort sort)
{
	if (sort == WATCH_SORT_GROWTH)
		return t->now.kb[SNAP_M_RSS] - t->base.kb[SNAP_M_RSS];
	return t->now.kb[sort_measure[sort]];
}

/* Negative when track a comes before b. */
static int by_sort(const watch_model *m, enum watch_sort sort, uint32_t ia, uint32_t ib)
{
	const struct track *a = &m->tracks[ia], *b = &m->tracks[ib];
	int64_t x = sort_key(a, sort), y = sort_key(b, sort);
	if (x != y)
		return x > y ? -1 : 1;
	if (a->now.kb[SNAP_M_RSS] != b->now.kb[SNAP_M_RSS])
		return a->now.kb[SNAP_M_RSS] > b->now.kb[SNAP_M_RSS] ? -1 : 1;
	return (a->start > b->start) - (a->start < b->start);
}

static void copy_history(const watch_model *m, const struct track *t, int k,
			 int64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long r = m->refresh - n + 1 + i;
		out[i] = t->hist ? t->hist[k * WATCH_HISTORY + r % WATCH_HISTORY]
			 : r >= t->birth ? hist_value(t, k) : -1;
	}
}

static void fill_row(const watch_model *m, fmt_watch_row *row, const struct track *t,
		     enum watch_sort sort, int64_t *hist, size_t nhist)
{
	enum snap_measure measure = sort_measure[sort];
	int k = sort == WATCH_SORT_GROWTH ? 0 : (int)sort;
	memset(row, 0, sizeof(*row));
	row->kind = t->kind;
	row->born = t->born;
	row->now = t->now;
	row->growth_kb = t->now.kb[measure] - t->base.kb[measure];
	row->step_kb = t->now.kb[measure] - t->prev.kb[measure];
	row->start = t->start;
	row->end = t->end;
	row->nregions = t->nregions;
	memcpy(row->perms, t->perms, sizeof(row->perms));
	row->path = t->path ? t->path : "";
	row->path_len = t->path_len;
	if (hist) {
		copy_history(m, t, k, hist, nhist);
		row->history = hist;
		row->nhistory = nhist;
	}
}

static int frame_buffers(watch_model *m, size_t top, size_t nhist)
{
	free(m->order);
	free(m->rows);
	free(m->gone_rows);
	free(m->row_hist);
	m->order = malloc((top + 1) * sizeof(*m->order));
	m->rows = calloc(top + 1, sizeof(*m->rows));
	m->gone_rows = calloc(m->ngone + 1, sizeof(*m->gone_rows));
	m->row_hist = malloc((top + 1) * (nhist + 1) * sizeof(*m->row_hist));
	return m->order && m->rows && m->gone_rows && m->row_hist ? SNAP_OK : SNAP_ENOMEM;
}

int watch_model_frame(watch_model *m, fmt_watch_frame *fr, enum watch_sort sort,
		      size_t top)
{
	if (top > m->ntracks) /* --top 0 asks for all of them */
		top = m->ntracks;
	size_t nhist = m->refresh < WATCH_HISTORY ? m->refresh : WATCH_HISTORY;
	if (frame_buffers(m, top, nhist) < 0)
		return SNAP_ENOMEM;
	/* The first `top` by insertion: a refresh of 60,000 regions shows a
	 * few dozen, and sorting them all would cost more than matching. */
	size_t n = 0, shown = 0;
	for (size_t i = 0; i < m->ntracks; i++) {
		if (!m->tracks[i].nregions)
			continue;
		n++;
		if (shown == top && (!top || by_sort(m, sort, (uint32_t)i,
						     m->order[top - 1]) >= 0))
			continue;
		size_t j = shown < top ? shown++ : top - 1;
		for (; j > 0 && by_sort(m, sort, (uint32_t)i, m->order[j - 1]) < 0; j--)
			m->order[j] = m->order[j - 1];
		m->order[j] = (uint32_t)i;
	}
	for (size_t i = 0; i < shown; i++)
		fill_row(m, &m->rows[i], &m->tracks[m->order[i]], sort,
			 m->row_hist + i * nhist, nhist);
	for (size_t i = 0; i < m->ngone; i++) {
		const struct track *t = &m->gone[m->ngone - 1 - i];
		fill_row(m, &m->gone_rows[i], t, sort, NULL, 0);
		m->gone_rows[i].gone = true;
		m->gone_rows[i].gone_for = m->refresh - t->gone_at;
	}
	fr->snap = m->cur;
	fr->refresh = m->refresh;
	fr->sort = watch_sort_name(sort);
	fr->now = m->total_now;
	fr->base = m->total_base;
	fr->prev = m->total_prev;
	memcpy(fr->kind_now, m->kind_now, sizeof(fr->kind_now));
	memcpy(fr->kind_base, m->kind_base, sizeof(fr->kind_base));
	memcpy(fr->kind_prev, m->kind_prev, sizeof(fr->kind_prev));
	fr->rows = m->rows;
	fr->nrows = shown;
	fr->more = n - shown;
	fr->gone = m->gone_rows;
	fr->ngone = m->ngone;
	return SNAP_OK;
}
