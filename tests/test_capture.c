/* capture and convert, through the real mapsnap binary and the public
 * API, on helper processes started here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

struct fixture {
	char *dir;
	helper_proc helper;
	char pid[16];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->dir = make_tmpdir();
	char *argv[] = { (char *)helper_path("manymaps"), "300", "2048", NULL };
	if (!fx->dir || helper_start(&fx->helper, argv) != 0)
		return -1;
	snprintf(fx->pid, sizeof(fx->pid), "%d", fx->helper.pid);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	helper_stop(&fx->helper);
	remove_tree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static char *path_in(const struct fixture *fx, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", fx->dir, name) < 0)
		return NULL;
	return p;
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static snap_snapshot *parse_smaps_text(const char *text, size_t len)
{
	snap_snapshot *snap;
	snap_parser *p;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_parser_new(&p, snap, "kernel", NULL, NULL, NULL), 0);
	assert_int_equal(snap_parser_feed(p, text, len, NULL), 0);
	assert_int_equal(snap_parser_finish(p, NULL), 0);
	snap_parser_free(p);
	return snap;
}

static snap_snapshot *load_json_text(const char *text, size_t len)
{
	FILE *f = fmemopen((void *)text, len, "r");
	snap_snapshot *snap;
	snap_error err = { 0 };
	if (fmt_json_load(&snap, f, "out", &err) != 0)
		fail_msg("load: %s", err.message);
	fclose(f);
	return snap;
}

static void expect_same_regions(const snap_snapshot *kernel,
				const snap_snapshot *got)
{
	assert_int_equal(got->nregions, kernel->nregions);
	for (size_t i = 0; i < kernel->nregions; i++) {
		const snap_region *a = &kernel->regions[i], *b = &got->regions[i];
		assert_true(a->start == b->start && a->end == b->end);
		assert_string_equal(a->perms, b->perms);
		assert_true(a->offset == b->offset && a->inode == b->inode);
		assert_string_equal(a->path, b->path);
		assert_string_equal(a->vmflags, b->vmflags);
		assert_int_equal(a->nlayout, b->nlayout);
		for (size_t e = 0; e < a->nlayout; e++) {
			const char *name = kernel->fields[a->layout[e]].name;
			assert_string_equal(name, got->fields[b->layout[e]].name);
			uint64_t want = snap_region_value(a, (int)a->layout[e]);
			uint64_t have = snap_region_value(b, (int)b->layout[e]);
			if (want != have)
				fail_msg("region %zu %s: kernel %llu, mapsnap %llu", i, name,
					 (unsigned long long)want, (unsigned long long)have);
		}
	}
}

/* The kernel's own text and both captures (API and binary) agree region
 * by region, every counter. Pss and the shared/private split of file
 * pages move whenever any process maps those pages (the readers too), so
 * all three read one frozen copy of the stopped helper's smaps. */
