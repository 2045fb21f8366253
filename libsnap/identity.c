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

/* ---- images ---- */

static bool is_image_kind(enum snap_kind k)
{
	return k == SNAP_KIND_EXE || k == SNAP_KIND_LIB || k == SNAP_KIND_FILE;
}

static bool same_file(const snap_region *a, const snap_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/* Whether region i continues the image that holds region i - 1: a gap
 * of it, or another mapping of its file that does not start the file
 * over (a mapping at offset 0 is a new load). Unmapped pages may lie
 * between segments: the kernel maps a program's PT_LOAD segments one by
 * one and unmaps what lies between them (Chromium's executable). */
static bool continues(const snap_identity *id, size_t i)
{
	if (i == 0 || id->image_of[i - 1] < 0)
		return false;
	const snap_image *img = &id->images[id->image_of[i - 1]];
	const snap_region *r = &id->snap->regions[i];
	if (id->kinds[i] != img->kind)
		return false;
	if (id->evidence[i] == SNAP_EV_IMAGE_GAP)
		return true;
	return same_file(r, &id->snap->regions[img->first]) && r->offset != 0;
}

static bool prefix_of(const char *prefix, const char *path, size_t len)
{
	size_t n = strlen(prefix);
	return n <= len && memcmp(prefix, path, n) == 0 && (n == len || path[n] == '/');
}

/* The hash of a path as the identity's path maps rewrite it. */
static uint64_t mapped_path_hash(const snap_identity *id, const char *path, size_t len)
{
	for (size_t m = 0; m < id->internal->nmaps; m++) {
		const snap_path_map *map = &id->internal->maps[m];
		if (!prefix_of(map->from, path, len))
			continue;
		size_t to = strlen(map->to), rest = len - strlen(map->from);
		char *buf = malloc(to + rest + 1);
		if (!buf) /* out of memory: the path as it is */
			break;
		memcpy(buf, map->to, to);
		memcpy(buf + to, path + len - rest, rest);
		uint64_t h = snap_hash64(buf, to + rest);
		free(buf);
		return h;
	}
	return snap_hash64(path, len);
}

static uint64_t undeleted_hash(const snap_identity *id, const snap_region *r)
{
	return mapped_path_hash(id, r->path, snap_path_undeleted(r, NULL));
}

static uint64_t lib_name_hash_of(const char *path, size_t len)
{
	char name[512];
	size_t n = snap_lib_name(name, sizeof(name), path, len);
	return snap_hash64(name, n < sizeof(name) ? n : sizeof(name) - 1);
}

/* The build-id a capture read for the image's file, or NULL. */
static const snap_build_id *image_build(const snap_image *img)
{
	return img->file && img->file->build_id.len ? &img->file->build_id : NULL;
}

static uint64_t build_hash(const snap_build_id *b)
{
	return snap_hash64(b->bytes, b->len);
}

/* Counts one more image under key in m; *ordinal gets its number. */
static int next_ordinal(u64map *m, uint64_t key, uint32_t *ordinal)
{
	bool added;
	uint32_t *seen = u64map_put(m, key, 0, &added);
	if (!seen)
		return SNAP_ENOMEM;
	*ordinal = (*seen)++;
	return SNAP_OK;
}

/* Numbers the images of one path, of one library name and of one build
 * 0, 1, ... */
static int number_images(snap_identity *id)
{
	u64map by_path, by_name, by_build;
	int rc = u64map_init(&by_path, id->nimages);
	if (rc == SNAP_OK && (rc = u64map_init(&by_name, id->nimages)) < 0)
		u64map_free(&by_path);
	if (rc == SNAP_OK && (rc = u64map_init(&by_build, id->nimages)) < 0) {
		u64map_free(&by_path);
		u64map_free(&by_name);
	}
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < id->nimages && rc == SNAP_OK; k++) {
		snap_image *img = &id->images[k];
		const snap_build_id *b = image_build(img);
		if ((rc = next_ordinal(&by_path, snap_hash64(img->path, img->path_len),
				       &img->ordinal)) == SNAP_OK &&
		    (rc = next_ordinal(&by_name, lib_name_hash_of(img->path, img->path_len),
				       &img->name_ordinal)) == SNAP_OK && b)
			rc = next_ordinal(&by_build, build_hash(b), &img->build_ordinal);
	}
	u64map_free(&by_path);
	u64map_free(&by_name);
	u64map_free(&by_build);
	return rc;
}

