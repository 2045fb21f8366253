/* mapsnap capture --every and mapsnap trend end to end, on the real binary
 * and a real workload (tests/helpers/leaker.c in --step mode: [heap] leaks
 * steadily, one anonymous mapping grows for its first 40 ticks then stays,
 * another swings up and down). A real --every capture of 12 snapshots,
 * the leaker ticked ten times after each one is written (an inotify event,
 * not a clock), then trend must flag exactly the heap. Also: SIGINT and
 * SIGTERM during a capture, the process exiting, --for, a series cut off
 * mid-document, single snapshots given out of order, the gate's exit
 * codes, the progress line on a terminal, usage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

#define MIB8 (8ull << 20)

struct fixture {
	char *dir;
	char series[4200];    /* the 3 s capture of the leaker */
	cmd_result capture;   /* how that capture ended */
	long pid;
	uint64_t plateau, fluct; /* the two 8 MiB mappings, lower first */
};

static struct fixture fx;

static const char *in_dir(const char *name)
{
	static char path[4][4200];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", fx.dir, name);
	return p;
}

static void start_leaker(helper_proc *h)
{
	char *argv[] = { (char *)helper_path("leaker"), NULL };
	assert_int_equal(helper_start(h, argv), 0);
}

/* The leaker's two 8 MiB anonymous rw-p mappings, from /proc/PID/maps. */
static void find_mappings(long pid, uint64_t *low, uint64_t *high)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	char *maps = read_file(path, NULL);
	assert_non_null(maps);
	int found = 0;
	for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long s, e;
		char perms[8];
		int n = 0;
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s%n", &s, &e, perms, &n) < 3)
			continue;
		bool named = line[n] && strspn(line + n, " ") < strlen(line + n);
		if (e - s != MIB8 || strcmp(perms, "rw-p") != 0 || named)
			continue;
		if (found++ == 0)
			*low = s;
		else
			*high = s;
	}
	free(maps);
	assert_int_equal(found, 2);
}

/* Complete documents in a series file; *cut says whether it ends in a
 * cut-off one. */
static size_t count_snapshots(const char *path, bool *cut)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	*cut = false;
	if (!f)
		return 0;
	for (;;) {
		snap_snapshot *snap;
		int rc = fmt_json_load(&snap, f, path, NULL);
		if (rc != 0) {
			*cut = rc == SNAP_ETRUNC;
			if (rc < 0 && rc != SNAP_ETRUNC)
				fail_msg("%s: snapshot %zu does not load (%d)", path, n + 1, rc);
			break;
		}
		snap_snapshot_free(snap);
		n++;
	}
	fclose(f);
	return n;
}

