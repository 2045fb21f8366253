/* Capture integrity under faults, through the real binary on processes
 * started here: the target killed or exec()ing at chosen points of a
 * 60,000-mapping capture, 300 short-lived targets, SIGINT, SIGTERM and
 * SIGHUP at chosen points of capture, capture --every, convert, report
 * and around, nohup, a target file created meanwhile, a full disk during
 * --every, a series of another process, around's exit codes.
 *
 * "At a chosen point" is an event, never a delay: mapsnap is stopped
 * (SIGSTOP, confirmed by waitpid) once /proc/PID/fdinfo shows that its
 * descriptor on the smaps, the input or the output has moved past a given
 * position; the fault is done while it stands still, then it continues.
 * The positions it was stopped at say which outcome is the only right
 * one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

/* The process of the issue: 60,000 mappings, a read of about 40 MB of
 * smaps that takes long enough to stop it anywhere. The other tests need
 * only a read long enough to stop in the middle of. */
#define BIG "60000"
#define MID "20000"
#define SMALL "5000"

static struct {
	char *dir;
	char logs[4000];
	char big_json[4200]; /* a snapshot of MID regions, input of convert/report */
	long long big_json_size;
} fx;

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/* ---- files ---- */

static char *in_dir(const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", fx.dir, name) > 0);
	return p;
}

/* A fresh empty directory under the test directory. */
static char *fresh_dir(const char *name)
{
	char *p = in_dir(name);
	remove_tree(p);
	assert_int_equal(mkdir(p, 0755), 0);
	return p;
}

