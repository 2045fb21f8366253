/* The fast path of snapshot loading. A snapshot is mostly its regions
 * array: tens of thousands of small flat objects. Building a jansson tree
 * for them costs several times the parse and holds the whole tree in
 * memory, so the array is validated by a strict scanner and then read
 * straight into the model; jansson reads the small members around it. */
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json_scan.h"

#define MAX_DEPTH 512

const char *jscan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static const char *fail(struct jscan *js, const char *at, const char *msg)
{
	js->error_at = at;
	js->error = msg;
	return NULL;
}

long jscan_line(const struct jscan *js, const char *at)
{
	long line = 1;
	for (const char *p = js->start; p < at && p < js->end; p++)
		line += *p == '\n';
	return line;
}

static int hex4(const char *p, const char *end)
{
	if (end - p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* p at the opening quote; returns the position after the closing one. */
static const char *scan_string(struct jscan *js, const char *p)
{
	const char *end = js->end;
	for (p++; p < end;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return fail(js, p, "control character in a string");
		if (c == '\\') {
			if (p + 1 >= end)
				break;
			char e = p[1];
			if (e == 'u') {
				if (hex4(p + 2, end) < 0)
					return fail(js, p, "bad \\u escape");
				p += 6;
			} else if (strchr("\"\\/bfnrt", e) && e) {
				p += 2;
			} else {
				return fail(js, p, "bad escape in a string");
			}
			continue;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n = snap_utf8_seq((const unsigned char *)p, (size_t)(end - p));
		if (!n)
			return fail(js, p, "invalid UTF-8 in a string");
		p += n;
	}
	return fail(js, p, "unexpected end of input in a string");
}

static const char *scan_number(struct jscan *js, const char *p)
{
	const char *end = js->end;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return fail(js, p, "bad number");
	}
	/* Failures point where a digit was due, so a number cut off at the
	 * end of a prefix fails at that end. */
	if (p < end && *p == '.') {
		const char *d = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return fail(js, p, "bad number");
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return fail(js, p, "bad number");
	}
	return p;
}

static const char *scan_literal(struct jscan *js, const char *p, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(js->end - p) < n || memcmp(p, word, n) != 0)
		return fail(js, p, "unexpected character");
	return p + n;
}

static const char *scan_container(struct jscan *js, const char *p, int depth)
{
	char close = *p == '{' ? '}' : ']';
	bool object = *p == '{';
	p = jscan_ws(p + 1, js->end);
	if (p < js->end && *p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if (p >= js->end || *p != '"')
				return fail(js, p, "string or '}' expected");
			if (!(p = scan_string(js, p)))
				return NULL;
			p = jscan_ws(p, js->end);
			if (p >= js->end || *p != ':')
				return fail(js, p, "':' expected");
			p++;
		}
		if (!(p = jscan_value(js, p, depth + 1)))
			return NULL;
		p = jscan_ws(p, js->end);
		if (p < js->end && *p == ',') {
			p = jscan_ws(p + 1, js->end);
			continue;
		}
		if (p < js->end && *p == close)
			return p + 1;
		return fail(js, p, object ? "',' or '}' expected" : "',' or ']' expected");
	}
}

const char *jscan_value(struct jscan *js, const char *p, int depth)
{
	p = jscan_ws(p, js->end);
	if (depth > MAX_DEPTH)
		return fail(js, p, "too deeply nested");
	if (p >= js->end)
		return fail(js, p, "unexpected end of input");
	switch (*p) {
	case '{':
	case '[': return scan_container(js, p, depth);
	case '"': return scan_string(js, p);
	case 't': return scan_literal(js, p, "true");
	case 'f': return scan_literal(js, p, "false");
	case 'n': return scan_literal(js, p, "null");
	default: return scan_number(js, p);
	}
}

/* ---- regions, on validated text ---------------------------------------- */

/* A string value: [s, s+len) raw, decoded into `decoded` if it has
 * escapes. */
struct jstr {
	const char *s;
	size_t len;
};

