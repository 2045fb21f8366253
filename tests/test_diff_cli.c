/* mapsnap diff and mapsnap around end to end: the real binary on the
 * staged helper (tests/helpers/stages.c), captured between stages with
 * `mapsnap capture`; each expected change is asserted in the JSON report,
 * and nothing spurious beside it. Also: two runs of the helper diff to
 * (almost) nothing, `around`, gate exit codes, usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util.h"

/* What a stage does to memory it did not ask for: a page or two of stack
 * or of libc's data written on a new code path. Rss of file pages is not
 * compared at all: fault-around maps whatever the page cache holds at
 * that moment and reclaim drops it again, so it depends on every other
 * process on the machine; what the helper itself wrote (Anonymous) does
 * not. */
#define NOISE_KB 256

struct fixture {
	char *dir;
	helper_proc helper;
	char pid[16];
	int snaps;      /* s0.json ... s<snaps-1>.json captured so far */
};

static struct fixture fx;

static void start_stages(helper_proc *h)
{
	char *argv[] = { (char *)helper_path("stages"), NULL };
	assert_int_equal(helper_start(h, argv), 0);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	char *argv[] = { (char *)helper_path("stages"), NULL };
	if (!fx.dir || helper_start(&fx.helper, argv) != 0)
		return -1;
	snprintf(fx.pid, sizeof(fx.pid), "%d", fx.helper.pid);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	helper_stop(&fx.helper);
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

static const char *snap_path(int k)
{
	static char path[4][4200];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/s%d.json", fx.dir, k);
	return p;
}

/* ---- driving the helper and the binary ---- */

static void stage(helper_proc *h, const char *cmd, char *reply, size_t size)
{
	char buf[4200];
	if (!reply) {
		reply = buf;
		size = sizeof(buf);
	}
	assert_int_equal(helper_command(h, cmd, reply, size), 0);
	if (strncmp(reply, "ok", 2) != 0)
		fail_msg("helper: %s -> %s", cmd, reply);
}

static void capture(const char *pid, const char *path)
{
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", pid, "-o", path, "-f",
				     NULL), 0);
	if (res.status != 0)
		fail_msg("capture exited %d: %s", res.status, res.err);
	cmd_result_free(&res);
}

/* Captures the next snapshot of the staged helper. */
static void capture_next(void)
{
	capture(fx.pid, snap_path(fx.snaps++));
}

static json_t *diff_json(const char *a, const char *b)
{
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--format", "json", a, b,
				     NULL), 0);
	if (res.status != 0)
		fail_msg("diff exited %d: %s", res.status, res.err);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	if (!doc)
		fail_msg("diff JSON: %s", jerr.text);
	cmd_result_free(&res);
	return doc;
}

/* The diff between the last two snapshots of the staged helper. */
static json_t *last_diff(void)
{
	return diff_json(snap_path(fx.snaps - 2), snap_path(fx.snaps - 1));
}

/* ---- reading the report ---- */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static long long delta(json_t *change, const char *counter)
{
	return num(json_object_get(change, "delta"), counter);
}

static unsigned long long hex(json_t *side, const char *key)
{
	return strtoull(str(side, key), NULL, 16);
}

static bool is(json_t *c, const char *change, const char *kind)
{
	return strcmp(str(c, "change"), change) == 0 &&
	       (!kind || strcmp(str(c, "kind"), kind) == 0);
}

static size_t count(json_t *doc, const char *change, const char *kind)
{
	size_t n = 0, i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c)
		n += is(c, change, kind);
	return n;
}

static json_t *find(json_t *doc, const char *change, const char *kind)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c)
		if (is(c, change, kind))
			return c;
	fail_msg("no %s %s change", change, kind ? kind : "");
	return NULL;
}

/* Nothing but `expected` changes of memory layout beside `known` (the
 * stage's own grown or shrunk change, or NULL); what existing regions
 * hold of the helper's own writes may move a little. */