/* Entries of dir, hidden ones too, and the first one's name. */
static size_t list_dir(const char *dir, char *first, size_t size)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	if (first)
		first[0] = '\0';
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && first)
			snprintf(first, size, "%s", de->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static size_t count_lines_of(const char *path)
{
	char *text = read_file(path, NULL);
	size_t n = 0;
	for (const char *s = text; s && *s; s++)
		n += *s == '\n';
	free(text);
	return n;
}

static snap_snapshot *load_one(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	snap_snapshot *snap;
	if (fmt_json_load(&snap, f, path, NULL) != 0)
		fail_msg("%s does not load", path);
	fclose(f);
	return snap;
}

/* ---- mapsnap as a child of its own ---- */

struct run {
	pid_t pid;
	int status; /* exit status, 128 + signal; -1 while it runs */
	char out[4200], err[4200];
};

struct spawn_opts {
	bool hup_ignored; /* as under nohup */
	bool no_tmpfile;  /* through tests/helpers/no_tmpfile */
	int pass_fd;      /* becomes fd 9 of the child, -1 none */
};

static void spawn(struct run *r, const struct spawn_opts *o, char *const args[])
{
	static int serial;
	char *argv[40];
	int n = 0;
	if (o && o->no_tmpfile)
		argv[n++] = (char *)helper_path("no_tmpfile");
	argv[n++] = (char *)mapsnap_bin();
	for (int i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(r->out, sizeof(r->out), "%s/%d.out", fx.logs, serial);
	snprintf(r->err, sizeof(r->err), "%s/%d.err", fx.logs, serial++);
	r->status = -1;
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid > 0)
		return;
	int fo = open(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fe = open(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fi = open("/dev/null", O_RDONLY);
	dup2(fi, 0);
	dup2(fo, 1);
	dup2(fe, 2);
	if (o && o->pass_fd >= 0)
		dup2(o->pass_fd, 9);
	/* Whatever this test inherited (`make check &` ignores SIGINT). */
	for (size_t k = 0; k < 3; k++)
		signal(stop_sigs[k], SIG_DFL);
	if (o && o->hup_ignored)
		signal(SIGHUP, SIG_IGN);
	execv(argv[0], argv);
	_exit(127);
}

static void note_status(struct run *r, int st)
{
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* True once r has ended (reaping it). */
static bool ended(struct run *r)
{
	int st;
	if (r->status >= 0)
		return true;
	if (waitpid(r->pid, &st, WNOHANG) != r->pid)
		return false;
	note_status(r, st);
	return true;
}

static int finish(struct run *r)
{
	int st;
	kill(r->pid, SIGCONT);
	if (r->status < 0) {
		while (waitpid(r->pid, &st, 0) < 0)
			assert_int_equal(errno, EINTR);
		note_status(r, st);
	}
	return r->status;
}

static char *stderr_of(const struct run *r)
{
	char *text = read_file(r->err, NULL);
	assert_non_null(text);
	return text;
}

static char *stdout_of(const struct run *r)
{
	char *text = read_file(r->out, NULL);
	assert_non_null(text);
	return text;
}

/* The position of pid's descriptor on `what`: a path, or a directory
 * ending in '/' for any file in it (an unnamed one too: its link reads
 * "DIR/#123 (deleted)"). -1 when none is open. */
static long long fd_pos(pid_t pid, const char *what)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(dir);
	size_t len = strlen(what);
	bool prefix = what[len - 1] == '/';
	long long pos = -1;
	struct dirent *de;
	while (d && pos < 0 && (de = readdir(d))) {
		char path[PATH_MAX], link[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (prefix ? strncmp(link, what, len) != 0 : strcmp(link, what) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", (long)pid, de->d_name);
		char *info = read_file(path, NULL);
		if (info && sscanf(info, "pos: %lld", &pos) != 1)
			pos = -1;
		free(info);
	}
	if (d)
		closedir(d);
	return pos;
}

/* Stops r once its descriptor on `what` has moved to `at` or beyond (at
 * < 0: once that descriptor was open and is closed again). Returns the
 * position r stands at (-1: closed), or -2 when r ended first. */
static long long stop_at(struct run *r, const char *what, long long at)
{
	bool seen = false;
	for (;;) {
		if (ended(r))
			return -2;
		long long pos = fd_pos(r->pid, what);
		seen |= pos >= 0;
		if ((at >= 0 && pos >= at) || (at < 0 && seen && pos < 0))
			break;
		sched_yield();
	}
	int st;
	kill(r->pid, SIGSTOP);
	while (waitpid(r->pid, &st, WUNTRACED) < 0)
		assert_int_equal(errno, EINTR);
	if (!WIFSTOPPED(st)) {
		note_status(r, st);
		return -2;
	}
	return fd_pos(r->pid, what);
}

/* ---- targets ---- */

struct target {
	helper_proc h;
	char pid[16];
	char smaps[64];      /* /proc/PID/smaps, as mapsnap's link names it */
	long long smaps_len; /* bytes of it */
	size_t regions;      /* lines of /proc/PID/maps */
	bool reaped;
};

static void measure(struct target *t)
{
	char maps[64];
	size_t len;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", t->h.pid);
	t->regions = count_lines_of(maps);
	free(read_file(t->smaps, &len));
	t->smaps_len = (long long)len;
}

static void start_target(struct target *t, const char *helper, const char *arg)
{
	char *argv[] = { (char *)helper_path(helper), (char *)arg, NULL };
	memset(t, 0, sizeof(*t));
	assert_int_equal(helper_start(&t->h, argv), 0);
	snprintf(t->pid, sizeof(t->pid), "%d", t->h.pid);
	snprintf(t->smaps, sizeof(t->smaps), "/proc/%d/smaps", t->h.pid);
	measure(t);
}

/* SIGKILL; returns once it is dead: a zombie, or with reap reaped. */
static void kill_target(struct target *t, bool reap)
{
	siginfo_t info;
	assert_int_equal(kill(t->h.pid, SIGKILL), 0);
	while (waitid(P_PID, (id_t)t->h.pid, &info, WEXITED | (reap ? 0 : WNOWAIT)) < 0)
		assert_int_equal(errno, EINTR);
	t->reaped = reap;
}

static void stop_target(struct target *t)
{
	if (t->reaped) {
		close(t->h.to_child);
		close(t->h.from_child);
		t->h.pid = 0;
	}
	helper_stop(&t->h);
}

/* shapeshift: exec()s into `shapeshift count`; returns once the new
 * program said ready. */
static void exec_target(struct target *t, const char *count)
{
	char cmd[32], reply[64];
	snprintf(cmd, sizeof(cmd), "exec %s", count);
	assert_int_equal(helper_command(&t->h, cmd, reply, sizeof(reply)), 0);
	assert_int_equal(strncmp(reply, "ready", 5), 0);
	measure(t);
}

/* Far more than the few bytes by which a Pss can change the length of
 * the text between measure() and the capture. */
#define END_MARGIN (64 * 1024)

/* Stops r in the middle of its read of t's smaps, past `fraction` of it.
 * False when r got past the read first (a test that needs the middle
 * tries again); r is then stopped or ended. */
static bool stop_mid_read(struct run *r, const struct target *t, double fraction)
{
	long long pos = stop_at(r, t->smaps, (long long)(fraction * (double)t->smaps_len));
	return pos >= 0 && pos < t->smaps_len - END_MARGIN;
}

static void abandon(struct run *r)
{
	kill(r->pid, SIGKILL);
	finish(r);
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	if (!fx.dir)
		return -1;
	snprintf(fx.logs, sizeof(fx.logs), "%s/logs", fx.dir);
	snprintf(fx.big_json, sizeof(fx.big_json), "%s/input/big.json", fx.dir);
	char input[4200];
	snprintf(input, sizeof(input), "%s/input", fx.dir);
	if (mkdir(fx.logs, 0755) != 0 || mkdir(input, 0755) != 0)
		return -1;
	helper_proc h;
	char *argv[] = { (char *)helper_path("manymaps"), MID, NULL }, pid[16];
	if (helper_start(&h, argv) != 0)
		return -1;
	snprintf(pid, sizeof(pid), "%d", h.pid);
	cmd_result res;
	int rc = run_mapsnap(&res, NULL, "capture", pid, "-o", fx.big_json, NULL);
	helper_stop(&h);
	if (rc != 0 || res.status != 0)
		return -1;
	cmd_result_free(&res);
	fx.big_json_size = file_size(fx.big_json);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* A complete snapshot of t at path: every region it had. */
static void assert_complete(const char *path, const struct target *t)
{
	snap_snapshot *snap = load_one(path);
	if (snap->nregions != t->regions)
		fail_msg("%s: %zu regions, the process had %zu", path, snap->nregions,
			 t->regions);
	assert_false(fmt_checksum_mismatch(snap));
	assert_int_equal(snap->process.pid, t->h.pid);
	snap_snapshot_free(snap);
}

static void assert_said(const struct run *r, const char *words)
{
	char *err = stderr_of(r);
	if (!strstr(err, words))
		fail_msg("stderr lacks \"%s\": %s", words, err);
	free(err);
}

/* ---- the target killed during a capture ---- */

/* Killed before (as a zombie, then reaped), at 5%, 35%, 65% and 95% of
 * its smaps, and after the read: exit 2 with no file whenever the read
 * was cut, exit 0 with every region otherwise. */
static void kill9_at_points_of_a_big_capture(void **state)
{
	(void)state;
	static const double points[] = { -2, -3, 0.05, 0.35, 0.65, 0.95, -1 };
	for (size_t i = 0; i < sizeof(points) / sizeof(*points); i++) {
		/* Where the kill lands is what was seen; both outcomes are
		 * checked for what they must be. */
		struct target t;
		start_target(&t, "manymaps", BIG);
		char *dir = fresh_dir("kill9"), *out = in_dir("kill9/big.json");
		char *args[] = { "capture", t.pid, "-o", out, NULL };
		struct run r;
		long long pos = -3;
		if (points[i] < -1)
			kill_target(&t, points[i] == -3);
		spawn(&r, NULL, args);
		if (points[i] >= -1) {
			long long at = points[i] < 0 ? -1 : (long long)(points[i] * t.smaps_len);
			pos = stop_at(&r, t.smaps, at);
			kill_target(&t, i % 2);
		}
		int status = finish(&r);
		bool cut = pos >= 0 && pos < t.smaps_len - END_MARGIN;
		if (cut || points[i] < -1) {
			if (status != 2)
				fail_msg("point %zu: stopped at %lld of %lld: exit %d", i, pos,
					 t.smaps_len, status);
			char want[96];
			snprintf(want, sizeof(want), "mapsnap: pid %s: ", t.pid);
			assert_said(&r, want);
			assert_said(&r, points[i] == -3 ? "no such process"
				    : points[i] == -2 ? "has exited (a zombie"
				    : "exited during the capture");
		} else if (status == 0) {
			assert_complete(out, &t);
		} else {
			assert_int_equal(status, 2);
			assert_said(&r, "exited during the capture");
		}
		assert_int_equal(list_dir(dir, NULL, 0), status == 0 ? 1 : 0);
		stop_target(&t);
		free(out);
		free(dir);
	}
}

/* ---- the target runs another program during a capture ---- */

/* exec() at 30% of the read: the capture starts again and gives the new
 * program's regions, all of them. */
static void exec_mid_capture_starts_again(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "shapeshift", MID);
	char *dir = fresh_dir("exec"), *out = in_dir("exec/shift.json");
	char *args[] = { "capture", t.pid, "-o", out, NULL };
	struct run r;
	for (int tries = 0;; tries++) {
		assert_true(tries < 10);
		spawn(&r, NULL, args);
		if (stop_mid_read(&r, &t, 0.3))
			break;
		abandon(&r);
		unlink(out);
	}
	exec_target(&t, SMALL);
	assert_int_equal(finish(&r), 0);
	assert_complete(out, &t);
	assert_true(t.regions < 10000);
	char *said = stderr_of(&r);
	assert_string_equal(said, ""); /* the second try was whole: nothing to say */
	free(said);
	stop_target(&t);
	free(out);
	free(dir);
}

/* ---- short-lived targets ---- */

/* The forked test exec()s sh, which exec()s sleep, which exits: captured
 * at once, each is either refused (exit 2, no file) or whole: regions,
 * and its executable among them (a header of one program and the regions
 * of another would not have it). Every other one is orphaned, so that
 * init reaps it the moment it exits. */
static pid_t short_lived(bool orphan)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		if (orphan && fork() != 0)
			_exit(0);
		pid_t me = getpid();
		if (write(fds[1], &me, sizeof(me)) != sizeof(me))
			_exit(1);
		execl("/bin/sh", "sh", "-c", "exec sleep 0", (char *)NULL);
		_exit(127);
	}
	pid_t pid;
	assert_int_equal(read(fds[0], &pid, sizeof(pid)), sizeof(pid));
	close(fds[0]);
	close(fds[1]);
	if (orphan)
		waitpid(child, NULL, 0);
	return pid;
}

static void assert_one_program(const char *path)
{
	snap_snapshot *snap = load_one(path);
	assert_true(snap->nregions > 0);
	assert_non_null(snap->process.exe);
	bool mapped = false;
	for (size_t i = 0; i < snap->nregions && !mapped; i++)
		mapped = strcmp(snap->regions[i].path, snap->process.exe) == 0;
	if (!mapped)
		fail_msg("%s: header of %s (%s), regions of another program", path,
			 snap->process.comm, snap->process.exe);
	snap_snapshot_free(snap);
}

static void short_lived_targets(void **state)
{
	(void)state;
	char *dir = fresh_dir("short");
	size_t whole = 0, refused = 0;
	for (int i = 0; i < 300; i++) {
		pid_t pid = short_lived(i % 2);
		char pid_text[16], first[256], path[4500];
		snprintf(pid_text, sizeof(pid_text), "%ld", (long)pid);
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "capture", pid_text, "-o", dir, NULL), 0);
		if (!(i % 2))
			waitpid(pid, NULL, 0);
		size_t files = list_dir(dir, first, sizeof(first));
		if (res.status == 0) {
			assert_int_equal(files, 1);
			snprintf(path, sizeof(path), "%s/%s", dir, first);
			assert_one_program(path);
			unlink(path);
			whole++;
		} else {
			char want[64];
			snprintf(want, sizeof(want), "mapsnap: pid %s: ", pid_text);
			if (res.status != 2 || strncmp(res.err, want, strlen(want)) != 0)
				fail_msg("exit %d: %s", res.status, res.err);
			assert_int_equal(files, 0);
			refused++;
		}
		cmd_result_free(&res);
	}
	print_message("300 short-lived targets: %zu whole snapshots, %zu refused\n",
		      whole, refused);
	free(dir);
}

/* ---- capture --every and the stop signals ---- */

/* A 60,000-mapping process at --every 10ms (each capture far longer than
 * the interval): each stop signal, sent mid-read of the first capture and
 * mid-read of the second, ends the series at once with the snapshots
 * already whole (none, then one): the capture in progress is dropped. */
static void every_stops_mid_capture_on_each_signal(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", BIG);
	for (size_t k = 0; k < 3; k++) {
		for (size_t before = 0; before < 2; before++) {
			char *dir = fresh_dir("every"), *series = in_dir("every/s.json");
			/* --count 3: a mapsnap that does not stop ends on its own,
			 * with more snapshots than it may have. */
			char *args[] = { "capture", t.pid, "--every", "10ms", "--count", "3",
					 "-o", series, NULL };
			struct run r;
			size_t whole = 0;
			for (int tries = 0;; tries++) {
				assert_true(tries < 10);
				unlink(series);
				spawn(&r, NULL, args);
				/* Past the first read (not waiting on the file: parsing
				 * 40 MB is slower than a capture in the ASan build). */
				if (before && stop_at(&r, t.smaps, -1) == -1)
					kill(r.pid, SIGCONT);
				if (stop_mid_read(&r, &t, 0.3)) {
					whole = series_count(series, &(bool){ 0 });
					if (whole == before || (before && whole == 2))
						break;
				}
				abandon(&r);
			}
			kill(r.pid, stop_sigs[k]);
			int status = finish(&r);
			char want[96];
			snprintf(want, sizeof(want), "capture: stopped by %s; %zu snapshot%s in",
				 sig_name(stop_sigs[k]), whole, whole == 1 ? "" : "s");
			assert_said(&r, want);
			bool cut;
			if (before) {
				assert_int_equal(status, 0);
				assert_int_equal(series_count(series, &cut), whole);
				assert_false(cut);
				assert_complete(series, &t);
			} else {
				assert_int_equal(status, 2); /* no snapshot: nothing to keep */
			}
			assert_int_equal(list_dir(dir, NULL, 0), before);
			free(series);
			free(dir);
		}
	}
	stop_target(&t);
}

/* An exec() in the middle of a capture of the series: that snapshot is
 * skipped with a warning, the series goes on with the new program. */
static void every_skips_a_torn_capture(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "shapeshift", MID);
	char *dir = fresh_dir("torn"), *series = in_dir("torn/s.json");
	char *args[] = { "capture", t.pid, "--every", "10ms", "--count", "2", "-o", series,
			 NULL };
	struct run r;
	for (int tries = 0;; tries++) {
		assert_true(tries < 10);
		unlink(series);
		spawn(&r, NULL, args);
		if (stop_mid_read(&r, &t, 0.3))
			break;
		abandon(&r);
	}
	exec_target(&t, SMALL);
	assert_int_equal(finish(&r), 0);
	char want[128];
	snprintf(want, sizeof(want), "capture: skipped snapshot 1: pid %s: ran another "
		 "program during the capture (exec)", t.pid);
	assert_said(&r, want);
	bool cut;
	assert_int_equal(series_count(series, &cut), 2);
	assert_false(cut);
	FILE *f = fopen(series, "r");
	for (int i = 0; i < 2; i++) {
		snap_snapshot *snap;
		assert_int_equal(fmt_json_load(&snap, f, series, NULL), 0);
		assert_int_equal(snap->nregions, t.regions);
		snap_snapshot_free(snap);
	}
	fclose(f);
	stop_target(&t);
	free(series);
	free(dir);
}

