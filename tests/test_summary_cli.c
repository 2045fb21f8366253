/* mapsnap summary and mapsnap check end to end: the real binary on live
 * helper processes (tests/helpers/suspicious.c) that provoke each
 * warning sign, on snapshot files, in every format; --strict exit codes
 * 0/1/2 and usage errors. Expected addresses and paths come from the
 * helper's own replies, not from mapsnap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define BIG_ANON_KB 16384
#define SMALL_MAPS 300

struct provoked {
	char deleted_file[4400], deleted_lib[4400];
	unsigned long rwx, patched, big_anon, small_base;
};

static struct {
	char *dir;
	helper_proc clean, dirty, twice;
	char clean_pid[16], dirty_pid[16], twice_pid[16];
	char exe[4096];
	struct provoked got;
} fx;

/* ---- driving the helpers ---- */

static int start(helper_proc *h, char *pid, size_t size)
{
	char *argv[] = { (char *)helper_path("suspicious"), NULL };
	if (helper_start(h, argv) != 0)
		return -1;
	snprintf(pid, size, "%d", h->pid);
	return 0;
}

/* Sends cmd; the reply must start "ok"; *rest gets what follows. */
static int ask(helper_proc *h, const char *cmd, char *rest, size_t size)
{
	char reply[4300];
	if (helper_command(h, cmd, reply, sizeof(reply)) != 0 ||
	    strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "helper: %s -> %s\n", cmd, reply);
		return -1;
	}
	if (rest)
		snprintf(rest, size, "%s", reply[2] == ' ' ? reply + 3 : "");
	return 0;
}

static int ask_hex(helper_proc *h, const char *cmd, unsigned long *out)
{
	char rest[64];
	if (ask(h, cmd, rest, sizeof(rest)) != 0)
		return -1;
	*out = strtoul(rest, NULL, 16);
	return 0;
}

static int provoke_all(helper_proc *h, struct provoked *p)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "big-anon %d", BIG_ANON_KB);
	char small[64];
	snprintf(small, sizeof(small), "small-maps %d", SMALL_MAPS);
	return ask(h, "deleted-file", p->deleted_file, sizeof(p->deleted_file)) ||
	       ask(h, "deleted-lib", p->deleted_lib, sizeof(p->deleted_lib)) ||
	       ask_hex(h, "rwx 64", &p->rwx) || ask_hex(h, "patch-code", &p->patched) ||
	       ask(h, "threads 3", NULL, 0) || ask(h, "sparse-heap 32768", NULL, 0) ||
	       ask_hex(h, small, &p->small_base) || ask_hex(h, cmd, &p->big_anon);
}

