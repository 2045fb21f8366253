/* A single-pass push parser for /proc/PID/smaps text.
 *
 * Complete lines are parsed in place from the caller's buffer; only a line
 * split across two feeds is copied into a growing buffer. A line may be
 * SMAPS_LINE_MAX bytes (a header with a PATH_MAX path fits many times) and
 * a mapping's lines SMAPS_MAPPING_MAX in all, so garbage is refused within
 * its first kilobytes and every mapping fits a snapshot's region limit.
 * Each region is handed to the callback as soon as the next header (or the
 * end) is seen. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SMAPS_LINE_MAX (16 * 1024)
#define SMAPS_MAPPING_MAX (1024 * 1024)

struct growbuf {
	char *data;
	size_t len, cap;
};

struct field_note {
	uint32_t printed_in;
	uint32_t name_len;
};

struct snap_parser {
	snap_snapshot *snap;
	const char *source;
	snap_region_fn fn;
	void *ctx;

	long line;             /* number of the line being parsed */
	long header_line;      /* the current region's header line */
	struct growbuf partial;/* a line split across feeds */
	bool in_region;
	size_t region_bytes;   /* of the current region's lines so far */
	snap_region cur;
	struct growbuf path;
	struct growbuf flags;
	snap_entry *entries;
	size_t nentries, entries_cap;
	snap_arena *texts;     /* text values of the current region */

	/* The previous region's field order: the kernel prints the same keys
	 * in the same order, so a memcmp against it finds the field index
	 * without searching. */
	uint32_t *order;
	size_t norder, order_cap;

	/* Per field: the number of the region that printed it last (a key
	 * printed twice in one mapping is not smaps text) and its name's
	 * length, so the expected key is compared without a strlen. */
	struct field_note *notes;
	size_t notes_cap;

	/* The buffer being fed holds a NUL somewhere: its lines are searched
	 * for one (a buffer without is searched once, not line by line). */
	bool feed_has_nul;

	size_t nregions;
	size_t most_entries;
	bool had_vmflags;
	int stop;
};

static int gb_reserve(struct growbuf *b, size_t extra)
{
	size_t need;
	if (ck_add_size(&need, b->len, extra) || ck_add_size(&need, need, 1))
		return -1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		if (ck_mul_size(&cap, cap, 2))
			cap = need;
	char *grown = realloc(b->data, cap);
	if (!grown)
		return -1;
	b->data = grown;
	b->cap = cap;
	return 0;
}

static int gb_set(struct growbuf *b, const char *s, size_t n)
{
	b->len = 0;
	if (gb_reserve(b, n) < 0)
		return -1;
	memcpy(b->data, s, n);
	b->len = n;
	b->data[n] = '\0';
	return 0;
}

int snap_parser_new(snap_parser **out, snap_snapshot *snap, const char *source,
		    snap_region_fn fn, void *ctx, snap_error *err)
{
	snap_parser *p = calloc(1, sizeof(*p));
	if (!p || !(p->texts = arena_new())) {
		free(p);
		return snap_error_set(err, SNAP_ENOMEM, source ? source : "smaps", 0,
				      "out of memory creating a parser");
	}
	p->snap = snap;
	p->source = source ? source : "smaps";
	p->fn = fn;
	p->ctx = ctx;
	*out = p;
	return SNAP_OK;
}

void snap_parser_free(snap_parser *p)
{
	if (!p)
		return;
	free(p->partial.data);
	free(p->path.data);
	free(p->flags.data);
	free(p->entries);
	free(p->order);
	free(p->notes);
	arena_free(p->texts);
	free(p);
}

size_t snap_parser_region_count(const snap_parser *p)
{
	return p->nregions;
}

/* ---- small scanners over [*cur, end) ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool scan_hex(const char **cur, const char *end, uint64_t *out)
{
	const char *s = *cur;
	uint64_t v = 0;
	int digits = 0, d;
	while (s < end && (d = hexval(*s)) >= 0) {
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (!digits)
		return false;
	*cur = s;
	*out = v;
	return true;
}

static bool scan_dec(const char **cur, const char *end, uint64_t *out)
{
	const char *s = *cur;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	*cur = s;
	*out = v;
	return true;
}

static bool scan_char(const char **cur, const char *end, char c)
{
	if (*cur < end && **cur == c) {
		(*cur)++;
		return true;
	}
	return false;
}

static void skip_spaces(const char **cur, const char *end)
{
	/* The kernel pads every value to a column: eight spaces at a time. */
	static const char eight[8] = "        ";
	while (end - *cur >= 8 && memcmp(*cur, eight, 8) == 0)
		*cur += 8;
	while (*cur < end && (**cur == ' ' || **cur == '\t'))
		(*cur)++;
}

