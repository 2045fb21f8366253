/* mapsnap rank end to end: the real binary on helper processes
 * (tests/helpers/stages.c, one of them loading libz a second time with
 * dlmopen) against smem, the tool it replaces. Both read one frozen
 * moment: the helpers are stopped, their smaps and smaps_rollup saved, and
 * inside `unshare -m` the saved copies are bind-mounted over the live
 * files while both tools run. Also snapshot files, directories and
 * streams, every format, unreadable processes and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define NHELPERS 4

static struct {
	char *dir;
	char link[PATH_MAX];    /* the helper, by a name only this run uses */
	const char *tag;        /* that name's unique part, for smem -P */
	helper_proc h[NHELPERS];
	char pid[NHELPERS][16];
	char mapsnap[PATH_MAX];
	json_t *rank, *rollup, *libs, *by_comm;
	char *smem, *smem_maps;
} fx;

/* ---- helpers and the frozen moment ---- */

static void stop_process(pid_t pid)
{
	char path[64];
	assert_int_equal(kill(pid, SIGSTOP), 0);
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (int i = 0; i < 5000; i++) {
		char *stat = read_file(path, NULL);
		const char *close = stat ? strrchr(stat, ')') : NULL;
		bool stopped = close && (close[2] == 'T' || close[2] == 't');
		free(stat);
		if (stopped)
			return;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	fail_msg("pid %ld did not stop", (long)pid);
}

static void save_proc_file(pid_t pid, const char *name, const char *to)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	char *text = read_file(path, &len);
	assert_non_null(text);
	assert_int_equal(write_file(to, text, len), 0);
	free(text);
}

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("%s: %s", path, jerr.text);
	return doc;
}

/* Runs smem and mapsnap rank in one mount namespace where the helpers'
 * smaps and smaps_rollup are saved copies. */