static int setup(void **state)
{
	(void)state;
	char line[4096];
	fx.dir = make_tmpdir();
	if (!fx.dir || start(&fx.clean, fx.clean_pid, sizeof(fx.clean_pid)) ||
	    start(&fx.dirty, fx.dirty_pid, sizeof(fx.dirty_pid)) ||
	    start(&fx.twice, fx.twice_pid, sizeof(fx.twice_pid)) ||
	    provoke_all(&fx.dirty, &fx.got) || ask(&fx.twice, "dlmopen", NULL, 0))
		return -1;
	/* The helpers' executable and library, as the kernel names them. */
	snprintf(line, sizeof(line), "/proc/%s/exe", fx.clean_pid);
	ssize_t n = readlink(line, fx.exe, sizeof(fx.exe) - 1);
	if (n <= 0)
		return -1;
	fx.exe[n] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	helper_stop(&fx.clean);
	helper_stop(&fx.dirty);
	helper_stop(&fx.twice);
	if (fx.dir)
		remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- running the binary ---- */

static json_t *parse(const cmd_result *res)
{
	json_error_t jerr;
	json_t *doc = json_loads(res->out, 0, &jerr);
	if (!doc)
		fail_msg("not JSON (%s): %.300s", jerr.text, res->out);
	return doc;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* The findings of a check report with this rule. */
static size_t findings_of(json_t *doc, const char *rule, json_t **out, size_t max)
{
	size_t n = 0, k;
	json_t *f;
	json_array_foreach(json_object_get(doc, "findings"), k, f)
		if (strcmp(str(f, "rule"), rule) == 0 && n < max)
			out[n++] = f;
	return n;
}

/* The finding of rule that involves a region starting at start. */
static json_t *finding_at(json_t *doc, const char *rule, unsigned long start)
{
	json_t *found[64];
	size_t n = findings_of(doc, rule, found, 64);
	for (size_t k = 0; k < n; k++) {
		size_t m;
		json_t *r;
		json_array_foreach(json_object_get(found[k], "regions"), m, r) {
			unsigned long s = strtoul(str(r, "start"), NULL, 16);
			unsigned long e = strtoul(str(r, "end"), NULL, 16);
			if (s <= start && start < e)
				return found[k];
		}
	}
	return NULL;
}

/* The finding of rule that involves a region whose path is path. */
static json_t *finding_path(json_t *doc, const char *rule, const char *path)
{
	json_t *found[64];
	size_t n = findings_of(doc, rule, found, 64);
	for (size_t k = 0; k < n; k++) {
		size_t m;
		json_t *r;
		json_array_foreach(json_object_get(found[k], "regions"), m, r)
			if (strcmp(str(r, "path"), path) == 0)
				return found[k];
	}
	return NULL;
}

static json_t *check_json(const char *pid)
{
	cmd_result res = run_mapsnap_ok(0, "check", "--format", "json", "--large-anon", "8M",
				"--dirty-min", "8M", pid, NULL);
	json_t *doc = parse(&res);
	cmd_result_free(&res);
	assert_string_equal(str(doc, "schema"), "mapsnap.check/1");
	return doc;
}

/* ---- check on live processes ---- */

static void check_live_deleted_and_rwx(void **state)
{
	(void)state;
	json_t *doc = check_json(fx.dirty_pid);
	char path[4500];
	snprintf(path, sizeof(path), "%s (deleted)", fx.got.deleted_lib);
	json_t *lib = finding_path(doc, "deleted-mapping", path);
	assert_non_null(lib);
	assert_string_equal(str(lib, "severity"), "warning");
	snprintf(path, sizeof(path), "%s (deleted)", fx.got.deleted_file);
	json_t *data = finding_path(doc, "deleted-mapping", path);
	assert_non_null(data);
	assert_string_equal(str(data, "severity"), "info");
	json_t *wx = finding_at(doc, "writable-executable", fx.got.rwx);
	assert_non_null(wx);
	json_t *r = json_array_get(json_object_get(wx, "regions"), 0);
	assert_string_equal(str(r, "perms"), "rwxp");
	assert_string_equal(str(r, "kind"), "anon");
	assert_string_equal(str(r, "evidence"), "anonymous");
	assert_string_equal(str(wx, "severity"), "warning");
	/* the deleted copy is a library by its name */
	size_t k;
	json_array_foreach(json_object_get(lib, "regions"), k, r) {
		assert_string_equal(str(r, "kind"), "lib");
		assert_string_equal(str(r, "evidence"), "soname");
	}
	/* the copy of the library is a second libz: a duplicate */
	snprintf(path, sizeof(path), "%s (deleted)", fx.got.deleted_lib);
	assert_non_null(finding_path(doc, "duplicated-library", path));
	json_decref(doc);
}

static void check_live_patched_threads_heap(void **state)
{
	(void)state;
	json_t *doc = check_json(fx.dirty_pid);
	json_t *patched = finding_at(doc, "patched-code", fx.got.patched);
	assert_non_null(patched);
	assert_string_equal(str(json_array_get(json_object_get(patched, "regions"), 0),
				"path"), fx.exe);
	json_t *stacks[4];
	assert_int_equal(findings_of(doc, "thread-stacks", stacks, 4), 1);
	assert_int_equal(json_array_size(json_object_get(stacks[0], "regions")), 3);
	assert_non_null(strstr(str(stacks[0], "message"), "the process has 4 threads"));
	/* each found by its thread's stack pointer or the kernel's MAP_STACK
	 * mark, never by the bare pattern on this kernel */
	size_t k;
	json_t *r;
	json_array_foreach(json_object_get(stacks[0], "regions"), k, r)
		if (strcmp(str(r, "evidence"), "stack-pointer") != 0 &&
		    strcmp(str(r, "evidence"), "map-stack") != 0)
			fail_msg("thread stack %s: evidence %s", str(r, "start"),
				 str(r, "evidence"));
	assert_non_null(finding_path(doc, "heap-fragmentation", "[heap]"));
	json_t *small = finding_at(doc, "heap-fragmentation", fx.got.small_base);
	assert_non_null(small);
	assert_true(json_array_size(json_object_get(small, "regions")) >= SMALL_MAPS);
	json_t *big = finding_at(doc, "large-anonymous", fx.got.big_anon);
	assert_non_null(big);
	assert_string_equal(str(big, "severity"), "warning");
	assert_int_equal(num(big, "size_kb"), BIG_ANON_KB);
	assert_non_null(finding_at(doc, "private-dirty-ratio", fx.got.big_anon));
	json_decref(doc);
}

static void check_live_map_count_uses_the_host_limit(void **state)
{
	(void)state;
	char *text = read_file("/proc/sys/vm/max_map_count", NULL);
	assert_non_null(text);
	long limit = strtol(text, NULL, 10);
	free(text);
	json_t *doc = check_json(fx.dirty_pid);
	assert_int_equal(num(json_object_get(doc, "thresholds"), "max_map_count"), limit);
	assert_int_equal(json_array_size(json_object_get(doc, "skipped")), 0);
	json_t *none[1];
	assert_int_equal(findings_of(doc, "map-count", none, 1), 0);
	json_decref(doc);
	/* a lower limit, as an option: the helper's 300+ regions are over 90% */
	cmd_result res = run_mapsnap_ok(1, "check", "--strict", "--format", "json", "--only",
				"map-count", "--max-map-count", "320", fx.dirty_pid, NULL);
	doc = parse(&res);
	json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
	assert_non_null(f);
	assert_string_equal(str(f, "rule"), "map-count");
	assert_string_equal(str(f, "severity"), "error");
	assert_int_equal(json_array_size(json_object_get(doc, "findings")), 1);
	json_decref(doc);
	cmd_result_free(&res);
}

static void check_live_dlmopen_duplicate(void **state)
{
	(void)state;
	json_t *doc = check_json(fx.twice_pid);
	json_t *dups[8];
	size_t n = findings_of(doc, "duplicated-library", dups, 8);
	bool libz = false;
	for (size_t k = 0; k < n; k++) {
		const char *msg = str(dups[k], "message");
		if (strncmp(msg, "libz.so ", 8) == 0 || strncmp(msg, "libm.so ", 8) == 0) {
			libz = true;
			assert_non_null(strstr(msg, "2 times from one file"));
		}
	}
	assert_true(libz);
	json_decref(doc);
}

static void check_live_clean_process(void **state)
{
	(void)state;
	json_t *doc = check_json(fx.clean_pid);
	json_t *counts = json_object_get(doc, "counts");
	assert_int_equal(num(counts, "warning"), 0);
	assert_int_equal(num(counts, "error"), 0);
	json_decref(doc);
	cmd_result res = run_mapsnap_ok(0, "check", "--strict", fx.clean_pid, NULL);
	assert_non_null(strstr(res.out, "Nothing suspicious found."));
	cmd_result_free(&res);
}

/* ---- exit codes and usage ---- */

static void check_strict_exit_codes(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(1, "check", "--strict", fx.dirty_pid, NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "check", fx.dirty_pid, NULL);
	cmd_result_free(&res);
	/* only info findings: --strict passes */
	res = run_mapsnap_ok(0, "check", "--strict", "--only", "thread-stacks", fx.dirty_pid, NULL);
	assert_non_null(strstr(res.out, "INFO     thread-stacks:"));
	cmd_result_free(&res);
	char missing[4200];
	snprintf(missing, sizeof(missing), "%s/no-such-file.json", fx.dir);
	res = run_mapsnap_ok(2, "check", "--strict", missing, NULL);
	assert_int_equal(strncmp(res.err, "mapsnap: ", 9), 0);
	assert_non_null(strstr(res.err, "no-such-file.json"));
	cmd_result_free(&res);
	static const char *const bad[][2] = {
		{ "--only", "no-such-rule" }, { "--heap-ratio", "0.5" },
		{ "--dirty-ratio", "150" }, { "--large-anon", "big" },
		{ "--format", "html" }, { "--max-map-count", "0" },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		res = run_mapsnap_ok(2, "check", bad[k][0], bad[k][1], fx.clean_pid, NULL);
		assert_int_equal(strncmp(res.err, "mapsnap: check: ", 16), 0);
		cmd_result_free(&res);
	}
	res = run_mapsnap_ok(2, "check", "--no-such-option", fx.clean_pid, NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "check", NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "check", "--help", NULL);
	assert_int_equal(strncmp(res.out, "usage: mapsnap check", 20), 0);
	assert_non_null(strstr(res.out, "patched-code"));
	cmd_result_free(&res);
}

/* ---- files and formats ---- */

static const char *captured(void)
{
	static char path[4200];
	if (!path[0]) {
		snprintf(path, sizeof(path), "%s/dirty.json", fx.dir);
		cmd_result res = run_mapsnap_ok(0, "capture", fx.dirty_pid, "-o", path, NULL);
		cmd_result_free(&res);
		/* as a file written before captures recorded vm.max_map_count */
		size_t len;
		char *text = read_file(path, &len);
		char *at = strstr(text, ",\"max_map_count\":");
		assert_non_null(at);
		size_t n = strlen(",\"max_map_count\":");
		n += strspn(at + n, "0123456789");
		memmove(at, at + n, len - (size_t)(at - text) - n + 1);
		assert_int_equal(write_file(path, text, strlen(text)), 0);
		free(text);
	}
	return path;
}

static void check_file_formats(void **state)
{
	(void)state;
	const char *file = captured();
	cmd_result res = run_mapsnap_ok(0, "check", "--format", "json", file, NULL);
	json_t *doc = parse(&res);
	cmd_result_free(&res);
	/* a file does not record vm.max_map_count: said, not guessed */
	json_t *skipped = json_object_get(doc, "skipped");
	assert_int_equal(json_array_size(skipped), 1);
	assert_non_null(strstr(json_string_value(json_array_get(skipped, 0)), "map-count"));
	assert_non_null(finding_at(doc, "writable-executable", fx.got.rwx));
	assert_string_equal(str(doc, "label"), file);
	json_decref(doc);

	res = run_mapsnap_ok(1, "check", "--strict", "--regions", "2", file, NULL);
	assert_non_null(strstr(res.out, "WARNING  writable-executable:"));
	assert_non_null(strstr(res.out, "advice: "));
	assert_non_null(strstr(res.out, "not checked: map-count"));
	assert_non_null(strstr(res.out, "regions in all"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "check", "--format", "markdown", file, NULL);
	assert_non_null(strstr(res.out, "### mapsnap check"));
	assert_non_null(strstr(res.out, "| severity | rule | finding | regions | advice |"));
	assert_non_null(strstr(res.out, "| warning | writable-executable |"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "check", "--max-map-count", "100", "--format", "json", file, NULL);
	doc = parse(&res);
	assert_int_equal(json_array_size(json_object_get(doc, "skipped")), 0);
	json_t *mc[1];
	assert_int_equal(findings_of(doc, "map-count", mc, 1), 1);
	json_decref(doc);
	cmd_result_free(&res);
}

static void check_crafted_smaps_on_stdin(void **state)
{
	(void)state;
	char *text = read_file("fixtures/check/writable-executable.smaps", NULL);
	assert_non_null(text);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, text, "check", "--strict", "-", NULL), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "/opt/plugin/old-textrel.so is mapped rwx"));
	cmd_result_free(&res);
	free(text);
	text = read_file("fixtures/check/writable-executable-ok.smaps", NULL);
	assert_int_equal(run_mapsnap(&res, text, "check", "--strict", "--only",
				     "writable-executable", "-", NULL), 0);
	assert_int_equal(res.status, 0);
	cmd_result_free(&res);
	free(text);
}

/* ---- summary ---- */

static json_t *summary_json(const char *arg, ...)
{
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)mapsnap_bin();
	argv[n++] = "summary";
	argv[n++] = "--format";
	argv[n++] = "json";
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 30; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("summary exited %d: %s", res.status, res.err);
	json_t *doc = parse(&res);
	cmd_result_free(&res);
	assert_string_equal(str(doc, "schema"), "mapsnap.summary/1");
	return doc;
}