/* ---- regions ---- */

static int flush_region(snap_parser *p, snap_error *err)
{
	if (!p->in_region)
		return 0;
	p->in_region = false;
	snap_region *r = &p->cur;
	r->path = p->path.data ? p->path.data : "";
	if (p->nentries > p->most_entries)
		p->most_entries = p->nentries;
	p->had_vmflags = r->vmflags != NULL;
	p->nregions++;

	/* The printed order is the region's layout (and the next region's
	 * guess); only non-zero counters and text lines are kept as entries. */
	if (p->order_cap < p->nentries) {
		uint32_t *grown = realloc(p->order, p->nentries * sizeof(*grown));
		if (!grown)
			return SNAP_ENOMEM;
		p->order = grown;
		p->order_cap = p->nentries;
	}
	size_t kept = 0;
	for (size_t i = 0; i < p->nentries; i++) {
		p->order[i] = p->entries[i].field;
		if (p->entries[i].is_text || p->entries[i].value)
			p->entries[kept++] = p->entries[i];
	}
	p->norder = p->nentries;
	r->layout = p->order;
	r->nlayout = (uint16_t)p->nentries;
	r->entries = p->entries;
	r->nentries = (uint16_t)kept;

	snap_error why;
	if (snap_region_check(p->snap, r, &why) < 0)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->header_line,
				      "mapping %08" PRIx64 "-%08" PRIx64 ": %s", r->start,
				      r->end, why.message);
	int rc = p->fn ? p->fn(p->ctx, p->snap, r)
		       : snap_snapshot_add_region(p->snap, r, err);
	if (rc != 0)
		p->stop = rc;
	return rc;
}

/* The kernel prints [r-][w-][x-][ps] and nothing else. */
static bool valid_perms(const char *s)
{
	return (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') &&
	       (s[2] == 'x' || s[2] == '-') && (s[3] == 'p' || s[3] == 's');
}

static int parse_header(snap_parser *p, const char *s, const char *end,
			snap_error *err)
{
	snap_region *r = &p->cur;
	uint64_t major, minor;
	memset(r, 0, sizeof(*r));
	if (!scan_hex(&s, end, &r->start) || !scan_char(&s, end, '-') ||
	    !scan_hex(&s, end, &r->end) || !scan_char(&s, end, ' '))
		goto bad;
	if (end - s < 5 || s[4] != ' ' || !valid_perms(s))
		goto bad;
	memcpy(r->perms, s, 4);
	r->perms[4] = '\0';
	s += 5;
	if (!scan_hex(&s, end, &r->offset) || !scan_char(&s, end, ' ') ||
	    !scan_hex(&s, end, &major) || !scan_char(&s, end, ':') ||
	    !scan_hex(&s, end, &minor) || !scan_char(&s, end, ' ') ||
	    !scan_dec(&s, end, &r->inode))
		goto bad;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		goto bad;
	r->dev_major = (uint32_t)major;
	r->dev_minor = (uint32_t)minor;
	if (s < end && *s != ' ')
		goto bad;
	if (r->start > r->end)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "mapping starts above its end");
	skip_spaces(&s, end);
	if (gb_set(&p->path, s, (size_t)(end - s)) < 0)
		return SNAP_ENOMEM;
	/* d_path() prints at most PATH_MAX (4096) plus " (deleted)". */
	if (p->path.len > SNAP_PATH_MAX)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "mapping name longer than %d bytes", SNAP_PATH_MAX);
	r->path_len = (uint32_t)p->path.len;
	p->header_line = p->line;
	p->nentries = 0;
	p->flags.len = 0;
	arena_reset(p->texts);
	p->in_region = true;
	return 0;
bad:
	return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
			      "not a valid mapping header line");
}

/* The field the previous mapping printed at this line's position, when
 * the line names it: the kernel prints the same keys in the same order,
 * so nearly every line is found so, its key already checked. */
static int expected_field(const snap_parser *p, const char *s, const char *end,
			  size_t *keylen)
{
	if (p->nentries >= p->norder)
		return -1;
	uint32_t field = p->order[p->nentries];
	size_t len = p->notes[field].name_len;
	if ((size_t)(end - s) <= len || s[len] != ':' ||
	    memcmp(s, p->snap->fields[field].name, len) != 0)
		return -1;
	*keylen = len;
	return (int)field;
}