/* ---- nohup ---- */

/* SIGHUP ignored at start stays ignored: a single capture and a series
 * go on through it (the series then ends on SIGTERM). */
static void nohup_keeps_sighup_ignored(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", MID);
	struct spawn_opts nohup = { .hup_ignored = true, .pass_fd = -1 };
	char *dir = fresh_dir("nohup"), *one = in_dir("nohup/one.json");
	char *series = in_dir("nohup/s.json");
	char *single[] = { "capture", t.pid, "-o", one, NULL };
	struct run r;
	spawn(&r, &nohup, single);
	assert_true(stop_at(&r, t.smaps, t.smaps_len / 2) >= 0);
	kill(r.pid, SIGHUP);
	assert_int_equal(finish(&r), 0);
	assert_complete(one, &t);
	char *every[] = { "capture", t.pid, "--every", "10ms", "--count", "3", "-o", series,
			  NULL };
	for (int tries = 0;; tries++) {
		assert_true(tries < 10);
		unlink(series);
		spawn(&r, &nohup, every);
		if (!stop_mid_read(&r, &t, 0.5)) {
			abandon(&r);
			continue;
		}
		kill(r.pid, SIGHUP);
		kill(r.pid, SIGCONT);
		/* Past that read, then in the middle of another: the series
		 * went on through the SIGHUP. */
		if (stop_at(&r, t.smaps, -1) == -1) {
			kill(r.pid, SIGCONT);
			if (stop_mid_read(&r, &t, 0.5))
				break;
		}
		abandon(&r);
	}
	kill(r.pid, SIGTERM);
	assert_int_equal(finish(&r), 0);
	assert_said(&r, "capture: stopped by SIGTERM;");
	stop_target(&t);
	free(series);
	free(one);
	free(dir);
}

