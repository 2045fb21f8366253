/* The diff: matches the regions of two snapshots and reports what changed
 * in memory terms. One process seen twice is matched by address overlap
 * (regions split, merge, grow and shrink but never move); two processes
 * by the identity keys of identity.c, which survive ASLR. See
 * ../shared/notes/smaps-semantics.md §1.6, §3.6-3.7 and §4. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NONE UINT32_MAX

/* ---- measures ---- */

static const char *const measure_names[SNAP_M_COUNT] = {
	[SNAP_M_SIZE] = "Size",
	[SNAP_M_RSS] = "Rss",
	[SNAP_M_PSS] = "Pss",
	[SNAP_M_SHARED_CLEAN] = "Shared_Clean",
	[SNAP_M_SHARED_DIRTY] = "Shared_Dirty",
	[SNAP_M_PRIVATE_CLEAN] = "Private_Clean",
	[SNAP_M_PRIVATE_DIRTY] = "Private_Dirty",
	[SNAP_M_ANONYMOUS] = "Anonymous",
	[SNAP_M_SWAP] = "Swap",
	[SNAP_M_SWAP_PSS] = "SwapPss",
};

const char *snap_measure_name(enum snap_measure m)
{
	return (unsigned)m < SNAP_M_COUNT ? measure_names[m] : "?";
}

int snap_measure_parse(const char *word)
{
	static const struct {
		const char *word;
		enum snap_measure m;
	} words[] = {
		{ "size", SNAP_M_SIZE },   { "rss", SNAP_M_RSS },
		{ "pss", SNAP_M_PSS },     { "dirty", SNAP_M_PRIVATE_DIRTY },
		{ "swap", SNAP_M_SWAP },   { "anon", SNAP_M_ANONYMOUS },
		{ "swappss", SNAP_M_SWAP_PSS },
		{ "clean", SNAP_M_PRIVATE_CLEAN },
		{ "shared-clean", SNAP_M_SHARED_CLEAN },
		{ "shared-dirty", SNAP_M_SHARED_DIRTY },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strcmp(word, words[i].word) == 0)
			return (int)words[i].m;
	for (int m = 0; m < SNAP_M_COUNT; m++)
		if (strcasecmp(word, measure_names[m]) == 0)
			return m;
	return -1;
}

void measure_fields(const snap_snapshot *snap, int fields[SNAP_M_COUNT])
{
	fields[SNAP_M_SIZE] = -1; /* end - start: exact, and always there */
	for (int m = 1; m < SNAP_M_COUNT; m++)
		fields[m] = snap_field_find(snap, measure_names[m]);
}

void region_sums(const snap_region *r, const int fields[SNAP_M_COUNT],
		 snap_sums *out)
{
	memset(out, 0, sizeof(*out));
	out->regions = 1;
	out->kb[SNAP_M_SIZE] = (int64_t)((r->end - r->start) >> 10);
	for (size_t e = 0; e < r->nentries; e++)
		for (int m = 1; m < SNAP_M_COUNT; m++)
			if ((int)r->entries[e].field == fields[m] && !r->entries[e].is_text)
				out->kb[m] = (int64_t)r->entries[e].value;
}

void sums_add(snap_sums *to, const snap_sums *add)
{
	for (int m = 0; m < SNAP_M_COUNT; m++)
		to->kb[m] = ck_sat_add(to->kb[m], add->kb[m]);
	to->regions = ck_sat_add(to->regions, add->regions);
}

static void sums_sub(snap_sums *out, const snap_sums *a, const snap_sums *b)
{
	for (int m = 0; m < SNAP_M_COUNT; m++)
		out->kb[m] = ck_sat_sub(a->kb[m], b->kb[m]);
	out->regions = ck_sat_sub(a->regions, b->regions);
}

static const char *const change_names[SNAP_CHANGE_TYPES] = {
	[SNAP_CHANGE_GROWN] = "grown",
	[SNAP_CHANGE_SHRUNK] = "shrunk",
	[SNAP_CHANGE_NEW] = "new",
	[SNAP_CHANGE_VANISHED] = "vanished",
	[SNAP_CHANGE_DUPLICATED] = "duplicated",
	[SNAP_CHANGE_PERMS] = "perms",
	[SNAP_CHANGE_REPLACED] = "replaced",
	[SNAP_CHANGE_MOVED] = "moved",
};

const char *snap_change_name(enum snap_change_type type)
{
	return (unsigned)type < SNAP_CHANGE_TYPES ? change_names[type] : "?";
}