/* True when field was already printed in the current region. */
static int printed_twice(snap_parser *p, int field, size_t keylen, bool *twice)
{
	if ((size_t)field >= p->notes_cap) {
		size_t cap = (size_t)field + 32;
		struct field_note *grown = realloc(p->notes, cap * sizeof(*grown));
		if (!grown)
			return SNAP_ENOMEM;
		memset(grown + p->notes_cap, 0, (cap - p->notes_cap) * sizeof(*grown));
		p->notes = grown;
		p->notes_cap = cap;
	}
	struct field_note *note = &p->notes[field];
	uint32_t region = (uint32_t)p->nregions + 1;
	*twice = note->printed_in == region;
	note->printed_in = region;
	note->name_len = (uint32_t)keylen;
	return 0;
}

static int add_entry(snap_parser *p, int field, uint64_t value, const char *text)
{
	if (field < 0)
		return SNAP_ENOMEM;
	if (p->nentries == UINT16_MAX)
		return SNAP_EFORMAT;
	if (array_grow(&p->entries, &p->entries_cap, p->nentries, sizeof(*p->entries), 32) < 0)
		return SNAP_ENOMEM;
	snap_entry *e = &p->entries[p->nentries++];
	e->field = (uint32_t)field;
	e->is_text = text != NULL;
	if (text)
		e->text = text;
	else
		e->value = value;
	return 0;
}

/* The kernel prints a field the same way in every region; one that turns
 * from a number into text (or loses its "kB") is not smaps text. */
static int unit_changed(snap_parser *p, int field, snap_error *err)
{
	return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
			      "%s: printed differently than in earlier mappings",
			      p->snap->fields[field].name);
}

/* A field's line in the current region: printed once, the same way as
 * in every other region. */
static int check_field(snap_parser *p, int field, size_t keylen,
		       enum snap_unit unit, snap_error *err)
{
	bool twice;
	if (field < 0 || printed_twice(p, field, keylen, &twice) < 0)
		return SNAP_ENOMEM;
	if (twice)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "%s: printed twice in one mapping",
				      p->snap->fields[field].name);
	if (p->snap->fields[field].unit != unit)
		return unit_changed(p, field, err);
	return 0;
}

/* known: the expected field this line named, or -1 to look the key up. */
static int add_counter(snap_parser *p, int known, const char *key, size_t keylen,
		       enum snap_unit unit, uint64_t value, snap_error *err)
{
	int field = known >= 0 ? known : snap_field_intern(p->snap, key, keylen, unit, NULL);
	int rc = check_field(p, field, keylen, unit, err);
	return rc < 0 ? rc : add_entry(p, field, value, NULL);
}

static int parse_vmflags(snap_parser *p, const char *s, const char *end)
{
	struct growbuf *f = &p->flags;
	f->len = 0;
	if (gb_reserve(f, (size_t)(end - s)) < 0)
		return SNAP_ENOMEM;
	/* Normalise to single spaces, without the kernel's trailing one. */
	while (s < end) {
		skip_spaces(&s, end);
		const char *tok = s;
		while (s < end && *s != ' ' && *s != '\t')
			s++;
		if (s == tok)
			break;
		if (f->len)
			f->data[f->len++] = ' ';
		memcpy(f->data + f->len, tok, (size_t)(s - tok));
		f->len += (size_t)(s - tok);
	}
	f->data[f->len] = '\0';
	p->cur.vmflags = f->data;
	return 0;
}

/* Counters every kernel prints as numbers: text there is not smaps. */
static const char *const kernel_counters[] = {
	"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
	"Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean", "Shared_Dirty",
	"Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM",
	"LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
	"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
	"THPeligible", "ProtectionKey",
};

/* A line that claims to be a counter: a kernel counter's name, or a value
 * with the " kB" unit. Its value must then be a number. */
static bool counter_line(const char *key, size_t keylen, const char *v,
			 const char *end)
{
	if (end - v >= 3 && memcmp(end - 3, " kB", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof(kernel_counters) / sizeof(*kernel_counters); i++)
		if (strlen(kernel_counters[i]) == keylen &&
		    memcmp(kernel_counters[i], key, keylen) == 0)
			return true;
	return false;
}

/* The key of a line that is not the expected field's: checked, and a
 * VmFlags line parsed whole (then 1). */
static int unexpected_key(snap_parser *p, const char *s, const char *end,
			  size_t *keylen, snap_error *err)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	bool vmflags = colon && colon - s == 7 && memcmp(s, "VmFlags", 7) == 0;
	if (!colon || (!vmflags && !snap_field_name_valid(s, (size_t)(colon - s))))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "expected a 'Key: value' line");
	if (!p->in_region)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "field line before any mapping header");
	*keylen = (size_t)(colon - s);
	if (!vmflags)
		return 0;
	for (const char *c = colon + 1; c < end; c++)
		if ((*c < 0x21 || *c > 0x7e) && *c != ' ' && *c != '\t')
			return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
					      "VmFlags: not ASCII flag names");
	int rc = parse_vmflags(p, colon + 1, end);
	return rc < 0 ? rc : 1;
}

