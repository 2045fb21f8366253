/* mapsnap convert --to ndjson end to end: every row of a live capture
 * against the snapshot and its snap_identity (kinds, keys, counters with
 * zeros, VmFlags), the fixed member list of the row schema, series,
 * directories and several files, odd paths and unknown counters, flat
 * memory on a long series, and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

static struct {
	char *dir;
	helper_proc stages;
	char pid[16];
	char snap_path[4200]; /* a capture of the helper */
} fx;

static const char *const leading[] = {
	"schema", "host", "boot_id", "pid", "start_time", "comm", "exe", "captured_at",
	"captured_at_ms", "kind", "evidence", "key", "lib", "image", "path", "deleted",
	"perms", "start", "end", "offset", "dev", "inode", "build_id",
};
static const char *const trailing[] = { "VmFlags", "extra_names", "extra_values" };
#define NELEMS(a) (sizeof(a) / sizeof(*(a)))

static int setup(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	char reply[4400];
	fx.dir = make_tmpdir();
	if (!fx.dir || helper_start(&fx.stages, argv) != 0)
		return -1;
	snprintf(fx.pid, sizeof(fx.pid), "%d", fx.stages.pid);
	/* a second path of the library and a thread: more kinds in the rows */
	if (helper_command(&fx.stages, "load-copy", reply, sizeof(reply)) != 0 ||
	    strncmp(reply, "ok", 2) != 0 ||
	    helper_command(&fx.stages, "threads 2", reply, sizeof(reply)) != 0)
		return -1;
	snprintf(fx.snap_path, sizeof(fx.snap_path), "%s/stages.json", fx.dir);
	cmd_result res;
	/* without build-ids, so a row's build_id is null unless a test adds
	 * a file to the model (build_ids_from_the_model) */
	run_mapsnap(&res, NULL, "capture", fx.pid, "--no-build-ids", "-o", fx.snap_path,
		    NULL);
	int status = res.status;
	cmd_result_free(&res);
	return status == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	helper_stop(&fx.stages);
	if (fx.dir)
		remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- reading what was written ---- */

static snap_snapshot *load_first(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	snap_snapshot *snap;
	snap_error err = { 0 };
	if (fmt_json_load(&snap, f, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	fclose(f);
	return snap;
}

/* The rows of text, one JSON object per line; *n gets how many. */
static json_t **parse_rows(const char *text, size_t *n)
{
	size_t cap = 16;
	json_t **rows = malloc(cap * sizeof(*rows));
	*n = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl); /* every row ends its line */
		json_error_t jerr;
		/* [vsyscall]'s start and end exceed json_int_t: numbers as reals
		 * (exact below 2^53); address() reads those two from the text. */
		json_t *row = json_loadb(line, (size_t)(nl - line), JSON_DECODE_INT_AS_REAL,
					 &jerr);
		if (!row || !json_is_object(row))
			fail_msg("row %zu is not a JSON object (%s): %.200s", *n + 1, jerr.text,
				 line);
		if (*n == cap)
			rows = realloc(rows, (cap *= 2) * sizeof(*rows));
		json_object_set_new(row, "-raw", json_stringn(line, (size_t)(nl - line)));
		rows[(*n)++] = row;
		line = nl + 1;
	}
	return rows;
}

static void free_rows(json_t **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(rows[i]);
	free(rows);
}

static json_t **convert(size_t *n, ...)
{
	char *argv[64] = { (char *)mapsnap_bin(), "convert", "--to", "ndjson" };
	int argc = 4;
	va_list ap;
	va_start(ap, n);
	char *arg;
	while ((arg = va_arg(ap, char *)) && argc < 63)
		argv[argc++] = arg;
	va_end(ap);
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("convert --to ndjson: exit %d: %s", res.status, res.err);
	json_t **rows = parse_rows(res.out, n);
	cmd_result_free(&res);
	return rows;
}

static const char *str(json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);
	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static uint64_t num(json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);
	double d = json_number_value(v);
	if (!json_is_number(v) || d < 0 || d != (double)(uint64_t)d)
		fail_msg("\"%s\" is not a count", key);
	return (uint64_t)d;
}

/* start and end, exactly, from the row's text. */
static uint64_t address(json_t *row, const char *key)
{
	char member[32];
	snprintf(member, sizeof(member), ",\"%s\":", key);
	const char *raw = json_string_value(json_object_get(row, "-raw"));
	const char *at = strstr(raw, member);
	assert_non_null(at);
	char *end;
	uint64_t v = strtoull(at + strlen(member), &end, 10);
	assert_true(*end == ',');
	return v;
}

/* ---- the row schema ---- */

