#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A snapshot and what the library keeps of it, in one allocation. */
struct snapshot_block {
	snap_snapshot pub;
	struct snap_snapshot_internal in;
};

int snap_snapshot_new(snap_snapshot **out, snap_error *err)
{
	struct snapshot_block *block = calloc(1, sizeof(*block));
	snap_snapshot *snap = block ? &block->pub : NULL;
	if (!block || !(block->in.arena = arena_new())) {
		free(block);
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0,
				      "out of memory creating a snapshot");
	}
	snap->internal = &block->in;
	snap->capture_ms = -1;
	snap->process.pid = -1;
	snap->process.start_time = -1;
	snap->process.threads = -1;
	*out = snap;
	return SNAP_OK;
}

void snap_snapshot_free(snap_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->regions);
	free(snap->fields);
	free(snap->internal->field_slots);
	arena_free(snap->internal->arena);
	free(snap);
}

const char *snap_snapshot_strndup(snap_snapshot *snap, const char *s, size_t n)
{
	return arena_strndup(snap->internal->arena, s, n);
}

const char *snap_snapshot_strdup(snap_snapshot *snap, const char *s)
{
	return s ? arena_strndup(snap->internal->arena, s, strlen(s)) : NULL;
}

void *snap_snapshot_alloc(snap_snapshot *snap, size_t size)
{
	return arena_alloc(snap->internal->arena, size);
}

static bool field_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '(' ||
	       c == ')' || c == '-';
}

bool snap_field_name_valid(const char *name, size_t len)
{
	/* Kernel fields start with a capital; the region's own JSON members
	 * (start, path, ...) do not, and VmFlags has a line of its own. */
	if (len == 0 || len > 64 || name[0] < 'A' || name[0] > 'Z' ||
	    (len == 7 && memcmp(name, "VmFlags", 7) == 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!field_name_char((unsigned char)name[i]))
			return false;
	return true;
}

/* Field names are interned through an open-addressing table of field
 * indexes (plus one; 0 is a free slot), so a snapshot that names tens of
 * thousands of fields loads in linear time. */
static size_t field_slot(const snap_snapshot *snap, const char *name, size_t len)
{
	size_t mask = snap->internal->field_slots_cap - 1;
	size_t i = (size_t)snap_hash64(name, len) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t v = snap->internal->field_slots[i];
		if (!v)
			return i;
		const char *f = snap->fields[v - 1].name;
		if (strncmp(f, name, len) == 0 && f[len] == '\0')
			return i;
	}
}

/* Keeps the table at most half full. */
static int field_index_grow(snap_snapshot *snap)
{
	size_t cap = snap->internal->field_slots_cap ? snap->internal->field_slots_cap : 64;
	while (cap / 2 <= snap->nfields + 1)
		if (ck_mul_size(&cap, cap, 2))
			return SNAP_ENOMEM;
	if (cap == snap->internal->field_slots_cap)
		return SNAP_OK;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return SNAP_ENOMEM;
	free(snap->internal->field_slots);
	snap->internal->field_slots = slots;
	snap->internal->field_slots_cap = cap;
	for (size_t k = 0; k < snap->nfields; k++) {
		const char *f = snap->fields[k].name;
		slots[field_slot(snap, f, strlen(f))] = (uint32_t)k + 1;
	}
	return SNAP_OK;
}

int snap_field_find(const snap_snapshot *snap, const char *name)
{
	if (!snap->internal->field_slots_cap)
		return -1;
	uint32_t v = snap->internal->field_slots[field_slot(snap, name, strlen(name))];
	return v ? (int)v - 1 : -1;
}

static int intern_failed(snap_error *err, const char *name, size_t len)
{
	return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory adding the "
			      "field %.*s to the snapshot", (int)(len < 64 ? len : 64), name);
}