static void nothing_else(json_t *doc, size_t expected, json_t *known)
{
	size_t i, structural = 0;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c) {
		if (c == known)
			continue;
		if (is(c, "grown", NULL) || is(c, "shrunk", NULL)) {
			if (delta(c, "Size") != 0)
				fail_msg("spurious size change: %s %s %s", str(c, "change"),
					 str(c, "kind"), str(c, "path"));
			if (llabs(delta(c, "Anonymous")) > NOISE_KB)
				fail_msg("spurious Anonymous change %lld: %s %s",
					 delta(c, "Anonymous"), str(c, "kind"), str(c, "path"));
		} else {
			structural++;
		}
	}
	if (structural != expected)
		fail_msg("%zu structural changes, expected %zu", structural, expected);
}

static long long total_delta(json_t *doc, const char *counter)
{
	return num(json_object_get(json_object_get(doc, "totals"), "delta"), counter);
}

/* ---- the stages, in order ---- */

static void s0_baseline(void **state)
{
	(void)state;
	capture_next();
	capture_next();
	json_t *doc = last_diff();
	assert_true(json_is_true(json_object_get(doc, "same_process")));
	assert_string_equal(str(doc, "matching"), "address");
	nothing_else(doc, 0, NULL);
	assert_int_equal(total_delta(doc, "Size"), 0);
	json_decref(doc);
}

static void s1_grow_heap(void **state)
{
	(void)state;
	stage(&fx.helper, "grow-heap 8192", NULL, 0);
	capture_next();
	json_t *doc = last_diff();
	json_t *heap = find(doc, "grown", "heap");
	assert_int_equal(delta(heap, "Size"), 8192);
	assert_true(delta(heap, "Rss") >= 8192);
	json_t *mapped = json_object_get(heap, "mapped");
	assert_int_equal(json_array_size(mapped), 1);
	json_t *m = json_array_get(mapped, 0);
	assert_int_equal(hex(m, "end") - hex(m, "start"), 8192 * 1024);
	assert_int_equal(hex(m, "end"), hex(json_object_get(heap, "new"), "end"));
	nothing_else(doc, 0, heap);
	assert_int_equal(total_delta(doc, "Size"), 8192);
	json_decref(doc);
}

static void s2_mmap_anon(void **state)
{
	(void)state;
	char reply[128];
	stage(&fx.helper, "mmap-anon 65536", reply, sizeof(reply));
	unsigned long long start, end;
	assert_int_equal(sscanf(reply, "ok %llx %llx", &start, &end), 2);
	capture_next();
	json_t *doc = last_diff();
	/* the kernel may merge it with an anonymous neighbour: then it is a
	 * grown region whose mapped range is exactly the new mmap */
	json_t *c = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(doc, "changes"), i, e)
		if (strcmp(str(e, "kind"), "anon") == 0 && delta(e, "Size") == 65536)
			c = e;
	if (!c) {
		char *dump = json_dumps(json_object_get(doc, "changes"), JSON_INDENT(1));
		fail_msg("no 64M anon change in %s", dump);
	}
	if (is(c, "new", NULL)) {
		assert_int_equal(hex(json_object_get(c, "new"), "start"), start);
		assert_int_equal(hex(json_object_get(c, "new"), "end"), end);
	} else {
		json_t *m = json_array_get(json_object_get(c, "mapped"), 0);
		assert_int_equal(hex(m, "start"), start);
		assert_int_equal(hex(m, "end"), end);
	}
	assert_true(delta(c, "Rss") >= 65536);
	assert_true(delta(c, "Private_Dirty") >= 65536);
	nothing_else(doc, 0, c);
	assert_int_equal(total_delta(doc, "Size"), 65536);
	json_decref(doc);
}

