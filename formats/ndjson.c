/* Region rows: one flat JSON object per region per line (NDJSON), with
 * the same members in the same order on every line, so a column store
 * declares the table once (formats/clickhouse/mapsnap.sql) and ingests
 * the rows as they are. The row schema is in formats/README.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* The smaps counters every row carries, zero when the kernel did not
 * print them: the per-region lines of kernels 4.14 to 6.18. Others go to
 * extra_names/extra_values, so no counter is lost and the table stays
 * fixed. */
static const char *const counter_names[] = {
	"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
	"Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
	"Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
	"ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
	"Swap", "SwapPss", "Locked", "THPeligible", "ProtectionKey",
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(*counter_names))
#define SIZE_COLUMN 0

const char *const *fmt_ndjson_counters(size_t *count)
{
	*count = NCOUNTERS;
	return counter_names;
}

struct row_writer {
	FILE *f;
	const snap_identity *id;
	char *prefix; /* the members every row of this snapshot shares */
	size_t prefix_len;
	int *column;  /* per snapshot field: its counter column, or -1 */
	char *line;
	size_t len, cap;
	uint64_t values[NCOUNTERS];
	uint32_t extra[64]; /* entries of fields outside the columns */
	size_t nextra;
};

/* ---- the line buffer ---- */

static int reserve(struct row_writer *w, size_t extra)
{
	if (w->len + extra <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + extra)
		cap *= 2;
	char *grown = realloc(w->line, cap);
	if (!grown)
		return SNAP_ENOMEM;
	w->line = grown;
	w->cap = cap;
	return 0;
}

/* Callers reserve first: these never grow the buffer. */
static void put(struct row_writer *w, const char *s, size_t n)
{
	memcpy(w->line + w->len, s, n);
	w->len += n;
}

static void put_lit(struct row_writer *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_dec(struct row_writer *w, uint64_t v)
{
	w->len += snap_format_dec(w->line + w->len, v);
}

static int flush(struct row_writer *w)
{
	size_t n = fwrite(w->line, 1, w->len, w->f);
	int rc = n == w->len ? 0 : SNAP_EIO;
	w->len = 0;
	return rc;
}

static bool plain_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* A JSON string: copied when it needs no escaping (nearly every path),
 * else escaped by the snapshot writer's escaper (json_write.c) straight
 * into the stream, after the row so far. */
static int put_string(struct row_writer *w, const char *s, size_t len)
{
	if (plain_ascii(s, len)) {
		if (reserve(w, len + 2) < 0)
			return SNAP_ENOMEM;
		put(w, "\"", 1);
		put(w, s, len);
		put(w, "\"", 1);
		return 0;
	}
	int rc = flush(w);
	fmt_json_put_string(w->f, s, len);
	return rc;
}

/* ---- what every row of a snapshot shares ---- */

static int put_cstr_member(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	fmt_json_put_string(f, value ? value : "", value ? strlen(value) : 0);
	return 0;
}

static int build_prefix(struct row_writer *w, const snap_snapshot *snap)
{
	const snap_process *p = &snap->process;
	double at = 0;
	if (!snap->captured_at || snap_parse_utc(snap->captured_at, &at, NULL) < 0)
		at = 0;
	FILE *f = open_memstream(&w->prefix, &w->prefix_len);
	if (!f)
		return SNAP_ENOMEM;
	fputs("{\"schema\":\"" FMT_NDJSON_SCHEMA "\"", f);
	put_cstr_member(f, "host", snap->host.hostname);
	put_cstr_member(f, "boot_id", snap->host.boot_id);
	fprintf(f, ",\"pid\":%ld,\"start_time\":%lld", p->known && p->pid > 0 ? p->pid : 0,
		p->known && p->start_time > 0 ? p->start_time : 0LL);
	put_cstr_member(f, "comm", p->known ? p->comm : NULL);
	put_cstr_member(f, "exe", p->known ? p->exe : NULL);
	fprintf(f, ",\"captured_at\":%.0f,\"captured_at_ms\":%.0f", floor(at),
		floor(at * 1000 + 0.5));
	return fclose(f) == 0 ? 0 : SNAP_ENOMEM;
}

static int map_columns(struct row_writer *w, const snap_snapshot *snap)
{
	w->column = malloc((snap->nfields + 1) * sizeof(*w->column));
	if (!w->column)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < snap->nfields; i++) {
		w->column[i] = -1;
		for (size_t c = 0; c < NCOUNTERS; c++)
			if (strcmp(snap->fields[i].name, counter_names[c]) == 0)
				w->column[i] = (int)c;
	}
	return 0;
}