static void summary_live(void **state)
{
	(void)state;
	json_t *doc = summary_json(fx.dirty_pid, NULL);
	json_t *p = json_object_get(doc, "process");
	assert_int_equal(num(p, "pid"), fx.dirty.pid);
	assert_string_equal(str(p, "exe"), fx.exe);
	json_t *totals = json_object_get(doc, "totals");
	assert_int_equal(num(totals, "regions"), num(doc, "regions"));
	/* by kind adds up to the totals */
	long long regions = 0, rss = 0;
	size_t k;
	json_t *row;
	json_array_foreach(json_object_get(doc, "by_kind"), k, row) {
		regions += num(row, "regions");
		rss += num(row, "Rss");
	}
	assert_int_equal(regions, num(totals, "regions"));
	assert_int_equal(rss, num(totals, "Rss"));
	/* the helper wrote all of its 16M region: the most resident one */
	json_t *top = json_array_get(json_object_get(doc, "top_regions"), 0);
	assert_int_equal(strtoul(str(top, "start"), NULL, 16), fx.got.big_anon);
	assert_int_equal(num(top, "Rss"), BIG_ANON_KB);
	assert_string_equal(str(top, "kind"), "anon");
	assert_string_equal(str(top, "evidence"), "anonymous");
	json_t *stacks = json_object_get(doc, "thread_stacks");
	assert_int_equal(num(stacks, "count"), 3);
	assert_int_equal(num(stacks, "threads"), 4);
	/* the rollup was read alongside; the idle helper's own counters
	 * agree (Pss also moves with other processes) */
	json_t *rows = json_object_get(json_object_get(doc, "rollup"), "rows");
	assert_int_equal(json_array_size(rows), 4);
	json_array_foreach(rows, k, row)
		if (strcmp(str(row, "counter"), "Pss") != 0 &&
		    !json_is_true(json_object_get(row, "agrees")))
			fail_msg("%s: summed %lld, rollup %lld", str(row, "counter"),
				 num(row, "summed"), num(row, "rollup"));
	bool exe = false;
	json_array_foreach(json_object_get(doc, "libraries"), k, row)
		exe |= strcmp(str(row, "path"), fx.exe) == 0 &&
		       strcmp(str(row, "kind"), "exe") == 0;
	assert_true(exe);
	json_decref(doc);
}

