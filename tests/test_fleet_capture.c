/* mapsnap capture --all and capture --every --on-change, end to end on
 * this machine: every readable process captured (checked against /proc
 * before and after), a process that exits meanwhile counted and not
 * fatal, denied processes counted, the stream and directory outputs;
 * and a helper growing in steps gives full snapshots exactly at the
 * steps (mapsnap is stopped with SIGSTOP while the helper grows, so no
 * tick can see half a step), plus the first and the last. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

static struct {
	char *dir;
	helper_proc stages;
	char pid[16];
} fx;

static int setup(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	fx.dir = make_tmpdir();
	if (!fx.dir || helper_start(&fx.stages, argv) != 0)
		return -1;
	snprintf(fx.pid, sizeof(fx.pid), "%d", fx.stages.pid);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	helper_stop(&fx.stages);
	if (fx.dir)
		remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- /proc as the test sees it ---- */

struct proc_seen {
	long pid;
	long long start_time;
};

/* Field `wanted` (3 or more) of /proc/PID/stat; -1 when it is gone. */
static long long stat_field(long pid, int wanted)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	char *text = read_file(path, NULL);
	if (!text)
		return -1;
	const char *s = strrchr(text, ')');
	long long v = -1;
	for (int field = 2; s && *s; s++)
		if (*s == ' ' && ++field == wanted) {
			v = atoll(s + 1);
			break;
		}
	free(text);
	return v;
}

static long long start_time_of(long pid)
{
	return stat_field(pid, 22);
}

static size_t list_procs(struct proc_seen *out, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d)) && n < cap)
		if (isdigit((unsigned char)de->d_name[0])) {
			out[n].pid = atol(de->d_name);
			out[n].start_time = start_time_of(out[n].pid);
			n++;
		}
	closedir(d);
	return n;
}

/* The process has a memory map this user may read. */
static bool readable_map(long pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	char *text = read_file(path, NULL);
	bool yes = text && text[0];
	free(text);
	snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		yes = false;
	else
		close(fd);
	return yes;
}

static bool captured(const char *listing, long pid)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "-%ld-", pid);
	for (const char *line = listing; *line;) {
		size_t n = strcspn(line, "\n");
		const char *base = memrchr(line, '/', n);
		base = base ? base + 1 : line;
		const char *hit = strstr(base, needle);
		if (hit && hit < line + n)
			return true;
		line += n + (line[n] == '\n');
	}
	return false;
}

/* ---- capture --all ---- */

static void every_readable_process_into_a_directory(void **state)
{
	(void)state;
	static struct proc_seen before[8192], after[8192];
	char out[4200];
	snprintf(out, sizeof(out), "%s/all/", fx.dir);
	size_t nbefore = list_procs(before, 8192);
	cmd_result res = run_mapsnap_ok(0, "capture", "--all", "-o", out, NULL);
	size_t nafter = list_procs(after, 8192);
	size_t expected = 0, files = 0;
	for (size_t i = 0; i < nbefore; i++)
		for (size_t j = 0; j < nafter; j++)
			if (before[i].pid == after[j].pid &&
			    before[i].start_time == after[j].start_time &&
			    readable_map(before[i].pid)) {
				expected++;
				if (!captured(res.out, before[i].pid))
					fail_msg("pid %ld was there throughout and not captured",
						 before[i].pid);
			}
	for (const char *p = res.out; *p; p++)
		files += *p == '\n';
	assert_true(expected >= 2); /* the test and its helper at least */
	assert_true(captured(res.out, fx.stages.pid));
	/* processes that came and went during the capture may add files (a
	 * busy machine starts many); none that was there throughout is missing */
	assert_true(files >= expected);
	char said[64];
	snprintf(said, sizeof(said), "%zu processes captured", files);
	assert_non_null(strstr(res.err, said));
	assert_non_null(strstr(res.err, "without a memory map (kernel threads)"));
	/* each file is a plain snapshot of its process */
	char path[4400];
	const char *line = res.out;
	for (int k = 0; k < 3 && *line; k++) {
		size_t n = strcspn(line, "\n");
		snprintf(path, sizeof(path), "%.*s", (int)n, line);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		snap_snapshot *snap;
		assert_int_equal(fmt_json_load(&snap, f, path, NULL), 0);
		assert_true(snap->nregions > 0);
		assert_true(snap->host.max_map_count > 0);
		assert_true(captured(path, snap->process.pid));
		snap_snapshot_free(snap);
		fclose(f);
		line += n + 1;
	}
	/* no temporary file left behind */
	DIR *d = opendir(out);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_false(de->d_name[0] == '.' && strlen(de->d_name) > 2);
	closedir(d);
	cmd_result_free(&res);
}