static snap_image *open_image(snap_identity *id, size_t *cap, size_t i)
{
	if (array_grow(&id->images, cap, id->nimages, sizeof(*id->images), 64) < 0)
		return NULL;
	const snap_region *r = &id->snap->regions[i];
	snap_image *img = &id->images[id->nimages++];
	memset(img, 0, sizeof(*img));
	img->first = i;
	img->kind = id->kinds[i];
	img->path = r->path;
	img->path_len = snap_path_undeleted(r, &img->deleted);
	img->inode = r->inode;
	img->dev_major = r->dev_major;
	img->dev_minor = r->dev_minor;
	img->bss = -1;
	img->file = snap_snapshot_file(id->snap, r->dev_major, r->dev_minor, r->inode);
	return img;
}

static int build_images(snap_identity *id, int rss_field)
{
	const snap_snapshot *snap = id->snap;
	size_t cap = 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		id->image_of[i] = -1;
		id->attached[i] = -1;
		if (id->evidence[i] == SNAP_EV_BSS && i && id->image_of[i - 1] >= 0) {
			id->attached[i] = id->image_of[i - 1];
			id->images[id->image_of[i - 1]].bss = (int64_t)i;
			continue;
		}
		if (!is_image_kind(id->kinds[i]))
			continue;
		if (!continues(id, i)) {
			if (r->inode == 0)
				continue; /* a gap with no image below it */
			if (!open_image(id, &cap, i))
				return SNAP_ENOMEM;
		}
		snap_image *img = &id->images[id->nimages - 1];
		img->count++;
		img->has_offset0 |= r->inode != 0 && r->offset == 0;
		img->size_kb = ck_sat_add_u64(img->size_kb, (r->end - r->start) >> 10);
		img->rss_kb = ck_sat_add_u64(img->rss_kb,
					     rss_field >= 0 ? snap_region_value(r, rss_field) : 0);
		id->image_of[i] = (int32_t)(id->nimages - 1);
	}
	return number_images(id);
}

/* ---- keys ---- */

enum key_tag { TAG_FILE = 1, TAG_NAMED, TAG_ANON_NAMED, TAG_SHMEM, TAG_ANON,
	       TAG_GAP, TAG_BSS, TAG_BUILD };

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

/* What an image is: its build when known (the same build at another
 * path is the same image), else its path; and which load of it. */
static uint64_t image_identity(const snap_identity *id, const snap_image *img,
			       bool by_path, uint32_t *ordinal)
{
	const snap_build_id *b = by_path ? NULL : image_build(img);
	*ordinal = b ? img->build_ordinal : img->ordinal;
	return b ? mix(TAG_BUILD, build_hash(b), 0, 0)
		 : mapped_path_hash(id, img->path, img->path_len);
}

/* A segment of an image: the image, the offset and perms; a gap: the
 * image and its place in it. */
static uint64_t image_key(const snap_identity *id, size_t i, bool by_path)
{
	const snap_region *r = &id->snap->regions[i];
	const snap_image *img = &id->images[id->image_of[i]];
	uint32_t ordinal;
	uint64_t what = image_identity(id, img, by_path, &ordinal);
	if (r->inode != 0)
		return mix(TAG_FILE, what, r->offset, perms_word(r) << 32 | ordinal);
	return mix(TAG_GAP, what, i - img->first, ordinal);
}

