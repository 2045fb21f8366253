/* Snapshot JSON, reading side (jansson). A stream may hold several
 * documents one after another; each is validated fully before it is
 * returned, so no half-valid snapshot reaches a command. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats.h"
#include "json_scan.h"

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
	uint64_t max_maps = 0;
	json_t *mm = json_object_get(host, "max_map_count");
	if (mm && (rc = get_count(ld, mm, "max_map_count", &max_maps)) < 0)
		return rc;
	h->max_map_count = max_maps > INT32_MAX ? 0 : (long)max_maps;
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
	size_t n = json_array_size(cmdline), bytes;
	p->argv = ck_array_size(&bytes, n, 1, sizeof(*p->argv)) ? NULL
		  : snap_snapshot_alloc(ld->snap, bytes);
	if (!p->argv)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *arg = json_array_get(cmdline, i);
		if (!json_is_string(arg))
			return bad(ld, "\"%s\" holds a non-string", "cmdline");
		p->argv[i] = snap_snapshot_strndup(ld->snap, json_string_value(arg),
						   json_string_length(arg));
		if (!p->argv[i])
			return SNAP_ENOMEM;
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
	size_t bytes;
	snap_kv *kv = ck_array_size(&bytes, json_object_size(status), 1, sizeof(*kv)) ? NULL
		      : snap_snapshot_alloc(ld->snap, bytes);
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
		if (!kv[n].key || !kv[n].value)
			return SNAP_ENOMEM;
		n++;
	}
	p->status = kv;
	p->nstatus = n;
	return 0;
}

static int load_thread_sps(struct loader *ld, json_t *list)
{
	snap_process *p = &ld->snap->process;
	if (!list)
		return 0;
	if (!json_is_array(list))
		return bad(ld, "\"%s\" is not an array", "thread_sp");
	size_t n = json_array_size(list), bytes;
	uint64_t *sps = ck_array_size(&bytes, n, 1, sizeof(*sps)) ? NULL
			: snap_snapshot_alloc(ld->snap, bytes);
	if (!sps)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(list, i);
		if (!json_is_string(v) || !jscan_hex(json_string_value(v), &sps[i]))
			return bad(ld, "\"%s\" holds something not hex", "thread_sp");
	}
	p->thread_sp = sps;
	p->nthread_sp = n;
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
	if ((rc = load_thread_sps(ld, json_object_get(proc, "thread_sp"))) < 0 ||
	    (rc = get_opt_string(ld, proc, "mnt_ns", &p->mnt_ns)) < 0 ||
	    (rc = get_opt_string(ld, proc, "cgroup", &p->cgroup)) < 0 ||
	    (rc = get_opt_string(ld, proc, "container_id", &p->container_id)) < 0)
		return rc;
	return load_status(ld, json_object_get(proc, "status"));
}

/* ---- fields and regions ---- */

static int load_field_list(struct loader *ld, json_t *list, const char *key,
			   uint32_t **ids, size_t *n)
{
	size_t bytes;
	if (!json_is_array(list))
		return bad(ld, "\"%s\" is not an array", key);
	*n = json_array_size(list);
	*ids = ck_array_size(&bytes, *n, 1, sizeof(**ids)) ? NULL
	       : snap_snapshot_alloc(ld->snap, bytes);
	if (!*ids)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		json_t *name = json_array_get(list, i);
		if (!json_is_string(name) ||
		    !snap_field_name_valid(json_string_value(name), json_string_length(name)))
			return bad(ld, "\"%s\" holds something not a field name", key);
		int id = snap_field_intern(ld->snap, json_string_value(name),
					   json_string_length(name), SNAP_UNIT_KB, NULL);
		if (id < 0)
			return SNAP_ENOMEM;
		(*ids)[i] = (uint32_t)id;
	}
	/* Interned ids are dense: one flag per field finds a repeat. */
	bool *seen = calloc(ld->snap->nfields + 1, sizeof(*seen));
	if (!seen)
		return SNAP_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < *n && rc == 0; i++) {
		if (seen[(*ids)[i]])
			rc = bad(ld, "\"%s\" names a field twice", key);
		seen[(*ids)[i]] = true;
	}
	free(seen);
	return rc;
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
		if (!json_is_string(name) ||
		    !snap_field_name_valid(json_string_value(name), json_string_length(name)))
			return bad(ld, "\"%s\" holds something not a field name", key);
		int id = snap_field_intern(ld->snap, json_string_value(name),
					   json_string_length(name), unit, NULL);
		if (id < 0)
			return SNAP_ENOMEM;
		ld->snap->fields[id].unit = unit;
	}
	return 0;
}

