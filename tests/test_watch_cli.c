/* mapsnap watch end to end: the real binary in a real terminal (a tmux
 * pane, driven with send-keys and read with capture-pane) on a helper
 * (tests/helpers/watched.c) that grows on command, and in batch mode
 * through pipes. Every wait polls the pane for what must appear, with a
 * deadline; nothing waits for a fixed time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DEADLINE_S 60
#define GROW_KB 8192
#define BIG_ANON_KB 16384

static struct {
	char *dir;
	char socket[64];
	char mapsnap[PATH_MAX];
	unsigned sessions;
} fx;

/* ---- tmux ---- */

/* Runs tmux on the test's own server with args; returns its stdout. */
static char *tmux(const char *first, ...)
{
	char *argv[32] = { "tmux", "-L", fx.socket, "-f", "/dev/null" };
	size_t n = 5;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("tmux %s: exit %d: %s", first, res.status, res.err);
	free(res.err);
	return res.out;
}

struct pane {
	char name[32];
};

/* A shell in a 200x50 terminal, in the test's directory. */
static void open_pane(struct pane *p)
{
	snprintf(p->name, sizeof(p->name), "w%u", fx.sessions++);
	free(tmux("new-session", "-d", "-s", p->name, "-x", "200", "-y", "50", "-c",
		  fx.dir, "sh", NULL));
}

static void close_pane(struct pane *p)
{
	free(tmux("kill-session", "-t", p->name, NULL));
}

static char *pane_text(const struct pane *p)
{
	return tmux("capture-pane", "-p", "-t", p->name, NULL);
}

static void type_line(const struct pane *p, const char *line)
{
	free(tmux("send-keys", "-t", p->name, "-l", line, NULL));
	free(tmux("send-keys", "-t", p->name, "Enter", NULL));
}

