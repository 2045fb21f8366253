/* Layouts with one right answer: the layouts helper (tests/helpers/
 * layouts.c) builds each mapping at an address the test chose, the real
 * binary captures before and after, and `mapsnap diff --format json` or
 * `trend --format json` must report exactly the changes made, each of one
 * kind, adding up to the totals:
 *   - a buffer over a guard page in a single-threaded process: no thread
 *     stack (with VmFlags, and without them as on an old kernel);
 *   - munmap of the middle of a big region, then a thread stack, a library
 *     and a file placed in the hole: one anon change with exactly the
 *     hole unmapped, and one new change per new thing;
 *   - mprotect of part of a region: one perms change of exactly that range;
 *   - two runs, one with a file mapped between anonymous regions: one new
 *     file and nothing else;
 *   - four new 64 MiB mappings in a series: one born group, a leak suspect
 *     named as such. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "truth.h"
#include "util.h"

#define KIB 1024ull
#define DATA_BYTES 20000 /* five pages mapped */
#define DATA_SPAN (5 * 4096ull)

static struct {
	char *dir;
	char lib[4200], data[4200];
	char bss_lib[4200]; /* a library with a .bss of its own region */
	int snaps;
} fx;

/* ---- files ---- */

/* Written back before any capture: a dirty page-cache page mapped later
 * would turn clean between two snapshots. */
