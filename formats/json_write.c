/* Snapshot JSON, writing side. jansson has no streaming writer, so the
 * document structure is emitted here, one region object per line, with a
 * careful string escaper; regions can be written as they are parsed.
 *
 * Every line is built in one bounded, checked buffer (dynbuf.h): each
 * append checks its room and the buffer's cap, a failure is kept and
 * returned, and a line is written out only when it was built whole. The
 * bytes written are hashed as they go: the checksum covers the whole
 * document (formats/README.md, "Checksum"). The schema is in
 * formats/README.md. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "formats.h"

struct fmt_json_writer {
	FILE *f;
	snap_hasher *hasher; /* every byte of the document written so far */
	size_t nregions;
	/* The first region's field order: the document's "fields". A region
	 * that printed other lines carries its own "fields". */
	uint32_t *layout;
	size_t nlayout;
	bool have_layout;
	struct dynbuf line;
	/* Per field index, its member's opening `,"Name":` once written:
	 * the same few keys start most members of every region. */
	struct dynbuf *keys;
	size_t nkeys;
};

/* ---- UTF-8 and escaping ---- */

static int put_escape(struct dynbuf *b, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	switch (c) {
	case '"': return dynbuf_add(b, "\\\"", 2);
	case '\\': return dynbuf_add(b, "\\\\", 2);
	case '\n': return dynbuf_add(b, "\\n", 2);
	case '\t': return dynbuf_add(b, "\\t", 2);
	case '\r': return dynbuf_add(b, "\\r", 2);
	}
	char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	return dynbuf_add(b, u, 6);
}

/* A JSON string: valid UTF-8 out, whatever bytes come in (a byte that is
 * not UTF-8 becomes U+FFFD). Control characters, DEL and the C1 controls
 * (U+0080..U+009F) are written as \u escapes, so a snapshot shown with
 * cat holds no byte a terminal acts on. Runs of plain bytes are appended
 * at once. */
static int put_json_string(struct dynbuf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = dynbuf_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; rc == 0 && i < len;) {
		unsigned c = p[i];
		size_t n = c < 0x80 ? 1 : snap_utf8_seq(p + i, len - i);
		bool c1 = n == 2 && c == 0xc2 && p[i + 1] < 0xa0;
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && n && !c1) {
			i += n;
			continue;
		}
		rc = dynbuf_add(b, s + run, i - run);
		if (rc == 0)
			rc = c1 ? put_escape(b, p[i + 1])
			     : c < 0x80 ? put_escape(b, c) : dynbuf_add(b, "\\ufffd", 6);
		i += c1 ? 2 : 1;
		run = i;
	}
	if (rc == 0)
		rc = dynbuf_add(b, s + run, len - run);
	return rc ? rc : dynbuf_addc(b, '"');
}

/* The small helpers below write JSON text for the other JSON writers,
 * straight to their FILE. */