static void read_frozen(void)
{
	char script[PATH_MAX], pids[NHELPERS * 16] = "";
	snprintf(script, sizeof(script), "%s/frozen.sh", fx.dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "set -e\ncd '%s'\n", fx.dir);
	for (int i = 0; i < NHELPERS; i++) {
		pid_t pid = fx.h[i].pid;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%d.smaps", fx.dir, pid);
		save_proc_file(pid, "smaps", path);
		snprintf(path, sizeof(path), "%s/%d.rollup", fx.dir, pid);
		save_proc_file(pid, "smaps_rollup", path);
		fprintf(f, "mount --bind %d.smaps /proc/%d/smaps\n", pid, pid);
		fprintf(f, "mount --bind %d.rollup /proc/%d/smaps_rollup\n", pid, pid);
		strcat(pids, " ");
		strcat(pids, fx.pid[i]);
	}
	/* -P also matches command lines that merely contain the regex (this
	 * script's shell, smem itself): "/stages$" ends only the helpers'. */
	fprintf(f, "smem -H -c 'pid maps rss uss pss swap' -P '%s/stages$' > smem.txt\n", fx.tag);
	fprintf(f, "smem -H -m -c 'pids pss map' -P '%s/stages$' > smem-maps.txt\n",
		fx.tag);
	fprintf(f, "'%s' rank --format json%s > rank.json\n", fx.mapsnap, pids);
	fprintf(f, "'%s' rank --rollup --format json%s > rollup.json\n", fx.mapsnap, pids);
	fprintf(f, "'%s' rank --libs --format json%s > libs.json\n", fx.mapsnap, pids);
	fprintf(f, "'%s' rank --by comm --format json%s > by-comm.json\n", fx.mapsnap, pids);
	fclose(f);
	char *argv[] = { "unshare", "-m", "sh", script, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("the frozen reading failed (%d): %s", res.status, res.err);
	cmd_result_free(&res);
}

static char *dir_file(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
	return path;
}

static int setup(void **state)
{
	(void)state;
	if (!(fx.dir = make_tmpdir()) || !realpath(mapsnap_bin(), fx.mapsnap))
		return -1;
	char helper[PATH_MAX];
	if (!realpath(helper_path("stages"), helper))
		return -1;
	/* The comm stays "stages"; the command line names this run only. */
	snprintf(fx.link, sizeof(fx.link), "%s/stages", fx.dir);
	if (symlink(helper, fx.link) != 0)
		return -1;
	fx.tag = strrchr(fx.dir, '/') + 1;
	static const char *const steps[NHELPERS] = { NULL, "grow-heap 4096",
						     "mmap-anon 8192", "dlmopen" };
	for (int i = 0; i < NHELPERS; i++) {
		char *argv[] = { fx.link, NULL };
		if (helper_start(&fx.h[i], argv) != 0)
			return -1;
		snprintf(fx.pid[i], sizeof(fx.pid[i]), "%d", fx.h[i].pid);
		char reply[4300];
		if (steps[i] && (helper_command(&fx.h[i], steps[i], reply, sizeof(reply)) != 0 ||
				 strncmp(reply, "ok", 2) != 0))
			return -1;
	}
	for (int i = 0; i < NHELPERS; i++)
		stop_process(fx.h[i].pid);
	read_frozen();
	for (int i = 0; i < NHELPERS; i++)
		kill(fx.h[i].pid, SIGCONT);
	fx.rank = load_json(dir_file("rank.json"));
	fx.rollup = load_json(dir_file("rollup.json"));
	fx.libs = load_json(dir_file("libs.json"));
	fx.by_comm = load_json(dir_file("by-comm.json"));
	fx.smem = read_file(dir_file("smem.txt"), NULL);
	fx.smem_maps = read_file(dir_file("smem-maps.txt"), NULL);
	return fx.smem && fx.smem_maps ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NHELPERS; i++)
		helper_stop(&fx.h[i]);
	json_decref(fx.rank);
	json_decref(fx.rollup);
	json_decref(fx.libs);
	json_decref(fx.by_comm);
	free(fx.smem);
	free(fx.smem_maps);
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- reading the outputs ---- */

static json_t *row_of(json_t *doc, const char *key, const char *want)
{
	json_t *rows = json_object_get(doc, "rows"), *row;
	size_t i;
	json_array_foreach(rows, i, row) {
		json_t *v = json_object_get(row, key);
		char buf[32];
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			s = buf;
		}
		if (s && strcmp(s, want) == 0)
			return row;
	}
	return NULL;
}

static long long value(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		fail_msg("no integer %s", key);
	return (long long)json_integer_value(v);
}

struct smem_row {
	long long maps, rss, uss, pss, swap;
};

static bool smem_row(const char *pid, struct smem_row *out)
{
	for (const char *line = fx.smem; line && *line; line = strchr(line, '\n')) {
		while (*line == '\n')
			line++;
		long long p;
		if (sscanf(line, "%lld %lld %lld %lld %lld %lld", &p, &out->maps, &out->rss,
			   &out->uss, &out->pss, &out->swap) == 6 && p == atoll(pid))
			return true;
	}
	return false;
}

/* smem -m: "PIDS PSS MAP" rows; the row whose map ends with name. */
static bool smem_map(const char *name, long long *pids, long long *pss, char *path,
		     size_t size)
{
	for (const char *line = fx.smem_maps; line && *line; line = strchr(line, '\n')) {
		while (*line == '\n')
			line++;
		char map[512];
		if (sscanf(line, "%lld %lld %511s", pids, pss, map) != 3)
			continue;
		const char *base = strrchr(map, '/');
		if (base && strcmp(base + 1, name) == 0) {
			snprintf(path, size, "%s", map);
			return true;
		}
	}
	return false;
}

/* ---- tests ---- */

/* For every helper, Rss and USS equal smem's, from smaps and from
 * smaps_rollup alike; Pss summed from smaps equals smem's too (both add
 * up the per-mapping lines, each truncated to a kB), the rollup's (one
 * truncation) is above it by less than 1 kB per mapping. */