static void sync_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* Compiles code into the shared object DIR/name.so. */
static int build_library(const char *name, const char *code, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.so", fx.dir, name);
	return build_shared_library(code, out, "");
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	if (!fx.dir)
		return -1;
	if (build_library("libmapsnap-tiny",
			  "int tiny_value = 42;\nint tiny_get(void) { return tiny_value; }\n",
			  fx.lib, sizeof(fx.lib)) != 0 ||
	    build_library("libmapsnap-bss",
			  "int bss_block[16384];\nint *bss_get(void) { return bss_block; }\n",
			  fx.bss_lib, sizeof(fx.bss_lib)) != 0)
		return -1;
	snprintf(fx.data, sizeof(fx.data), "%s/data.bin", fx.dir);
	char *bytes = malloc(DATA_BYTES);
	for (size_t i = 0; i < DATA_BYTES; i++)
		bytes[i] = (char)(i * 7);
	int rc = write_file(fx.data, bytes, DATA_BYTES);
	free(bytes);
	if (rc == 0)
		sync_file(fx.data);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- driving the helper ---- */

static void start(helper_proc *h)
{
	char *argv[] = { (char *)helper_path("layouts"), NULL };
	assert_int_equal(helper_start(h, argv), 0);
}

/* Sends a command; returns the hex numbers of its "ok" answer in out. */
static int command(helper_proc *h, uint64_t *out, size_t max, const char *fmt, ...)
{
	char line[4400], reply[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_int_equal(helper_command(h, line, reply, sizeof(reply)), 0);
	if (strncmp(reply, "ok", 2) != 0)
		fail_msg("layouts: %s -> %s", line, reply);
	int n = 0;
	char *p = reply + 2;
	while (*p && (size_t)n < max) {
		char *end;
		uint64_t v = strtoull(p, &end, 16);
		if (end == p)
			break;
		out[n++] = v;
		p = end;
	}
	return n;
}

static uint64_t span(helper_proc *h, uint64_t kib)
{
	uint64_t base;
	assert_int_equal(command(h, &base, 1, "span %" PRIu64, kib), 1);
	return base;
}

/* extra: NULL, or one more capture option (--no-build-ids). */
static const char *capture_with(const helper_proc *h, const char *extra)
{
	static char paths[8][4200];
	char *path = paths[fx.snaps % 8], pid[16];
	snprintf(path, sizeof(paths[0]), "%s/s%d.json", fx.dir, fx.snaps++);
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	cmd_result res = extra
		? run_mapsnap_ok(0, "capture", extra, pid, "-o", path, "-f", NULL)
		: run_mapsnap_ok(0, "capture", pid, "-o", path, "-f", NULL);
	cmd_result_free(&res);
	return path;
}

static const char *capture(const helper_proc *h)
{
	return capture_with(h, NULL);
}

static json_t *diff(const char *a, const char *b, const char *min_change)
{
	cmd_result res = run_mapsnap_ok(0, "diff", "--format", "json", "--min-change",
					min_change, a, b, NULL);
	json_t *doc = json_parse_output(res.out, "diff");
	cmd_result_free(&res);
	return doc;
}

static snap_snapshot *load(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	snap_snapshot *s;
	snap_error err;
	if (fmt_json_load(&s, f, path, &err) != 0)
		fail_msg("%s: %s", err.source, err.message);
	fclose(f);
	return s;
}

/* The diff of two saved snapshots through the API, every change listed. */
static void assert_api_diff_adds_up(const char *a, const char *b)
{
	snap_snapshot *old = load(a), *new = load(b);
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.min_change_kb = 0;
	snap_diff *d;
	assert_int_equal(snap_diff_new(&d, old, new, &opts, NULL), 0);
	assert_diff_adds_up(d, b);
	assert_layout_truth(old, d->old_id, a);
	assert_layout_truth(new, d->new_id, b);
	snap_diff_free(d);
	snap_snapshot_free(old);
	snap_snapshot_free(new);
}

/* Both ways of adding up: the JSON at --min-change 0 and the API. */
static void assert_adds_up(const char *a, const char *b)
{
	json_t *all = diff(a, b, "0");
	assert_diff_json_adds_up(all, b);
	json_decref(all);
	assert_api_diff_adds_up(a, b);
}

/* ---- reading a diff ---- */

struct want {
	const char *change, *kind;
	uint64_t start, end; /* of the side that exists (new, else old) */
	const char *path;    /* NULL: anonymous */
};

static const char *describe(json_t *c)
{
	static char buf[600];
	json_t *side = json_object_get(c, "new");
	if (json_is_null(side))
		side = json_object_get(c, "old");
	snprintf(buf, sizeof(buf), "%s %s %s %s-%s %.300s",
		 json_string_value(json_object_get(c, "change")),
		 json_string_value(json_object_get(c, "kind")),
		 json_string_value(json_object_get(c, "perms")),
		 json_string_value(json_object_get(side, "start")),
		 json_string_value(json_object_get(side, "end")),
		 json_string_value(json_object_get(c, "path")));
	return buf;
}

static bool matches(json_t *c, const struct want *w)
{
	json_t *side = json_object_get(c, "new");
	if (json_is_null(side))
		side = json_object_get(c, "old");
	const char *path = json_string_value(json_object_get(c, "path"));
	return strcmp(json_string_value(json_object_get(c, "change")), w->change) == 0 &&
	       strcmp(json_string_value(json_object_get(c, "kind")), w->kind) == 0 &&
	       json_hex(side, "start") == w->start && json_hex(side, "end") == w->end &&
	       strcmp(path, w->path ? w->path : "") == 0;
}

/* The changes are exactly `want`, in any order; returns each one's JSON
 * in want's order (borrowed from doc). */
static void expect_changes(json_t *doc, const struct want *want, size_t n,
			   json_t **found)
{
	json_t *changes = json_object_get(doc, "changes");
	size_t i;
	json_t *c;
	char listed[4000] = "";
	json_array_foreach(changes, i, c) {
		size_t len = strlen(listed);
		snprintf(listed + len, sizeof(listed) - len, "\n  %s", describe(c));
	}
	if (json_array_size(changes) != n)
		fail_msg("%zu changes, want %zu:%s", json_array_size(changes), n, listed);
	for (size_t k = 0; k < n; k++) {
		found[k] = NULL;
		json_array_foreach(changes, i, c)
			if (matches(c, &want[k]))
				found[k] = c;
		if (!found[k])
			fail_msg("no '%s %s %" PRIx64 "-%" PRIx64 " %s' among:%s", want[k].change,
				 want[k].kind, want[k].start, want[k].end,
				 want[k].path ? want[k].path : "", listed);
	}
}

static void expect_ranges(json_t *ranges, const uint64_t *bounds, size_t n,
			  const char *what)
{
	if (json_array_size(ranges) != n)
		fail_msg("%s: %zu ranges, want %zu", what, json_array_size(ranges), n);
	for (size_t k = 0; k < n; k++) {
		json_t *r = json_array_get(ranges, k);
		if (json_hex(r, "start") != bounds[2 * k] || json_hex(r, "end") != bounds[2 * k + 1])
			fail_msg("%s: range %zu is %s-%s, want %" PRIx64 "-%" PRIx64, what, k,
				 json_string_value(json_object_get(r, "start")),
				 json_string_value(json_object_get(r, "end")), bounds[2 * k],
				 bounds[2 * k + 1]);
	}
}

static void expect_thread_stacks(json_t *doc, int64_t old, int64_t new)
{
	json_t *ts = json_object_get(doc, "thread_stacks");
	assert_int_equal(json_counter(ts, "old"), old);
	assert_int_equal(json_counter(ts, "new"), new);
}

/* ---- a buffer over a guard page ---- */

/* Saves the helper's smaps without its VmFlags lines, with its stat and
 * status beside it: what a kernel older than 6.7 (or a trimmed copy)
 * shows, where only the bare guard pattern is left to go by. */
static void save_without_vmflags(pid_t pid, const char *smaps_path)
{
	char proc[64], out[4300];
	snprintf(proc, sizeof(proc), "/proc/%d/smaps", (int)pid);
	char *text = read_file(proc, NULL);
	assert_non_null(text);
	FILE *f = fopen(smaps_path, "w");
	assert_non_null(f);
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (strncmp(line, "VmFlags:", 8) != 0)
			fwrite(line, 1, len, f);
		line += len;
	}
	assert_int_equal(fclose(f), 0);
	free(text);
	static const char *const siblings[] = { "stat", "status" };
	for (size_t k = 0; k < 2; k++) {
		snprintf(proc, sizeof(proc), "/proc/%d/%s", (int)pid, siblings[k]);
		size_t len;
		char *body = read_file(proc, &len);
		assert_non_null(body);
		snprintf(out, sizeof(out), "%.*s%s", (int)(strlen(smaps_path) - 5),
			 smaps_path, siblings[k]);
		assert_int_equal(write_file(out, body, len), 0);
		free(body);
	}
}

static void assert_buffer_is_anon(const snap_snapshot *s, uint64_t guard,
				  uint64_t buf_end, enum snap_evidence why,
				  const char *label)
{
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	long g = region_at(s, guard), b = region_at(s, guard + 4 * KIB);
	assert_true(g >= 0 && b == g + 1);
	assert_true(s->regions[g].end == guard + 4 * KIB && s->regions[b].end == buf_end);
	if (id->kinds[b] != SNAP_KIND_ANON || id->kinds[g] != SNAP_KIND_GUARD)
		fail_msg("%s: buffer is %s (%s), its guard %s (%s)", label,
			 snap_kind_name(id->kinds[b]), snap_evidence_name(id->evidence[b]),
			 snap_kind_name(id->kinds[g]), snap_evidence_name(id->evidence[g]));
	assert_int_equal(id->evidence[g], SNAP_EV_SMALL_GUARD);
	if (id->evidence[b] != why)
		fail_msg("%s: the buffer's evidence is %s, want %s", label,
			 snap_evidence_name(id->evidence[b]), snap_evidence_name(why));
	assert_int_equal(id->thread_stacks, 0);
	assert_layout_truth(s, id, label);
	snap_identity_free(id);
}

static void guard_buffer_single_thread(void **state)
{
	(void)state;
	helper_proc h;
	start(&h);
	const char *before = capture(&h);
	uint64_t base = span(&h, 8192), guard = base + MIB, buf_end = guard + 4 * KIB + MIB;
	uint64_t got[2];
	command(&h, got, 2, "anon %" PRIx64 " %llu", guard, 4 + 1024ull);
	command(&h, got, 0, "noaccess %" PRIx64 " 4", guard);
	const char *after = capture(&h);

	json_t *doc = diff(before, after, "4K");
	const struct want want[] = {
		{ "new", "guard", guard, guard + 4 * KIB, NULL },
		{ "new", "anon", guard + 4 * KIB, buf_end, NULL },
	};
	json_t *found[2];
	expect_changes(doc, want, 2, found);
	expect_thread_stacks(doc, 0, 0);
	json_decref(doc);
	assert_adds_up(before, after);

	snap_snapshot *s = load(after);
	assert_buffer_is_anon(s, guard, buf_end, SNAP_EV_ANONYMOUS, "with VmFlags");
	snap_snapshot_free(s);

	/* The same layout without VmFlags: the bare pattern, refused by the
	 * thread count (Threads: 1). */
	char smaps[4200];
	snprintf(smaps, sizeof(smaps), "%s/old-kernel.smaps", fx.dir);
	save_without_vmflags(h.pid, smaps);
	assert_int_equal(snap_snapshot_new(&s, NULL), 0);
	snap_error err;
	if (snap_capture_files(s, smaps, true, &err) != 0)
		fail_msg("%s: %s", err.source, err.message);
	assert_int_equal(s->process.threads, 1);
	assert_buffer_is_anon(s, guard, buf_end, SNAP_EV_OVER_THREADS,
			      "without VmFlags");
	snap_snapshot_free(s);

	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "json", after, NULL);
	json_t *sum = json_parse_output(res.out, "summary");
	assert_int_equal(json_counter(json_object_get(sum, "thread_stacks"), "count"), 0);
	json_decref(sum);
	cmd_result_free(&res);
	helper_stop(&h);
}