static void summary_metric_and_filters(void **state)
{
	(void)state;
	/* the sbrk'd heap (32M and more) is the largest region by Size */
	json_t *doc = summary_json("--metric", "size", "--top", "1", fx.dirty_pid, NULL);
	json_t *tops = json_object_get(doc, "top_regions");
	assert_int_equal(json_array_size(tops), 1);
	assert_string_equal(str(json_array_get(tops, 0), "path"), "[heap]");
	assert_string_equal(str(json_array_get(tops, 0), "kind"), "heap");
	assert_string_equal(str(json_array_get(tops, 0), "evidence"), "name");
	assert_string_equal(str(doc, "metric"), "Size");
	json_decref(doc);

	doc = summary_json("--kind", "thread-stack", fx.dirty_pid, NULL);
	assert_true(json_is_true(json_object_get(doc, "filtered")));
	assert_string_equal(str(doc, "filter"), "--kind thread-stack");
	assert_int_equal(num(json_object_get(doc, "totals"), "regions"), 3);
	assert_true(json_is_null(json_object_get(doc, "rollup")));
	json_decref(doc);

	doc = summary_json("--min-size", "16M", "--max-size", "16M", fx.dirty_pid, NULL);
	size_t k;
	json_t *r;
	json_array_foreach(json_object_get(doc, "top_regions"), k, r)
		assert_int_equal(num(r, "Size"), BIG_ANON_KB);
	assert_true(json_array_size(json_object_get(doc, "top_regions")) >= 1);
	json_decref(doc);
}