static void test_live_capture_matches_kernel(void **state)
{
	struct fixture *fx = *state;
	static const char *const frozen[] = { "smaps", NULL };
	char path[64];
	size_t len;
	assert_int_equal(stop_and_wait(fx->helper.pid), 0);
	if (private_mounts() != 0 || freeze_proc(fx->helper.pid, fx->dir, frozen) != 0)
		fail_msg("cannot freeze /proc/%d/smaps: %s (the tests run as root)",
			 fx->helper.pid, strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/smaps", fx->helper.pid);
	char *text = read_file(path, &len);
	snap_snapshot *kernel = parse_smaps_text(text, len);
	assert_true(kernel->nregions > 300);

	snap_snapshot *api;
	snap_error err = { 0 };
	assert_int_equal(snap_capture(&api, fx->helper.pid, NULL, &err), 0);
	expect_same_regions(kernel, api);
	assert_int_equal(api->process.pid, fx->helper.pid);
	assert_string_equal(api->process.comm, "manymaps");
	assert_int_equal(api->process.argc, 3);
	assert_string_equal(api->process.argv[1], "300");
	assert_true(api->process.start_time > 0);
	assert_true(api->process.start_stack > 0);
	assert_true(api->nrollup > 0);
	assert_non_null(api->host.boot_id);
	assert_true(api->capture_ms >= 0);

	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", "-", NULL), 0);
	assert_int_equal(res.status, 0);
	snap_snapshot *cli = load_json_text(res.out, res.out_len);
	expect_same_regions(kernel, cli);
	assert_false(fmt_checksum_mismatch(cli));
	assert_string_equal(cli->host.boot_id, api->host.boot_id);
	assert_true(cli->process.start_time == api->process.start_time);
	cmd_result_free(&res);
	thaw_proc(fx->helper.pid, frozen);
	kill(fx->helper.pid, SIGCONT);

	snap_snapshot_free(cli);
	snap_snapshot_free(api);
	snap_snapshot_free(kernel);
	free(text);
}

static void test_default_name_and_directory(void **state)
{
	struct fixture *fx = *state;
	char *dir_arg = path_in(fx, "");
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", dir_arg, NULL), 0);
	assert_int_equal(res.status, 0);
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "%smapsnap-manymaps-%s-", dir_arg, fx->pid);
	/* It prints the file it wrote, named mapsnap-<comm>-<pid>-<UTC>.json. */
	assert_true(strncmp(res.out, prefix, strlen(prefix)) == 0);
	char *nl = strchr(res.out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_int_equal(strlen(res.out) - strlen(prefix), strlen("20261122T021500Z.json"));
	assert_true(file_exists(res.out));
	cmd_result_free(&res);

	/* Without -o: the current directory. */
	char *cmd;
	char bin[PATH_MAX];
	assert_non_null(realpath(mapsnap_bin(), bin));
	assert_true(asprintf(&cmd, "cd '%s' && exec '%s' capture %s", fx->dir, bin,
			     fx->pid) > 0);
	char *argv[] = { "sh", "-c", cmd, NULL };
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_true(strncmp(res.out, "mapsnap-manymaps-", 17) == 0);
	cmd_result_free(&res);
	/* Again at once: a new name, not an error and not an overwrite. */
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	cmd_result_free(&res);
	assert_int_equal(count_files(fx->dir), 3);
	free(cmd);
	free(dir_arg);
}

static void test_several_pids(void **state)
{
	struct fixture *fx = *state;
	helper_proc second;
	char *argv[] = { (char *)helper_path("manymaps"), "10", NULL };
	assert_int_equal(helper_start(&second, argv), 0);
	char pid2[16];
	snprintf(pid2, sizeof(pid2), "%d", second.pid);
	char *out = path_in(fx, "many/");
	char *mk;
	assert_true(asprintf(&mk, "%s/many", fx->dir) > 0);
	char *mkargv[] = { "mkdir", mk, NULL };
	cmd_result res;
	run_cmd(&res, mkargv, NULL);
	cmd_result_free(&res);

	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, pid2, "-o", out, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(count_files(mk), 2);
	cmd_result_free(&res);

	/* One file cannot hold two captures unless it is a stream (-o -). */
	char *file = path_in(fx, "one.json");
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, pid2, "-o", file, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "need -o DIR/"));
	assert_false(file_exists(file));
	cmd_result_free(&res);

	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, pid2, "-o", "-", NULL), 0);
	assert_int_equal(res.status, 0);
	FILE *f = fmemopen(res.out, res.out_len, "r");
	snap_snapshot *a, *b, *c = NULL;
	assert_int_equal(fmt_json_load(&a, f, "s", NULL), 0);
	assert_int_equal(fmt_json_load(&b, f, "s", NULL), 0);
	assert_int_equal(fmt_json_load(&c, f, "s", NULL), 1);
	assert_int_equal(a->process.pid, fx->helper.pid);
	assert_int_equal(b->process.pid, second.pid);
	fclose(f);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	cmd_result_free(&res);

	/* --name finds every process by comm: two copies of a helper under
	 * a name no other test uses. */
	char comm[16], *copy;
	snprintf(comm, sizeof(comm), "mmn%d", (int)getpid() % 1000000);
	assert_true(asprintf(&copy, "%s/%s", fx->dir, comm) > 0);
	char *cp[] = { "cp", (char *)helper_path("manymaps"), copy, NULL };
	assert_int_equal(run_cmd(&res, cp, NULL), 0);
	cmd_result_free(&res);
	helper_proc named1, named2;
	char *nargv[] = { copy, "5", NULL };
	assert_int_equal(helper_start(&named1, nargv), 0);
	assert_int_equal(helper_start(&named2, nargv), 0);
	char *named = path_in(fx, "named/");
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--name", comm, "-o",
				     named, NULL), 0);
	size_t lines = 0;
	for (const char *p = res.out; (p = strchr(p, '\n')); p++)
		lines++;
	if (res.status != 0 || lines != 2)
		fail_msg("--name %s: status %d, stdout: %s, stderr: %s", comm, res.status,
			 res.out, res.err);
	char want[64];
	snprintf(want, sizeof(want), "-%d-", named1.pid);
	assert_non_null(strstr(res.out, want));
	snprintf(want, sizeof(want), "-%d-", named2.pid);
	assert_non_null(strstr(res.out, want));
	cmd_result_free(&res);
	helper_stop(&named1);
	helper_stop(&named2);
	free(copy);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--name", "no-such-comm-x", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "no process named"));
	cmd_result_free(&res);

	helper_stop(&second);
	free(named);
	free(file);
	free(mk);
	free(out);
}

