/* Snapshot JSON, reading side (jansson). A stream may hold several
 * documents one after another; each is validated fully before it is
 * returned, so no half-valid snapshot reaches a command. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

struct loader {
	snap_snapshot *snap;
	const char *source;
	snap_error *err;
	size_t region; /* 1-based index of the region being read, 0 outside */
};

static int bad(struct loader *ld, const char *fmt, const char *what)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, what);
	if (ld->region)
		return snap_error_set(ld->err, SNAP_EFORMAT, ld->source, 0,
				      "region %zu: %s", ld->region, msg);
	return snap_error_set(ld->err, SNAP_EFORMAT, ld->source, 0, "%s", msg);
}

static bool parse_hex_text(const char *s, uint64_t *out)
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

static int get_hex(struct loader *ld, json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return bad(ld, "\"%s\" is missing or not a string", key);
	if (!parse_hex_text(json_string_value(v), out))
		return bad(ld, "\"%s\" is not lowercase hex of at most 16 digits", key);
	return 0;
}

static int get_count(struct loader *ld, json_t *v, const char *key, uint64_t *out)
{
	if (!json_is_integer(v))
		return bad(ld, "\"%s\" is not an integer", key);
	json_int_t n = json_integer_value(v);
	if (n < 0)
		return bad(ld, "\"%s\" is negative", key);
	*out = (uint64_t)n;
	return 0;
}

/* Optional string member; absent stays NULL. */
static int get_opt_string(struct loader *ld, json_t *obj, const char *key,
			  const char **out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad(ld, "\"%s\" is not a string", key);
	*out = snap_snapshot_strndup(ld->snap, json_string_value(v),
				     json_string_length(v));
	return *out ? 0 : SNAP_ENOMEM;
}

/* ---- header ---- */

static int load_host(struct loader *ld, json_t *host)
{
	snap_host *h = &ld->snap->host;
	uint64_t page = 0;
	int rc;
	if (!host)
		return 0;
	if (!json_is_object(host))
		return bad(ld, "\"%s\" is not an object", "host");
	json_t *ps = json_object_get(host, "page_size");
	if (ps && (rc = get_count(ld, ps, "page_size", &page)) < 0)
		return rc;
	h->page_size = page > (uint64_t)1 << 40 ? 0 : (long)page;
	if ((rc = get_opt_string(ld, host, "hostname", &h->hostname)) < 0 ||
	    (rc = get_opt_string(ld, host, "kernel", &h->kernel)) < 0 ||
	    (rc = get_opt_string(ld, host, "machine", &h->machine)) < 0 ||
	    (rc = get_opt_string(ld, host, "boot_id", &h->boot_id)) < 0)
		return rc;
	return 0;
}

static int load_cmdline(struct loader *ld, json_t *cmdline)
{
	snap_process *p = &ld->snap->process;
	if (!cmdline)
		return 0;
	if (!json_is_array(cmdline))
		return bad(ld, "\"%s\" is not an array", "cmdline");
	size_t n = json_array_size(cmdline);
	p->argv = snap_snapshot_alloc(ld->snap, (n + 1) * sizeof(*p->argv));
	if (!p->argv)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *arg = json_array_get(cmdline, i);
		if (!json_is_string(arg))
			return bad(ld, "\"%s\" holds a non-string", "cmdline");
		p->argv[i] = snap_snapshot_strndup(ld->snap, json_string_value(arg),
						   json_string_length(arg));
	}
	p->argc = n;
	return 0;
}

static int load_status(struct loader *ld, json_t *status)
{
	snap_process *p = &ld->snap->process;
	if (!status)
		return 0;
	if (!json_is_object(status))
		return bad(ld, "\"%s\" is not an object", "status");
	snap_kv *kv = snap_snapshot_alloc(ld->snap, (json_object_size(status) + 1) *
					  sizeof(*kv));
	if (!kv)
		return SNAP_ENOMEM;
	const char *key;
	json_t *v;
	size_t n = 0;
	json_object_foreach(status, key, v) {
		char num[32];
		const char *text;
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT " kB",
				 json_integer_value(v));
			text = num;
		} else if (json_is_string(v)) {
			text = json_string_value(v);
		} else {
			return bad(ld, "status \"%s\" is neither text nor a number", key);
		}
		kv[n].key = snap_snapshot_strdup(ld->snap, key);
		kv[n].value = snap_snapshot_strdup(ld->snap, text);
		n++;
	}
	p->status = kv;
	p->nstatus = n;
	return 0;
}

