/* mapsnap report end to end: the real binary on live helper processes
 * (demo, suspicious, leaker, varied_maps, manymaps), each page opened in
 * headless Chromium from a file:// URL, and the DOM it drew checked
 * against what libsnap and the other subcommands say about the same
 * snapshots: regions, kinds, findings, changes, suspects; filters set
 * through the URL's #fragment and the CLI; hostile paths shown as text.
 * A screenshot of each view is saved under BUILD/test-output/.
 * The page checks that need no browser (one self-contained file, the
 * embedded data escaped and complete, errors) run without Chromium. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "util.h"

#define HOSTILE_FIXTURE "fixtures/smaps/hostile-paths.smaps"
/* Page size of the region table and the treemap's budget of single
 * rectangles (formats/html/report.js). */
#define TABLE_PAGE 100
#define MAX_RECTS 2000
#define BIG_REGIONS 60000

static struct {
	char *dir;
	char before[4200], after[4200]; /* demo: before and after grow+threads */
	char sus_a[4200], sus_b[4200];  /* suspicious: before and after */
	char series[4200];              /* leaker, captured --every */
	char zoo[4200];                 /* fixtures/ref/zoo: every kind of no-access region */
	char kinds_a[4200], kinds_b[4200]; /* stages: before and after a thread and a reservation */
	unsigned long reservation;      /* where the reservation starts */
	char born[4200];                /* stages: five 8M regions born one by one */
	const char *chromium;           /* NULL: the browser tests skip */
	char shots[4200];               /* where screenshots go */
	int runs;                       /* browser runs, for fresh profiles */
} fx;

/* ---- running things ---- */

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

static const char *find_chromium(void)
{
	static char found[4200];
	const char *env = getenv("CHROMIUM");
	if (env && *env)
		return executable(env) ? env : NULL;
	const char *path = getenv("PATH");
	static const char *const names[] = { "chromium", "chromium-browser" };
	for (size_t n = 0; n < 2; n++) {
		const char *dir = path ? path : "/usr/bin";
		while (*dir) {
			size_t len = strcspn(dir, ":");
			snprintf(found, sizeof(found), "%.*s/%s", (int)len, dir, names[n]);
			if (len && executable(found))
				return found;
			dir += len + (dir[len] == ':');
		}
	}
	return NULL;
}

static void need_chromium(void)
{
	if (!fx.chromium) {
		print_message("chromium not installed (make deps installs it): "
			      "browser checks skipped\n");
		skip();
	}
}

static void report(const char *out, const char *in1, const char *in2)
{
	cmd_result res = run_mapsnap_ok(0, "report", "-f", "-o", out, in1, in2, NULL);
	cmd_result_free(&res);
}

/* Opens file#fragment in headless Chromium. With shot, saves a
 * screenshot there; otherwise returns the DOM after the page's script
 * ran (malloc'd). */
static char *browse(const char *file, const char *fragment, const char *shot)
{
	char url[8600], profile[4300], out[4400];
	snprintf(url, sizeof(url), "file://%s%s%s", file, fragment ? "#" : "",
		 fragment ? fragment : "");
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile-%d", fx.dir,
		 fx.runs++);
	snprintf(out, sizeof(out), "--screenshot=%s", shot ? shot : "");
	/* No time limit of its own: on a busy machine the 60,000-region page
	 * takes minutes, and a limit here failed it (tests/run.sh ends a
	 * binary that really hangs). */
	char *argv[] = {
		(char *)fx.chromium, "--headless", "--no-sandbox",
		"--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-quic",
		"--hide-scrollbars", profile, shot ? "--window-size=1280,1600" : "--dump-dom",
		shot ? out : url, shot ? url : NULL, NULL,
	};
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("chromium %s: exit %d: %s", url, res.status, res.err);
	char *dom = res.out;
	free(res.err);
	if (!shot && !strstr(dom, "data-ready=\"1\""))
		fail_msg("%s: the page did not finish drawing: %.400s", url,
			 strstr(dom, "data-error") ? strstr(dom, "data-error") : dom);
	return dom;
}

/* Screenshot of one view (at a #fragment, or NULL), checked to be a PNG
 * image. */
static void screenshot_at(const char *page, const char *fragment, const char *name)
{
	char shot[4400];
	snprintf(shot, sizeof(shot), "%s/report-%s.png", fx.shots, name);
	unlink(shot);
	free(browse(page, fragment, shot));
	size_t len = 0;
	char *png = read_file(shot, &len);
	assert_non_null(png);
	assert_true(len > 10000);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	free(png);
	print_message("screenshot: %s\n", shot);
}

static void screenshot(const char *page, const char *name)
{
	screenshot_at(page, NULL, name);
}

/* ---- reading the DOM ---- */

/* The start tag of the element with this id (up to its '>'). */
static const char *tag_of(const char *dom, const char *id, size_t *len)
{
	char needle[128];
	snprintf(needle, sizeof(needle), " id=\"%s\"", id);
	const char *at = strstr(dom, needle);
	if (!at)
		fail_msg("no element #%s in the page", id);
	const char *open = at;
	while (open > dom && *open != '<')
		open--;
	*len = (size_t)(strchr(at, '>') - open);
	return open;
}

/* A numeric attribute of the element with this id. */
static long attr_num(const char *dom, const char *id, const char *attr)
{
	size_t len;
	const char *tag = tag_of(dom, id, &len);
	char needle[128];
	snprintf(needle, sizeof(needle), " %s=\"", attr);
	const char *at = memmem(tag, len, needle, strlen(needle));
	if (!at)
		fail_msg("#%s has no %s: %.*s", id, attr, (int)len, tag);
	return strtol(at + strlen(needle), NULL, 10);
}

/* The text from the element with id `from` to the element with id `to`. */
static const char *section(const char *dom, const char *from, const char *to,
			   size_t *len)
{
	size_t n;
	const char *start = tag_of(dom, from, &n);
	const char *end = tag_of(dom, to, &n);
	assert_true(end > start);
	*len = (size_t)(end - start);
	return start;
}

static size_t count_in(const char *text, size_t len, const char *needle)
{
	size_t count = 0, n = strlen(needle);
	for (const char *at = text; (at = memmem(at, len - (size_t)(at - text), needle, n));
	     at += n)
		count++;
	return count;
}

static size_t count_between(const char *dom, const char *from, const char *to,
			    const char *needle)
{
	size_t len;
	const char *text = section(dom, from, to, &len);
	return count_in(text, len, needle);
}

/* ---- what libsnap and the other subcommands say ---- */