/* One stream: as many documents as processes said captured; a process of
 * another user's cannot be read, and that is counted. */
static void one_stream_and_denied_processes(void **state)
{
	(void)state;
	char out[4200];
	snprintf(out, sizeof(out), "%s/all.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", "--all", "-o", out, NULL);
	assert_int_equal(strncmp(res.out, out, strlen(out)), 0);
	FILE *f = fopen(out, "r");
	size_t docs = 0;
	bool helper = false;
	snap_snapshot *snap;
	long last_pid = 0;
	while (fmt_json_load(&snap, f, out, NULL) == 0) {
		docs++;
		helper |= snap->process.pid == fx.stages.pid;
		/* in pid order, however the processes were shared out */
		assert_true(snap->process.pid > last_pid);
		last_pid = snap->process.pid;
		snap_snapshot_free(snap);
	}
	fclose(f);
	char said[64];
	snprintf(said, sizeof(said), ": %zu processes captured", docs);
	assert_non_null(strstr(res.err, said));
	assert_true(helper);
	cmd_result_free(&res);
	/* not over an existing file without --force */
	run_mapsnap(&res, NULL, "capture", "--all", "-o", out, NULL);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);

	/* as nobody: root's processes are denied, and that is not fatal */
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 (char *)mapsnap_bin(), "capture", "--all", "-o", "-", NULL };
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	const char *denied = strstr(res.err, " denied");
	assert_non_null(denied);
	const char *num = denied;
	while (num > res.err && isdigit((unsigned char)num[-1]))
		num--;
	assert_true(atol(num) >= 1);
	cmd_result_free(&res);
}

static snap_snapshot *load_listed(const char *listing, long pid)
{
	char needle[64], path[4400];
	snprintf(needle, sizeof(needle), "-%ld-", pid);
	for (const char *line = listing; *line;) {
		size_t n = strcspn(line, "\n");
		snprintf(path, sizeof(path), "%.*s", (int)n, line);
		if (strstr(strrchr(path, '/'), needle)) {
			FILE *f = fopen(path, "r");
			assert_non_null(f);
			snap_snapshot *snap;
			assert_int_equal(fmt_json_load(&snap, f, path, NULL), 0);
			fclose(f);
			return snap;
		}
		line += n + (line[n] == '\n');
	}
	fail_msg("pid %ld not captured", pid);
	return NULL;
}

/* --redact: one key for the whole run, so two processes of one program
 * get one token for its path. */