/* ---- single outputs and the stop signals ---- */

struct phase {
	const char *name;
	bool output;  /* stop while writing the output, else while reading */
	double at;    /* the fraction of the input read (reading) */
};

/* One command stopped in one phase, sent sig: it dies by it, and leaves
 * in its output directory nothing, or only the whole output (a signal
 * after the output got its name). The write phase is from the moment the
 * output is open (it may be written in one go at the end); a command that
 * ended before it was seen there is run again. */
static void signal_one(char *const args[], const char *in, long long in_len,
		       const char *out_dir, const struct phase *ph, int sig,
		       bool no_tmpfile)
{
	struct spawn_opts o = { .no_tmpfile = no_tmpfile, .pass_fd = -1 };
	struct run r;
	for (int tries = 0;; tries++) {
		if (tries == 10)
			fail_msg("%s: ended 10 times before the %s phase was seen", args[0],
				 ph->name);
		spawn(&r, &o, args);
		/* out_dir ends in '/': any file in it, the unnamed one too. */
		long long pos = ph->output ? stop_at(&r, out_dir, 0)
			: stop_at(&r, in, (long long)(ph->at * (double)in_len));
		if (pos != -2)
			break;
		assert_int_equal(r.status, 0); /* it ran to its end: fine, again */
		char first[256];
		list_dir(out_dir, first, sizeof(first));
		char *path;
		assert_true(asprintf(&path, "%s%s", out_dir, first) > 0);
		unlink(path);
		free(path);
	}
	kill(r.pid, sig);
	int status = finish(&r);
	char first[256];
	size_t left = list_dir(out_dir, first, sizeof(first));
	if (status != 128 + sig || left > 1 || (left == 1 && first[0] == '.'))
		fail_msg("%s, %s phase, %s%s: exit %d, %zu file(s) left (%s)", args[0],
			 ph->name, sig_name(sig), no_tmpfile ? ", named temporary" : "",
			 status, left, first);
}

