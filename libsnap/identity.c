/* Identity: library images (load instances), duplicated libraries and the
 * keys that let a diff match regions across processes despite ASLR.
 * Rules follow ../shared/notes/smaps-semantics.md §3.3 and §4.2-4.3. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- a u64 -> u32 map (keys are hashes already) ---- */

int u64map_init(u64map *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2)
		cap *= 2;
	memset(m, 0, sizeof(*m));
	m->keys = malloc(cap * sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	m->used = calloc(cap, 1);
	if (!m->keys || !m->vals || !m->used) {
		u64map_free(m);
		return SNAP_ENOMEM;
	}
	m->cap = cap;
	return SNAP_OK;
}

void u64map_free(u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

static size_t slot_of(const u64map *m, uint64_t key)
{
	size_t i = (size_t)key & (m->cap - 1);
	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int u64map_grow(u64map *m)
{
	u64map bigger;
	if (u64map_init(&bigger, m->cap) < 0)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		size_t j = slot_of(&bigger, m->keys[i]);
		bigger.used[j] = 1;
		bigger.keys[j] = m->keys[i];
		bigger.vals[j] = m->vals[i];
	}
	bigger.count = m->count;
	u64map_free(m);
	*m = bigger;
	return SNAP_OK;
}

uint32_t *u64map_put(u64map *m, uint64_t key, uint32_t fresh, bool *added)
{
	if ((m->count + 1) * 2 > m->cap && u64map_grow(m) < 0)
		return NULL;
	size_t i = slot_of(m, key);
	*added = !m->used[i];
	if (*added) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->vals[i] = fresh;
		m->count++;
	}
	return &m->vals[i];
}

const uint32_t *u64map_get(const u64map *m, uint64_t key)
{
	size_t i = slot_of(m, key);
	return m->used[i] ? &m->vals[i] : NULL;
}

/* ---- names ---- */

static const char *basename_of(const char *path, size_t len, size_t *blen)
{
	const char *base = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	*blen = len - (size_t)(base - path);
	return base;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of a "-2.31" release suffix ending at stem[n], or 0. It needs a
 * dot, so "ld-linux-x86-64" keeps its "-64". */
static size_t release_suffix(const char *stem, size_t n)
{
	size_t i = n;
	bool dot = false;
	while (i > 0 && (is_digit(stem[i - 1]) || stem[i - 1] == '.')) {
		dot |= stem[i - 1] == '.';
		i--;
	}
	if (i == 0 || stem[i - 1] != '-' || !dot || i == n || !is_digit(stem[i]) ||
	    !is_digit(stem[n - 1]))
		return 0;
	return n - i + 1;
}

static size_t put_name(char *buf, size_t size, const char *s, size_t n)
{
	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return n;
}

size_t snap_lib_name(char *buf, size_t size, const char *path, size_t len)
{
	size_t blen;
	const char *base = basename_of(path, len, &blen);
	for (size_t i = 0; i + 3 <= blen; i++) {
		if (memcmp(base + i, ".so", 3) != 0 ||
		    (i + 3 < blen && base[i + 3] != '.'))
			continue;
		size_t stem = i - release_suffix(base, i);
		char tmp[512];
		if (stem + 3 >= sizeof(tmp))
			return put_name(buf, size, base, i + 3);
		memcpy(tmp, base, stem);
		memcpy(tmp + stem, ".so", 3);
		return put_name(buf, size, tmp, stem + 3);
	}
	return put_name(buf, size, base, blen);
}

size_t snap_anon_name_key(char *buf, size_t size, const char *name, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && is_digit(name[j]))
			j++;
		bool id = j > i && i > 0 && (name[i - 1] == ':' || name[i - 1] == ' ') &&
			  (j == len || name[j] == ']' || name[j] == ':' || name[j] == ' ');
		const char *piece = id ? "*" : name + i;
		size_t plen = id ? 1 : (j > i ? j - i : 1);
		for (size_t k = 0; k < plen; k++, n++)
			if (size && n < size - 1)
				buf[n] = piece[k];
		i = j > i ? j : i + 1;
	}
	if (size)
		buf[n < size - 1 ? n : size - 1] = '\0';
	return n;
}

/* ---- keys ---- */

enum key_tag { TAG_FILE = 1, TAG_NAMED, TAG_ANON_NAMED, TAG_SHMEM, TAG_ANON,
	       TAG_AGGREGATE, TAG_START };

static uint64_t mix(uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v[4] = { tag, a, b, c };
	return snap_hash64(v, sizeof(v));
}

static uint64_t perms_word(const snap_region *r)
{
	uint32_t w;
	memcpy(&w, r->perms, 4);
	return w;
}

static uint64_t anon_name_hash(const snap_region *r)
{
	char small[256];
	size_t n = snap_anon_name_key(small, sizeof(small), r->path, r->path_len);
	if (n < sizeof(small))
		return snap_hash64(small, n);
	char *big = malloc(n + 1);
	if (!big) /* a name too long to strip: keep it whole */
		return snap_hash64(r->path, r->path_len);
	snap_anon_name_key(big, n + 1, r->path, r->path_len);
	uint64_t h = snap_hash64(big, n);
	free(big);
	return h;
}