static snap_snapshot *load(const char *path)
{
	snap_error err = { 0 };
	snap_snapshot *snap = NULL;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	if (fmt_json_load(&snap, f, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	fclose(f);
	return snap;
}

static enum snap_kind *kinds_of(const snap_snapshot *snap)
{
	enum snap_kind *kinds = calloc(snap->nregions + 1, sizeof(*kinds));
	assert_non_null(kinds);
	assert_int_equal(snap_classify(snap, kinds, NULL, NULL, NULL), 0);
	return kinds;
}

static uint64_t rss_of(const snap_snapshot *snap, size_t i)
{
	int rss = snap_field_find(snap, "Rss");
	return rss < 0 ? 0 : snap_region_value(&snap->regions[i], rss);
}

static size_t regions_with_rss(const snap_snapshot *snap)
{
	size_t n = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		n += rss_of(snap, i) > 0;
	return n;
}

static size_t kinds_with_rss(const snap_snapshot *snap)
{
	enum snap_kind *kinds = kinds_of(snap);
	bool seen[SNAP_KIND_COUNT] = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		if (rss_of(snap, i) > 0 && !seen[kinds[i]])
			n += seen[kinds[i]] = true;
	free(kinds);
	return n;
}

/* A subcommand's JSON output. */
static json_t *json_of(const char *cmd, const char *in1, const char *in2)
{
	cmd_result res = run_mapsnap_ok(0, cmd, "--format", "json", in1, in2, NULL);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	if (!doc)
		fail_msg("mapsnap %s: not JSON: %s", cmd, jerr.text);
	cmd_result_free(&res);
	return doc;
}

static size_t findings_of(const char *snapshot)
{
	json_t *check = json_of("check", snapshot, NULL);
	size_t n = json_array_size(json_object_get(check, "findings"));
	json_decref(check);
	return n;
}

/* The findings of the last snapshot of a series (what its trend view
 * shows), through the API. */
static size_t findings_of_last(const char *series)
{
	FILE *f = fopen(series, "r");
	assert_non_null(f);
	snap_snapshot *last = NULL, *next = NULL;
	snap_error err = { 0 };
	while (fmt_json_load(&next, f, series, &err) == 0) {
		snap_snapshot_free(last);
		last = next;
	}
	fclose(f);
	assert_non_null(last);
	snap_check *check = NULL;
	snap_check_opts opts;
	snap_check_opts_init(&opts, SNAP_CHECK_OPTS_VERSION);
	assert_int_equal(snap_check_new(&check, last, &opts, NULL), 0);
	assert_int_equal(snap_check_run_all(check, NULL), 0);
	size_t n = check->nfindings;
	snap_check_free(check);
	snap_snapshot_free(last);
	return n;
}

/* ---- fixtures ---- */

static int capture(const char *pid, const char *out)
{
	cmd_result res;
	int rc = run_mapsnap(&res, NULL, "capture", pid, "-o", out, NULL);
	if (rc == 0 && res.status != 0) {
		fprintf(stderr, "capture %s: %s", pid, res.err);
		rc = -1;
	}
	cmd_result_free(&res);
	return rc;
}

static int ask(helper_proc *h, const char *cmd)
{
	char reply[4300];
	if (helper_command(h, cmd, reply, sizeof(reply)) != 0 || strncmp(reply, "ok", 2)) {
		fprintf(stderr, "helper: %s -> %s\n", cmd, reply);
		return -1;
	}
	return 0;
}

/* A helper, a snapshot, commands, another snapshot. */
static int before_after(const char *helper, const char *const *cmds, char *before,
			char *after)
{
	helper_proc h;
	char *argv[] = { (char *)helper_path(helper), NULL };
	char pid[16];
	if (helper_start(&h, argv) != 0)
		return -1;
	snprintf(pid, sizeof(pid), "%d", h.pid);
	int rc = capture(pid, before);
	for (; rc == 0 && *cmds; cmds++)
		rc = ask(&h, *cmds);
	if (rc == 0)
		rc = capture(pid, after);
	helper_stop(&h);
	return rc;
}

/* 12 snapshots of the leaker, ten of its ticks between two: its [heap]
 * grows at each step whatever the load on the machine. */
static int capture_series(void)
{
	helper_proc h;
	char *argv[] = { (char *)helper_path("leaker"), "--step", NULL };
	if (helper_start(&h, argv) != 0)
		return -1;
	cmd_result res;
	int rc = capture_in_lockstep(&res, &h, fx.series, "150ms", 12, "10");
	if (rc == 0 && res.status != 0)
		rc = -1;
	cmd_result_free(&res);
	helper_stop(&h);
	return rc;
}

/* stages before and after one new thread and a 64M reservation. */
static int capture_new_kinds(void)
{
	helper_proc h;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	char pid[16], reply[128];
	if (helper_start(&h, argv) != 0)
		return -1;
	snprintf(pid, sizeof(pid), "%d", h.pid);
	int rc = capture(pid, fx.kinds_a);
	if (rc == 0)
		rc = ask(&h, "threads 1");
	if (rc == 0 && (helper_command(&h, "reserve 65536", reply, sizeof(reply)) != 0 ||
			sscanf(reply, "ok %lx", &fx.reservation) != 1))
		rc = -1;
	if (rc == 0)
		rc = capture(pid, fx.kinds_b);
	helper_stop(&h);
	return rc;
}

/* Appends snapshot file `from` to the series `to` with its captured_at
 * set to second `s` of a fixed minute: a series one step a second, so
 * the verdicts do not depend on how fast the captures ran. */
static int append_at(const char *to, const char *from, int s)
{
	static const char key[] = "\"captured_at\":\"";
	char stamp[32];
	size_t len;
	char *text = read_file(from, &len);
	char *at = text ? strstr(text, key) : NULL;
	snprintf(stamp, sizeof(stamp), "2026-01-01T00:00:%02d.000Z", s);
	if (!at || strlen(at + strlen(key)) < 24) {
		free(text);
		return -1;
	}
	memcpy(at + strlen(key), stamp, 24);
	FILE *f = fopen(to, "a");
	int rc = f && fwrite(text, 1, len, f) == len ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	free(text);
	return rc;
}

/* stages, then five 8M anonymous regions mapped one at a time (each
 * between no-access pages, so none merges with another), a snapshot
 * after each: growth that arrives as new regions. */
static int capture_births(void)
{
	helper_proc h;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	char pid[16], one[4300];
	if (helper_start(&h, argv) != 0)
		return -1;
	snprintf(pid, sizeof(pid), "%d", h.pid);
	snprintf(one, sizeof(one), "%s/born-one.json", fx.dir);
	int rc = 0;
	for (int k = 0; k < 6 && rc == 0; k++) {
		if (k)
			rc = ask(&h, "mmap-apart 8192");
		if (rc == 0)
			rc = capture(pid, one);
		if (rc == 0)
			rc = append_at(fx.born, one, k);
		unlink(one);
	}
	helper_stop(&h);
	return rc;
}

/* BUILD/test-output beside the helpers of this build. */
static void shots_dir(void)
{
	const char *helpers = getenv("MAPSNAP_HELPERS");
	char build[4100];
	snprintf(build, sizeof(build), "%s", helpers ? helpers : "build/helpers");
	char *slash = strrchr(build, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(build, sizeof(build), ".");
	snprintf(fx.shots, sizeof(fx.shots), "%s/test-output", build);
	mkdir(fx.shots, 0755);
	char *abs = realpath(fx.shots, NULL);
	if (abs) {
		snprintf(fx.shots, sizeof(fx.shots), "%s", abs);
		free(abs);
	}
}

static int setup(void **state)
{
	(void)state;
	static const char *const demo_cmds[] = { "grow", "threads", NULL };
	static const char *const sus_cmds[] = { "deleted-lib", "dlmopen", "big-anon 4096",
						"sparse-heap 8192", "threads 2", NULL };
	fx.dir = make_tmpdir();
	if (!fx.dir)
		return -1;
	fx.chromium = find_chromium();
	shots_dir();
	snprintf(fx.before, sizeof(fx.before), "%s/before.json", fx.dir);
	snprintf(fx.after, sizeof(fx.after), "%s/after.json", fx.dir);
	snprintf(fx.sus_a, sizeof(fx.sus_a), "%s/sus-a.json", fx.dir);
	snprintf(fx.sus_b, sizeof(fx.sus_b), "%s/sus-b.json", fx.dir);
	snprintf(fx.series, sizeof(fx.series), "%s/series.json", fx.dir);
	snprintf(fx.zoo, sizeof(fx.zoo), "%s/zoo.json", fx.dir);
	snprintf(fx.kinds_a, sizeof(fx.kinds_a), "%s/kinds-a.json", fx.dir);
	snprintf(fx.kinds_b, sizeof(fx.kinds_b), "%s/kinds-b.json", fx.dir);
	snprintf(fx.born, sizeof(fx.born), "%s/born.json", fx.dir);
	cmd_result res;
	if (run_mapsnap(&res, NULL, "capture", "--from-smaps", "fixtures/ref/zoo/proc.smaps",
			"--proc-files", "-o", fx.zoo, NULL) != 0 || res.status != 0)
		return -1;
	cmd_result_free(&res);
	if (before_after("demo", demo_cmds, fx.before, fx.after) != 0 ||
	    before_after("suspicious", sus_cmds, fx.sus_a, fx.sus_b) != 0 ||
	    capture_series() != 0 || capture_new_kinds() != 0 || capture_births() != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

static char *path_in(const char *name)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", fx.dir, name) > 0);
	return path;
}

/* ---- the file itself (no browser) ---- */

/* The embedded data, as the page's JSON.parse sees it. */
static json_t *page_data(const char *html, size_t *raw_len)
{
	const char *open = "<script type=\"application/json\" id=\"mapsnap-data\">";
	const char *start = strstr(html, open);
	assert_non_null(start);
	start += strlen(open);
	const char *end = strstr(start, "</script>");
	assert_non_null(end);
	for (const char *c = start; c < end; c++)
		if (*c == '<' || *c == '>' || *c == '&')
			fail_msg("raw '%c' in the embedded data at +%td", *c, c - start);
	assert_null(memmem(start, (size_t)(end - start), "\xe2\x80\xa8", 3));
	assert_null(memmem(start, (size_t)(end - start), "\xe2\x80\xa9", 3));
	json_error_t jerr;
	json_t *doc = json_loadb(start, (size_t)(end - start), 0, &jerr);
	if (!doc)
		fail_msg("embedded data is not JSON: %s (line %d)", jerr.text, jerr.line);
	*raw_len = (size_t)(end - start);
	return doc;
}

static void page_is_one_file_with_nothing_to_fetch(void **state)
{
	(void)state;
	char *page = path_in("map.html");
	report(page, fx.after, NULL);
	char *html = read_file(page, NULL);
	size_t len = strlen(html);
	assert_int_equal(count_in(html, len, "<script"), 2);
	assert_int_equal(count_in(html, len, "<style"), 1);
	assert_int_equal(count_in(html, len, "<link"), 0);
	assert_int_equal(count_in(html, len, " src="), 0);
	assert_int_equal(count_in(html, len, "@import"), 0);
	assert_int_equal(count_in(html, len, "url("), 0);
	assert_int_equal(count_in(html, len, "fetch("), 0);
	assert_int_equal(count_in(html, len, "XMLHttpRequest"), 0);
	assert_int_equal(count_in(html, len, ".innerHTML"), 0);
	assert_int_equal(count_in(html, len, ".outerHTML"), 0);
	assert_int_equal(count_in(html, len, "insertAdjacentHTML"), 0);
	assert_int_equal(count_in(html, len, "document.write"), 0);
	/* The only URL is the SVG namespace, an identifier. */
	assert_int_equal(count_in(html, len, "http://"),
			 count_in(html, len, "'http://www.w3.org/2000/svg'"));
	assert_int_equal(count_in(html, len, "https://"), 0);
	assert_non_null(strstr(html, "default-src 'none'"));
	/* The page sources went in whole: their markers are gone. */
	assert_null(strstr(html, "/*@mapsnap:"));
	free(html);
	free(page);
}

static void data_holds_every_region_and_escapes_hostile_paths(void **state)
{
	(void)state;
	char *snapshot = path_in("hostile.json");
	char *page = path_in("hostile-data.html");
	cmd_result res = run_mapsnap_ok(0, "capture", "--from-smaps", HOSTILE_FIXTURE, "-f", "-o",
				snapshot, NULL);
	cmd_result_free(&res);
	report(page, snapshot, NULL);
	char *html = read_file(page, NULL);
	size_t raw;
	json_t *data = page_data(html, &raw);
	assert_string_equal(json_string_value(json_object_get(data, "schema")),
			    "mapsnap.report/1");
	assert_string_equal(json_string_value(json_object_get(data, "view")), "map");
	snap_snapshot *snap = load(snapshot);
	json_t *regions = json_object_get(data, "regions");
	assert_int_equal(json_array_size(regions), snap->nregions);
	/* Each path comes back byte for byte (index 5 of a region). */
	for (size_t i = 0; i < snap->nregions; i++) {
		const char *path = json_string_value(json_array_get(json_array_get(regions, i), 5));
		assert_non_null(path);
		assert_int_equal(strlen(path), snap->regions[i].path_len);
		assert_memory_equal(path, snap->regions[i].path, snap->regions[i].path_len);
	}
	assert_non_null(strstr(html, "\\u003c/script\\u003e\\u003cscript\\u003e"));
	assert_non_null(strstr(html, "\\u2028"));
	snap_snapshot_free(snap);
	json_decref(data);
	free(html);
	free(page);
	free(snapshot);
}

static void every_view_embeds_its_own_data(void **state)
{
	(void)state;
	char *page = path_in("views.html");
	const char *inputs[][2] = { { fx.after, NULL }, { fx.sus_a, fx.sus_b },
				    { fx.series, NULL } };
	const char *views[] = { "map", "diff", "trend" };
	for (int v = 0; v < 3; v++) {
		report(page, inputs[v][0], inputs[v][1]);
		char *html = read_file(page, NULL);
		size_t raw;
		json_t *data = page_data(html, &raw);
		assert_string_equal(json_string_value(json_object_get(data, "view")), views[v]);
		assert_int_equal(json_is_object(json_object_get(data, "diff")), v == 1);
		assert_int_equal(json_is_object(json_object_get(data, "trend")), v == 2);
		json_decref(data);
		free(html);
	}
	free(page);
}

static void output_is_safe(void **state)
{
	(void)state;
	char *page = path_in("kept.html");
	assert_int_equal(write_file(page, "mine\n", 5), 0);
	cmd_result res = run_mapsnap_ok(2, "report", "-o", page, fx.after, NULL);
	assert_non_null(strstr(res.err, page));
	assert_int_equal(count_in(res.err, strlen(res.err), "\n"), 1);
	cmd_result_free(&res);
	char *kept = read_file(page, NULL);
	assert_string_equal(kept, "mine\n");
	free(kept);
	/* stdout gets the page, and nothing else. */
	res = run_mapsnap_ok(0, "report", "-o", "-", fx.after, NULL);
	assert_true(strncmp(res.out, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(res.out, "</html>"));
	cmd_result_free(&res);
	/* The default name, in the current directory, never overwritten. */
	res = run_mapsnap_ok(2, "report", "--kind", "nosuchkind", fx.after, NULL);
	assert_true(strncmp(res.err, "mapsnap: ", 9) == 0);
	assert_int_equal(count_in(res.err, strlen(res.err), "\n"), 1);
	assert_false(file_exists("report.html"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "report", NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "report", "--help", NULL);
	assert_non_null(strstr(res.out, "usage: mapsnap report"));
	cmd_result_free(&res);
	free(page);
}

/* The API refuses findings of another snapshot than the one shown. */
static void api_refuses_a_check_of_another_snapshot(void **state)
{
	(void)state;
	snap_snapshot *before = load(fx.before), *after = load(fx.after);
	snap_identity *id = NULL;
	snap_check *check = NULL;
	snap_check_opts opts;
	snap_check_opts_init(&opts, SNAP_CHECK_OPTS_VERSION);
	assert_int_equal(snap_identity_new(&id, after, NULL), 0);
	assert_int_equal(snap_check_new(&check, before, &opts, NULL), 0);
	assert_int_equal(snap_check_run_all(check, NULL), 0);
	fmt_report_opts ro = { .check = check };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(fmt_report_map(f, id, &ro), SNAP_EINVAL);
	ro.check = NULL;
	assert_int_equal(fmt_report_map(f, id, &ro), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"view\":\"map\""));
	free(buf);
	snap_check_free(check);
	snap_identity_free(id);
	snap_snapshot_free(before);
	snap_snapshot_free(after);
}

/* ---- the map view in a browser ---- */

static void map_view_draws_treemap_table_and_findings(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("map-view.html");
	report(page, fx.sus_b, NULL);
	char *dom = browse(page, NULL, NULL);
	snap_snapshot *snap = load(fx.sus_b);
	size_t with_rss = regions_with_rss(snap);
	assert_int_equal(attr_num(dom, "treemap", "data-regions"), with_rss);
	assert_int_equal(attr_num(dom, "treemap", "data-kinds"), kinds_with_rss(snap));
	/* Few regions: each is its own rectangle. */
	assert_int_equal(attr_num(dom, "treemap", "data-rects"), with_rss);
	assert_int_equal(attr_num(dom, "treemap", "data-merged"), 0);
	assert_int_equal(count_between(dom, "treemap", "treemap-note", " class=\"region"),
			 with_rss);
	assert_int_equal(attr_num(dom, "regions-table", "data-rows"), snap->nregions);
	assert_int_equal(count_between(dom, "regions-table", "tooltip", "<tr data-r="),
			 snap->nregions < TABLE_PAGE ? snap->nregions : TABLE_PAGE);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), snap->nregions);
	assert_int_equal(attr_num(dom, "totals-row", "data-regions"), snap->nregions);
	/* The findings of `mapsnap check`, one box each. */
	size_t findings = findings_of(fx.sus_b);
	assert_true(findings >= 3); /* deleted library, duplicate, thread stacks... */
	assert_int_equal(attr_num(dom, "findings-list", "data-count"), findings);
	assert_int_equal(count_between(dom, "findings-list", "trend", "<div class=\"finding "),
			 findings);
	snap_snapshot_free(snap);
	free(dom);
	screenshot(page, "map");
	free(page);
}

/* ---- filters ---- */

struct expect {
	size_t regions, with_rss;
};

typedef bool (*region_pred)(const snap_snapshot *snap, const enum snap_kind *kinds,
			    size_t i);

static struct expect count_regions(const char *snapshot, region_pred keep)
{
	snap_snapshot *snap = load(snapshot);
	enum snap_kind *kinds = kinds_of(snap);
	struct expect e = { 0, 0 };
	for (size_t i = 0; i < snap->nregions; i++)
		if (keep(snap, kinds, i)) {
			e.regions++;
			e.with_rss += rss_of(snap, i) > 0;
		}
	free(kinds);
	snap_snapshot_free(snap);
	return e;
}

static void expect_filtered(const char *dom, struct expect e)
{
	assert_true(e.regions > 0);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), e.regions);
	assert_int_equal(attr_num(dom, "regions-table", "data-rows"), e.regions);
	assert_int_equal(count_between(dom, "regions-table", "tooltip", "<tr data-r="),
			 e.regions < TABLE_PAGE ? e.regions : TABLE_PAGE);
	assert_int_equal(attr_num(dom, "treemap", "data-regions"), e.with_rss);
}

static bool is_stack(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)s;
	return k[i] == SNAP_KIND_STACK || k[i] == SNAP_KIND_THREAD_STACK;
}