static void single_outputs_leave_nothing_on_signals(void **state)
{
	(void)state;
	static const struct phase phases[] = {
		{ "read", false, 0.3 }, { "write", true, 0 },
	};
	struct target t;
	start_target(&t, "manymaps", MID);
	char *out_dir = fresh_dir("single"), out_prefix[4300], *out = in_dir("single/out");
	snprintf(out_prefix, sizeof(out_prefix), "%s/", out_dir);
	char *capture[] = { "capture", t.pid, "-o", out, NULL };
	char *convert[] = { "convert", "--to", "smaps", "-o", out, fx.big_json, NULL };
	char *report[] = { "report", "-o", out, fx.big_json, NULL };
	char *const *commands[] = { capture, convert, report };
	int n = 0;
	for (size_t c = 0; c < 3; c++)
		for (size_t p = 0; p < 2; p++)
			for (int named = 0; named < 2; named++, n++) {
				const char *in = c == 0 ? t.smaps : fx.big_json;
				long long len = c == 0 ? t.smaps_len : fx.big_json_size;
				/* The capture writes as it reads: its output phase is
				 * once the read is done. */
				struct phase ph = phases[p];
				if (c == 0 && ph.output)
					ph = (struct phase){ "commit", false, -1 };
				if (ph.at < 0) {
					struct run r;
					struct spawn_opts o = { .no_tmpfile = named, .pass_fd = -1 };
					spawn(&r, &o, commands[c]);
					stop_at(&r, in, -1);
					kill(r.pid, stop_sigs[n % 3]);
					int status = finish(&r);
					assert_true(status == 128 + stop_sigs[n % 3] || status == 0);
					char first[256];
					size_t left = list_dir(out_dir, first, sizeof(first));
					assert_true(left == 0 || (left == 1 && strcmp(first, "out") == 0));
					if (left)
						assert_complete(out, &t);
				} else {
					signal_one(commands[c], in, len, out_prefix, &ph,
						   stop_sigs[n % 3], named);
				}
				unlink(out);
			}
	stop_target(&t);
	free(out);
	free(out_dir);
}