int snap_field_intern(snap_snapshot *snap, const char *name, size_t len,
		      enum snap_unit unit, snap_error *err)
{
	if (field_index_grow(snap) < 0)
		return intern_failed(err, name, len);
	size_t slot = field_slot(snap, name, len);
	if (snap->internal->field_slots[slot])
		return (int)snap->internal->field_slots[slot] - 1;
	if (snap->nfields >= INT32_MAX)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "more than %d fields in "
				      "one snapshot", INT32_MAX);
	if (array_grow(&snap->fields, &snap->internal->fields_cap, snap->nfields,
		       sizeof(*snap->fields), 32) < 0)
		return intern_failed(err, name, len);
	const char *copy = arena_strndup(snap->internal->arena, name, len);
	if (!copy)
		return intern_failed(err, name, len);
	snap->fields[snap->nfields] = (snap_field){ copy, unit };
	snap->internal->field_slots[slot] = (uint32_t)snap->nfields + 1;
	return (int)snap->nfields++;
}

/* The region's layout in snap's storage, shared with the previous region
 * when they printed the same lines (nearly always). */
static const uint32_t *store_layout(snap_snapshot *snap, const uint32_t *layout,
				    uint16_t n)
{
	/* A caller may hand back the stored copy itself (the JSON loader
	 * does, for a long layout shared by every region). */
	if (snap->internal->last_layout && snap->internal->last_nlayout == n &&
	    (layout == snap->internal->last_layout ||
	     memcmp(snap->internal->last_layout, layout, n * sizeof(*layout)) == 0))
		return snap->internal->last_layout;
	uint32_t *copy = arena_alloc(snap->internal->arena, ((size_t)n + 1) * sizeof(*copy));
	if (!copy)
		return NULL;
	memcpy(copy, layout, n * sizeof(*copy));
	snap->internal->last_layout = copy;
	snap->internal->last_nlayout = n;
	return copy;
}

/* A process has a handful of distinct VmFlags strings: keep each once. */
static const char *store_flags(snap_snapshot *snap, const char *flags)
{
	size_t n = sizeof(snap->internal->flag_cache) / sizeof(*snap->internal->flag_cache);
	for (size_t i = 0; i < n && snap->internal->flag_cache[i]; i++)
		if (strcmp(snap->internal->flag_cache[i], flags) == 0)
			return snap->internal->flag_cache[i];
	const char *copy = arena_strndup(snap->internal->arena, flags, strlen(flags));
	if (copy) {
		memmove(snap->internal->flag_cache + 1, snap->internal->flag_cache,
			(n - 1) * sizeof(*snap->internal->flag_cache));
		snap->internal->flag_cache[0] = copy;
	}
	return copy;
}

static bool worth_storing(const snap_entry *e)
{
	return e->is_text || e->value != 0;
}

static int store_entries(snap_snapshot *snap, const snap_region *r,
			 snap_region *copy)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nentries; i++)
		n += worth_storing(&r->entries[i]);
	snap_entry *entries = arena_alloc(snap->internal->arena, (n + 1) * sizeof(*entries));
	if (!entries)
		return SNAP_ENOMEM;
	n = 0;
	for (size_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		if (!worth_storing(e))
			continue;
		entries[n] = *e;
		if (e->is_text && !(entries[n].text = arena_strndup(snap->internal->arena, e->text,
								    strlen(e->text))))
			return SNAP_ENOMEM;
		n++;
	}
	copy->entries = entries;
	copy->nentries = (uint16_t)n;
	return SNAP_OK;
}

#define DERIVED_LAYOUT_MAX 256

static int add_region(snap_snapshot *snap, const snap_region *r)
{
	if (array_grow(&snap->regions, &snap->internal->regions_cap, snap->nregions,
		       sizeof(*snap->regions), 256) < 0)
		return SNAP_ENOMEM;
	snap_region copy = *r;
	copy.path = r->path_len ? arena_strndup(snap->internal->arena, r->path, r->path_len) : "";
	if (!copy.path)
		return SNAP_ENOMEM;
	if (r->vmflags && !(copy.vmflags = store_flags(snap, r->vmflags)))
		return SNAP_ENOMEM;
	uint32_t derived[DERIVED_LAYOUT_MAX];
	const uint32_t *layout = r->layout;
	uint16_t nlayout = r->nlayout;
	if (!layout) { /* every given entry was printed */
		for (size_t i = 0; i < r->nentries; i++)
			derived[i] = r->entries[i].field;
		layout = derived;
		nlayout = r->nentries;
	}
	if (!(copy.layout = store_layout(snap, layout, nlayout)))
		return SNAP_ENOMEM;
	copy.nlayout = nlayout;
	if (store_entries(snap, r, &copy) < 0)
		return SNAP_ENOMEM;
	snap->regions[snap->nregions++] = copy;
	return SNAP_OK;
}