static void s3_load_copy(void **state)
{
	(void)state;
	char reply[4200];
	stage(&fx.helper, "load-copy", reply, sizeof(reply));
	const char *copy = reply + 3;
	capture_next();
	json_t *doc = last_diff();
	json_t *dup = find(doc, "duplicated", "lib");
	assert_string_equal(str(dup, "path"), copy);
	assert_true(json_is_true(json_object_get(dup, "image")));
	assert_int_equal(num(doc, "new_libs"), 1);
	json_t *libs = json_object_get(doc, "duplicated_libraries");
	assert_int_equal(json_array_size(libs), 1);
	json_t *lib = json_array_get(libs, 0);
	assert_true(json_is_true(json_object_get(lib, "new_in_new")));
	assert_true(json_is_false(json_object_get(lib, "same_file")));
	json_t *images = json_object_get(lib, "images");
	assert_int_equal(json_array_size(images), 2);
	bool saw_copy = false;
	size_t i;
	json_t *img;
	json_array_foreach(images, i, img)
		saw_copy |= strcmp(str(img, "path"), copy) == 0;
	assert_true(saw_copy);
	nothing_else(doc, 0, dup);
	json_decref(doc);
}

/* dlmopen maps the library again (same inode) in a new namespace, with
 * its own copy of libc and libc's bss. */
static void s4_dlmopen(void **state)
{
	(void)state;
	stage(&fx.helper, "dlmopen", NULL, 0);
	capture_next();
	json_t *doc = last_diff();
	size_t i, dups = 0, anon = 0;
	json_t *c;
	json_t *bss = NULL;
	json_array_foreach(json_object_get(doc, "changes"), i, c) {
		if (is(c, "duplicated", "lib"))
			dups++;
		else if (is(c, "new", "anon") && delta(c, "Size") <= 1024)
			anon++;
		else if (is(c, "grown", "anon") && delta(c, "Size") > 0 &&
			 delta(c, "Size") <= 1024 &&
			 json_array_size(json_object_get(c, "mapped")) == 1)
			bss = c; /* libc's bss merged into an anonymous neighbour */
	}
	assert_true(dups >= 1);
	assert_int_equal(num(doc, "new_libs"), (long long)dups);
	json_t *lib;
	bool same_file = false;
	json_array_foreach(json_object_get(doc, "duplicated_libraries"), i, lib)
		same_file |= json_is_true(json_object_get(lib, "same_file"));
	assert_true(same_file);
	nothing_else(doc, dups + anon, bss);
	json_decref(doc);
}

static void s5_threads(void **state)
{
	(void)state;
	stage(&fx.helper, "threads 3", NULL, 0);
	capture_next();
	json_t *doc = last_diff();
	assert_int_equal(count(doc, "new", "thread-stack"), 3);
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_STACK, &rl), 0);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c) {
		/* A change is one kind of memory: each stack, then its guard page. */
		if (is(c, "new", "guard"))
			assert_int_equal(delta(c, "Size"), 4);
		if (!is(c, "new", "thread-stack"))
			continue;
		assert_int_equal(num(json_object_get(c, "new"), "regions"), 1);
		/* a thread still on its way to block has no stack pointer to read */
		assert_true(strcmp(str(c, "evidence"), "stack-pointer") == 0 ||
			    strcmp(str(c, "evidence"), "map-stack") == 0);
		if (rl.rlim_cur != RLIM_INFINITY)
			assert_int_equal(delta(c, "Size"), (long long)(rl.rlim_cur / 1024));
	}
	assert_int_equal(count(doc, "new", "guard"), 3);
	json_t *ts = json_object_get(doc, "thread_stacks");
	assert_int_equal(num(ts, "new") - num(ts, "old"), 3);
	nothing_else(doc, 6, NULL);
	json_decref(doc);
}

