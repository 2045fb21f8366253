/* The summary: where the memory of one snapshot is. Totals, kinds,
 * the largest regions, libraries by load instance, thread stacks and
 * malloc arenas, and the cross-check of the summed smaps against
 * smaps_rollup (../shared/notes/smaps-semantics.md §1.4, §3.6, §3.7).
 * Kinds and images come from identity.c: nothing is classified here. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int snap_summary_opts_init(snap_summary_opts *opts, unsigned int version)
{
	if (version != SNAP_SUMMARY_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	opts->metric = SNAP_M_RSS;
	opts->top = 10;
	return SNAP_OK;
}

/* ---- ranking ---- */

struct ranked {
	int64_t key;
	size_t index;
};

/* Largest first; equal keys keep their order. */
static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- adding up ---- */

static bool kept(const snap_summary *sum, size_t i)
{
	const snap_summary_opts *o = &sum->opts;
	return !o->filter || o->filter(o->filter_ctx, sum->snap, &sum->snap->regions[i],
				       sum->id->kinds[i]);
}

static void add_stack_or_arena(snap_summary *sum, const snap_region *r,
			       enum snap_kind kind, const snap_sums *s)
{
	if (kind == SNAP_KIND_THREAD_STACK) {
		sum->stacks.count++;
		sum->stacks.size_kb = ck_sat_add(sum->stacks.size_kb, s->kb[SNAP_M_SIZE]);
		sum->stacks.rss_kb = ck_sat_add(sum->stacks.rss_kb, s->kb[SNAP_M_RSS]);
	} else if (kind == SNAP_KIND_ARENA) {
		/* A heap is its rw-p part; the ---p tail is reserve only. */
		if (strcmp(r->perms, "---p") != 0) {
			sum->arenas.count++;
			sum->arenas.committed_kb = ck_sat_add(sum->arenas.committed_kb,
							      s->kb[SNAP_M_SIZE]);
		}
		sum->arenas.reserved_kb = ck_sat_add(sum->arenas.reserved_kb, s->kb[SNAP_M_SIZE]);
		sum->arenas.rss_kb = ck_sat_add(sum->arenas.rss_kb, s->kb[SNAP_M_RSS]);
	}
}

/* Sums every kept region; ranks them into *ranked (n of them). */
static void add_regions(snap_summary *sum, snap_sums *lib_sums,
			struct ranked *ranked, size_t *n)
{
	const snap_snapshot *snap = sum->snap;
	int fields[SNAP_M_COUNT];
	measure_fields(snap, fields);
	*n = 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		if (!kept(sum, i))
			continue;
		snap_sums s;
		enum snap_kind kind = sum->id->kinds[i];
		region_sums(&snap->regions[i], fields, &s);
		sums_add(&sum->total, &s);
		sums_add(&sum->by_kind[kind], &s);
		add_stack_or_arena(sum, &snap->regions[i], kind, &s);
		if (sum->id->image_of[i] >= 0)
			sums_add(&lib_sums[sum->id->image_of[i]], &s);
		ranked[(*n)++] = (struct ranked){ s.kb[sum->opts.metric], i };
	}
}

static int rank_top(snap_summary *sum, struct ranked *ranked, size_t n)
{
	qsort(ranked, n, sizeof(*ranked), cmp_ranked);
	sum->ntop = n < sum->opts.top ? n : sum->opts.top;
	sum->top = malloc((sum->ntop + 1) * sizeof(*sum->top));
	if (!sum->top)
		return SNAP_ENOMEM;
	for (size_t k = 0; k < sum->ntop; k++)
		sum->top[k] = (uint32_t)ranked[k].index;
	return SNAP_OK;
}

static bool is_program_image(const snap_image *img)
{
	return img->kind == SNAP_KIND_EXE || img->kind == SNAP_KIND_LIB;
}