static bool path_has_libc(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)k;
	const snap_region *r = &s->regions[i];
	return r->path_len && fnmatch("*libc*", r->path, 0) == 0;
}

static bool lib_64k_libc(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	const snap_region *r = &s->regions[i];
	return (k[i] == SNAP_KIND_LIB || k[i] == SNAP_KIND_EXE) &&
	       r->end - r->start >= 64 * 1024 && strstr(r->path, "libc");
}

static bool at_least_1m(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)k;
	return s->regions[i].end - s->regions[i].start >= 1024 * 1024;
}

static bool heap_only(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)s;
	return k[i] == SNAP_KIND_HEAP;
}

static void url_fragment_filters_the_table_and_treemap(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("filters.html");
	report(page, fx.after, NULL);
	static const struct {
		const char *fragment;
		region_pred keep;
	} cases[] = {
		{ "kind=stack", is_stack },
		{ "path=*libc*", path_has_libc },
		{ "kind=lib&min=64K&path=libc", lib_64k_libc },
		{ "min=1M&sort=-size", at_least_1m },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		char *dom = browse(page, cases[c].fragment, NULL);
		print_message("#%s\n", cases[c].fragment);
		expect_filtered(dom, count_regions(fx.after, cases[c].keep));
		assert_non_null(strstr(dom, "<span id=\"filter-error\" class=\"error\"></span>"));
		free(dom);
	}
	free(page);
}