static uint64_t undeleted_hash(const snap_region *r)
{
	return snap_hash64(r->path, snap_path_undeleted(r, NULL));
}

static void key_region(snap_identity *id, size_t i, uint64_t anchor)
{
	const snap_region *r = &id->snap->regions[i];
	enum snap_kind kind = id->kinds[i];
	uint8_t cls = SNAP_MATCH_SIMILAR;
	uint64_t key;
	switch (kind) {
	case SNAP_KIND_EXE:
	case SNAP_KIND_LIB:
	case SNAP_KIND_FILE: {
		uint32_t ordinal = id->image_of[i] >= 0 ?
				   id->images[id->image_of[i]].ordinal : 0;
		key = mix(TAG_FILE, undeleted_hash(r), r->offset,
			  perms_word(r) << 32 | ordinal);
		cls = SNAP_MATCH_EXACT;
		break;
	}
	case SNAP_KIND_HEAP:
	case SNAP_KIND_STACK:
	case SNAP_KIND_SPECIAL:
		key = mix(TAG_NAMED, undeleted_hash(r), perms_word(r), 0);
		cls = SNAP_MATCH_EXACT;
		break;
	case SNAP_KIND_ANON_NAMED:
		key = mix(TAG_ANON_NAMED, anon_name_hash(r), perms_word(r), 0);
		break;
	case SNAP_KIND_SHMEM:
		key = mix(TAG_SHMEM, undeleted_hash(r), perms_word(r), 0);
		break;
	case SNAP_KIND_THREAD_STACK:
	case SNAP_KIND_ARENA:
	case SNAP_KIND_GUARD:
		key = mix(TAG_AGGREGATE, kind, 0, 0);
		cls = SNAP_MATCH_AGGREGATE;
		break;
	default:
		key = mix(TAG_ANON, anchor, perms_word(r), 0);
		break;
	}
	id->keys[i] = key;
	id->classes[i] = cls;
}

static void build_keys(snap_identity *id)
{
	uint64_t anchor = mix(TAG_START, 0, 0, 0);
	for (size_t i = 0; i < id->snap->nregions; i++) {
		key_region(id, i, anchor);
		if (id->snap->regions[i].path_len > 0)
			anchor = id->keys[i];
	}
}

/* ---- images ---- */

static bool is_image_kind(enum snap_kind k)
{
	return k == SNAP_KIND_EXE || k == SNAP_KIND_LIB || k == SNAP_KIND_FILE;
}

/* Whether region i continues the image that holds region i - 1. */
static bool continues(const snap_identity *id, size_t i)
{
	if (i == 0 || id->image_of[i - 1] < 0)
		return false;
	const snap_region *prev = &id->snap->regions[i - 1];
	const snap_region *r = &id->snap->regions[i];
	return r->inode == prev->inode && r->dev_major == prev->dev_major &&
	       r->dev_minor == prev->dev_minor && r->offset != 0 &&
	       r->offset >= prev->offset;
}

static int build_images(snap_identity *id, int rss_field)
{
	const snap_snapshot *snap = id->snap;
	u64map ordinals;
	if (u64map_init(&ordinals, 64) < 0)
		return SNAP_ENOMEM;
	size_t cap = 0;
	int rc = SNAP_OK;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		id->image_of[i] = -1;
		if (!is_image_kind(id->kinds[i]) || r->inode == 0)
			continue;
		if (!continues(id, i)) {
			if (array_grow(&id->images, &cap, id->nimages, sizeof(*id->images),
				       64) < 0) {
				rc = SNAP_ENOMEM;
				break;
			}
			bool added;
			snap_image *img = &id->images[id->nimages++];
			memset(img, 0, sizeof(*img));
			img->first = i;
			img->kind = id->kinds[i];
			img->path = r->path;
			img->path_len = snap_path_undeleted(r, &img->deleted);
			img->inode = r->inode;
			img->dev_major = r->dev_major;
			img->dev_minor = r->dev_minor;
			uint32_t *seen = u64map_put(&ordinals, undeleted_hash(r), 0, &added);
			if (!seen) {
				rc = SNAP_ENOMEM;
				break;
			}
			img->ordinal = (*seen)++;
		}
		snap_image *img = &id->images[id->nimages - 1];
		img->count++;
		img->size_kb = ck_sat_add_u64(img->size_kb, (r->end - r->start) >> 10);
		img->rss_kb = ck_sat_add_u64(img->rss_kb,
					     rss_field >= 0 ? snap_region_value(r, rss_field) : 0);
		id->image_of[i] = (int32_t)(id->nimages - 1);
	}
	u64map_free(&ordinals);
	return rc;
}

/* ---- duplicated libraries ---- */

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static uint64_t lib_name_hash(const snap_image *img)
{
	char name[512];
	size_t n = snap_lib_name(name, sizeof(name), img->path, img->path_len);
	return snap_hash64(name, n < sizeof(name) ? n : sizeof(name) - 1);
}