static int load_regions(struct loader *ld, json_t *doc, const char *regions,
			const char *regions_end)
{
	json_t *fields = json_object_get(doc, "fields");
	uint32_t *layout = NULL;
	size_t nlayout = 0;
	int rc;
	if (!regions)
		return bad(ld, "%s", "no \"regions\" member");
	if (*regions != '[')
		return bad(ld, "%s", "\"regions\" is not an array");
	if (fields && (rc = load_field_list(ld, fields, "fields", &layout, &nlayout)) < 0)
		return rc;
	if ((rc = mark_units(ld, json_object_get(doc, "unitless"), "unitless",
			     SNAP_UNIT_NONE)) < 0 ||
	    (rc = mark_units(ld, json_object_get(doc, "text_fields"), "text_fields",
			     SNAP_UNIT_TEXT)) < 0)
		return rc;
	return jregions_load(ld->snap, regions, regions_end, layout, nlayout,
			     ld->source, ld->err);
}

static int load_rollup(struct loader *ld, json_t *rollup)
{
	snap_snapshot *snap = ld->snap;
	if (!rollup)
		return 0;
	if (!json_is_object(rollup))
		return bad(ld, "\"%s\" is not an object", "rollup");
	size_t bytes;
	snap->rollup = ck_array_size(&bytes, json_object_size(rollup), 1,
				     sizeof(*snap->rollup)) ? NULL
		       : snap_snapshot_alloc(snap, bytes);
	if (!snap->rollup)
		return SNAP_ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach(rollup, key, v) {
		snap_counter *c = &snap->rollup[snap->nrollup];
		int rc = get_count(ld, v, key, &c->value);
		if (rc < 0)
			return rc;
		if (c->value > SNAP_COUNTER_MAX)
			return bad(ld, "rollup \"%s\" is more than 2^52 (no kernel prints "
				   "that)", key);
		if (!(c->name = snap_snapshot_strdup(snap, key)))
			return SNAP_ENOMEM;
		int id = snap_field_find(snap, key);
		c->unit = id >= 0 ? snap->fields[id].unit : SNAP_UNIT_KB;
		snap->nrollup++;
	}
	return 0;
}

/* "build_id":"hex" with its "build_id_source"; absent leaves id empty. */
static int load_build(struct loader *ld, json_t *file, const char *key, snap_build_id *id)
{
	static const enum snap_build_id_source sources[] = {
		SNAP_BUILD_ID_QUERY, SNAP_BUILD_ID_NOTE, SNAP_BUILD_ID_FALLBACK };
	char source_key[32];
	const char *hex = NULL, *source = NULL;
	snprintf(source_key, sizeof(source_key), "%s_source", key);
	json_t *v = json_object_get(file, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || (hex = json_string_value(v), strlen(hex) % 2) ||
	    strlen(hex) > 2 * SNAP_BUILD_ID_MAX || !*hex)
		return bad(ld, "\"%s\" of a file is not a build-id in hex", key);
	for (size_t i = 0; hex[i]; i += 2) {
		char pair[3] = { hex[i], hex[i + 1], 0 };
		uint64_t byte;
		if (!jscan_hex(pair, &byte))
			return bad(ld, "\"%s\" of a file is not a build-id in hex", key);
		id->bytes[id->len++] = (uint8_t)byte;
	}
	int rc = get_opt_string(ld, file, source_key, &source);
	for (size_t i = 0; rc == 0 && source && i < sizeof(sources) / sizeof(*sources); i++)
		if (strcmp(source, snap_build_id_source_name(sources[i])) == 0)
			id->source = sources[i];
	if (rc == 0 && id->source == SNAP_BUILD_ID_NONE)
		return bad(ld, "\"%s\" of a file names no known source", source_key);
	return rc;
}

