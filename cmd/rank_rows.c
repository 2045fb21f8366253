/* mapsnap rank: from snapshots to rows (see rank.h). */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

/* What one process maps of one library (all its loads). */
struct lib_use {
	char *path;
	char *build_id;  /* hex, or NULL when the snapshot does not know it */
	int64_t kb[FMT_RANK_VALUES];
	unsigned loads;  /* offset-0 loads of this path */
	bool duplicated; /* snap_identity lists it among the duplicates */
};

struct entry {
	fmt_rank_row row; /* name and user malloc'd */
	char *boot_id;
	long long start_time;
	char *captured_at;
	struct lib_use *libs;
	size_t nlibs, libs_cap;
	bool kinds;
};

struct rank_entries {
	struct entry *items;
	size_t count, cap;
	bool libs;
	fmt_rank_row *rows; /* the last table */
};

int rank_entries_new(rank_entries **out, bool libs)
{
	rank_entries *e = calloc(1, sizeof(*e));
	if (!e)
		return SNAP_ENOMEM;
	e->libs = libs;
	*out = e;
	return SNAP_OK;
}

static void entry_free(struct entry *en)
{
	free((char *)en->row.name);
	free((char *)en->row.user);
	free(en->boot_id);
	free(en->captured_at);
	for (size_t i = 0; i < en->nlibs; i++) {
		free(en->libs[i].path);
		free(en->libs[i].build_id);
	}
	free(en->libs);
}

void rank_entries_free(rank_entries *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->count; i++)
		entry_free(&e->items[i]);
	free(e->items);
	free(e->rows);
	free(e);
}

size_t rank_entries_count(const rank_entries *e)
{
	return e->count;
}

static int grow_items(rank_entries *e);

int rank_entries_merge(rank_entries *to, rank_entries *from)
{
	for (size_t i = 0; i < from->count; i++) {
		if (grow_items(to) < 0)
			return SNAP_ENOMEM;
		to->items[to->count++] = from->items[i];
	}
	from->count = 0;
	return SNAP_OK;
}

/* ---- one process ---- */

static const char *status_value(const snap_snapshot *snap, const char *key)
{
	for (size_t i = 0; i < snap->process.nstatus; i++)
		if (strcmp(snap->process.status[i].key, key) == 0)
			return snap->process.status[i].value;
	return NULL;
}

/* The effective uid (as ps shows it), by name when this host knows it. */
static char *user_of(const snap_snapshot *snap, bool resolve)
{
	const char *uid = status_value(snap, "Uid");
	if (!uid)
		return strdup("?");
	char *end;
	strtol(uid, &end, 10);
	long euid = strtol(end, &end, 10);
	if (end == uid)
		return strdup("?");
	struct passwd pwd, *pw = NULL;
	char buf[4096];
	if (resolve && getpwuid_r((uid_t)euid, &pwd, buf, sizeof(buf), &pw) == 0 && pw)
		return strdup(pw->pw_name);
	snprintf(buf, sizeof(buf), "%ld", euid);
	return strdup(buf);
}

struct fields {
	int rss, pss, private_clean, private_dirty, swap, swap_pss;
};

static void find_fields(struct fields *fi, const snap_snapshot *snap)
{
	fi->rss = snap_field_find(snap, "Rss");
	fi->pss = snap_field_find(snap, "Pss");
	fi->private_clean = snap_field_find(snap, "Private_Clean");
	fi->private_dirty = snap_field_find(snap, "Private_Dirty");
	fi->swap = snap_field_find(snap, "Swap");
	fi->swap_pss = snap_field_find(snap, "SwapPss");
}

static int64_t value(const snap_region *r, int field)
{
	return field < 0 ? 0 : (int64_t)snap_region_value(r, field);
}

static void region_values(int64_t kb[FMT_RANK_VALUES], const struct fields *fi,
			  const snap_region *r)
{
	kb[FMT_RANK_RSS] = value(r, fi->rss);
	kb[FMT_RANK_PSS] = value(r, fi->pss);
	kb[FMT_RANK_USS] = value(r, fi->private_clean) + value(r, fi->private_dirty);
	kb[FMT_RANK_SWAP] = value(r, fi->swap);
	kb[FMT_RANK_SWAP_PSS] = value(r, fi->swap_pss);
}