/* Starts mapsnap with stdout and stderr into files; returns its pid. */
static pid_t spawn_mapsnap(char *const args[], const char *out, const char *err)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)mapsnap_bin();
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fi = open("/dev/null", O_RDONLY);
		dup2(fi, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		/* Whatever this test inherited (`make check &` ignores SIGINT). */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The series of the trend tests: 12 snapshots 300 ms apart; after each
 * is written, ten ticks of the leaker (a few ms: well inside the
 * interval). A busy machine delays snapshots, it does not change them. */
static int setup(void **state)
{
	(void)state;
	helper_proc h;
	fx.dir = make_tmpdir();
	if (!fx.dir)
		return -1;
	snprintf(fx.series, sizeof(fx.series), "%s/series.json", fx.dir);
	char *argv[] = { (char *)helper_path("leaker"), "--step", NULL };
	if (helper_start(&h, argv) != 0)
		return -1;
	fx.pid = h.pid;
	find_mappings(fx.pid, &fx.plateau, &fx.fluct);
	int rc = capture_in_lockstep(&fx.capture, &h, fx.series, "300ms", 12, "10");
	helper_stop(&h);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	cmd_result_free(&fx.capture);
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- the series and its trend ---- */

/* Stderr of a series that went well: nothing (not a terminal: no
 * progress line), or on a busy machine one word on ticks skipped. */
static void assert_quiet(const char *err)
{
	if (*err && (!strstr(err, " skipped: a capture took longer than the "
				  "interval\n") || strchr(err, '\n') != strrchr(err, '\n')))
		fail_msg("stderr: %s", err);
}

static void every_capture_writes_a_series(void **state)
{
	(void)state;
	if (fx.capture.status != 0)
		fail_msg("capture exited %d: %s", fx.capture.status, fx.capture.err);
	char want[4300];
	snprintf(want, sizeof(want), "%s\n", fx.series);
	assert_string_equal(fx.capture.out, want);
	assert_quiet(fx.capture.err);
	bool cut;
	size_t n = count_snapshots(fx.series, &cut);
	assert_false(cut);
	assert_int_equal(n, 12);
	FILE *f = fopen(fx.series, "r");
	char prev[64] = "";
	for (size_t i = 0; i < n; i++) {
		snap_snapshot *snap;
		assert_int_equal(fmt_json_load(&snap, f, fx.series, NULL), 0);
		assert_int_equal(snap->process.pid, fx.pid);
		assert_true(strcmp(prev, snap->captured_at) < 0);
		snprintf(prev, sizeof(prev), "%s", snap->captured_at);
		snap_snapshot_free(snap);
	}
	fclose(f);
}

/* --for 1s at 100 ms: a snapshot at once, then one at each tick within
 * the second (the grid has 11), and the series ends by itself. */
static void every_for_ends_by_itself(void **state)
{
	(void)state;
	helper_proc h;
	char pid[16];
	start_leaker(&h);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	const char *path = in_dir("for.json");
	cmd_result res = run_mapsnap_ok(0, "capture", pid, "--every", "100ms", "--for", "1s",
					"-o", path, NULL);
	helper_stop(&h);
	char want[4300];
	snprintf(want, sizeof(want), "%s\n", path);
	assert_string_equal(res.out, want);
	assert_quiet(res.err);
	bool cut;
	size_t n = count_snapshots(path, &cut);
	assert_false(cut);
	assert_true(n >= 1 && n <= 11);
	cmd_result_free(&res);
}

static json_t *trend_json(const char *extra, const char *path)
{
	cmd_result res;
	if (extra)
		assert_int_equal(run_mapsnap(&res, NULL, "trend", "--format", "json", extra,
					     path, NULL), 0);
	else
		assert_int_equal(run_mapsnap(&res, NULL, "trend", "--format", "json", path,
					     NULL), 0);
	if (res.status != 0)
		fail_msg("trend exited %d: %s", res.status, res.err);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	if (!doc)
		fail_msg("trend JSON: %s", jerr.text);
	cmd_result_free(&res);
	return doc;
}

static json_t *region_at(json_t *doc, uint64_t start)
{
	char hex[32];
	snprintf(hex, sizeof(hex), "%08llx", (unsigned long long)start);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(doc, "regions"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "start")), hex) == 0)
			return r;
	fail_msg("no region at %s in the trend", hex);
	return NULL;
}

static const char *verdict_of(json_t *r)
{
	return json_string_value(json_object_get(r, "verdict"));
}

static void trend_flags_exactly_the_leak(void **state)
{
	(void)state;
	json_t *doc = trend_json(NULL, fx.series);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")),
			    "mapsnap.trend/1");
	assert_int_equal(json_integer_value(json_object_get(doc, "leak_suspects")), 1);
	json_t *regions = json_object_get(doc, "regions");
	size_t suspects = 0, i;
	json_t *r;
	json_array_foreach(regions, i, r)
		suspects += json_is_true(json_object_get(r, "suspect"));
	assert_int_equal(suspects, 1);
	json_t *first = json_array_get(regions, 0);
	assert_true(json_is_true(json_object_get(first, "suspect")));
	assert_string_equal(json_string_value(json_object_get(first, "path")), "[heap]");
	assert_string_equal(json_string_value(json_object_get(first, "kind")), "heap");
	json_t *rss = json_object_get(first, "Rss");
	assert_true(json_real_value(json_object_get(rss, "slope_per_min")) > 0 ||
		    json_integer_value(json_object_get(rss, "slope_per_min")) > 0);
	assert_int_equal(json_integer_value(json_object_get(rss, "shrank")), 0);
	assert_string_equal(verdict_of(region_at(doc, fx.plateau)), "plateau");
	assert_string_equal(verdict_of(region_at(doc, fx.fluct)), "unsteady");
	/* One process seen over and over: matched by address every step. */
	json_t *m = json_object_get(doc, "matching");
	assert_int_equal(json_integer_value(json_object_get(m, "identity_steps")), 0);
	json_decref(doc);
}