static void s6_munmap(void **state)
{
	(void)state;
	char reply[128];
	stage(&fx.helper, "munmap", reply, sizeof(reply));
	unsigned long long start, end;
	assert_int_equal(sscanf(reply, "ok %llx %llx", &start, &end), 2);
	capture_next();
	json_t *doc = last_diff();
	json_t *c = NULL, *e;
	size_t i;
	json_array_foreach(json_object_get(doc, "changes"), i, e)
		if (delta(e, "Size") == -65536)
			c = e;
	assert_non_null(c);
	if (is(c, "vanished", "anon")) {
		assert_int_equal(hex(json_object_get(c, "old"), "start"), start);
	} else {
		json_t *u = json_array_get(json_object_get(c, "unmapped"), 0);
		assert_int_equal(hex(u, "start"), start);
		assert_int_equal(hex(u, "end"), end);
	}
	nothing_else(doc, 0, c);
	assert_int_equal(total_delta(doc, "Size"), -65536);
	json_decref(doc);
}

/* A thread that mallocs gets a glibc arena: its committed part and its
 * reserve are one new change, 64 MiB, beside the thread's stack. */
static void s7_arena(void **state)
{
	(void)state;
	stage(&fx.helper, "arena", NULL, 0);
	capture_next();
	json_t *doc = last_diff();
	json_t *arena = find(doc, "new", "arena");
	assert_int_equal(delta(arena, "Size"), 65536);
	assert_int_equal(num(json_object_get(arena, "new"), "regions"), 2);
	assert_true(delta(arena, "Rss") >= 100);
	assert_int_equal(count(doc, "new", "thread-stack"), 1);
	assert_int_equal(count(doc, "new", "guard"), 1);
	nothing_else(doc, 3, NULL);
	json_decref(doc);
}

/* Appends the snapshot files s0..s<last> into one series file. */
static void write_series(const char *series, int last)
{
	FILE *out = fopen(series, "w");
	assert_non_null(out);
	for (int k = 0; k <= last; k++) {
		FILE *in = fopen(snap_path(k), "r");
		assert_non_null(in);
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
	}
	assert_int_equal(fclose(out), 0);
}

/* One series file alone: its first snapshot against its last, the same
 * report as the two files given apart (labels aside). */
static void diff_of_a_series_file(void **state)
{
	(void)state;
	char series[4200];
	snprintf(series, sizeof(series), "%s/series.json", fx.dir);
	int last = fx.snaps - 1;
	write_series(series, last);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--format", "json", series,
				     NULL), 0);
	assert_int_equal(res.status, 0);
	json_error_t jerr;
	json_t *one = json_loads(res.out, 0, &jerr);
	cmd_result_free(&res);
	json_t *two = diff_json(snap_path(0), snap_path(last));
	assert_non_null(one);
	char want[64];
	snprintf(want, sizeof(want), " (last of %d)", last + 1);
	const char *label = str(json_object_get(one, "new"), "label");
	assert_non_null(strstr(label, want));
	for (int side = 0; side < 2; side++) {
		const char *key = side ? "new" : "old";
		json_object_del(json_object_get(one, key), "label");
		json_object_del(json_object_get(two, key), "label");
	}
	assert_true(json_equal(one, two));
	json_decref(one);
	json_decref(two);
	/* a file with one snapshot is no series */
	assert_int_equal(run_mapsnap(&res, NULL, "diff", snap_path(0), NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "holds 1 snapshot"));
	cmd_result_free(&res);
}

/* A saved snapshot against the live process, in text. */
static void diff_against_a_live_pid(void **state)
{
	(void)state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", snap_path(fx.snaps - 1),
				     fx.pid, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "same process, matched by address"));
	assert_non_null(strstr(res.out, "TOTALS"));
	assert_null(strstr(res.out, "\033[")); /* not a terminal: no colour */
	cmd_result_free(&res);
}

/* ---- the gate and usage ---- */

static void gate_exit_codes(void **state)
{
	(void)state;
	const char *a = snap_path(1), *b = snap_path(2); /* grow-heap 8M */
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--fail-if", "heap.size>+1M",
				     "--fail-if", "rss>+1G", a, b, NULL), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "GATE FAILED"));
	assert_non_null(strstr(res.out, "heap.size>+1M: heap Size +8.0M"));
	assert_null(strstr(res.out, "rss>+1G:"));
	cmd_result_free(&res);
	/* JSON on stdout: the violations also go to stderr */
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--format", "json",
				     "--fail-if", "heap.size>+1M", a, b, NULL), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "heap.size>+1M"));
	assert_non_null(strstr(res.out, "\"passed\":false"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--fail-if", "heap.size>+9M",
				     "--fail-if", "dup-libs>0", a, b, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "GATE passed"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--fail-if", "heap.rsss>1",
				     a, b, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "mapsnap: heap.rsss>1: bad --fail-if"));
	assert_string_equal(res.out, "");
	cmd_result_free(&res);
}