static void press(const struct pane *p, const char *key)
{
	free(tmux("send-keys", "-t", p->name, key, NULL));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef bool (*pane_test)(const char *text, const void *arg);

static bool contains(const char *text, const void *arg)
{
	return strstr(text, arg) != NULL;
}

/* Polls the pane until test holds; returns its text then. */
static char *wait_pane(const struct pane *p, pane_test test, const void *arg,
		       const char *what)
{
	double deadline = now_s() + DEADLINE_S;
	for (;;) {
		char *text = pane_text(p);
		if (test(text, arg))
			return text;
		if (now_s() > deadline) {
			fprintf(stderr, "pane:\n%s\n", text);
			free(text);
			fail_msg("the pane never showed %s", what);
		}
		free(text);
		nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
	}
}

static char *wait_text(const struct pane *p, const char *needle)
{
	return wait_pane(p, contains, needle, needle);
}

/* tmux's view of the terminal once mapsnap has gone: the normal screen
 * and a visible cursor. */
static void assert_terminal_restored(const struct pane *p)
{
	char *flags = tmux("display", "-p", "-t", p->name, "#{alternate_on} #{cursor_flag}",
			   NULL);
	assert_string_equal(flags, "0 1\n");
	free(flags);
}

/* The screen shows refresh 2 or later (a frame lasts one interval: a
 * poll may miss any single one). */
static bool refreshed_twice(const char *text, const void *arg)
{
	(void)arg;
	const char *at = strstr(text, "\nrefresh ");
	return at && strtoul(at + 9, NULL, 10) >= 2 && strstr(at, " every ");
}

static void start_watch(const struct pane *p, pid_t pid, const char *extra)
{
	char line[PATH_MAX + 256];
	snprintf(line, sizeof(line), "%s watch %d --interval 200ms%s%s; echo EXIT=$?",
		 fx.mapsnap, pid, extra ? " " : "", extra ? extra : "");
	type_line(p, line);
	free(wait_pane(p, refreshed_twice, NULL, "a second refresh"));
}

/* ---- the helper ---- */

static void start_helper(helper_proc *h)
{
	char *argv[] = { (char *)helper_path("watched"), NULL };
	assert_int_equal(helper_start(h, argv), 0);
}

static void ask(helper_proc *h, const char *cmd)
{
	char reply[512];
	assert_int_equal(helper_command(h, cmd, reply, sizeof(reply)), 0);
	if (strncmp(reply, "ok", 2) != 0)
		fail_msg("helper: %s -> %s", cmd, reply);
}

/* ---- reading the screen ---- */

/* The line holding needle (a copy), or NULL. */
static char *line_with(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	if (!at)
		return NULL;
	const char *start = at;
	while (start > text && start[-1] != '\n')
		start--;
	return strndup(start, strcspn(start, "\n"));
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *s = text; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* The line of text holding the byte at pos (a copy). */
static char *line_around(const char *text, size_t pos)
{
	const char *start = text + pos;
	while (start > text && start[-1] != '\n')
		start--;
	return strndup(start, strcspn(start, "\n"));
}

/* The first row of the top table (the line after its column header). */
static char *first_row(const char *text)
{
	const char *head = strstr(text, "HISTORY");
	const char *nl = head ? strchr(head, '\n') : NULL;
	return nl ? strndup(nl + 1, strcspn(nl + 1, "\n")) : NULL;
}

/* "+8.0M" -> 8192 (kB), as fmt_kb writes sizes. */
static double kb_of(const char *word)
{
	char *end;
	double v = strtod(word, &end);
	switch (*end) {
	case 'M': return v * 1024;
	case 'G': return v * 1024 * 1024;
	default: return v;
	}
}

/* Word n (0-based) of the line holding needle, as kB. */
static double column_kb(const char *text, const char *needle, int n)
{
	char *line = line_with(text, needle);
	assert_non_null(line);
	char *save = NULL, *w = strtok_r(line, " ", &save);
	for (int i = 0; i < n && w; i++)
		w = strtok_r(NULL, " ", &save);
	assert_non_null(w);
	double kb = kb_of(w);
	free(line);
	return kb;
}

static bool heap_grew(const char *text, const void *arg)
{
	(void)arg;
	char *row = line_with(text, "[heap]");
	const char *kind = row ? strstr(row, " heap ") : NULL;
	bool grew = kind && strstr(kind, "+8.0M") != NULL;
	free(row);
	return grew;
}

static bool heap_first(const char *text, const void *arg)
{
	(void)arg;
	char *row = first_row(text);
	bool first = row && strstr(row, "[heap]") && strstr(text, "sort growth");
	free(row);
	return first;
}

static bool reset_done(const char *text, const void *arg)
{
	(void)arg;
	char *row = line_with(text, "[heap]");
	const char *kind = row ? strstr(row, " heap ") : NULL;
	bool zero = kind && !strstr(kind, "+8.0M") && strstr(text, "baseline reset at");
	free(row);
	return zero;
}

/* ---- tests ---- */

static void assert_diff_shows_growth(const char *old, const char *new)
{
	cmd_result res = run_mapsnap_ok(0, "diff", old, new, "--format", "json", NULL);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	assert_non_null(doc);
	json_t *changes = json_object_get(doc, "changes"), *c;
	size_t i;
	bool heap = false;
	json_array_foreach(changes, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "kind")), "heap") != 0)
			continue;
		json_t *delta = json_object_get(c, "delta");
		assert_true(json_integer_value(json_object_get(delta, "Rss")) >= GROW_KB);
		heap = true;
	}
	assert_true(heap);
	json_decref(doc);
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "summary", old, NULL);
	cmd_result_free(&res);
}

/* The helper grows its heap while the watch runs: the growth shows on the
 * heap's row and in the totals; s re-sorts; w writes a diffable pair; q
 * ends it and gives the terminal back. */