static void trend_text_and_markdown(void **state)
{
	(void)state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "trend", fx.series, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "LEAK SUSPECTS: 1\n"));
	assert_non_null(strstr(res.out, "[heap]"));
	assert_non_null(strstr(res.out, "█")); /* the sparkline reaches its top */
	assert_non_null(strstr(res.out, "plateau"));
	assert_null(strstr(res.out, "\033[")); /* no colours off a terminal */
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--ascii", fx.series, NULL), 0);
	assert_null(strstr(res.out, "█"));
	assert_non_null(strstr(res.out, "#"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--format", "markdown",
				     fx.series, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "**1 leak suspect**"));
	assert_non_null(strstr(res.out, "\\[heap\\]"));
	cmd_result_free(&res);
}

static int gate_status(const char *expr, char **err)
{
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--fail-if", expr, fx.series,
				     NULL), 0);
	int status = res.status;
	if (err)
		*err = strdup(res.err);
	cmd_result_free(&res);
	return status;
}

static void trend_gate_exit_codes(void **state)
{
	(void)state;
	char *err;
	assert_int_equal(gate_status("leak-suspects>0", &err), 1);
	assert_non_null(strstr(err, "gate failed: leak-suspects>0: 1 leak suspect ([heap] +"));
	free(err);
	assert_int_equal(gate_status("leak-suspects>1", NULL), 0);
	/* The heap grows 160K a snapshot, 300 ms apart (about 30M/min); the
	 * anon mappings never change Size. */
	assert_int_equal(gate_status("heap.rss.slope>+1M/min", NULL), 1);
	assert_int_equal(gate_status("anon.size.slope>1M/min", NULL), 0);
	assert_int_equal(gate_status("regions.slope>0/min", NULL), 0);
	assert_int_equal(gate_status("heap.rss>+256K", NULL), 1); /* a diff term */
	assert_int_equal(gate_status("pss.slope>1M/min", &err), 2);
	assert_non_null(strstr(err, "no slope of 'pss'"));
	free(err);
}

static void trend_of_single_snapshots(void **state)
{
	(void)state;
	/* Six snapshots as six files, given newest first. */
	FILE *f = fopen(fx.series, "r");
	char *paths[6];
	for (int i = 0; i < 6; i++) {
		snap_snapshot *snap;
		assert_int_equal(fmt_json_load(&snap, f, fx.series, NULL), 0);
		char name[32];
		snprintf(name, sizeof(name), "single%d.json", i);
		paths[5 - i] = strdup(in_dir(name));
		FILE *out = fopen(paths[5 - i], "w");
		assert_int_equal(fmt_json_write(out, snap), 0);
		fclose(out);
		snap_snapshot_free(snap);
	}
	fclose(f);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--format", "json", paths[0],
				     paths[1], paths[2], paths[3], paths[4], paths[5], NULL), 0);
	assert_int_equal(res.status, 0);
	json_t *doc = json_loads(res.out, 0, NULL);
	json_t *snaps = json_object_get(doc, "snapshots");
	assert_int_equal(json_array_size(snaps), 6);
	for (size_t i = 1; i < 6; i++)
		assert_true(strcmp(json_string_value(json_object_get(
					   json_array_get(snaps, i - 1), "captured_at")),
				   json_string_value(json_object_get(
					   json_array_get(snaps, i), "captured_at"))) < 0);
	assert_string_equal(json_string_value(json_object_get(doc, "label")), "6 inputs");
	json_decref(doc);
	cmd_result_free(&res);
	for (int i = 0; i < 6; i++)
		free(paths[i]);
}

/* ---- stopping a capture ---- */


/* Waits until path holds n whole snapshots (an inotify event). */
static void wait_for_snapshots(const char *path, size_t n, pid_t writer)
{
	if (!series_wait(path, n, writer))
		fail_msg("%s: its writer ended before it held %zu snapshots", path, n);
}

static void assert_whole_series(const char *path, size_t at_least)
{
	bool cut;
	size_t n = count_snapshots(path, &cut);
	assert_false(cut);
	assert_true(n >= at_least);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "trend", path, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.err, ""); /* no warning: nothing was cut off */
	cmd_result_free(&res);
}