static int load_file(struct loader *ld, json_t *obj)
{
	snap_file f = { .bss_bytes = -1 };
	const char *dev = NULL;
	uint64_t v = 0, ma, mi;
	char major[16];
	if (!json_is_object(obj))
		return bad(ld, "\"%s\" holds something that is not an object", "files");
	int rc = get_opt_string(ld, obj, "dev", &dev);
	const char *colon = dev ? strchr(dev, ':') : NULL;
	if (rc == 0 && (!colon || colon - dev >= (long)sizeof(major)))
		return bad(ld, "a file's \"%s\" is not MAJOR:MINOR hex", "dev");
	if (rc < 0)
		return rc;
	memcpy(major, dev, (size_t)(colon - dev));
	major[colon - dev] = '\0';
	if (!jscan_hex(major, &ma) || !jscan_hex(colon + 1, &mi) || ma > UINT32_MAX ||
	    mi > UINT32_MAX)
		return bad(ld, "a file's \"%s\" is not MAJOR:MINOR hex", "dev");
	f.dev_major = (uint32_t)ma;
	f.dev_minor = (uint32_t)mi;
	json_t *m;
	if ((rc = get_count(ld, json_object_get(obj, "inode"), "inode", &f.inode)) < 0)
		return rc;
	if ((m = json_object_get(obj, "bss_bytes"))) {
		if ((rc = get_count(ld, m, "bss_bytes", &v)) < 0)
			return rc;
		f.bss_bytes = v > INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	f.at_path_known = json_object_get(obj, "at_path") != NULL;
	if ((rc = load_build(ld, obj, "build_id", &f.build_id)) < 0 ||
	    (rc = load_build(ld, obj, "at_path", &f.at_path)) < 0)
		return rc;
	return snap_snapshot_add_file(ld->snap, &f, NULL);
}

static int load_files(struct loader *ld, json_t *files)
{
	if (!files)
		return 0;
	if (!json_is_array(files))
		return bad(ld, "\"%s\" is not an array", "files");
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		int rc = load_file(ld, f);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_checksum(struct loader *ld, json_t *doc)
{
	static const size_t doc_tag = sizeof(FMT_CHECKSUM_DOC) - 1;
	static const size_t regions_tag = sizeof(FMT_CHECKSUM_REGIONS) - 1;
	json_t *v = json_object_get(doc, "checksum");
	if (!v)
		return 0;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	snap_snapshot *snap = ld->snap;
	if (strncmp(s, FMT_CHECKSUM_DOC, doc_tag) == 0 && strlen(s + doc_tag) == 16 &&
	    jscan_hex(s + doc_tag, &snap->stored_checksum))
		snap->checksum_covers_document = true;
	else if (strncmp(s, FMT_CHECKSUM_REGIONS, regions_tag) != 0 ||
		 !jscan_hex(s + regions_tag, &snap->stored_checksum))
		return bad(ld, "%s", "\"checksum\" is not \"" FMT_CHECKSUM_DOC
			   "<16 hex digits>\" (or \"" FMT_CHECKSUM_REGIONS "<hex>\")");
	snap->has_stored_checksum = true;
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

static int load_doc(struct loader *ld, json_t *doc, const char *regions,
		    const char *regions_end)
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
	    (rc = load_regions(ld, doc, regions, regions_end)) < 0 ||
	    (rc = load_rollup(ld, json_object_get(doc, "rollup"))) < 0 ||
	    (rc = load_files(ld, json_object_get(doc, "files"))) < 0 ||
	    (rc = load_checksum(ld, doc)) < 0)
		return rc;
	return 0;
}

/* ---- reading one document ---- */

struct doc_text {
	char *data;
	size_t len, cap;
	bool cut; /* the input ended inside the document */
	/* Why reading stopped before the end of the document, or NULL: the
	 * input cannot be a snapshot, and the rest of it is not read. */
	char refused[160];
	long refused_line;
};

static int doc_put(struct doc_text *d, int c)
{
	if (d->len + 1 >= d->cap) {
		size_t cap;
		if (ck_mul_size(&cap, d->cap ? d->cap : 1 << 15, 2))
			return -1;
		char *grown = realloc(d->data, cap);
		if (!grown)
			return -1;
		d->data = grown;
		d->cap = cap;
	}
	d->data[d->len++] = (char)c;
	return 0;
}

/* For a regular file the rest of it is the most a document can take:
 * one allocation instead of doubling (which holds two copies at once),
 * up to what a document without regions may take. */
static void size_for_file(FILE *f, struct doc_text *d)
{
	struct stat st;
	long at = ftell(f);
	if (at < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= at)
		return;
	size_t rest = (size_t)(st.st_size - at) + 2;
	if (rest > FMT_JSON_REST_MAX)
		rest = FMT_JSON_REST_MAX;
	if ((d->data = malloc(rest)))
		d->cap = rest;
}

/* Garbage is refused within its first kilobytes: this much of a document
 * must already read as the start of a JSON object. */
#define PREFIX_BYTES 4096

/* True when the first PREFIX_BYTES of d cannot begin a snapshot: not an
 * object, or not JSON before the point where the cut-off could explain
 * the failure (the last few bytes: a cut escape, UTF-8 sequence, word or
 * number). */
static bool bad_prefix(struct doc_text *d)
{
	struct jscan js = { d->data, d->data + d->len, NULL, NULL };
	if (d->data[0] != '{') {
		snprintf(d->refused, sizeof(d->refused), "not a snapshot: the document "
			 "is not a JSON object");
		return true;
	}
	if (jscan_value(&js, d->data, 0) || js.error_at >= js.end - 8)
		return false;
	d->refused_line = jscan_line(&js, js.error_at);
	snprintf(d->refused, sizeof(d->refused), "invalid JSON: %s", js.error);
	return true;
}

/* What reading has seen of the document's structure: enough to count its
 * region objects (the elements of the top-level "regions" array), which
 * bound how large it may be. */
struct shape {
	int depth;
	bool in_string, escaped;
	bool key_next;      /* at depth 1: the next string is a member's key */
	size_t key_at;      /* where that key began, while reading it */
	bool in_key;
	bool regions_key;   /* the last top-level key was "regions" */
	bool in_regions;    /* inside its array */
	size_t regions;     /* region objects begun */
	size_t region_at;   /* where the current one began */
	size_t limit;       /* the most bytes the document may take so far */
};

static bool refuse_size(struct doc_text *d, const struct shape *s)
{
	if (s->in_regions && s->depth >= 3 && d->len - s->region_at > FMT_JSON_REGION_MAX)
		snprintf(d->refused, sizeof(d->refused), "region %zu is larger than "
			 "%zu MiB of JSON: not a snapshot", s->regions,
			 FMT_JSON_REGION_MAX >> 20);
	else
		snprintf(d->refused, sizeof(d->refused), "more than %zu MiB of JSON "
			 "with %zu regions (a snapshot takes at most %zu MiB plus %zu MiB "
			 "per region): not a snapshot", d->len >> 20, s->regions,
			 FMT_JSON_REST_MAX >> 20, FMT_JSON_REGION_MAX >> 20);
	return true;
}

/* Follows one byte outside a string. Returns true when the document
 * ended (its outermost bracket closed, or a bare scalar ended). */
static bool follow(struct doc_text *d, struct shape *s, int c)
{
	switch (c) {
	case '"':
		s->in_string = true;
		s->in_key = s->depth == 1 && s->key_next;
		s->key_at = d->len - 1;
		s->key_next = false;
		break;
	case '{':
	case '[':
		s->depth++;
		if (s->depth == 1)
			s->key_next = c == '{';
		else if (s->depth == 2)
			s->in_regions = c == '[' && s->regions_key;
		else if (s->depth == 3 && s->in_regions && c == '{') {
			s->regions++;
			s->region_at = d->len - 1;
			if (ck_add_size(&s->limit, s->limit, FMT_JSON_REGION_MAX))
				s->limit = SIZE_MAX;
		}
		break;
	case '}':
	case ']':
		if (s->depth == 2)
			s->in_regions = false;
		return --s->depth <= 0;
	case ',':
		if (s->depth == 1) {
			s->key_next = true;
			s->regions_key = false;
		}
		break;
	default:
		return s->depth == 0 && isspace(c); /* a bare scalar: the validator refuses it */
	}
	return false;
}

/* A key just ended: is it "regions"? (The loader finds the member by the
 * same bytes.) */
static void key_ended(const struct doc_text *d, struct shape *s)
{
	s->in_key = false;
	s->regions_key = d->len - s->key_at == 9 &&
			 memcmp(d->data + s->key_at, "\"regions\"", 9) == 0;
}

/* Reads the next document's bytes: from its first '{' or '[' to the
 * bracket that closes it (or the end of input, for the validator to
 * refuse). Stops exactly there so the next document stays in f. Stops
 * early, with d->refused set, at garbage in the first PREFIX_BYTES or at
 * more bytes than its regions allow. Returns 1 at a clean end of input. */
static int read_document(FILE *f, struct doc_text *d)
{
	int c;
	struct shape s = { .limit = FMT_JSON_REST_MAX };
	size_for_file(f, d);
	flockfile(f);
	while ((c = getc_unlocked(f)) != EOF && isspace(c))
		;
	if (c == EOF) {
		funlockfile(f);
		return 1;
	}
	for (; c != EOF; c = getc_unlocked(f)) {
		if (doc_put(d, c) < 0) {
			funlockfile(f);
			return SNAP_ENOMEM;
		}
		if (d->len > s.limit || (s.in_regions && s.depth >= 3 &&
					 d->len - s.region_at > FMT_JSON_REGION_MAX)) {
			funlockfile(f);
			return refuse_size(d, &s), 0;
		}
		if (d->len == PREFIX_BYTES && bad_prefix(d)) {
			funlockfile(f);
			return 0;
		}
		if (s.in_string) {
			if (s.escaped)
				s.escaped = false;
			else if (c == '\\')
				s.escaped = true;
			else if (c == '"') {
				s.in_string = false;
				if (s.in_key)
					key_ended(d, &s);
			}
		} else if (follow(d, &s, c)) {
			break;
		}
	}
	funlockfile(f);
	d->cut = c == EOF && s.depth > 0;
	return 0;
}

/* A top-level member: its key and value as spans of the document. */
struct member {
	const char *key, *key_end;
	const char *value, *value_end;
};

#define MAX_MEMBERS 64

static int split_members(struct jscan *js, const char *p, struct member *m,
			 size_t *n, const char **why)
{
	*n = 0;
	p = jscan_ws(p + 1, js->end);
	while (*p != '}') {
		if (*n == MAX_MEMBERS) {
			*why = "too many members";
			return -1;
		}
		struct member *cur = &m[*n];
		cur->key = p;
		cur->key_end = jscan_value(js, p, 1);
		const char *colon = jscan_ws(cur->key_end, js->end);
		cur->value = jscan_ws(colon + 1, js->end);
		cur->value_end = jscan_value(js, cur->value, 1);
		for (size_t i = 0; i < *n; i++)
			if (m[i].key_end - m[i].key == cur->key_end - cur->key &&
			    memcmp(m[i].key, cur->key, (size_t)(cur->key_end - cur->key)) == 0) {
				*why = "duplicate object key";
				return -1;
			}
		(*n)++;
		p = jscan_ws(cur->value_end, js->end);
		if (*p == ',')
			p = jscan_ws(p + 1, js->end);
	}
	return 0;
}

/* Everything but "regions" as one small JSON object, for jansson. */
static json_t *load_members(const struct member *m, size_t n, json_error_t *jerr,
			    const struct member **regions)
{
	size_t len = 2;
	*regions = NULL;
	for (size_t i = 0; i < n; i++)
		len += (size_t)(m[i].value_end - m[i].key) + 1;
	char *text = malloc(len + 1);
	if (!text) {
		snprintf(jerr->text, sizeof(jerr->text), "out of memory");
		return NULL;
	}
	size_t at = 0;
	text[at++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (m[i].key_end - m[i].key == 9 && memcmp(m[i].key, "\"regions\"", 9) == 0) {
			*regions = &m[i];
			continue;
		}
		if (at > 1)
			text[at++] = ',';
		memcpy(text + at, m[i].key, (size_t)(m[i].value_end - m[i].key));
		at += (size_t)(m[i].value_end - m[i].key);
	}
	text[at++] = '}';
	json_t *doc = json_loadb(text, at, JSON_REJECT_DUPLICATES, jerr);
	free(text);
	return doc;
}

/* The checksum of a document as formats/README.md defines it: XXH3-64 of
 * its bytes from the opening to the closing brace, the checksum's own 16
 * hex digits counted as '0's. Written escaped, the digits cannot be found
 * and the document does not match. */
static int document_checksum(snap_snapshot *snap, const struct doc_text *d,
			     const struct member *m, size_t n)
{
	static const char raw[] = "\"checksum\"";
	const size_t prefix = 1 + sizeof(FMT_CHECKSUM_DOC) - 1;
	snap->document_checksum = ~snap->stored_checksum;
	for (size_t i = 0; i < n; i++) {
		if ((size_t)(m[i].key_end - m[i].key) != sizeof(raw) - 1 ||
		    memcmp(m[i].key, raw, sizeof(raw) - 1) != 0)
			continue;
		if (m[i].value_end - m[i].value != (long)(prefix + 16 + 1) ||
		    memcmp(m[i].value + 1, FMT_CHECKSUM_DOC, prefix - 1) != 0)
			return 0;
		const char *digits = m[i].value + prefix;
		snap_hasher *h;
		if (snap_hasher_new(&h, NULL) < 0)
			return SNAP_ENOMEM;
		snap_hasher_add(h, d->data, (size_t)(digits - d->data));
		snap_hasher_add(h, "0000000000000000", 16);
		snap_hasher_add(h, digits + 16, (size_t)(d->data + d->len - (digits + 16)));
		snap->document_checksum = snap_hasher_digest(h);
		snap_hasher_free(h);
	}
	return 0;
}

static int parse_document(snap_snapshot *snap, const struct doc_text *d,
			  const char *source, snap_error *err)
{
	struct jscan js = { d->data, d->data + d->len, NULL, NULL };
	const char *start = d->data;
	const char *end = jscan_value(&js, start, 0);
	if (!end)
		return snap_error_set(err, SNAP_EFORMAT, source, jscan_line(&js, js.error_at),
				      "invalid JSON: %s", js.error);
	if (*start != '{')
		return snap_error_set(err, SNAP_EFORMAT, source, 0,
				      "not a snapshot: the document is not a JSON object");
	struct member members[MAX_MEMBERS];
	const struct member *regions;
	size_t n;
	const char *why;
	if (split_members(&js, start, members, &n, &why) < 0)
		return snap_error_set(err, SNAP_EFORMAT, source, 0, "invalid JSON: %s", why);
	json_error_t jerr;
	json_t *doc = load_members(members, n, &jerr, &regions);
	if (!doc)
		return snap_error_set(err, SNAP_EFORMAT, source, 0, "invalid JSON: %s",
				      jerr.text);
	struct loader ld = { snap, source, err, 0 };
	int rc = load_doc(&ld, doc, regions ? regions->value : NULL,
			  regions ? regions->value_end : NULL);
	json_decref(doc);
	if (rc == 0 && snap->checksum_covers_document)
		rc = document_checksum(snap, d, members, n);
	return rc;
}

int fmt_json_load(snap_snapshot **out, FILE *f, const char *source,
		  snap_error *err)
{
	struct doc_text d = { 0 };
	int rc = read_document(f, &d);
	if (rc != 0) {
		free(d.data);
		if (rc == 1)
			return ferror(f) ? snap_error_set(err, SNAP_EIO, source, 0,
							  "read failed")
					 : 1;
		return snap_error_set(err, rc, source, 0, "out of memory");
	}
	if (d.refused[0]) {
		free(d.data);
		return snap_error_set(err, SNAP_EFORMAT, source, d.refused_line, "%s",
				      d.refused);
	}
	/* A series whose writer was killed mid-append ends this way: callers
	 * keep the documents before it. */
	if (d.cut) {
		free(d.data);
		return snap_error_set(err, SNAP_ETRUNC, source, 0, "invalid JSON: "
				      "the last document is cut off (the input ends inside it)");
	}
	snap_snapshot *snap;
	snap_error why;
	if ((rc = snap_snapshot_new(&snap, &why)) < 0) {
		free(d.data);
		return snap_error_set(err, rc, source, 0, "%s", why.message);
	}
	rc = parse_document(snap, &d, source, err);
	free(d.data);
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
	if (!snap->has_stored_checksum)
		return false;
	if (snap->checksum_covers_document)
		return snap->document_checksum != snap->stored_checksum;
	/* Out of memory, the checksum cannot be shown to match. */
	uint64_t sum;
	return snap_snapshot_checksum(&sum, snap, NULL) < 0 || sum != snap->stored_checksum;
}