/* ---- a hole refilled by other kinds ---- */

static void expect_in(uint64_t lo, uint64_t hi, uint64_t hole, uint64_t hole_end,
		      const char *what)
{
	/* glibc and ld.so choose these addresses; fill-above leaves the hole
	 * as the highest free range, so mmap's top-down search lands there. */
	if (lo < hole || hi > hole_end)
		fail_msg("%s at %" PRIx64 "-%" PRIx64 " is outside the hole %" PRIx64 "-%" PRIx64,
			 what, lo, hi, hole, hole_end);
}

static void hole_refilled_by_other_kinds(void **state)
{
	(void)state;
	helper_proc h;
	start(&h);
	const uint64_t size = 96 * MIB, hole_off = 24 * MIB, hole_len = 48 * MIB;
	uint64_t base = span(&h, size / KIB), got[3];
	command(&h, got, 2, "anon %" PRIx64 " %" PRIu64, base, size / KIB);
	command(&h, got, 1, "fill-above %" PRIx64, base);
	const char *before = capture(&h);

	uint64_t hole = base + hole_off, hole_end = hole + hole_len;
	command(&h, got, 0, "unmap %" PRIx64 " %" PRIu64, hole, hole_len / KIB);
	uint64_t stack[3], lib[2], file[2];
	assert_int_equal(command(&h, stack, 3, "thread"), 3);
	assert_int_equal(command(&h, lib, 2, "dlopen %s", fx.lib), 2);
	assert_int_equal(command(&h, file, 2, "file %s %" PRIx64, fx.data, hole), 2);
	const char *after = capture(&h);
	expect_in(stack[0], stack[2], hole, hole_end, "the thread stack");
	expect_in(lib[0], lib[1], hole, hole_end, "the library");
	assert_true(file[0] == hole && file[1] == hole + DATA_SPAN);

	json_t *doc = diff(before, after, "4K");
	const struct want want[] = {
		{ "shrunk", "anon", base, base + size, NULL },
		{ "new", "thread-stack", stack[1], stack[2], NULL },
		{ "new", "guard", stack[0], stack[1], NULL },
		{ "new", "lib", lib[0], lib[1], fx.lib },
		{ "new", "file", file[0], file[1], fx.data },
	};
	json_t *found[5];
	expect_changes(doc, want, 5, found);
	uint64_t unmapped[2] = { hole, hole_end };
	expect_ranges(json_object_get(found[0], "unmapped"), unmapped, 1, "anon unmapped");
	expect_ranges(json_object_get(found[0], "mapped"), NULL, 0, "anon mapped");
	for (size_t k = 0; k < 5; k++)
		expect_ranges(json_object_get(found[k], "perms_changes"), NULL, 0,
			      describe(found[k]));
	assert_int_equal(json_counter(json_object_get(found[0], "delta"), "Size"),
			 -(int64_t)(hole_len / KIB));
	assert_true(json_is_true(json_object_get(found[3], "image")));
	/* the library's segments, all in its one change */
	snap_snapshot *s = load(after);
	int64_t segments = 0;
	for (size_t i = 0; i < s->nregions; i++)
		segments += strcmp(s->regions[i].path, fx.lib) == 0;
	snap_snapshot_free(s);
	assert_true(segments >= 2);
	assert_int_equal(json_counter(json_object_get(found[3], "delta"), "regions"), segments);
	expect_thread_stacks(doc, 0, 1);
	json_decref(doc);

	/* every change listed: still no perms change, and all adds up */
	doc = diff(before, after, "0");
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "change")), "perms") == 0)
			fail_msg("a perms change, though no mprotect ran: %s", describe(c));
	json_decref(doc);
	assert_adds_up(before, after);
	helper_stop(&h);
}

