/* Snapshot JSON, writing side. jansson has no streaming writer, so the
 * document structure is emitted here, one region object per line, with a
 * careful string escaper; regions can be written as they are parsed.
 * The schema is in formats/README.md. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

struct fmt_json_writer {
	FILE *f;
	snap_hasher *hasher;
	size_t nregions;
	/* The first region's field order: the document's "fields". A region
	 * that printed other lines carries its own "fields". */
	uint32_t *layout;
	size_t nlayout;
	bool have_layout;
	char *line;
	size_t line_cap, line_len;
};

/* ---- a small line buffer: one fwrite per region ---- */

static int line_reserve(fmt_json_writer *w, size_t extra)
{
	if (w->line_len + extra <= w->line_cap)
		return 0;
	size_t cap = w->line_cap ? w->line_cap : 4096;
	while (cap < w->line_len + extra)
		cap *= 2;
	char *grown = realloc(w->line, cap);
	if (!grown)
		return -1;
	w->line = grown;
	w->line_cap = cap;
	return 0;
}

static void put_raw(fmt_json_writer *w, const char *s, size_t n)
{
	memcpy(w->line + w->line_len, s, n);
	w->line_len += n;
}

static void put_str(fmt_json_writer *w, const char *s)
{
	put_raw(w, s, strlen(s));
}

static void put_u64(fmt_json_writer *w, uint64_t v)
{
	w->line_len += snap_format_dec(w->line + w->line_len, v);
}

static void put_hex(fmt_json_writer *w, uint64_t v, int min_digits)
{
	w->line_len += snap_format_hex(w->line + w->line_len, v, (size_t)min_digits);
}

/* ---- UTF-8 and escaping ---- */

/* Worst case per input byte: "\ufffd" (6) or "\u001f" (6). */
static int put_json_string(fmt_json_writer *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (line_reserve(w, len * 6 + 2) < 0)
		return -1;
	const unsigned char *p = (const unsigned char *)s;
	char *out = w->line + w->line_len;
	*out++ = '"';
	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*out++ = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			*out++ = '\\';
			*out++ = (char)c;
			i++;
		} else if (c < 0x20) {
			const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t"
					: c == '\r' ? "\\r" : NULL;
			if (esc) {
				memcpy(out, esc, 2);
				out += 2;
			} else {
				memcpy(out, "\\u00", 4);
				out[4] = hex[c >> 4];
				out[5] = hex[c & 15];
				out += 6;
			}
			i++;
		} else {
			size_t n = snap_utf8_seq(p + i, len - i);
			if (n) {
				memcpy(out, p + i, n);
				out += n;
				i += n;
			} else {
				memcpy(out, "\\ufffd", 6);
				out += 6;
				i++;
			}
		}
	}
	*out++ = '"';
	w->line_len = (size_t)(out - w->line);
	return 0;
}

void fmt_json_put_string(FILE *f, const char *s, size_t len)
{
	fmt_json_writer w = { 0 };
	if (put_json_string(&w, s, len) == 0)
		fwrite(w.line, 1, w.line_len, f);
	free(w.line);
}

void fmt_json_put_cstr(FILE *f, const char *s)
{
	if (s)
		fmt_json_put_string(f, s, strlen(s));
	else
		fputs("null", f);
}

void fmt_json_put_counters(FILE *f, const snap_sums *s)
{
	fprintf(f, "\"regions\":%" PRId64, s->regions);
	for (int m = 0; m < SNAP_M_COUNT; m++)
		fprintf(f, ",\"%s\":%" PRId64, snap_measure_name((enum snap_measure)m),
			s->kb[m]);
}

void fmt_json_put_sums(FILE *f, const snap_sums *s)
{
	fputc('{', f);
	fmt_json_put_counters(f, s);
	fputc('}', f);
}

void fmt_json_put_kb_values(FILE *f, const int64_t *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		if (v[i] < 0)
			fputs("null", f);
		else
			fprintf(f, "%" PRId64, v[i]);
	}
	fputc(']', f);
}