static void watch_growth_sort_write_quit(void **state)
{
	(void)state;
	helper_proc h;
	struct pane p;
	char cmd[64], name[PATH_MAX];
	start_helper(&h);
	snprintf(cmd, sizeof(cmd), "mmap-anon %d", BIG_ANON_KB);
	ask(&h, cmd);
	open_pane(&p);
	start_watch(&p, h.pid, NULL);
	char *before = wait_text(&p, "sort rss");
	char *first = first_row(before);
	assert_non_null(strstr(first, " anon "));
	free(first);
	double rss_before = column_kb(before, "  now ", 2);

	snprintf(cmd, sizeof(cmd), "grow-heap %d", GROW_KB);
	ask(&h, cmd);
	char *after = wait_pane(&p, heap_grew, NULL, "the heap's growth");
	double rss_after = column_kb(after, "  now ", 2);
	assert_true(rss_after - rss_before >= GROW_KB * 0.99);
	assert_true(column_kb(after, "since start", 3) >= GROW_KB * 0.99);
	char *a = line_with(before, "  now "), *b = line_with(after, "  now ");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	free(before);
	free(after);

	for (int i = 0; i < 4; i++)
		press(&p, "s");
	free(wait_pane(&p, heap_first, NULL, "the heap first when sorted by growth"));

	press(&p, "w");
	free(wait_text(&p, "wrote "));
	char old[PATH_MAX], new[PATH_MAX];
	snprintf(old, sizeof(old), "%s/watch-%d-1-start.json", fx.dir, h.pid);
	snprintf(new, sizeof(new), "%s/watch-%d-1-now.json", fx.dir, h.pid);
	assert_diff_shows_growth(old, new);
	/* A second w never replaces the first pair. */
	press(&p, "w");
	snprintf(name, sizeof(name), "watch-%d-2-now.json", h.pid);
	free(wait_text(&p, name));

	/* r: the latest capture is the baseline, the heap's growth 0 again. */
	press(&p, "r");
	free(wait_pane(&p, reset_done, NULL, "the baseline reset"));

	press(&p, "q");
	free(wait_text(&p, "EXIT=0"));
	assert_terminal_restored(&p);
	close_pane(&p);
	helper_stop(&h);
}

/* Polls path until it holds needle after `after` bytes; returns where. */
static size_t wait_file(const char *path, const char *needle, size_t after)
{
	double deadline = now_s() + DEADLINE_S;
	for (;;) {
		size_t len = 0;
		char *text = read_file(path, &len);
		const char *at = text && len > after ? strstr(text + after, needle) : NULL;
		size_t where = at ? (size_t)(at - text) : 0;
		free(text);
		if (at)
			return where;
		if (now_s() > deadline)
			fail_msg("%s never showed %s", path, needle);
		nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
	}
}

/* A region mapped while watching is marked new; split in two by an
 * mprotect, it stays one object (matched as diff matches); unmapped, it is
 * listed as vanished. In batch mode, so that every frame is kept in a
 * file and none can be missed between two looks. */