static void rank_matches_smem(void **state)
{
	(void)state;
	assert_int_equal(value(fx.rank, "processes"), NHELPERS);
	for (int i = 0; i < NHELPERS; i++) {
		struct smem_row s;
		if (!smem_row(fx.pid[i], &s))
			fail_msg("smem did not list pid %s:\n%s", fx.pid[i], fx.smem);
		json_t *r = row_of(fx.rank, "pid", fx.pid[i]);
		json_t *q = row_of(fx.rollup, "pid", fx.pid[i]);
		assert_non_null(r);
		assert_non_null(q);
		assert_string_equal(json_string_value(json_object_get(r, "comm")), "stages");
		assert_int_equal(value(r, "Rss"), s.rss);
		assert_int_equal(value(r, "USS"), s.uss);
		assert_int_equal(value(r, "Pss"), s.pss);
		assert_int_equal(value(r, "Swap"), s.swap);
		assert_int_equal(value(q, "Rss"), s.rss);
		assert_int_equal(value(q, "USS"), s.uss);
		long long pss = value(q, "Pss");
		assert_true(pss >= s.pss && pss < s.pss + s.maps);
		/* The kinds add up to the process. */
		json_t *kinds = json_object_get(r, "by_kind"), *k;
		const char *name;
		long long rss = 0;
		json_object_foreach(kinds, name, k)
			rss += value(k, "Rss");
		assert_int_equal(rss, s.rss);
		assert_null(json_object_get(q, "by_kind"));
	}
	/* The helper that grew 8 MiB of anonymous memory ranks above the others. */
	json_t *rows = json_object_get(fx.rank, "rows");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0),
								"comm")), "stages");
	assert_int_equal(value(json_array_get(rows, 0), "pid"), fx.h[2].pid);
}

/* --libs: libc's Pss over the helpers equals smem -m's (within 1%), and
 * the helper that dlmopen'd libz is the one process loading it twice (and
 * libc too: the new namespace loads its own libc). */
static void rank_libs_match_smem(void **state)
{
	(void)state;
	long long pids, pss;
	char path[512];
	assert_true(smem_map("libc.so.6", &pids, &pss, path, sizeof(path)));
	json_t *libc = row_of(fx.libs, "path", path);
	assert_non_null(libc);
	assert_int_equal(value(libc, "processes"), pids);
	long long got = value(libc, "Pss");
	assert_true(got * 100 >= pss * 99 && got * 100 <= pss * 101);
	assert_int_equal(value(libc, "loaded_twice"), 1);

	json_t *rows = json_object_get(fx.libs, "rows"), *row, *libz = NULL;
	size_t i;
	json_array_foreach(rows, i, row)
		if (strstr(json_string_value(json_object_get(row, "path")), "/libz.so"))
			libz = row;
	assert_non_null(libz);
	assert_int_equal(value(libz, "processes"), NHELPERS);
	assert_int_equal(value(libz, "loaded_twice"), 1);
	assert_true(smem_map(strrchr(json_string_value(json_object_get(libz, "path")), '/') + 1,
			     &pids, &pss, path, sizeof(path)));
	got = value(libz, "Pss");
	assert_true(got * 100 >= pss * 99 && got * 100 <= pss * 101);
}