static uint64_t inode_hash(const snap_image *img)
{
	return mix(img->inode, img->dev_major, img->dev_minor, 0);
}

/* Joins library images that share a name or an inode; shared[i] is set
 * when image i shares its inode with another. */
static int join_libraries(snap_identity *id, size_t *parent, bool *shared)
{
	u64map by_name, by_inode;
	if (u64map_init(&by_name, id->nimages) < 0)
		return SNAP_ENOMEM;
	if (u64map_init(&by_inode, id->nimages) < 0) {
		u64map_free(&by_name);
		return SNAP_ENOMEM;
	}
	int rc = SNAP_OK;
	for (size_t i = 0; i < id->nimages && rc == SNAP_OK; i++) {
		parent[i] = i;
		if (id->images[i].kind != SNAP_KIND_LIB)
			continue;
		bool added;
		uint32_t *first = u64map_put(&by_name, lib_name_hash(&id->images[i]),
					     (uint32_t)i, &added);
		if (!first) {
			rc = SNAP_ENOMEM;
			break;
		}
		if (!added)
			parent[uf_find(parent, i)] = uf_find(parent, *first);
		first = u64map_put(&by_inode, inode_hash(&id->images[i]), (uint32_t)i,
				   &added);
		if (!first) {
			rc = SNAP_ENOMEM;
			break;
		}
		if (!added) {
			shared[i] = shared[*first] = true;
			parent[uf_find(parent, i)] = uf_find(parent, *first);
		}
	}
	u64map_free(&by_name);
	u64map_free(&by_inode);
	return rc;
}

static int collect_dups(snap_identity *id, size_t *parent, const bool *shared)
{
	size_t *count = calloc(id->nimages + 1, sizeof(*count));
	if (!count)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < id->nimages; i++)
		count[uf_find(parent, i)]++;
	for (size_t i = 0; i < id->nimages; i++)
		if (parent[i] == i && count[i] > 1)
			id->ndups++;
	id->dups = arena_alloc(id->arena, id->ndups * sizeof(*id->dups) + 1);
	int rc = id->dups ? SNAP_OK : SNAP_ENOMEM;
	size_t d = 0;
	for (size_t root = 0; root < id->nimages && rc == SNAP_OK; root++) {
		if (parent[root] != root || count[root] < 2)
			continue;
		snap_duplicate *dup = &id->dups[d++];
		size_t *images = arena_alloc(id->arena, count[root] * sizeof(*images));
		char name[512];
		const snap_image *img = &id->images[root];
		size_t n = snap_lib_name(name, sizeof(name), img->path, img->path_len);
		dup->name = arena_strndup(id->arena, name,
					  n < sizeof(name) ? n : sizeof(name) - 1);
		if (!images || !dup->name) {
			rc = SNAP_ENOMEM;
			break;
		}
		for (size_t i = root; i < id->nimages; i++)
			if (uf_find(parent, i) == root) {
				images[dup->nimages++] = i;
				dup->same_file |= shared[i];
			}
		dup->images = images;
	}
	free(count);
	return rc;
}

static int find_duplicates(snap_identity *id)
{
	size_t *parent = malloc((id->nimages + 1) * sizeof(*parent));
	bool *shared = calloc(id->nimages + 1, sizeof(*shared));
	int rc = parent && shared ? SNAP_OK : SNAP_ENOMEM;
	if (rc == SNAP_OK)
		rc = join_libraries(id, parent, shared);
	if (rc == SNAP_OK)
		rc = collect_dups(id, parent, shared);
	free(parent);
	free(shared);
	return rc;
}

/* ---- the identity object ---- */

int snap_identity_new(snap_identity **out, const snap_snapshot *snap)
{
	size_t n = snap->nregions + 1;
	snap_identity *id = calloc(1, sizeof(*id));
	if (!id)
		return SNAP_ENOMEM;
	id->snap = snap;
	id->arena = arena_new();
	id->kinds = malloc(n * sizeof(*id->kinds));
	id->keys = malloc(n * sizeof(*id->keys));
	id->classes = malloc(n);
	id->image_of = malloc(n * sizeof(*id->image_of));
	int rc = SNAP_ENOMEM;
	if (!id->arena || !id->kinds || !id->keys || !id->classes || !id->image_of)
		goto out;
	snap_classify(snap, id->kinds);
	if ((rc = build_images(id, snap_field_find(snap, "Rss"))) < 0 ||
	    (rc = find_duplicates(id)) < 0)
		goto out;
	build_keys(id);
	for (size_t i = 0; i < snap->nregions; i++)
		id->thread_stacks += id->kinds[i] == SNAP_KIND_THREAD_STACK;
	*out = id;
	return SNAP_OK;
out:
	snap_identity_free(id);
	return rc;
}

void snap_identity_free(snap_identity *id)
{
	if (!id)
		return;
	free(id->kinds);
	free(id->keys);
	free(id->classes);
	free(id->image_of);
	free(id->images);
	arena_free(id->arena);
	free(id);
}