static void assert_members(json_t *row)
{
	size_t ncounters;
	const char *const *counters = fmt_ndjson_counters(&ncounters);
	size_t want = NELEMS(leading) + ncounters + NELEMS(trailing), k = 0;
	assert_int_equal(json_object_size(row), want + 1); /* and "-raw" */
	for (void *it = json_object_iter(row); it; it = json_object_iter_next(row, it), k++) {
		const char *key = json_object_iter_key(it);
		if (strcmp(key, "-raw") == 0)
			break;
		const char *expect = k < NELEMS(leading) ? leading[k]
			: k < NELEMS(leading) + ncounters ? counters[k - NELEMS(leading)]
			: trailing[k - NELEMS(leading) - ncounters];
		assert_string_equal(key, expect);
	}
}

static void assert_vmflags(json_t *row, const snap_region *r)
{
	json_t *flags = json_object_get(row, "VmFlags");
	assert_true(json_is_array(flags));
	char joined[256] = "";
	for (size_t k = 0; k < json_array_size(flags); k++) {
		size_t n = strlen(joined);
		snprintf(joined + n, sizeof(joined) - n, "%s%s", k ? " " : "",
			 json_string_value(json_array_get(flags, k)));
	}
	assert_string_equal(joined, r->vmflags ? r->vmflags : "");
}

static void assert_region_row(json_t *row, const snap_identity *id, size_t i)
{
	const snap_snapshot *snap = id->snap;
	const snap_region *r = &snap->regions[i];
	char key[32];
	snprintf(key, sizeof(key), "%016" PRIx64, id->keys[i]);
	assert_string_equal(str(row, "kind"), snap_kind_name(id->kinds[i]));
	assert_string_equal(str(row, "evidence"),
			    snap_evidence_name((enum snap_evidence)id->evidence[i]));
	assert_string_equal(str(row, "key"), key);
	assert_true(address(row, "start") == r->start);
	assert_true(address(row, "end") == r->end);
	assert_true(num(row, "offset") == r->offset);
	assert_true(num(row, "inode") == r->inode);
	assert_int_equal(strlen(str(row, "path")), r->path_len);
	assert_memory_equal(str(row, "path"), r->path, r->path_len);
	assert_string_equal(str(row, "perms"), r->perms);
	assert_true(json_is_null(json_object_get(row, "build_id")));
	int32_t image = id->image_of[i] >= 0 ? id->image_of[i] : id->attached[i];
	assert_true(json_number_value(json_object_get(row, "image")) == image);
	size_t ncounters;
	const char *const *counters = fmt_ndjson_counters(&ncounters);
	for (size_t c = 0; c < ncounters; c++) {
		uint64_t want = snap_region_get(snap, r, counters[c]);
		if (num(row, counters[c]) != want)
			fail_msg("region %zu: %s is %" PRIu64 ", the snapshot says %" PRIu64, i,
				 counters[c], num(row, counters[c]), want);
	}
	assert_vmflags(row, r);
}

static void live_rows_match_the_snapshot(void **state)
{
	(void)state;
	size_t n;
	json_t **rows = convert(&n, fx.snap_path, NULL);
	snap_snapshot *snap = load_first(fx.snap_path);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(n, snap->nregions);
	bool kinds[SNAP_KIND_COUNT] = { false };
	size_t libz_images = 0;
	for (size_t i = 0; i < n; i++) {
		assert_members(rows[i]);
		assert_string_equal(str(rows[i], "schema"), FMT_NDJSON_SCHEMA);
		assert_int_equal(num(rows[i], "pid"), fx.stages.pid);
		assert_int_equal(num(rows[i], "start_time"), snap->process.start_time);
		assert_string_equal(str(rows[i], "comm"), "stages");
		assert_string_equal(str(rows[i], "boot_id"), snap->host.boot_id);
		assert_string_equal(str(rows[i], "host"), snap->host.hostname);
		double at;
		assert_int_equal(snap_parse_utc(snap->captured_at, &at, NULL), 0);
		assert_int_equal(num(rows[i], "captured_at_ms"), (uint64_t)(at * 1000 + 0.5));
		assert_region_row(rows[i], id, i);
		kinds[id->kinds[i]] = true;
		libz_images += strcmp(str(rows[i], "lib"), "libz.so") == 0 &&
			       strcmp(str(rows[i], "kind"), "lib") == 0 &&
			       num(rows[i], "offset") == 0;
	}
	assert_true(kinds[SNAP_KIND_LIB] && kinds[SNAP_KIND_EXE] &&
		    kinds[SNAP_KIND_THREAD_STACK] && kinds[SNAP_KIND_HEAP]);
	assert_int_equal(libz_images, 2); /* loaded from two paths */
	snap_identity_free(id);
	snap_snapshot_free(snap);
	free_rows(rows, n);
}