/* --by comm: one row, the sum of the process rows. */
static void rank_by_comm_sums_processes(void **state)
{
	(void)state;
	json_t *row = row_of(fx.by_comm, "comm", "stages");
	assert_non_null(row);
	assert_int_equal(value(row, "processes"), NHELPERS);
	static const char *const keys[] = { "Rss", "Pss", "USS", "Swap", "SwapPss" };
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(value(row, keys[k]),
				 value(json_object_get(fx.rank, "total"), keys[k]));
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *s = text; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* Snapshot files, a directory of them and a stream of documents rank the
 * same processes; a series keeps the latest snapshot of each. */
static void rank_files_dirs_streams(void **state)
{
	(void)state;
	char snaps[PATH_MAX], a[PATH_MAX], b[PATH_MAX], stream[PATH_MAX];
	snprintf(snaps, sizeof(snaps), "%s/host/", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", fx.pid[0], fx.pid[2], "-o", snaps,
					NULL);
	char *first = strtok(res.out, "\n"), *second = strtok(NULL, "\n");
	assert_non_null(second);
	snprintf(a, sizeof(a), "%s", first);
	snprintf(b, sizeof(b), "%s", second);
	cmd_result_free(&res);

	res = run_mapsnap_ok(0, "rank", "--format", "json", snaps, NULL);
	json_error_t jerr;
	json_t *dir = json_loads(res.out, 0, &jerr);
	assert_non_null(dir);
	assert_int_equal(value(dir, "processes"), 2);
	assert_non_null(row_of(dir, "pid", fx.pid[0]));
	assert_non_null(row_of(dir, "pid", fx.pid[2]));
	cmd_result_free(&res);

	/* a, b, then a again (a series): still two processes. */
	char *ta = read_file(a, NULL), *tb = read_file(b, NULL);
	snprintf(stream, sizeof(stream), "%s/stream.json", fx.dir);
	FILE *f = fopen(stream, "w");
	fprintf(f, "%s%s%s", ta, tb, ta);
	fclose(f);
	res = run_mapsnap_ok(0, "rank", "--format", "json", stream, NULL);
	json_t *st = json_loads(res.out, 0, &jerr);
	assert_non_null(st);
	assert_int_equal(value(st, "processes"), 2);
	assert_true(json_equal(json_object_get(st, "total"), json_object_get(dir, "total")));
	cmd_result_free(&res);
	cmd_result res2;
	assert_int_equal(run_mapsnap(&res2, tb, "rank", "--format", "json", "-", NULL), 0);
	assert_int_equal(res2.status, 0);
	json_t *one = json_loads(res2.out, 0, &jerr);
	assert_int_equal(value(one, "processes"), 1);
	assert_int_equal(value(json_array_get(json_object_get(one, "rows"), 0), "pid"),
			 fx.h[2].pid);
	cmd_result_free(&res2);
	json_decref(one);
	json_decref(st);
	json_decref(dir);
	free(ta);
	free(tb);
}

/* Gives the snapshot at path a build-id for its libz (as a capture that
 * read the files records it). */
static void give_libz_build(const char *path, const char *build)
{
	json_t *doc = load_json(path), *r, *lib = NULL;
	size_t i;
	json_array_foreach(json_object_get(doc, "regions"), i, r) {
		const char *p = json_string_value(json_object_get(r, "path"));
		if (!lib && p && strstr(p, "/libz.so"))
			lib = r;
	}
	assert_non_null(lib);
	json_t *file = json_pack("{s:O,s:O,s:s,s:s}", "dev", json_object_get(lib, "dev"),
				 "inode", json_object_get(lib, "inode"), "build_id", build,
				 "build_id_source", "elf-note");
	json_object_set_new(doc, "files", json_pack("[o]", file));
	json_object_del(doc, "checksum");
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	json_decref(doc);
}

static json_t *rank_libs_json(const char *a, const char *b)
{
	cmd_result res = run_mapsnap_ok(0, "rank", "--libs", "--format", "json", a, b, NULL);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	assert_non_null(doc);
	cmd_result_free(&res);
	return doc;
}

/* Libraries whose build-id the snapshots know are one row per build, two
 * builds at one path two rows; the others one row per path. */
static void rank_libraries_by_build_id(void **state)
{
	(void)state;
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof(a), "%s/build-a.json", fx.dir);
	snprintf(b, sizeof(b), "%s/build-b.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", fx.pid[0], "-o", a, NULL);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "capture", fx.pid[1], "-o", b, NULL);
	cmd_result_free(&res);
	static const char one[] = "0123456789abcdef0123456789abcdef01234567";
	static const char two[] = "fedcba9876543210fedcba9876543210fedcba98";
	give_libz_build(a, one);
	give_libz_build(b, two);
	json_t *doc = rank_libs_json(a, b), *row;
	size_t i, libz = 0;
	json_array_foreach(json_object_get(doc, "rows"), i, row) {
		const char *path = json_string_value(json_object_get(row, "path"));
		const char *build = json_string_value(json_object_get(row, "build_id"));
		if (strstr(path, "/libz.so")) {
			libz++;
			assert_non_null(build);
			assert_int_equal(value(row, "processes"), 1);
		} else {
			assert_null(build);
			assert_int_equal(value(row, "processes"), 2);
		}
	}
	assert_int_equal(libz, 2);
	json_decref(doc);
	give_libz_build(b, one);
	doc = rank_libs_json(a, b);
	libz = 0;
	json_array_foreach(json_object_get(doc, "rows"), i, row)
		if (strstr(json_string_value(json_object_get(row, "path")), "/libz.so")) {
			libz++;
			assert_string_equal(json_string_value(json_object_get(row, "build_id")), one);
			assert_int_equal(value(row, "processes"), 2);
		}
	assert_int_equal(libz, 1);
	json_decref(doc);
	res = run_mapsnap_ok(0, "rank", "--libs", a, b, NULL);
	assert_non_null(strstr(res.out, "(build 0123456789ab)"));
	cmd_result_free(&res);
}