void fmt_json_put_number(FILE *f, double v)
{
	if (isinf(v))
		fputs(v > 0 ? "1e308" : "-1e308", f);
	else if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

void fmt_json_put_violations(FILE *f, const snap_violation *v, size_t n)
{
	fputc('[', f);
	for (size_t k = 0; k < n; k++) {
		fprintf(f, "%s{\"expr\":", k ? "," : "");
		fmt_json_put_cstr(f, v[k].expr);
		fputs(",\"actual\":", f);
		fmt_json_put_number(f, v[k].actual);
		fputs(",\"limit\":", f);
		fmt_json_put_number(f, v[k].limit);
		fputs(",\"message\":", f);
		fmt_json_put_cstr(f, v[k].message);
		fputc('}', f);
	}
	fputc(']', f);
}

static bool plain_key(const char *key)
{
	for (const unsigned char *k = (const unsigned char *)key; *k; k++)
		if (*k < 0x20 || *k >= 0x80 || *k == '"' || *k == '\\')
			return false;
	return true;
}

/* ,"key": with the key escaped when it needs it (field names never do;
 * status and rollup keys from a hand-edited file might). */
static int put_key(fmt_json_writer *w, const char *key, size_t extra)
{
	size_t len = strlen(key);
	if (line_reserve(w, len + 4 + extra) < 0)
		return -1;
	put_str(w, ",");
	if (plain_key(key)) {
		put_str(w, "\"");
		put_raw(w, key, len);
		put_str(w, "\"");
	} else if (put_json_string(w, key, len) < 0 || line_reserve(w, 1 + extra) < 0) {
		return -1;
	}
	put_str(w, ":");
	return 0;
}

static int put_key_string(fmt_json_writer *w, const char *key, const char *value)
{
	if (put_key(w, key, 0) < 0)
		return -1;
	return put_json_string(w, value, strlen(value));
}

static int put_key_u64(fmt_json_writer *w, const char *key, uint64_t value)
{
	if (put_key(w, key, 32) < 0)
		return -1;
	put_u64(w, value);
	return 0;
}

static int flush_line(fmt_json_writer *w)
{
	size_t n = fwrite(w->line, 1, w->line_len, w->f);
	int rc = n == w->line_len ? 0 : SNAP_EIO;
	w->line_len = 0;
	return rc;
}

/* ---- the header: everything known before the regions ---- */

static int put_host(fmt_json_writer *w, const snap_host *h)
{
	int rc = 0;
	if (line_reserve(w, 16) < 0)
		return -1;
	put_str(w, ",\n\"host\":{\"page_size\":");
	put_u64(w, h->page_size > 0 ? (uint64_t)h->page_size : 0);
	if (h->hostname)
		rc |= put_key_string(w, "hostname", h->hostname);
	if (h->kernel)
		rc |= put_key_string(w, "kernel", h->kernel);
	if (h->machine)
		rc |= put_key_string(w, "machine", h->machine);
	if (h->boot_id)
		rc |= put_key_string(w, "boot_id", h->boot_id);
	if (h->max_map_count > 0)
		rc |= put_key_u64(w, "max_map_count", (uint64_t)h->max_map_count);
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "}");
	return rc;
}

/* "1234 kB" -> 1234; anything else stays text. */
static bool status_kb(const char *value, uint64_t *kb)
{
	char *end;
	unsigned long long v = strtoull(value, &end, 10);
	if (end == value || strcmp(end, " kB") != 0)
		return false;
	*kb = v;
	return true;
}

static int put_status(fmt_json_writer *w, const snap_process *p)
{
	int rc = 0;
	if (line_reserve(w, 16) < 0)
		return -1;
	put_str(w, ",\"status\":{");
	for (size_t i = 0; i < p->nstatus; i++) {
		uint64_t kb;
		size_t mark = w->line_len;
		rc |= status_kb(p->status[i].value, &kb)
			? put_key_u64(w, p->status[i].key, kb)
			: put_key_string(w, p->status[i].key, p->status[i].value);
		if (i == 0) /* drop the leading comma of the first member */
			memmove(w->line + mark, w->line + mark + 1,
				--w->line_len - mark);
	}
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "}");
	return rc;
}

