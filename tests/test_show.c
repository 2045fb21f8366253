/* mapsnap show through the real binary: snapshot files (one or several
 * documents), raw smaps, stdin, filters, usage errors; and live processes
 * compared byte for byte with the system's procps-ng pmap 4.0.x. */
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats.h"
#include "pmap_expect.h"
#include "util.h"

#define REF "fixtures/ref"
#define MAX_ARGS 32

static char *tmpdir;

/* ---- running ------------------------------------------------------------- */

/* Runs argv (NULL-ended, at most MAX_ARGS) after the program name. */
static void run_argv(cmd_result *res, const char *program, const char *const *args,
		     const char *stdin_text)
{
	char *argv[MAX_ARGS + 2];
	size_t n = 0;
	argv[n++] = (char *)program;
	for (; args[n - 1] && n <= MAX_ARGS; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	assert_int_equal(run_cmd(res, argv, stdin_text), 0);
}

static void run_show(cmd_result *res, const char *const *args, const char *stdin_text)
{
	const char *full[MAX_ARGS + 1] = { "show" };
	for (size_t i = 0; args[i] && i + 1 < MAX_ARGS; i++)
		full[i + 1] = args[i];
	run_argv(res, mapsnap_bin(), full, stdin_text);
}

/* "qXX" -> { "-q", "-XX" }; "default" -> {}. Returns the count. */
static size_t mode_args(const char **out, const char *mode, char store[][4])
{
	size_t n = 0;
	if (strcmp(mode, "default") == 0)
		return 0;
	for (const char *c = mode; *c; c++) {
		if (*c == 'X' && c[1] == 'X') {
			out[n++] = "-XX";
			c++;
			continue;
		}
		snprintf(store[n], 4, "-%c", *c);
		out[n] = store[n];
		n++;
	}
	return n;
}

static char *read_text(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text)
		fail_msg("cannot read %s", path);
	return text;
}

static const char *json_path(const char *name)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s.json", tmpdir, name);
	return p;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *last_line(const char *text)
{
	const char *end = text + strlen(text) - 1, *p = end;
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

static void assert_one_error_line(const cmd_result *res)
{
	assert_int_equal(res->status, 2);
	assert_memory_equal(res->err, "mapsnap: ", 9);
	assert_int_equal(count_lines(res->err), 1);
}

/* ---- setup: the fixtures as snapshot files (mapsnap capture) -------------- */

static int setup(void **state)
{
	(void)state;
	static const char *const names[] = { "mapzoo", "bigvirt", "evolve_after" };
	setenv("LC_ALL", "C", 1);
	tmpdir = make_tmpdir();
	if (!tmpdir)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char smaps[256];
		cmd_result res;
		snprintf(smaps, sizeof(smaps), REF "/%s/smaps", names[i]);
		if (run_mapsnap(&res, NULL, "capture", "--from-smaps", smaps, "--proc-files",
				"-o", json_path(names[i]), NULL) != 0 || res.status != 0) {
			fprintf(stderr, "capture %s failed: %s\n", names[i], res.err);
			return -1;
		}
		cmd_result_free(&res);
	}
	/* zoo: two MAP_STACK thread stacks, libc's .bss, a 16M reservation. */
	cmd_result res;
	if (run_mapsnap(&res, NULL, "capture", "--from-smaps", REF "/zoo/proc.smaps",
			"--proc-files", "-o", json_path("zoo"), NULL) != 0 || res.status != 0) {
		fprintf(stderr, "capture zoo failed: %s\n", res.err);
		return -1;
	}
	cmd_result_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	free(tmpdir);
	return 0;
}

/* ---- fixtures ------------------------------------------------------------- */

static void check_modes(const char *name, const char *const *modes, size_t nmodes)
{
	for (size_t m = 0; m < nmodes; m++) {
		const char *args[8];
		char store[8][4];
		size_t n = mode_args(args, modes[m], store);
		args[n++] = json_path(name);
		args[n] = NULL;
		cmd_result res;
		run_show(&res, args, NULL);
		char path[256];
		snprintf(path, sizeof(path), REF "/%s/pmap_%s.out", name, modes[m]);
		char *want = read_text(path);
		assert_int_equal(res.status, 0);
		assert_string_equal(res.err, "");
		if (strcmp(res.out, want) != 0)
			fail_msg("show %s %s differs from %s", modes[m], name, path);
		free(want);
		cmd_result_free(&res);
	}
}

static void test_fixture_modes(void **state)
{
	(void)state;
	static const char *const all[] = {
		"default", "x", "X", "XX", "d", "q", "qx", "qX", "qXX", "qd",
		"p", "px", "pX", "pXX", "pd",
	};
	/* mapzoo's -X family has the long-path row mapsnap prints differently
	 * (test_pmap covers it). */
	static const char *const simple[] = { "default", "x", "d", "q", "qx", "qd",
					      "p", "px", "pd" };
	check_modes("bigvirt", all, sizeof(all) / sizeof(*all));
	check_modes("evolve_after", all, sizeof(all) / sizeof(*all));
	check_modes("mapzoo", simple, sizeof(simple) / sizeof(*simple));
}