static void summary_text_and_markdown(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(0, "summary", "--libs", "2", fx.dirty_pid, NULL);
	static const char *const text_parts[] = {
		"mapsnap summary: suspicious (pid ", "TOTALS", "BY KIND", "%Rss",
		"TOP 10 REGIONS by Rss", "LIBRARIES by Rss:", ", the first 2",
		"THREAD STACKS  3, Size 24.0M", "(the process has 4 threads)",
		"MALLOC ARENAS",
	};
	for (size_t k = 0; k < sizeof(text_parts) / sizeof(*text_parts); k++)
		if (!strstr(res.out, text_parts[k]))
			fail_msg("no '%s' in:\n%s", text_parts[k], res.out);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "summary", "--format", "markdown", fx.dirty_pid, NULL);
	static const char *const md_parts[] = {
		"### mapsnap summary", "#### Totals and kinds",
		"| kind | Size | Rss | Pss | Private_Dirty | Swap | regions |",
		"| **total** |", "#### Top 10 regions by Rss", "- Thread stacks: 3",
	};
	for (size_t k = 0; k < sizeof(md_parts) / sizeof(*md_parts); k++)
		if (!strstr(res.out, md_parts[k]))
			fail_msg("no '%s' in:\n%s", md_parts[k], res.out);
	cmd_result_free(&res);
}