static int put_process(fmt_json_writer *w, const snap_process *p)
{
	int rc = 0;
	if (!p->known)
		return 0;
	if (line_reserve(w, 64) < 0)
		return -1;
	put_str(w, ",\n\"process\":{\"pid\":");
	put_u64(w, p->pid > 0 ? (uint64_t)p->pid : 0);
	if (p->start_time >= 0)
		rc |= put_key_u64(w, "start_time", (uint64_t)p->start_time);
	if (p->start_stack)
		rc |= put_key_u64(w, "start_stack", p->start_stack);
	if (p->comm)
		rc |= put_key_string(w, "comm", p->comm);
	if (p->exe)
		rc |= put_key_string(w, "exe", p->exe);
	if (p->argv) {
		if (line_reserve(w, 16) < 0)
			return -1;
		put_str(w, ",\"cmdline\":[");
		for (size_t i = 0; i < p->argc; i++) {
			if (i && line_reserve(w, 1) == 0)
				put_str(w, ",");
			rc |= put_json_string(w, p->argv[i], strlen(p->argv[i]));
		}
		if (line_reserve(w, 1) < 0)
			return -1;
		put_str(w, "]");
	}
	if (p->threads >= 0)
		rc |= put_key_u64(w, "threads", (uint64_t)p->threads);
	if (p->thread_sp) {
		if (line_reserve(w, 20 + p->nthread_sp * 20) < 0)
			return -1;
		put_str(w, ",\"thread_sp\":[");
		for (size_t i = 0; i < p->nthread_sp; i++) {
			put_str(w, i ? ",\"" : "\"");
			put_hex(w, p->thread_sp[i], 1);
			put_str(w, "\"");
		}
		put_str(w, "]");
	}
	if (p->nstatus)
		rc |= put_status(w, p);
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "}");
	return rc;
}

int fmt_json_begin(fmt_json_writer **out, FILE *f, const snap_snapshot *snap)
{
	fmt_json_writer *w = calloc(1, sizeof(*w));
	if (!w || snap_hasher_new(&w->hasher) < 0) {
		free(w);
		return SNAP_ENOMEM;
	}
	w->f = f;
	int rc = line_reserve(w, 64);
	if (rc == 0) {
		put_str(w, "{\"schema\":\"" SNAP_SNAPSHOT_SCHEMA "\"");
		rc |= put_key_string(w, "tool", snap->tool ? snap->tool
					       : "mapsnap " SNAP_VERSION_STRING);
		if (snap->captured_at)
			rc |= put_key_string(w, "captured_at", snap->captured_at);
		if (snap->source)
			rc |= put_key_string(w, "source", snap->source);
		if (snap->redacted && line_reserve(w, 20) == 0)
			put_str(w, ",\"redacted\":true");
		rc |= put_host(w, &snap->host);
		rc |= put_process(w, &snap->process);
		if (line_reserve(w, 16) == 0)
			put_str(w, ",\n\"regions\":[");
		else
			rc = -1;
	}
	if (rc != 0 || flush_line(w) != 0) {
		fmt_json_abort(w);
		return rc != 0 ? SNAP_ENOMEM : SNAP_EIO;
	}
	*out = w;
	return SNAP_OK;
}

/* ---- regions ---- */

static int remember_layout(fmt_json_writer *w, const snap_region *r)
{
	w->layout = malloc((r->nlayout + 1) * sizeof(*w->layout));
	if (!w->layout)
		return -1;
	memcpy(w->layout, r->layout, r->nlayout * sizeof(*w->layout));
	w->nlayout = r->nlayout;
	w->have_layout = true;
	return 0;
}