struct region_reader {
	const char *end; /* of the regions array text */
	snap_snapshot *snap;
	const char *source;
	snap_error *err;
	size_t index; /* 1-based */
	const uint32_t *layout; /* the document's "fields" */
	size_t nlayout;
	const uint32_t *stored_layout; /* its copy in snap, once stored */
	/* Per field id (slots of them): the stamp of the region that set it,
	 * and its value; its position in the document's layout (NO_POS when
	 * absent) and in the current region's own "fields" (valid when
	 * own_stamp is this region). */
	uint32_t *stamp;
	uint64_t *value;
	size_t *text_off; /* a text field's value, as an offset in scratch */
	uint32_t *doc_pos;
	uint32_t *own_pos, *own_stamp;
	size_t slots;
	/* The members of one region, in object order. */
	uint32_t *members;
	size_t nmembers, members_cap;
	struct placed *placed; /* members found in the layout, by position */
	snap_entry *entries;
	uint32_t *all_fields; /* layout plus extras, when there are extras */
	size_t all_cap;
	char *scratch;   /* decoded strings of one region */
	size_t scratch_len, scratch_cap;
};

#define NO_POS UINT32_MAX

struct placed {
	uint32_t pos, id;
};

static const char *ws(const struct region_reader *rr, const char *p)
{
	return jscan_ws(p, rr->end);
}

static int rbad(struct region_reader *rr, const char *fmt, const char *what)
{
	char msg[300];
	snprintf(msg, sizeof(msg), fmt, what);
	return snap_error_set(rr->err, SNAP_EFORMAT, rr->source, 0, "region %zu: %s",
			      rr->index, msg);
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Decodes the escapes of [s, e) into the scratch buffer. Scratch offsets,
 * not pointers, are kept until the region is complete (it may grow). */
static int decode(struct region_reader *rr, const char *s, const char *e,
		  size_t *off, size_t *len)
{
	size_t need = rr->scratch_len + (size_t)(e - s) + 1;
	if (need > rr->scratch_cap) {
		size_t cap = rr->scratch_cap ? rr->scratch_cap : 4096;
		while (cap < need)
			cap *= 2;
		char *grown = realloc(rr->scratch, cap);
		if (!grown)
			return SNAP_ENOMEM;
		rr->scratch = grown;
		rr->scratch_cap = cap;
	}
	char *out = rr->scratch + rr->scratch_len;
	size_t n = 0;
	while (s < e) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		char c = s[1];
		s += 2;
		switch (c) {
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			unsigned cp = (unsigned)hex4(s, e);
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && e - s >= 6 && s[0] == '\\' &&
			    s[1] == 'u') {
				unsigned lo = (unsigned)hex4(s + 2, e);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd; /* a lone surrogate */
			put_utf8(out, &n, cp);
			break;
		}
		default: out[n++] = c; break;
		}
	}
	out[n] = '\0';
	*off = rr->scratch_len;
	*len = n;
	rr->scratch_len += n + 1;
	return 0;
}

/* A member's string value as offset+length in scratch (always decoded, so
 * every string of the region is NUL-terminated). */
struct sval {
	size_t off, len;
	bool set;
};

static int read_string(struct region_reader *rr, const char **p, struct sval *out)
{
	const char *s = *p + 1, *e = s;
	while (*e != '"')
		e += *e == '\\' ? 2 : 1;
	*p = e + 1;
	out->set = true;
	return decode(rr, s, e, &out->off, &out->len);
}

static const char *sv(const struct region_reader *rr, const struct sval *v)
{
	return rr->scratch + v->off;
}

enum fixed { F_START, F_END, F_PERMS, F_OFFSET, F_DEV, F_INODE, F_PATH,
	     F_PATH_HEX, F_FIELDS, F_VMFLAGS, F_COUNT };
static const char *const fixed_names[F_COUNT] = { "start", "end", "perms", "offset",
	"dev", "inode", "path", "path_hex", "fields", "VmFlags" };

static int fixed_key(const char *key, size_t len)
{
	for (int i = 0; i < F_COUNT; i++)
		if (strlen(fixed_names[i]) == len && memcmp(fixed_names[i], key, len) == 0)
			return i;
	return -1;
}