static void test_redact(void **state)
{
	struct fixture *fx = *state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--redact", fx->pid, "-o", "-",
				     NULL), 0);
	assert_int_equal(res.status, 0);
	snap_snapshot *snap = load_json_text(res.out, res.out_len);
	assert_null(snap->host.hostname); /* dropped */
	assert_int_equal(snap->process.argc, 1); /* arguments dropped */
	assert_true(snap->redacted);
	assert_null(strstr(res.out, "\"2048\""));
	snap_snapshot_free(snap);
	cmd_result_free(&res);
}

static void test_never_overwrites(void **state)
{
	struct fixture *fx = *state;
	char *file = path_in(fx, "keep.json");
	assert_int_equal(write_file(file, "precious\n", 9), 0);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", file, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "already exists"));
	assert_non_null(strstr(res.err, file));
	size_t len;
	char *kept = read_file(file, &len);
	assert_string_equal(kept, "precious\n");
	free(kept);
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", file, "--force",
				     NULL), 0);
	assert_int_equal(res.status, 0);
	kept = read_file(file, &len);
	assert_true(strncmp(kept, "{\"schema\":", 10) == 0);
	free(kept);
	cmd_result_free(&res);
	/* Never renamed over something that is not a regular file. */
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", "/dev/null",
				     "--force", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "not a regular file"));
	cmd_result_free(&res);
	assert_int_equal(count_files(fx->dir), 1); /* no temporary left behind */
	free(file);
}

/* A page's share (Pss) and whether it counts as shared or private
 * follow how many processes map it, and other processes keep mapping and
 * unmapping the libraries a stopped process maps (make check runs other
 * tests beside this one). What the process holds itself does not move. */