/* ---- a real mprotect ---- */

static void mprotect_is_one_perms_change(void **state)
{
	(void)state;
	helper_proc h;
	start(&h);
	uint64_t base = span(&h, 8192), region = base + MIB, got[2];
	command(&h, got, 2, "anon %" PRIx64 " 1024", region);
	const char *before = capture(&h);
	uint64_t lo = region + 256 * KIB, hi = lo + 256 * KIB;
	command(&h, got, 0, "readonly %" PRIx64 " 256", lo);
	const char *after = capture(&h);

	json_t *doc = diff(before, after, "4K");
	const struct want want[] = { { "perms", "anon", region, region + MIB, NULL } };
	json_t *found[1];
	expect_changes(doc, want, 1, found);
	json_t *pc = json_object_get(found[0], "perms_changes");
	uint64_t range[2] = { lo, hi };
	expect_ranges(pc, range, 1, "perms_changes");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pc, 0), "old")),
			    "rw-p");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pc, 0), "new")),
			    "r--p");
	expect_ranges(json_object_get(found[0], "mapped"), NULL, 0, "mapped");
	expect_ranges(json_object_get(found[0], "unmapped"), NULL, 0, "unmapped");
	json_t *delta = json_object_get(found[0], "delta");
	assert_int_equal(json_counter(delta, "Size"), 0);
	assert_int_equal(json_counter(delta, "Rss"), 0);
	json_decref(doc);
	assert_adds_up(before, after);
	helper_stop(&h);
}

