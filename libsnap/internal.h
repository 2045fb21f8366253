/* Private helpers shared by libsnap's modules. Not installed. */
#ifndef SNAP_INTERNAL_H
#define SNAP_INTERNAL_H

#include "checked.h"
#include "snap.h"

/* A bump allocator (arena.c), below. */
typedef struct snap_arena snap_arena;

/* What a snapshot keeps for the library alone (model.c, capture.c). */
struct snap_snapshot_internal {
	snap_arena *arena;
	size_t regions_cap, fields_cap, files_cap;
	uint32_t *field_slots;       /* hash index of fields: index + 1, 0 free */
	size_t field_slots_cap;
	const snap_redact *redaction; /* of a capture that made its own key */
	/* comm and exe as a capture read them, before any redaction: it
	 * compares them again after reading smaps */
	uint64_t read_comm, read_exe;
	const uint32_t *last_layout; /* shared by regions that print alike */
	uint16_t last_nlayout;
	const char *flag_cache[16];  /* VmFlags strings stored once */
};

/* What an identity keeps for the library alone (identity.c). */
struct snap_identity_internal {
	snap_arena *arena;
	const snap_path_map *maps; /* while the keys are built */
	size_t nmaps;
};

/* What a diff keeps for the library alone (diff.c). */
struct snap_diff_internal {
	snap_arena *arena;
	void *pools; /* struct diff_storage */
};

/* What a check keeps for the library alone (check.c). */
struct snap_check_internal {
	int fields[SNAP_M_COUNT];
	size_t cap, skipped_cap;
	snap_arena *arena;
};

/* What a trend keeps for the library alone (series.c). */
struct snap_trend_internal {
	snap_arena *arena;
};

/* A bump allocator: many small strings and arrays freed all at once. */
snap_arena *arena_new(void);
void arena_free(snap_arena *a);
void *arena_alloc(snap_arena *a, size_t size); /* zeroed, 8-aligned */
char *arena_strndup(snap_arena *a, const char *s, size_t n);
/* Forgets everything allocated, keeping the first block for reuse. */
void arena_reset(snap_arena *a);

/* Reads a whole (proc) file into a malloc'd NUL-terminated buffer. */
int read_file_all(const char *path, char **out, size_t *len);

/* Room for element n of the array *items (a T ** passed as void *, with
 * elements of `size` bytes): when n reaches *cap, doubles it (from
 * `first`) and reallocates. SNAP_OK, or SNAP_ENOMEM with both unchanged. */
int array_regrow(void *items, size_t *cap, size_t size, size_t first);

/* Inline: parsers call it once per element, and nearly always there is room. */
static inline int array_grow(void *items, size_t *cap, size_t n, size_t size,
			     size_t first)
{
	return n < *cap ? SNAP_OK : array_regrow(items, cap, size, first);
}

/* True when token is one of the space-separated words of list. */
bool has_token(const char *list, const char *token);

/* Union-find over the indexes 0..n-1 (util.c): the diff's overlap
 * components, identity's duplicated libraries, the trend's merged tracks.
 * The lowest index of a set is its root, whatever order sets are joined
 * in, so a set's root is also its first member. */
void uf_init(uint32_t *parent, size_t n);
uint32_t uf_find(uint32_t *parent, uint32_t x);
void uf_join(uint32_t *parent, uint32_t x, uint32_t y);

/* Whether options of `type` ("snap_diff_opts") set by the caller are of
 * the version this library knows; SNAP_EINVAL with err saying so if not. */
int opts_version_check(unsigned int version, unsigned int known,
		       const char *type, snap_error *err);
/* ---- identity.c, diff.c, gate.c ---- */

/* An open-addressing map from 64-bit keys (XXH3 hashes, see snap_hash64)
 * to uint32 values, for the O(n) expected matching of the diff. */
typedef struct u64map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap, count;
} u64map;

int u64map_init(u64map *m, size_t expected);
void u64map_free(u64map *m);
/* The value slot of key, inserted with `fresh` when absent (*added then
 * true); NULL on ENOMEM. The pointer is valid until the next put. */
uint32_t *u64map_put(u64map *m, uint64_t key, uint32_t fresh, bool *added);
/* The value of key, or NULL. */
const uint32_t *u64map_get(const u64map *m, uint64_t key);

/* Field index of each measure in snap (-1 when it never printed it). */
void measure_fields(const snap_snapshot *snap, int fields[SNAP_M_COUNT]);
/* The measures of one region (regions = 1). */
void region_sums(const snap_region *r, const int fields[SNAP_M_COUNT],
		 snap_sums *out);
void sums_add(snap_sums *to, const snap_sums *add);

#endif