static bool moved_by_others(const char *name)
{
	static const char *const names[] = {
		"Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "SwapPss",
		"Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static uint64_t rollup_value(const snap_snapshot *snap, const char *name)
{
	for (size_t i = 0; i < snap->nrollup; i++)
		if (strcmp(snap->rollup[i].name, name) == 0)
			return snap->rollup[i].value;
	fail_msg("no %s in the rollup", name);
	return 0;
}

/* smaps_rollup alone: on a stopped process, the totals a full capture
 * read with its regions (those that others move: in each read, Pss
 * within Rss and the four clean/dirty parts adding up to it); an absent
 * process is SNAP_ENOPROC. */
static void test_rollup_alone(void **state)
{
	struct fixture *fx = *state;
	pid_t pid = fx->helper.pid;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	snap_snapshot *full, *rollup;
	snap_error err = { 0 };
	assert_int_equal(snap_capture(&full, pid, NULL, &err), 0);
	assert_int_equal(snap_snapshot_new(&rollup, NULL), 0);
	assert_int_equal(snap_capture_rollup(rollup, pid, NULL, &err), 0);
	kill(pid, SIGCONT);
	assert_true(full->nrollup > 0);
	assert_int_equal(rollup->nrollup, full->nrollup);
	for (size_t i = 0; i < full->nrollup; i++) {
		assert_string_equal(rollup->rollup[i].name, full->rollup[i].name);
		if (moved_by_others(full->rollup[i].name))
			continue;
		if (rollup->rollup[i].value != full->rollup[i].value)
			fail_msg("%s: %llu alone, %llu with the regions", full->rollup[i].name,
				 (unsigned long long)rollup->rollup[i].value,
				 (unsigned long long)full->rollup[i].value);
	}
	const snap_snapshot *both[] = { full, rollup };
	for (size_t k = 0; k < 2; k++) {
		uint64_t rss = rollup_value(both[k], "Rss");
		assert_true(rollup_value(both[k], "Pss") <= rss);
		assert_true(rollup_value(both[k], "Shared_Clean") +
				    rollup_value(both[k], "Private_Clean") +
				    rollup_value(both[k], "Shared_Dirty") +
				    rollup_value(both[k], "Private_Dirty") ==
			    rss);
	}
	snap_snapshot_free(rollup);
	snap_snapshot_free(full);
	assert_int_equal(snap_snapshot_new(&rollup, NULL), 0);
	assert_int_equal(snap_capture_rollup(rollup, 2147483646, NULL, &err), SNAP_ENOPROC);
	assert_string_equal(err.message, "no such process");
	snap_snapshot_free(rollup);
}

/* A copy of a stopped process's proc files, for snap_capture through
 * opts.procfs; stat as given (NULL: the process's own). */
static char *fake_procfs(const struct fixture *fx, pid_t pid, const char *stat)
{
	static const char *const names[] = { "stat", "status", "comm", "cmdline",
					      "smaps", "smaps_rollup", "cgroup" };
	char *root = path_in(fx, "proc"), dir[4300], from[64], to[4400], exe[4096];
	assert_non_null(root);
	snprintf(dir, sizeof(dir), "%s/%d", root ? root : "", (int)pid);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(from, sizeof(from), "/proc/%d/%s", (int)pid, names[i]);
		size_t len;
		char *text = read_file(from, &len);
		assert_non_null(text);
		if (stat && strcmp(names[i], "stat") == 0) {
			free(text);
			text = strdup(stat);
			len = strlen(stat);
		}
		snprintf(to, sizeof(to), "%s/%s", dir, names[i]);
		assert_int_equal(write_file(to, text, len), 0);
		free(text);
	}
	snprintf(from, sizeof(from), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(from, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(to, sizeof(to), "%s/exe", dir);
	assert_int_equal(symlink(exe, to), 0);
	return root;
}

/* stat with the code bounds (fields 26 and 27) zeroed, as they are
 * while an exec is still mapping the new program. */
static char *stat_mid_exec(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *text = read_file(path, NULL);
	assert_non_null(text);
	char *out = calloc(1, strlen(text) + 1), *o = out;
	const char *close = strrchr(text, ')');
	assert_non_null(close);
	memcpy(o, text, (size_t)(close + 1 - text));
	o += close + 1 - text;
	const char *t = close + 1;
	for (int field = 3; *t; field++) {
		while (*t == ' ')
			*o++ = *t++;
		const char *end = t;
		while (*end && *end != ' ')
			end++;
		if (field == 26 || field == 27) {
			*o++ = '0';
		} else {
			memcpy(o, t, (size_t)(end - t));
			o += end - t;
		}
		t = end;
	}
	free(text);
	return out;
}

/* A process read while an exec is still mapping the new program has the
 * new program's name and stack but not all of its map: that capture is
 * tried again, and refused if it stays so; the same files with the code
 * bounds set are one whole snapshot. */
static void test_exec_in_progress(void **state)
{
	struct fixture *fx = *state;
	pid_t pid = fx->helper.pid;
	int status;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	char *mid = stat_mid_exec(pid);
	char *whole = fake_procfs(fx, pid, NULL);
	snap_capture_opts opts;
	assert_int_equal(snap_capture_opts_init(&opts, SNAP_CAPTURE_OPTS_VERSION), 0);
	opts.procfs = whole;
	opts.no_build_ids = true;
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_capture(&snap, pid, &opts, &err), 0);
	assert_true(snap->nregions > 300);
	snap_snapshot_free(snap);
	remove_tree(whole);
	free(whole);
	char *torn = fake_procfs(fx, pid, mid);
	kill(pid, SIGCONT);
	opts.procfs = torn;
	assert_int_equal(snap_capture(&snap, pid, &opts, &err), SNAP_ECHANGED);
	assert_non_null(strstr(err.message, "exec in progress"));
	remove_tree(torn);
	free(torn);
	free(mid);
}

static void test_no_such_process(void **state)
{
	struct fixture *fx = *state;
	char *file = path_in(fx, "gone.json");
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "2147483646", "-o", file, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_string_equal(res.err, "mapsnap: pid 2147483646: no such process\n");
	assert_false(file_exists(file));
	assert_int_equal(count_files(fx->dir), 0);
	cmd_result_free(&res);
	free(file);
}

/* As an unprivileged user, a root process cannot be read. */
static void test_permission_denied(void **state)
{
	struct fixture *fx = *state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
		skip();
		return;
	}
	char bin[PATH_MAX];
	assert_non_null(realpath(mapsnap_bin(), bin));
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 bin, "capture", fx->pid, "-o", "-", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 2);
	char expect[200];
	snprintf(expect, sizeof(expect), "mapsnap: pid %s: permission denied (needs "
		 "ptrace access: same user or CAP_SYS_PTRACE)\n", fx->pid);
	assert_string_equal(res.err, expect);
	assert_int_equal(res.out_len, 0);
	cmd_result_free(&res);
}