/* Any kind is a gate's KIND, reserved address space too: a process that
 * reserves 2G (PROT_NONE) fails reserved.size>+1G, and its Rss does not
 * move. */
static void gate_reads_reserved_address_space(void **state)
{
	(void)state;
	helper_proc h;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16], reply[128];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	const char *before = snap_path(90), *after = snap_path(91);
	capture(pid, before);
	stage(&h, "reserve 2097152", reply, sizeof(reply));
	capture(pid, after);
	helper_stop(&h);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--fail-if", "reserved.size>+1G",
				     "--fail-if", "reserved.rss>+4K", before, after, NULL), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "reserved.size>+1G: reserved Size +2.00G"));
	assert_null(strstr(res.out, "reserved.rss>+4K:"));
	/* The change is the reservation, one region of its own kind. */
	assert_non_null(strstr(res.out, "\n  new        reserved "));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--fail-if", "reserved.size>+3G",
				     before, after, NULL), 0);
	assert_int_equal(res.status, 0);
	cmd_result_free(&res);
}

static void usage_and_input_errors(void **state)
{
	(void)state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--help", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: mapsnap diff"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", snap_path(0), NULL), 0);
	assert_int_equal(res.status, 2);
	assert_true(strncmp(res.err, "mapsnap: ", 9) == 0);
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", snap_path(0),
				     "/nonexistent/x.json", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "/nonexistent/x.json"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--metric", "vss",
				     snap_path(0), snap_path(1), NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--metric"));
	cmd_result_free(&res);
	/* the library's reason, under the option's name */
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--map-path", "/opt/app=srv/app",
				     snap_path(0), snap_path(1), NULL), 0);
	assert_int_equal(res.status, 2);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "mapsnap: diff: --map-path: bad path map "
			    "'/opt/app=srv/app': NEW is not an absolute path (expected "
			    "OLD=NEW, two absolute paths)\n");
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--format", "markdown",
				     "--min-change", "1M", snap_path(1), snap_path(2), NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "| change | kind | Rss |"));
	assert_non_null(strstr(res.out, "| grown | heap |"));
	cmd_result_free(&res);
}

/* Colour only on a terminal whose TERM is not dumb, never with NO_COLOR,
 * and as --color says: script(1) gives the binary a pseudo-terminal. */