/* ---- a file in a hole, in one of two runs ---- */

/* Three 1 MiB anonymous regions with 1 MiB holes between them; with_file
 * maps the data file right below the second one, in the first hole. */
static void three_regions(helper_proc *h, bool with_file)
{
	uint64_t base = span(h, 8192), got[2];
	for (int k = 0; k < 3; k++)
		command(h, got, 2, "anon %" PRIx64 " 1024", base + (uint64_t)(1 + 2 * k) * MIB);
	if (with_file)
		command(h, got, 2, "file %s %" PRIx64, fx.data, base + 3 * MIB - DATA_SPAN);
}

static void file_in_hole_across_runs(void **state)
{
	(void)state;
	helper_proc plain, filled;
	start(&plain);
	start(&filled);
	three_regions(&plain, false);
	three_regions(&filled, true);
	/* both alive at both captures: their shared pages count alike */
	const char *a = capture(&plain), *b = capture(&filled);

	json_t *doc = diff(a, b, "4K");
	assert_string_equal(json_string_value(json_object_get(doc, "matching")), "identity");
	json_t *changes = json_object_get(doc, "changes");
	if (json_array_size(changes) != 1) {
		char listed[4000] = "";
		size_t i;
		json_t *c;
		json_array_foreach(changes, i, c) {
			size_t len = strlen(listed);
			snprintf(listed + len, sizeof(listed) - len, "\n  %s", describe(c));
		}
		fail_msg("%zu changes, want one new file:%s", json_array_size(changes), listed);
	}
	json_t *c = json_array_get(changes, 0);
	assert_string_equal(json_string_value(json_object_get(c, "change")), "new");
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "file");
	assert_string_equal(json_string_value(json_object_get(c, "path")), fx.data);
	assert_int_equal(json_counter(json_object_get(c, "delta"), "Size"), DATA_SPAN / KIB);
	json_decref(doc);
	assert_adds_up(a, b);
	helper_stop(&plain);
	helper_stop(&filled);
}