/* A full disk and a read-only directory: clear error, nothing left. */
static void test_unwritable_outputs(void **state)
{
	struct fixture *fx = *state;
	char *small = path_in(fx, "small"), *ro = path_in(fx, "ro");
	char *mk[] = { "mkdir", small, ro, NULL };
	cmd_result res;
	run_cmd(&res, mk, NULL);
	cmd_result_free(&res);
	if (mount("tmpfs", small, "tmpfs", 0, "size=16k") != 0 ||
	    mount("tmpfs", ro, "tmpfs", MS_RDONLY, "size=16k") != 0) {
		umount(small);
		skip(); /* needs root (CI and the developer machines are) */
		return;
	}
	char *full = path_in(fx, "small/x.json");
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", full, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "No space left on device"));
	assert_non_null(strstr(res.err, full));
	assert_int_equal(count_files(small), 0);
	cmd_result_free(&res);

	char *rofile = path_in(fx, "ro/x.json");
	assert_int_equal(run_mapsnap(&res, NULL, "capture", fx->pid, "-o", rofile, NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "Read-only file system"));
	assert_int_equal(count_files(ro), 0);
	cmd_result_free(&res);
	umount(small);
	umount(ro);
	free(full);
	free(rofile);
	free(small);
	free(ro);
}

/* Each thread's stack pointer is captured, survives the JSON, and marks
 * the region that holds it as a thread stack. */