int snap_snapshot_add_region(snap_snapshot *snap, const snap_region *r, snap_error *err)
{
	if (!r->layout && r->nentries > DERIVED_LAYOUT_MAX)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "region %" PRIx64 "-%"
				      PRIx64 ": %u entries and no layout (at most %d "
				      "without one)", r->start, r->end,
				      (unsigned)r->nentries, DERIVED_LAYOUT_MAX);
	if (add_region(snap, r) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory adding "
				      "region %" PRIx64 "-%" PRIx64 " to the snapshot",
				      r->start, r->end);
	return SNAP_OK;
}

const char *snap_entry_text(const snap_entry *e)
{
	return e->is_text ? e->text : NULL;
}

bool snap_region_printed(const snap_region *r, int field)
{
	for (size_t i = 0; i < r->nlayout; i++)
		if ((int)r->layout[i] == field)
			return true;
	return false;
}

uint64_t snap_region_value(const snap_region *r, int field)
{
	for (size_t i = 0; i < r->nentries; i++)
		if ((int)r->entries[i].field == field && !r->entries[i].is_text)
			return r->entries[i].value;
	return 0;
}

uint64_t snap_region_get(const snap_snapshot *snap, const snap_region *r,
			 const char *name)
{
	int field = snap_field_find(snap, name);
	return field < 0 ? 0 : snap_region_value(r, field);
}

bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, token, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

bool snap_region_has_flag(const snap_region *r, const char *token)
{
	return r->vmflags && has_token(r->vmflags, token);
}

/* ---- mapped files ---- */

const snap_file *snap_snapshot_file(const snap_snapshot *snap, uint32_t dev_major,
				    uint32_t dev_minor, uint64_t inode)
{
	for (size_t i = 0; i < snap->nfiles; i++) {
		const snap_file *f = &snap->files[i];
		if (f->inode == inode && f->dev_major == dev_major && f->dev_minor == dev_minor)
			return f;
	}
	return NULL;
}

/* The table lives in the snapshot's arena: a few hundred entries, grown
 * by copying, freed with the snapshot. */
int snap_snapshot_add_file(snap_snapshot *snap, const snap_file *file, snap_error *err)
{
	snap_file *at = (snap_file *)snap_snapshot_file(snap, file->dev_major,
						       file->dev_minor, file->inode);
	if (at) {
		*at = *file;
		return SNAP_OK;
	}
	if (snap->nfiles == snap->internal->files_cap) {
		size_t cap = snap->internal->files_cap ? snap->internal->files_cap * 2 : 32;
		snap_file *bigger = arena_alloc(snap->internal->arena, cap * sizeof(*bigger));
		if (!bigger)
			return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory adding "
					      "the mapped file %u:%u %" PRIu64 " to the "
					      "snapshot", file->dev_major, file->dev_minor,
					      file->inode);
		if (snap->nfiles)
			memcpy(bigger, snap->files, snap->nfiles * sizeof(*bigger));
		snap->files = bigger;
		snap->internal->files_cap = cap;
	}
	snap->files[snap->nfiles++] = *file;
	return SNAP_OK;
}

int snap_region_check(const snap_snapshot *snap, const snap_region *r, snap_error *err)
{
	int rss = snap_field_find(snap, "Rss");
	uint64_t size_kb = (r->end - r->start) >> 10;
	for (size_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		if (e->is_text)
			continue;
		const char *name = snap->fields[e->field].name;
		if (e->value > SNAP_COUNTER_MAX)
			return snap_error_set(err, SNAP_EFORMAT, NULL, 0, "%s %" PRIu64 " is "
					      "more than 2^52 (no kernel prints that)", name,
					      e->value);
		if ((int)e->field == rss && e->value > size_kb)
			return snap_error_set(err, SNAP_EFORMAT, NULL, 0, "Rss %" PRIu64 " kB "
					      "is more than the region's size, %" PRIu64 " kB",
					      e->value, size_kb);
	}
	return SNAP_OK;
}
