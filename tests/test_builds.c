/* Build-ids through the real binary, on processes that load libraries
 * this test builds: two builds of one soname (libmapsnap-v.so.1), a copy
 * of one build at another path. A rebuilt library is `replaced` naming
 * both builds; one build loaded twice and two builds of one library are
 * told apart; a library upgraded on disk under a running process is the
 * upgrade finding; the build-ids are readelf's, the same by PROCMAP_QUERY
 * and by the ELF note; a process in another mount namespace gets the
 * build of the file it really maps. (The same build from two paths in
 * two runs, `moved`, is test_layouts' library_path_change_keeps_bss.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap.h"
#include "truth.h"
#include "util.h"

#define SONAME "libmapsnap-v.so.1"

static struct {
	char *dir;
	char v1[4200], copy[4200], v2[4200]; /* dir/a, dir/b (v1 again), dir/c */
	char id1[128], id2[128];             /* their build-ids, by readelf */
	int snaps;
} fx;

static void readelf_build_id(char *hex, size_t size, const char *path)
{
	char *argv[] = { "readelf", "-n", (char *)path, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	const char *at = strstr(res.out, "Build ID: ");
	assert_non_null(at);
	snprintf(hex, size, "%.*s", (int)strcspn(at + 10, "\n"), at + 10);
	cmd_result_free(&res);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *bytes = read_file(from, &len);
	assert_non_null(bytes);
	assert_int_equal(write_file(to, bytes, len), 0);
	free(bytes);
}

static int setup(void **state)
{
	(void)state;
	static const char code1[] = "int v_table[4096];\n"
				    "int v_version(void) { return v_table[0] + 1; }\n";
	static const char code2[] = "int v_table[4096];\n"
				    "int v_version(void) { return v_table[1] + 2; }\n"
				    "int v_new_in_two(void) { return 7; }\n";
	if (!(fx.dir = make_tmpdir()))
		return -1;
	char sub[4300];
	for (const char *d = "abcu"; *d; d++) {
		snprintf(sub, sizeof(sub), "%s/%c", fx.dir, *d);
		if (mkdir(sub, 0755) != 0)
			return -1;
	}
	snprintf(fx.v1, sizeof(fx.v1), "%s/a/" SONAME, fx.dir);
	snprintf(fx.copy, sizeof(fx.copy), "%s/b/" SONAME, fx.dir);
	snprintf(fx.v2, sizeof(fx.v2), "%s/c/" SONAME, fx.dir);
	const char *flags = "-Wl,--build-id -Wl,-soname," SONAME;
	if (build_shared_library(code1, fx.v1, flags) != 0 ||
	    build_shared_library(code2, fx.v2, flags) != 0)
		return -1;
	copy_file(fx.v1, fx.copy);
	readelf_build_id(fx.id1, sizeof(fx.id1), fx.v1);
	readelf_build_id(fx.id2, sizeof(fx.id2), fx.v2);
	return strcmp(fx.id1, fx.id2) != 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- driving helpers and the binary ---- */

static void start(helper_proc *h)
{
	char *argv[] = { (char *)helper_path("layouts"), NULL };
	assert_int_equal(helper_start(h, argv), 0);
}

static void load(helper_proc *h, const char *how, const char *path)
{
	char line[4400], reply[256];
	snprintf(line, sizeof(line), "%s %s", how, path);
	assert_int_equal(helper_command(h, line, reply, sizeof(reply)), 0);
	if (strncmp(reply, "ok", 2) != 0)
		fail_msg("%s -> %s", line, reply);
}

static const char *capture(const helper_proc *h)
{
	static char paths[4][4200];
	char *path = paths[fx.snaps % 4], pid[16];
	snprintf(path, sizeof(paths[0]), "%s/s%d.json", fx.dir, fx.snaps++);
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	cmd_result res = run_mapsnap_ok(0, "capture", pid, "-o", path, "-f", NULL);
	cmd_result_free(&res);
	return path;
}

static json_t *json_of(const char *cmd, const char *a, const char *b)
{
	cmd_result res = b ? run_mapsnap_ok(0, cmd, "--format", "json", a, b, NULL)
			   : run_mapsnap_ok(0, cmd, "--format", "json", a, NULL);
	json_t *doc = json_parse_output(res.out, cmd);
	cmd_result_free(&res);
	return doc;
}

/* The build-id the snapshot's files table gives the file at path. */
static const char *build_of(json_t *snap, const char *path, const char **source)
{
	size_t i;
	json_t *r, *f;
	json_int_t inode = -1;
	json_array_foreach(json_object_get(snap, "regions"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
			inode = json_integer_value(json_object_get(r, "inode"));
	json_array_foreach(json_object_get(snap, "files"), i, f)
		if (json_integer_value(json_object_get(f, "inode")) == inode) {
			if (source)
				*source = json_string_value(json_object_get(f, "build_id_source"));
			return json_string_value(json_object_get(f, "build_id"));
		}
	fail_msg("no build-id for %s", path);
	return NULL;
}

static json_t *load_snapshot(const char *path)
{
	json_error_t err;
	json_t *doc = json_load_file(path, JSON_DISABLE_EOF_CHECK, &err);
	if (!doc)
		fail_msg("%s: %s", path, err.text);
	return doc;
}

/* ---- the tests ---- */

/* Two runs, the second with the rebuilt library in another directory:
 * one `replaced` change naming both builds, and its .bss follows it. */
static void rebuild_is_replaced_with_both_builds(void **state)
{
	(void)state;
	helper_proc a, b;
	start(&a);
	start(&b);
	load(&a, "dlopen", fx.v1);
	load(&b, "dlopen", fx.v2);
	json_t *doc = json_of("diff", capture(&a), capture(&b));
	size_t i, replaced = 0;
	json_t *c;
	json_array_foreach(json_object_get(doc, "changes"), i, c) {
		const char *type = json_string_value(json_object_get(c, "change"));
		const char *path = json_string_value(json_object_get(c, "path"));
		if (strcmp(type, "replaced") == 0) {
			replaced++;
			assert_string_equal(path, fx.v2);
			assert_string_equal(json_string_value(json_object_get(c, "old_build_id")),
					    fx.id1);
			assert_string_equal(json_string_value(json_object_get(c, "new_build_id")),
					    fx.id2);
			assert_true(json_is_true(json_object_get(c, "image")));
		}
		if (strcmp(type, "vanished") == 0 || strcmp(type, "new") == 0)
			fail_msg("%s %s %s", type, json_string_value(json_object_get(c, "kind")),
				 path);
	}
	assert_int_equal(replaced, 1);
	json_decref(doc);
	helper_stop(&a);
	helper_stop(&b);
}

static json_t *dup_named(json_t *diff, const char *name)
{
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(diff, "duplicated_libraries"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return d;
	return NULL;
}

/* A second load by dlmopen: of the copy (one build from two files), of
 * the other build (two builds of one library, the dangerous one). */
static void one_build_twice_and_two_builds(void **state)
{
	(void)state;
	static const char *const second[] = { fx.copy, fx.v2 };
	static const char *const want[] = { "same-build", "two-builds" };
	static const char *const words[] = { "(one build)", "in two builds" };
	for (int k = 0; k < 2; k++) {
		helper_proc h;
		start(&h);
		load(&h, "dlopen", fx.v1);
		const char *before = capture(&h);
		load(&h, "dlmopen", second[k]);
		const char *after = capture(&h);
		json_t *doc = json_of("diff", before, after);
		json_t *dup = dup_named(doc, "libmapsnap-v.so");
		assert_non_null(dup);
		assert_true(json_is_true(json_object_get(dup, "new_in_new")));
		assert_string_equal(json_string_value(json_object_get(dup, "duplicate")), want[k]);
		assert_false(json_is_true(json_object_get(dup, "same_file")));
		json_decref(doc);
		cmd_result res = run_mapsnap_ok(0, "check", after, NULL);
		assert_non_null(strstr(res.out, words[k]));
		cmd_result_free(&res);
		helper_stop(&h);
	}
}

/* The library file replaced by the other build (a package upgrade
 * renames the new file over the old) while the process maps it. */
static void upgrade_on_disk_is_found(void **state)
{
	(void)state;
	char lib[4300], next[4300];
	snprintf(lib, sizeof(lib), "%s/u/" SONAME, fx.dir);
	snprintf(next, sizeof(next), "%s/u/.next", fx.dir);
	copy_file(fx.v1, lib);
	helper_proc h;
	start(&h);
	load(&h, "dlopen", lib);
	copy_file(fx.v2, next);
	assert_int_equal(rename(next, lib), 0);
	const char *snap = capture(&h);
	json_t *doc = json_of("check", snap, NULL);
	size_t i, upgrades = 0;
	json_t *f;
	json_array_foreach(json_object_get(doc, "findings"), i, f) {
		const char *msg = json_string_value(json_object_get(f, "message"));
		if (strcmp(json_string_value(json_object_get(f, "rule")), "deleted-mapping") != 0 ||
		    !strstr(msg, "upgraded on disk"))
			continue;
		upgrades++;
		assert_non_null(strstr(msg, fx.id1));
		assert_non_null(strstr(msg, fx.id2));
		assert_string_equal(json_string_value(json_object_get(f, "severity")), "warning");
	}
	assert_int_equal(upgrades, 1);
	json_decref(doc);
	helper_stop(&h);
	unlink(lib);
}

/* What the snapshot records is readelf's, and the ELF note (forced with
 * MAPSNAP_NO_PROCMAP_QUERY=1) gives what PROCMAP_QUERY gives. */
static void build_ids_are_readelf_by_either_way(void **state)
{
	(void)state;
	char libc[128];
	readelf_build_id(libc, sizeof(libc), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	helper_proc h;
	start(&h);
	load(&h, "dlopen", fx.v1);
	json_t *query = load_snapshot(capture(&h));
	assert_int_equal(setenv("MAPSNAP_NO_PROCMAP_QUERY", "1", 1), 0);
	json_t *note = load_snapshot(capture(&h));
	unsetenv("MAPSNAP_NO_PROCMAP_QUERY");
	const char *src_q, *src_n;
	assert_string_equal(build_of(query, fx.v1, &src_q), fx.id1);
	assert_string_equal(build_of(note, fx.v1, &src_n), fx.id1);
	assert_string_equal(src_n, "elf-note");
	/* before Linux 6.11 both are the note */
	assert_true(strcmp(src_q, "procmap-query") == 0 || strcmp(src_q, "elf-note") == 0);
	assert_string_equal(build_of(query, "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL), libc);
	assert_string_equal(build_of(note, "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL), libc);
	/* every file: one build-id, whichever way it was read */
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(query, "files"), i, f) {
		json_t *g = json_array_get(json_object_get(note, "files"), i);
		assert_int_equal(json_integer_value(json_object_get(f, "inode")),
				 json_integer_value(json_object_get(g, "inode")));
		assert_string_equal(json_string_value(json_object_get(f, "build_id")),
				    json_string_value(json_object_get(g, "build_id")));
	}
	json_decref(query);
	json_decref(note);
	helper_stop(&h);
}

/* In its own mount namespace, the process sees the other build at the
 * path (a bind mount over the library's directory); the capture, from
 * outside, must give the build it really maps, by either way. */
static void another_mount_namespace(void **state)
{
	(void)state;
	char script[13000], dir_a[4300], dir_c[4300];
	snprintf(dir_a, sizeof(dir_a), "%s/a", fx.dir);
	snprintf(dir_c, sizeof(dir_c), "%s/c", fx.dir);
	snprintf(script, sizeof(script), "mount --bind '%s' '%s' && exec '%s'", dir_c, dir_a,
		 helper_path("layouts"));
	char *argv[] = { "/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh",
			 "-c", script, NULL };
	helper_proc h;
	assert_int_equal(helper_start(&h, argv), 0);
	load(&h, "dlopen", fx.v1); /* the path of build 1, holding build 2 there */
	for (int way = 0; way < 2; way++) {
		if (way)
			assert_int_equal(setenv("MAPSNAP_NO_PROCMAP_QUERY", "1", 1), 0);
		json_t *snap = load_snapshot(capture(&h));
		unsetenv("MAPSNAP_NO_PROCMAP_QUERY");
		assert_string_equal(build_of(snap, fx.v1, NULL), fx.id2);
		json_decref(snap);
	}
	helper_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rebuild_is_replaced_with_both_builds),
		cmocka_unit_test(one_build_twice_and_two_builds),
		cmocka_unit_test(upgrade_on_disk_is_found),
		cmocka_unit_test(build_ids_are_readelf_by_either_way),
		cmocka_unit_test(another_mount_namespace),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