static bool all_regions(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)s, (void)k, (void)i;
	return true;
}

static bool named_libc_so_6(const snap_snapshot *s, const enum snap_kind *k, size_t i)
{
	(void)k;
	const snap_region *r = &s->regions[i];
	const char *slash = r->path_len ? strrchr(r->path, '/') : NULL;
	return slash && strcmp(slash + 1, "libc.so.6") == 0;
}

/* Mistakes in a hand-edited URL are reported, and never empty the page:
 * unknown kinds, a finding that is not a number, a change filter outside
 * the diff view. "+" in a fragment reads as a space. */
static void fragment_mistakes_do_not_empty_the_page(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("mistakes.html");
	report(page, fx.after, NULL);
	static const char *const fragments[] = { "kind=bogus", "kind=", "finding=x",
						 "finding=", "change=grown" };
	struct expect all = count_regions(fx.after, all_regions);
	for (size_t c = 0; c < sizeof(fragments) / sizeof(*fragments); c++) {
		char *dom = browse(page, fragments[c], NULL);
		print_message("#%s\n", fragments[c]);
		expect_filtered(dom, all);
		free(dom);
	}
	char *dom = browse(page, "kind=bogus", NULL);
	assert_non_null(strstr(dom, "unknown kind bogus"));
	free(dom);
	dom = browse(page, "sort=+size", NULL);
	assert_non_null(strstr(dom, "<th class=\"num sorted asc\" data-key=\"size\""));
	free(dom);
	free(page);
}

/* --kind/--min-size/--path on the command line open the page filtered. */
static void cli_filters_open_the_page_filtered(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("cli-filter.html");
	cmd_result res = run_mapsnap_ok(0, "report", "-f", "-o", page, "--kind", "heap", fx.after,
				NULL);
	cmd_result_free(&res);
	char *dom = browse(page, NULL, NULL);
	expect_filtered(dom, count_regions(fx.after, heap_only));
	assert_non_null(strstr(dom, "class=\"chip on\" data-kind=\"heap\""));
	free(dom);
	/* A fragment overrides them. */
	dom = browse(page, "kind=stack", NULL);
	expect_filtered(dom, count_regions(fx.after, is_stack));
	free(dom);
	/* --path is a glob as show takes it: without wildcards, the whole
	 * path or file name, not any text in it. */
	res = run_mapsnap_ok(0, "report", "-f", "-o", page, "--path", "libc.so", fx.after, NULL);
	cmd_result_free(&res);
	dom = browse(page, NULL, NULL);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), 0);
	free(dom);
	res = run_mapsnap_ok(0, "report", "-f", "-o", page, "--path", "libc.so.6", fx.after, NULL);
	cmd_result_free(&res);
	dom = browse(page, NULL, NULL);
	expect_filtered(dom, count_regions(fx.after, named_libc_so_6));
	free(dom);
	/* The same in a link, and typed text (path=) matches anywhere. */
	dom = browse(page, "glob=libc.so", NULL);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), 0);
	free(dom);
	dom = browse(page, "path=libc.so.6", NULL);
	expect_filtered(dom, count_regions(fx.after, named_libc_so_6));
	free(dom);
	free(page);
}

/* ---- kinds and evidence ---- */

static snap_identity *identity_of(const snap_snapshot *snap)
{
	snap_identity *id = NULL;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	return id;
}

/* The data names every kind (group, colour) and every piece of evidence
 * once, and each region's kind, evidence and .bss owner are libsnap's. */
