/* The bad-input corpus (tests/bad-inputs/, plus large cases made here)
 * through every command that reads snapshots: exit 2 with one line naming
 * the file and the problem, and no output file; or, for an edited
 * snapshot, a warning and the work done. Also: captures of a process
 * whose map churns all the time are always loadable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

#define CORPUS "tests/bad-inputs"
#define GOOD "fixtures/ref/sleep/proc.smaps"

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->dir = make_tmpdir();
	*state = fx;
	return fx->dir ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	remove_tree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static bool one_line(const char *text)
{
	const char *nl = strchr(text, '\n');
	return nl && nl[1] == '\0';
}

/* A refused input: status 2, one "mapsnap: ..." line naming the file. */
static void expect_refused(const cmd_result *res, const char *path,
			   const char *what)
{
	if (res->status != 2 || !one_line(res->err) ||
	    strncmp(res->err, "mapsnap: ", 9) != 0 || !strstr(res->err, path))
		fail_msg("%s on %s: status %d, stderr: %s", what, path, res->status,
			 res->err);
}

/* Every reading command, "@F" standing for the bad file and "@O" for an
 * output file that must never appear. */
static const char *const commands[][8] = {
	{ "convert", "--to", "smaps", "@F", "-o", "@O" },
	{ "show", "-x", "@F" },
	{ "diff", "@F", GOOD, "-o", "@O" },
	{ "diff", GOOD, "@F" },
	{ "capture", "--from-smaps", "@F", "-o", "@O" },
	{ "summary", "@F" },
	{ "check", "@F" },
	{ "trend", "@F" },
	{ "report", "@F", "-o", "@O" },
	{ "report", GOOD, "@F", "-o", "@O" },
};

static void run_command(cmd_result *res, const char *const *cmd, const char *file,
			const char *out)
{
	char *argv[12];
	int n = 0;
	argv[n++] = (char *)mapsnap_bin();
	for (int i = 0; i < 8 && cmd[i]; i++)
		argv[n++] = (char *)(strcmp(cmd[i], "@F") == 0 ? file
				     : strcmp(cmd[i], "@O") == 0 ? out : cmd[i]);
	argv[n] = NULL;
	assert_int_equal(run_cmd(res, argv, NULL), 0);
}

/* Every reading command on one bad file. */
static void refuse_everywhere(struct fixture *fx, const char *path)
{
	char *out;
	assert_true(asprintf(&out, "%s/out", fx->dir) > 0);
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		cmd_result res;
		run_command(&res, commands[i], path, out);
		expect_refused(&res, path, commands[i][0]);
		cmd_result_free(&res);
	}
	if (file_exists(out))
		fail_msg("an output file was left for %s", path);
	free(out);
}

static void test_corpus_refused(void **state)
{
	struct fixture *fx = *state;
	DIR *d = opendir(CORPUS);
	assert_non_null(d);
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "checksum-mismatch.json") == 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), CORPUS "/%s", de->d_name);
		refuse_everywhere(fx, path);
		n++;
	}
	closedir(d);
	assert_true(n >= 15);
}

/* Cases too large to keep in the tree, made here. */
static void test_large_cases_refused(void **state)
{
	struct fixture *fx = *state;
	char *path;
	/* A 1 MiB mapping name. */
	assert_true(asprintf(&path, "%s/long-path.smaps", fx->dir) > 0);
	size_t len = 1 << 20;
	char *text = malloc(len + 256);
	int n = sprintf(text, "00400000-00401000 r-xp 00000000 08:01 42 /");
	memset(text + n, 'a', len);
	strcpy(text + n + len, "\nSize:   4 kB\nVmFlags: rd \n");
	assert_int_equal(write_file(path, text, strlen(text)), 0);
	refuse_everywhere(fx, path);
	free(path);
	/* JSON nested 100,000 deep. */
	assert_true(asprintf(&path, "%s/deep.json", fx->dir) > 0);
	memset(text, '[', 100000);
	memset(text + 100000, ']', 100000);
	assert_int_equal(write_file(path, text, 200000), 0);
	refuse_everywhere(fx, path);
	free(path);
	free(text);
}

/* An edited snapshot still loads, with one warning, and the work is done. */
static void test_checksum_mismatch_warns(void **state)
{
	struct fixture *fx = *state;
	const char *path = CORPUS "/checksum-mismatch.json";
	char *out;
	assert_true(asprintf(&out, "%s/edited.smaps", fx->dir) > 0);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "smaps", path, "-o",
				     out, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_true(one_line(res.err));
	assert_non_null(strstr(res.err, "edited or corrupted"));
	assert_true(file_exists(out));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "show", path, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.err, "edited or corrupted"));
	cmd_result_free(&res);
	free(out);
}

/* A snapshot without a checksum (made by hand, or stripped) loads with
 * one warning per file, however many documents it holds; --no-checksum,
 * taken by every reading command, silences it. */