int snap_diff_opts_init(snap_diff_opts *opts, unsigned int version)
{
	if (version != SNAP_DIFF_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	opts->min_change_kb = 4;
	opts->metric = SNAP_M_RSS;
	opts->match = SNAP_MATCH_AUTO;
	return SNAP_OK;
}

static bool equal_or_unknown(const char *a, const char *b)
{
	return !a || !b || strcmp(a, b) == 0;
}

bool snap_same_process(const snap_snapshot *a, const snap_snapshot *b)
{
	const snap_process *pa = &a->process, *pb = &b->process;
	return pa->known && pb->known && pa->pid > 0 && pa->pid == pb->pid &&
	       pa->start_time >= 0 && pa->start_time == pb->start_time &&
	       equal_or_unknown(a->host.boot_id, b->host.boot_id);
}

/* Inode numbers only mean something on one host. */
static bool same_host(const snap_snapshot *a, const snap_snapshot *b)
{
	if (a->host.hostname && b->host.hostname)
		return strcmp(a->host.hostname, b->host.hostname) == 0;
	return equal_or_unknown(a->host.boot_id, b->host.boot_id);
}

/* ---- growable arrays ---- */

struct vec {
	char *data;
	size_t n, cap, elem;
};

static void *vec_push(struct vec *v)
{
	if (array_grow(&v->data, &v->cap, v->n, v->elem, 64) < 0)
		return NULL;
	void *slot = v->data + v->n++ * v->elem;
	memset(slot, 0, v->elem);
	return slot;
}

#define VEC_AT(v, type, i) (&((type *)(v).data)[i])

/* ---- the builder: changes under construction ---- */

enum { OLD = 0, NEW = 1 };

struct span {
	size_t off, n;
};

/* A change being built. Its regions, ranges and permission changes are
 * contiguous slices of the builder's pools, so only the last opened
 * change can take members. */
struct pending {
	struct span side[2], mapped, unmapped, perms;
	int image[2];         /* the whole image an unmatched change covers */
	bool dead;            /* merged into another change */
};

struct builder {
	snap_diff *d;
	const snap_snapshot *snap[2];
	snap_identity *id[2];
	snap_sums *sums[2];      /* per region */
	int32_t *partner[2];     /* per region: matched (>= 0) or -1 */
	uint32_t *image_hits[2]; /* per image: how many segments matched */
	struct vec members[2];   /* uint32_t region indexes */
	struct vec mapped, unmapped; /* snap_range */
	struct vec perms;        /* snap_perms_change */
	struct vec entries;      /* struct pending */
};

static const snap_region *region(const struct builder *b, int s, size_t i)
{
	return &b->snap[s]->regions[i];
}

static struct pending *entry(struct builder *b, size_t e)
{
	return VEC_AT(b->entries, struct pending, e);
}

/* Opens a change; returns its index or NONE on ENOMEM. */
static uint32_t open_entry(struct builder *b)
{
	struct pending *p = vec_push(&b->entries);
	if (!p)
		return NONE;
	p->side[OLD].off = b->members[OLD].n;
	p->side[NEW].off = b->members[NEW].n;
	p->mapped.off = b->mapped.n;
	p->unmapped.off = b->unmapped.n;
	p->perms.off = b->perms.n;
	p->image[OLD] = p->image[NEW] = -1;
	return (uint32_t)(b->entries.n - 1);
}

static int add_member(struct builder *b, uint32_t e, int s, uint32_t idx)
{
	uint32_t *slot = vec_push(&b->members[s]);
	if (!slot)
		return SNAP_ENOMEM;
	*slot = idx;
	entry(b, e)->side[s].n++;
	return SNAP_OK;
}

static uint32_t member(const struct builder *b, int s, size_t k)
{
	return ((const uint32_t *)b->members[s].data)[k];
}

static int add_range(struct vec *v, struct span *span, uint64_t start,
		     uint64_t end)
{
	snap_range *last = span->n ? VEC_AT(*v, snap_range, v->n - 1) : NULL;
	if (last && last->end == start) {
		last->end = end;
		return SNAP_OK;
	}
	snap_range *r = vec_push(v);
	if (!r)
		return SNAP_ENOMEM;
	r->start = start;
	r->end = end;
	span->n++;
	return SNAP_OK;
}

static bool is_anon_family(const snap_region *r)
{
	return r->inode == 0 &&
	       (r->path_len == 0 ||
		(r->path_len > 6 && memcmp(r->path, "[anon:", 6) == 0));
}

/* ---- unmatched regions: new and vanished ---- */

/* Whether unmatched region i (side s) belongs in the open change e:
 * segments of one wholly unmatched image, or an arena's committed part
 * with its reserve. A change is one kind of memory: a new thread's guard
 * page is a change of its own. */
static bool joins(struct builder *b, int s, uint32_t e, uint32_t i, int img)
{
	const struct pending *p = entry(b, e);
	if (p->image[s] >= 0 || img >= 0)
		return p->image[s] == img;
	uint32_t last = member(b, s, p->side[s].off + p->side[s].n - 1);
	const snap_region *prev = region(b, s, last), *r = region(b, s, i);
	const enum snap_kind *kinds = b->id[s]->kinds;
	return prev->end == r->start && kinds[last] == SNAP_KIND_ARENA &&
	       kinds[i] == SNAP_KIND_ARENA && b->id[s]->evidence[i] == SNAP_EV_ARENA_RESERVE;
}

static int emit_unmatched(struct builder *b, int s)
{
	const snap_identity *id = b->id[s];
	uint32_t open = NONE;
	for (uint32_t i = 0; i < b->snap[s]->nregions; i++) {
		if (b->partner[s][i] >= 0) {
			open = NONE;
			continue;
		}
		int img = id->image_of[i];
		if (img >= 0 && b->image_hits[s][img] > 0)
			img = -1; /* partly matched: report segment by segment */
		if (open == NONE || !joins(b, s, open, i, img)) {
			if ((open = open_entry(b)) == NONE)
				return SNAP_ENOMEM;
			entry(b, open)->image[s] = img;
		}
		if (add_member(b, open, s, i) < 0)
			return SNAP_ENOMEM;
	}
	return SNAP_OK;
}

static void count_image_hits(struct builder *b)
{
	for (int s = OLD; s <= NEW; s++)
		for (size_t i = 0; i < b->snap[s]->nregions; i++)
			if (b->partner[s][i] >= 0 && b->id[s]->image_of[i] >= 0)
				b->image_hits[s][b->id[s]->image_of[i]]++;
}

static bool file_deleted(const snap_region *r)
{
	bool deleted;
	snap_path_undeleted(r, &deleted);
	return deleted;
}

/* The build-id of the image holding region i of side s, or NULL. */
static const snap_build_id *region_build(const struct builder *b, int s, uint32_t i)
{
	int img = b->id[s]->image_of[i];
	const snap_file *f = img >= 0 ? b->id[s]->images[img].file : NULL;
	return f && f->build_id.len ? &f->build_id : NULL;
}

static bool same_build(const snap_build_id *x, const snap_build_id *y)
{
	return x->len == y->len && memcmp(x->bytes, y->bytes, x->len) == 0;
}

/* Both builds known, and not the same. */
static bool builds_differ(const struct builder *b, uint32_t i, uint32_t j)
{
	const snap_build_id *x = region_build(b, OLD, i), *y = region_build(b, NEW, j);
	return x && y && !same_build(x, y);
}

/* Same path (or library), but the file behind it changed. */
static bool replaced_pair(const struct builder *b, uint32_t i, uint32_t j)
{
	if (b->id[OLD]->image_of[i] < 0 || b->id[NEW]->image_of[j] < 0)
		return false;
	const snap_region *a = region(b, OLD, i), *c = region(b, NEW, j);
	if ((file_deleted(c) && !file_deleted(a)) || builds_differ(b, i, j))
		return true;
	/* Paths mapped between installs name other files by design. */
	bool mapped = b->d && b->d->opts.npath_maps > 0;
	return !mapped && (a->inode != c->inode || a->dev_major != c->dev_major ||
			   a->dev_minor != c->dev_minor) &&
	       same_host(b->snap[OLD], b->snap[NEW]);
}

/* The same build, mapped from another path (another install prefix, a
 * container's copy). */
static bool moved_pair(const struct builder *b, uint32_t i, uint32_t j)
{
	const snap_build_id *x = region_build(b, OLD, i), *y = region_build(b, NEW, j);
	if (!x || !y || !same_build(x, y))
		return false;
	const snap_region *a = region(b, OLD, i), *c = region(b, NEW, j);
	size_t na = snap_path_undeleted(a, NULL), nc = snap_path_undeleted(c, NULL);
	return na != nc || memcmp(a->path, c->path, na) != 0;
}

/* ---- matching one process by address ---- */

/* Overlapping regions i (old) and j (new) are one memory object seen
 * twice when they are of one kind and the same file, both unnamed or
 * [anon:], or the same [name]. Anything else at a reused address (a
 * thread stack, a library or a file mapped where anonymous memory was
 * unmapped) is a new object, so no change mixes kinds. */
static bool compatible(const struct builder *b, uint32_t i, uint32_t j)
{
	if (b->id[OLD]->kinds[i] != b->id[NEW]->kinds[j])
		return false;
	const snap_region *x = region(b, OLD, i), *y = region(b, NEW, j);
	if (x->inode || y->inode)
		return x->inode == y->inode && x->dev_major == y->dev_major &&
		       x->dev_minor == y->dev_minor;
	if (is_anon_family(x) && is_anon_family(y))
		return true;
	size_t nx = snap_path_undeleted(x, NULL), ny = snap_path_undeleted(y, NULL);
	return nx == ny && memcmp(x->path, y->path, nx) == 0;
}

struct edge {
	uint32_t i, j;
};

/* Sweeps both address-ordered lists once: joins overlapping compatible
 * regions, and records the overlaps whose permissions differ. */
static int sweep_overlaps(struct builder *b, uint32_t *parent, struct vec *pedges)
{
	size_t no = b->snap[OLD]->nregions, nn = b->snap[NEW]->nregions;
	size_t i = 0, j = 0;
	while (i < no && j < nn) {
		const snap_region *a = region(b, OLD, i), *c = region(b, NEW, j);
		if (a->end <= c->start) {
			i++;
			continue;
		}
		if (c->end <= a->start) {
			j++;
			continue;
		}
		if (compatible(b, (uint32_t)i, (uint32_t)j)) {
			uf_join(parent, (uint32_t)i, (uint32_t)(no + j));
			if (strcmp(a->perms, c->perms) != 0) {
				struct edge *e = vec_push(pedges);
				if (!e)
					return SNAP_ENOMEM;
				e->i = (uint32_t)i;
				e->j = (uint32_t)j;
			}
		}
		if (a->end <= c->end)
			i++;
		else
			j++;
	}
	return SNAP_OK;
}

/* Appends a - b (address ranges of a not covered by b) to v. */
static int subtract(struct builder *b, struct vec *v, struct span *span, int sa,
		    struct span a, int sb, struct span bs)
{
	size_t k = 0;
	for (size_t x = 0; x < a.n; x++) {
		const snap_region *r = region(b, sa, member(b, sa, a.off + x));
		uint64_t s = r->start, e = r->end;
		while (k < bs.n && region(b, sb, member(b, sb, bs.off + k))->end <= s)
			k++;
		for (size_t m = k; s < e; m++) {
			const snap_region *o = m < bs.n ?
				region(b, sb, member(b, sb, bs.off + m)) : NULL;
			if (!o || o->start >= e) {
				if (add_range(v, span, s, e) < 0)
					return SNAP_ENOMEM;
				break;
			}
			if (o->start > s && add_range(v, span, s, o->start) < 0)
				return SNAP_ENOMEM;
			if (o->end > s)
				s = o->end;
		}
	}
	return SNAP_OK;
}

static int add_perms_change(struct builder *b, uint32_t e, const struct edge *edge)
{
	const snap_region *a = region(b, OLD, edge->i), *c = region(b, NEW, edge->j);
	uint64_t start = a->start > c->start ? a->start : c->start;
	uint64_t end = a->end < c->end ? a->end : c->end;
	struct pending *p = entry(b, e);
	if (p->perms.n) {
		snap_perms_change *last = VEC_AT(b->perms, snap_perms_change,
						 b->perms.n - 1);
		if (last->end == start && strcmp(last->old_perms, a->perms) == 0 &&
		    strcmp(last->new_perms, c->perms) == 0) {
			last->end = end;
			return SNAP_OK;
		}
	}
	snap_perms_change *pc = vec_push(&b->perms);
	if (!pc)
		return SNAP_ENOMEM;
	pc->start = start;
	pc->end = end;
	memcpy(pc->old_perms, a->perms, 5);
	memcpy(pc->new_perms, c->perms, 5);
	entry(b, e)->perms.n++;
	return SNAP_OK;
}

/* Components of the overlap graph, as contiguous member lists. */
struct components {
	uint32_t *of_node;   /* dense component id per node */
	uint32_t count;
	size_t *first[2];    /* per component: offset into members[] */
	uint32_t *members[2];
	size_t *edge_first;  /* per component: offset into edges[] */
	struct edge *edges;
};

static void components_free(struct components *c)
{
	free(c->of_node);
	for (int s = OLD; s <= NEW; s++) {
		free(c->first[s]);
		free(c->members[s]);
	}
	free(c->edge_first);
	free(c->edges);
}

/* Counting sort of items by component: first[] gets count + 1 offsets. */
static void bucket_offsets(size_t *first, uint32_t ncomp)
{
	size_t sum = 0;
	for (uint32_t c = 0; c <= ncomp; c++) {
		size_t n = first[c];
		first[c] = sum;
		sum += n;
	}
}

static int group_components(struct builder *b, uint32_t *parent,
			    const struct vec *pedges, struct components *c)
{
	size_t n[2] = { b->snap[OLD]->nregions, b->snap[NEW]->nregions };
	size_t total = n[OLD] + n[NEW];
	c->of_node = malloc((total + 1) * sizeof(*c->of_node));
	if (!c->of_node)
		return SNAP_ENOMEM;
	for (size_t x = 0; x < total; x++)
		c->of_node[x] = NONE;
	/* Dense ids in the order of each component's first node; of_node
	 * maps roots to them until parent[] (each node's root) is mapped. */
	for (size_t x = 0; x < total; x++) {
		uint32_t root = uf_find(parent, (uint32_t)x);
		if (c->of_node[root] == NONE)
			c->of_node[root] = c->count++;
	}
	for (size_t x = 0; x < total; x++)
		parent[x] = uf_find(parent, (uint32_t)x);
	for (size_t x = 0; x < total; x++)
		parent[x] = c->of_node[parent[x]];
	memcpy(c->of_node, parent, total * sizeof(*parent));
	for (int s = OLD; s <= NEW; s++) {
		c->first[s] = calloc(c->count + 1, sizeof(size_t));
		c->members[s] = malloc((n[s] + 1) * sizeof(uint32_t));
		if (!c->first[s] || !c->members[s])
			return SNAP_ENOMEM;
		size_t base = s == OLD ? 0 : n[OLD];
		for (size_t x = 0; x < n[s]; x++)
			c->first[s][c->of_node[base + x]]++;
		bucket_offsets(c->first[s], c->count);
		size_t *fill = malloc((c->count + 1) * sizeof(*fill));
		if (!fill)
			return SNAP_ENOMEM;
		memcpy(fill, c->first[s], (c->count + 1) * sizeof(*fill));
		for (size_t x = 0; x < n[s]; x++)
			c->members[s][fill[c->of_node[base + x]]++] = (uint32_t)x;
		free(fill);
	}
	c->edge_first = calloc(c->count + 1, sizeof(size_t));
	c->edges = malloc((pedges->n + 1) * sizeof(struct edge));
	if (!c->edge_first || !c->edges)
		return SNAP_ENOMEM;
	const struct edge *pe = (const struct edge *)pedges->data;
	for (size_t k = 0; k < pedges->n; k++)
		c->edge_first[c->of_node[pe[k].i]]++;
	bucket_offsets(c->edge_first, c->count);
	size_t *fill = malloc((c->count + 1) * sizeof(*fill));
	if (!fill)
		return SNAP_ENOMEM;
	memcpy(fill, c->edge_first, (c->count + 1) * sizeof(*fill));
	for (size_t k = 0; k < pedges->n; k++)
		c->edges[fill[c->of_node[pe[k].i]]++] = pe[k];
	free(fill);
	return SNAP_OK;
}

static size_t comp_size(const struct components *c, int s, uint32_t k)
{
	return c->first[s][k + 1] - c->first[s][k];
}

static int emit_component(struct builder *b, const struct components *c,
			  uint32_t k)
{
	uint32_t e = open_entry(b);
	if (e == NONE)
		return SNAP_ENOMEM;
	for (int s = OLD; s <= NEW; s++)
		for (size_t x = c->first[s][k]; x < c->first[s][k + 1]; x++) {
			b->partner[s][c->members[s][x]] = (int32_t)k;
			if (add_member(b, e, s, c->members[s][x]) < 0)
				return SNAP_ENOMEM;
		}
	struct pending p = *entry(b, e);
	if (subtract(b, &b->mapped, &entry(b, e)->mapped, NEW, p.side[NEW], OLD,
		     p.side[OLD]) < 0 ||
	    subtract(b, &b->unmapped, &entry(b, e)->unmapped, OLD, p.side[OLD],
		     NEW, p.side[NEW]) < 0)
		return SNAP_ENOMEM;
	for (size_t x = c->edge_first[k]; x < c->edge_first[k + 1]; x++)
		if (add_perms_change(b, e, &c->edges[x]) < 0)
			return SNAP_ENOMEM;
	return SNAP_OK;
}

/* An image's path and kind: a replaced file is the same kind of memory. */
static uint64_t image_path_key(const snap_image *img)
{
	uint64_t v[2] = { snap_hash64(img->path, img->path_len), img->kind };
	return snap_hash64(v, sizeof(v));
}

/* A file replaced on disk in a running process: its old image vanished
 * and an image of the same path (another inode) appeared. */
static int pair_replaced_images(struct builder *b)
{
	u64map vanished;
	if (u64map_init(&vanished, 16) < 0)
		return SNAP_ENOMEM;
	int rc = SNAP_OK;
	for (size_t e = 0; e < b->entries.n && rc == SNAP_OK; e++) {
		const struct pending *p = entry(b, e);
		if (p->image[OLD] < 0 || p->side[NEW].n)
			continue;
		const snap_image *img = &b->id[OLD]->images[p->image[OLD]];
		bool added;
		if (!u64map_put(&vanished, image_path_key(img), (uint32_t)e, &added))
			rc = SNAP_ENOMEM;
	}
	for (size_t e = 0; e < b->entries.n && rc == SNAP_OK; e++) {
		struct pending *p = entry(b, e);
		if (p->image[NEW] < 0 || p->side[OLD].n)
			continue;
		const snap_image *img = &b->id[NEW]->images[p->image[NEW]];
		const uint32_t *v = u64map_get(&vanished, image_path_key(img));
		if (!v || entry(b, *v)->dead)
			continue;
		struct pending *old = entry(b, *v);
		p->side[OLD] = old->side[OLD];
		p->image[OLD] = old->image[OLD];
		old->dead = true;
	}
	u64map_free(&vanished);
	return rc;
}

/* Appends change `from` to change `to` when their slices follow each
 * other in every pool. */
static bool merge_into(struct builder *b, size_t to, size_t from)
{
	struct pending *t = entry(b, to), *f = entry(b, from);
	struct span *ts[] = { &t->side[OLD], &t->side[NEW], &t->mapped,
			      &t->unmapped, &t->perms };
	struct span *fs[] = { &f->side[OLD], &f->side[NEW], &f->mapped,
			      &f->unmapped, &f->perms };
	for (size_t k = 0; k < 5; k++)
		if (fs[k]->n && ts[k]->off + ts[k]->n != fs[k]->off)
			return false;
	for (size_t k = 0; k < 5; k++) {
		if (!ts[k]->n)
			ts[k]->off = fs[k]->off;
		ts[k]->n += fs[k]->n;
	}
	f->dead = true;
	return true;
}

static bool replaced_segment(struct builder *b, const struct pending *p)
{
	return p->side[OLD].n == 1 && p->side[NEW].n == 1 &&
	       replaced_pair(b, member(b, OLD, p->side[OLD].off),
			     member(b, NEW, p->side[NEW].off));
}

/* The segments of a file deleted on disk are one change, not five. */
static void merge_replaced_segments(struct builder *b)
{
	size_t open = SIZE_MAX;
	for (size_t e = 0; e < b->entries.n; e++) {
		const struct pending *p = entry(b, e);
		if (!replaced_segment(b, p)) {
			open = SIZE_MAX;
			continue;
		}
		if (open != SIZE_MAX) {
			const struct pending *o = entry(b, open);
			uint32_t lo = member(b, OLD, o->side[OLD].off + o->side[OLD].n - 1);
			uint32_t i = member(b, OLD, p->side[OLD].off);
			if (b->id[OLD]->image_of[lo] == b->id[OLD]->image_of[i] &&
			    merge_into(b, open, e))
				continue;
		}
		open = e;
	}
}

/* The overlap graph of the two snapshots cut into components (c, freed
 * by the caller with components_free, also on failure). */
static int overlap_components(struct builder *b, struct components *c)
{
	size_t total = b->snap[OLD]->nregions + b->snap[NEW]->nregions;
	uint32_t *parent = malloc((total + 1) * sizeof(*parent));
	struct vec pedges = { .elem = sizeof(struct edge) };
	int rc = SNAP_ENOMEM;
	if (parent) {
		uf_init(parent, total);
		if ((rc = sweep_overlaps(b, parent, &pedges)) == SNAP_OK)
			rc = group_components(b, parent, &pedges, c);
	}
	free(parent);
	free(pedges.data);
	return rc;
}

static int match_by_address(struct builder *b)
{
	struct components c = { 0 };
	int rc = overlap_components(b, &c);
	if (rc < 0)
		goto out;
	for (uint32_t k = 0; k < c.count; k++)
		if (comp_size(&c, OLD, k) && comp_size(&c, NEW, k) &&
		    (rc = emit_component(b, &c, k)) < 0)
			goto out;
	merge_replaced_segments(b);
	count_image_hits(b);
	if ((rc = emit_unmatched(b, NEW)) < 0 || (rc = emit_unmatched(b, OLD)) < 0)
		goto out;
	rc = pair_replaced_images(b);
out:
	components_free(&c);
	return rc;
}

/* ---- matching two processes by identity ---- */

static void pair_up(struct builder *b, uint32_t i, uint32_t j)
{
	b->partner[OLD][i] = (int32_t)j;
	b->partner[NEW][j] = (int32_t)i;
}

/* Equal keys pair in address order: the k-th old segment of a key with
 * the k-th new one. Regions paired already stay out. */
static int pair_exact_by(struct builder *b, bool by_path)
{
	size_t no = b->snap[OLD]->nregions;
	const snap_identity *io = b->id[OLD], *in = b->id[NEW];
	const uint64_t *ko = by_path ? io->path_keys : io->keys;
	const uint64_t *kn = by_path ? in->path_keys : in->keys;
	u64map heads;
	uint32_t *next = malloc((no + 1) * sizeof(*next));
	uint32_t *head = malloc((no + 1) * sizeof(*head));
	uint32_t *tail = malloc((no + 1) * sizeof(*tail));
	int rc = SNAP_ENOMEM;
	if (!next || !head || !tail || u64map_init(&heads, 64) < 0)
		goto out_nomap;
	uint32_t nkeys = 0;
	for (uint32_t i = 0; i < no; i++) {
		if (io->classes[i] != SNAP_MATCH_EXACT || b->partner[OLD][i] >= 0)
			continue;
		bool added;
		uint32_t *slot = u64map_put(&heads, ko[i], nkeys, &added);
		if (!slot)
			goto out;
		next[i] = NONE;
		if (added) {
			head[nkeys] = tail[nkeys] = i;
			nkeys++;
		} else {
			next[tail[*slot]] = i;
			tail[*slot] = i;
		}
	}
	for (uint32_t j = 0; j < b->snap[NEW]->nregions; j++) {
		if (in->classes[j] != SNAP_MATCH_EXACT || b->partner[NEW][j] >= 0)
			continue;
		const uint32_t *slot = u64map_get(&heads, kn[j]);
		if (!slot || head[*slot] == NONE)
			continue;
		pair_up(b, head[*slot], j);
		head[*slot] = next[head[*slot]];
	}
	rc = SNAP_OK;
out:
	u64map_free(&heads);
out_nomap:
	free(next);
	free(head);
	free(tail);
	return rc;
}

/* By build where both sides know it (the same build at another path is
 * the same image), then by path for the rest (a snapshot without
 * build-ids, or the same path holding another build). */
static int pair_exact(struct builder *b)
{
	int rc = pair_exact_by(b, false);
	return rc < 0 ? rc : pair_exact_by(b, true);
}

struct cand {
	uint32_t o, n;  /* positions in the item lists */
	uint64_t cost;
};

struct item {
	uint32_t region;
	int64_t value;
};

static int by_value(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return a->region < b->region ? -1 : a->region > b->region;
}

static int by_cost(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	if (a->o != b->o)
		return a->o < b->o ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

static uint64_t distance(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)(a - b) : (uint64_t)(b - a);
}

static int push_cand(struct vec *cands, uint32_t o, uint32_t n,
		     const struct item *os, const struct item *ns)
{
	struct cand *c = vec_push(cands);
	if (!c)
		return SNAP_ENOMEM;
	c->o = o;
	c->n = n;
	c->cost = distance(os[o].value, ns[n].value);
	return SNAP_OK;
}

/* A sparse candidate set for the greedy pairing: each old item's
 * neighbours in value order, and the new items of about the same rank
 * (which pairs runs of equal values in address order). */
static int nearest_candidates(struct vec *cands, const struct item *os, size_t no,
			      const struct item *ns, size_t nn)
{
	size_t extra = no > nn ? no - nn : nn - no;
	size_t w = (extra < 4 ? extra : 4) + 1;
	size_t p = 0;
	for (size_t o = 0; o < no; o++) {
		while (p < nn && ns[p].value < os[o].value)
			p++;
		if (p < nn && push_cand(cands, (uint32_t)o, (uint32_t)p, os, ns) < 0)
			return SNAP_ENOMEM;
		if (p > 0 && push_cand(cands, (uint32_t)o, (uint32_t)(p - 1), os, ns) < 0)
			return SNAP_ENOMEM;
		size_t rank = o * nn / no;
		size_t lo = rank > w ? rank - w : 0;
		for (size_t n = lo; n <= rank + w && n < nn; n++)
			if (push_cand(cands, (uint32_t)o, (uint32_t)n, os, ns) < 0)
				return SNAP_ENOMEM;
	}
	p = 0;
	for (size_t n = 0; n < nn; n++) {
		while (p < no && os[p].value < ns[n].value)
			p++;
		if (p < no && push_cand(cands, (uint32_t)p, (uint32_t)n, os, ns) < 0)
			return SNAP_ENOMEM;
		if (p > 0 && push_cand(cands, (uint32_t)(p - 1), (uint32_t)n, os, ns) < 0)
			return SNAP_ENOMEM;
	}
	return SNAP_OK;
}

/* Pairs the regions of two lists by least |value difference|; with
 * `similar`, only values within a factor of two of each other. */
static int pair_nearest(struct builder *b, const uint32_t *olds, size_t no,
			const uint32_t *news, size_t nn, int measure, bool similar)
{
	struct item *os = malloc((no + 1) * sizeof(*os));
	struct item *ns = malloc((nn + 1) * sizeof(*ns));
	struct vec cands = { .elem = sizeof(struct cand) };
	int rc = SNAP_ENOMEM;
	if (!os || !ns)
		goto out;
	for (size_t k = 0; k < no; k++)
		os[k] = (struct item){ olds[k], b->sums[OLD][olds[k]].kb[measure] };
	for (size_t k = 0; k < nn; k++)
		ns[k] = (struct item){ news[k], b->sums[NEW][news[k]].kb[measure] };
	qsort(os, no, sizeof(*os), by_value);
	qsort(ns, nn, sizeof(*ns), by_value);
	if (nearest_candidates(&cands, os, no, ns, nn) < 0)
		goto out;
	qsort(cands.data, cands.n, sizeof(struct cand), by_cost);
	for (size_t k = 0; k < cands.n; k++) {
		const struct cand *c = VEC_AT(cands, struct cand, k);
		uint32_t i = os[c->o].region, j = ns[c->n].region;
		int64_t lo = os[c->o].value, hi = ns[c->n].value;
		if (lo > hi) {
			int64_t t = lo;
			lo = hi;
			hi = t;
		}
		if (b->partner[OLD][i] >= 0 || b->partner[NEW][j] >= 0 ||
		    (similar && hi > 2 * lo))
			continue;
		pair_up(b, i, j);
	}
	rc = SNAP_OK;
out:
	free(os);
	free(ns);
	free(cands.data);
	return rc;
}

/* Groups regions by a per-region key: members of group g on side s are
 * members[s][first[s][g] .. first[s][g + 1]), in address order. */
struct groups {
	uint32_t count;
	size_t *first[2];
	uint32_t *members[2];
};

static void groups_free(struct groups *g)
{
	for (int s = OLD; s <= NEW; s++) {
		free(g->first[s]);
		free(g->members[s]);
	}
}

typedef bool (*want_fn)(const struct builder *b, int s, uint32_t i);
typedef uint64_t (*key_fn)(const struct builder *b, int s, uint32_t i);

static int make_groups(struct builder *b, want_fn want, key_fn key,
		       struct groups *g)
{
	u64map ids;
	size_t n[2] = { b->snap[OLD]->nregions, b->snap[NEW]->nregions };
	uint32_t *gid[2] = { malloc((n[OLD] + 1) * 4), malloc((n[NEW] + 1) * 4) };
	int rc = SNAP_ENOMEM;
	if (!gid[OLD] || !gid[NEW] || u64map_init(&ids, 64) < 0)
		goto out_nomap;
	for (int s = OLD; s <= NEW; s++)
		for (uint32_t i = 0; i < n[s]; i++) {
			gid[s][i] = NONE;
			if (!want(b, s, i))
				continue;
			bool added;
			uint32_t *v = u64map_put(&ids, key(b, s, i), g->count, &added);
			if (!v)
				goto out;
			g->count += added;
			gid[s][i] = *v;
		}
	for (int s = OLD; s <= NEW; s++) {
		g->first[s] = calloc(g->count + 1, sizeof(size_t));
		g->members[s] = malloc((n[s] + 1) * sizeof(uint32_t));
		size_t *fill = malloc((g->count + 1) * sizeof(size_t));
		if (!g->first[s] || !g->members[s] || !fill) {
			free(fill);
			goto out;
		}
		for (uint32_t i = 0; i < n[s]; i++)
			if (gid[s][i] != NONE)
				g->first[s][gid[s][i]]++;
		bucket_offsets(g->first[s], g->count);
		memcpy(fill, g->first[s], (g->count + 1) * sizeof(size_t));
		for (uint32_t i = 0; i < n[s]; i++)
			if (gid[s][i] != NONE)
				g->members[s][fill[gid[s][i]]++] = i;
		free(fill);
	}
	rc = SNAP_OK;
out:
	u64map_free(&ids);
out_nomap:
	free(gid[OLD]);
	free(gid[NEW]);
	return rc;
}

static bool want_similar(const struct builder *b, int s, uint32_t i)
{
	return b->id[s]->classes[i] == SNAP_MATCH_SIMILAR;
}

static bool want_unpaired_similar(const struct builder *b, int s, uint32_t i)
{
	return want_similar(b, s, i) && b->partner[s][i] < 0;
}

static uint64_t key_only(const struct builder *b, int s, uint32_t i)
{
	return b->id[s]->keys[i];
}

static uint64_t key_and_size(const struct builder *b, int s, uint32_t i)
{
	uint64_t v[2] = { b->id[s]->keys[i],
			  (uint64_t)b->sums[s][i].kb[SNAP_M_SIZE] };
	return snap_hash64(v, sizeof(v));
}

/* Named anon, shmem and unnamed anon: first equal sizes under one key
 * (in address order when the counts agree, else by nearest Rss), then
 * the rest under the key by least size difference, so that one inserted
 * region does not shift every later match. */
static int pair_similar(struct builder *b)
{
	struct groups same = { 0 }, rest = { 0 };
	int rc = make_groups(b, want_similar, key_and_size, &same);
	for (uint32_t g = 0; rc == SNAP_OK && g < same.count; g++) {
		size_t no = same.first[OLD][g + 1] - same.first[OLD][g];
		size_t nn = same.first[NEW][g + 1] - same.first[NEW][g];
		const uint32_t *os = same.members[OLD] + same.first[OLD][g];
		const uint32_t *ns = same.members[NEW] + same.first[NEW][g];
		if (no == nn)
			for (size_t k = 0; k < no; k++)
				pair_up(b, os[k], ns[k]);
		else if (no && nn)
			rc = pair_nearest(b, os, no, ns, nn, SNAP_M_RSS, false);
	}
	if (rc == SNAP_OK)
		rc = make_groups(b, want_unpaired_similar, key_only, &rest);
	for (uint32_t g = 0; rc == SNAP_OK && g < rest.count; g++) {
		size_t no = rest.first[OLD][g + 1] - rest.first[OLD][g];
		size_t nn = rest.first[NEW][g + 1] - rest.first[NEW][g];
		if (no && nn)
			rc = pair_nearest(b, rest.members[OLD] + rest.first[OLD][g], no,
					  rest.members[NEW] + rest.first[NEW][g], nn,
					  SNAP_M_SIZE, true);
	}
	groups_free(&same);
	groups_free(&rest);
	return rc;
}

/* One change per matched pair; consecutive segments of one replaced
 * image make one change. */
static int emit_pairs(struct builder *b)
{
	uint32_t open = NONE;
	for (uint32_t j = 0; j < b->snap[NEW]->nregions; j++) {
		int32_t i = b->partner[NEW][j];
		if (i < 0)
			continue;
		bool replaced = replaced_pair(b, (uint32_t)i, j) || moved_pair(b, (uint32_t)i, j);
		if (open != NONE && replaced) {
			const struct pending *p = entry(b, open);
			uint32_t lo = member(b, OLD, p->side[OLD].off + p->side[OLD].n - 1);
			uint32_t ln = member(b, NEW, p->side[NEW].off + p->side[NEW].n - 1);
			if (lo + 1 == (uint32_t)i && ln + 1 == j &&
			    b->id[OLD]->image_of[lo] == b->id[OLD]->image_of[i] &&
			    b->id[NEW]->image_of[ln] == b->id[NEW]->image_of[j]) {
				if (add_member(b, open, OLD, (uint32_t)i) < 0 ||
				    add_member(b, open, NEW, j) < 0)
					return SNAP_ENOMEM;
				continue;
			}
		}
		uint32_t e = open_entry(b);
		if (e == NONE || add_member(b, e, OLD, (uint32_t)i) < 0 ||
		    add_member(b, e, NEW, j) < 0)
			return SNAP_ENOMEM;
		open = replaced ? e : NONE;
	}
	return SNAP_OK;
}

/* A library left wholly unmatched on each side, under one name and
 * load number, in two known builds: an upgrade, a rebuild, or another
 * vendored copy. */
static uint64_t rebuilt_key(const snap_image *img)
{
	char name[512];
	size_t n = snap_lib_name(name, sizeof(name), img->path, img->path_len);
	uint64_t v[2] = { snap_hash64(name, n < sizeof(name) ? n : sizeof(name) - 1),
			  img->name_ordinal };
	return snap_hash64(v, sizeof(v));
}

static bool unmatched_build(const struct builder *b, int s, size_t k)
{
	const snap_image *img = &b->id[s]->images[k];
	return img->kind == SNAP_KIND_LIB && b->image_hits[s][k] == 0 && img->file &&
	       img->file->build_id.len;
}

/* One change holding both images; their regions count as matched. */
static int emit_rebuilt(struct builder *b, size_t ko, size_t kn)
{
	uint32_t e = open_entry(b);
	if (e == NONE)
		return SNAP_ENOMEM;
	size_t k[2] = { ko, kn };
	for (int s = OLD; s <= NEW; s++) {
		const snap_image *img = &b->id[s]->images[k[s]];
		for (size_t i = img->first; i < img->first + img->count; i++) {
			b->partner[s][i] = (int32_t)b->id[1 - s]->images[k[1 - s]].first;
			if (add_member(b, e, s, (uint32_t)i) < 0)
				return SNAP_ENOMEM;
		}
	}
	return SNAP_OK;
}

static int pair_rebuilt_libraries(struct builder *b)
{
	u64map olds;
	if (u64map_init(&olds, 16) < 0)
		return SNAP_ENOMEM;
	int rc = SNAP_OK;
	for (size_t k = 0; k < b->id[OLD]->nimages && rc == SNAP_OK; k++) {
		bool added;
		if (unmatched_build(b, OLD, k) &&
		    !u64map_put(&olds, rebuilt_key(&b->id[OLD]->images[k]), (uint32_t)k, &added))
			rc = SNAP_ENOMEM;
	}
	for (size_t k = 0; k < b->id[NEW]->nimages && rc == SNAP_OK; k++) {
		if (!unmatched_build(b, NEW, k))
			continue;
		const uint32_t *ko = u64map_get(&olds, rebuilt_key(&b->id[NEW]->images[k]));
		if (ko && b->partner[OLD][b->id[OLD]->images[*ko].first] < 0)
			rc = emit_rebuilt(b, *ko, k);
	}
	u64map_free(&olds);
	return rc;
}

static int match_by_identity(struct builder *b)
{
	int rc;
	if ((rc = pair_exact(b)) < 0 || (rc = pair_similar(b)) < 0)
		return rc;
	count_image_hits(b);
	if ((rc = emit_pairs(b)) < 0 || (rc = pair_rebuilt_libraries(b)) < 0 ||
	    (rc = emit_unmatched(b, NEW)) < 0)
		return rc;
	return emit_unmatched(b, OLD);
}

/* ---- from pending changes to the report ---- */

static void fill_side(struct builder *b, int s, const struct span *span,
		      snap_side *side)
{
	memset(side, 0, sizeof(*side));
	if (!span->n)
		return;
	const uint32_t *idx = (const uint32_t *)b->members[s].data + span->off;
	side->present = true;
	side->regions = idx;
	side->nregions = span->n;
	side->start = region(b, s, idx[0])->start;
	side->end = region(b, s, idx[span->n - 1])->end;
	side->inode = region(b, s, idx[0])->inode;
	for (size_t k = 0; k < span->n; k++)
		sums_add(&side->sums, &b->sums[s][idx[k]]);
}

/* The region that names a change: the largest, on the new side first. */
static void representative(const struct builder *b, const snap_change *c,
			   int *side, uint32_t *idx)
{
	*side = c->new.present ? NEW : OLD;
	const snap_side *sd = *side == NEW ? &c->new : &c->old;
	*idx = sd->regions[0];
	uint64_t best = 0;
	for (size_t k = 0; k < sd->nregions; k++) {
		const snap_region *r = region(b, *side, sd->regions[k]);
		if (r->end - r->start > best) {
			best = r->end - r->start;
			*idx = sd->regions[k];
		}
	}
}

/* The image a side covers completely, or -1. */
static int whole_image(const struct builder *b, int s, const snap_side *sd)
{
	if (!sd->present)
		return -1;
	int img = b->id[s]->image_of[sd->regions[0]];
	if (img < 0 || b->id[s]->images[img].count != sd->nregions)
		return -1;
	for (size_t k = 0; k < sd->nregions; k++)
		if (b->id[s]->image_of[sd->regions[k]] != img)
			return -1;
	return img;
}

static const enum snap_measure watched[] = {
	SNAP_M_SIZE, SNAP_M_RSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_ANONYMOUS, SNAP_M_SWAP,
};

/* Whether anything at all moved: a counter, or the number of regions (a
 * split or a merge). */
static bool anything_moved(const snap_sums *delta)
{
	for (int m = 0; m < SNAP_M_COUNT; m++)
		if (delta->kb[m] != 0)
			return true;
	return delta->regions != 0;
}

/* 1: at or above min_change, 0: below, -1: nothing that matters moved.
 * With min_change 0 every movement counts, so the changes add up to the
 * totals in every counter; otherwise Pss and the shared/clean splits,
 * which other processes move, are noise. */
static int significance(const snap_diff_opts *o, const snap_sums *delta)
{
	if (o->min_change_kb == 0)
		return anything_moved(delta) ? 1 : -1;
	int level = -1;
	for (size_t k = 0; k <= sizeof(watched) / sizeof(*watched); k++) {
		enum snap_measure m = k < sizeof(watched) / sizeof(*watched) ?
				      watched[k] : o->metric;
		int64_t v = delta->kb[m] < 0 ? -delta->kb[m] : delta->kb[m];
		if (v == 0)
			continue;
		if (v >= o->min_change_kb)
			return 1;
		level = 0;
	}
	return level;
}

static enum snap_change_type direction(const snap_diff_opts *o,
				       const snap_sums *delta)
{
	int64_t v = delta->kb[o->metric];
	for (size_t k = 0; v == 0 && k < sizeof(watched) / sizeof(*watched); k++)
		v = delta->kb[watched[k]];
	return v < 0 ? SNAP_CHANGE_SHRUNK : SNAP_CHANGE_GROWN;
}

static bool is_dup_image(const snap_identity *id, int img)
{
	for (size_t d = 0; d < id->ndups; d++)
		for (size_t k = 0; k < id->dups[d].nimages; k++)
			if (id->dups[d].images[k] == (size_t)img)
				return true;
	return false;
}

static bool became_deleted(const struct builder *b, const snap_change *c)
{
	if (!c->old.present || !c->new.present ||
	    b->id[NEW]->image_of[c->new.regions[0]] < 0)
		return false;
	return replaced_pair(b, c->old.regions[0], c->new.regions[0]);
}

/* Decides the type of c; returns 1 to list it, 0 to count it hidden,
 * -1 when nothing changed. */
static int classify_change(const struct builder *b, snap_change *c,
			   const bool *dup_image)
{
	const snap_diff_opts *o = &b->d->opts;
	int level = significance(o, &c->delta);
	if (!c->old.present) {
		int img = whole_image(b, NEW, &c->new);
		c->type = img >= 0 && dup_image[img] ? SNAP_CHANGE_DUPLICATED
						      : SNAP_CHANGE_NEW;
		return c->type == SNAP_CHANGE_DUPLICATED ? 1 : level > 0;
	}
	if (!c->new.present) {
		c->type = SNAP_CHANGE_VANISHED;
		return level > 0;
	}
	/* The same build from another file: moved, though the inodes differ. */
	if (c->old_path_len) {
		c->type = SNAP_CHANGE_MOVED;
		return 1;
	}
	if (became_deleted(b, c)) {
		c->type = SNAP_CHANGE_REPLACED;
		return 1;
	}
	c->type = direction(o, &c->delta);
	if (level < 1 && c->nperms_changes) {
		c->type = SNAP_CHANGE_PERMS;
		return 1;
	}
	return level;
}

/* The builds of a file mapping's two sides, and its old path when the
 * same build moved to another one. */
static void note_files(const struct builder *b, snap_change *c)
{
	if (c->old.present)
		c->old_build = region_build(b, OLD, c->old.regions[0]);
	if (c->new.present)
		c->new_build = region_build(b, NEW, c->new.regions[0]);
	if (c->old.present && c->new.present &&
	    moved_pair(b, c->old.regions[0], c->new.regions[0])) {
		const snap_region *r = region(b, OLD, c->old.regions[0]);
		c->old_path = r->path;
		c->old_path_len = r->path_len;
	}
}

static void finish_change(struct builder *b, const struct pending *p,
			  snap_change *c)
{
	memset(c, 0, sizeof(*c));
	fill_side(b, OLD, &p->side[OLD], &c->old);
	fill_side(b, NEW, &p->side[NEW], &c->new);
	sums_sub(&c->delta, &c->new.sums, &c->old.sums);
	/* An empty pool has no data pointer to offset from. */
	c->mapped = p->mapped.n ? (const snap_range *)b->mapped.data + p->mapped.off
				: NULL;
	c->nmapped = p->mapped.n;
	c->unmapped = p->unmapped.n
		? (const snap_range *)b->unmapped.data + p->unmapped.off : NULL;
	c->nunmapped = p->unmapped.n;
	c->perms_changes = p->perms.n
		? (const snap_perms_change *)b->perms.data + p->perms.off : NULL;
	c->nperms_changes = p->perms.n;
	int s;
	uint32_t idx;
	representative(b, c, &s, &idx);
	const snap_region *r = region(b, s, idx);
	c->kind = b->id[s]->kinds[idx];
	c->evidence = (enum snap_evidence)b->id[s]->evidence[idx];
	c->path = r->path;
	c->path_len = r->path_len;
	memcpy(c->perms, r->perms, 5);
	int img = whole_image(b, s, s == NEW ? &c->new : &c->old);
	if (img >= 0) {
		const snap_image *image = &b->id[s]->images[img];
		c->image = true;
		c->kind = image->kind;
		c->path = b->snap[s]->regions[image->first].path;
		c->path_len = b->snap[s]->regions[image->first].path_len;
	}
	note_files(b, c);
}

static int metric_order(const void *pa, const void *pb, void *ctx)
{
	const snap_change *a = pa, *b = pb;
	const snap_diff_opts *o = ctx;
	uint64_t da = distance(a->delta.kb[o->metric], 0);
	uint64_t db = distance(b->delta.kb[o->metric], 0);
	if (da != db)
		return da > db ? -1 : 1;
	da = distance(a->delta.kb[SNAP_M_SIZE], 0);
	db = distance(b->delta.kb[SNAP_M_SIZE], 0);
	if (da != db)
		return da > db ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	uint64_t sa = a->new.present ? a->new.start : a->old.start;
	uint64_t sb = b->new.present ? b->new.start : b->old.start;
	return sa < sb ? -1 : sa > sb;
}

static int finish_changes(struct builder *b)
{
	snap_diff *d = b->d;
	bool *dup_image = calloc(b->id[NEW]->nimages + 1, sizeof(*dup_image));
	/* Most pending matches are unchanged regions: only the changes kept
	 * are stored, so memory follows the report, not the process size. */
	struct vec kept = { .elem = sizeof(snap_change) };
	int rc = dup_image ? SNAP_OK : SNAP_ENOMEM;
	for (size_t i = 0; rc == SNAP_OK && i < b->id[NEW]->nimages; i++)
		dup_image[i] = is_dup_image(b->id[NEW], (int)i);
	for (size_t e = 0; rc == SNAP_OK && e < b->entries.n; e++) {
		const struct pending *p = entry(b, e);
		if (p->dead)
			continue;
		snap_change c;
		finish_change(b, p, &c);
		int keep = classify_change(b, &c, dup_image);
		if (c.image && c.kind == SNAP_KIND_LIB &&
		    (c.type == SNAP_CHANGE_NEW || c.type == SNAP_CHANGE_DUPLICATED))
			d->new_libs++;
		if (keep > 0) {
			snap_change *slot = vec_push(&kept);
			if (slot)
				*slot = c;
			else
				rc = SNAP_ENOMEM;
		} else if (keep == 0) {
			d->hidden++;
		}
	}
	free(dup_image);
	d->changes = rc == SNAP_OK
		? arena_alloc(d->internal->arena, (kept.n + 1) * sizeof(snap_change)) : NULL;
	if (d->changes && kept.n)
		memcpy(d->changes, kept.data, kept.n * sizeof(snap_change));
	d->nchanges = d->changes ? kept.n : 0;
	free(kept.data);
	if (!d->changes)
		return SNAP_ENOMEM;
	qsort_r(d->changes, d->nchanges, sizeof(*d->changes), metric_order, &d->opts);
	return SNAP_OK;
}

/* ---- totals, duplicates, the whole diff ---- */

static int load_side(struct builder *b, int s)
{
	const snap_snapshot *snap = b->snap[s];
	size_t n = snap->nregions;
	for (size_t i = 1; i < n; i++)
		if (snap->regions[i].start < snap->regions[i - 1].end)
			return SNAP_EFORMAT;
	/* Path maps rewrite the old side's paths into the new side's. */
	const snap_diff_opts *o = &b->d->opts;
	int rc = s == OLD ? snap_identity_new_mapped(&b->id[s], snap, o->path_maps,
						     o->npath_maps, NULL)
			  : snap_identity_new(&b->id[s], snap, NULL);
	if (rc < 0)
		return rc;
	b->sums[s] = malloc((n + 1) * sizeof(snap_sums));
	b->partner[s] = malloc((n + 1) * sizeof(int32_t));
	b->image_hits[s] = calloc(b->id[s]->nimages + 1, sizeof(uint32_t));
	if (!b->sums[s] || !b->partner[s] || !b->image_hits[s])
		return SNAP_ENOMEM;
	int fields[SNAP_M_COUNT];
	measure_fields(snap, fields);
	snap_sums *total = s == OLD ? &b->d->total_old : &b->d->total_new;
	snap_sums *by_kind = s == OLD ? b->d->kind_old : b->d->kind_new;
	for (size_t i = 0; i < n; i++) {
		region_sums(&snap->regions[i], fields, &b->sums[s][i]);
		b->partner[s][i] = -1;
		sums_add(total, &b->sums[s][i]);
		sums_add(&by_kind[b->id[s]->kinds[i]], &b->sums[s][i]);
	}
	return SNAP_OK;
}

static int list_dups(snap_diff *d)
{
	const snap_identity *in = d->new_id, *io = d->old_id;
	d->dups = arena_alloc(d->internal->arena, (in->ndups + 1) * sizeof(*d->dups));
	if (!d->dups)
		return SNAP_ENOMEM;
	for (size_t k = 0; k < in->ndups; k++) {
		bool before = false;
		for (size_t m = 0; m < io->ndups && !before; m++)
			before = strcmp(io->dups[m].name, in->dups[k].name) == 0;
		d->dups[d->ndups++] = (snap_diff_dup){ &in->dups[k], !before };
	}
	return SNAP_OK;
}

static void builder_free(struct builder *b)
{
	for (int s = OLD; s <= NEW; s++) {
		free(b->sums[s]);
		free(b->partner[s]);
		free(b->image_hits[s]);
	}
	free(b->entries.data);
}

/* The builder's pools hold the regions, ranges and permission changes
 * the report points into: the diff takes them over rather than copy. */
struct diff_storage {
	void *members[2], *mapped, *unmapped, *perms;
};

static int keep_storage(snap_diff *d, struct builder *b)
{
	struct diff_storage *st = arena_alloc(d->internal->arena, sizeof(*st));
	if (!st)
		return SNAP_ENOMEM;
	st->members[OLD] = b->members[OLD].data;
	st->members[NEW] = b->members[NEW].data;
	st->mapped = b->mapped.data;
	st->unmapped = b->unmapped.data;
	st->perms = b->perms.data;
	memset(&b->members, 0, sizeof(b->members));
	memset(&b->mapped, 0, sizeof(b->mapped));
	memset(&b->unmapped, 0, sizeof(b->unmapped));
	memset(&b->perms, 0, sizeof(b->perms));
	d->internal->pools = st;
	return SNAP_OK;
}

static void free_pools(struct builder *b)
{
	free(b->members[OLD].data);
	free(b->members[NEW].data);
	free(b->mapped.data);
	free(b->unmapped.data);
	free(b->perms.data);
}

static int build(snap_diff *d, struct builder *b)
{
	int rc;
	if ((rc = load_side(b, OLD)) < 0 || (rc = load_side(b, NEW)) < 0)
		return rc;
	d->old_id = b->id[OLD];
	d->new_id = b->id[NEW];
	d->same_process = snap_same_process(d->old, d->new);
	d->by_address = d->opts.match == SNAP_MATCH_ADDRESS ||
			(d->opts.match == SNAP_MATCH_AUTO && d->same_process);
	rc = d->by_address ? match_by_address(b) : match_by_identity(b);
	if (rc < 0 || (rc = finish_changes(b)) < 0 || (rc = list_dups(d)) < 0)
		return rc;
	return keep_storage(d, b);
}

/* A diff and what the library keeps of it, in one allocation. */
struct diff_block {
	snap_diff pub;
	struct snap_diff_internal in;
};

int snap_diff_new(snap_diff **out, const snap_snapshot *old,
		  const snap_snapshot *new, const snap_diff_opts *opts,
		  snap_error *err)
{
	struct diff_block *block = calloc(1, sizeof(*block));
	snap_diff *d = block ? &block->pub : NULL;
	if (d)
		d->internal = &block->in;
	if (!d || !(d->internal->arena = arena_new())) {
		free(block);
		return snap_error_set(err, SNAP_ENOMEM, "diff", 0, "out of memory");
	}
	d->old = old;
	d->new = new;
	int rc;
	if (opts && (rc = opts_version_check(opts->version, SNAP_DIFF_OPTS_VERSION,
					     "snap_diff_opts", err)) < 0) {
		snap_diff_free(d);
		return rc;
	}
	if (opts)
		d->opts = *opts;
	else
		snap_diff_opts_init(&d->opts, SNAP_DIFF_OPTS_VERSION);
	if ((unsigned)d->opts.metric >= SNAP_M_COUNT || d->opts.min_change_kb < 0) {
		snap_diff_free(d);
		return snap_error_set(err, SNAP_EINVAL, "diff", 0, "bad options");
	}
	struct builder b = {
		.d = d,
		.snap = { old, new },
		.members = { { .elem = sizeof(uint32_t) }, { .elem = sizeof(uint32_t) } },
		.mapped = { .elem = sizeof(snap_range) },
		.unmapped = { .elem = sizeof(snap_range) },
		.perms = { .elem = sizeof(snap_perms_change) },
		.entries = { .elem = sizeof(struct pending) },
	};
	rc = build(d, &b);
	if (rc < 0) {
		if (!d->old_id)
			snap_identity_free(b.id[OLD]);
		if (!d->new_id)
			snap_identity_free(b.id[NEW]);
	}
	builder_free(&b);
	free_pools(&b);
	if (rc < 0) {
		snap_diff_free(d);
		if (rc == SNAP_EFORMAT)
			return snap_error_set(err, rc, "diff", 0,
					      "regions overlap or are out of address order");
		return snap_error_set(err, rc, "diff", 0, "out of memory");
	}
	*out = d;
	return SNAP_OK;
}

void snap_diff_free(snap_diff *d)
{
	if (!d)
		return;
	struct diff_storage *st = d->internal->pools;
	if (st) {
		free(st->members[OLD]);
		free(st->members[NEW]);
		free(st->mapped);
		free(st->unmapped);
		free(st->perms);
	}
	snap_identity_free(d->old_id);
	snap_identity_free(d->new_id);
	arena_free(d->internal->arena);
	free(d);
}

/* ---- correspondence alone (series.c follows regions over many snapshots) ---- */

/* Components of the overlap graph with members on both sides. */
static int label_by_address(struct builder *b, int32_t *groups[2])
{
	size_t no = b->snap[OLD]->nregions, total = no + b->snap[NEW]->nregions;
	struct components c = { 0 };
	int rc = overlap_components(b, &c);
	if (rc < 0)
		goto out;
	for (size_t x = 0; x < total; x++) {
		uint32_t k = c.of_node[x];
		int32_t label = comp_size(&c, OLD, k) && comp_size(&c, NEW, k)
				? (int32_t)k : -1;
		if (x < no)
			groups[OLD][x] = label;
		else
			groups[NEW][x - no] = label;
	}
out:
	components_free(&c);
	return rc;
}

static int label_by_identity(struct builder *b, int32_t *groups[2])
{
	int rc;
	if ((rc = pair_exact(b)) < 0 || (rc = pair_similar(b)) < 0)
		return rc;
	for (size_t i = 0; i < b->snap[OLD]->nregions; i++)
		groups[OLD][i] = b->partner[OLD][i];
	for (size_t j = 0; j < b->snap[NEW]->nregions; j++)
		groups[NEW][j] = b->partner[NEW][j] >= 0 ? (int32_t)j : -1;
	return SNAP_OK;
}

static int prepare_side(struct builder *b, int s, bool with_sums)
{
	const snap_snapshot *snap = b->snap[s];
	size_t n = snap->nregions;
	for (size_t i = 1; i < n; i++)
		if (snap->regions[i].start < snap->regions[i - 1].end)
			return SNAP_EFORMAT;
	b->partner[s] = malloc((n + 1) * sizeof(int32_t));
	b->sums[s] = with_sums ? malloc((n + 1) * sizeof(snap_sums)) : NULL;
	if (!b->partner[s] || (with_sums && !b->sums[s]))
		return SNAP_ENOMEM;
	int fields[SNAP_M_COUNT];
	measure_fields(snap, fields);
	for (size_t i = 0; i < n; i++) {
		b->partner[s][i] = -1;
		if (with_sums)
			region_sums(&snap->regions[i], fields, &b->sums[s][i]);
	}
	return SNAP_OK;
}

/* The first region of snap that starts before the one ahead of it ends,
 * or 0. */
static size_t first_overlap(const snap_snapshot *snap)
{
	for (size_t i = 1; i < snap->nregions; i++)
		if (snap->regions[i].start < snap->regions[i - 1].end)
			return i;
	return 0;
}

/* Why regions cannot be matched: where the first overlap is. */
static int out_of_order(snap_error *err, const snap_snapshot *old,
			const snap_snapshot *new)
{
	const char *side = "old";
	const snap_snapshot *snap = old;
	size_t i = first_overlap(old);
	if (!i) {
		side = "new";
		snap = new;
		i = first_overlap(new);
	}
	if (!i)
		return snap_error_set(err, SNAP_EFORMAT, NULL, 0, "regions out of order");
	return snap_error_set(err, SNAP_EFORMAT, NULL, 0, "the %s snapshot's regions overlap "
			      "or are out of address order: region %zu starts at %" PRIx64
			      ", before region %zu ends at %" PRIx64, side, i + 1,
			      snap->regions[i].start, i, snap->regions[i - 1].end);
}

int snap_diff_match(int32_t *old_groups, int32_t *new_groups, bool *by_address,
		    const snap_identity *old_id, const snap_identity *new_id,
		    enum snap_match_mode mode, snap_error *err)
{
	/* The builder only reads identities: the casts drop nothing written. */
	struct builder b = {
		.snap = { old_id->snap, new_id->snap },
		.id = { (snap_identity *)old_id, (snap_identity *)new_id },
		.entries = { .elem = sizeof(struct pending) },
	};
	bool address = mode == SNAP_MATCH_ADDRESS ||
		       (mode == SNAP_MATCH_AUTO &&
			snap_same_process(old_id->snap, new_id->snap));
	int32_t *groups[2] = { old_groups, new_groups };
	int rc;
	if ((rc = prepare_side(&b, OLD, !address)) == SNAP_OK &&
	    (rc = prepare_side(&b, NEW, !address)) == SNAP_OK)
		rc = address ? label_by_address(&b, groups)
			     : label_by_identity(&b, groups);
	if (by_address)
		*by_address = address;
	builder_free(&b);
	if (rc == SNAP_EFORMAT)
		return out_of_order(err, old_id->snap, new_id->snap);
	if (rc < 0)
		return snap_error_set(err, rc, NULL, 0, "out of memory matching %zu regions "
				      "with %zu", old_id->snap->nregions, new_id->snap->nregions);
	return SNAP_OK;
}