/* Grows an array to n elements of size bytes (n > *old elements). */
static int grow_array(void *items, size_t n, size_t size)
{
	size_t bytes;
	void *old;
	memcpy(&old, items, sizeof(old));
	void *grown = ck_mul_size(&bytes, n, size) ? NULL : realloc(old, bytes);
	if (!grown)
		return SNAP_ENOMEM;
	memcpy(items, &grown, sizeof(grown));
	return 0;
}

/* Per-field arrays cover every field of the snapshot. */
static int grow_slots(struct region_reader *rr)
{
	size_t n = rr->snap->nfields + 8;
	if (n <= rr->slots)
		return 0;
	if (n < rr->slots * 2)
		n = rr->slots * 2;
	if (grow_array(&rr->stamp, n, sizeof(*rr->stamp)) < 0 ||
	    grow_array(&rr->value, n, sizeof(*rr->value)) < 0 ||
	    grow_array(&rr->text_off, n, sizeof(*rr->text_off)) < 0 ||
	    grow_array(&rr->doc_pos, n, sizeof(*rr->doc_pos)) < 0 ||
	    grow_array(&rr->own_pos, n, sizeof(*rr->own_pos)) < 0 ||
	    grow_array(&rr->own_stamp, n, sizeof(*rr->own_stamp)) < 0)
		return SNAP_ENOMEM;
	size_t fresh = n - rr->slots;
	memset(rr->stamp + rr->slots, 0, fresh * sizeof(*rr->stamp));
	memset(rr->own_stamp + rr->slots, 0, fresh * sizeof(*rr->own_stamp));
	for (size_t i = rr->slots; i < n; i++)
		rr->doc_pos[i] = NO_POS;
	rr->slots = n;
	return 0;
}

/* A JSON integer as a count, not negative, at most max (counters take
 * jansson's json_int_t range; an inode all 64 bits, as the kernel prints
 * it: overlayfs sets the high ones). */
static int read_count(struct region_reader *rr, const char **p, const char *key,
		      uint64_t max, uint64_t *out)
{
	const char *s = *p;
	if (*s == '-')
		return rbad(rr, "\"%s\" is negative", key);
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (max - d) / 10)
			return snap_error_set(rr->err, SNAP_EFORMAT, rr->source, 0,
					      "invalid JSON: too big integer (region %zu, \"%s\")",
					      rr->index, key);
		v = v * 10 + d;
		s++;
	}
	if (s == *p || *s == '.' || *s == 'e' || *s == 'E')
		return rbad(rr, "\"%s\" is not an integer", key);
	*p = s;
	*out = v;
	return 0;
}

/* A region's own "fields": an arena copy for the model, and each field's
 * position in it (a name listed twice is refused). */
static int read_layout_list(struct region_reader *rr, const char **p,
			    uint32_t **ids, size_t *n)
{
	const char *s = ws(rr, *p + 1);
	size_t count = 0, cap = 1, bytes;
	for (const char *c = s; *c != ']'; c++) {
		if (*c == '"') /* skip the string: names may hold ',' or ']' */
			for (c++; *c != '"'; c += *c == '\\' ? 2 : 1)
				;
		cap += *c == ',';
	}
	if (cap > UINT16_MAX)
		return rbad(rr, "%s", "more than 65535 fields");
	uint32_t *list = ck_array_size(&bytes, cap, 0, sizeof(*list)) ? NULL
			 : snap_snapshot_alloc(rr->snap, bytes);
	if (!list)
		return SNAP_ENOMEM;
	while (*s != ']') {
		struct sval name;
		if (*s != '"')
			return rbad(rr, "\"%s\" holds something not a field name", "fields");
		int rc = read_string(rr, &s, &name);
		if (rc < 0)
			return rc;
		if (!snap_field_name_valid(sv(rr, &name), name.len) || count == cap)
			return rbad(rr, "\"%s\" holds something not a field name", "fields");
		int id = snap_field_intern(rr->snap, sv(rr, &name), name.len, SNAP_UNIT_KB,
					   NULL);
		if (id < 0 || grow_slots(rr) < 0)
			return SNAP_ENOMEM;
		if (rr->own_stamp[id] == rr->index)
			return rbad(rr, "\"%s\" names a field twice", "fields");
		rr->own_stamp[id] = (uint32_t)rr->index;
		rr->own_pos[id] = (uint32_t)count;
		list[count++] = (uint32_t)id;
		s = ws(rr, s);
		if (*s == ',')
			s = ws(rr, s + 1);
	}
	*p = s + 1;
	*ids = list;
	*n = count;
	return 0;
}