static void add_values(int64_t *to, const int64_t *kb)
{
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		to[v] += kb[v];
}

static uint64_t rollup_value(const snap_snapshot *snap, const char *name)
{
	for (size_t i = 0; i < snap->nrollup; i++)
		if (strcmp(snap->rollup[i].name, name) == 0)
			return snap->rollup[i].value;
	return 0;
}

static void rollup_values(struct entry *en, const snap_snapshot *snap)
{
	int64_t *kb = en->row.kb;
	kb[FMT_RANK_RSS] = (int64_t)rollup_value(snap, "Rss");
	kb[FMT_RANK_PSS] = (int64_t)rollup_value(snap, "Pss");
	kb[FMT_RANK_USS] = (int64_t)(rollup_value(snap, "Private_Clean") +
				     rollup_value(snap, "Private_Dirty"));
	kb[FMT_RANK_SWAP] = (int64_t)rollup_value(snap, "Swap");
	kb[FMT_RANK_SWAP_PSS] = (int64_t)rollup_value(snap, "SwapPss");
}

/* The build-id of an image as hex, when the snapshot recorded one. */
static bool image_build(char *hex, size_t size, const snap_image *img)
{
	if (!img->file || !img->file->build_id.len)
		return false;
	snap_build_id_hex(hex, size, &img->file->build_id);
	return true;
}

static bool same_library(const struct lib_use *u, const char *path, const char *build)
{
	if (build || u->build_id)
		return build && u->build_id && strcmp(u->build_id, build) == 0;
	return strcmp(u->path, path) == 0;
}

/* The process's use of one library: one build (when known), else one path. */
static struct lib_use *lib_use_of(struct entry *en, const snap_image *img)
{
	char hex[2 * SNAP_BUILD_ID_MAX + 1], *path;
	const char *build = image_build(hex, sizeof(hex), img) ? hex : NULL;
	if (asprintf(&path, "%.*s%s", (int)img->path_len, img->path,
		     img->deleted ? " (deleted)" : "") < 0)
		return NULL;
	for (size_t i = 0; i < en->nlibs; i++)
		if (same_library(&en->libs[i], path, build)) {
			free(path);
			return &en->libs[i];
		}
	if (en->nlibs == en->libs_cap) {
		size_t cap = en->libs_cap ? en->libs_cap * 2 : 16;
		struct lib_use *grown = realloc(en->libs, cap * sizeof(*grown));
		if (!grown) {
			free(path);
			return NULL;
		}
		en->libs = grown;
		en->libs_cap = cap;
	}
	struct lib_use *u = &en->libs[en->nlibs];
	memset(u, 0, sizeof(*u));
	u->path = path;
	if (build && !(u->build_id = strdup(build)))
		return NULL;
	en->nlibs++;
	return u;
}

/* Every library image of the process by build (when the snapshot knows
 * its build-id) or path: its segments summed, its loads counted, and
 * whether snap_identity calls it duplicated. */
static int add_libraries(struct entry *en, const snap_identity *id,
			 const struct fields *fi)
{
	const snap_snapshot *snap = id->snap;
	struct lib_use **of_image = calloc(id->nimages + 1, sizeof(*of_image));
	if (!of_image)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < id->nimages; i++) {
		const snap_image *img = &id->images[i];
		if (img->kind != SNAP_KIND_LIB)
			continue;
		struct lib_use *u = lib_use_of(en, img);
		if (!u) {
			free(of_image);
			return SNAP_ENOMEM;
		}
		of_image[i] = u;
		u->loads += img->has_offset0;
		for (size_t r = img->first; r < img->first + img->count; r++) {
			int64_t kb[FMT_RANK_VALUES];
			region_values(kb, fi, &snap->regions[r]);
			add_values(u->kb, kb);
		}
	}
	for (size_t d = 0; d < id->ndups; d++)
		for (size_t k = 0; k < id->dups[d].nimages; k++)
			if (of_image[id->dups[d].images[k]])
				of_image[id->dups[d].images[k]]->duplicated = true;
	free(of_image);
	return SNAP_OK;
}