/* Text, markdown and Prometheus (which promtool accepts; --top 2 leaves
 * two series and "(other)" per metric, summing to the total). */
static void rank_formats(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(0, "rank", fx.pid[0], fx.pid[1], fx.pid[2],
					fx.pid[3], NULL);
	assert_non_null(strstr(res.out, "mapsnap rank: 4 processes"));
	assert_int_equal(count(res.out, " stages "), NHELPERS);
	assert_non_null(strstr(res.out, "TOTAL (4)"));
	assert_non_null(strstr(res.out, "TOP KINDS"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "rank", "--format", "markdown", "--libs", fx.pid[3], NULL);
	assert_non_null(strstr(res.out, "| library | processes | twice |"));
	assert_non_null(strstr(res.out, "| **total** |"));
	cmd_result_free(&res);

	/* Stopped, the helpers' Rss holds still between the two reads. */
	for (int i = 0; i < NHELPERS; i++)
		stop_process(fx.h[i].pid);
	res = run_mapsnap_ok(0, "rank", "--format", "prometheus", "--top", "2", fx.pid[0],
			     fx.pid[1], fx.pid[2], fx.pid[3], NULL);
	char prom[PATH_MAX];
	snprintf(prom, sizeof(prom), "%s/rank.prom", fx.dir);
	assert_int_equal(write_file(prom, res.out, res.out_len), 0);
	assert_int_equal(count(res.out, "mapsnap_rank_process_rss_bytes{"), 3);
	assert_int_equal(count(res.out, "comm=\"(other)\""), 5);
	long long sum = 0;
	for (const char *s = res.out; (s = strstr(s, "\nmapsnap_rank_process_rss_bytes{")); s++)
		sum += atoll(strchr(s, '}') + 2);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "rank", "--format", "json", "--rollup", fx.pid[0], fx.pid[1],
			     fx.pid[2], fx.pid[3], NULL);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	for (int i = 0; i < NHELPERS; i++)
		kill(fx.h[i].pid, SIGCONT);
	assert_int_equal(sum, value(json_object_get(doc, "total"), "Rss") * 1024);
	json_decref(doc);
	cmd_result_free(&res);
	char *argv[] = { "promtool", "check", "metrics", NULL };
	char *text = read_file(prom, NULL);
	assert_int_equal(run_cmd(&res, argv, text), 0);
	if (res.status != 0)
		fail_msg("promtool: %s%s", res.out, res.err);
	cmd_result_free(&res);
	free(text);
}

/* With no argument every process is read; processes that cannot be read
 * are counted on stderr, never fatal. As an unprivileged user, root's
 * processes deny access; a helper of that user is ranked. */