static void watch_new_and_vanished(void **state)
{
	(void)state;
	helper_proc h;
	start_helper(&h);
	char out[PATH_MAX], pid[16];
	snprintf(out, sizeof(out), "%s/batch.txt", fx.dir);
	snprintf(pid, sizeof(pid), "%d", h.pid);
	pid_t watch = fork();
	assert_true(watch >= 0);
	if (watch == 0) {
		if (!freopen(out, "w", stdout))
			_exit(127);
		execl(fx.mapsnap, fx.mapsnap, "watch", pid, "--interval", "100ms", "--top",
		      "40", NULL);
		_exit(127);
	}
	size_t at = wait_file(out, "refresh 2 every", 0);
	ask(&h, "mmap-apart 4096");
	/* The frame after the reply: the region fully touched. */
	at = wait_file(out, "\n+ anon             4.0M ", at);
	ask(&h, "split-apart");
	at = wait_file(out, "(2 regions)", at);
	char *text = read_file(out, NULL);
	char *row = line_around(text, at);
	assert_non_null(strstr(row, "+ anon             4.0M "));
	free(row);
	free(text);
	ask(&h, "unmap-apart");
	at = wait_file(out, "VANISHED", at);
	at = wait_file(out, "\n- anon             4.0M ", at);
	text = read_file(out, NULL);
	row = line_around(text, at + 1);
	assert_non_null(strstr(row, "(2 regions)"));
	free(row);
	free(text);
	assert_int_equal(kill(watch, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(watch, &status, 0), watch);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	text = read_file(out, NULL);
	assert_null(strchr(text, '\033'));
	free(text);
	helper_stop(&h);
}

/* Two regions the watch has followed apart merge into one (the kernel
 * joins them when their permissions become equal): one object, neither
 * new nor vanished, its history the sum of both. */
static void watch_merged_regions(void **state)
{
	(void)state;
	helper_proc h;
	start_helper(&h);
	ask(&h, "mmap-apart 4096");
	ask(&h, "split-apart");
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	cmd_result before = run_mapsnap_ok(0, "watch", pid, "--count", "1", "--top", "40",
					   NULL);
	assert_int_equal(count(before.out, "\n  anon             2.0M "), 2);
	cmd_result_free(&before);
	char out[PATH_MAX];
	snprintf(out, sizeof(out), "%s/merge.txt", fx.dir);
	pid_t watch = fork();
	assert_true(watch >= 0);
	if (watch == 0) {
		if (!freopen(out, "w", stdout))
			_exit(127);
		execl(fx.mapsnap, fx.mapsnap, "watch", pid, "--interval", "100ms", "--top",
		      "40", NULL);
		_exit(127);
	}
	size_t at = wait_file(out, "refresh 2 every", 0);
	ask(&h, "join-apart");
	/* A row (Rss and Pss 4.0M), not the table by kind. */
	at = wait_file(out, "\n  anon             4.0M     4.0M ", at);
	char *text = read_file(out, NULL);
	char *row = line_around(text, at + 1);
	assert_non_null(strstr(row, " rw-p"));
	assert_null(strstr(row, "regions)"));
	/* Not new ('+' would lead), and its growth (word 5) is 0: the two
	 * halves' baselines were added up. */
	char *save = NULL, *w = strtok_r(row, " ", &save);
	for (int i = 0; i < 5 && w; i++)
		w = strtok_r(NULL, " ", &save);
	assert_non_null(w);
	assert_string_equal(w, "0K");
	free(row);
	const char *frame = strstr(text + at, "\nmapsnap watch:");
	size_t end = frame ? (size_t)(frame - text) : strlen(text);
	const char *gone = strstr(text + at, "VANISHED");
	assert_true(!gone || (size_t)(gone - text) > end);
	free(text);
	assert_int_equal(kill(watch, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(watch, &status, 0), watch);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	helper_stop(&h);
}

/* The process exiting ends the watch with a message. */
static void watch_ends_when_the_process_exits(void **state)
{
	(void)state;
	helper_proc h;
	struct pane p;
	start_helper(&h);
	open_pane(&p);
	start_watch(&p, h.pid, NULL);
	helper_stop(&h);
	char *text = wait_text(&p, "EXIT=0");
	assert_non_null(strstr(text, "exited"));
	free(text);
	assert_terminal_restored(&p);
	close_pane(&p);
}

/* The mapsnap process the pane's shell runs. */
static pid_t watch_pid(const struct pane *p)
{
	char *shell = tmux("display", "-p", "-t", p->name, "#{pane_pid}", NULL);
	long sh = strtol(shell, NULL, 10);
	free(shell);
	char *argv[] = { "pgrep", "-P", NULL, NULL };
	char parent[32];
	snprintf(parent, sizeof(parent), "%ld", sh);
	argv[2] = parent;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	pid_t pid = (pid_t)strtol(res.out, NULL, 10);
	cmd_result_free(&res);
	assert_true(pid > 0);
	return pid;
}

/* Ctrl-C and SIGTERM end the watch and give the terminal back. */
static void watch_ctrl_c_and_sigterm(void **state)
{
	(void)state;
	helper_proc h;
	struct pane p;
	start_helper(&h);
	open_pane(&p);
	start_watch(&p, h.pid, NULL);
	press(&p, "C-c");
	free(wait_text(&p, "EXIT=0"));
	assert_terminal_restored(&p);
	type_line(&p, "clear");
	start_watch(&p, h.pid, "--sort dirty");
	assert_int_equal(kill(watch_pid(&p), SIGTERM), 0);
	free(wait_text(&p, "EXIT=0"));
	assert_terminal_restored(&p);
	close_pane(&p);
	helper_stop(&h);
}

/* p pauses: the refresh count stops until p again. */
static void watch_pause(void **state)
{
	(void)state;
	helper_proc h;
	struct pane p;
	start_helper(&h);
	open_pane(&p);
	start_watch(&p, h.pid, NULL);
	press(&p, "p");
	char *text = wait_text(&p, "[PAUSED]");
	unsigned long paused_at = strtoul(strstr(text, "refresh ") + 8, NULL, 10);
	free(text);
	/* While paused, a heap growth does not show... */
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "grow-heap %d", GROW_KB);
	ask(&h, cmd);
	press(&p, "s"); /* a redraw while paused, proof the loop is alive */
	text = wait_text(&p, "sort pss");
	assert_int_equal(strtoul(strstr(text, "refresh ") + 8, NULL, 10), paused_at);
	assert_null(strstr(text, "+8.0M"));
	free(text);
	/* ...until the watch resumes. */
	press(&p, "p");
	press(&p, "s");
	press(&p, "s");
	press(&p, "s");
	free(wait_pane(&p, heap_grew, NULL, "the heap's growth after resuming"));
	press(&p, "q");
	free(wait_text(&p, "EXIT=0"));
	close_pane(&p);
	helper_stop(&h);
}

/* Not on a terminal (or --batch): one plain table per refresh, no escape
 * byte, and the process's name escaped. */
static void watch_batch_is_plain_text(void **state)
{
	(void)state;
	helper_proc h;
	start_helper(&h);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	cmd_result res = run_mapsnap_ok(0, "watch", pid, "--batch", "--count", "3",
					"--interval", "100ms", NULL);
	assert_int_equal(count(res.out, "mapsnap watch: watched"), 3);
	assert_null(strchr(res.out, '\033'));
	assert_non_null(strstr(res.out, "refresh 3 every 100ms"));
	assert_non_null(strstr(res.out, "[heap]"));
	cmd_result_free(&res);
	/* A pipe is not a terminal: the same without --batch. */
	res = run_mapsnap_ok(0, "watch", pid, "--count", "2", "--interval", "100ms",
			     "--kind", "heap", NULL);
	assert_int_equal(count(res.out, "mapsnap watch: watched"), 2);
	assert_null(strchr(res.out, '\033'));
	assert_non_null(strstr(res.out, "filtered: --kind heap"));
	assert_null(strstr(res.out, "libc"));
	cmd_result_free(&res);
	ask(&h, "rename \033]0;pwned\007");
	res = run_mapsnap_ok(0, "watch", pid, "--count", "1", "--interval", "100ms", NULL);
	assert_null(strchr(res.out, '\033'));
	assert_null(strchr(res.out, '\007'));
	assert_non_null(strstr(res.out, "mapsnap watch: ?]0;pwned? (pid"));
	cmd_result_free(&res);
	helper_stop(&h);
}

static void watch_usage_errors(void **state)
{
	(void)state;
	const char *bad[][4] = {
		{ "watch", NULL },
		{ "watch", "1", "2", NULL },
		{ "watch", "notapid", NULL },
		{ "watch", "1", "--interval", "0s" },
		{ "watch", "1", "--sort", "size" },
		{ "watch", "2147483646", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, bad[i][0], bad[i][1], bad[i][2],
					     bad[i][3], NULL), 0);
		assert_int_equal(res.status, 2);
		assert_int_equal(count(res.err, "\n"), 1);
		assert_int_equal(strncmp(res.err, "mapsnap: ", 9), 0);
		assert_int_equal(res.out_len, 0);
		cmd_result_free(&res);
	}
	cmd_result res = run_mapsnap_ok(0, "watch", "--help", NULL);
	assert_non_null(strstr(res.out, "usage: mapsnap watch PID"));
	assert_non_null(strstr(res.out, "Exit status"));
	cmd_result_free(&res);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	snprintf(fx.socket, sizeof(fx.socket), "mapsnap-test-%d", (int)getpid());
	if (!fx.dir || !realpath(mapsnap_bin(), fx.mapsnap))
		return -1;
	/* A session that lives until teardown: else the server exits with
	 * each test's last pane, and the next test's new-session can reach
	 * it while it goes ("server exited unexpectedly"). */
	char *argv[] = { "tmux", "-L", fx.socket, "-f", "/dev/null", "new-session", "-d",
			 "-s", "keep", NULL };
	cmd_result res;
	if (run_cmd(&res, argv, NULL) != 0)
		return -1;
	int status = res.status;
	cmd_result_free(&res);
	return status == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *argv[] = { "tmux", "-L", fx.socket, "kill-server", NULL };
	cmd_result res;
	if (run_cmd(&res, argv, NULL) == 0)
		cmd_result_free(&res);
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_growth_sort_write_quit),
		cmocka_unit_test(watch_new_and_vanished),
		cmocka_unit_test(watch_merged_regions),
		cmocka_unit_test(watch_ends_when_the_process_exits),
		cmocka_unit_test(watch_ctrl_c_and_sigterm),
		cmocka_unit_test(watch_pause),
		cmocka_unit_test(watch_batch_is_plain_text),
		cmocka_unit_test(watch_usage_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