static int load_process(struct loader *ld, json_t *proc)
{
	snap_process *p = &ld->snap->process;
	uint64_t v = 0;
	int rc;
	if (!proc)
		return 0;
	if (!json_is_object(proc))
		return bad(ld, "\"%s\" is not an object", "process");
	p->known = true;
	json_t *m;
	if ((m = json_object_get(proc, "pid"))) {
		if ((rc = get_count(ld, m, "pid", &v)) < 0)
			return rc;
		p->pid = v > INT32_MAX ? -1 : (long)v;
	}
	if ((m = json_object_get(proc, "start_time"))) {
		if ((rc = get_count(ld, m, "start_time", &v)) < 0)
			return rc;
		p->start_time = (long long)v;
	}
	if ((m = json_object_get(proc, "start_stack")) &&
	    (rc = get_count(ld, m, "start_stack", &p->start_stack)) < 0)
		return rc;
	if ((m = json_object_get(proc, "threads"))) {
		if ((rc = get_count(ld, m, "threads", &v)) < 0)
			return rc;
		p->threads = (long)v;
	}
	if ((rc = get_opt_string(ld, proc, "comm", &p->comm)) < 0 ||
	    (rc = get_opt_string(ld, proc, "exe", &p->exe)) < 0 ||
	    (rc = load_cmdline(ld, json_object_get(proc, "cmdline"))) < 0)
		return rc;
	return load_status(ld, json_object_get(proc, "status"));
}

/* ---- fields and regions ---- */

static int load_field_list(struct loader *ld, json_t *list, const char *key,
			   uint32_t **ids, size_t *n)
{
	if (!json_is_array(list))
		return bad(ld, "\"%s\" is not an array", key);
	*n = json_array_size(list);
	*ids = snap_snapshot_alloc(ld->snap, (*n + 1) * sizeof(**ids));
	if (!*ids)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		json_t *name = json_array_get(list, i);
		if (!json_is_string(name) || json_string_length(name) == 0)
			return bad(ld, "\"%s\" holds something not a field name", key);
		int id = snap_field_intern(ld->snap, json_string_value(name),
					   json_string_length(name), SNAP_UNIT_KB);
		if (id < 0)
			return SNAP_ENOMEM;
		(*ids)[i] = (uint32_t)id;
	}
	return 0;
}

/* "unitless" and "text_fields" name fields printed without "kB"; a text
 * field may be new (absent from "fields"). */
static int mark_units(struct loader *ld, json_t *list, const char *key,
		      enum snap_unit unit)
{
	size_t i;
	json_t *name;
	if (!list)
		return 0;
	if (!json_is_array(list))
		return bad(ld, "\"%s\" is not an array", key);
	json_array_foreach(list, i, name) {
		if (!json_is_string(name) || json_string_length(name) == 0)
			return bad(ld, "\"%s\" holds something not a field name", key);
		int id = snap_field_intern(ld->snap, json_string_value(name),
					   json_string_length(name), unit);
		if (id < 0)
			return SNAP_ENOMEM;
		ld->snap->fields[id].unit = unit;
	}
	return 0;
}

static int get_entry_value(struct loader *ld, json_t *v, uint32_t field,
			   snap_entry *e)
{
	const snap_field *f = &ld->snap->fields[field];
	if (f->unit == SNAP_UNIT_TEXT) {
		if (!json_is_string(v))
			return bad(ld, "text field \"%s\" is not a string", f->name);
		e->text = json_string_value(v);
		return 0;
	}
	return get_count(ld, v, f->name, &e->value);
}