/* ---- a target created while mapsnap writes it ---- */

/* Without --force it is kept and mapsnap says so (exit 2, nothing else
 * left); with --force it is replaced by the snapshot. */
static void target_created_meanwhile_is_kept(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", MID);
	for (int named = 0; named < 2; named++)
		for (int force = 0; force < 2; force++) {
			char *dir = fresh_dir("meanwhile"), *out = in_dir("meanwhile/t.json");
			char *args[] = { "capture", t.pid, "-o", out, force ? "--force" : NULL,
					 NULL };
			struct spawn_opts o = { .no_tmpfile = named, .pass_fd = -1 };
			struct run r;
			for (int tries = 0;; tries++) {
				assert_true(tries < 10);
				spawn(&r, &o, args);
				if (stop_mid_read(&r, &t, 0.5))
					break;
				abandon(&r);
				unlink(out);
			}
			assert_int_equal(write_file(out, "precious\n", 9), 0);
			int status = finish(&r);
			assert_int_equal(list_dir(dir, NULL, 0), 1);
			if (force) {
				assert_int_equal(status, 0);
				assert_complete(out, &t);
			} else {
				assert_int_equal(status, 2);
				assert_said(&r, "was created by someone else while mapsnap wrote it");
				char *kept = read_file(out, NULL);
				assert_string_equal(kept, "precious\n");
				free(kept);
				char *said = stdout_of(&r);
				assert_string_equal(said, "");
				free(said);
			}
			free(out);
			free(dir);
		}
	stop_target(&t);
}

/* ---- a series of another process ---- */

static void every_refuses_another_process_series(void **state)
{
	(void)state;
	struct target a, b;
	start_target(&a, "manymaps", "100");
	start_target(&b, "manymaps", "100");
	char *dir = fresh_dir("other"), *series = in_dir("other/s.json");
	cmd_result res = run_mapsnap_ok(0, "capture", a.pid, "--every", "10ms", "--count",
					"1", "-o", series, NULL);
	cmd_result_free(&res);
	size_t len;
	char *before = read_file(series, &len);
	res = run_mapsnap_ok(2, "capture", b.pid, "--every", "10ms", "--count", "1", "-o",
			     series, NULL);
	char want[200];
	snprintf(want, sizeof(want), "mapsnap: %s: holds snapshots of pid %s, not of pid %s; "
		 "not appending to it (--force starts it afresh)\n", series, a.pid, b.pid);
	assert_string_equal(res.err, want);
	assert_string_equal(res.out, "");
	cmd_result_free(&res);
	size_t len_after;
	char *after = read_file(series, &len_after);
	assert_int_equal(len_after, len);
	assert_memory_equal(after, before, len);
	free(after);
	/* The same process appends; --force starts afresh with another. */
	res = run_mapsnap_ok(0, "capture", a.pid, "--every", "10ms", "--count", "1", "-o",
			     series, NULL);
	cmd_result_free(&res);
	bool cut;
	assert_int_equal(series_count(series, &cut), 2);
	res = run_mapsnap_ok(0, "capture", b.pid, "--every", "10ms", "--count", "1", "-o",
			     series, "--force", NULL);
	cmd_result_free(&res);
	assert_int_equal(series_count(series, &cut), 1);
	snap_snapshot *snap = load_one(series);
	assert_int_equal(snap->process.pid, b.h.pid);
	snap_snapshot_free(snap);
	free(before);
	stop_target(&a);
	stop_target(&b);
	free(series);
	free(dir);
}