static void data_has_kinds_and_evidence_of_libsnap(void **state)
{
	(void)state;
	char *page = path_in("zoo-data.html");
	report(page, fx.zoo, NULL);
	char *html = read_file(page, NULL);
	size_t raw;
	json_t *data = page_data(html, &raw);
	json_t *kinds = json_object_get(data, "kinds");
	assert_int_equal(json_array_size(kinds), SNAP_KIND_COUNT);
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		json_t *kind = json_array_get(kinds, (size_t)k);
		const char *color = json_string_value(json_object_get(kind, "color"));
		assert_string_equal(json_string_value(json_object_get(kind, "name")),
				    snap_kind_name((enum snap_kind)k));
		assert_string_equal(json_string_value(json_object_get(kind, "group")),
				    fmt_kind_group((enum snap_kind)k));
		assert_string_equal(color, fmt_kind_color((enum snap_kind)k));
		for (int j = 0; j < k; j++)
			if (strcmp(color, fmt_kind_color((enum snap_kind)j)) == 0)
				fail_msg("%s and %s share the colour %s", snap_kind_name(k),
					 snap_kind_name(j), color);
	}
	json_t *evidence = json_object_get(data, "evidence");
	assert_int_equal(json_array_size(evidence), SNAP_EV_COUNT);
	for (int e = 0; e < SNAP_EV_COUNT; e++) {
		json_t *ev = json_array_get(evidence, (size_t)e);
		assert_string_equal(json_string_value(json_object_get(ev, "name")),
				    snap_evidence_name((enum snap_evidence)e));
		assert_string_equal(json_string_value(json_object_get(ev, "about")),
				    snap_evidence_about((enum snap_evidence)e));
	}
	snap_snapshot *snap = load(fx.zoo);
	snap_identity *id = identity_of(snap);
	json_t *regions = json_object_get(data, "regions");
	size_t reserved = 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		json_t *r = json_array_get(regions, i);
		assert_int_equal(json_integer_value(json_array_get(r, 3)), id->kinds[i]);
		assert_int_equal(json_integer_value(json_array_get(r, 19)), id->evidence[i]);
		assert_int_equal(json_integer_value(json_array_get(r, 20)), id->attached[i]);
		reserved += id->kinds[i] == SNAP_KIND_RESERVED;
	}
	assert_int_equal(reserved, 1);
	snap_identity_free(id);
	snap_snapshot_free(snap);
	json_decref(data);
	free(html);
	free(page);
}

/* A legend entry: the kind's swatch in its colour, then its name. */
static void expect_legend(const char *dom, const char *name, const char *color)
{
	char entry[256];
	snprintf(entry, sizeof(entry), "<span><span class=\"swatch\" style=\"background:%s\">"
		 "</span>%s</span>", color, name);
	if (count_between(dom, "legend", "treemap", entry) != 1)
		fail_msg("legend has no %s in %s", name, color);
}

/* Regions of the zoo in the --kind group `group`, or (group NULL) of kind. */
static size_t zoo_regions(const char *group, enum snap_kind kind)
{
	snap_snapshot *snap = load(fx.zoo);
	snap_identity *id = identity_of(snap);
	size_t n = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		n += group ? strcmp(fmt_kind_group(id->kinds[i]), group) == 0
			   : id->kinds[i] == kind;
	snap_identity_free(id);
	snap_snapshot_free(snap);
	return n;
}

static size_t zoo_regions_in_group(const char *group)
{
	return zoo_regions(group, 0);
}

/* The legend, the chips and the --kind groups come from the data's kinds
 * table: a page whose table renames a kind and recolours it draws that. */
static void legend_and_groups_take_kinds_from_the_data(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("zoo-kinds.html");
	report(page, fx.zoo, NULL);
	char *dom = browse(page, NULL, NULL);
	static const enum snap_kind present[] = {
		SNAP_KIND_EXE, SNAP_KIND_LIB, SNAP_KIND_FILE, SNAP_KIND_HEAP, SNAP_KIND_STACK,
		SNAP_KIND_THREAD_STACK, SNAP_KIND_ANON, SNAP_KIND_SHMEM, SNAP_KIND_SPECIAL,
		SNAP_KIND_GUARD, SNAP_KIND_RESERVED,
	};
	for (size_t k = 0; k < sizeof(present) / sizeof(*present); k++)
		expect_legend(dom, snap_kind_name(present[k]), fmt_kind_color(present[k]));
	assert_non_null(strstr(dom, "class=\"chip\" data-kind=\"reserved\""));
	free(dom);
	/* reserved is in the anon group. */
	dom = browse(page, "kind=anon", NULL);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), zoo_regions_in_group("anon"));
	free(dom);

	char entry[128], renamed[128];
	snprintf(entry, sizeof(entry), "{\"name\":\"reserved\",\"group\":\"anon\",\"color\":\"%s\"}",
		 fmt_kind_color(SNAP_KIND_RESERVED));
	snprintf(renamed, sizeof(renamed),
		 "{\"name\":\"kept-space\",\"group\":\"anon\",\"color\":\"#123456\"}");
	char *html = read_file(page, NULL);
	char *at = strstr(html, entry);
	assert_non_null(at);
	char *edited;
	assert_true(asprintf(&edited, "%.*s%s%s", (int)(at - html), html, renamed,
			     at + strlen(entry)) > 0);
	char *other = path_in("zoo-kinds-renamed.html");
	assert_int_equal(write_file(other, edited, strlen(edited)), 0);
	dom = browse(other, "kind=anon", NULL);
	expect_legend(dom, "kept-space", "#123456");
	assert_null(strstr(dom, "</span>reserved</span>"));
	assert_non_null(strstr(dom, "class=\"chip on\" data-kind=\"kept-space\""));
	assert_int_equal(attr_num(dom, "match-count", "data-count"), zoo_regions_in_group("anon"));
	free(dom);
	dom = browse(other, "kind=reserved", NULL);
	assert_non_null(strstr(dom, "unknown kind reserved"));
	free(dom);
	free(edited);
	free(html);
	free(other);
	free(page);
}

/* The colour report.js derives for a kind the data gives none: FNV-1a
 * (32-bit) of the name, each of the low three bytes mapped into 40..bf. */
static void derived_color(char out[8], const char *name)
{
	uint32_t h = 0x811c9dc5;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x01000193;
	snprintf(out, 8, "#%02x%02x%02x", 0x40 + ((h >> 16) & 0x7f),
		 0x40 + ((h >> 8) & 0x7f), 0x40 + (h & 0x7f));
}

/* A page whose data names a kind the page never heard of, with no colour
 * and no group (as a newer mapsnap might write): the legend lists it in a
 * colour derived from its name, the treemap draws its regions in that
 * colour, and it is a filter chip and a --kind name of its own. */
static void unknown_kind_is_drawn_in_a_colour_of_its_own(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("zoo-unknown-kind.html");
	report(page, fx.zoo, NULL);
	char entry[128];
	snprintf(entry, sizeof(entry), "{\"name\":\"heap\",\"group\":\"heap\",\"color\":\"%s\"}",
		 fmt_kind_color(SNAP_KIND_HEAP));
	char *html = read_file(page, NULL);
	char *at = strstr(html, entry);
	assert_non_null(at);
	char *edited;
	assert_true(asprintf(&edited, "%.*s{\"name\":\"brand-new-kind\"}%s",
			     (int)(at - html), html, at + strlen(entry)) > 0);
	assert_int_equal(write_file(page, edited, strlen(edited)), 0);

	char color[8], fill[32];
	derived_color(color, "brand-new-kind");
	assert_string_not_equal(color, fmt_kind_color(SNAP_KIND_HEAP));
	char *dom = browse(page, NULL, NULL);
	expect_legend(dom, "brand-new-kind", color);
	snprintf(fill, sizeof(fill), "fill=\"%s\"", color);
	assert_true(count_between(dom, "treemap", "treemap-note", fill) >= 1);
	assert_non_null(strstr(dom, "class=\"chip\" data-kind=\"brand-new-kind\""));
	assert_null(strstr(dom, "</span>heap</span>"));
	free(dom);
	dom = browse(page, "kind=brand-new-kind", NULL);
	assert_int_equal(attr_num(dom, "match-count", "data-count"),
			 zoo_regions(NULL, SNAP_KIND_HEAP));
	assert_non_null(strstr(dom, "class=\"chip on\" data-kind=\"brand-new-kind\""));
	free(dom);
	free(edited);
	free(html);
	free(page);
}