static void colour_only_on_a_terminal(void **state)
{
	(void)state;
	if (access("/usr/bin/script", X_OK) != 0)
		skip();
	static const struct {
		const char *env, *option;
		bool colour;
	} cases[] = {
		{ "TERM=xterm", "--color=auto", true },
		{ "TERM=dumb", "--color=auto", false },
		{ "NO_COLOR=1", "--color=auto", false },
		{ "TERM=dumb", "--color=always", true },
		{ "TERM=xterm", "--color=never", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char line[9000];
		snprintf(line, sizeof(line), "%s diff %s %s %s", mapsnap_bin(),
			 cases[i].option, snap_path(1), snap_path(2));
		char *argv[] = { "env", "-u", "CLICOLOR_FORCE", (char *)cases[i].env,
				 "/usr/bin/script", "-qec", line, "/dev/null", NULL };
		cmd_result res;
		assert_int_equal(run_cmd(&res, argv, NULL), 0);
		assert_int_equal(res.status, 0);
		assert_non_null(strstr(res.out, "heap"));
		if (cases[i].colour)
			assert_non_null(strstr(res.out, "\033[31m"));
		else
			assert_null(strstr(res.out, "\033["));
		cmd_result_free(&res);
	}
	/* Not a terminal: colour only when asked for. */
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--color", "always", snap_path(1),
				     snap_path(2), NULL), 0);
	assert_non_null(strstr(res.out, "\033[31m"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--color", "sometimes",
				     snap_path(1), snap_path(2), NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--color takes auto, always, never"));
	cmd_result_free(&res);
}

static void limit_lists_the_largest(void **state)
{
	(void)state;
	cmd_result res;
	/* s0 -> s6: the heap, the 64M mapping, libraries, threads */
	assert_int_equal(run_mapsnap(&res, NULL, "diff", "--limit", "1", snap_path(0),
				     snap_path(6), NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "1 listed of "));
	/* the largest Rss change first: the 64M anonymous mapping */
	assert_non_null(strstr(res.out, "+64.0M"));
	cmd_result_free(&res);
}

/* ---- two runs of the same helper ---- */

static void run_stages(helper_proc *h)
{
	stage(h, "grow-heap 1024", NULL, 0);
	stage(h, "mmap-anon 4096", NULL, 0);
	stage(h, "threads 2", NULL, 0);
}

static void two_runs_differ_by_a_few_pages(void **state)
{
	(void)state;
	helper_proc a, b;
	start_stages(&a);
	start_stages(&b);
	run_stages(&a);
	run_stages(&b);
	char pa[16], pb[16], fa[4200], fb[4200];
	snprintf(pa, sizeof(pa), "%d", a.pid);
	snprintf(pb, sizeof(pb), "%d", b.pid);
	snprintf(fa, sizeof(fa), "%s/run-a.json", fx.dir);
	snprintf(fb, sizeof(fb), "%s/run-b.json", fx.dir);
	capture(pa, fa);
	capture(pb, fb);
	helper_stop(&b);
	helper_stop(&a);
	json_t *doc = diff_json(fa, fb);
	assert_true(json_is_false(json_object_get(doc, "same_process")));
	assert_string_equal(str(doc, "matching"), "identity");
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c) {
		if (!is(c, "grown", NULL) && !is(c, "shrunk", NULL))
			fail_msg("across runs: %s %s %s", str(c, "change"), str(c, "kind"),
				 str(c, "path"));
		if (llabs(delta(c, "Size")) > 8 || llabs(delta(c, "Anonymous")) > 16 ||
		    llabs(delta(c, "Private_Dirty")) > 16)
			fail_msg("across runs: %s %s %s Size %+lld Anonymous %+lld "
				 "Private_Dirty %+lld", str(c, "change"), str(c, "kind"),
				 str(c, "path"), delta(c, "Size"), delta(c, "Anonymous"),
				 delta(c, "Private_Dirty"));
	}
	/* What each run wrote is the same; how many clean file pages each has
	 * mapped depends on the page cache (see NOISE_KB), not on the run. */
	assert_true(llabs(total_delta(doc, "Anonymous")) <= 16);
	json_t *ts = json_object_get(doc, "thread_stacks");
	assert_int_equal(num(ts, "old"), 2);
	assert_int_equal(num(ts, "new"), 2);
	json_decref(doc);
}

/* ---- around ---- */