static int region_sums(struct entry *en, const snap_snapshot *snap, bool libs)
{
	struct fields fi;
	find_fields(&fi, snap);
	snap_identity *id = NULL;
	enum snap_kind *kinds = NULL;
	int rc = libs ? snap_identity_new(&id, snap, NULL) : SNAP_OK;
	if (rc == SNAP_OK && !libs) {
		kinds = malloc(snap->nregions * sizeof(*kinds));
		rc = kinds ? snap_classify(snap, kinds, NULL, NULL, NULL) : SNAP_ENOMEM;
	}
	if (rc < 0)
		goto out;
	const enum snap_kind *kind_of = id ? id->kinds : kinds;
	for (size_t i = 0; i < snap->nregions; i++) {
		int64_t kb[FMT_RANK_VALUES];
		region_values(kb, &fi, &snap->regions[i]);
		add_values(en->row.kb, kb);
		add_values(en->row.kind_kb[kind_of[i]], kb);
	}
	en->kinds = true;
	if (id)
		rc = add_libraries(en, id, &fi);
out:
	snap_identity_free(id);
	free(kinds);
	return rc;
}

static int grow_items(rank_entries *e)
{
	if (e->count < e->cap)
		return SNAP_OK;
	size_t cap = e->cap ? e->cap * 2 : 64;
	struct entry *grown = realloc(e->items, cap * sizeof(*grown));
	if (!grown)
		return SNAP_ENOMEM;
	e->items = grown;
	e->cap = cap;
	return SNAP_OK;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int rank_entries_add(rank_entries *e, const snap_snapshot *snap, bool resolve_user)
{
	if (!snap->nregions && !snap->nrollup)
		return 1;
	if (grow_items(e) < 0)
		return SNAP_ENOMEM;
	struct entry *en = &e->items[e->count];
	memset(en, 0, sizeof(*en));
	en->row.pid = snap->process.known ? snap->process.pid : -1;
	en->row.processes = 1;
	en->start_time = snap->process.known ? snap->process.start_time : -1;
	const char *comm = snap->process.comm ? snap->process.comm : "?";
	en->row.name = strdup(comm);
	en->row.user = snap->process.known ? user_of(snap, resolve_user) : strdup("?");
	en->boot_id = dup_or_null(snap->host.boot_id);
	en->captured_at = dup_or_null(snap->captured_at);
	int rc = !en->row.name || !en->row.user ? SNAP_ENOMEM : SNAP_OK;
	if (rc == SNAP_OK && snap->nregions)
		rc = region_sums(en, snap, e->libs);
	else if (rc == SNAP_OK)
		rollup_values(en, snap);
	if (rc < 0) {
		entry_free(en);
		return rc;
	}
	e->count++;
	return SNAP_OK;
}

/* ---- the table ---- */

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* One process seen in several snapshots (a series): same boot, pid and
 * start time; the latest capture first. */
static int by_process(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = cmp_str(a->boot_id, b->boot_id);
	if (c)
		return c;
	if (a->row.pid != b->row.pid)
		return a->row.pid < b->row.pid ? -1 : 1;
	if (a->start_time != b->start_time)
		return a->start_time < b->start_time ? -1 : 1;
	return -cmp_str(a->captured_at, b->captured_at);
}

static bool same_process(const struct entry *a, const struct entry *b)
{
	return a->row.pid >= 0 && a->row.pid == b->row.pid &&
	       a->start_time == b->start_time && cmp_str(a->boot_id, b->boot_id) == 0;
}

static void keep_latest(rank_entries *e)
{
	qsort(e->items, e->count, sizeof(*e->items), by_process);
	size_t kept = 0;
	for (size_t i = 0; i < e->count; i++) {
		if (kept && same_process(&e->items[kept - 1], &e->items[i])) {
			entry_free(&e->items[i]);
			continue;
		}
		e->items[kept++] = e->items[i];
	}
	e->count = kept;
}

static enum fmt_rank_value sort_value;

static int by_value(const void *pa, const void *pb)
{
	const fmt_rank_row *a = pa, *b = pb;
	int64_t x = a->kb[sort_value], y = b->kb[sort_value];
	if (x != y)
		return x > y ? -1 : 1;
	int c = cmp_str(a->name, b->name);
	return c ? c : (a->pid > b->pid) - (a->pid < b->pid);
}

static int by_name(const void *pa, const void *pb)
{
	const fmt_rank_row *a = pa, *b = pb;
	return cmp_str(a->name, b->name);
}

static void add_row(fmt_rank_row *to, const fmt_rank_row *row)
{
	to->processes += row->processes;
	to->twice += row->twice;
	add_values(to->kb, row->kb);
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		add_values(to->kind_kb[k], row->kind_kb[k]);
}

/* Rows with equal names (already sorted by name) become one. */
static size_t merge_equal_names(fmt_rank_row *rows, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && cmp_str(rows[kept - 1].name, rows[i].name) == 0) {
			add_row(&rows[kept - 1], &rows[i]);
			continue;
		}
		rows[kept++] = rows[i];
	}
	return kept;
}