/* .bss follows its image: by build, or by library name (not path), so a
 * library moved to another path keeps its .bss matched. */
static uint64_t bss_key(const snap_identity *id, size_t i, bool by_path)
{
	const snap_image *img = &id->images[id->attached[i]];
	const snap_build_id *b = by_path ? NULL : image_build(img);
	uint64_t what = b ? build_hash(b) : lib_name_hash_of(img->path, img->path_len);
	return mix(TAG_BSS, what, b ? img->build_ordinal : img->name_ordinal,
		   perms_word(&id->snap->regions[i]));
}

static void key_region(snap_identity *id, size_t i)
{
	const snap_region *r = &id->snap->regions[i];
	enum snap_kind kind = id->kinds[i];
	uint8_t cls = SNAP_MATCH_EXACT;
	uint64_t key, by_path = 0;
	if (id->image_of[i] >= 0) {
		key = image_key(id, i, false);
		by_path = image_key(id, i, true);
	} else if (id->attached[i] >= 0) {
		key = bss_key(id, i, false);
		by_path = bss_key(id, i, true);
	} else if (kind == SNAP_KIND_HEAP || kind == SNAP_KIND_STACK ||
		   kind == SNAP_KIND_SPECIAL ||
		   (is_image_kind(kind) && r->path_len > 0)) {
		key = mix(TAG_NAMED, undeleted_hash(id, r), perms_word(r), 0);
	} else if (kind == SNAP_KIND_ANON_NAMED) {
		key = mix(TAG_ANON_NAMED, anon_name_hash(r), perms_word(r), 0);
		cls = SNAP_MATCH_SIMILAR;
	} else if (kind == SNAP_KIND_SHMEM) {
		key = mix(TAG_SHMEM, undeleted_hash(id, r), perms_word(r), 0);
		cls = SNAP_MATCH_SIMILAR;
	} else {
		key = mix(TAG_ANON, kind, perms_word(r), 0);
		cls = SNAP_MATCH_SIMILAR;
	}
	/* One kind of memory per match: a file that is the executable of one
	 * process and a data file of the other is not one object. */
	id->keys[i] = mix(key, kind, 0, 0);
	id->path_keys[i] = by_path ? mix(by_path, kind, 0, 0) : id->keys[i];
	id->classes[i] = cls;
}

static void build_keys(snap_identity *id)
{
	for (size_t i = 0; i < id->snap->nregions; i++)
		key_region(id, i);
}

/* ---- duplicated libraries ---- */

static uint64_t lib_name_hash(const snap_image *img)
{
	return lib_name_hash_of(img->path, img->path_len);
}

static uint64_t inode_hash(const snap_image *img)
{
	return mix(img->inode, img->dev_major, img->dev_minor, 0);
}

/* Joins library images that share a name or an inode; shared[i] is set
 * when image i shares its inode with another. */
/* Joins image i with the first image seen under key in m; returns the
 * first one's index, i itself when it is the first, or -1 on ENOMEM. */
static long join_by(u64map *m, uint64_t key, size_t i, uint32_t *parent)
{
	bool added;
	uint32_t *first = u64map_put(m, key, (uint32_t)i, &added);
	if (!first)
		return -1;
	if (!added)
		uf_join(parent, (uint32_t)i, *first);
	return (long)*first;
}

/* Joins library loads that share a name, an inode or a build-id;
 * shared[i] is set when image i shares its inode with another. */