/* Room for one more member (and its entry) in the per-region arrays. */
static int array_room(struct region_reader *rr)
{
	if (rr->nmembers < rr->members_cap)
		return 0;
	size_t cap = rr->members_cap ? rr->members_cap * 2 : 64;
	if (cap > (size_t)UINT16_MAX + 1)
		cap = (size_t)UINT16_MAX + 1;
	if (rr->nmembers >= cap)
		return rbad(rr, "%s", "more than 65535 fields");
	if (grow_array(&rr->members, cap, sizeof(*rr->members)) < 0 ||
	    grow_array(&rr->placed, cap, sizeof(*rr->placed)) < 0 ||
	    grow_array(&rr->entries, cap, sizeof(*rr->entries)) < 0)
		return SNAP_ENOMEM;
	rr->members_cap = cap;
	return 0;
}

static int set_counter(struct region_reader *rr, const char **p, int id,
		       const char *key)
{
	if (rr->stamp[id] == rr->index)
		return snap_error_set(rr->err, SNAP_EFORMAT, rr->source, 0,
				      "invalid JSON: duplicate object key \"%s\" (region %zu)",
				      key, rr->index);
	rr->stamp[id] = (uint32_t)rr->index;
	int rc = array_room(rr);
	if (rc < 0)
		return rc;
	rr->members[rr->nmembers++] = (uint32_t)id;
	bool text = rr->snap->fields[id].unit == SNAP_UNIT_TEXT;
	if (**p == '"') {
		if (!text)
			return rbad(rr, "\"%s\" is not an integer", key);
		struct sval v;
		rc = read_string(rr, p, &v);
		rr->text_off[id] = v.off; /* scratch may still move */
		return rc;
	}
	if (text)
		return rbad(rr, "text field \"%s\" is not a string", key);
	if (**p != '-' && (**p < '0' || **p > '9'))
		return rbad(rr, "\"%s\" is not an integer", key);
	return read_count(rr, p, key, INT64_MAX, &rr->value[id]);
}

/* The field a counter member names: the layout's next field when it is
 * that one (the kernel's order, nearly always), else through the
 * snapshot's hash of names; new names are interned. */
static int counter_id(struct region_reader *rr, const char *name, size_t len,
		      const uint32_t *layout, size_t nlayout, size_t *guess)
{
	if (*guess < nlayout) {
		uint32_t id = layout[*guess];
		const char *expect = rr->snap->fields[id].name;
		if (strncmp(expect, name, len) == 0 && expect[len] == '\0') {
			(*guess)++;
			return (int)id;
		}
	}
	int id = snap_field_find(rr->snap, name);
	if (id < 0) {
		id = snap_field_intern(rr->snap, name, len, SNAP_UNIT_KB, NULL);
		if (id < 0 || grow_slots(rr) < 0)
			return -1;
	}
	return id;
}