/* Raw smaps text has no process facts: the first line says so. */
static void test_raw_smaps(void **state)
{
	(void)state;
	cmd_result res;
	run_show(&res, (const char *[]){ REF "/bigvirt/smaps", NULL }, NULL);
	char *want = read_text(REF "/bigvirt/pmap_default.out");
	assert_int_equal(res.status, 0);
	assert_memory_equal(res.out, "?:   (command line not recorded)\n", 33);
	assert_string_equal(strchr(res.out, '\n'), strchr(want, '\n'));
	free(want);
	cmd_result_free(&res);
}

static char *concat(const char *a, const char *b)
{
	char *out;
	assert_true(asprintf(&out, "%s%s", a, b) > 0);
	return out;
}

/* A file holding two snapshot documents shows both; -X totals and widths
 * start afresh for each (pmap 4.0.2 would add them up). */
static void test_several_documents(void **state)
{
	(void)state;
	char *zoo = read_text(json_path("mapzoo"));
	char *big = read_text(json_path("bigvirt"));
	char *both = concat(zoo, big);
	const char *both_path = json_path("both");
	assert_int_equal(write_file(both_path, both, strlen(both)), 0);
	cmd_result res;
	run_show(&res, (const char *[]){ "-x", both_path, NULL }, NULL);
	char *want_zoo = read_text(REF "/mapzoo/pmap_x.out");
	char *want_big = read_text(REF "/bigvirt/pmap_x.out");
	char *want = concat(want_zoo, want_big);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, want);
	cmd_result_free(&res);

	/* A broken document after a good one: the good one is shown. */
	char *broken = concat(big, "{\"schema\": \"mapsnap.snapshot/1\", \"broken\": }");
	assert_int_equal(write_file(both_path, broken, strlen(broken)), 0);
	run_show(&res, (const char *[]){ "-x", both_path, NULL }, NULL);
	assert_one_error_line(&res);
	assert_string_equal(res.out, want_big);
	cmd_result_free(&res);
	free(broken);
	/* A last document cut off (a series whose writer was killed): the
	 * complete ones are shown, with one warning (issue 6). */
	broken = concat(big, "{\"schema\": \"mapsnap.snapshot/1\", \"broken");
	assert_int_equal(write_file(both_path, broken, strlen(broken)), 0);
	run_show(&res, (const char *[]){ "-x", both_path, NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(count_lines(res.err), 1);
	assert_non_null(strstr(res.err, "cut off"));
	assert_string_equal(res.out, want_big);
	cmd_result_free(&res);
	free(broken);

	char *x_big = read_text(REF "/bigvirt/pmap_X.out");
	char *twice = concat(x_big, x_big);
	run_show(&res, (const char *[]){ "-X", json_path("bigvirt"), json_path("bigvirt"),
					 NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, twice);
	cmd_result_free(&res);
	free(twice);
	free(x_big);
	free(want);
	free(want_zoo);
	free(want_big);
	free(both);
	free(zoo);
	free(big);
}

static void test_stdin(void **state)
{
	(void)state;
	char *json = read_text(json_path("evolve_after"));
	char *want = read_text(REF "/evolve_after/pmap_d.out");
	cmd_result res;
	run_show(&res, (const char *[]){ "-d", "-", NULL }, json);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, want);
	cmd_result_free(&res);
	free(want);
	free(json);

	char *smaps = read_text(REF "/evolve_after/smaps");
	want = read_text(REF "/evolve_after/pmap_x.out");
	run_show(&res, (const char *[]){ "-x", "-", NULL }, smaps);
	assert_int_equal(res.status, 0);
	assert_string_equal(strchr(res.out, '\n'), strchr(want, '\n'));
	cmd_result_free(&res);
	free(want);
	free(smaps);
}

/* ---- filters, sorting, human sizes ------------------------------------------ */

/* The mapzoo regions as the test reads them from its maps and smaps. */
struct region_facts {
	uint64_t start, size_kb, rss_kb;
	char name[512];
};

static size_t read_mapzoo(struct region_facts *out, size_t cap)
{
	char *maps = read_text(REF "/mapzoo/maps");
	char *smaps = read_text(REF "/mapzoo/smaps");
	size_t n = 0;
	for (char *line = strtok(maps, "\n"); line && n < cap; line = strtok(NULL, "\n")) {
		unsigned long long start, end;
		int name_at = 0;
		sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end, &name_at);
		out[n].start = start;
		out[n].size_kb = (end - start) / 1024;
		snprintf(out[n].name, sizeof(out[n].name), "%s", name_at ? line + name_at : "");
		n++;
	}
	size_t i = 0;
	for (char *p = smaps; (p = strstr(p, "\nRss:")) && i < n; p++)
		out[i++].rss_kb = strtoull(p + 5, NULL, 10);
	assert_int_equal(i, n);
	free(maps);
	free(smaps);
	return n;
}

static void test_kind_filter(void **state)
{
	(void)state;
	struct region_facts facts[128];
	size_t nregions = read_mapzoo(facts, 128);
	cmd_result res;
	run_show(&res, (const char *[]){ "--kind", "heap", json_path("mapzoo"), NULL }, NULL);
	char want[512];
	snprintf(want, sizeof(want),
		 "7110:   ./mapzoo\n"
		 "000056150dd58000    132K rw---   [ anon ]\n"
		 " total              132K\n"
		 "filtered: 1 of %zu mappings shown (--kind heap); totals are of the "
		 "rows shown\n", nregions);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, want);
	cmd_result_free(&res);

	/* -q: no footer, so no note either. */
	run_show(&res, (const char *[]){ "-q", "--kind", "stack", json_path("mapzoo"), NULL },
		 NULL);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "   [ stack ]\n"));
	assert_null(strstr(res.out, "filtered"));
	cmd_result_free(&res);
}