/* ---- around ---- */

static void around_passes_on_the_command_status(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", "100");
	cmd_result res = run_mapsnap_ok(3, "around", t.pid, "--", "sh", "-c", "exit 3", NULL);
	assert_non_null(strstr(res.err, "mapsnap: around: command 'sh' failed with exit "
				   "status 3; mapsnap exits with it\n"));
	assert_non_null(strstr(res.out, "CHANGES")); /* the diff is still shown */
	cmd_result_free(&res);
	res = run_mapsnap_ok(143, "around", t.pid, "--", "sh", "-c", "kill -TERM $$", NULL);
	assert_non_null(strstr(res.err, "was killed by signal 15; exit status 143"));
	cmd_result_free(&res);
	/* A command that cannot start: no capture after it, no diff, and the
	 * directory it would have used is gone again. */
	char *dir = in_dir("around-none"), *script = in_dir("not-executable.sh");
	res = run_mapsnap_ok(127, "around", t.pid, "-o", dir, "--", "/nonexistent/cmd", NULL);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "mapsnap: around: cannot run '/nonexistent/cmd': No "
			    "such file or directory; nothing captured after it\n");
	assert_false(file_exists(dir));
	cmd_result_free(&res);
	assert_int_equal(write_file(script, "exit 0\n", 7), 0);
	res = run_mapsnap_ok(126, "around", t.pid, "--", script, NULL);
	assert_string_equal(res.out, "");
	assert_non_null(strstr(res.err, "Permission denied"));
	cmd_result_free(&res);
	stop_target(&t);
	free(script);
	free(dir);
}

/* The command kills the target (and waits until it is a zombie): the
 * capture after it fails, before.json stays. */
static void around_keeps_before_when_after_fails(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", "100");
	char *dir = in_dir("around-kept"), *before = in_dir("around-kept/before.json");
	remove_tree(dir);
	cmd_result res = run_mapsnap_ok(2, "around", t.pid, "-o", dir, "--", "sh", "-c",
		"kill -9 $MAPSNAP_PID; "
		"until [ \"$(cut -d' ' -f3 /proc/$MAPSNAP_PID/stat)\" = Z ]; do :; done", NULL);
	char want[4400];
	snprintf(want, sizeof(want), "mapsnap: around: capture after COMMAND: pid %s: has "
		 "exited (a zombie: its parent has not reaped it yet)\nmapsnap: around: %s "
		 "kept\n", t.pid, before);
	assert_string_equal(res.err, want);
	assert_string_equal(res.out, "");
	cmd_result_free(&res);
	assert_int_equal(list_dir(dir, NULL, 0), 1);
	snap_snapshot *snap = load_one(before);
	assert_int_equal(snap->nregions, t.regions);
	snap_snapshot_free(snap);
	kill_target(&t, true);
	stop_target(&t);
	free(before);
	free(dir);
}

/* SIGINT from kill(2) while the command runs: forwarded to it, waited
 * for, and the directory around created removed with before.json in it;
 * mapsnap dies by SIGINT. */
static void around_cleans_up_on_a_signal(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", "100");
	for (size_t k = 0; k < 3; k++) {
		char *dir = in_dir("around-sig");
		remove_tree(dir);
		int ready[2];
		assert_int_equal(pipe(ready), 0);
		char *args[] = { "around", t.pid, "-o", dir, "--", "sh", "-c",
				 "echo started >&9; exec sleep 100000", NULL };
		struct spawn_opts o = { .pass_fd = ready[1] };
		struct run r;
		spawn(&r, &o, args);
		close(ready[1]);
		char line[16] = "";
		assert_true(read(ready[0], line, sizeof(line) - 1) > 0);
		assert_string_equal(line, "started\n");
		assert_true(file_exists(dir));
		kill(r.pid, stop_sigs[k]);
		assert_int_equal(finish(&r), 128 + stop_sigs[k]);
		/* The command got it too: the pipe's last writer is gone. */
		assert_int_equal(read(ready[0], line, sizeof(line)), 0);
		close(ready[0]);
		assert_false(file_exists(dir));
		free(dir);
	}
	stop_target(&t);
}