/* The details a tooltip shows (pinned by #region=), with the evidence
 * sentence; the regions table names each region's evidence. */
static void expect_details(const char *page, const char *start, const char *why,
			   const char *evidence)
{
	char fragment[64], needle[1024];
	snprintf(fragment, sizeof(fragment), "region=%s", start);
	char *dom = browse(page, fragment, NULL);
	snprintf(needle, sizeof(needle), "<div class=\"tt-line tt-why\" data-evidence=\"%s\">"
		 "why: %s</div>", evidence, why);
	if (!count_between(dom, "region-details", "regions-table", needle))
		fail_msg("#%s: no %s", fragment, needle);
	free(dom);
}

static void details_and_table_say_why(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("zoo-why.html");
	report(page, fx.zoo, NULL);
	char why[1024];
	expect_details(page, "7fe24ba7e000", snap_evidence_about(SNAP_EV_MAP_STACK),
		       snap_evidence_name(SNAP_EV_MAP_STACK));
	expect_details(page, "7fe24d000000", snap_evidence_about(SNAP_EV_RESERVATION),
		       snap_evidence_name(SNAP_EV_RESERVATION));
	snprintf(why, sizeof(why), "bss of /usr/lib/x86_64-linux-gnu/libc.so.6: %s",
		 snap_evidence_about(SNAP_EV_BSS));
	expect_details(page, "7fe24f411000", why, snap_evidence_name(SNAP_EV_BSS));
	snprintf(why, sizeof(why), "libc.so.6, load 1 of 1: %s", snap_evidence_about(SNAP_EV_SONAME));
	expect_details(page, "7fe24f262000", why, snap_evidence_name(SNAP_EV_SONAME));
	char *dom = browse(page, "region=dead000", NULL);
	assert_non_null(strstr(dom, "no region at dead000"));
	assert_non_null(strstr(dom, "id=\"region-details\" class=\"details\" hidden"));
	free(dom);
	/* In address order, the first page of the table: each row's evidence
	 * is libsnap's, with its sentence as the title. */
	dom = browse(page, "sort=addr", NULL);
	snap_snapshot *snap = load(fx.zoo);
	snap_identity *id = identity_of(snap);
	for (size_t i = 0; i < TABLE_PAGE && i < snap->nregions; i++) {
		char row[64], cell[1024];
		snprintf(row, sizeof(row), "<tr data-r=\"%zu\"", i);
		const char *at = strstr(dom, row);
		assert_non_null(at);
		const char *end = strstr(at, "</tr>");
		enum snap_evidence ev = (enum snap_evidence)id->evidence[i];
		snprintf(cell, sizeof(cell), "<td class=\"evidence\"><span title=\"%s\">%s</span></td>",
			 snap_evidence_about(ev), snap_evidence_name(ev));
		if (!count_in(at, (size_t)(end - at), cell))
			fail_msg("row %zu: no %s", i, cell);
	}
	snap_identity_free(id);
	snap_snapshot_free(snap);
	free(dom);
	/* The legend with every kind of the zoo, libc's .bss pinned. */
	screenshot_at(page, "region=7fe24f411000", "kinds");
	free(page);
}

/* ---- the diff view ---- */

/* The type of the first change (in the diff's order) whose new side
 * holds region i, or "" when none does. */
static const char *change_of(json_t *changes, const snap_region *r)
{
	size_t k;
	json_t *c;
	json_array_foreach(changes, k, c) {
		json_t *side = json_object_get(c, "new");
		if (!json_is_object(side) || !json_is_string(json_object_get(side, "start")))
			continue;
		uint64_t start = strtoull(json_string_value(json_object_get(side, "start")), NULL, 16);
		uint64_t end = strtoull(json_string_value(json_object_get(side, "end")), NULL, 16);
		if (r->start >= start && r->end <= end)
			return json_string_value(json_object_get(c, "change"));
	}
	return "";
}

static void check_change_rows(const char *dom, json_t *changes)
{
	static const char *const types[] = { "grown", "shrunk", "new", "vanished",
					     "duplicated", "replaced", "perms" };
	size_t want[7] = { 0 }, k;
	json_t *c;
	json_array_foreach(changes, k, c)
		for (int t = 0; t < 7; t++)
			want[t] += strcmp(json_string_value(json_object_get(c, "change")),
					  types[t]) == 0;
	assert_int_equal(attr_num(dom, "changes-table", "data-rows"), json_array_size(changes));
	for (int t = 0; t < 7; t++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "class=\"change-%s\" data-c=", types[t]);
		size_t rows = count_between(dom, "changes-table", "map", needle);
		if (rows != want[t])
			fail_msg("%zu %s rows in the changes table, want %zu", rows, types[t],
				 want[t]);
	}
}

/* Each region of the new snapshot is highlighted in the table, and
 * coloured in the treemap, as the change it belongs to. */
static void check_region_marks(const char *dom, const char *new_snapshot, json_t *changes)
{
	snap_snapshot *snap = load(new_snapshot);
	assert_true(snap->nregions <= TABLE_PAGE);
	size_t marked = 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		const char *type = change_of(changes, &snap->regions[i]);
		char row[96], rect[96];
		if (*type)
			snprintf(row, sizeof(row), "<tr data-r=\"%zu\" class=\"change-%s\">", i, type);
		else
			snprintf(row, sizeof(row), "<tr data-r=\"%zu\">", i);
		if (!count_between(dom, "regions-table", "tooltip", row))
			fail_msg("region %zu (%s): no row %s", i, snap->regions[i].path, row);
		marked += *type != '\0';
		if (rss_of(snap, i) == 0)
			continue;
		snprintf(rect, sizeof(rect), "fill=\"#c9ced6\" data-r=\"%zu\"", i);
		bool grey = count_between(dom, "treemap", "treemap-note", rect) == 1;
		if (grey != (*type == '\0'))
			fail_msg("region %zu (%s, %s): treemap colour %s", i,
				 snap->regions[i].path, *type ? type : "unchanged",
				 grey ? "grey" : "not grey");
	}
	assert_true(marked > 0);
	snap_snapshot_free(snap);
}

static void diff_view(const char *old, const char *new, const char *shot,
		      const char *const *must_have)
{
	char *page = path_in("diff-view.html");
	report(page, old, new);
	char *dom = browse(page, NULL, NULL);
	json_t *diff = json_of("diff", old, new);
	json_t *changes = json_object_get(diff, "changes");
	for (; *must_have; must_have++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "class=\"change-%s\" data-c=", *must_have);
		if (!count_between(dom, "changes-table", "map", needle))
			fail_msg("no %s change highlighted", *must_have);
	}
	check_change_rows(dom, changes);
	check_region_marks(dom, new, changes);
	assert_int_equal(attr_num(dom, "findings-list", "data-count"), findings_of(new));
	size_t dups = json_array_size(json_object_get(diff, "duplicated_libraries"));
	if (dups)
		assert_int_equal(count_between(dom, "changes", "map", "<li data-name="), dups);
	json_decref(diff);
	free(dom);
	screenshot(page, shot);
	free(page);
}

static void diff_view_highlights_grown_new_duplicated(void **state)
{
	(void)state;
	need_chromium();
	static const char *const want[] = { "grown", "new", "duplicated", NULL };
	diff_view(fx.sus_a, fx.sus_b, "diff", want);
}