static void test_thread_stack_pointers(void **state)
{
	(void)state;
	helper_proc demo;
	char *argv[] = { (char *)helper_path("demo"), NULL };
	char reply[64];
	assert_int_equal(helper_start(&demo, argv), 0);
	assert_int_equal(helper_command(&demo, "threads", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok");
	/* Stopped, every thread has a stack pointer to read (one running on
	 * a CPU has none): waitpid says when the whole group has stopped. */
	int status;
	assert_int_equal(kill(demo.pid, SIGSTOP), 0);
	assert_int_equal(waitpid(demo.pid, &status, WUNTRACED), demo.pid);
	assert_true(WIFSTOPPED(status));
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_capture(&snap, demo.pid, NULL, &err), 0);
	kill(demo.pid, SIGCONT);
	assert_int_equal(snap->process.nthread_sp, 2);
	enum snap_kind *kinds = calloc(snap->nregions, sizeof(*kinds));
	assert_int_equal(snap_classify(snap, kinds, NULL, NULL, NULL), 0);
	for (size_t t = 0; t < 2; t++) {
		uint64_t sp = snap->process.thread_sp[t];
		size_t holder = snap->nregions;
		for (size_t i = 0; i < snap->nregions; i++)
			if (sp >= snap->regions[i].start && sp < snap->regions[i].end)
				holder = i;
		assert_true(holder < snap->nregions);
		assert_int_equal(kinds[holder], SNAP_KIND_THREAD_STACK);
	}
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(fmt_json_write(f, snap), 0);
	fclose(f);
	snap_snapshot *back = load_json_text(buf, len);
	assert_int_equal(back->process.nthread_sp, 2);
	assert_true(back->process.thread_sp[1] == snap->process.thread_sp[1]);
	snap_snapshot_free(back);
	free(buf);
	free(kinds);
	snap_snapshot_free(snap);
	helper_stop(&demo);
}

static void test_usage(void **state)
{
	(void)state;
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--help", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: mapsnap capture"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--bogus", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_string_equal(res.err, "mapsnap: capture: unknown option '--bogus' (see "
			    "'mapsnap capture --help')\n");
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "which process"));
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "12x", NULL), 0);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "--version", NULL), 0);
	assert_string_equal(res.out, "mapsnap " SNAP_VERSION_STRING "\n");
	cmd_result_free(&res);
	assert_int_equal(run_mapsnap(&res, NULL, "frobnicate", NULL), 0);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
}

static const char *const round_trip_fixtures[] = {
	"fixtures/ref/sleep/proc.smaps", "fixtures/ref/python3/proc.smaps",
	"fixtures/ref/zoo/proc.smaps", "fixtures/ref/mapzoo/smaps",
	"fixtures/ref/bigvirt/smaps", "fixtures/smaps/kernel-4.19.smaps",
	"fixtures/smaps/vendor-unknown-keys.smaps", "fixtures/smaps/odd-names.smaps",
	"fixtures/smaps/latin1-path.smaps",
};

/* capture --from-smaps then convert --to smaps gives the text back. */
static void test_convert_round_trip(void **state)
{
	struct fixture *fx = *state;
	char *json = path_in(fx, "rt.json");
	for (size_t i = 0; i < sizeof(round_trip_fixtures) / sizeof(*round_trip_fixtures); i++) {
		const char *src = round_trip_fixtures[i];
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "capture", "--from-smaps", src,
					     "--proc-files", "-o", json, "--force", NULL), 0);
		if (res.status != 0)
			fail_msg("%s: %s", src, res.err);
		cmd_result_free(&res);
		assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "smaps", json, NULL), 0);
		assert_int_equal(res.status, 0);
		size_t len;
		char *orig = read_file(src, &len);
		assert_int_equal(res.out_len, len);
		assert_memory_equal(res.out, orig, len);
		free(orig);
		cmd_result_free(&res);
	}
	/* From stdin, and raw smaps straight to JSON. */
	size_t len;
	char *text = read_file("fixtures/ref/sleep/proc.smaps", &len);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, text, "convert", "--to", "json", "-", NULL), 0);
	assert_int_equal(res.status, 0);
	snap_snapshot *snap = load_json_text(res.out, res.out_len);
	assert_int_equal(snap->nregions, 37);
	assert_false(snap->process.known); /* nothing invented */
	assert_null(snap->host.hostname);
	snap_snapshot_free(snap);
	cmd_result_free(&res);
	free(text);
	free(json);
}