/* The seven group names cover every region of name exactly once; returns
 * how many regions there are. */
static size_t groups_partition(const char *name)
{
	static const char *const groups[] = { "heap", "stack", "anon", "lib",
					      "file", "shmem", "special" };
	size_t shown = 0, all = 0;
	for (size_t g = 0; g < sizeof(groups) / sizeof(*groups); g++) {
		cmd_result res;
		run_show(&res, (const char *[]){ "--kind", groups[g], json_path(name), NULL },
			 NULL);
		assert_int_equal(res.status, 0);
		const char *note = strstr(res.out, "\nfiltered: ");
		assert_non_null(note);
		size_t n, m;
		assert_int_equal(sscanf(note, "\nfiltered: %zu of %zu", &n, &m), 2);
		/* Each group's rows, plus the pid line, total and note. */
		assert_int_equal(count_lines(res.out), n + 3);
		shown += n;
		all = m;
		cmd_result_free(&res);
	}
	assert_int_equal(shown, all);
	return all;
}

static void test_kind_groups_partition(void **state)
{
	(void)state;
	struct region_facts facts[128];
	assert_int_equal(groups_partition("mapzoo"), read_mapzoo(facts, 128));
	/* zoo has every kind of no-access region: guards, a reservation. */
	assert_int_equal(groups_partition("zoo"), 166);
}

/* reserved is a kind of its own, in the anon group. */
static void test_kind_reserved(void **state)
{
	(void)state;
	static const char *const reservation = "00007fe24d000000  16384K -----   [ anon ]\n";
	cmd_result res;
	run_show(&res, (const char *[]){ "--kind", "reserved", json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, reservation));
	assert_non_null(strstr(res.out, "\nfiltered: 1 of 166 mappings shown (--kind reserved)"));
	cmd_result_free(&res);
	run_show(&res, (const char *[]){ "--kind", "anon", json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, reservation));
	cmd_result_free(&res);
	run_show(&res, (const char *[]){ "--kind", "guard", json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_null(strstr(res.out, reservation));
	cmd_result_free(&res);
}

/* ---- --explain ---------------------------------------------------------------- */

/* One row of the --explain table. */
struct explain_row {
	char range[48], perms[8], size[16], rss[16], kind[16];
	char why[1024]; /* "what: why", or just why */
};

/* Parses the row at line; false for a line that is no row. */
static bool parse_explain_row(struct explain_row *row, const char *line)
{
	int n = 0;
	if (sscanf(line, "%47s %7s %15s %15s %15s%n", row->range, row->perms, row->size,
		   row->rss, row->kind, &n) != 5 || !strchr(row->range, '-') ||
	    strlen(row->perms) != 4)
		return false;
	const char *why = line + n;
	while (*why == ' ')
		why++;
	size_t len = strcspn(why, "\n");
	snprintf(row->why, sizeof(row->why), "%.*s", (int)len, why);
	return true;
}

/* The rows of an --explain output, in order; returns the count. */
static size_t explain_rows(struct explain_row *rows, size_t cap, const char *out)
{
	size_t n = 0;
	const char *line = strchr(out, '\n');
	assert_non_null(line);
	for (line++; *line && n < cap; line = strchr(line, '\n') + 1) {
		if (parse_explain_row(&rows[n], line))
			n++;
		if (!strchr(line, '\n'))
			break;
	}
	return n;
}

static const struct explain_row *find_row(const struct explain_row *rows, size_t n,
					  const char *range)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(rows[k].range, range) == 0)
			return &rows[k];
	fail_msg("no --explain row %s", range);
	return NULL;
}

static void expect_row(const struct explain_row *rows, size_t n, const char *range,
		       const char *kind, enum snap_evidence ev, const char *what)
{
	const struct explain_row *row = find_row(rows, n, range);
	char why[1024];
	if (what)
		snprintf(why, sizeof(why), "%s: %s", what, snap_evidence_about(ev));
	else
		snprintf(why, sizeof(why), "%s", snap_evidence_about(ev));
	assert_string_equal(row->kind, kind);
	assert_string_equal(row->why, why);
}