/* ---- one row ---- */

static void collect_values(struct row_writer *w, const snap_region *r)
{
	memset(w->values, 0, sizeof(w->values));
	w->nextra = 0;
	bool has_size = false;
	for (size_t k = 0; k < r->nentries; k++) {
		const snap_entry *e = &r->entries[k];
		if (e->is_text)
			continue; /* vendor text lines have no column */
		int c = w->column[e->field];
		if (c >= 0) {
			w->values[c] = e->value;
			has_size |= c == SIZE_COLUMN;
		} else if (w->nextra < sizeof(w->extra) / sizeof(*w->extra)) {
			w->extra[w->nextra++] = (uint32_t)k;
		}
	}
	/* A region always has a size, whether or not a line said it. */
	if (!has_size)
		w->values[SIZE_COLUMN] = (r->end - r->start) >> 10;
}

static int put_identity(struct row_writer *w, size_t i)
{
	const snap_identity *id = w->id;
	int32_t image = id->image_of[i] >= 0 ? id->image_of[i] : id->attached[i];
	char lib[512];
	size_t lib_len = 0;
	if (image >= 0) {
		const snap_image *img = &id->images[image];
		if (img->kind == SNAP_KIND_LIB || img->kind == SNAP_KIND_EXE) {
			lib_len = snap_lib_name(lib, sizeof(lib), img->path, img->path_len);
			if (lib_len >= sizeof(lib))
				lib_len = sizeof(lib) - 1;
		}
	}
	if (reserve(w, 128) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"kind\":\"");
	put_lit(w, snap_kind_name(id->kinds[i]));
	put_lit(w, "\",\"evidence\":\"");
	put_lit(w, snap_evidence_name((enum snap_evidence)id->evidence[i]));
	put_lit(w, "\",\"key\":\"");
	w->len += snap_format_hex(w->line + w->len, id->keys[i], 16);
	put_lit(w, "\",\"lib\":");
	int rc = put_string(w, lib, lib_len);
	if (rc < 0 || reserve(w, 32) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"image\":");
	if (image < 0)
		put_lit(w, "-1");
	else
		put_dec(w, (uint64_t)image);
	return rc;
}

/* The build-id of the file a region belongs to (its image's, for gaps
 * and .bss too), or NULL: what capture read, when it read it. */
static const snap_build_id *build_id_of(const snap_identity *id, size_t i)
{
	int32_t image = id->image_of[i] >= 0 ? id->image_of[i] : id->attached[i];
	const snap_region *r = &id->snap->regions[i];
	const snap_file *file = image >= 0 ? id->images[image].file
		: r->inode ? snap_snapshot_file(id->snap, r->dev_major, r->dev_minor, r->inode)
			   : NULL;
	return file && file->build_id.len ? &file->build_id : NULL;
}

static int put_mapping(struct row_writer *w, size_t i)
{
	const snap_region *r = &w->id->snap->regions[i];
	bool deleted;
	snap_path_undeleted(r, &deleted);
	if (reserve(w, 16) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"path\":");
	int rc = put_string(w, r->path, r->path_len);
	if (rc < 0 || reserve(w, 200) < 0)
		return SNAP_ENOMEM;
	put_lit(w, deleted ? ",\"deleted\":1,\"perms\":\"" : ",\"deleted\":0,\"perms\":\"");
	put(w, r->perms, strnlen(r->perms, 4));
	put_lit(w, "\",\"start\":");
	put_dec(w, r->start);
	put_lit(w, ",\"end\":");
	put_dec(w, r->end);
	put_lit(w, ",\"offset\":");
	put_dec(w, r->offset);
	put_lit(w, ",\"dev\":\"");
	w->len += snap_format_hex(w->line + w->len, r->dev_major, 2);
	put_lit(w, ":");
	w->len += snap_format_hex(w->line + w->len, r->dev_minor, 2);
	put_lit(w, "\",\"inode\":");
	put_dec(w, r->inode);
	const snap_build_id *build = build_id_of(w->id, i);
	if (!build) {
		put_lit(w, ",\"build_id\":null");
		return rc;
	}
	if (reserve(w, 2 * SNAP_BUILD_ID_MAX + 16) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"build_id\":\"");
	w->len += snap_build_id_hex(w->line + w->len, 2 * SNAP_BUILD_ID_MAX + 1, build);
	put_lit(w, "\"");
	return rc;
}