static bool is_fixed_key(const char *key)
{
	static const char *const fixed[] = { "start", "end", "perms", "offset",
		"dev", "inode", "path", "path_hex", "fields", "VmFlags" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		if (strcmp(key, fixed[i]) == 0)
			return true;
	return false;
}

static int load_dev(struct loader *ld, json_t *obj, snap_region *r)
{
	json_t *v = json_object_get(obj, "dev");
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	const char *colon = s ? strchr(s, ':') : NULL;
	char major[16];
	uint64_t ma, mi;
	if (!colon || colon - s >= (long)sizeof(major))
		return bad(ld, "\"%s\" is not MAJOR:MINOR hex", "dev");
	memcpy(major, s, (size_t)(colon - s));
	major[colon - s] = '\0';
	if (!parse_hex_text(major, &ma) || !parse_hex_text(colon + 1, &mi) ||
	    ma > UINT32_MAX || mi > UINT32_MAX)
		return bad(ld, "\"%s\" is not MAJOR:MINOR hex", "dev");
	r->dev_major = (uint32_t)ma;
	r->dev_minor = (uint32_t)mi;
	return 0;
}

static int load_path(struct loader *ld, json_t *obj, snap_region *r)
{
	json_t *path = json_object_get(obj, "path");
	json_t *hex = json_object_get(obj, "path_hex");
	if (path && !json_is_string(path))
		return bad(ld, "\"%s\" is not a string", "path");
	if (hex) {
		const char *h = json_is_string(hex) ? json_string_value(hex) : NULL;
		size_t n = h ? strlen(h) : 1;
		char *bytes = snap_snapshot_alloc(ld->snap, n / 2 + 1);
		if (!bytes)
			return SNAP_ENOMEM;
		for (size_t i = 0; h && i + 1 < n; i += 2) {
			char pair[3] = { h[i], h[i + 1], 0 };
			uint64_t b;
			if (!parse_hex_text(pair, &b))
				h = NULL;
			else
				bytes[i / 2] = (char)b;
		}
		if (!h || n % 2)
			return bad(ld, "\"%s\" is not an even run of hex digits", "path_hex");
		r->path = bytes;
		r->path_len = n / 2;
		return 0;
	}
	r->path = path ? json_string_value(path) : "";
	r->path_len = path ? json_string_length(path) : 0;
	return 0;
}

static int load_perms(struct loader *ld, json_t *obj, snap_region *r)
{
	json_t *v = json_object_get(obj, "perms");
	if (!json_is_string(v) || json_string_length(v) != 4)
		return bad(ld, "\"%s\" is not four characters", "perms");
	memcpy(r->perms, json_string_value(v), 5);
	return 0;
}

static int load_header(struct loader *ld, json_t *obj, snap_region *r)
{
	int rc;
	uint64_t inode = 0;
	if ((rc = get_hex(ld, obj, "start", &r->start)) < 0 ||
	    (rc = get_hex(ld, obj, "end", &r->end)) < 0 ||
	    (rc = get_hex(ld, obj, "offset", &r->offset)) < 0 ||
	    (rc = load_perms(ld, obj, r)) < 0 || (rc = load_dev(ld, obj, r)) < 0 ||
	    (rc = get_count(ld, json_object_get(obj, "inode"), "inode", &inode)) < 0 ||
	    (rc = load_path(ld, obj, r)) < 0)
		return rc;
	r->inode = inode;
	if (r->start > r->end)
		return bad(ld, "%s", "start is above end");
	json_t *flags = json_object_get(obj, "VmFlags");
	if (flags && !json_is_string(flags))
		return bad(ld, "\"%s\" is not a string", "VmFlags");
	r->vmflags = flags ? json_string_value(flags) : NULL;
	return 0;
}

/* Entries: the layout's fields in order (absent means 0), then any other
 * counter member in the object's order. */
static int load_entries(struct loader *ld, json_t *obj, const uint32_t *layout,
			size_t nlayout, snap_entry **out, size_t *count)
{
	size_t cap = nlayout + json_object_size(obj);
	snap_entry *e = malloc((cap + 1) * sizeof(*e));
	if (!e)
		return SNAP_ENOMEM;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < nlayout && rc == 0; i++) {
		json_t *v = json_object_get(obj, ld->snap->fields[layout[i]].name);
		e[n] = (snap_entry){ layout[i], 0, NULL };
		if (v)
			rc = get_entry_value(ld, v, layout[i], &e[n]);
		n++;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (rc != 0)
			break;
		if (is_fixed_key(key))
			continue;
		int id = snap_field_find(ld->snap, key);
		bool listed = false;
		for (size_t i = 0; id >= 0 && i < nlayout; i++)
			listed |= layout[i] == (uint32_t)id;
		if (listed)
			continue;
		if (id < 0 && (id = snap_field_intern(ld->snap, key, strlen(key),
						      SNAP_UNIT_KB)) < 0) {
			rc = SNAP_ENOMEM;
			break;
		}
		e[n] = (snap_entry){ (uint32_t)id, 0, NULL };
		rc = get_entry_value(ld, v, (uint32_t)id, &e[n]);
		n++;
	}
	if (rc != 0) {
		free(e);
		return rc;
	}
	*out = e;
	*count = n;
	return 0;
}