/* Libraries are one build when their build-ids are known, else one path. */
static int by_library(const void *pa, const void *pb)
{
	const fmt_rank_row *a = pa, *b = pb;
	if (!a->build_id != !b->build_id)
		return a->build_id ? -1 : 1;
	return a->build_id ? strcmp(a->build_id, b->build_id) : cmp_str(a->name, b->name);
}

static size_t merge_equal_libraries(fmt_rank_row *rows, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && by_library(&rows[kept - 1], &rows[i]) == 0) {
			add_row(&rows[kept - 1], &rows[i]);
			continue;
		}
		rows[kept++] = rows[i];
	}
	return kept;
}

static size_t process_rows(rank_entries *e, enum fmt_rank_by by)
{
	for (size_t i = 0; i < e->count; i++) {
		fmt_rank_row *row = &e->rows[i];
		*row = e->items[i].row;
		if (by == FMT_RANK_BY_USER)
			row->name = row->user;
		if (by != FMT_RANK_BY_PROCESS) {
			row->pid = -1;
			row->user = NULL;
		}
	}
	if (by == FMT_RANK_BY_PROCESS)
		return e->count;
	qsort(e->rows, e->count, sizeof(*e->rows), by_name);
	return merge_equal_names(e->rows, e->count);
}

static size_t count_uses(const rank_entries *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->count; i++)
		n += e->items[i].nlibs;
	return n;
}

static size_t library_rows(rank_entries *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->count; i++)
		for (size_t l = 0; l < e->items[i].nlibs; l++) {
			const struct lib_use *u = &e->items[i].libs[l];
			fmt_rank_row *row = &e->rows[n++];
			memset(row, 0, sizeof(*row));
			row->pid = -1;
			row->name = u->path;
			row->build_id = u->build_id;
			row->processes = 1;
			row->twice = u->loads > 1 || u->duplicated;
			memcpy(row->kb, u->kb, sizeof(row->kb));
		}
	qsort(e->rows, n, sizeof(*e->rows), by_library);
	return merge_equal_libraries(e->rows, n);
}

int rank_entries_table(rank_entries *e, fmt_rank *rank)
{
	keep_latest(e);
	size_t need = rank->by == FMT_RANK_BY_LIBRARY ? count_uses(e) : e->count;
	free(e->rows);
	if (!(e->rows = calloc(need + 1, sizeof(*e->rows))))
		return SNAP_ENOMEM;
	size_t n = rank->by == FMT_RANK_BY_LIBRARY ? library_rows(e)
						   : process_rows(e, rank->by);
	sort_value = rank->sort;
	qsort(e->rows, n, sizeof(*e->rows), by_value);
	memset(&rank->total, 0, sizeof(rank->total));
	rank->total.pid = -1;
	rank->kinds = false;
	for (size_t i = 0; i < e->count; i++)
		rank->kinds |= e->items[i].kinds;
	if (rank->by == FMT_RANK_BY_LIBRARY) {
		for (size_t i = 0; i < n; i++)
			add_values(rank->total.kb, e->rows[i].kb);
		rank->total.processes = e->count;
	} else {
		for (size_t i = 0; i < n; i++)
			add_row(&rank->total, &e->rows[i]);
	}
	rank->rows = e->rows;
	rank->nrows = n;
	return SNAP_OK;
}