/* ---- inputs ---- */

static char *cat_to(const char *name, const char *a, int copies)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", fx.dir, name) > 0);
	size_t len;
	char *text = read_file(a, &len);
	assert_non_null(text);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < copies; i++)
		fwrite(text, 1, len, f);
	fclose(f);
	free(text);
	return path;
}

static void series_directories_and_many_files(void **state)
{
	(void)state;
	snap_snapshot *snap = load_first(fx.snap_path);
	size_t per = snap->nregions, n;
	snap_snapshot_free(snap);
	char *series = cat_to("series.json", fx.snap_path, 3);
	json_t **rows = convert(&n, series, NULL);
	assert_int_equal(n, 3 * per);
	free_rows(rows, n);
	/* a directory: its *.json files; others and dot files are left alone */
	char sub[4200], other[4300];
	snprintf(sub, sizeof(sub), "%s/dir", fx.dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	const char *names[] = { "a.json", "b.json", ".partial.json", "notes.txt" };
	for (size_t k = 0; k < NELEMS(names); k++) {
		snprintf(other, sizeof(other), "%s/%s", sub, names[k]);
		size_t len;
		char *text = read_file(k < 3 ? fx.snap_path : "/etc/hostname", &len);
		assert_int_equal(write_file(other, text, k == 2 ? len / 2 : len), 0);
		free(text);
	}
	rows = convert(&n, sub, series, fx.snap_path, NULL);
	assert_int_equal(n, (2 + 3 + 1) * per);
	free_rows(rows, n);
	free(series);
}

/* A crafted smaps: a path with a quote, a backslash and a byte that is not
 * UTF-8, a counter no kernel has (kept apart), a text line (no column), no
 * KSM line (a zero), and no VmFlags line. */
static void odd_paths_unknown_counters_and_zeros(void **state)
{
	(void)state;
	static const char smaps[] =
		"00300000-00301000 rw-p 00000000 00:00 0 \n"
		"Size:                  4 kB\n"
		"Rss:                   0 kB\n"
		"00400000-00402000 r-xp 00001000 08:01 1234                       "
		"/opt/a\"b\\c\xff.so\n"
		"Size:                  8 kB\n"
		"Rss:                   4 kB\n"
		"Private_Dirty:         4 kB\n"
		"Frobnicated:          12 kB\n"
		"Name:           vendor text\n";
	char path[4200];
	snprintf(path, sizeof(path), "%s/odd.smaps", fx.dir);
	assert_int_equal(write_file(path, smaps, sizeof(smaps) - 1), 0);
	size_t n;
	json_t **rows = convert(&n, path, NULL);
	assert_int_equal(n, 2);
	assert_members(rows[0]);
	assert_members(rows[1]);
	assert_string_equal(str(rows[0], "kind"), "anon");
	json_t *anon = rows[0];
	rows[0] = rows[1];
	rows[1] = anon;
	assert_string_equal(str(rows[0], "path"), "/opt/a\"b\\c\xef\xbf\xbd.so");
	assert_int_equal(num(rows[0], "Private_Dirty"), 4);
	assert_int_equal(num(rows[0], "KSM"), 0);
	assert_int_equal(num(rows[0], "Size"), 8);
	assert_int_equal(num(rows[0], "offset"), 0x1000);
	assert_string_equal(str(rows[0], "dev"), "08:01");
	json_t *names = json_object_get(rows[0], "extra_names");
	json_t *values = json_object_get(rows[0], "extra_values");
	assert_int_equal(json_array_size(names), 1);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "Frobnicated");
	assert_true(json_number_value(json_array_get(values, 0)) == 12);
	assert_int_equal(json_array_size(json_object_get(rows[0], "VmFlags")), 0);
	/* unknown process and time: zeros and empty strings, never missing */
	assert_int_equal(num(rows[0], "pid"), 0);
	assert_int_equal(num(rows[0], "captured_at"), 0);
	assert_string_equal(str(rows[0], "comm"), "");
	free_rows(rows, n);
}

/* A build-id the capture read for a file (snap_snapshot_add_file) is the
 * build_id of its segments and its .bss; other rows keep null. */