static void summary_torn_file(void **state)
{
	(void)state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/torn.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", "--from-smaps",
				"fixtures/check/summary-torn.smaps", "--proc-files", "-o",
				path, NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "summary", path, NULL);
	assert_non_null(strstr(res.out, "WARNING: the summed smaps disagree with "
				"smaps_rollup"));
	assert_non_null(strstr(res.out, "<- differs"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "summary", "--format", "json", path, NULL);
	json_t *doc = parse(&res);
	assert_true(json_is_false(json_object_get(json_object_get(doc, "rollup"), "agrees")));
	assert_non_null(strstr(res.err, "torn read"));
	json_decref(doc);
	cmd_result_free(&res);
	/* the same regions with a matching rollup: no warning */
	snprintf(path, sizeof(path), "%s/whole.json", fx.dir);
	res = run_mapsnap_ok(0, "capture", "--from-smaps", "fixtures/check/summary.smaps",
		     "--proc-files", "-o", path, NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "summary", "--format", "json", path, NULL);
	doc = parse(&res);
	assert_true(json_is_true(json_object_get(json_object_get(doc, "rollup"), "agrees")));
	assert_string_equal(res.err, "");
	json_decref(doc);
	cmd_result_free(&res);
}

static void summary_usage_errors(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(0, "summary", "--help", NULL);
	assert_int_equal(strncmp(res.out, "usage: mapsnap summary", 22), 0);
	assert_non_null(strstr(res.out, "--kind LIST"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "summary", NULL);
	assert_int_equal(strncmp(res.err, "mapsnap: summary: ", 18), 0);
	cmd_result_free(&res);
	static const char *const bad[][2] = {
		{ "--metric", "weight" }, { "--top", "-1" }, { "--kind", "nosuchkind" },
		{ "--min-size", "huge" }, { "--format", "xml" },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		res = run_mapsnap_ok(2, "summary", bad[k][0], bad[k][1], fx.clean_pid, NULL);
		assert_int_equal(strncmp(res.err, "mapsnap: summary: ", 18), 0);
		cmd_result_free(&res);
	}
	char missing[4200];
	snprintf(missing, sizeof(missing), "%s/missing.json", fx.dir);
	res = run_mapsnap_ok(2, "summary", missing, NULL);
	assert_non_null(strstr(res.err, "missing.json"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "summary", "--bogus", fx.clean_pid, NULL);
	cmd_result_free(&res);
	/* text that is neither a snapshot nor smaps */
	assert_int_equal(run_mapsnap(&res, "hello\n", "summary", "-", NULL), 0);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_live_deleted_and_rwx),
		cmocka_unit_test(check_live_patched_threads_heap),
		cmocka_unit_test(check_live_map_count_uses_the_host_limit),
		cmocka_unit_test(check_live_dlmopen_duplicate),
		cmocka_unit_test(check_live_clean_process),
		cmocka_unit_test(check_strict_exit_codes),
		cmocka_unit_test(check_file_formats),
		cmocka_unit_test(check_crafted_smaps_on_stdin),
		cmocka_unit_test(summary_live),
		cmocka_unit_test(summary_metric_and_filters),
		cmocka_unit_test(summary_text_and_markdown),
		cmocka_unit_test(summary_torn_file),
		cmocka_unit_test(summary_usage_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