static int put_counters(struct row_writer *w)
{
	if (reserve(w, NCOUNTERS * 48) < 0)
		return SNAP_ENOMEM;
	for (size_t c = 0; c < NCOUNTERS; c++) {
		put_lit(w, ",\"");
		put_lit(w, counter_names[c]);
		put_lit(w, "\":");
		put_dec(w, w->values[c]);
	}
	return 0;
}

/* VmFlags tokens: the kernel's two-letter words; a hand-edited snapshot
 * may hold any printable ASCII, so each is a checked string. */
static int put_vmflags(struct row_writer *w, const snap_region *r)
{
	if (reserve(w, 16) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"VmFlags\":[");
	int rc = 0;
	const char *s = r->vmflags ? r->vmflags : "";
	bool first = true;
	while (*s && rc == 0) {
		size_t n = strcspn(s, " ");
		if (n) {
			if (!first && reserve(w, 1) == 0)
				put(w, ",", 1);
			rc = put_string(w, s, n);
			first = false;
		}
		s += n + (s[n] == ' ');
	}
	if (rc < 0 || reserve(w, 1) < 0)
		return SNAP_ENOMEM;
	put(w, "]", 1);
	return rc;
}

static int put_extras(struct row_writer *w, const snap_snapshot *snap,
		      const snap_region *r)
{
	if (reserve(w, 20) < 0)
		return SNAP_ENOMEM;
	put_lit(w, ",\"extra_names\":[");
	int rc = 0;
	for (size_t k = 0; k < w->nextra && rc == 0; k++) {
		const char *name = snap->fields[r->entries[w->extra[k]].field].name;
		if (k && reserve(w, 1) == 0)
			put(w, ",", 1);
		rc = put_string(w, name, strlen(name));
	}
	if (rc < 0 || reserve(w, 20 + w->nextra * 22) < 0)
		return SNAP_ENOMEM;
	put_lit(w, "],\"extra_values\":[");
	for (size_t k = 0; k < w->nextra; k++) {
		if (k)
			put(w, ",", 1);
		put_dec(w, r->entries[w->extra[k]].value);
	}
	put_lit(w, "]}\n");
	return 0;
}

static int put_row(struct row_writer *w, size_t i)
{
	const snap_snapshot *snap = w->id->snap;
	const snap_region *r = &snap->regions[i];
	collect_values(w, r);
	if (reserve(w, w->prefix_len) < 0)
		return SNAP_ENOMEM;
	put(w, w->prefix, w->prefix_len);
	int rc;
	if ((rc = put_identity(w, i)) < 0 || (rc = put_mapping(w, i)) < 0 ||
	    (rc = put_counters(w)) < 0 || (rc = put_vmflags(w, r)) < 0 ||
	    (rc = put_extras(w, snap, r)) < 0)
		return rc;
	return rc ? rc : flush(w);
}

int fmt_ndjson_write(FILE *f, const snap_identity *id)
{
	struct row_writer w = { .f = f, .id = id };
	int rc = build_prefix(&w, id->snap);
	if (rc == 0)
		rc = map_columns(&w, id->snap);
	for (size_t i = 0; rc == 0 && i < id->snap->nregions; i++)
		rc = put_row(&w, i);
	if (rc == 0 && ferror(f))
		rc = SNAP_EIO;
	free(w.prefix);
	free(w.column);
	free(w.line);
	return rc;
}