/* One member "key": value of a region object. */
static int read_member(struct region_reader *rr, const char **p, struct sval *fixed,
		       const uint32_t **layout, size_t *nlayout, size_t *guess)
{
	struct sval key;
	int rc = read_string(rr, p, &key);
	if (rc < 0)
		return rc;
	*p = ws(rr, *p) + 1; /* the ':' */
	*p = ws(rr, *p);
	const char *name = sv(rr, &key);
	int f = fixed_key(name, key.len);
	if (f == F_FIELDS) {
		if (**p != '[')
			return rbad(rr, "\"%s\" is not an array", "fields");
		if (fixed[f].set)
			return snap_error_set(rr->err, SNAP_EFORMAT, rr->source, 0,
					      "invalid JSON: duplicate object key \"%s\" "
					      "(region %zu)", name, rr->index);
		fixed[f].set = true;
		uint32_t *own = NULL;
		size_t nown = 0;
		if ((rc = read_layout_list(rr, p, &own, &nown)) < 0)
			return rc;
		*layout = own;
		*nlayout = nown;
		*guess = 0;
		return 0;
	}
	if (f >= 0) {
		if (fixed[f].set)
			return snap_error_set(rr->err, SNAP_EFORMAT, rr->source, 0,
					      "invalid JSON: duplicate object key \"%s\" "
					      "(region %zu)", name, rr->index);
		if (f == F_INODE) {
			uint64_t inode;
			if (**p != '-' && (**p < '0' || **p > '9'))
				return rbad(rr, "\"%s\" is not an integer", "inode");
			if ((rc = read_count(rr, p, "inode", UINT64_MAX, &inode)) < 0)
				return rc;
			fixed[f] = (struct sval){ (size_t)inode, 0, true };
			return 0;
		}
		if (**p != '"')
			return rbad(rr, "\"%s\" is not a string", fixed_names[f]);
		return read_string(rr, p, &fixed[f]);
	}
	if (!snap_field_name_valid(name, key.len))
		return rbad(rr, "\"%s\" is not a field name", name);
	int id = counter_id(rr, name, key.len, *layout, *nlayout, guess);
	if (id < 0)
		return SNAP_ENOMEM;
	char keycopy[128];
	snprintf(keycopy, sizeof(keycopy), "%s", name);
	return set_counter(rr, p, id, keycopy);
}