static void redacted_with_one_key(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	helper_proc twin;
	assert_int_equal(helper_start(&twin, argv), 0);
	char out[4200];
	snprintf(out, sizeof(out), "%s/redacted/", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", "--all", "--redact", "-o", out, NULL);
	snap_snapshot *a = load_listed(res.out, fx.stages.pid);
	snap_snapshot *b = load_listed(res.out, twin.pid);
	helper_stop(&twin);
	assert_true(a->redacted && b->redacted);
	assert_non_null(a->process.exe);
	assert_string_equal(a->process.exe, b->process.exe);
	assert_null(strstr(a->process.exe, "helpers"));
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	cmd_result_free(&res);
}

/* --every: a host series, rounds appended to one file or new files. */
static void a_host_series(void **state)
{
	(void)state;
	char out[4200], dir[4200];
	snprintf(out, sizeof(out), "%s/host-series.json", fx.dir);
	snprintf(dir, sizeof(dir), "%s/rounds/", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", "--all", "--every", "10ms", "--count",
					"2", "-o", out, NULL);
	assert_non_null(strstr(res.err, "round 1: "));
	assert_non_null(strstr(res.err, "round 2: "));
	assert_null(strstr(res.err, "round 3: "));
	cmd_result_free(&res);
	FILE *f = fopen(out, "r");
	snap_snapshot *snap;
	size_t mine = 0;
	while (fmt_json_load(&snap, f, out, NULL) == 0) {
		mine += snap->process.pid == fx.stages.pid;
		snap_snapshot_free(snap);
	}
	fclose(f);
	assert_int_equal(mine, 2);
	res = run_mapsnap_ok(0, "capture", "--all", "--every", "10ms", "--count", "2", "-o",
			     dir, NULL);
	char needle[32];
	snprintf(needle, sizeof(needle), "-%d-", fx.stages.pid);
	const char *first = strstr(res.out, needle);
	assert_non_null(first);
	assert_non_null(strstr(first + 1, needle)); /* a file per round */
	cmd_result_free(&res);
}

/* A process that exits while capture --all runs is counted as vanished.
 * capture --all writes its progress to a terminal whose output is
 * suspended (tcflow TCOOFF): its first progress line, after it listed
 * the processes and captured the first, blocks it in write(2) on fd 2,
 * which /proc/PID/task/TID/syscall shows. Then the other helper is killed and
 * reaped, output resumes, and capture reaches a process that is gone. */
static bool blocked_writing_stderr(pid_t pid)
{
	/* any of its threads: the worker whose turn it is writes progress */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *tasks = opendir(path);
	if (!tasks)
		return false;
	bool yes = false;
	struct dirent *de;
	while (!yes && (de = readdir(tasks))) {
		if (de->d_name[0] == '.')
			continue;
		char syscall[320];
		snprintf(syscall, sizeof(syscall), "/proc/%d/task/%s/syscall", pid, de->d_name);
		char *text = read_file(syscall, NULL);
		yes = text && strncmp(text, "1 0x2 ", 6) == 0;
		free(text);
	}
	closedir(tasks);
	return yes;
}

static void a_process_exiting_meanwhile_is_counted(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	helper_proc victim;
	assert_int_equal(helper_start(&victim, argv), 0);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(tcflow(slave, TCOOFF), 0);
	char out[4200];
	snprintf(out, sizeof(out), "%s/vanish.json", fx.dir);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(slave, STDERR_FILENO);
		dup2(null, STDOUT_FILENO);
		execl(mapsnap_bin(), mapsnap_bin(), "capture", "--all", "-o", out, (char *)NULL);
		_exit(127);
	}
	/* a bounded wait for a state, 30 s at most */
	for (int tries = 0; !blocked_writing_stderr(pid); tries++) {
		assert_true(tries < 30000);
		usleep(1000);
	}
	kill(victim.pid, SIGKILL);
	helper_stop(&victim); /* reaps it: its /proc entry is gone */
	assert_int_equal(tcflow(slave, TCOON), 0);
	close(slave);
	/* drain the terminal until capture ends */
	char all[65536];
	size_t total = 0;
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		if (poll(&p, 1, 30000) != 1)
			break;
		ssize_t n = read(master, all + total, sizeof(all) - 1 - total);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	all[total] = '\0';
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(master);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	const char *v = strstr(all, " vanished");
	assert_non_null(v);
	while (isdigit((unsigned char)v[-1]))
		v--;
	if (atol(v) < 1)
		fail_msg("the killed process was not counted: %s", all);
	assert_true(file_exists(out));
}

/* The shell run in a pid namespace of its own by the_largest_process_first:
 * there capture --all sees only this shell (pid 1, the lowest), a helper
 * with 64 MiB resident (started, and its "ready PID" line kept in
 * $1/big) and itself. $1 dir, $2 manymaps, $3 mapsnap, $4 output. */