static int load_region(struct loader *ld, json_t *obj, const uint32_t *layout,
		       size_t nlayout)
{
	snap_region r = { 0 };
	int rc;
	if (!json_is_object(obj))
		return bad(ld, "%s", "not an object");
	if ((rc = load_header(ld, obj, &r)) < 0)
		return rc;
	json_t *own = json_object_get(obj, "fields");
	if (own && (rc = load_field_list(ld, own, "fields", (uint32_t **)&layout,
					 &nlayout)) < 0)
		return rc;
	snap_entry *entries = NULL;
	if ((rc = load_entries(ld, obj, layout, nlayout, &entries, &r.nentries)) < 0)
		return rc;
	r.entries = entries;
	rc = snap_snapshot_add_region(ld->snap, &r);
	free(entries);
	return rc;
}

static int load_regions(struct loader *ld, json_t *doc)
{
	json_t *regions = json_object_get(doc, "regions");
	json_t *fields = json_object_get(doc, "fields");
	uint32_t *layout = NULL;
	size_t nlayout = 0;
	int rc;
	if (!regions)
		return bad(ld, "%s", "no \"regions\" member");
	if (!json_is_array(regions))
		return bad(ld, "%s", "\"regions\" is not an array");
	if (fields && (rc = load_field_list(ld, fields, "fields", &layout, &nlayout)) < 0)
		return rc;
	if ((rc = mark_units(ld, json_object_get(doc, "unitless"), "unitless",
			     SNAP_UNIT_NONE)) < 0 ||
	    (rc = mark_units(ld, json_object_get(doc, "text_fields"), "text_fields",
			     SNAP_UNIT_TEXT)) < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(regions); i++) {
		ld->region = i + 1;
		if ((rc = load_region(ld, json_array_get(regions, i), layout, nlayout)) < 0)
			return rc;
	}
	ld->region = 0;
	return 0;
}

static int load_rollup(struct loader *ld, json_t *rollup)
{
	snap_snapshot *snap = ld->snap;
	if (!rollup)
		return 0;
	if (!json_is_object(rollup))
		return bad(ld, "\"%s\" is not an object", "rollup");
	snap->rollup = snap_snapshot_alloc(snap, (json_object_size(rollup) + 1) *
					   sizeof(*snap->rollup));
	if (!snap->rollup)
		return SNAP_ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach(rollup, key, v) {
		snap_counter *c = &snap->rollup[snap->nrollup];
		int rc = get_count(ld, v, key, &c->value);
		if (rc < 0)
			return rc;
		c->name = snap_snapshot_strdup(snap, key);
		int id = snap_field_find(snap, key);
		c->unit = id >= 0 ? snap->fields[id].unit : SNAP_UNIT_KB;
		snap->nrollup++;
	}
	return 0;
}