static int join_libraries(snap_identity *id, uint32_t *parent, bool *shared)
{
	u64map by_name, by_inode, by_build;
	int rc = u64map_init(&by_name, id->nimages);
	if (rc == SNAP_OK && (rc = u64map_init(&by_inode, id->nimages)) < 0)
		u64map_free(&by_name);
	if (rc == SNAP_OK && (rc = u64map_init(&by_build, id->nimages)) < 0) {
		u64map_free(&by_name);
		u64map_free(&by_inode);
	}
	if (rc < 0)
		return rc;
	uf_init(parent, id->nimages);
	for (size_t i = 0; i < id->nimages && rc == SNAP_OK; i++) {
		const snap_image *img = &id->images[i];
		/* Only loads count: a file mapped again from another offset
		 * is not the library loaded twice. */
		if (img->kind != SNAP_KIND_LIB || !img->has_offset0)
			continue;
		const snap_build_id *b = image_build(img);
		long same_inode;
		if (join_by(&by_name, lib_name_hash(img), i, parent) < 0 ||
		    (same_inode = join_by(&by_inode, inode_hash(img), i, parent)) < 0 ||
		    (b && join_by(&by_build, build_hash(b), i, parent) < 0)) {
			rc = SNAP_ENOMEM;
			break;
		}
		if ((size_t)same_inode != i)
			shared[i] = shared[same_inode] = true;
	}
	u64map_free(&by_name);
	u64map_free(&by_inode);
	u64map_free(&by_build);
	return rc;
}

/* Two builds of one library is worse than one file or one build loaded
 * twice: say which. */
static enum snap_dup_kind dup_kind(const snap_identity *id, const snap_duplicate *dup)
{
	const snap_build_id *first = NULL;
	bool unknown = false, two = false;
	for (size_t k = 0; k < dup->nimages; k++) {
		const snap_build_id *b = image_build(&id->images[dup->images[k]]);
		if (!b)
			unknown = true;
		else if (!first)
			first = b;
		else if (b->len != first->len || memcmp(b->bytes, first->bytes, b->len) != 0)
			two = true;
	}
	if (two)
		return SNAP_DUP_TWO_BUILDS;
	if (dup->same_file)
		return SNAP_DUP_SAME_FILE;
	return first && !unknown ? SNAP_DUP_SAME_BUILD : SNAP_DUP_SAME_NAME;
}

const char *snap_dup_kind_name(enum snap_dup_kind kind)
{
	static const char *const names[] = {
		[SNAP_DUP_SAME_FILE] = "same-file", [SNAP_DUP_SAME_BUILD] = "same-build",
		[SNAP_DUP_TWO_BUILDS] = "two-builds", [SNAP_DUP_SAME_NAME] = "same-name",
	};
	return (unsigned)kind < sizeof(names) / sizeof(*names) ? names[kind] : "?";
}

static int collect_dups(snap_identity *id, uint32_t *parent, const bool *shared)
{
	size_t *count = calloc(id->nimages + 1, sizeof(*count));
	if (!count)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < id->nimages; i++)
		count[uf_find(parent, (uint32_t)i)]++;
	for (size_t i = 0; i < id->nimages; i++)
		if (parent[i] == i && count[i] > 1)
			id->ndups++;
	id->dups = arena_alloc(id->internal->arena, id->ndups * sizeof(*id->dups) + 1);
	int rc = id->dups ? SNAP_OK : SNAP_ENOMEM;
	size_t d = 0;
	for (size_t root = 0; root < id->nimages && rc == SNAP_OK; root++) {
		if (parent[root] != root || count[root] < 2)
			continue;
		snap_duplicate *dup = &id->dups[d++];
		size_t *images = arena_alloc(id->internal->arena, count[root] * sizeof(*images));
		char name[512];
		const snap_image *img = &id->images[root];
		size_t n = snap_lib_name(name, sizeof(name), img->path, img->path_len);
		dup->name = arena_strndup(id->internal->arena, name,
					  n < sizeof(name) ? n : sizeof(name) - 1);
		if (!images || !dup->name) {
			rc = SNAP_ENOMEM;
			break;
		}
		for (size_t i = root; i < id->nimages; i++)
			if (uf_find(parent, (uint32_t)i) == root) {
				images[dup->nimages++] = i;
				dup->same_file |= shared[i];
			}
		dup->images = images;
		dup->kind = dup_kind(id, dup);
	}
	free(count);
	return rc;
}