static void rank_counts_the_unreadable(void **state)
{
	(void)state;
	helper_proc h;
	/* helper_start execs without a PATH search. */
	char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
			 "--clear-groups", (char *)helper_path("watched"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char *rank[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 fx.mapsnap, "rank", "--format", "json", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, rank, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.err, "denied access while reading"));
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	assert_non_null(doc);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	assert_non_null(row_of(doc, "pid", pid));
	json_t *not_read = json_object_get(doc, "not_read");
	assert_true(value(not_read, "denied") >= NHELPERS);
	json_decref(doc);
	cmd_result_free(&res);

	/* A pid that has exited: counted as vanished; alone, nothing to rank. */
	helper_stop(&h);
	res = run_mapsnap_ok(0, "rank", pid, fx.pid[0], NULL);
	assert_non_null(strstr(res.err, "1 process vanished"));
	assert_int_equal(count(res.out, " stages "), 1);
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "rank", pid, NULL);
	assert_int_equal(res.out_len, 0);
	cmd_result_free(&res);
}

/* A process names itself: its name reaches no output raw. */
static void rank_escapes_process_names(void **state)
{
	(void)state;
	helper_proc h;
	char *argv[] = { (char *)helper_path("watched"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char reply[256], pid[16];
	assert_int_equal(helper_command(&h, "rename \033[2J\033]0;x\007", reply,
					sizeof(reply)), 0);
	assert_string_equal(reply, "ok");
	snprintf(pid, sizeof(pid), "%d", h.pid);
	static const char *const formats[] = { "text", "markdown", "prometheus" };
	for (size_t i = 0; i < 3; i++) {
		cmd_result res = run_mapsnap_ok(0, "rank", "--format", formats[i], pid, NULL);
		assert_null(strchr(res.out, '\033'));
		assert_null(strchr(res.out, '\007'));
		/* Each byte a terminal acts on is a '?' (markdown escapes its [). */
		assert_non_null(strstr(res.out, i == 1 ? "?\\[2J?\\]0;x?" : "?[2J?]0;x?"));
		cmd_result_free(&res);
	}
	cmd_result res = run_mapsnap_ok(0, "rank", "--format", "json", pid, NULL);
	assert_non_null(strstr(res.out, "\"comm\":\"\\u001b[2J\\u001b]0;x\\u0007\""));
	cmd_result_free(&res);
	helper_stop(&h);
}

static void assert_one_error_line(const cmd_result *res)
{
	assert_int_equal(res->status, 2);
	assert_int_equal(res->out_len, 0);
	assert_int_equal(count(res->err, "\n"), 1);
	assert_int_equal(strncmp(res->err, "mapsnap: ", 9), 0);
}

static void rank_bad_input(void **state)
{
	(void)state;
	char garbage[PATH_MAX + 16], dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/bad", fx.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(garbage, sizeof(garbage), "%s/notes.txt", dir);
	assert_int_equal(write_file(garbage, "hello\n", 6), 0);
	const char *bad[][4] = {
		{ "--sort", "size", NULL },
		{ "--by", "host", NULL },
		{ "--libs", "--by", "user", NULL },
		{ "--format", "yaml", NULL },
		{ "--top", "-1", NULL },
		{ garbage, NULL },
		{ dir, NULL },
		{ "/no/such/file", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "rank", bad[i][0], bad[i][1], bad[i][2],
					     NULL), 0);
		assert_one_error_line(&res);
		cmd_result_free(&res);
	}
	cmd_result res = run_mapsnap_ok(0, "rank", "--help", NULL);
	assert_non_null(strstr(res.out, "usage: mapsnap rank"));
	assert_non_null(strstr(res.out, "Examples:"));
	assert_non_null(strstr(res.out, "Exit status"));
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rank_matches_smem),
		cmocka_unit_test(rank_libs_match_smem),
		cmocka_unit_test(rank_by_comm_sums_processes),
		cmocka_unit_test(rank_files_dirs_streams),
		cmocka_unit_test(rank_libraries_by_build_id),
		cmocka_unit_test(rank_formats),
		cmocka_unit_test(rank_counts_the_unreadable),
		cmocka_unit_test(rank_escapes_process_names),
		cmocka_unit_test(rank_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