static void test_missing_checksum_warns_once(void **state)
{
	struct fixture *fx = *state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "json", GOOD, NULL), 0);
	assert_int_equal(res.status, 0);
	char *sum = strstr(res.out, ",\"checksum\":");
	assert_non_null(sum);
	strcpy(sum, "}\n");
	const char *rest = strchr(res.out, ',');
	char *path, *three = NULL;
	assert_true(asprintf(&path, "%s/nosum.json", fx->dir) > 0);
	/* Three documents a second apart, so trend and report take them too. */
	assert_true(asprintf(&three, "{\"schema\":\"mapsnap.snapshot/1\",\"captured_at\":"
			     "\"2026-11-22T02:00:01.000Z\"%s{\"schema\":\"mapsnap.snapshot/1\","
			     "\"captured_at\":\"2026-11-22T02:00:02.000Z\"%s{\"schema\":"
			     "\"mapsnap.snapshot/1\",\"captured_at\":\"2026-11-22T02:00:03.000Z\"%s",
			     rest, rest, rest) > 0);
	assert_int_equal(write_file(path, three, strlen(three)), 0);
	free(three);
	cmd_result_free(&res);
	static const char *const readers[][8] = {
		{ "show", "@F" }, { "summary", "@F" }, { "check", "@F" },
		{ "convert", "--to", "smaps", "@F" }, { "trend", "@F" },
		{ "diff", "@F", GOOD }, { "report", "@F", "-o", "-" },
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(*readers); i++) {
		run_command(&res, readers[i], path, NULL);
		if (res.status != 0 || !one_line(res.err) || !strstr(res.err, path) ||
		    !strstr(res.err, "no checksum"))
			fail_msg("%s: status %d, stderr: %s", readers[i][0], res.status, res.err);
		cmd_result_free(&res);
		const char *quiet[10] = { readers[i][0], "--no-checksum" };
		for (int k = 1; k < 8 && readers[i][k]; k++)
			quiet[k + 1] = readers[i][k];
		run_command(&res, quiet, path, NULL);
		if (res.status != 0 || res.err[0])
			fail_msg("%s --no-checksum: status %d, stderr: %s", readers[i][0],
				 res.status, res.err);
		cmd_result_free(&res);
	}
	free(path);
}

/* A series whose writer was killed mid-append: readers keep the complete
 * snapshots and warn once. */
static void test_cut_series_warns(void **state)
{
	struct fixture *fx = *state;
	char *path;
	assert_true(asprintf(&path, "%s/series.json", fx->dir) > 0);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "json", GOOD, NULL), 0);
	assert_int_equal(res.status, 0);
	size_t doc = res.out_len;
	char *series = malloc(doc * 3);
	memcpy(series, res.out, doc);
	memcpy(series + doc, res.out, doc);
	memcpy(series + 2 * doc, res.out, doc / 2); /* the third, cut off */
	assert_int_equal(write_file(path, series, doc * 2 + doc / 2), 0);
	cmd_result_free(&res);
	free(series);
	static const char *const readers[][8] = {
		{ "show", "@F" }, { "summary", "@F" }, { "convert", "--to", "smaps", "@F" },
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(*readers); i++) {
		run_command(&res, readers[i], path, NULL);
		if (res.status != 0 || !one_line(res.err) || !strstr(res.err, path))
			fail_msg("%s: status %d, stderr: %s", readers[i][0], res.status, res.err);
		cmd_result_free(&res);
	}
	free(path);
}

/* 100 captures of a process that maps, splits and unmaps without pause:
 * each one a complete snapshot whose checksum holds. */
static void test_captures_under_churn(void **state)
{
	struct fixture *fx = *state;
	helper_proc churn;
	char *argv[] = { (char *)helper_path("churn"), NULL };
	assert_int_equal(helper_start(&churn, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", churn.pid);
	for (int i = 0; i < 100; i++) {
		char *out;
		assert_true(asprintf(&out, "%s/churn-%03d.json", fx->dir, i) > 0);
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "capture", pid, "-o", out, NULL), 0);
		if (res.status != 0)
			fail_msg("capture %d: %s", i, res.err);
		cmd_result_free(&res);
		FILE *f = fopen(out, "r");
		assert_non_null(f);
		snap_snapshot *snap = NULL;
		snap_error err = { 0 };
		if (fmt_json_load(&snap, f, out, &err) != 0)
			fail_msg("capture %d does not load: %s", i, err.message);
		assert_false(fmt_checksum_mismatch(snap));
		assert_true(snap->nregions > 10);
		snap_snapshot_free(snap);
		fclose(f);
		unlink(out);
		free(out);
	}
	helper_stop(&churn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_corpus_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_cases_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_mismatch_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_series_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_checksum_warns_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_captures_under_churn, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