bool jscan_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;
	for (; s[n]; n++) {
		int c = s[n], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		if (n >= 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return n > 0;
}

static int hex_member(struct region_reader *rr, const struct sval *v,
		      const char *key, uint64_t *out)
{
	if (!v->set)
		return rbad(rr, "\"%s\" is missing or not a string", key);
	if (!jscan_hex(sv(rr, v), out))
		return rbad(rr, "\"%s\" is not lowercase hex of at most 16 digits", key);
	return 0;
}

static int dev_member(struct region_reader *rr, const struct sval *v, snap_region *r)
{
	char major[16];
	const char *s = v->set ? sv(rr, v) : NULL;
	const char *colon = s ? strchr(s, ':') : NULL;
	uint64_t ma, mi;
	if (!colon || colon - s >= (long)sizeof(major))
		return rbad(rr, "\"%s\" is not MAJOR:MINOR hex", "dev");
	memcpy(major, s, (size_t)(colon - s));
	major[colon - s] = '\0';
	if (!jscan_hex(major, &ma) || !jscan_hex(colon + 1, &mi) ||
	    ma > UINT32_MAX || mi > UINT32_MAX)
		return rbad(rr, "\"%s\" is not MAJOR:MINOR hex", "dev");
	r->dev_major = (uint32_t)ma;
	r->dev_minor = (uint32_t)mi;
	return 0;
}

static int path_members(struct region_reader *rr, const struct sval *fixed,
			snap_region *r)
{
	const struct sval *hex = &fixed[F_PATH_HEX];
	/* The exact name is what a kernel printed: path_hex when present (the
	 * lossy "path" beside it grows by U+FFFD), else path. */
	if (hex->set ? hex->len > 2 * SNAP_PATH_MAX : fixed[F_PATH].len > SNAP_PATH_MAX)
		return rbad(rr, "\"%s\" is longer than a kernel prints", "path");
	if (!hex->set) {
		r->path = fixed[F_PATH].set ? sv(rr, &fixed[F_PATH]) : "";
		r->path_len = fixed[F_PATH].set ? (uint32_t)fixed[F_PATH].len : 0;
		return 0;
	}
	/* The exact bytes replace the lossy text, in place (shorter). */
	char *h = rr->scratch + hex->off;
	size_t n = hex->len;
	if (n % 2)
		return rbad(rr, "\"%s\" is not an even run of hex digits", "path_hex");
	for (size_t i = 0; i < n; i += 2) {
		char pair[3] = { h[i], h[i + 1], 0 };
		uint64_t b;
		if (!jscan_hex(pair, &b))
			return rbad(rr, "\"%s\" is not an even run of hex digits", "path_hex");
		h[i / 2] = (char)b;
	}
	h[n / 2] = '\0';
	r->path = h;
	r->path_len = (uint32_t)(n / 2);
	return 0;
}

static int header_members(struct region_reader *rr, const struct sval *fixed,
			  snap_region *r)
{
	int rc;
	if ((rc = hex_member(rr, &fixed[F_START], "start", &r->start)) < 0 ||
	    (rc = hex_member(rr, &fixed[F_END], "end", &r->end)) < 0 ||
	    (rc = hex_member(rr, &fixed[F_OFFSET], "offset", &r->offset)) < 0)
		return rc;
	const char *perms = fixed[F_PERMS].set ? sv(rr, &fixed[F_PERMS]) : "";
	if (fixed[F_PERMS].len != 4 || !strchr("r-", perms[0]) || !strchr("w-", perms[1]) ||
	    !strchr("x-", perms[2]) || !strchr("ps", perms[3]))
		return rbad(rr, "\"%s\" is not like r-xp", "perms");
	if (fixed[F_VMFLAGS].set)
		for (const char *c = sv(rr, &fixed[F_VMFLAGS]); *c; c++)
			if ((*c < 0x21 || *c > 0x7e) && *c != ' ')
				return rbad(rr, "\"%s\" is not ASCII flag names", "VmFlags");
	memcpy(r->perms, sv(rr, &fixed[F_PERMS]), 5);
	if ((rc = dev_member(rr, &fixed[F_DEV], r)) < 0)
		return rc;
	if (!fixed[F_INODE].set)
		return rbad(rr, "\"%s\" is not an integer", "inode");
	r->inode = fixed[F_INODE].off;
	if ((rc = path_members(rr, fixed, r)) < 0)
		return rc;
	if (r->start > r->end)
		return rbad(rr, "%s", "start is above end");
	r->vmflags = fixed[F_VMFLAGS].set ? sv(rr, &fixed[F_VMFLAGS]) : NULL;
	return 0;
}

/* The stored entry of field id in this region, if it is worth storing. */
static bool entry_of(const struct region_reader *rr, uint32_t id, snap_entry *e)
{
	e->field = id;
	e->is_text = rr->snap->fields[id].unit == SNAP_UNIT_TEXT;
	if (e->is_text)
		e->text = rr->scratch + rr->text_off[id];
	else
		e->value = rr->value[id];
	return e->is_text || e->value != 0;
}

static int by_position(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Where field id is in the region's layout, or NO_POS. */
static uint32_t position(const struct region_reader *rr, uint32_t id, bool own)
{
	if (own)
		return rr->own_stamp[id] == rr->index ? rr->own_pos[id] : NO_POS;
	return rr->doc_pos[id];
}

/* The region's entries in printed order: its members that the layout
 * lists, by their position there, then the others (lines beyond the
 * layout) in object order. The work is in the number of members, not in
 * the length of the layout. */
static int build_entries(struct region_reader *rr, const uint32_t *layout,
			 size_t nlayout, bool own, snap_region *r)
{
	size_t nplaced = 0, nextra = 0;
	bool ordered = true;
	for (size_t k = 0; k < rr->nmembers; k++) {
		uint32_t id = rr->members[k], pos = position(rr, id, own);
		if (pos == NO_POS) {
			rr->members[nextra++] = id; /* compacted in place, in order */
			continue;
		}
		if (nplaced && pos < rr->placed[nplaced - 1].pos)
			ordered = false;
		rr->placed[nplaced++] = (struct placed){ pos, id };
	}
	size_t n = nlayout + nextra;
	if (n > UINT16_MAX)
		return rbad(rr, "%s", "more than 65535 fields");
	if (!ordered)
		qsort(rr->placed, nplaced, sizeof(*rr->placed), by_position);
	if (nextra && n > rr->all_cap) {
		if (grow_array(&rr->all_fields, n + 8, sizeof(*rr->all_fields)) < 0)
			return SNAP_ENOMEM;
		rr->all_cap = n + 8;
	}
	size_t kept = 0;
	for (size_t k = 0; k < nplaced; k++)
		kept += entry_of(rr, rr->placed[k].id, &rr->entries[kept]);
	for (size_t k = 0; k < nextra; k++)
		kept += entry_of(rr, rr->members[k], &rr->entries[kept]);
	r->entries = rr->entries;
	r->nentries = (uint16_t)kept;
	if (!nextra) {
		r->layout = layout;
	} else { /* lines beyond the layout: a layout of its own */
		if (nlayout)
			memcpy(rr->all_fields, layout, nlayout * sizeof(*layout));
		memcpy(rr->all_fields + nlayout, rr->members, nextra * sizeof(*layout));
		r->layout = rr->all_fields;
	}
	r->nlayout = (uint16_t)n;
	return 0;
}

static int read_region(struct region_reader *rr, const char **p)
{
	struct sval fixed[F_COUNT] = { 0 };
	const uint32_t *layout = rr->layout;
	size_t nlayout = rr->nlayout, guess = 0;
	const char *s = ws(rr, *p + 1);
	int rc;
	rr->scratch_len = 0;
	rr->nmembers = 0;
	while (*s != '}') {
		if ((rc = read_member(rr, &s, fixed, &layout, &nlayout, &guess)) < 0)
			return rc;
		s = ws(rr, s);
		if (*s == ',')
			s = ws(rr, s + 1);
	}
	*p = s + 1;
	snap_region r = { 0 };
	bool own = fixed[F_FIELDS].set;
	if ((rc = header_members(rr, fixed, &r)) < 0 ||
	    (rc = build_entries(rr, layout, nlayout, own, &r)) < 0)
		return rc;
	snap_error why;
	if (snap_region_check(rr->snap, &r, &why) < 0)
		return rbad(rr, "%.200s", why.message);
	/* Regions that follow the document's layout share its stored copy:
	 * handing that very copy back spares comparing it each time. */
	bool doc_layout = r.layout == rr->layout;
	if (doc_layout && rr->stored_layout)
		r.layout = rr->stored_layout;
	if ((rc = snap_snapshot_add_region(rr->snap, &r, NULL)) < 0)
		return rc;
	if (doc_layout)
		rr->stored_layout = rr->snap->regions[rr->snap->nregions - 1].layout;
	return 0;
}

static void reader_free(struct region_reader *rr)
{
	free(rr->stamp);
	free(rr->value);
	free(rr->text_off);
	free(rr->doc_pos);
	free(rr->own_pos);
	free(rr->own_stamp);
	free(rr->members);
	free(rr->placed);
	free(rr->entries);
	free(rr->all_fields);
	free(rr->scratch);
}

int jregions_load(snap_snapshot *snap, const char *p, const char *end,
		  const uint32_t *layout, size_t nlayout, const char *source,
		  snap_error *err)
{
	struct region_reader rr = { .end = end, .snap = snap, .source = source,
				    .err = err, .layout = layout, .nlayout = nlayout };
	int rc = grow_slots(&rr);
	for (size_t i = 0; rc == 0 && i < nlayout; i++)
		rr.doc_pos[layout[i]] = (uint32_t)i;
	if (rc == 0 && nlayout > UINT16_MAX)
		rc = snap_error_set(err, SNAP_EFORMAT, source, 0,
				    "\"fields\" lists more than 65535 fields");
	p = ws(&rr, p + 1); /* after '[' */
	while (rc == 0 && *p != ']') {
		rr.index++;
		if (*p != '{') {
			rc = rbad(&rr, "%s", "not an object");
			break;
		}
		if ((rc = read_region(&rr, &p)) < 0)
			break;
		p = ws(&rr, p);
		if (*p == ',')
			p = ws(&rr, p + 1);
	}
	if (rc == SNAP_ENOMEM)
		rc = snap_error_set(err, rc, source, 0, "out of memory");
	reader_free(&rr);
	return rc;
}