/* A line whose value is text: kept exactly, as the JSON will hold it. */
static int add_text(snap_parser *p, int known, const char *s, size_t keylen,
		    const char *end, snap_error *err)
{
	/* Drop only the label's padding to column 16 (the kernel pads every
	 * label so), not spaces that belong to the text. */
	const char *text_start = s + keylen + 1;
	size_t pad = keylen + 1 < 16 ? 16 - (keylen + 1) : 1;
	while (pad-- && text_start < end && *text_start == ' ')
		text_start++;
	/* JSON text is UTF-8. */
	if (!snap_utf8_valid(text_start, (size_t)(end - text_start)))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "field text is not valid UTF-8");
	const char *text = arena_strndup(p->texts, text_start,
					 (size_t)(end - text_start));
	int field = known >= 0 ? known
			       : snap_field_intern(p->snap, s, keylen, SNAP_UNIT_TEXT, NULL);
	if (!text)
		return SNAP_ENOMEM;
	int rc = check_field(p, field, keylen, SNAP_UNIT_TEXT, err);
	return rc < 0 ? rc : add_entry(p, field, 0, text);
}

static int parse_field(snap_parser *p, const char *s, const char *end,
		       snap_error *err)
{
	size_t keylen = 0;
	int known = expected_field(p, s, end, &keylen);
	if (known < 0) {
		int rc = unexpected_key(p, s, end, &keylen, err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	const char *v = s + keylen + 1;
	skip_spaces(&v, end);
	uint64_t value;
	const char *after = v;
	const char *digits_end = v;
	while (digits_end < end && *digits_end >= '0' && *digits_end <= '9')
		digits_end++;
	bool numeric = digits_end > v && (digits_end == end || *digits_end == ' ');
	if (numeric && !scan_dec(&after, end, &value))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "number out of range");
	if (numeric) {
		if (after == end)
			return add_counter(p, known, s, keylen, SNAP_UNIT_NONE, value, err);
		if (end - after == 3 && memcmp(after, " kB", 3) == 0)
			return add_counter(p, known, s, keylen, SNAP_UNIT_KB, value, err);
	}
	if (counter_line(s, keylen, v, end))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "%.*s: the value is not a number", (int)keylen, s);
	return add_text(p, known, s, keylen, end, err);
}

static bool is_header_start(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int too_long(snap_parser *p, snap_error *err)
{
	return snap_error_set(err, SNAP_EFORMAT, p->source, p->line + 1,
			      "a line longer than %d bytes: not smaps text",
			      SMAPS_LINE_MAX);
}

static int parse_line(snap_parser *p, const char *s, const char *end,
		      snap_error *err)
{
	if (end - s > SMAPS_LINE_MAX)
		return too_long(p, err);
	p->line++;
	if (s < end && is_header_start(*s))
		p->region_bytes = 0;
	p->region_bytes += (size_t)(end - s) + 1;
	if (p->in_region && p->region_bytes > SMAPS_MAPPING_MAX)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "a mapping with more than %d bytes of lines: not "
				      "smaps text", SMAPS_MAPPING_MAX);
	if (s == end)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "unexpected empty line");
	if (p->feed_has_nul && memchr(s, '\0', (size_t)(end - s)))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "NUL byte in smaps text");
	if (is_header_start(*s)) {
		int rc = flush_region(p, err);
		if (rc != 0)
			return rc;
		return parse_header(p, s, end, err);
	}
	int rc = parse_field(p, s, end, err);
	if (rc == SNAP_ENOMEM)
		return snap_error_set(err, rc, p->source, p->line, "out of memory");
	if (rc == SNAP_EFORMAT && p->nentries == UINT16_MAX)
		return snap_error_set(err, rc, p->source, p->line,
				      "more than 65535 lines in one mapping");
	return rc;
}