static void signals_stop_cleanly(void **state)
{
	(void)state;
	static const struct {
		int sig;
		const char *name;
	} sigs[] = { { SIGINT, "SIGINT" }, { SIGTERM, "SIGTERM" } };
	for (size_t k = 0; k < sizeof(sigs) / sizeof(*sigs); k++) {
		helper_proc h;
		char pid[16], name[32];
		start_leaker(&h);
		snprintf(pid, sizeof(pid), "%d", h.pid);
		snprintf(name, sizeof(name), "sig%zu.json", k);
		char *path = strdup(in_dir(name)), *err = strdup(in_dir("sig.err"));
		char *args[] = { "capture", pid, "--every", "100ms", "-o", path, NULL };
		pid_t cap = spawn_mapsnap(args, in_dir("sig.out"), err);
		wait_for_snapshots(path, 3, cap);
		kill(cap, sigs[k].sig);
		assert_int_equal(wait_exit(cap), 0);
		helper_stop(&h);
		char *said = read_file(err, NULL);
		char want[128];
		snprintf(want, sizeof(want), "capture: stopped by %s;", sigs[k].name);
		if (!strstr(said, want))
			fail_msg("stderr: %s", said);
		assert_whole_series(path, 3);
		free(said);
		free(path);
		free(err);
	}
}

static void process_exit_stops_cleanly(void **state)
{
	(void)state;
	helper_proc h;
	char pid[16];
	start_leaker(&h);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	char *path = strdup(in_dir("exit.json")), *err = strdup(in_dir("exit.err"));
	char *args[] = { "capture", pid, "--every", "100ms", "--count", "1000", "-o", path,
			 NULL };
	pid_t cap = spawn_mapsnap(args, in_dir("exit.out"), err);
	wait_for_snapshots(path, 2, cap);
	helper_stop(&h); /* closes its stdin: the leaker exits */
	assert_int_equal(wait_exit(cap), 0);
	char *said = read_file(err, NULL), want[64];
	snprintf(want, sizeof(want), "capture: pid %s exited;", pid);
	if (!strstr(said, want))
		fail_msg("stderr: %s", said);
	assert_whole_series(path, 2);
	free(said);
	free(path);
	free(err);
}

/* ---- a series cut off in its last document ---- */

static void cut_series_keeps_complete_snapshots(void **state)
{
	(void)state;
	/* A series of a leaker that stays up, its last snapshot cut off. */
	helper_proc h;
	char pid[16];
	start_leaker(&h);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	const char *cut_path = in_dir("cut.json");
	cmd_result res = run_mapsnap_ok(0, "capture", pid, "--every", "10ms", "--count", "3",
					"-o", cut_path, NULL);
	cmd_result_free(&res);
	size_t len;
	char *text = read_file(cut_path, &len);
	assert_int_equal(write_file(cut_path, text, len - 3000), 0);
	free(text);
	bool cut;
	assert_int_equal(count_snapshots(cut_path, &cut), 2);
	assert_true(cut);
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--format", "json", cut_path,
				     NULL), 0);
	assert_int_equal(res.status, 0);
	/* One warning, one line, naming the file. */
	assert_non_null(strstr(res.err, "cut off"));
	assert_non_null(strstr(res.err, cut_path));
	assert_ptr_equal(strchr(res.err, '\n'), res.err + strlen(res.err) - 1);
	json_t *doc = json_loads(res.out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "snapshots")), 2);
	json_decref(doc);
	cmd_result_free(&res);
	/* Appending to it (the same process) trims the cut-off document
	 * first. */
	res = run_mapsnap_ok(0, "capture", pid, "--every", "10ms", "--count", "2", "-o",
			     cut_path, NULL);
	assert_non_null(strstr(res.err, "trimmed a cut-off snapshot"));
	cmd_result_free(&res);
	assert_int_equal(count_snapshots(cut_path, &cut), 4);
	assert_false(cut);
	/* Something that is not a series is never appended to. */
	const char *other = in_dir("notes.txt");
	assert_int_equal(write_file(other, "my notes\n", 9), 0);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", pid, "--every", "1s",
				     "--count", "1", "-o", other, NULL), 0);
	helper_stop(&h);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "not a snapshot series"));
	cmd_result_free(&res);
	char *kept = read_file(other, NULL);
	assert_string_equal(kept, "my notes\n");
	free(kept);
}