static void diff_view_highlights_vanished(void **state)
{
	(void)state;
	need_chromium();
	static const char *const want[] = { "vanished", "shrunk", NULL };
	diff_view(fx.sus_b, fx.sus_a, "diff-reversed", want);
}

static void diff_view_filters_by_change(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("diff-filter.html");
	report(page, fx.before, fx.after);
	char *dom = browse(page, "change=grown", NULL);
	json_t *diff = json_of("diff", fx.before, fx.after);
	snap_snapshot *snap = load(fx.after);
	size_t grown = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		grown += strcmp(change_of(json_object_get(diff, "changes"), &snap->regions[i]),
				"grown") == 0;
	assert_true(grown > 0);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), grown);
	assert_int_equal(count_between(dom, "regions-table", "tooltip", "class=\"change-grown\""),
			 grown);
	snap_snapshot_free(snap);
	json_decref(diff);
	free(dom);
	free(page);
}

/* Each change names its evidence as `mapsnap diff` does, with the
 * sentence as its title: a new thread is a thread-stack change and a
 * guard change, a reservation a reserved change. */
static void diff_view_shows_each_change_with_its_evidence(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("diff-kinds.html");
	report(page, fx.kinds_a, fx.kinds_b);
	char *dom = browse(page, NULL, NULL);
	json_t *diff = json_of("diff", fx.kinds_a, fx.kinds_b);
	json_t *changes = json_object_get(diff, "changes");
	size_t len, k;
	const char *table = section(dom, "changes-table", "map", &len);
	bool stack = false, guard = false, reserved = false;
	json_t *c;
	json_array_foreach(changes, k, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		const char *ev = json_string_value(json_object_get(c, "evidence"));
		char row[64], cell[1024];
		snprintf(row, sizeof(row), " data-c=\"%zu\"", k);
		const char *at = memmem(table, len, row, strlen(row));
		assert_non_null(at);
		const char *end = strstr(at, "</tr>");
		const char *about = "";
		for (int e = 0; e < SNAP_EV_COUNT; e++)
			if (strcmp(snap_evidence_name((enum snap_evidence)e), ev) == 0)
				about = snap_evidence_about((enum snap_evidence)e);
		assert_true(*about);
		snprintf(cell, sizeof(cell), "<td class=\"evidence\"><span title=\"%s\">%s</span></td>",
			 about, ev);
		if (!count_in(at, (size_t)(end - at), cell))
			fail_msg("change %zu (%s): no %s", k, kind, cell);
		stack |= strcmp(kind, "thread-stack") == 0 &&
			 (strcmp(ev, "stack-pointer") == 0 || strcmp(ev, "map-stack") == 0);
		guard |= strcmp(kind, "guard") == 0 && strcmp(ev, "stack-guard") == 0;
		reserved |= strcmp(kind, "reserved") == 0 && strcmp(ev, "reservation") == 0;
	}
	assert_true(stack && guard && reserved);
	free(dom);
	/* The reservation's details: the change it is, and why it is reserved. */
	char fragment[64], needle[512];
	snprintf(fragment, sizeof(fragment), "region=%lx", fx.reservation);
	dom = browse(page, fragment, NULL);
	snprintf(needle, sizeof(needle), "<div class=\"tt-line\">new reserved: %lx-", fx.reservation);
	assert_int_equal(count_between(dom, "region-details", "regions-table", needle), 1);
	snprintf(needle, sizeof(needle), "why: %s</div>", snap_evidence_about(SNAP_EV_RESERVATION));
	assert_int_equal(count_between(dom, "region-details", "regions-table", needle), 1);
	free(dom);
	json_decref(diff);
	screenshot(page, "diff-kinds");
	free(page);
}

/* ---- the trend view ---- */

static void trend_view_charts_total_and_suspects(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("trend-view.html");
	report(page, fx.series, NULL);
	char *dom = browse(page, NULL, NULL);
	json_t *trend = json_of("trend", fx.series, NULL);
	size_t snaps = json_array_size(json_object_get(trend, "snapshots"));
	size_t suspects = (size_t)json_integer_value(json_object_get(trend, "leak_suspects"));
	size_t followed = (size_t)json_integer_value(json_object_get(trend, "regions_followed"));
	size_t flat = (size_t)json_integer_value(json_object_get(trend, "regions_flat"));
	assert_true(snaps >= 10);
	assert_true(suspects >= 1); /* the leaker's [heap] */
	size_t len;
	const char *charts = section(dom, "charts", "trend-table", &len);
	assert_int_equal(count_in(charts, len, "data-series=\"total\""), 1);
	assert_int_equal(count_in(charts, len, "data-series=\"suspect\""),
			 suspects < 12 ? suspects : 12);
	/* The total's lines have a point per snapshot. */
	const char *total = memmem(charts, len, "data-series=\"total\"",
				   strlen("data-series=\"total\""));
	assert_non_null(total);
	size_t total_len = (size_t)(strstr(total, "</figure>") - total);
	char points[48];
	snprintf(points, sizeof(points), "data-name=\"Rss\" data-points=\"%zu\"", snaps);
	assert_int_equal(count_in(total, total_len, points), 1);
	assert_non_null(memmem(charts, len, "Leak suspect: [heap]", strlen("Leak suspect: [heap]")));
	/* The table of regions that changed, suspects first. */
	assert_int_equal(attr_num(dom, "trend-table", "data-rows"), followed - flat);
	assert_int_equal(count_between(dom, "trend-table", "changes", "data-verdict=\"steady\""),
			 suspects);
	/* The last snapshot's regions, the suspect's marked. */
	assert_true(count_between(dom, "regions-table", "tooltip", "class=\"suspect\"") >= 1);
	size_t suspect_rects = count_between(dom, "treemap", "treemap-note",
					     "class=\"region suspect\"");
	assert_true(suspect_rects >= 1);
	/* ...each outlined above its group's border. */
	assert_int_equal(count_between(dom, "treemap", "treemap-note", "class=\"suspect-box\""),
			 suspect_rects);
	assert_int_equal(attr_num(dom, "findings-list", "data-count"), findings_of_last(fx.series));
	json_decref(trend);
	free(dom);
	screenshot(page, "trend");
	free(page);
}

/* Growth that arrives as new regions: five 8M regions born one by one
 * are one leak suspect, charted and listed under the name `mapsnap
 * trend` gives it, and nothing on the page speaks of aggregates. */
static void trend_view_follows_regions_born_during_the_series(void **state)
{
	(void)state;
	need_chromium();
	static const char *const name = "5 anon regions born during the series";
	cmd_result res = run_mapsnap_ok(0, "trend", fx.born, NULL);
	assert_non_null(strstr(res.out, name));
	cmd_result_free(&res);
	json_t *trend = json_of("trend", fx.born, NULL);
	size_t k, groups = 0;
	json_t *r;
	json_array_foreach(json_object_get(trend, "regions"), k, r) {
		if (!json_is_true(json_object_get(r, "born")) ||
		    strcmp(json_string_value(json_object_get(r, "kind")), "anon") != 0)
			continue;
		groups++;
		assert_int_equal(json_integer_value(json_object_get(r, "members")), 5);
		assert_string_equal(json_string_value(json_object_get(r, "verdict")), "steady");
	}
	assert_int_equal(groups, 1);
	json_decref(trend);

	char *page = path_in("trend-born.html");
	report(page, fx.born, NULL);
	char *dom = browse(page, NULL, NULL);
	size_t len;
	const char *charts = section(dom, "charts", "trend-table", &len);
	char caption[128];
	snprintf(caption, sizeof(caption), "<figcaption>Leak suspect: %s ", name);
	assert_int_equal(count_in(charts, len, caption), 1);
	char cell[128];
	snprintf(cell, sizeof(cell), "<td class=\"path\">%s</td>", name);
	assert_int_equal(count_between(dom, "trend-table", "changes", cell), 1);
	const char *body = section(dom, "header", "footer", &len);
	assert_int_equal(count_in(body, len, "ggregate"), 0);
	/* its five members are outlined, not the regions between them */
	assert_int_equal(count_between(dom, "treemap", "treemap-note",
				       "class=\"region suspect\""), 5);
	free(dom);
	screenshot(page, "trend-born");
	free(page);
}