static bool follows_layout(const fmt_json_writer *w, const snap_region *r)
{
	return r->nlayout == w->nlayout &&
	       memcmp(r->layout, w->layout, r->nlayout * sizeof(*r->layout)) == 0;
}

static int put_own_fields(fmt_json_writer *w, const snap_snapshot *snap,
			  const snap_region *r)
{
	int rc = 0;
	if (line_reserve(w, 12) < 0)
		return -1;
	put_str(w, ",\"fields\":[");
	for (size_t i = 0; i < r->nlayout; i++) {
		const char *name = snap->fields[r->layout[i]].name;
		if (i && line_reserve(w, 1) == 0)
			put_str(w, ",");
		rc |= put_json_string(w, name, strlen(name));
	}
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "]");
	return rc;
}

static int put_path(fmt_json_writer *w, const snap_region *r)
{
	int rc = 0;
	if (line_reserve(w, 10) < 0)
		return -1;
	put_str(w, ",\"path\":");
	rc |= put_json_string(w, r->path, r->path_len);
	if (snap_utf8_valid(r->path, r->path_len))
		return rc;
	if (line_reserve(w, r->path_len * 2 + 16) < 0)
		return -1;
	put_str(w, ",\"path_hex\":\"");
	for (size_t i = 0; i < r->path_len; i++)
		put_hex(w, (unsigned char)r->path[i], 2);
	put_str(w, "\"");
	return rc;
}

static int put_entries(fmt_json_writer *w, const snap_snapshot *snap,
		       const snap_region *r)
{
	int rc = 0;
	for (size_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		const char *name = snap->fields[e->field].name;
		if (e->is_text)
			rc |= put_key_string(w, name, e->text);
		else if (e->value)
			rc |= put_key_u64(w, name, e->value);
	}
	return rc;
}

int fmt_json_region(fmt_json_writer *w, const snap_snapshot *snap,
		    const snap_region *r)
{
	if (!w->have_layout && remember_layout(w, r) < 0)
		return SNAP_ENOMEM;
	if (line_reserve(w, 160) < 0)
		return SNAP_ENOMEM;
	put_str(w, w->nregions ? ",\n{\"start\":\"" : "\n{\"start\":\"");
	put_hex(w, r->start, 8);
	put_str(w, "\",\"end\":\"");
	put_hex(w, r->end, 8);
	put_str(w, "\",\"perms\":\"");
	put_raw(w, r->perms, strnlen(r->perms, 4));
	put_str(w, "\",\"offset\":\"");
	put_hex(w, r->offset, 8);
	put_str(w, "\",\"dev\":\"");
	put_hex(w, r->dev_major, 2);
	put_str(w, ":");
	put_hex(w, r->dev_minor, 2);
	put_str(w, "\",\"inode\":");
	put_u64(w, r->inode);
	int rc = put_path(w, r);
	if (!follows_layout(w, r))
		rc |= put_own_fields(w, snap, r);
	rc |= put_entries(w, snap, r);
	if (r->vmflags)
		rc |= put_key_string(w, "VmFlags", r->vmflags);
	if (rc != 0 || line_reserve(w, 1) < 0)
		return SNAP_ENOMEM;
	put_str(w, "}");
	snap_hasher_add_region(w->hasher, snap, r);
	w->nregions++;
	return flush_line(w);
}

/* ---- the trailer: what is known only after the read ---- */

static int put_name_list(fmt_json_writer *w, const char *key,
			 const snap_snapshot *snap, const uint32_t *ids, size_t n)
{
	int rc = 0;
	if (line_reserve(w, strlen(key) + 8) < 0)
		return -1;
	put_str(w, ",\n\"");
	put_str(w, key);
	put_str(w, "\":[");
	for (size_t i = 0; i < n; i++) {
		const char *name = snap->fields[ids[i]].name;
		if (i && line_reserve(w, 1) == 0)
			put_str(w, ",");
		rc |= put_json_string(w, name, strlen(name));
	}
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "]");
	return rc;
}