/* Ctrl-C on a terminal: the kernel signals the whole foreground group,
 * mapsnap and the command (which traps it and ends on its own); around
 * waits for the command, removes what it created, dies by SIGINT. */
static void around_ctrl_c_on_a_terminal(void **state)
{
	(void)state;
	struct target t;
	start_target(&t, "manymaps", "100");
	char *dir = in_dir("around-tty");
	remove_tree(dir);
	int master = posix_openpt(O_RDWR | O_NOCTTY), ready[2];
	assert_true(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	assert_int_equal(pipe(ready), 0);
	char *slave = strdup(ptsname(master));
	const char *script = "n=0; trap 'n=$((n+1))' INT; echo started >&9; "
			     "while :; do read -r x; [ $n -gt 0 ] && break; done; "
			     "echo \"$n\" >&9; exit 5";
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setsid();
		int fd = open(slave, O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		dup2(ready[1], 9);
		for (size_t k = 0; k < 3; k++)
			signal(stop_sigs[k], SIG_DFL);
		execl(mapsnap_bin(), mapsnap_bin(), "around", t.pid, "-o", dir, "--", "sh",
		      "-c", script, (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	char line[32] = "";
	assert_true(read(ready[0], line, sizeof(line) - 1) > 0);
	assert_string_equal(line, "started\n");
	/* ^C, and a line for the read the trap may be waiting on. */
	assert_int_equal(write(master, "\003\n", 2), 2);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
	/* The command handled its SIGINT and said so before mapsnap ended:
	 * around waited for it. */
	memset(line, 0, sizeof(line));
	assert_true(read(ready[0], line, sizeof(line) - 1) > 0);
	assert_true(atoi(line) >= 1);
	assert_false(file_exists(dir));
	close(ready[0]);
	close(master);
	free(slave);
	stop_target(&t);
	free(dir);
}

/* ---- a full disk during --every ---- */

/* A 64 KiB tmpfs (in a mount namespace of this test's own): the append
 * that does not fit is cut back off, one line says so, exit 2, nothing
 * on stdout; the file holds whole snapshots only. */
static void full_disk_during_every(void **state)
{
	(void)state;
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		fail_msg("unshare -m: %s (the tests run as root)", strerror(errno));
	struct target t;
	start_target(&t, "shapeshift", "0");
	char *dir = fresh_dir("full"), *series = in_dir("full/s.json");
	assert_int_equal(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
	cmd_result res = run_mapsnap_ok(2, "capture", t.pid, "--every", "10ms", "--count",
					"1000", "-o", series, NULL);
	assert_string_equal(res.out, "");
	bool cut;
	size_t n = series_count(series, &cut);
	assert_false(cut);
	assert_true(n >= 1 && n < 1000);
	char want[4400];
	snprintf(want, sizeof(want), "mapsnap: %s: write failed: No space left on device; "
		 "the file keeps its %zu whole snapshot%s (the cut-off one was removed)\n",
		 series, n, n == 1 ? "" : "s");
	/* First; after it at most a word on ticks skipped (a busy machine). */
	assert_int_equal(strncmp(res.err, want, strlen(want)), 0);
	const char *rest = res.err + strlen(want);
	if (*rest && (!strstr(rest, " skipped: a capture took longer than the interval\n") ||
		      strchr(rest, '\n') != strrchr(rest, '\n')))
		fail_msg("stderr: %s", res.err);
	cmd_result_free(&res);
	/* trend reads it without a warning: nothing is cut off. */
	res = run_mapsnap_ok(n >= 2 ? 0 : 2, "trend", series, NULL);
	if (n >= 2)
		assert_string_equal(res.err, "");
	cmd_result_free(&res);
	assert_int_equal(umount(dir), 0);
	stop_target(&t);
	free(series);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill9_at_points_of_a_big_capture),
		cmocka_unit_test(exec_mid_capture_starts_again),
		cmocka_unit_test(short_lived_targets),
		cmocka_unit_test(every_stops_mid_capture_on_each_signal),
		cmocka_unit_test(every_skips_a_torn_capture),
		cmocka_unit_test(nohup_keeps_sighup_ignored),
		cmocka_unit_test(single_outputs_leave_nothing_on_signals),
		cmocka_unit_test(target_created_meanwhile_is_kept),
		cmocka_unit_test(every_refuses_another_process_series),
		cmocka_unit_test(around_passes_on_the_command_status),
		cmocka_unit_test(around_keeps_before_when_after_fails),
		cmocka_unit_test(around_cleans_up_on_a_signal),
		cmocka_unit_test(around_ctrl_c_on_a_terminal),
		/* Last: it moves this test into a mount namespace of its own. */
		cmocka_unit_test(full_disk_during_every),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