/* Executable and library images that kept a segment, largest first. */
static int rank_libs(snap_summary *sum, const snap_sums *lib_sums)
{
	const snap_identity *id = sum->id;
	struct ranked *ranked = malloc((id->nimages + 1) * sizeof(*ranked));
	sum->libs = malloc((id->nimages + 1) * sizeof(*sum->libs));
	if (!ranked || !sum->libs) {
		free(ranked);
		return SNAP_ENOMEM;
	}
	size_t n = 0;
	for (size_t k = 0; k < id->nimages; k++)
		if (is_program_image(&id->images[k]) && lib_sums[k].regions > 0)
			ranked[n++] = (struct ranked){ lib_sums[k].kb[sum->opts.metric], k };
	qsort(ranked, n, sizeof(*ranked), cmp_ranked);
	for (size_t k = 0; k < n; k++)
		sum->libs[k] = (snap_summary_lib){ &id->images[ranked[k].index],
						   lib_sums[ranked[k].index] };
	sum->nlibs = n;
	free(ranked);
	return SNAP_OK;
}

/* ---- the rollup cross-check ---- */

static const snap_counter *rollup_counter(const snap_snapshot *snap,
					  const char *name)
{
	for (size_t k = 0; k < snap->nrollup; k++)
		if (strcmp(snap->rollup[k].name, name) == 0)
			return &snap->rollup[k];
	return NULL;
}

static void cross_check(snap_summary *sum)
{
	static const enum snap_measure checked[] = {
		SNAP_M_RSS, SNAP_M_PSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SWAP,
	};
	if (sum->filtered)
		return;
	for (size_t k = 0; k < sizeof(checked) / sizeof(*checked); k++) {
		enum snap_measure m = checked[k];
		const snap_counter *c = rollup_counter(sum->snap, snap_measure_name(m));
		if (!c)
			continue;
		snap_rollup_row *row = &sum->rollup[sum->nrollup++];
		row->measure = m;
		row->summed_kb = sum->total.kb[m];
		row->rollup_kb = (int64_t)c->value;
		row->tolerance_kb = m == SNAP_M_PSS ? sum->total.regions : 0;
		int64_t gap = ck_sat_sub(row->rollup_kb, row->summed_kb);
		row->agrees = gap >= -row->tolerance_kb && gap <= row->tolerance_kb;
		sum->torn |= !row->agrees;
	}
}

/* ---- the summary object ---- */

int snap_summary_new(snap_summary **out, const snap_snapshot *snap,
		     const snap_summary_opts *opts, snap_error *err)
{
	snap_summary *sum = calloc(1, sizeof(*sum));
	if (!sum)
		return snap_error_set(err, SNAP_ENOMEM, "summary", 0, "out of memory");
	sum->snap = snap;
	if (opts)
		sum->opts = *opts;
	else
		snap_summary_opts_init(&sum->opts, SNAP_SUMMARY_OPTS_VERSION);
	sum->filtered = sum->opts.filter != NULL;
	sum->stacks.threads = snap->process.known ? snap->process.threads : -1;
	snap_sums *lib_sums = NULL;
	struct ranked *ranked = NULL;
	int rc;
	if (opts && (rc = opts_version_check(opts->version, SNAP_SUMMARY_OPTS_VERSION,
					     "snap_summary_opts", err)) < 0)
		goto out;
	if ((unsigned)sum->opts.metric >= SNAP_M_COUNT) {
		rc = snap_error_set(err, SNAP_EINVAL, "summary", 0, "bad options");
		goto out;
	}
	if ((rc = snap_identity_new(&sum->id, snap, NULL)) < 0)
		goto out;
	rc = SNAP_ENOMEM;
	lib_sums = calloc(sum->id->nimages + 1, sizeof(*lib_sums));
	ranked = malloc((snap->nregions + 1) * sizeof(*ranked));
	if (!lib_sums || !ranked)
		goto out;
	size_t n;
	add_regions(sum, lib_sums, ranked, &n);
	if ((rc = rank_top(sum, ranked, n)) < 0 || (rc = rank_libs(sum, lib_sums)) < 0)
		goto out;
	cross_check(sum);
	*out = sum;
	sum = NULL;
out:
	free(lib_sums);
	free(ranked);
	snap_summary_free(sum);
	if (rc == SNAP_ENOMEM)
		snap_error_set(err, rc, "summary", 0, "out of memory");
	return rc;
}

void snap_summary_free(snap_summary *sum)
{
	if (!sum)
		return;
	snap_identity_free(sum->id);
	free(sum->top);
	free(sum->libs);
	free(sum);
}