/* Three snapshot files make a trend too. */
static void three_files_make_a_trend(void **state)
{
	(void)state;
	char *page = path_in("three.html");
	cmd_result res = run_mapsnap_ok(0, "report", "-f", "-o", page, fx.before, fx.after, fx.after,
				NULL);
	assert_non_null(strstr(res.out, "trend view"));
	cmd_result_free(&res);
	char *html = read_file(page, NULL);
	size_t raw;
	json_t *data = page_data(html, &raw);
	assert_string_equal(json_string_value(json_object_get(data, "view")), "trend");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(data, "trend"),
							    "snapshots")), 3);
	json_decref(data);
	free(html);
	free(page);
}

/* ---- hostile paths ---- */

static void expect_inert(const char *dom, size_t hostile_rows)
{
	size_t len = strlen(dom);
	/* Had any of it run, body would carry data-pwned="...". */
	assert_null(strstr(dom, "data-pwned=\""));
	assert_int_equal(count_in(dom, len, "<script"), 2);
	assert_int_equal(count_in(dom, len, "<img"), 0);
	assert_int_equal(attr_num(dom, "match-count", "data-count"), hostile_rows);
}

static void hostile_fixture_paths_render_as_text(void **state)
{
	(void)state;
	need_chromium();
	char *page = path_in("hostile.html");
	report(page, HOSTILE_FIXTURE, NULL);
	char *dom = browse(page, "path=/tmp/*", NULL);
	expect_inert(dom, 4);
	assert_non_null(strstr(dom, "<td class=\"path\">/tmp/a&lt;/script&gt;&lt;script&gt;"
				    "document.body.setAttribute('data-pwned','fixture')"
				    "&lt;/script&gt;</td>"));
	assert_non_null(strstr(dom, "<td class=\"path\">/tmp/&lt;img src=x onerror=\""));
	assert_non_null(strstr(dom, "<td class=\"path\">/tmp/&lt;!--&lt;script&gt;x&lt;/SCRIPT "
				    "&gt;--&gt; &amp; \"quotes\" \\ back</td>"));
	assert_non_null(strstr(dom, "<td class=\"path\">/tmp/line\xe2\x80\xa8sep\xe2\x80\xa9"
				    "para.dat</td>"));
	free(dom);
	free(page);
}

/* A live process whose files sit in a directory named with markup. */
static void hostile_live_paths_render_as_text(void **state)
{
	(void)state;
	need_chromium();
	static const char *const parts[] = {
		"h<",
		"script><script>document.body.setAttribute('data-pwned','live')<",
		"script><img src=x onerror=document.body.setAttribute('data-pwned','img')>",
	};
	char dir[4400];
	snprintf(dir, sizeof(dir), "%s", fx.dir);
	for (size_t k = 0; k < 3; k++) {
		strcat(dir, "/");
		strcat(dir, parts[k]);
		assert_int_equal(mkdir(dir, 0755), 0);
	}
	helper_proc h;
	char *argv[] = { (char *)helper_path("varied_maps"), dir, NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	char *page = path_in("hostile-live.html");
	report(page, pid, NULL);
	char *snapshot = path_in("hostile-live.json");
	assert_int_equal(capture(pid, snapshot), 0);
	helper_stop(&h);
	snap_snapshot *snap = load(snapshot);
	size_t hostile = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		hostile += snap->regions[i].path_len &&
			   strstr(snap->regions[i].path, "data-pwned") != NULL;
	assert_true(hostile >= 3);
	snap_snapshot_free(snap);
	char *dom = browse(page, "path=data-pwned", NULL);
	expect_inert(dom, hostile);
	assert_non_null(strstr(dom, "/h&lt;/script&gt;&lt;script&gt;document.body."
				    "setAttribute('data-pwned','live')&lt;/script&gt;"
				    "&lt;img src=x onerror="));
	free(dom);
	free(snapshot);
	free(page);
}

/* ---- 60,000 regions ---- */

static void big_process_merges_and_pages(void **state)
{
	(void)state;
	need_chromium();
	helper_proc h;
	char count[16];
	snprintf(count, sizeof(count), "%d", BIG_REGIONS);
	char *argv[] = { (char *)helper_path("manymaps"), count, NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	char *snapshot = path_in("big.json");
	assert_int_equal(capture(pid, snapshot), 0);
	helper_stop(&h);
	char *page = path_in("big.html");
	report(page, snapshot, NULL);
	char *dom = browse(page, "page=3", NULL);
	snap_snapshot *snap = load(snapshot);
	assert_true(snap->nregions >= BIG_REGIONS);
	size_t with_rss = regions_with_rss(snap);
	long rects = attr_num(dom, "treemap", "data-rects");
	long singles = (long)count_between(dom, "treemap", "treemap-note", " data-r=\"");
	long merged_rects = (long)count_between(dom, "treemap", "treemap-note", " data-m=\"");
	assert_int_equal(singles, MAX_RECTS);
	assert_int_equal(rects, singles + merged_rects);
	assert_true(merged_rects >= 1);
	assert_int_equal(attr_num(dom, "treemap", "data-regions"), with_rss);
	assert_int_equal(singles + attr_num(dom, "treemap", "data-merged"), with_rss);
	assert_int_equal(attr_num(dom, "regions-table", "data-rows"), snap->nregions);
	assert_int_equal(attr_num(dom, "regions-table", "data-page"), 3);
	assert_int_equal(attr_num(dom, "regions-table", "data-shown"), TABLE_PAGE);
	assert_int_equal(count_between(dom, "regions-table", "tooltip", "<tr data-r="),
			 TABLE_PAGE);
	snap_snapshot_free(snap);
	free(dom);
	screenshot(page, "big");
	free(page);
	free(snapshot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_is_one_file_with_nothing_to_fetch),
		cmocka_unit_test(data_holds_every_region_and_escapes_hostile_paths),
		cmocka_unit_test(every_view_embeds_its_own_data),
		cmocka_unit_test(output_is_safe),
		cmocka_unit_test(api_refuses_a_check_of_another_snapshot),
		cmocka_unit_test(data_has_kinds_and_evidence_of_libsnap),
		cmocka_unit_test(three_files_make_a_trend),
		cmocka_unit_test(map_view_draws_treemap_table_and_findings),
		cmocka_unit_test(url_fragment_filters_the_table_and_treemap),
		cmocka_unit_test(cli_filters_open_the_page_filtered),
		cmocka_unit_test(fragment_mistakes_do_not_empty_the_page),
		cmocka_unit_test(legend_and_groups_take_kinds_from_the_data),
		cmocka_unit_test(unknown_kind_is_drawn_in_a_colour_of_its_own),
		cmocka_unit_test(details_and_table_say_why),
		cmocka_unit_test(diff_view_highlights_grown_new_duplicated),
		cmocka_unit_test(diff_view_highlights_vanished),
		cmocka_unit_test(diff_view_filters_by_change),
		cmocka_unit_test(diff_view_shows_each_change_with_its_evidence),
		cmocka_unit_test(trend_view_charts_total_and_suspects),
		cmocka_unit_test(trend_view_follows_regions_born_during_the_series),
		cmocka_unit_test(hostile_fixture_paths_render_as_text),
		cmocka_unit_test(hostile_live_paths_render_as_text),
		cmocka_unit_test(big_process_merges_and_pages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