static snap_snapshot *load_snapshot(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	snap_snapshot *snap = NULL;
	snap_error err = { 0 };
	if (fmt_json_load(&snap, f, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	fclose(f);
	return snap;
}

/* Every row says what libsnap's interpretation of the same snapshot
 * says: its kind, its evidence, its load or the image whose .bss it is. */
static void expect_rows_match_identity(const struct explain_row *rows, size_t n,
				       const snap_snapshot *snap)
{
	snap_identity *id = NULL;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(n, snap->nregions);
	for (size_t i = 0; i < n; i++) {
		const snap_region *r = &snap->regions[i];
		char range[48];
		snprintf(range, sizeof(range), "%08llx-%08llx", (unsigned long long)r->start,
			 (unsigned long long)r->end);
		assert_string_equal(rows[i].range, range);
		assert_string_equal(rows[i].perms, r->perms);
		assert_string_equal(rows[i].kind, snap_kind_name(id->kinds[i]));
		const char *about = snap_evidence_about((enum snap_evidence)id->evidence[i]);
		size_t len = strlen(rows[i].why), alen = strlen(about);
		assert_true(len >= alen);
		assert_string_equal(rows[i].why + len - alen, about);
		if (id->attached[i] >= 0)
			assert_memory_equal(rows[i].why, "bss of /", 8);
		else if (id->image_of[i] >= 0 && id->kinds[i] != SNAP_KIND_FILE)
			assert_non_null(strstr(rows[i].why, ", load "));
		else if (!r->path_len)
			assert_string_equal(rows[i].why, about);
	}
	snap_identity_free(id);
}

static void test_explain_fixture(void **state)
{
	(void)state;
	cmd_result res;
	run_show(&res, (const char *[]){ "--explain", json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.err, "");
	static struct explain_row rows[256];
	size_t n = explain_rows(rows, 256, res.out);
	/* Two glibc thread stacks, marked MAP_STACK by the kernel, over their
	 * guard pages. */
	expect_row(rows, n, "7fe24ba7d000-7fe24ba7e000", "guard", SNAP_EV_STACK_GUARD, NULL);
	expect_row(rows, n, "7fe24ba7e000-7fe24c27e000", "thread-stack", SNAP_EV_MAP_STACK, NULL);
	expect_row(rows, n, "7fe24c27e000-7fe24c27f000", "guard", SNAP_EV_STACK_GUARD, NULL);
	expect_row(rows, n, "7fe24c27f000-7fe24ca7f000", "thread-stack", SNAP_EV_MAP_STACK, NULL);
	/* 16M of address space kept with PROT_NONE: no guard. */
	expect_row(rows, n, "7fe24d000000-7fe24e000000", "reserved", SNAP_EV_RESERVATION, NULL);
	assert_string_equal(find_row(rows, n, "7fe24d000000-7fe24e000000")->size, "16.0M");
	/* A read-only shared data file is a file, not shared memory. */
	expect_row(rows, n, "7fe24e980000-7fe24ea00000", "file", SNAP_EV_FILE,
		   "/srv/demo/zoo-readonly.dat");
	expect_row(rows, n, "7fe24ed00000-7fe24f000000", "shmem", SNAP_EV_SHMEM_NAME,
		   "/dev/shm/zoo-shared");
	/* libc's segments are one load; the anonymous region after them is
	 * its .bss. */
	expect_row(rows, n, "7fe24f262000-7fe24f3b8000", "lib", SNAP_EV_SONAME,
		   "libc.so.6, load 1 of 1");
	expect_row(rows, n, "7fe24f411000-7fe24f41e000", "anon", SNAP_EV_BSS,
		   "bss of /usr/lib/x86_64-linux-gnu/libc.so.6");
	expect_row(rows, n, "562b1fa0d000-562b1fab2000", "heap", SNAP_EV_NAME, "[heap]");
	assert_non_null(strstr(res.out, "\ntotal of 166 regions "));
	assert_non_null(strstr(res.out, "\nTHREAD STACKS  2 found in the whole process, "
					 "which has 3 threads"));
	assert_non_null(strstr(res.out, "\n    2 by MAP_STACK "));
	assert_non_null(strstr(res.out, "\n    0 by the guard-page pattern alone "));
	snap_snapshot *snap = load_snapshot(json_path("zoo"));
	expect_rows_match_identity(rows, n, snap);
	snap_snapshot_free(snap);
	cmd_result_free(&res);
}

/* The usual filters choose the rows; -q drops header and footer. */
static void test_explain_filters(void **state)
{
	(void)state;
	cmd_result res;
	static struct explain_row rows[256];
	run_show(&res, (const char *[]){ "--explain", "--kind", "thread-stack,reserved",
					 json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	size_t n = explain_rows(rows, 256, res.out);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].kind, "thread-stack");
	assert_string_equal(rows[1].kind, "thread-stack");
	assert_string_equal(rows[2].kind, "reserved");
	assert_non_null(strstr(res.out, "\ntotal of 3 regions "));
	assert_non_null(strstr(res.out, "\nfiltered: 3 of 166 mappings shown (--kind "
					 "thread-stack,reserved); totals are of the rows shown\n"));
	cmd_result_free(&res);

	run_show(&res, (const char *[]){ "--explain", "-q", "--sort", "size", "--top", "2",
					 json_path("zoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(count_lines(res.out), 3);
	n = explain_rows(rows, 256, res.out);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].range, "7fe24d000000-7fe24e000000");
	/* 8M: two thread stacks and an anonymous region; equal sizes keep
	 * address order. */
	assert_string_equal(rows[1].range, "7fe24ba7e000-7fe24c27e000");
	cmd_result_free(&res);
}

/* formats/README.md's Kinds and evidence section has a row for every
 * kind (with its --kind group) and every piece of evidence. */
static void test_kinds_and_evidence_documented(void **state)
{
	(void)state;
	char *doc = read_text("formats/README.md");
	char row[128];
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		snprintf(row, sizeof(row), "\n| `%s` | `%s` | ", snap_kind_name((enum snap_kind)k),
			 fmt_kind_group((enum snap_kind)k));
		if (!strstr(doc, row))
			fail_msg("formats/README.md has no row %s", row + 1);
	}
	for (int e = 0; e < SNAP_EV_COUNT; e++) {
		snprintf(row, sizeof(row), "\n| `%s` | ", snap_evidence_name((enum snap_evidence)e));
		if (!strstr(doc, row))
			fail_msg("formats/README.md has no row %s", row + 1);
	}
	free(doc);
}

/* A live process with two threads blocked in pause(): their stacks are
 * found by stack pointer or by the MAP_STACK mark, each over its guard. */
static void test_explain_live(void **state)
{
	(void)state;
	helper_proc h;
	char *argv[] = { (char *)helper_path("demo"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char reply[64], pid[16];
	assert_int_equal(helper_command(&h, "threads", reply, sizeof(reply)), 0);
	assert_memory_equal(reply, "ok", 2);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	cmd_result res;
	run_show(&res, (const char *[]){ "--explain", pid, NULL }, NULL);
	helper_stop(&h);
	assert_int_equal(res.status, 0);
	static struct explain_row rows[512];
	size_t n = explain_rows(rows, 512, res.out), stacks = 0;
	char pointer[1024], mark[1024], guard[1024];
	snprintf(pointer, sizeof(pointer), "%s", snap_evidence_about(SNAP_EV_STACK_POINTER));
	snprintf(mark, sizeof(mark), "%s", snap_evidence_about(SNAP_EV_MAP_STACK));
	snprintf(guard, sizeof(guard), "%s", snap_evidence_about(SNAP_EV_STACK_GUARD));
	for (size_t k = 0; k < n; k++) {
		if (strcmp(rows[k].kind, "thread-stack") != 0)
			continue;
		stacks++;
		if (strcmp(rows[k].why, pointer) != 0 && strcmp(rows[k].why, mark) != 0)
			fail_msg("thread stack %s: %s", rows[k].range, rows[k].why);
		assert_true(k > 0);
		assert_string_equal(rows[k - 1].kind, "guard");
		assert_string_equal(rows[k - 1].why, guard);
	}
	assert_int_equal(stacks, 2);
	assert_non_null(strstr(res.out, "\nTHREAD STACKS  2 found in the whole process, "
					 "which has 3 threads"));
	/* The main program's segments are one load of its executable. */
	assert_non_null(strstr(res.out, "  exe           demo, load 1 of 1: "));
	cmd_result_free(&res);
}

/* Rows of a -x table: Kbytes and RSS by address. */
static size_t parse_x_rows(const char *out, uint64_t *starts, uint64_t *kb,
			   uint64_t *rss, size_t cap)
{
	size_t n = 0;
	const char *line = strchr(strchr(out, '\n') + 1, '\n') + 1;
	for (; *line && *line != '-' && n < cap; line = strchr(line, '\n') + 1) {
		unsigned long long s, k, r;
		assert_int_equal(sscanf(line, "%llx %llu %llu", &s, &k, &r), 3);
		starts[n] = s;
		kb[n] = k;
		rss[n++] = r;
	}
	return n;
}

static void test_size_filters(void **state)
{
	(void)state;
	struct region_facts facts[128];
	size_t nregions = read_mapzoo(facts, 128), big = 0, small = 0;
	uint64_t big_kb = 0;
	for (size_t i = 0; i < nregions; i++) {
		big += facts[i].size_kb >= 1024;
		big_kb += facts[i].size_kb >= 1024 ? facts[i].size_kb : 0;
		small += facts[i].size_kb <= 4;
	}
	assert_true(big > 0 && small > 0);
	cmd_result res;
	uint64_t starts[128], kb[128], rss[128];
	run_show(&res, (const char *[]){ "-x", "--min-size", "1M", json_path("mapzoo"), NULL },
		 NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(parse_x_rows(res.out, starts, kb, rss, 128), big);
	char total[64];
	snprintf(total, sizeof(total), "\ntotal kB %15llu ", (unsigned long long)big_kb);
	assert_non_null(strstr(res.out, total));
	assert_non_null(strstr(res.out, "(--min-size 1M)"));
	cmd_result_free(&res);

	run_show(&res, (const char *[]){ "-x", "--max-size", "4K", json_path("mapzoo"), NULL },
		 NULL);
	assert_int_equal(res.status, 0);
	size_t n = parse_x_rows(res.out, starts, kb, rss, 128);
	assert_int_equal(n, small);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kb[i], 4);
	cmd_result_free(&res);

	run_show(&res, (const char *[]){ "--min-size", "1.5G", json_path("bigvirt"), NULL },
		 NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(count_lines(res.out), 5); /* 20G and 12G rows */
	cmd_result_free(&res);
}

static void test_path_filter(void **state)
{
	(void)state;
	struct region_facts facts[128];
	size_t nregions = read_mapzoo(facts, 128), libs = 0;
	for (size_t i = 0; i < nregions; i++) {
		const char *base = strrchr(facts[i].name, '/');
		libs += base && strstr(base, ".so");
	}
	cmd_result res;
	run_show(&res, (const char *[]){ "-q", "--path", "*.so*", json_path("mapzoo"), NULL },
		 NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(count_lines(res.out), 1 + libs);
	for (const char *line = strchr(res.out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		const char *eol = strchr(line, '\n');
		const char *so = strstr(line, ".so");
		assert_true(so && so < eol);
	}
	cmd_result_free(&res);
}

/* --top 3 --sort rss: the three largest Rss values of the smaps, largest
 * first. */
static void test_sort_top(void **state)
{
	(void)state;
	struct region_facts facts[128];
	size_t nregions = read_mapzoo(facts, 128);
	uint64_t best[3] = { 0 };
	for (size_t i = 0; i < nregions; i++) {
		uint64_t v = facts[i].rss_kb;
		for (size_t k = 0; k < 3; k++)
			if (v > best[k]) {
				uint64_t t = best[k];
				best[k] = v;
				v = t;
			}
	}
	cmd_result res;
	uint64_t starts[8], kb[8], rss[8];
	run_show(&res, (const char *[]){ "-x", "--sort", "rss", "--top", "3",
					 json_path("mapzoo"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_int_equal(parse_x_rows(res.out, starts, kb, rss, 8), 3);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(rss[k], best[k]);
	assert_non_null(strstr(res.out, "filtered: 3 of "));
	cmd_result_free(&res);

	/* --sort size alone hides nothing: all rows, no note, pmap's total. */
	run_show(&res, (const char *[]){ "--sort", "size", json_path("bigvirt"), NULL }, NULL);
	char *want = read_text(REF "/bigvirt/pmap_default.out");
	assert_int_equal(res.status, 0);
	assert_int_equal(count_lines(res.out), count_lines(want));
	assert_non_null(strstr(res.out, "\n00007fd9b9400000 20971520K -----   [ anon ]\n"
					"00007fd6b9400000 12582912K rw---   [ anon ]\n"));
	assert_string_equal(last_line(res.out), last_line(want));
	free(want);
	cmd_result_free(&res);
}

static void test_human(void **state)
{
	(void)state;
	cmd_result res;
	/* --human has no short form: -h is --help, as in pmap */
	run_show(&res, (const char *[]){ "-x", "--human", json_path("bigvirt"), NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "\n00007fd9b9400000     20G      0K      0K -----   [ anon ]\n"));
	assert_non_null(strstr(res.out, "\n00007fdeb957d000    1.3M    972K      0K r-x-- libc.so.6\n"));
	cmd_result_free(&res);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_bad_usage(void **state)
{
	(void)state;
	const char *zoo = json_path("mapzoo");
	const char *const cases[][6] = {
		{ NULL },
		{ "-x", "-d", zoo, NULL },
		{ "-X", "-x", zoo, NULL },
		{ "--sort", "heap", zoo, NULL },
		{ "-A", "zz", zoo, NULL },
		{ "-A", "10,2x", zoo, NULL },
		{ "--kind", "bogus", zoo, NULL },
		{ "--kind", "heap,,lib", zoo, NULL },
		{ "--min-size", "12Q", zoo, NULL },
		{ "--top", "x", zoo, NULL },
		{ "--no-such-option", zoo, NULL },
		{ "--explain", "-x", zoo, NULL },
		{ "-XX", "--explain", zoo, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cmd_result res;
		run_show(&res, cases[i], NULL);
		assert_one_error_line(&res);
		assert_string_equal(res.out, "");
		cmd_result_free(&res);
	}
}

static void test_help(void **state)
{
	(void)state;
	cmd_result res;
	run_show(&res, (const char *[]){ "--help", NULL }, NULL);
	assert_int_equal(res.status, 0);
	assert_memory_equal(res.out, "usage: mapsnap show ", 20);
	assert_non_null(strstr(res.out, "\n      --explain "));
	assert_non_null(strstr(res.out, "reserved"));
	assert_string_equal(res.err, "");
	cmd_result_free(&res);
}

/* A bad argument is reported, the others still shown, exit 2. */
static void test_bad_inputs(void **state)
{
	(void)state;
	char missing[512];
	snprintf(missing, sizeof(missing), "%s/no-such-file.json", tmpdir);
	cmd_result res;
	run_show(&res, (const char *[]){ missing, json_path("bigvirt"), NULL }, NULL);
	char *want = read_text(REF "/bigvirt/pmap_default.out");
	assert_one_error_line(&res);
	assert_non_null(strstr(res.err, missing));
	assert_string_equal(res.out, want);
	free(want);
	cmd_result_free(&res);

	run_show(&res, (const char *[]){ "2147483646", NULL }, NULL);
	assert_one_error_line(&res);
	assert_non_null(strstr(res.err, "2147483646"));
	cmd_result_free(&res);

	run_show(&res, (const char *[]){ "-", NULL }, "this is not a snapshot\n");
	assert_one_error_line(&res);
	cmd_result_free(&res);
}

/* ---- live processes against the system pmap --------------------------------- */

static bool have_pmap_40(void)
{
	cmd_result res;
	char *argv[] = { "pmap", "--version", NULL };
	if (run_cmd(&res, argv, NULL) != 0)
		return false;
	bool ok = res.status == 0 && strstr(res.out, "procps-ng 4.0.") != NULL;
	cmd_result_free(&res);
	return ok;
}

/* The name column of every mapping of pid (for the long-name fix). */
static size_t maps_paths(char ***out, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	char *maps = read_text(path);
	size_t cap = count_lines(maps) + 1, n = 0;
	char **paths = calloc(cap, sizeof(*paths));
	for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		int at = 0;
		sscanf(line, "%*s %*s %*s %*s %*s %n", &at);
		if (at)
			paths[n++] = strdup(line + at);
	}
	free(maps);
	*out = paths;
	return n;
}

struct live {
	pid_t pids[4];
	char pid_text[4][16];
	size_t npids;
};

static void assert_same_output(const char *got, const char *want, const char *flag,
			       const char *pid)
{
	if (strcmp(got, want) == 0)
		return;
	const char *a = got, *b = want;
	while (*a && *a == *b)
		a++, b++;
	fail_msg("show %s %s differs from pmap:\n  got:  %.200s\n  want: %.200s",
		 flag ? flag : "", pid, a, b);
}

/* pmap and mapsnap read the same frozen smaps and maps (start_live):
 * Pss and the Shared/Private_Clean split of shared pages would move
 * between two live reads whenever any process maps them (the readers
 * too), so the outputs agree byte for byte. */
static void compare_live(const char *const *flags, const struct live *lv,
			 size_t first, size_t count)
{
	const char *args[MAX_ARGS + 1];
	size_t n = 0;
	bool x_family = false, show_path = false;
	for (; flags[n]; n++) {
		args[n] = flags[n];
		x_family |= flags[n][1] == 'X';
		show_path |= flags[n][1] == 'p';
	}
	for (size_t i = 0; i < count; i++)
		args[n++] = lv->pid_text[first + i];
	args[n] = NULL;
	char **paths = NULL;
	size_t npaths = 0;
	for (size_t i = 0; i < count; i++) {
		char **more;
		size_t k = maps_paths(&more, lv->pids[first + i]);
		paths = realloc(paths, (npaths + k + 1) * sizeof(*paths));
		memcpy(paths + npaths, more, k * sizeof(*paths));
		npaths += k;
		free(more);
	}
	cmd_result ms, pm;
	run_argv(&pm, "pmap", args, NULL);
	run_show(&ms, args, NULL);
	char *want = x_family ? pmap_fix_long_names(pm.out, (const char *const *)paths,
						    npaths, show_path)
			      : strdup(pm.out);
	assert_int_equal(pm.status, 0);
	assert_int_equal(ms.status, 0);
	assert_same_output(ms.out, want, flags[0], lv->pid_text[first]);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	free(want);
	cmd_result_free(&ms);
	cmd_result_free(&pm);
}

static const char *const live_modes[][3] = {
	{ NULL },	  { "-x", NULL },	{ "-X", NULL },	{ "-XX", NULL },
	{ "-d", NULL },	  { "-q", NULL },	{ "-q", "-x", NULL },
	{ "-q", "-X", NULL }, { "-q", "-XX", NULL }, { "-q", "-d", NULL },
	{ "-p", NULL },	  { "-p", "-x", NULL }, { "-p", "-X", NULL },
	{ "-p", "-XX", NULL }, { "-p", "-d", NULL },
};

/* -A from the third region's start to the eighth's: the simple modes
 * (pmap 4.0.2 ignores -A in -X). */
static void compare_live_range(const struct live *lv, size_t i)
{
	char path[64], range[64];
	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)lv->pids[i]);
	char *maps = read_text(path);
	char *third = strchr(strchr(maps, '\n') + 1, '\n') + 1;
	char *eighth = third;
	for (int k = 0; k < 5; k++)
		eighth = strchr(eighth, '\n') + 1;
	snprintf(range, sizeof(range), "%.*s,%.*s", (int)strcspn(third, "-"), third,
		 (int)strcspn(eighth, "-"), eighth);
	free(maps);
	const char *const modes[][4] = {
		{ "-A", range, NULL }, { "-x", "-A", range, NULL }, { "-d", "-A", range, NULL },
	};
	for (size_t m = 0; m < 3; m++)
		compare_live(modes[m], lv, i, 1);
}

/* The live helpers, stopped while compared, their smaps and maps frozen
 * (what pmap 4.0.2 reads besides stat, status and cmdline, which do not
 * change while a process is stopped); the teardown thaws, continues and
 * ends them even when a comparison failed half-way. */
static helper_proc live_procs[3];
static struct live live;
static char *live_dir;
static const char *const frozen[] = { "smaps", "maps", NULL };

static void start_live(void)
{
	live_dir = make_tmpdir();
	assert_non_null(live_dir);
	char varied_path[512], many_path[512];
	snprintf(varied_path, sizeof(varied_path), "%s", helper_path("varied_maps"));
	snprintf(many_path, sizeof(many_path), "%s", helper_path("manymaps"));
	char *varied[] = { varied_path, live_dir, "tab\there\nnewline", "caf\xc3\xa9", "",
			   NULL };
	char *many[] = { many_path, "300", NULL };
	char *python[] = { "/usr/bin/python3", "-c",
			   "import sys, ssl, sqlite3, ctypes, decimal\n"
			   "print('ready', flush=True)\nsys.stdin.read()", NULL };
	char **argvs[] = { varied, many, python };
	memset(&live, 0, sizeof(live));
	for (size_t i = 0; i < 3; i++) {
		if (i == 2 && !file_exists(python[0]))
			continue;
		if (helper_start(&live_procs[live.npids], argvs[i]) != 0)
			fail_msg("cannot start %s", argvs[i][0]);
		live.pids[live.npids] = live_procs[live.npids].pid;
		snprintf(live.pid_text[live.npids], 16, "%ld", (long)live.pids[live.npids]);
		live.npids++;
	}
	if (private_mounts() != 0)
		fail_msg("unshare -m: %s (the tests run as root)", strerror(errno));
	for (size_t i = 0; i < live.npids; i++) {
		assert_int_equal(stop_and_wait(live.pids[i]), 0);
		if (freeze_proc(live.pids[i], live_dir, frozen) != 0)
			fail_msg("cannot freeze pid %ld: %s", (long)live.pids[i], strerror(errno));
	}
}

static int stop_live(void **state)
{
	(void)state;
	/* Last started first: a later helper inherited the earlier ones'
	 * stdin pipes, so they see end of input only once it is gone. */
	for (size_t i = live.npids; i-- > 0;) {
		thaw_proc(live.pids[i], frozen);
		helper_stop(&live_procs[i]); /* continues, closes stdin, reaps */
	}
	live.npids = 0;
	if (live_dir)
		remove_tree(live_dir);
	free(live_dir);
	live_dir = NULL;
	return 0;
}

static void test_live_against_pmap(void **state)
{
	(void)state;
	if (!have_pmap_40()) {
		fprintf(stderr, "skipped: the system pmap is not procps-ng 4.0.x\n");
		skip();
	}
	start_live();
	for (size_t i = 0; i < live.npids; i++) {
		for (size_t m = 0; m < sizeof(live_modes) / sizeof(*live_modes); m++)
			compare_live(live_modes[m], &live, i, 1);
		compare_live_range(&live, i);
	}
	/* Several pids in one run, as pmap prints them. */
	compare_live((const char *const[]){ NULL }, &live, 0, live.npids);
	compare_live((const char *const[]){ "-x", NULL }, &live, 0, live.npids);
	compare_live((const char *const[]){ "-d", NULL }, &live, 0, live.npids);
}

/* A kernel thread has no address space: pmap prints "[comm]" and empty
 * tables (pid 2 is kthreadd on Linux). */
static void test_live_kernel_thread(void **state)
{
	(void)state;
	char *comm = read_file("/proc/2/comm", NULL);
	char *maps = read_file("/proc/2/maps", NULL);
	bool kthread = comm && maps && !maps[0];
	free(comm);
	free(maps);
	if (!have_pmap_40() || !kthread)
		skip();
	static const char *const modes[][3] = { { NULL }, { "-x", NULL }, { "-X", NULL },
						{ "-XX", NULL }, { "-d", NULL } };
	for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
		const char *args[4];
		size_t n = 0;
		for (; modes[m][n]; n++)
			args[n] = modes[m][n];
		args[n++] = "2";
		args[n] = NULL;
		cmd_result pm, ms;
		run_argv(&pm, "pmap", args, NULL);
		run_show(&ms, args, NULL);
		assert_int_equal(ms.status, 0);
		assert_same_output(ms.out, pm.out, modes[m][0], "2");
		cmd_result_free(&pm);
		cmd_result_free(&ms);
	}
}

/* pmap -X of one pid, with the long-name fix. */
static char *pmap_X_alone(size_t i)
{
	cmd_result pm;
	run_argv(&pm, "pmap", (const char *[]){ "-X", live.pid_text[i], NULL }, NULL);
	char **paths;
	size_t npaths = maps_paths(&paths, live.pids[i]);
	char *fixed = pmap_fix_long_names(pm.out, (const char *const *)paths, npaths, false);
	for (size_t k = 0; k < npaths; k++)
		free(paths[k]);
	free(paths);
	cmd_result_free(&pm);
	return fixed;
}

/* -X on several pids: each block as pmap prints that pid alone (4.0.2
 * would carry totals and widths over from one pid to the next). */
static void test_live_X_per_pid(void **state)
{
	(void)state;
	if (!have_pmap_40())
		skip();
	start_live();
	char *want[2] = { pmap_X_alone(0), pmap_X_alone(1) };
	cmd_result ms;
	run_show(&ms, (const char *[]){ "-X", live.pid_text[0], live.pid_text[1], NULL }, NULL);
	assert_int_equal(ms.status, 0);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "\n%s:   ", live.pid_text[1]);
	char *second = strstr(ms.out, prefix);
	assert_non_null(second);
	second[0] = '\0';
	char *got[2] = { concat(ms.out, "\n"), second + 1 };
	for (size_t i = 0; i < 2; i++)
		assert_same_output(got[i], want[i], "-X", live.pid_text[i]);
	free(got[0]);
	free(want[0]);
	free(want[1]);
	cmd_result_free(&ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_modes),
		cmocka_unit_test(test_raw_smaps),
		cmocka_unit_test(test_several_documents),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_kind_filter),
		cmocka_unit_test(test_kind_groups_partition),
		cmocka_unit_test(test_kind_reserved),
		cmocka_unit_test(test_explain_fixture),
		cmocka_unit_test(test_explain_filters),
		cmocka_unit_test(test_explain_live),
		cmocka_unit_test(test_kinds_and_evidence_documented),
		cmocka_unit_test(test_size_filters),
		cmocka_unit_test(test_path_filter),
		cmocka_unit_test(test_sort_top),
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test_teardown(test_live_against_pmap, stop_live),
		cmocka_unit_test_teardown(test_live_X_per_pid, stop_live),
		cmocka_unit_test(test_live_kernel_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