static void build_ids_from_the_model(void **state)
{
	(void)state;
	snap_snapshot *snap = load_first(fx.snap_path);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	const snap_image *lib = NULL;
	for (size_t k = 0; k < id->nimages && !lib; k++)
		if (id->images[k].kind == SNAP_KIND_LIB && id->images[k].bss >= 0)
			lib = &id->images[k];
	assert_non_null(lib);
	snap_file file = { .dev_major = lib->dev_major, .dev_minor = lib->dev_minor,
			   .inode = lib->inode, .bss_bytes = -1 };
	file.build_id.len = 20;
	file.build_id.source = SNAP_BUILD_ID_NOTE;
	for (int b = 0; b < 20; b++)
		file.build_id.bytes[b] = (uint8_t)(0xa0 + b);
	size_t first = lib->first, count = lib->count, bss = (size_t)lib->bss;
	snap_identity_free(id);
	assert_int_equal(snap_snapshot_add_file(snap, &file, NULL), 0);
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(fmt_ndjson_write(f, id), 0);
	fclose(f);
	size_t n;
	json_t **rows = parse_rows(text, &n);
	assert_int_equal(n, snap->nregions);
	const char *want = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3";
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_object_get(rows[i], "build_id");
		const snap_region *r = &snap->regions[i];
		bool same_file = r->inode == file.inode && r->dev_major == file.dev_major &&
				 r->dev_minor == file.dev_minor;
		if ((i >= first && i < first + count) || i == bss || same_file)
			assert_string_equal(json_string_value(b), want);
		else
			assert_true(json_is_null(b));
	}
	free_rows(rows, n);
	free(text);
	/* the same through a snapshot file (its "files" table) and the CLI */
	char path[4200];
	snprintf(path, sizeof(path), "%s/with-build.json", fx.dir);
	f = fopen(path, "w");
	assert_int_equal(fmt_json_write(f, snap), 0);
	fclose(f);
	rows = convert(&n, path, NULL);
	assert_int_equal(n, snap->nregions);
	assert_string_equal(json_string_value(json_object_get(rows[first], "build_id")), want);
	assert_string_equal(json_string_value(json_object_get(rows[bss], "build_id")), want);
	free_rows(rows, n);
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

/* ---- memory stays flat ---- */

/* Peak RSS (KiB) of one `mapsnap convert --to ndjson path -o /dev/null`. */
static long peak_kib(const char *path)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		execl(mapsnap_bin(), mapsnap_bin(), "convert", "--to", "ndjson", path,
		      (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return ru.ru_maxrss;
}

static void memory_is_flat_on_a_long_series(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("manymaps"), "20000", NULL };
	helper_proc big;
	assert_int_equal(helper_start(&big, argv), 0);
	char pid[16], one[4200];
	snprintf(pid, sizeof(pid), "%d", big.pid);
	snprintf(one, sizeof(one), "%s/big.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", pid, "-o", one, NULL);
	cmd_result_free(&res);
	helper_stop(&big);
	char *many = cat_to("big-series.json", one, 12);
	long single = peak_kib(one), twelve = peak_kib(many);
	/* Twelve snapshots held at once would take twelve times the model;
	 * one at a time, the peak is that of one (allocator slack aside).
	 * ASan's allocator keeps freed memory in quarantine, so the sanitizer
	 * build (which measures mapsnap-asan) checks only that it ran. */
#ifndef __SANITIZE_ADDRESS__
	if (twelve > single + 4096)
		fail_msg("peak RSS %ld KiB for 12 snapshots, %ld KiB for one", twelve, single);
#else
	(void)single;
	(void)twelve;
#endif
	unlink(many);
	free(many);
}

/* ---- bad input ---- */

static void bad_input_leaves_no_file(void **state)
{
	(void)state;
	char bad[4200], out[4200];
	snprintf(bad, sizeof(bad), "%s/bad.json", fx.dir);
	snprintf(out, sizeof(out), "%s/rows.ndjson", fx.dir);
	assert_int_equal(write_file(bad, "{\"schema\":\"nope\"}", 17), 0);
	cmd_result res;
	run_mapsnap(&res, NULL, "convert", "--to", "ndjson", fx.snap_path, bad, "-o", out,
		    NULL);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "bad.json"));
	assert_int_equal(strchr(res.err, '\n') - res.err + 1, (long)strlen(res.err));
	assert_false(file_exists(out));
	cmd_result_free(&res);
	run_mapsnap(&res, NULL, "convert", "--to", "ndjson", NULL);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
	/* an existing output is not replaced without --force */
	assert_int_equal(write_file(out, "keep", 4), 0);
	run_mapsnap(&res, NULL, "convert", "--to", "ndjson", fx.snap_path, "-o", out, NULL);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
	char *kept = read_file(out, NULL);
	assert_string_equal(kept, "keep");
	free(kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(live_rows_match_the_snapshot),
		cmocka_unit_test(series_directories_and_many_files),
		cmocka_unit_test(odd_paths_unknown_counters_and_zeros),
		cmocka_unit_test(build_ids_from_the_model),
		cmocka_unit_test(memory_is_flat_on_a_long_series),
		cmocka_unit_test(bad_input_leaves_no_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
