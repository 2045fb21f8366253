/* The library's own API for snapshot files (snapfile.h), its version and
 * its versioned options: what a C program using libmapsnap relies on.
 * tests/library.sh checks the installed library itself. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap.h"
#include "snapfile.h"
#include "util.h"

struct env {
	char *dir;
	helper_proc h;
	snap_snapshot *snap; /* of the helper, captured live */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	e->dir = make_tmpdir();
	char *argv[] = { (char *)helper_path("homebody"), NULL };
	snap_error err = { 0 };
	if (helper_start(&e->h, argv) != 0 ||
	    snap_capture(&e->snap, e->h.pid, NULL, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	helper_stop(&e->h);
	snap_snapshot_free(e->snap);
	remove_tree(e->dir);
	free(e->dir);
	free(e);
	return 0;
}

static char *path_in(const struct env *e, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", e->dir, name) > 0);
	return p;
}

/* Saved, loaded, saved again: the same bytes, and the same regions. */
static uint64_t checksum_of(const snap_snapshot *snap)
{
	uint64_t sum = 0;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_checksum(&sum, snap, &err), 0);
	assert_string_equal(err.message, "");
	return sum;
}

static void test_save_load_round_trip(void **state)
{
	struct env *e = *state;
	char *a = path_in(e, "a.json"), *b = path_in(e, "b.json");
	snap_error err = { 0 };
	snap_snapshot *loaded = NULL;
	assert_int_equal(snap_snapshot_save_file(a, e->snap, 0, &err), 0);
	assert_int_equal(snap_snapshot_load_file(&loaded, a, &err), 0);
	assert_int_equal(loaded->nregions, e->snap->nregions);
	assert_true(loaded->nregions > 0);
	assert_int_equal(loaded->process.pid, e->h.pid);
	assert_true(loaded->has_stored_checksum);
	assert_false(snap_snapshot_checksum_mismatch(loaded));
	assert_true(checksum_of(loaded) == checksum_of(e->snap));
	assert_int_equal(snap_snapshot_save_file(b, loaded, 0, &err), 0);
	size_t la, lb;
	char *ta = read_file(a, &la), *tb = read_file(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ta, tb, la);
	/* mapsnap itself reads what the library wrote. */
	cmd_result r = run_mapsnap_ok(0, "show", a, NULL);
	assert_non_null(strstr(r.out, "total"));
	cmd_result_free(&r);
	free(ta);
	free(tb);
	snap_snapshot_free(loaded);
	free(a);
	free(b);
}

/* Without SNAP_SAVE_OVERWRITE an existing file stays as it was, and no
 * temporary file is left beside it; with it, the file is replaced. */
static int checksum_without_memory(void *ctx)
{
	snap_hasher *h;
	uint64_t sum = 1;
	snap_error err = { 0 };
	int bad = error_says(snap_hasher_new(&h, &err), SNAP_ENOMEM, &err,
			     "out of memory creating a checksum state");
	bad |= snap_hasher_new(&h, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_snapshot_checksum(&sum, ctx, &err), SNAP_ENOMEM, &err,
			  "out of memory creating a checksum state");
	bad |= snap_snapshot_checksum(&sum, ctx, NULL) != SNAP_ENOMEM || sum != 1;
	return bad;
}

/* A checksum that cannot be computed is an error, not a 0 that a stored
 * checksum could be compared with. */
static void test_checksum_out_of_memory(void **state)
{
	struct env *e = *state;
	int rc = run_out_of_memory(checksum_without_memory, e->snap);
	assert_int_equal(rc, 0);
}

static void test_save_never_overwrites_unasked(void **state)
{
	struct env *e = *state;
	char *dir = path_in(e, "kept"), *p = path_in(e, "kept/kept.json");
	snap_error err = { 0 };
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(write_file(p, "mine\n", 5), 0);
	assert_int_equal(snap_snapshot_save_file(p, e->snap, 0, &err), SNAP_EEXIST);
	assert_string_equal(err.source, p);
	size_t len;
	char *text = read_file(p, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "mine\n", 5);
	free(text);
	cmd_result r;
	char *ls_argv[] = { "ls", "-A", dir, NULL };
	assert_int_equal(run_cmd(&r, ls_argv, NULL), 0);
	assert_string_equal(r.out, "kept.json\n");
	cmd_result_free(&r);

	assert_int_equal(snap_snapshot_save_file(p, e->snap, SNAP_SAVE_OVERWRITE, &err), 0);
	snap_snapshot *loaded = NULL;
	assert_int_equal(snap_snapshot_load_file(&loaded, p, &err), 0);
	assert_int_equal(loaded->nregions, e->snap->nregions);
	snap_snapshot_free(loaded);
	assert_int_equal(snap_snapshot_save_file(p, e->snap, 0x80, &err), SNAP_EINVAL);
	free(p);
	free(dir);
}