static void around_runs_the_operation(void **state)
{
	(void)state;
	char out[4200], cmd[512], path[4300];
	snprintf(out, sizeof(out), "%s/around", fx.dir);
	/* the shell talks to the helper over the pipes this test holds, which
	 * mapsnap and the shell inherit (for this run only) */
	snprintf(cmd, sizeof(cmd),
		 "echo mmap-anon 2048 >&%d && read r <&%d && case \"$r\" in ok*) ;; "
		 "*) exit 3;; esac", fx.helper.to_child, fx.helper.from_child);
	int fds[2] = { fx.helper.to_child, fx.helper.from_child };
	for (int k = 0; k < 2; k++)
		assert_int_equal(fcntl(fds[k], F_SETFD, 0), 0);
	cmd_result res;
	int rc = run_mapsnap(&res, NULL, "around", fx.pid, "-o", out, "--fail-if",
			     "anon.rss>+1M", "--", "sh", "-c", cmd, NULL);
	for (int k = 0; k < 2; k++)
		fcntl(fds[k], F_SETFD, FD_CLOEXEC);
	assert_int_equal(rc, 0);
	if (res.status != 1)
		fail_msg("around exited %d: %s", res.status, res.err);
	assert_non_null(strstr(res.out, "anon.rss>+1M: anon Rss +2.0M"));
	cmd_result_free(&res);
	const char *names[] = { "before.json", "after.json", "diff.json" };
	for (int k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/%s", out, names[k]);
		assert_true(file_exists(path));
	}
	char *text = read_file(path, NULL);
	json_t *doc = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(doc);
	json_t *c = NULL, *e;
	size_t i;
	json_array_foreach(json_object_get(doc, "changes"), i, e)
		if (strcmp(str(e, "kind"), "anon") == 0 && delta(e, "Size") == 2048)
			c = e;
	assert_non_null(c);
	assert_true(json_is_false(json_object_get(json_object_get(doc, "gate"), "passed")));
	json_decref(doc);
	/* the snapshots are real snapshot files: diff them again */
	char before[4300], after[4300];
	snprintf(before, sizeof(before), "%s/before.json", out);
	snprintf(after, sizeof(after), "%s/after.json", out);
	doc = diff_json(before, after);
	assert_true(json_is_true(json_object_get(doc, "same_process")));
	assert_int_equal(total_delta(doc, "Size"), 2048);
	json_decref(doc);
}

static void around_exit_codes(void **state)
{
	(void)state;
	char out[4200], marker[4300];
	snprintf(out, sizeof(out), "%s/around", fx.dir); /* exists already */
	snprintf(marker, sizeof(marker), "%s/ran", fx.dir);
	cmd_result res;
	/* results already there: refused before running the command */
	assert_int_equal(run_mapsnap(&res, NULL, "around", fx.pid, "-o", out, "--",
				     "touch", marker, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "already exists"));
	assert_false(file_exists(marker));
	cmd_result_free(&res);
	/* a passing gate */
	assert_int_equal(run_mapsnap(&res, NULL, "around", fx.pid, "--fail-if",
				     "rss>+64M", "--", "true", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "GATE passed"));
	cmd_result_free(&res);
	/* the command fails: its own status, said so, the diff still printed
	 * (test_integrity has the other ways a command ends) */
	assert_int_equal(run_mapsnap(&res, NULL, "around", fx.pid, "--", "sh", "-c",
				     "exit 7", NULL), 0);
	assert_int_equal(res.status, 7);
	assert_non_null(strstr(res.err, "failed with exit status 7; mapsnap exits with it"));
	assert_non_null(strstr(res.out, "mapsnap diff"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "around", fx.pid, "true", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "-- COMMAND"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "around", "--fail-if", "x", fx.pid,
				     "--", "true", NULL), 0);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "around", "--help", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: mapsnap around"));
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(s0_baseline),
		cmocka_unit_test(s1_grow_heap),
		cmocka_unit_test(s2_mmap_anon),
		cmocka_unit_test(s3_load_copy),
		cmocka_unit_test(s4_dlmopen),
		cmocka_unit_test(s5_threads),
		cmocka_unit_test(s6_munmap),
		cmocka_unit_test(s7_arena),
		cmocka_unit_test(diff_of_a_series_file),
		cmocka_unit_test(diff_against_a_live_pid),
		cmocka_unit_test(gate_exit_codes),
		cmocka_unit_test(gate_reads_reserved_address_space),
		cmocka_unit_test(usage_and_input_errors),
		cmocka_unit_test(colour_only_on_a_terminal),
		cmocka_unit_test(limit_lists_the_largest),
		cmocka_unit_test(two_runs_differ_by_a_few_pages),
		cmocka_unit_test(around_runs_the_operation),
		cmocka_unit_test(around_exit_codes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