/* ---- a library moved to another path, in one of two runs ---- */

/* A copy of the .bss library in DIR/sub/, written back. */
static void copy_library(const char *sub, char *out, size_t size)
{
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/%s", fx.dir, sub);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(out, size, "%s/libmapsnap-bss.so", dir);
	size_t len;
	char *bytes = read_file(fx.bss_lib, &len);
	assert_non_null(bytes);
	assert_int_equal(write_file(out, bytes, len), 0);
	free(bytes);
	sync_file(out);
}

/* The library's load in both, from two paths. Without build-ids its
 * segments are other files (vanished there, new here), but its .bss
 * follows the library's name and matches: no anonymous change. With them
 * (a live capture reads them) it is the same build moved: one change. */
static void library_path_change_keeps_bss(void **state)
{
	(void)state;
	char one[4400], two[4400];
	copy_library("one", one, sizeof(one));
	copy_library("two", two, sizeof(two));
	helper_proc a, b;
	start(&a);
	start(&b);
	uint64_t span_a[2], span_b[2];
	assert_int_equal(command(&a, span_a, 2, "dlopen %s", one), 2);
	assert_int_equal(command(&b, span_b, 2, "dlopen %s", two), 2);
	const char *before = capture_with(&a, "--no-build-ids");
	const char *after = capture_with(&b, "--no-build-ids");

	snap_snapshot *s = load(after);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	long bss = region_at(s, span_b[1] - 1);
	assert_true(bss > 0);
	if (id->kinds[bss] != SNAP_KIND_ANON || id->evidence[bss] != SNAP_EV_BSS ||
	    id->attached[bss] < 0)
		fail_msg("the library's .bss is %s (%s), attached to %d",
			 snap_kind_name(id->kinds[bss]), snap_evidence_name(id->evidence[bss]),
			 (int)id->attached[bss]);
	snap_identity_free(id);
	snap_snapshot_free(s);

	json_t *doc = diff(before, after, "4K");
	const struct want want[] = {
		{ "vanished", "lib", span_a[0], (uint64_t)-1, one },
		{ "new", "lib", span_b[0], (uint64_t)-1, two },
	};
	json_t *found[2];
	/* the image ends with its last file segment, before the .bss */
	struct want exact[2];
	memcpy(exact, want, sizeof(want));
	for (size_t k = 0; k < 2; k++) {
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(doc, "changes"), i, c) {
			json_t *side = json_object_get(c, k ? "new" : "old");
			if (!json_is_null(side) && json_hex(side, "start") == want[k].start)
				exact[k].end = json_hex(side, "end");
		}
	}
	expect_changes(doc, exact, 2, found);
	assert_true(json_is_true(json_object_get(found[0], "image")));
	assert_true(json_is_true(json_object_get(found[1], "image")));
	json_decref(doc);
	assert_adds_up(before, after);

	before = capture(&a);
	after = capture(&b);
	doc = diff(before, after, "4K");
	json_t *changes = json_object_get(doc, "changes");
	if (json_array_size(changes) != 1)
		fail_msg("%zu changes, want one moved library", json_array_size(changes));
	json_t *c = json_array_get(changes, 0);
	assert_string_equal(json_string_value(json_object_get(c, "change")), "moved");
	assert_string_equal(json_string_value(json_object_get(c, "path")), two);
	assert_string_equal(json_string_value(json_object_get(c, "old_path")), one);
	assert_true(json_is_true(json_object_get(c, "image")));
	assert_string_equal(json_string_value(json_object_get(c, "old_build_id")),
			    json_string_value(json_object_get(c, "new_build_id")));
	json_decref(doc);
	assert_adds_up(before, after);
	helper_stop(&a);
	helper_stop(&b);
}