/* A save or write that cannot be done says where and why. */
static void test_save_failures_say_why(void **state)
{
	struct env *e = *state;
	char *missing = path_in(e, "no/such/dir/x.json");
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_save_file(missing, e->snap, 0, &err), SNAP_EIO);
	assert_string_equal(err.source, missing);
	assert_non_null(strstr(err.message, "No such file"));
	free(missing);
	/* A full disk. */
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(snap_snapshot_write(full, e->snap, "/dev/full", &err), SNAP_EIO);
	assert_string_equal(err.source, "/dev/full");
	assert_non_null(strstr(err.message, "write failed"));
	fclose(full);
}

static void test_load_errors_name_the_file(void **state)
{
	struct env *e = *state;
	char *empty = path_in(e, "empty.json"), *bad = path_in(e, "bad.json"),
	     *cut = path_in(e, "cut.json"), *whole = path_in(e, "whole.json");
	snap_error err = { 0 };
	snap_snapshot *snap = NULL;
	assert_int_equal(write_file(empty, "", 0), 0);
	assert_int_equal(snap_snapshot_load_file(&snap, empty, &err), SNAP_EFORMAT);
	assert_string_equal(err.source, empty);
	assert_string_equal(err.message, "no snapshot in it");
	assert_null(snap);

	assert_int_equal(write_file(bad, "{\"schema\":\"other/1\"}\n", 21), 0);
	assert_int_equal(snap_snapshot_load_file(&snap, bad, &err), SNAP_EFORMAT);
	assert_string_equal(err.source, bad);

	assert_int_equal(snap_snapshot_save_file(whole, e->snap, 0, &err), 0);
	size_t len;
	char *text = read_file(whole, &len);
	assert_int_equal(write_file(cut, text, len / 2), 0);
	assert_int_equal(snap_snapshot_load_file(&snap, cut, &err), SNAP_ETRUNC);
	free(text);

	char *none = path_in(e, "none.json");
	assert_int_equal(snap_snapshot_load_file(&snap, none, &err), SNAP_EIO);
	assert_string_equal(err.source, none);
	assert_null(snap);
	free(none);
	free(empty);
	free(bad);
	free(cut);
	free(whole);
}

/* Documents appended to one stream read back one by one, then 1. */
static void test_stream_of_documents(void **state)
{
	struct env *e = *state;
	char *buf = NULL;
	size_t len = 0;
	snap_error err = { 0 };
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(snap_snapshot_write(f, e->snap, NULL, &err), 0);
	assert_int_equal(snap_snapshot_write(f, e->snap, NULL, &err), 0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	snap_snapshot *s1 = NULL, *s2 = NULL, *s3 = NULL;
	assert_int_equal(snap_snapshot_read(&s1, f, "mem", &err), 0);
	assert_int_equal(snap_snapshot_read(&s2, f, "mem", &err), 0);
	assert_int_equal(snap_snapshot_read(&s3, f, "mem", &err), 1);
	assert_int_equal(s1->nregions, e->snap->nregions);
	assert_int_equal(s2->nregions, e->snap->nregions);
	assert_null(s3);
	fclose(f);
	snap_snapshot_free(s1);
	snap_snapshot_free(s2);
	free(buf);
}

/* An edit to a saved file shows as a checksum mismatch. */
static void test_checksum_mismatch_after_edit(void **state)
{
	struct env *e = *state;
	char *p = path_in(e, "edited.json");
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_save_file(p, e->snap, 0, &err), 0);
	size_t len;
	char *text = read_file(p, &len);
	char *rss = strstr(text, "\"Rss\":");
	assert_non_null(rss);
	char *digit = rss + strlen("\"Rss\":");
	*digit = *digit == '9' ? '8' : (char)(*digit + 1);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(write_file(p, text, len), 0);
	snap_snapshot *snap = NULL;
	int rc = snap_snapshot_load_file(&snap, p, &err);
	/* The edit may break a cross-check (Rss over Size): refused then. */
	if (rc == 0)
		assert_true(snap_snapshot_checksum_mismatch(snap));
	else
		assert_int_equal(rc, SNAP_EFORMAT);
	snap_snapshot_free(snap);
	free(text);
	free(p);
}