/* Every bad input: exit 2, one line naming the file, no output file. */
static void test_bad_inputs(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *name, *content, *words;
	} cases[] = {
		{ "empty.json", "", "empty input" },
		{ "garbage.bin", "\x01\x02\x03\xff\xfe", "neither a snapshot" },
		{ "truncated.json", "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[{\"st",
		  "invalid JSON" },
		{ "schema.json", "{\"schema\":\"mapsnap.snapshot/9\",\"regions\":[]}",
		  "unsupported schema" },
		{ "noregions.json", "{\"schema\":\"mapsnap.snapshot/1\"}", "no \"regions\"" },
		{ "cut.smaps", "00400000-00401000 r-xp 00000000 08:01 42 /bin/x\nSize:    4 kB\n"
		  "Rss:   4 kB\nVmFlags: rd \n00401000-00402000 r--p 00001000 08:01 42 /bin/x\n"
		  "Size:    4 kB\n", "incomplete" },
		{ "badhex.smaps", "0040q000-00401000 r-xp 00000000 08:01 42 /bin/x\n", "header" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *in = path_in(fx, cases[i].name), *out = path_in(fx, "out.txt");
		assert_int_equal(write_file(in, cases[i].content, strlen(cases[i].content)), 0);
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "smaps", in, "-o",
					     out, NULL), 0);
		if (res.status != 2 || !strstr(res.err, cases[i].words) || !strstr(res.err, in))
			fail_msg("%s: status %d, stderr: %s", cases[i].name, res.status, res.err);
		assert_non_null(strchr(res.err, '\n'));
		assert_int_equal(strchr(res.err, '\n')[1], '\0'); /* one line */
		assert_false(file_exists(out));
		cmd_result_free(&res);
		if (strstr(cases[i].name, ".smaps")) {
			assert_int_equal(run_mapsnap(&res, NULL, "capture", "--from-smaps", in,
						     "-o", out, NULL), 0);
			assert_int_equal(res.status, 2);
			assert_false(file_exists(out));
			cmd_result_free(&res);
		}
		unlink(in);
		free(in);
		free(out);
	}
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "smaps",
				     "/nonexistent/x.json", NULL), 0);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "/nonexistent/x.json"));
	cmd_result_free(&res);
}

static void test_checksum_warning(void **state)
{
	struct fixture *fx = *state;
	char *json = path_in(fx, "edited.json");
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--from-smaps",
				     "fixtures/ref/sleep/proc.smaps", "-o", json, NULL), 0);
	assert_int_equal(res.status, 0);
	cmd_result_free(&res);
	size_t len;
	char *text = read_file(json, &len);
	char *size = strstr(text, "\"Size\":132");
	assert_non_null(size);
	size[8] = '4';
	assert_int_equal(write_file(json, text, len), 0);
	assert_int_equal(run_mapsnap(&res, NULL, "convert", "--to", "smaps", json, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.err, "edited or corrupted"));
	assert_non_null(strstr(res.err, json));
	cmd_result_free(&res);
	free(text);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_live_capture_matches_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_name_and_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollup_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_in_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_outputs, setup, teardown),
		cmocka_unit_test(test_thread_stack_pointers),
		cmocka_unit_test(test_usage),
		cmocka_unit_test_setup_teardown(test_convert_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_warning, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