static int load_checksum(struct loader *ld, json_t *doc)
{
	json_t *v = json_object_get(doc, "checksum");
	if (!v)
		return 0;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	if (strncmp(s, "xxh3-64:", 8) != 0 ||
	    !parse_hex_text(s + 8, &ld->snap->stored_checksum))
		return bad(ld, "%s", "\"checksum\" is not \"xxh3-64:<hex>\"");
	ld->snap->has_stored_checksum = true;
	return 0;
}

static int load_capture_ms(struct loader *ld, json_t *doc)
{
	json_t *v = json_object_get(doc, "capture_ms");
	if (!v)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0)
		return bad(ld, "\"%s\" is not a non-negative number", "capture_ms");
	ld->snap->capture_ms = json_number_value(v);
	return 0;
}

static int load_doc(struct loader *ld, json_t *doc)
{
	snap_snapshot *snap = ld->snap;
	int rc;
	if (!json_is_object(doc))
		return bad(ld, "%s", "not a snapshot: the document is not a JSON object");
	json_t *schema = json_object_get(doc, "schema");
	if (!json_is_string(schema))
		return bad(ld, "%s", "not a snapshot: no \"schema\" member");
	if (strcmp(json_string_value(schema), SNAP_SNAPSHOT_SCHEMA) != 0)
		return bad(ld, "unsupported schema \"%s\" (expected \""
			   SNAP_SNAPSHOT_SCHEMA "\")", json_string_value(schema));
	json_t *redacted = json_object_get(doc, "redacted");
	snap->redacted = json_is_true(redacted);
	if ((rc = get_opt_string(ld, doc, "tool", &snap->tool)) < 0 ||
	    (rc = get_opt_string(ld, doc, "captured_at", &snap->captured_at)) < 0 ||
	    (rc = get_opt_string(ld, doc, "captured_end", &snap->captured_end)) < 0 ||
	    (rc = get_opt_string(ld, doc, "source", &snap->source)) < 0 ||
	    (rc = load_capture_ms(ld, doc)) < 0 ||
	    (rc = load_host(ld, json_object_get(doc, "host"))) < 0 ||
	    (rc = load_process(ld, json_object_get(doc, "process"))) < 0 ||
	    (rc = load_regions(ld, doc)) < 0 ||
	    (rc = load_rollup(ld, json_object_get(doc, "rollup"))) < 0 ||
	    (rc = load_checksum(ld, doc)) < 0)
		return rc;
	return 0;
}

/* Skips white space; false at the end of input. */
static bool more_input(FILE *f)
{
	int c;
	while ((c = getc(f)) != EOF)
		if (!isspace(c)) {
			ungetc(c, f);
			return true;
		}
	return false;
}

int fmt_json_load(snap_snapshot **out, FILE *f, const char *source,
		  snap_error *err)
{
	if (!more_input(f))
		return ferror(f) ? snap_error_set(err, SNAP_EIO, source, 0, "read failed")
				 : 1;
	json_error_t jerr;
	json_t *doc = json_loadf(f, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
				 &jerr);
	if (!doc)
		return snap_error_set(err, SNAP_EFORMAT, source, jerr.line,
				      "invalid JSON: %s", jerr.text);
	snap_snapshot *snap;
	int rc = snap_snapshot_new(&snap);
	if (rc < 0) {
		json_decref(doc);
		return snap_error_set(err, rc, source, 0, "out of memory");
	}
	struct loader ld = { snap, source, err, 0 };
	rc = load_doc(&ld, doc);
	json_decref(doc);
	if (rc == SNAP_ENOMEM)
		rc = snap_error_set(err, rc, source, 0, "out of memory");
	if (rc < 0) {
		snap_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return 0;
}

bool fmt_checksum_mismatch(const snap_snapshot *snap)
{
	return snap->has_stored_checksum &&
	       snap_snapshot_checksum(snap) != snap->stored_checksum;
}