/* ---- the progress line on a terminal ---- */

static void progress_line_on_a_tty(void **state)
{
	(void)state;
	helper_proc h;
	char pid[16];
	start_leaker(&h);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	char *slave = strdup(ptsname(master));
	const char *path = in_dir("tty.json");
	pid_t cap = fork();
	assert_true(cap >= 0);
	if (cap == 0) {
		setsid();
		int fd = open(slave, O_RDWR);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(fd, 2);
		execl(mapsnap_bin(), mapsnap_bin(), "capture", pid, "--every", "100ms",
		      "--count", "3", "-o", path, (char *)NULL);
		_exit(127);
	}
	char buf[8192];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO once the child closed the terminal */
		len += (size_t)n;
	}
	buf[len] = '\0';
	assert_int_equal(wait_exit(cap), 0);
	helper_stop(&h);
	close(master);
	free(slave);
	char want[64];
	snprintf(want, sizeof(want), "3 snapshots of pid %s", pid);
	if (!strstr(buf, "\r\033[K") || !strstr(buf, want) || !strstr(buf, "Rss "))
		fail_msg("terminal got: %s", buf);
}

/* ---- usage ---- */

static void usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *args[10];
		const char *words;
	} cases[] = {
		{ { "capture", "1", "--count", "3", "-o", "x.json" }, "go with --every" },
		{ { "capture", "1", "--every", "1s" }, "needs -o FILE" },
		{ { "capture", "1", "--every", "1s", "--count", "2", "--for", "5s" },
		  "not both" },
		{ { "capture", "1", "--every", "soon", "-o", "x.json" }, "duration" },
		{ { "capture", "1", "2", "--every", "1s", "-o", "x.json" }, "one PID" },
		{ { "capture", "--every", "1s", "-o", "x.json", "--count", "0", "1" },
		  "--count" },
		{ { "trend" }, "give the series files" },
		{ { "trend", "--min-slope", "5M", "x" }, "--min-slope" },
		{ { "trend", "--metric", "pss", "x" }, "--metric" },
		{ { "trend", "--bogus", "x" }, "unknown option" },
		{ { "trend", "/nonexistent/series.json" }, "/nonexistent/series.json" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *argv[12];
		int n = 0;
		argv[n++] = (char *)mapsnap_bin();
		for (int k = 0; cases[i].args[k]; k++)
			argv[n++] = (char *)cases[i].args[k];
		argv[n] = NULL;
		cmd_result res;
		assert_int_equal(run_cmd(&res, argv, NULL), 0);
		if (res.status != 2 || !strstr(res.err, cases[i].words) ||
		    strncmp(res.err, "mapsnap: ", 9) != 0)
			fail_msg("case %zu: status %d, stderr: %s", i, res.status, res.err);
		cmd_result_free(&res);
	}
	/* One snapshot is not a trend. */
	const char *one = in_dir("one.json");
	FILE *f = fopen(fx.series, "r"), *out = fopen(one, "w");
	snap_snapshot *snap;
	assert_int_equal(fmt_json_load(&snap, f, fx.series, NULL), 0);
	assert_int_equal(fmt_json_write(out, snap), 0);
	snap_snapshot_free(snap);
	fclose(f);
	fclose(out);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "trend", one, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "two or more snapshots"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "trend", "--help", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: mapsnap trend"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--every", "1s", "--help",
				     NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "--every DURATION"));
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_capture_writes_a_series),
		cmocka_unit_test(every_for_ends_by_itself),
		cmocka_unit_test(trend_flags_exactly_the_leak),
		cmocka_unit_test(trend_text_and_markdown),
		cmocka_unit_test(trend_gate_exit_codes),
		cmocka_unit_test(trend_of_single_snapshots),
		cmocka_unit_test(signals_stop_cleanly),
		cmocka_unit_test(process_exit_stops_cleanly),
		cmocka_unit_test(cut_series_keeps_complete_snapshots),
		cmocka_unit_test(progress_line_on_a_tty),
		cmocka_unit_test(usage_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