/* snap_version() is what mapsnap --version prints and what the header says. */
static void test_version_is_one(void **state)
{
	(void)state;
	assert_string_equal(snap_version(), SNAP_VERSION_STRING);
	cmd_result r = run_mapsnap_ok(0, "--version", NULL);
	char want[64];
	snprintf(want, sizeof(want), "mapsnap %s\n", snap_version());
	assert_string_equal(r.out, want);
	cmd_result_free(&r);
}

/* Options of a version the library does not know are refused, naming
 * the struct; the init functions refuse to fill one in. */
static void test_options_versions(void **state)
{
	struct env *e = *state;
	snap_error err = { 0 };
	snap_diff_opts d;
	assert_int_equal(snap_diff_opts_init(&d, SNAP_DIFF_OPTS_VERSION + 1), SNAP_EINVAL);
	assert_int_equal(snap_diff_opts_init(&d, SNAP_DIFF_OPTS_VERSION), 0);
	assert_int_equal(d.version, SNAP_DIFF_OPTS_VERSION);
	assert_int_equal(d.metric, SNAP_M_RSS);
	snap_diff *diff = NULL;
	assert_int_equal(snap_diff_new(&diff, e->snap, e->snap, &d, &err), 0);
	assert_int_equal(diff->nchanges, 0);
	snap_diff_free(diff);
	diff = NULL;
	d.version = 0; /* a struct the caller never initialised */
	assert_int_equal(snap_diff_new(&diff, e->snap, e->snap, &d, &err), SNAP_EINVAL);
	assert_null(diff);
	assert_string_equal(err.source, "snap_diff_opts");
	assert_non_null(strstr(err.message, "version 0"));

	snap_capture_opts c = { .no_rollup = true }; /* version 0 */
	snap_snapshot *snap = NULL;
	assert_int_equal(snap_capture(&snap, e->h.pid, &c, &err), SNAP_EINVAL);
	assert_string_equal(err.source, "snap_capture_opts");
	assert_int_equal(snap_capture_opts_init(&c, SNAP_CAPTURE_OPTS_VERSION), 0);
	c.no_rollup = true;
	assert_int_equal(snap_capture(&snap, e->h.pid, &c, &err), 0);
	assert_int_equal(snap->nrollup, 0);
	snap_snapshot_free(snap);

	snap_summary_opts so;
	snap_check_opts co;
	snap_trend_opts to;
	snap_file_scan_opts fo;
	assert_int_equal(snap_summary_opts_init(&so, 2), SNAP_EINVAL);
	assert_int_equal(snap_check_opts_init(&co, 0), SNAP_EINVAL);
	assert_int_equal(snap_trend_opts_init(&to, 7), SNAP_EINVAL);
	assert_int_equal(snap_file_scan_opts_init(&fo, 9), SNAP_EINVAL);
	assert_int_equal(snap_summary_opts_init(&so, SNAP_SUMMARY_OPTS_VERSION), 0);
	so.version = 3;
	snap_summary *sum = NULL;
	assert_int_equal(snap_summary_new(&sum, e->snap, &so, &err), SNAP_EINVAL);
	assert_string_equal(err.source, "snap_summary_opts");
	assert_int_equal(snap_check_opts_init(&co, SNAP_CHECK_OPTS_VERSION), 0);
	co.version = 3;
	snap_check *chk = NULL;
	assert_int_equal(snap_check_new(&chk, e->snap, &co, &err), SNAP_EINVAL);
	assert_string_equal(err.source, "snap_check_opts");
	assert_int_equal(snap_trend_opts_init(&to, SNAP_TREND_OPTS_VERSION), 0);
	to.version = 3;
	snap_trend *trend = NULL;
	snap_snapshot *two[] = { e->snap, e->snap };
	assert_int_equal(snap_trend_new(&trend, two, 2, &to, &err), SNAP_EINVAL);
	assert_string_equal(err.source, "snap_trend_opts");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load_round_trip),
		cmocka_unit_test(test_checksum_out_of_memory),
		cmocka_unit_test(test_save_never_overwrites_unasked),
		cmocka_unit_test(test_save_failures_say_why),
		cmocka_unit_test(test_load_errors_name_the_file),
		cmocka_unit_test(test_stream_of_documents),
		cmocka_unit_test(test_checksum_mismatch_after_edit),
		cmocka_unit_test(test_version_is_one),
		cmocka_unit_test(test_options_versions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