static int put_fields(fmt_json_writer *w, const snap_snapshot *snap)
{
	size_t cap = snap->nfields > w->nlayout ? snap->nfields : w->nlayout;
	uint32_t *ids = malloc((cap + 1) * sizeof(*ids));
	if (!ids)
		return -1;
	size_t n = 0;
	if (w->have_layout) {
		memcpy(ids, w->layout, w->nlayout * sizeof(*ids));
		n = w->nlayout;
	} else {
		for (size_t i = 0; i < snap->nfields; i++)
			ids[n++] = (uint32_t)i;
	}
	int rc = put_name_list(w, "fields", snap, ids, n);
	n = 0;
	for (size_t i = 0; i < snap->nfields; i++)
		if (snap->fields[i].unit == SNAP_UNIT_NONE)
			ids[n++] = (uint32_t)i;
	rc |= put_name_list(w, "unitless", snap, ids, n);
	n = 0;
	for (size_t i = 0; i < snap->nfields; i++)
		if (snap->fields[i].unit == SNAP_UNIT_TEXT)
			ids[n++] = (uint32_t)i;
	if (n)
		rc |= put_name_list(w, "text_fields", snap, ids, n);
	free(ids);
	return rc;
}

static int put_rollup(fmt_json_writer *w, const snap_snapshot *snap)
{
	int rc = 0;
	if (!snap->rollup)
		return 0;
	if (line_reserve(w, 16) < 0)
		return -1;
	put_str(w, ",\n\"rollup\":{");
	for (size_t i = 0; i < snap->nrollup; i++) {
		size_t mark = w->line_len;
		rc |= put_key_u64(w, snap->rollup[i].name, snap->rollup[i].value);
		if (i == 0)
			memmove(w->line + mark, w->line + mark + 1,
				--w->line_len - mark);
	}
	if (line_reserve(w, 1) < 0)
		return -1;
	put_str(w, "}");
	return rc;
}

int fmt_json_end(fmt_json_writer *w, const snap_snapshot *snap)
{
	int rc = line_reserve(w, 128);
	if (rc == 0) {
		put_str(w, w->nregions ? "\n]" : "]");
		rc |= put_fields(w, snap);
		rc |= put_rollup(w, snap);
		if (snap->captured_end)
			rc |= put_key_string(w, "captured_end", snap->captured_end);
		if (snap->capture_ms >= 0 && line_reserve(w, 40) == 0) {
			int n = snprintf(w->line + w->line_len, 40, ",\"capture_ms\":%.3f",
					 snap->capture_ms);
			w->line_len += (size_t)n;
		}
		rc |= put_key_u64(w, "region_count", w->nregions);
		char sum[40];
		snprintf(sum, sizeof(sum), "xxh3-64:%016" PRIx64,
			 snap_hasher_digest(w->hasher));
		rc |= put_key_string(w, "checksum", sum);
		if (line_reserve(w, 2) == 0)
			put_str(w, "}\n");
		else
			rc = -1;
	}
	int io = rc == 0 ? flush_line(w) : 0;
	if (rc == 0 && fflush(w->f) != 0)
		io = SNAP_EIO;
	if (rc == 0 && ferror(w->f))
		io = SNAP_EIO;
	fmt_json_abort(w);
	return rc != 0 ? SNAP_ENOMEM : io;
}

void fmt_json_abort(fmt_json_writer *w)
{
	if (!w)
		return;
	snap_hasher_free(w->hasher);
	free(w->layout);
	free(w->line);
	free(w);
}

int fmt_json_write(FILE *f, const snap_snapshot *snap)
{
	fmt_json_writer *w;
	int rc = fmt_json_begin(&w, f, snap);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < snap->nregions; i++) {
		if ((rc = fmt_json_region(w, snap, &snap->regions[i])) < 0) {
			fmt_json_abort(w);
			return rc;
		}
	}
	return fmt_json_end(w, snap);
}