static const char largest_script[] =
	"mkfifo \"$1/in\" \"$1/out\" || exit 1\n"
	"\"$2\" 100 65536 <\"$1/in\" >\"$1/out\" &\n"
	"exec 3>\"$1/in\"\n"
	"read ready <\"$1/out\" || exit 1\n"
	"echo \"$ready\" >\"$1/big\"\n"
	"taskset -c 0 \"$3\" capture --all -o \"$4\"\n"
	"rc=$?\n"
	"exec 3>&-\n"
	"wait\n"
	"exit $rc\n";

/* The process with the most resident memory is captured first (it may
 * cost more than all the others together); the stream stays in pid
 * order. In a pid namespace the processes are known: the shell is pid
 * 1, taken first in pid order. On one CPU (taskset) there is one worker,
 * so the order of the captures shows in their times: the helper's
 * capture ends before the shell's begins. */
static void the_largest_process_first(void **state)
{
	(void)state;
	char dir[4200], out[4300], bigfile[4300];
	snprintf(dir, sizeof(dir), "%s/largest", fx.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(out, sizeof(out), "%s/largest.json", dir);
	snprintf(bigfile, sizeof(bigfile), "%s/big", dir);
	char *cmd[] = { "unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
			(char *)largest_script, "sh", dir, (char *)helper_path("manymaps"),
			(char *)mapsnap_bin(), out, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, cmd, NULL), 0);
	if (res.status != 0)
		fail_msg("status %d: %s", res.status, res.err);
	cmd_result_free(&res);
	char *ready = read_file(bigfile, NULL);
	assert_non_null(ready);
	long big = strncmp(ready, "ready ", 6) == 0 ? atol(ready + 6) : 0;
	free(ready);
	assert_true(big > 1);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char big_end[40] = "", shell_start[40] = "";
	long last_pid = 0;
	size_t docs = 0;
	snap_snapshot *snap;
	while (fmt_json_load(&snap, f, out, NULL) == 0) {
		assert_true(snap->process.pid > last_pid);
		last_pid = snap->process.pid;
		docs++;
		if (snap->process.pid == big)
			snprintf(big_end, sizeof(big_end), "%s", snap->captured_end);
		else if (snap->process.pid == 1)
			snprintf(shell_start, sizeof(shell_start), "%s", snap->captured_at);
		snap_snapshot_free(snap);
	}
	fclose(f);
	assert_int_equal(docs, 2);
	assert_true(big_end[0] && shell_start[0]);
	/* ISO 8601 UTC times of one format compare as strings */
	if (strcmp(big_end, shell_start) > 0)
		fail_msg("the largest process ended at %s, after the shell's began at %s",
			 big_end, shell_start);
}

/* How far the process has read /proc/VICTIM/smaps: -1 while it has no
 * descriptor open on it. */
static long long smaps_read_pos(pid_t reader, pid_t victim)
{
	char dir[64], want[64], link[PATH_MAX], path[320];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", reader);
	snprintf(want, sizeof(want), "/proc/%d/smaps", victim);
	DIR *d = opendir(dir);
	struct dirent *de;
	long long pos = -1;
	while (d && pos < 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || (link[n] = '\0', strcmp(link, want) != 0))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", reader, de->d_name);
		char *info = read_file(path, NULL);
		if (info && strncmp(info, "pos:", 4) == 0)
			pos = atoll(info + 4);
		free(info);
	}
	if (d)
		closedir(d);
	return pos;
}

/* One try: capture --all on one CPU; once it has read 2 MB of the
 * victim's smaps it is stopped, the victim is killed and reaped, and it
 * goes on. False when the victim's read ended before it could be
 * stopped (the try proves nothing). */