/* ---- growth by new mappings ---- */

static json_t *find_born(json_t *trend)
{
	size_t i;
	json_t *r, *born = NULL;
	json_array_foreach(json_object_get(trend, "regions"), i, r)
		if (json_is_true(json_object_get(r, "born")) &&
		    strcmp(json_string_value(json_object_get(r, "kind")), "anon") == 0) {
			if (born)
				fail_msg("two born anon groups");
			born = r;
		}
	if (!born)
		fail_msg("no born anon group in the trend");
	return born;
}

/* Gives a snapshot file the capture time "2026-01-01T00:00:0N.000Z":
 * a trend's verdict weighs growth against time, and under load the
 * gaps between captures are anything; the test is about what grew. */
static void retime(const char *path, int second)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	snap_snapshot *snap;
	assert_int_equal(fmt_json_load(&snap, f, path, NULL), 0);
	fclose(f);
	char at[48]; /* room for any int: -O1 -fsanitize builds check it */
	snprintf(at, sizeof(at), "2026-01-01T00:00:%02d.000Z", second);
	snap->captured_at = snap_snapshot_strdup(snap, at);
	snap->captured_end = snap->captured_at;
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fmt_json_write(f, snap), 0);
	assert_int_equal(fclose(f), 0);
	snap_snapshot_free(snap);
}

static void growth_by_new_regions_is_born(void **state)
{
	(void)state;
	helper_proc h;
	start(&h);
	/* four 64 MiB places with 1 MiB holes between: no two merge */
	const uint64_t slot = 65 * MIB;
	uint64_t base = span(&h, 4 * slot / KIB), got[2];
	char *files[16];
	int n = 0;
	files[n++] = "trend";
	files[n++] = "--format";
	files[n++] = "json";
	files[n++] = strdup(capture(&h));
	for (int k = 0; k < 4; k++) {
		command(&h, got, 2, "anon %" PRIx64 " 65536", base + (uint64_t)k * slot);
		files[n++] = strdup(capture(&h));
	}
	files[n] = NULL;
	for (int k = 3; k < n; k++)
		retime(files[k], k);
	char *argv[20];
	argv[0] = (char *)mapsnap_bin();
	for (int k = 0; k <= n; k++)
		argv[k + 1] = files[k];
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	json_t *trend = json_parse_output(res.out, "trend");
	cmd_result_free(&res);

	json_t *born = find_born(trend);
	json_t *rss = json_object_get(born, "Rss");
	assert_int_equal(json_integer_value(json_object_get(born, "members")), 4);
	assert_int_equal(json_integer_value(json_object_get(born, "regions")), 4);
	assert_int_equal(json_counter(rss, "growth"), 4 * 65536);
	assert_string_equal(json_string_value(json_object_get(born, "verdict")), "steady");
	assert_true(json_is_true(json_object_get(born, "suspect")));
	assert_int_equal(json_hex(born, "start"), base);
	assert_int_equal(json_hex(born, "end"), base + 3 * slot + 64 * MIB);
	assert_int_equal(json_integer_value(json_object_get(trend, "leak_suspects")), 1);
	json_decref(trend);

	/* the text and the gate name the group, never "all N regions" */
	argv[2] = "--fail-if";
	argv[3] = "leak-suspects>0";
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "LEAK SUSPECTS: 1"));
	assert_non_null(strstr(res.out, "born during the series"));
	assert_no_all_regions(res.out, "trend");
	assert_no_all_regions(res.err, "trend's gate");
	cmd_result_free(&res);
	for (int k = 3; k < n; k++)
		free(files[k]);
	helper_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guard_buffer_single_thread),
		cmocka_unit_test(hole_refilled_by_other_kinds),
		cmocka_unit_test(mprotect_is_one_perms_change),
		cmocka_unit_test(file_in_hole_across_runs),
		cmocka_unit_test(library_path_change_keeps_bss),
		cmocka_unit_test(growth_by_new_regions_is_born),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