static int find_duplicates(snap_identity *id)
{
	uint32_t *parent = malloc((id->nimages + 1) * sizeof(*parent));
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

int snap_identity_new(snap_identity **out, const snap_snapshot *snap, snap_error *err)
{
	return snap_identity_new_mapped(out, snap, NULL, 0, err);
}

int snap_path_map_parse(snap_path_map *map, char *text, snap_error *err)
{
	char *eq = strchr(text, '=');
	const char *why = !eq ? "no '='"
			  : text[0] != '/' ? "OLD is not an absolute path"
			  : eq == text + 1 ? "OLD is /, which would map every path"
			  : eq[1] != '/' ? "NEW is not an absolute path" : NULL;
	if (why)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad path map '%.300s': %s "
				      "(expected OLD=NEW, two absolute paths)", text, why);
	*eq = '\0';
	for (char *end = eq - 1; end > text && *end == '/'; end--)
		*end = '\0'; /* "/opt/app/" is "/opt/app" */
	for (char *end = eq + strlen(eq + 1); end > eq + 1 && *end == '/'; end--)
		*end = '\0';
	map->from = text;
	map->to = eq + 1;
	return SNAP_OK;
}

/* An identity and what the library keeps of it, in one allocation. */
struct identity_block {
	snap_identity pub;
	struct snap_identity_internal in;
};

static int identity_failed(const snap_snapshot *snap, snap_error *err)
{
	return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory building the "
			      "identity of %zu regions", snap->nregions);
}

int snap_identity_new_mapped(snap_identity **out, const snap_snapshot *snap,
			     const snap_path_map *maps, size_t nmaps, snap_error *err)
{
	size_t n = snap->nregions + 1;
	struct identity_block *block = calloc(1, sizeof(*block));
	if (!block)
		return identity_failed(snap, err);
	snap_identity *id = &block->pub;
	id->internal = &block->in;
	id->snap = snap;
	id->internal->maps = maps;
	id->internal->nmaps = nmaps;
	id->internal->arena = arena_new();
	id->kinds = malloc(n * sizeof(*id->kinds));
	id->evidence = malloc(n);
	id->keys = malloc(n * sizeof(*id->keys));
	id->path_keys = malloc(n * sizeof(*id->path_keys));
	id->classes = malloc(n);
	id->image_of = malloc(n * sizeof(*id->image_of));
	id->attached = malloc(n * sizeof(*id->attached));
	int rc = SNAP_ENOMEM;
	if (!id->internal->arena || !id->kinds || !id->evidence || !id->keys || !id->path_keys ||
	    !id->classes || !id->image_of || !id->attached)
		goto out;
	if ((rc = snap_classify(snap, id->kinds, id->evidence, &id->stacks, NULL)) < 0 ||
	    (rc = build_images(id, snap_field_find(snap, "Rss"))) < 0 ||
	    (rc = find_duplicates(id)) < 0)
		goto out;
	build_keys(id);
	id->internal->maps = NULL; /* the caller's: not kept past this call */
	id->internal->nmaps = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		id->thread_stacks += id->kinds[i] == SNAP_KIND_THREAD_STACK;
	*out = id;
	return SNAP_OK;
out:
	snap_identity_free(id);
	return rc == SNAP_ENOMEM ? identity_failed(snap, err)
		: snap_error_set(err, rc, NULL, 0, "cannot build the identity: %s",
				 snap_strerror(rc));
}

void snap_identity_free(snap_identity *id)
{
	if (!id)
		return;
	free(id->kinds);
	free(id->evidence);
	free(id->keys);
	free(id->path_keys);
	free(id->classes);
	free(id->image_of);
	free(id->attached);
	free(id->images);
	arena_free(id->internal->arena);
	free(id);
}