void fmt_json_put_string(FILE *f, const char *s, size_t len)
{
	struct dynbuf b;
	dynbuf_init(&b, (size_t)-1);
	if (put_json_string(&b, s, len) == 0)
		fwrite(b.data, 1, b.len, f);
	else
		fputs("null", f); /* out of memory: still valid JSON */
	dynbuf_free(&b);
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

/* ---- members ---- */

static bool plain_key(const char *key)
{
	for (const unsigned char *k = (const unsigned char *)key; *k; k++)
		if (*k < 0x20 || *k >= 0x7f || *k == '"' || *k == '\\')
			return false;
	return true;
}

/* "key": with a comma before it unless first; the key escaped when it
 * needs it (field names never do; status and rollup keys from a
 * hand-edited file might). */
static int put_key(struct dynbuf *b, const char *key, bool first)
{
	int rc = first ? 0 : dynbuf_addc(b, ',');
	if (rc == 0 && plain_key(key)) {
		rc = dynbuf_addc(b, '"');
		if (rc == 0)
			rc = dynbuf_addstr(b, key);
		if (rc == 0)
			rc = dynbuf_addc(b, '"');
	} else if (rc == 0) {
		rc = put_json_string(b, key, strlen(key));
	}
	return rc ? rc : dynbuf_addc(b, ':');
}

static int put_key_string(struct dynbuf *b, const char *key, const char *value)
{
	int rc = put_key(b, key, false);
	return rc ? rc : put_json_string(b, value, strlen(value));
}

static int put_key_u64(struct dynbuf *b, const char *key, uint64_t value, bool first)
{
	int rc = put_key(b, key, first);
	return rc ? rc : dynbuf_add_dec(b, value);
}

/* Hashes and writes the line; keeps nothing of a line built in error. */
static int flush_line(fmt_json_writer *w)
{
	struct dynbuf *b = &w->line;
	if (b->error)
		return b->error;
	snap_hasher_add(w->hasher, b->data, b->len);
	size_t n = fwrite(b->data, 1, b->len, w->f);
	int rc = n == b->len ? 0 : SNAP_EIO;
	dynbuf_reset(b);
	return rc;
}

/* ---- the header: everything known before the regions ---- */

static void put_host(struct dynbuf *b, const snap_host *h)
{
	dynbuf_addstr(b, ",\n\"host\":{\"page_size\":");
	dynbuf_add_dec(b, h->page_size > 0 ? (uint64_t)h->page_size : 0);
	if (h->hostname)
		put_key_string(b, "hostname", h->hostname);
	if (h->kernel)
		put_key_string(b, "kernel", h->kernel);
	if (h->machine)
		put_key_string(b, "machine", h->machine);
	if (h->boot_id)
		put_key_string(b, "boot_id", h->boot_id);
	if (h->max_map_count > 0)
		put_key_u64(b, "max_map_count", (uint64_t)h->max_map_count, false);
	dynbuf_addc(b, '}');
}

/* "1234 kB" -> 1234; anything else stays text. */
static bool status_kb(const char *value, uint64_t *kb)
{
	char *end;
	if (*value < '0' || *value > '9')
		return false;
	unsigned long long v = strtoull(value, &end, 10);
	if (end == value || strcmp(end, " kB") != 0 || v > INT64_MAX)
		return false;
	*kb = v;
	return true;
}

static void put_status(struct dynbuf *b, const snap_process *p)
{
	dynbuf_addstr(b, ",\"status\":{");
	for (size_t i = 0; i < p->nstatus; i++) {
		uint64_t kb;
		if (status_kb(p->status[i].value, &kb)) {
			put_key_u64(b, p->status[i].key, kb, i == 0);
		} else {
			put_key(b, p->status[i].key, i == 0);
			put_json_string(b, p->status[i].value, strlen(p->status[i].value));
		}
	}
	dynbuf_addc(b, '}');
}

static void put_cmdline(struct dynbuf *b, const snap_process *p)
{
	dynbuf_addstr(b, ",\"cmdline\":[");
	for (size_t i = 0; i < p->argc; i++) {
		if (i)
			dynbuf_addc(b, ',');
		put_json_string(b, p->argv[i], strlen(p->argv[i]));
	}
	dynbuf_addc(b, ']');
}

static void put_thread_sps(struct dynbuf *b, const snap_process *p)
{
	dynbuf_addstr(b, ",\"thread_sp\":[");
	for (size_t i = 0; i < p->nthread_sp; i++) {
		dynbuf_addstr(b, i ? ",\"" : "\"");
		dynbuf_add_hex(b, p->thread_sp[i], 1);
		dynbuf_addc(b, '"');
	}
	dynbuf_addc(b, ']');
}

static void put_process(struct dynbuf *b, const snap_process *p)
{
	if (!p->known)
		return;
	dynbuf_addstr(b, ",\n\"process\":{\"pid\":");
	dynbuf_add_dec(b, p->pid > 0 ? (uint64_t)p->pid : 0);
	if (p->start_time >= 0)
		put_key_u64(b, "start_time", (uint64_t)p->start_time, false);
	if (p->start_stack)
		put_key_u64(b, "start_stack", p->start_stack, false);
	if (p->comm)
		put_key_string(b, "comm", p->comm);
	if (p->exe)
		put_key_string(b, "exe", p->exe);
	if (p->argv)
		put_cmdline(b, p);
	if (p->threads >= 0)
		put_key_u64(b, "threads", (uint64_t)p->threads, false);
	if (p->thread_sp)
		put_thread_sps(b, p);
	if (p->mnt_ns)
		put_key_string(b, "mnt_ns", p->mnt_ns);
	if (p->cgroup)
		put_key_string(b, "cgroup", p->cgroup);
	if (p->container_id)
		put_key_string(b, "container_id", p->container_id);
	if (p->nstatus)
		put_status(b, p);
	dynbuf_addc(b, '}');
}

int fmt_json_begin(fmt_json_writer **out, FILE *f, const snap_snapshot *snap)
{
	fmt_json_writer *w = calloc(1, sizeof(*w));
	if (!w || snap_hasher_new(&w->hasher, NULL) < 0) {
		free(w);
		return SNAP_ENOMEM;
	}
	w->f = f;
	/* Header and trailer share the document's budget outside regions. */
	dynbuf_init(&w->line, FMT_JSON_REST_MAX / 2);
	struct dynbuf *b = &w->line;
	dynbuf_addstr(b, "{\"schema\":\"" SNAP_SNAPSHOT_SCHEMA "\"");
	put_key_string(b, "tool", snap->tool ? snap->tool : "mapsnap " SNAP_VERSION_STRING);
	if (snap->captured_at)
		put_key_string(b, "captured_at", snap->captured_at);
	if (snap->source)
		put_key_string(b, "source", snap->source);
	if (snap->redacted)
		dynbuf_addstr(b, ",\"redacted\":true");
	put_host(b, &snap->host);
	put_process(b, &snap->process);
	dynbuf_addstr(b, ",\n\"regions\":[");
	int rc = flush_line(w);
	if (rc < 0) {
		fmt_json_abort(w);
		return rc;
	}
	*out = w;
	return SNAP_OK;
}

/* ---- regions ---- */

static int remember_layout(fmt_json_writer *w, const snap_region *r)
{
	w->layout = malloc(((size_t)r->nlayout + 1) * sizeof(*w->layout));
	if (!w->layout)
		return SNAP_ENOMEM;
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

static void put_own_fields(struct dynbuf *b, const snap_snapshot *snap,
			   const snap_region *r)
{
	dynbuf_addstr(b, ",\"fields\":[");
	for (size_t i = 0; i < r->nlayout; i++) {
		const char *name = snap->fields[r->layout[i]].name;
		if (i)
			dynbuf_addc(b, ',');
		put_json_string(b, name, strlen(name));
	}
	dynbuf_addc(b, ']');
}

static void put_path(struct dynbuf *b, const snap_region *r)
{
	dynbuf_addstr(b, ",\"path\":");
	put_json_string(b, r->path, r->path_len);
	if (snap_utf8_valid(r->path, r->path_len))
		return;
	dynbuf_addstr(b, ",\"path_hex\":\"");
	for (size_t i = 0; i < r->path_len; i++)
		dynbuf_add_hex(b, (unsigned char)r->path[i], 2);
	dynbuf_addc(b, '"');
}

/* The field's `,"Name":`, made on its first use; NULL without memory. */
static const struct dynbuf *field_key(fmt_json_writer *w, const snap_snapshot *snap,
				      uint32_t field)
{
	if (field >= w->nkeys) {
		size_t n = (size_t)field + 16;
		struct dynbuf *grown = realloc(w->keys, n * sizeof(*grown));
		if (!grown)
			return NULL;
		for (size_t i = w->nkeys; i < n; i++)
			dynbuf_init(&grown[i], FMT_JSON_REGION_MAX);
		w->keys = grown;
		w->nkeys = n;
	}
	struct dynbuf *key = &w->keys[field];
	if (key->len == 0)
		put_key(key, snap->fields[field].name, false);
	return key->error ? NULL : key;
}

static void put_entries(struct dynbuf *b, fmt_json_writer *w,
			const snap_snapshot *snap, const snap_region *r)
{
	for (size_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		if (!e->is_text && !e->value)
			continue;
		const struct dynbuf *key = field_key(w, snap, e->field);
		if (!key) {
			dynbuf_fail(b, SNAP_ENOMEM);
			return;
		}
		dynbuf_add(b, key->data, key->len);
		if (e->is_text)
			put_json_string(b, e->text, strlen(e->text));
		else
			dynbuf_add_dec(b, e->value);
	}
}

static void put_region(struct dynbuf *b, fmt_json_writer *w,
		       const snap_snapshot *snap, const snap_region *r)
{
	dynbuf_addstr(b, w->nregions ? ",\n{\"start\":\"" : "\n{\"start\":\"");
	dynbuf_add_hex(b, r->start, 8);
	dynbuf_addstr(b, "\",\"end\":\"");
	dynbuf_add_hex(b, r->end, 8);
	dynbuf_addstr(b, "\",\"perms\":\"");
	dynbuf_add(b, r->perms, strnlen(r->perms, 4));
	dynbuf_addstr(b, "\",\"offset\":\"");
	dynbuf_add_hex(b, r->offset, 8);
	dynbuf_addstr(b, "\",\"dev\":\"");
	dynbuf_add_hex(b, r->dev_major, 2);
	dynbuf_addc(b, ':');
	dynbuf_add_hex(b, r->dev_minor, 2);
	dynbuf_addstr(b, "\",\"inode\":");
	dynbuf_add_dec(b, r->inode);
	put_path(b, r);
	if (!follows_layout(w, r))
		put_own_fields(b, snap, r);
	put_entries(b, w, snap, r);
	if (r->vmflags)
		put_key_string(b, "VmFlags", r->vmflags);
	dynbuf_addc(b, '}');
}

int fmt_json_region(fmt_json_writer *w, const snap_snapshot *snap,
		    const snap_region *r)
{
	if (!w->have_layout && remember_layout(w, r) < 0)
		return SNAP_ENOMEM;
	/* A region line has its own, smaller budget: the loader refuses a
	 * region object over FMT_JSON_REGION_MAX. */
	w->line.max = FMT_JSON_REGION_MAX;
	put_region(&w->line, w, snap, r);
	int rc = flush_line(w);
	w->line.max = FMT_JSON_REST_MAX / 2;
	if (rc == 0)
		w->nregions++;
	return rc;
}

/* ---- the trailer: what is known only after the read ---- */

static void put_name_list(struct dynbuf *b, const char *key,
			  const snap_snapshot *snap, const uint32_t *ids, size_t n)
{
	dynbuf_addstr(b, ",\n\"");
	dynbuf_addstr(b, key);
	dynbuf_addstr(b, "\":[");
	for (size_t i = 0; i < n; i++) {
		const char *name = snap->fields[ids[i]].name;
		if (i)
			dynbuf_addc(b, ',');
		put_json_string(b, name, strlen(name));
	}
	dynbuf_addc(b, ']');
}

static int put_fields(struct dynbuf *b, const fmt_json_writer *w,
		      const snap_snapshot *snap)
{
	size_t cap = snap->nfields > w->nlayout ? snap->nfields : w->nlayout, bytes;
	uint32_t *ids = ck_array_size(&bytes, cap, 1, sizeof(*ids)) ? NULL : malloc(bytes);
	if (!ids)
		return SNAP_ENOMEM;
	size_t n = 0;
	if (w->have_layout) {
		memcpy(ids, w->layout, w->nlayout * sizeof(*ids));
		n = w->nlayout;
	} else {
		for (size_t i = 0; i < snap->nfields; i++)
			ids[n++] = (uint32_t)i;
	}
	put_name_list(b, "fields", snap, ids, n);
	n = 0;
	for (size_t i = 0; i < snap->nfields; i++)
		if (snap->fields[i].unit == SNAP_UNIT_NONE)
			ids[n++] = (uint32_t)i;
	put_name_list(b, "unitless", snap, ids, n);
	n = 0;
	for (size_t i = 0; i < snap->nfields; i++)
		if (snap->fields[i].unit == SNAP_UNIT_TEXT)
			ids[n++] = (uint32_t)i;
	if (n)
		put_name_list(b, "text_fields", snap, ids, n);
	free(ids);
	return 0;
}

static void put_rollup(struct dynbuf *b, const snap_snapshot *snap)
{
	if (!snap->rollup)
		return;
	dynbuf_addstr(b, ",\n\"rollup\":{");
	for (size_t i = 0; i < snap->nrollup; i++)
		put_key_u64(b, snap->rollup[i].name, snap->rollup[i].value, i == 0);
	dynbuf_addc(b, '}');
}

/* ,"key":"HEX","key_source":"elf-note" */
static void put_build(struct dynbuf *b, const char *key, const snap_build_id *id)
{
	char hex[2 * SNAP_BUILD_ID_MAX + 1];
	snap_build_id_hex(hex, sizeof(hex), id);
	put_key_string(b, key, hex);
	dynbuf_printf(b, ",\"%s_source\":\"%s\"", key, snap_build_id_source_name(id->source));
}

/* What capture read of each mapped file: its build and .bss, and for a
 * deleted one what is at its path now. */
static void put_files(struct dynbuf *b, const snap_snapshot *snap)
{
	if (!snap->nfiles)
		return;
	dynbuf_addstr(b, ",\n\"files\":[");
	for (size_t i = 0; i < snap->nfiles; i++) {
		const snap_file *f = &snap->files[i];
		dynbuf_printf(b, "%s\n{\"dev\":\"%02x:%02x\"", i ? "," : "", f->dev_major,
			      f->dev_minor);
		put_key_u64(b, "inode", f->inode, false);
		if (f->build_id.len)
			put_build(b, "build_id", &f->build_id);
		if (f->bss_bytes >= 0)
			put_key_u64(b, "bss_bytes", (uint64_t)f->bss_bytes, false);
		if (f->at_path_known && f->at_path.len)
			put_build(b, "at_path", &f->at_path);
		else if (f->at_path_known)
			dynbuf_addstr(b, ",\"at_path\":null");
		dynbuf_addc(b, '}');
	}
	dynbuf_addstr(b, "\n]");
}

/* The checksum is the last member. Its 16 hex digits count as zeros in
 * the hash, which covers every byte of the document through the closing
 * brace, so the writer can hash the rest before it knows the digits. */
static int put_checksum(fmt_json_writer *w)
{
	static const char after[] = "\"}";
	struct dynbuf *b = &w->line;
	dynbuf_addstr(b, ",\"checksum\":\"" FMT_CHECKSUM_DOC);
	if (b->error)
		return b->error;
	snap_hasher_add(w->hasher, b->data, b->len);
	snap_hasher_add(w->hasher, "0000000000000000", 16);
	snap_hasher_add(w->hasher, after, 2);
	dynbuf_add_hex(b, snap_hasher_digest(w->hasher), 16);
	dynbuf_addstr(b, after);
	dynbuf_addc(b, '\n'); /* after the document */
	if (b->error)
		return b->error;
	return fwrite(b->data, 1, b->len, w->f) == b->len ? 0 : SNAP_EIO;
}

int fmt_json_end(fmt_json_writer *w, const snap_snapshot *snap)
{
	struct dynbuf *b = &w->line;
	dynbuf_addstr(b, w->nregions ? "\n]" : "]");
	int rc = put_fields(b, w, snap);
	put_rollup(b, snap);
	put_files(b, snap);
	if (snap->captured_end)
		put_key_string(b, "captured_end", snap->captured_end);
	/* A loaded capture_ms may be any JSON number (1e300): printf's
	 * length is measured, never guessed. */
	if (snap->capture_ms >= 0 && isfinite(snap->capture_ms))
		dynbuf_printf(b, ",\"capture_ms\":%.3f", snap->capture_ms);
	put_key_u64(b, "region_count", w->nregions, false);
	if (rc == 0)
		rc = put_checksum(w);
	if (rc == 0 && (fflush(w->f) != 0 || ferror(w->f)))
		rc = SNAP_EIO;
	fmt_json_abort(w);
	return rc;
}

void fmt_json_abort(fmt_json_writer *w)
{
	if (!w)
		return;
	snap_hasher_free(w->hasher);
	free(w->layout);
	dynbuf_free(&w->line);
	for (size_t i = 0; i < w->nkeys; i++)
		dynbuf_free(&w->keys[i]);
	free(w->keys);
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