int snap_parser_feed(snap_parser *p, const char *data, size_t len,
		     snap_error *err)
{
	const char *s = data, *end = data + len;
	int rc;
	if (p->stop)
		return p->stop;
	if (p->partial.len) {
		const char *nl = memchr(s, '\n', len);
		size_t take = nl ? (size_t)(nl - s) : len;
		if (p->partial.len + take > SMAPS_LINE_MAX)
			return too_long(p, err);
		if (gb_reserve(&p->partial, take) < 0)
			return SNAP_ENOMEM;
		memcpy(p->partial.data + p->partial.len, s, take);
		p->partial.len += take;
		if (!nl)
			return 0;
		p->feed_has_nul = true;
		rc = parse_line(p, p->partial.data, p->partial.data + p->partial.len,
				err);
		p->partial.len = 0;
		if (rc != 0)
			return rc;
		s = nl + 1;
	}
	const char *nl;
	p->feed_has_nul = memchr(s, '\0', (size_t)(end - s)) != NULL;
	while (s < end && (nl = memchr(s, '\n', (size_t)(end - s)))) {
		if ((rc = parse_line(p, s, nl, err)) != 0)
			return rc;
		s = nl + 1;
	}
	if (s < end) {
		if (end - s > SMAPS_LINE_MAX)
			return too_long(p, err);
		if (gb_set(&p->partial, s, (size_t)(end - s)) < 0)
			return SNAP_ENOMEM;
	}
	return 0;
}

int snap_parser_finish(snap_parser *p, snap_error *err)
{
	if (p->stop)
		return p->stop;
	if (p->partial.len)
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line + 1,
				      "truncated: the last line has no newline");
	/* Every region of one capture prints the same lines; a last region
	 * with fewer of them than the others was cut off. */
	if (p->in_region && p->nregions > 0 &&
	    (p->nentries < p->most_entries || (p->had_vmflags && !p->cur.vmflags)))
		return snap_error_set(err, SNAP_EFORMAT, p->source, p->line,
				      "truncated: the last mapping is incomplete");
	return flush_region(p, err);
}

int snap_parse_smaps_fd(snap_snapshot *snap, int fd, const char *source,
			snap_region_fn fn, void *ctx, snap_error *err)
{
	snap_parser *p;
	int rc = snap_parser_new(&p, snap, source, fn, ctx, err);
	if (rc < 0)
		return rc;
	size_t cap = 256 * 1024;
	char *buf = malloc(cap);
	if (!buf) {
		snap_parser_free(p);
		return snap_error_set(err, SNAP_ENOMEM, source, 0, "out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = snap_error_set(err, SNAP_EIO, source, 0, "read failed: %s",
					    strerror(errno));
			break;
		}
		if (n == 0) {
			rc = snap_parser_finish(p, err);
			break;
		}
		if ((rc = snap_parser_feed(p, buf, (size_t)n, err)) != 0)
			break;
	}
	free(buf);
	snap_parser_free(p);
	return rc;
}

/* smaps_rollup: a header line, then "Key:   N kB" lines. */
int snap_parse_rollup(snap_snapshot *snap, const char *text, size_t len,
		      const char *source, snap_error *err)
{
	size_t cap = 0, n = 0;
	const char *s = text, *end = text + len;
	for (const char *p = text; p < end; p++)
		cap += *p == '\n';
	size_t bytes;
	snap_counter *out = ck_array_size(&bytes, cap, 1, sizeof(*out)) ? NULL
			    : snap_snapshot_alloc(snap, bytes);
	if (!out)
		return snap_error_set(err, SNAP_ENOMEM, source, 0, "out of memory");
	long line = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		line++;
		if (line > 1 || !is_header_start(*s)) {
			const char *colon = memchr(s, ':', (size_t)(le - s));
			const char *v = colon ? colon + 1 : le;
			uint64_t value;
			skip_spaces(&v, le);
			if (!colon || !scan_dec(&v, le, &value))
				return snap_error_set(err, SNAP_EFORMAT, source, line,
						      "not a 'Key: N kB' line");
			bool kb = le - v == 3 && memcmp(v, " kB", 3) == 0;
			if (!kb && v != le)
				return snap_error_set(err, SNAP_EFORMAT, source, line,
						      "not a 'Key: N kB' line");
			if (value > SNAP_COUNTER_MAX)
				return snap_error_set(err, SNAP_EFORMAT, source, line,
						      "%.*s: more than 2^52 (no kernel prints "
						      "that)", (int)(colon - s), s);
			const char *name = snap_snapshot_strndup(snap, s, (size_t)(colon - s));
			if (!name)
				return snap_error_set(err, SNAP_ENOMEM, source, 0,
						      "out of memory");
			out[n++] = (snap_counter){ name, value,
						   kb ? SNAP_UNIT_KB : SNAP_UNIT_NONE };
		}
		s = nl ? nl + 1 : end;
	}
	snap->rollup = out;
	snap->nrollup = n;
	return SNAP_OK;
}