static bool vanish_mid_read(const char *out, helper_proc *victim, char *err, size_t size)
{
	int errpipe[2];
	assert_int_equal(pipe(errpipe), 0);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		execlp("taskset", "taskset", "-c", "0", mapsnap_bin(), "capture", "--all",
		       "-o", out, "--force", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	bool stopped = false;
	int status;
	for (int tries = 0; tries < 30000 && !stopped; tries++) {
		if (smaps_read_pos(pid, victim->pid) >= 2 << 20) {
			kill(pid, SIGSTOP);
			assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
			stopped = smaps_read_pos(pid, victim->pid) >= 0;
			if (stopped) {
				kill(victim->pid, SIGKILL);
				helper_stop(victim); /* reaped: its /proc entry is gone */
			}
			kill(pid, SIGCONT);
			break;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(500);
	}
	ssize_t n, got = 0;
	while ((n = read(errpipe[0], err + got, size - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(errpipe[0]);
	if (waitpid(pid, &status, 0) == pid)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return stopped;
}

/* A document written straight into the stream (the one due next) whose
 * process then vanishes mid-read is cut back off: the stream holds whole
 * documents only, in pid order, as many as said captured. */
static void a_vanished_document_is_cut_back_off(void **state)
{
	(void)state;
	/* big is larger than the victim (about 120 MiB resident), so the
	 * victim is never the process taken first, out of turn: on one CPU
	 * it is written when it is the next due, straight into the stream */
	char *big_argv[] = { (char *)helper_path("manymaps"), "100", "262144", NULL };
	char *victim_argv[] = { (char *)helper_path("manymaps"), "60000", NULL };
	helper_proc big, victim;
	assert_int_equal(helper_start(&big, big_argv), 0);
	char out[4200], err[8192];
	snprintf(out, sizeof(out), "%s/cut.json", fx.dir);
	bool proved = false;
	for (int attempt = 0; attempt < 5 && !proved; attempt++) {
		assert_int_equal(helper_start(&victim, victim_argv), 0);
		proved = vanish_mid_read(out, &victim, err, sizeof(err));
		if (!proved)
			helper_stop(&victim);
	}
	helper_stop(&big);
	assert_true(proved);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	size_t docs = 0;
	long last_pid = 0;
	snap_snapshot *snap;
	int rc;
	while ((rc = fmt_json_load(&snap, f, out, NULL)) == 0) {
		assert_true(snap->process.pid > last_pid);
		assert_int_not_equal(snap->process.pid, victim.pid);
		last_pid = snap->process.pid;
		docs++;
		snap_snapshot_free(snap);
	}
	fclose(f);
	assert_int_equal(rc, 1); /* the end of the stream, not a broken document */
	char said[64];
	snprintf(said, sizeof(said), ": %zu processes captured", docs);
	if (!strstr(err, said) || !strstr(err, " vanished"))
		fail_msg("%zu documents; mapsnap said: %s", docs, err);
	const char *v = strstr(err, " vanished");
	while (isdigit((unsigned char)v[-1]))
		v--;
	assert_true(atol(v) >= 1);
}

/* ---- --on-change ---- */

static pid_t start_series(int *pipe_out, const char *size)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		execl(mapsnap_bin(), mapsnap_bin(), "capture", fx.pid, "--every", "20ms",
		      "--on-change", size, "--for", "1h", "-o", "-", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*pipe_out = fds[0];
	return pid;
}

/* The next document of the series, waiting for it (30 s at most). */
static snap_snapshot *next_doc(FILE *f)
{
	struct pollfd p = { fileno(f), POLLIN, 0 };
	assert_true(poll(&p, 1, 30000) == 1);
	snap_snapshot *snap;
	assert_int_equal(fmt_json_load(&snap, f, "series", NULL), 0);
	return snap;
}

static int64_t rollup_rss(const snap_snapshot *snap)
{
	for (size_t i = 0; i < snap->nrollup; i++)
		if (strcmp(snap->rollup[i].name, "Rss") == 0)
			return (int64_t)snap->rollup[i].value;
	fail_msg("no Rss in the rollup");
	return 0;
}

static void on_change_snapshots_exactly_at_the_steps(void **state)
{
	(void)state;
	int fd;
	pid_t series = start_series(&fd, "1M");
	FILE *f = fdopen(fd, "r");
	snap_snapshot *first = next_doc(f);
	int64_t base = rollup_rss(first);
	snap_snapshot_free(first);
	char reply[256];
	for (int step = 1; step <= 3; step++) {
		/* stop the series (waitpid says it is stopped), grow 4 MiB in one
		 * step, go on: the next tick sees the whole step */
		int status;
		kill(series, SIGSTOP);
		assert_int_equal(waitpid(series, &status, WUNTRACED), series);
		assert_int_equal(helper_command(&fx.stages, "grow-heap 4096", reply,
						sizeof(reply)), 0);
		assert_int_equal(strncmp(reply, "ok", 2), 0);
		kill(series, SIGCONT);
		snap_snapshot *snap = next_doc(f);
		int64_t rss = rollup_rss(snap), want = base + step * 4096;
		if (rss < want - 512 || rss > want + 512)
			fail_msg("step %d: Rss %lld kB, expected about %lld", step,
				 (long long)rss, (long long)want);
		snap_snapshot_free(snap);
	}
	/* SIGTERM ends it: a quiet last tick, if there was one since step 3,
	 * is taken in full (at most one more document, of the last step) */
	kill(series, SIGTERM);
	snap_snapshot *more;
	int rc = fmt_json_load(&more, f, "series", NULL);
	if (rc == 0) {
		int64_t rss = rollup_rss(more);
		assert_true(rss >= base + 3 * 4096 - 512 && rss <= base + 3 * 4096 + 512);
		snap_snapshot_free(more);
		rc = fmt_json_load(&more, f, "series", NULL);
	}
	assert_int_equal(rc, 1); /* nothing more */
	fclose(f);
	int status;
	assert_int_equal(waitpid(series, &status, 0), series);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* --count counts ticks: a quiet process gives its first and last only. */
static void on_change_first_and_last_of_a_quiet_process(void **state)
{
	(void)state;
	char out[4200];
	snprintf(out, sizeof(out), "%s/quiet.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", fx.pid, "--every", "10ms", "--count",
					"8", "--on-change", "64M", "-o", out, NULL);
	assert_non_null(strstr(res.err, "8 ticks, 2 full snapshots, 6 read only smaps_rollup"));
	cmd_result_free(&res);
	FILE *f = fopen(out, "r");
	snap_snapshot *snap;
	size_t docs = 0;
	while (fmt_json_load(&snap, f, out, NULL) == 0) {
		docs++;
		snap_snapshot_free(snap);
	}
	fclose(f);
	assert_int_equal(docs, 2);
	run_mapsnap(&res, NULL, "capture", fx.pid, "--every", "1s", "--on-change", "nope",
		    "-o", out, NULL);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--on-change"));
	cmd_result_free(&res);
}

/* The files a series reads build-ids of, snapshot by snapshot: the
 * helper's libraries with them, none with --no-build-ids. */
static size_t series_files(const char *out)
{
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	snap_snapshot *snap;
	size_t docs = 0, files = 0;
	while (fmt_json_load(&snap, f, out, NULL) == 0) {
		docs++;
		files += snap->nfiles;
		snap_snapshot_free(snap);
	}
	fclose(f);
	assert_int_equal(docs, 2);
	return files;
}

static void a_series_without_build_ids(void **state)
{
	(void)state;
	char out[4200];
	snprintf(out, sizeof(out), "%s/builds.json", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "capture", fx.pid, "--every", "10ms", "--count",
					"2", "-o", out, "-f", NULL);
	cmd_result_free(&res);
	assert_true(series_files(out) > 0);
	res = run_mapsnap_ok(0, "capture", fx.pid, "--every", "10ms", "--count", "2",
			     "--no-build-ids", "-o", out, "-f", NULL);
	cmd_result_free(&res);
	assert_int_equal(series_files(out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_readable_process_into_a_directory),
		cmocka_unit_test(one_stream_and_denied_processes),
		cmocka_unit_test(a_process_exiting_meanwhile_is_counted),
		cmocka_unit_test(the_largest_process_first),
		cmocka_unit_test(a_vanished_document_is_cut_back_off),
		cmocka_unit_test(redacted_with_one_key),
		cmocka_unit_test(a_host_series),
		cmocka_unit_test(on_change_snapshots_exactly_at_the_steps),
		cmocka_unit_test(on_change_first_and_last_of_a_quiet_process),
		cmocka_unit_test(a_series_without_build_ids),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
