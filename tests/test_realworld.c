/* Real programs we did not write, checked against what the kernel says:
 * headless Chromium on a page that allocates (tests/pages/allocate.html,
 * driven over the DevTools protocol on a pipe, so each step is awaited,
 * never slept on) and a Python workload (tests/helpers/workload.py:
 * threads, big allocations, arenas, ctypes libraries). For every process:
 *   - the snapshot is the kernel's: /proc/PID/maps and the thread list
 *     read around the capture agree with it (else it is captured again);
 *   - thread stacks against Threads: and the stack pointers read, guards,
 *     reservations, library loads and duplicates against offset-0
 *     mappings (tests/truth.c);
 *   - `summary --format json` totals equal smaps_rollup, Rss exactly;
 *   - a diff across an allocation step adds up per kind, and the growth
 *     is in its changes.
 * Then the same layout facts offline on redacted snapshots of a Chromium
 * renderer and of the Python process (fixtures/real/).
 * Chromium missing: the browser tests skip (make deps installs it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "truth.h"
#include "util.h"

#define PAGE_FILE "tests/pages/allocate.html"
#define WORKLOAD "tests/helpers/workload.py"
#define FIXTURE_RENDERER "fixtures/real/chromium-renderer.json"
#define FIXTURE_PYTHON "fixtures/real/python.json"
/* Captures of a busy process are retried until the thread list and the
 * maps read around them agree with them; this many at most. */
#define QUIET_TRIES 200
#define MAX_TASKS 4096
#define MAX_PROCS 64
#define CDP_TIMEOUT_MS 120000 /* a hung browser fails the test, not the suite */
#define KB_PER_MIB 1024

struct browser {
	pid_t pid;
	int to, from;     /* the DevTools pipe: fds 3 and 4 in the browser */
	char *buf;        /* bytes read, not yet a whole message */
	size_t len, cap;
	int next_id;
	char session[128];
	bool loaded;      /* Page.loadEventFired seen */
};

struct proc {
	pid_t pid;
	char type[64];    /* "browser", "renderer", "zygote", "gpu-process", ... */
	char label[128];
};

static struct {
	char *dir;
	const char *chromium; /* NULL: the browser tests skip */
	struct browser browser;
	pid_t renderer;       /* the page's renderer (it runs the worker) */
	helper_proc python;
	const char *save_dir; /* $MAPSNAP_SAVE_REAL: write the fixtures there */
} fx;

/* ---- small readers of /proc ---- */

static char *proc_read(pid_t pid, const char *what)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	return read_file(path, NULL);
}

/* A "Key: number" line of a /proc text; -1 when absent. */
static long long proc_number(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			return strtoll(line + n + 1, NULL, 10);
	}
	return -1;
}

static long long proc_value(pid_t pid, const char *file, const char *key)
{
	char *text = proc_read(pid, file);
	long long v = text ? proc_number(text, key) : -1;
	free(text);
	return v;
}

static int by_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* The thread ids, sorted; -1 when the process is gone. */
static long read_tasks(pid_t pid, long *tids)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_TASKS)
		if (isdigit((unsigned char)e->d_name[0]))
			tids[n++] = strtol(e->d_name, NULL, 10);
	closedir(d);
	qsort(tids, (size_t)n, sizeof(*tids), by_long);
	return n;
}

static pid_t parent_of(pid_t pid)
{
	char *stat = proc_read(pid, "stat");
	char *close_paren = stat ? strrchr(stat, ')') : NULL;
	int ppid = -1;
	if (close_paren)
		sscanf(close_paren + 1, " %*c %d", &ppid);
	free(stat);
	return ppid;
}

/* True when /proc/PID/maps shows exactly the snapshot's regions: the
 * process did not map or unmap anything around the capture. */
static bool maps_agree(pid_t pid, const snap_snapshot *s)
{
	char *maps = proc_read(pid, "maps");
	if (!maps)
		return false;
	size_t i = 0;
	bool same = true;
	for (char *line = maps; *line && same;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		unsigned long long start, end, offset, inode;
		char perms[5];
		int name_at = 0;
		same = sscanf(line, "%llx-%llx %4s %llx %*x:%*x %llu %n", &start, &end, perms,
			      &offset, &inode, &name_at) == 5 && i < s->nregions;
		if (same) {
			const snap_region *r = &s->regions[i++];
			same = r->start == start && r->end == end && strcmp(r->perms, perms) == 0 &&
			       r->offset == offset && r->inode == inode &&
			       strcmp(r->path, line + name_at) == 0;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(maps);
	return same && i == s->nregions;
}

/* ---- quiet captures ---- */

/* What a capture waits for besides quiet: -1 for either when any. */
struct moment {
	long threads; /* Threads: */
	long running; /* threads but the main one whose stack pointer was not
		       * read: running (or runnable) at that instant */
};

static const struct moment any_moment = { -1, -1 };

/* Captures pid through the API when nothing moved around it (the same
 * threads before and after, counted by Threads:, the same maps) and at
 * the moment asked for. NULL when the process is gone. */
static snap_snapshot *capture_quiet(pid_t pid, struct moment want, const char *label)
{
	static long before[MAX_TASKS], after[MAX_TASKS];
	for (int attempt = 0; attempt < QUIET_TRIES; attempt++) {
		long nb = read_tasks(pid, before);
		snap_snapshot *s;
		snap_error err;
		int rc = snap_capture(&s, pid, NULL, &err);
		if (rc == SNAP_ENOPROC || nb < 0)
			return NULL;
		if (rc != 0)
			fail_msg("%s: capture: %s", label, err.message);
		long na = read_tasks(pid, after);
		long running = nb - 1 - (long)s->process.nthread_sp;
		bool quiet = na == nb && memcmp(before, after, (size_t)nb * sizeof(long)) == 0 &&
			     s->process.threads == nb && maps_agree(pid, s);
		if (quiet && (want.threads < 0 || want.threads == nb) &&
		    (want.running < 0 || want.running == running))
			return s;
		snap_snapshot_free(s);
	}
	fail_msg("%s: no quiet capture (Threads: %ld, %ld running) in %d tries", label,
		 want.threads, want.running, QUIET_TRIES);
	return NULL;
}

static void check_process(pid_t pid, const char *label)
{
	snap_snapshot *s = capture_quiet(pid, any_moment, label);
	if (!s)
		return; /* a utility process that ended: nothing to judge */
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	assert_layout_truth(s, id, label);
	size_t count[SNAP_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < s->nregions; i++)
		count[id->kinds[i]]++;
	print_message("%s: %zu regions, Threads: %ld, %zu stack pointers; thread stacks "
		      "%zu by pointer, %zu by MAP_STACK, %zu refused; %zu guards, %zu "
		      "reserved; %zu duplicated libraries\n", label, s->nregions,
		      s->process.threads, s->process.nthread_sp, id->stacks.by_pointer,
		      id->stacks.by_map_stack, id->stacks.refused, count[SNAP_KIND_GUARD],
		      count[SNAP_KIND_RESERVED], id->ndups);
	snap_identity_free(id);
	snap_snapshot_free(s);
}

/* `mapsnap summary PID --format json` against smaps_rollup read before
 * and after it: when those agree the process was quiet, and the totals
 * must equal them (Rss, Private_Dirty and Swap exactly). Returns false
 * when the process is gone. */
static bool summary_matches_rollup(pid_t pid, const char *label)
{
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	int disagreements = 0;
	for (int attempt = 0; attempt < QUIET_TRIES; attempt++) {
		long long rss = proc_value(pid, "smaps_rollup", "Rss");
		long long dirty = proc_value(pid, "smaps_rollup", "Private_Dirty");
		cmd_result res;
		assert_int_equal(run_mapsnap(&res, NULL, "summary", arg, "--format", "json",
					     NULL), 0);
		long long rss_after = proc_value(pid, "smaps_rollup", "Rss");
		long long dirty_after = proc_value(pid, "smaps_rollup", "Private_Dirty");
		if (rss < 0 || rss_after < 0) {
			cmd_result_free(&res);
			return false;
		}
		if (res.status != 0)
			fail_msg("%s: summary exited %d: %s", label, res.status, res.err);
		json_t *doc = json_parse_output(res.out, label);
		cmd_result_free(&res);
		json_t *totals = json_object_get(doc, "totals");
		json_t *rollup = json_object_get(doc, "rollup");
		if (!json_is_object(rollup))
			fail_msg("%s: a live summary without its rollup cross-check", label);
		bool quiet = rss == rss_after && dirty == dirty_after;
		bool agrees = json_is_true(json_object_get(rollup, "agrees")) &&
			      json_counter(totals, "Rss") == rss &&
			      json_counter(totals, "Private_Dirty") == dirty;
		json_decref(doc);
		if (quiet && agrees)
			return true;
		/* Quiet on both sides, yet the sums differ: once is a change
		 * that came and went; three times is a wrong sum. */
		if (quiet && ++disagreements == 3)
			fail_msg("%s: summary totals differ from smaps_rollup (Rss %lld kB) in three quiet reads",
				 label, rss);
	}
	fail_msg("%s: never quiet for the summary in %d tries", label, QUIET_TRIES);
	return false;
}

/* ---- the browser ---- */

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* name's path in $PATH into buf, or NULL. */
static const char *find_in_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	for (const char *dir = path ? path : "/usr/bin"; *dir;) {
		size_t len = strcspn(dir, ":");
		snprintf(buf, size, "%.*s/%s", (int)len, dir, name);
		if (len && executable(buf))
			return buf;
		dir += len + (dir[len] == ':');
	}
	return NULL;
}

static const char *find_chromium(void)
{
	static char found[4200];
	const char *env = getenv("CHROMIUM");
	if (env && *env)
		return executable(env) ? env : NULL;
	return find_in_path("chromium", found, sizeof(found))
		? found : find_in_path("chromium-browser", found, sizeof(found));
}

static void need_chromium(void)
{
	if (!fx.chromium) {
		print_message("chromium not installed (make deps installs it): skipped\n");
		skip();
	}
}

/* In the child: the DevTools pipe on fds 3 (commands) and 4 (answers),
 * output into a log, then the browser. */
static void exec_browser(int in, int out, const char *profile, const char *log)
{
	int cmd = fcntl(in, F_DUPFD, 10), ans = fcntl(out, F_DUPFD, 10);
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int null = open("/dev/null", O_RDONLY);
	if (cmd < 0 || ans < 0 || logfd < 0 || null < 0 || dup2(cmd, 3) < 0 ||
	    dup2(ans, 4) < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		_exit(127);
	close(cmd);
	close(ans);
	execl(fx.chromium, fx.chromium, "--headless", "--no-sandbox", "--disable-gpu",
	      "--disable-quic", "--no-first-run", "--disable-background-networking",
	      "--disable-component-update", "--disable-sync", profile,
	      "--remote-debugging-pipe", "about:blank", (char *)NULL);
	_exit(127);
}

static int browser_start(struct browser *b)
{
	int to[2], from[2];
	char profile[4300], log[4300];
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", fx.dir);
	snprintf(log, sizeof(log), "%s/chromium.log", fx.dir);
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	b->pid = fork();
	if (b->pid < 0)
		return -1;
	if (b->pid == 0)
		exec_browser(to[0], from[1], profile, log);
	close(to[0]);
	close(from[1]);
	b->to = to[1];
	b->from = from[0];
	return 0;
}

static void browser_stop(struct browser *b)
{
	if (b->pid <= 0)
		return;
	/* The browser quits when its DevTools pipe closes; a stuck one is
	 * killed after ten seconds so a failure cannot hang the suite. */
	close(b->to);
	close(b->from);
	int status;
	for (int waited = 0; waitpid(b->pid, &status, WNOHANG) == 0; waited++) {
		if (waited == 1000)
			kill(b->pid, SIGKILL);
		usleep(10000);
	}
	free(b->buf);
	b->pid = 0;
}

static void cdp_fail(const char *what)
{
	char log[4300];
	snprintf(log, sizeof(log), "%s/chromium.log", fx.dir);
	char *text = read_file(log, NULL);
	size_t len = text ? strlen(text) : 0;
	fail_msg("DevTools: %s; the browser's log ends: %s", what,
		 text ? text + (len > 1500 ? len - 1500 : 0) : "(none)");
	free(text);
}

/* The next message from the browser (messages end with a NUL byte). */
static json_t *cdp_read(struct browser *b)
{
	for (;;) {
		char *end = b->len ? memchr(b->buf, '\0', b->len) : NULL;
		if (end) {
			size_t n = (size_t)(end - b->buf);
			json_error_t jerr;
			json_t *msg = json_loadb(b->buf, n, 0, &jerr);
			memmove(b->buf, end + 1, b->len - n - 1);
			b->len -= n + 1;
			if (!msg)
				cdp_fail(jerr.text);
			return msg;
		}
		if (b->len + 65536 > b->cap) {
			b->cap = (b->len + 65536) * 2;
			b->buf = realloc(b->buf, b->cap);
			assert_non_null(b->buf);
		}
		struct pollfd p = { b->from, POLLIN, 0 };
		int ready = poll(&p, 1, CDP_TIMEOUT_MS);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			cdp_fail("no answer in two minutes");
		ssize_t got = read(b->from, b->buf + b->len, 65536);
		if (got <= 0)
			cdp_fail("the browser closed its pipe");
		b->len += (size_t)got;
	}
}

/* Sends method(params) (to the page's session when on_page) and returns
 * its result (caller frees); events seen meanwhile are noted. */
static json_t *cdp_call(struct browser *b, const char *method, json_t *params,
			bool on_page)
{
	int id = ++b->next_id;
	json_t *msg = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
				params ? params : json_object());
	if (on_page)
		json_object_set_new(msg, "sessionId", json_string(b->session));
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	size_t len = strlen(text) + 1; /* with the NUL that ends it */
	if (write(b->to, text, len) != (ssize_t)len)
		cdp_fail("cannot write to the browser");
	free(text);
	for (;;) {
		json_t *answer = cdp_read(b);
		const char *event = json_string_value(json_object_get(answer, "method"));
		if (event && strcmp(event, "Page.loadEventFired") == 0)
			b->loaded = true;
		if (json_integer_value(json_object_get(answer, "id")) != id) {
			json_decref(answer);
			continue;
		}
		json_t *result = json_object_get(answer, "result");
		if (!result) {
			char *dump = json_dumps(answer, JSON_COMPACT);
			fail_msg("DevTools %s: %s", method, dump);
		}
		json_incref(result);
		json_decref(answer);
		return result;
	}
}

static void cdp_wait_load(struct browser *b)
{
	while (!b->loaded) {
		json_t *msg = cdp_read(b);
		const char *event = json_string_value(json_object_get(msg, "method"));
		b->loaded = event && strcmp(event, "Page.loadEventFired") == 0;
		json_decref(msg);
	}
}

/* Evaluates expr in the page, awaiting the promise it returns; the
 * string it settles to. */
static char *page_eval(struct browser *b, const char *expr)
{
	json_t *result = cdp_call(b, "Runtime.evaluate",
				  json_pack("{s:s, s:b, s:b}", "expression", expr,
					    "awaitPromise", 1, "returnByValue", 1), true);
	if (json_object_get(result, "exceptionDetails")) {
		char *dump = json_dumps(result, JSON_COMPACT);
		fail_msg("page: %s threw: %.500s", expr, dump);
	}
	const char *value = json_string_value(
		json_object_get(json_object_get(result, "result"), "value"));
	assert_non_null(value);
	char *copy = strdup(value);
	json_decref(result);
	return copy;
}

/* Attaches to the first page, opens the test page and waits until its
 * worker answered. */
static void open_page(struct browser *b)
{
	json_t *targets = cdp_call(b, "Target.getTargets", NULL, false);
	const char *page = NULL;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(targets, "targetInfos"), i, t)
		if (!page && strcmp(json_string_value(json_object_get(t, "type")), "page") == 0)
			page = json_string_value(json_object_get(t, "targetId"));
	if (!page)
		cdp_fail("no page target");
	json_t *attached = cdp_call(b, "Target.attachToTarget",
				    json_pack("{s:s, s:b}", "targetId", page, "flatten", 1),
				    false);
	snprintf(b->session, sizeof(b->session), "%s",
		 json_string_value(json_object_get(attached, "sessionId")));
	json_decref(attached);
	json_decref(targets);
	json_decref(cdp_call(b, "Page.enable", NULL, true));
	char path[PATH_MAX], url[PATH_MAX + 16];
	assert_non_null(realpath(PAGE_FILE, path));
	snprintf(url, sizeof(url), "file://%s", path);
	b->loaded = false;
	json_decref(cdp_call(b, "Page.navigate", json_pack("{s:s}", "url", url), true));
	cdp_wait_load(b);
	char *ready = page_eval(b, "window.ready");
	assert_string_equal(ready, "ready");
	free(ready);
}

/* ---- the browser's processes ---- */

static void proc_type(pid_t pid, char *type, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	size_t len = 0;
	char *cmdline = read_file(path, &len);
	snprintf(type, size, "browser");
	/* Chromium rewrites its title: the arguments may be one string */
	for (size_t k = 0; cmdline && k < len; k++)
		if (cmdline[k] == '\0')
			cmdline[k] = ' ';
	const char *t = cmdline ? strstr(cmdline, " --type=") : NULL;
	if (t)
		snprintf(type, size, "%.*s", (int)strcspn(t + 8, " "), t + 8);
	free(cmdline);
}

/* Every process descending from the browser, the browser first. */
static size_t browser_processes(struct proc *out, size_t max)
{
	size_t n = 0;
	out[n].pid = fx.browser.pid;
	out[n++].type[0] = '\0';
	for (size_t scanned = 0; scanned < n; scanned++) {
		DIR *d = opendir("/proc");
		assert_non_null(d);
		struct dirent *e;
		while ((e = readdir(d)) && n < max) {
			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
			if (parent_of(pid) == out[scanned].pid)
				out[n++].pid = pid;
		}
		closedir(d);
	}
	for (size_t k = 0; k < n; k++) {
		proc_type(out[k].pid, out[k].type, sizeof(out[k].type));
		snprintf(out[k].label, sizeof(out[k].label), "chromium %s (pid %d)",
			 out[k].type, (int)out[k].pid);
	}
	return n;
}

/* The renderer running the page: the one process with a worker thread. */
static pid_t find_page_renderer(void)
{
	struct proc procs[MAX_PROCS];
	size_t n = browser_processes(procs, MAX_PROCS);
	static long tids[MAX_TASKS];
	pid_t found = 0;
	for (size_t k = 0; k < n; k++) {
		if (strcmp(procs[k].type, "renderer") != 0)
			continue;
		long nt = read_tasks(procs[k].pid, tids);
		for (long t = 0; t < nt; t++) {
			char what[64];
			snprintf(what, sizeof(what), "task/%ld/comm", tids[t]);
			char *comm = proc_read(procs[k].pid, what);
			if (comm && strncmp(comm, "DedicatedWorker", 15) == 0) {
				if (found && found != procs[k].pid)
					fail_msg("two renderers run a worker: %d and %d", (int)found,
						 (int)procs[k].pid);
				found = procs[k].pid;
			}
			free(comm);
		}
	}
	if (!found)
		fail_msg("no renderer runs the page's worker");
	return found;
}

/* ---- the Python workload ---- */

/* Debian's python3 first (the one deps.sh installs), else PATH's. */
static int start_python(helper_proc *h)
{
	static char python[4200];
	char script[PATH_MAX];
	if (!realpath(WORKLOAD, script))
		return -1;
	if (executable("/usr/bin/python3"))
		snprintf(python, sizeof(python), "/usr/bin/python3");
	else if (!find_in_path("python3", python, sizeof(python)))
		return -1;
	char *argv[] = { python, script, NULL };
	return helper_start(h, argv);
}

/* ---- fixture and setup ---- */

static void save_fixture(pid_t pid, const char *name)
{
	if (!fx.save_dir)
		return;
	char out[PATH_MAX], arg[16];
	snprintf(out, sizeof(out), "%s/%s", fx.save_dir, name);
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	/* a redacted capture of a quiet moment, its facts checked first */
	snap_snapshot *s = capture_quiet(pid, any_moment, name);
	snap_snapshot_free(s);
	cmd_result res = run_mapsnap_ok(0, "capture", arg, "--redact", "-f", "-o", out, NULL);
	cmd_result_free(&res);
	print_message("saved %s\n", out);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	if (!fx.dir)
		return -1;
	fx.save_dir = getenv("MAPSNAP_SAVE_REAL");
	if (start_python(&fx.python) != 0) {
		print_message("cannot start %s with python3 (make deps installs it)\n",
			      WORKLOAD);
		return -1;
	}
	fx.chromium = find_chromium();
	if (fx.chromium && browser_start(&fx.browser) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	browser_stop(&fx.browser);
	helper_stop(&fx.python);
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- Chromium ---- */

static void need_page(void)
{
	need_chromium();
	if (!fx.renderer) {
		open_page(&fx.browser);
		fx.renderer = find_page_renderer();
	}
}

static void chromium_every_process_layout(void **state)
{
	(void)state;
	need_page();
	struct proc procs[MAX_PROCS];
	size_t n = browser_processes(procs, MAX_PROCS);
	bool seen_renderer = false, seen_zygote = false;
	for (size_t k = 0; k < n; k++) {
		seen_renderer |= procs[k].pid == fx.renderer;
		seen_zygote |= strcmp(procs[k].type, "zygote") == 0;
		check_process(procs[k].pid, procs[k].label);
	}
	assert_true(seen_renderer);
	assert_true(seen_zygote);
	print_message("checked %zu chromium processes\n", n);
}

static void chromium_summary_equals_rollup(void **state)
{
	(void)state;
	need_page();
	struct proc procs[MAX_PROCS];
	size_t n = browser_processes(procs, MAX_PROCS), checked = 0;
	for (size_t k = 0; k < n; k++)
		checked += summary_matches_rollup(procs[k].pid, procs[k].label);
	assert_true(checked >= 4);
}

/* Checks the CLI's snapshot of pid (written by `mapsnap capture`) like
 * the API's, and `check` reports a duplicated library only when the
 * snapshot has one. */
static void check_cli_capture(pid_t pid, const char *label)
{
	char out[PATH_MAX], arg[16];
	snprintf(out, sizeof(out), "%s/cli-%d.json", fx.dir, (int)pid);
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	for (int attempt = 0; attempt < QUIET_TRIES; attempt++) {
		cmd_result res = run_mapsnap_ok(0, "capture", arg, "-f", "-o", out, NULL);
		cmd_result_free(&res);
		FILE *f = fopen(out, "r");
		assert_non_null(f);
		snap_snapshot *s;
		snap_error err;
		if (fmt_json_load(&s, f, out, &err) != 0)
			fail_msg("%s: %s", out, err.message);
		fclose(f);
		static long tids[MAX_TASKS];
		if (!maps_agree(pid, s) || read_tasks(pid, tids) != s->process.threads) {
			snap_snapshot_free(s);
			continue;
		}
		snap_identity *id;
		assert_int_equal(snap_identity_new(&id, s, NULL), 0);
		assert_layout_truth(s, id, label);
		res = run_mapsnap_ok(0, "check", out, "--format", "json", NULL);
		json_t *doc = json_parse_output(res.out, label);
		cmd_result_free(&res);
		size_t i, dup_findings = 0;
		json_t *finding;
		json_array_foreach(json_object_get(doc, "findings"), i, finding) {
			const char *rule = json_string_value(json_object_get(finding, "rule"));
			dup_findings += strcmp(rule, "duplicated-library") == 0;
			/* PartitionAlloc and V8 commit pieces of their
			 * reservations: no fragmented heap */
			if (strcmp(rule, "heap-fragmentation") == 0)
				fail_msg("%s: heap-fragmentation: %s", label,
					 json_string_value(json_object_get(finding, "message")));
		}
		if ((dup_findings > 0) != (id->ndups > 0))
			fail_msg("%s: check reports %zu duplicated-library findings, the loads give %zu duplicates",
				 label, dup_findings, id->ndups);
		json_decref(doc);
		snap_identity_free(id);
		snap_snapshot_free(s);
		return;
	}
	fail_msg("%s: no quiet CLI capture in %d tries", label, QUIET_TRIES);
}

static void chromium_cli_captures(void **state)
{
	(void)state;
	need_page();
	struct proc procs[MAX_PROCS];
	size_t n = browser_processes(procs, MAX_PROCS);
	for (size_t k = 0; k < n; k++)
		if (procs[k].pid == fx.browser.pid || procs[k].pid == fx.renderer ||
		    strcmp(procs[k].type, "zygote") == 0)
			check_cli_capture(procs[k].pid, procs[k].label);
}

static void write_snapshot(const snap_snapshot *s, const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fmt_json_write(f, s), 0);
	assert_int_equal(fclose(f), 0);
}

/* Rss added by the changes of memory that is not a file. */
static int64_t anonymous_growth_kb(const snap_diff *d)
{
	int64_t grown = 0;
	for (size_t c = 0; c < d->nchanges; c++) {
		enum snap_kind k = d->changes[c].kind;
		bool anonymous = k == SNAP_KIND_ANON || k == SNAP_KIND_ARENA ||
				 k == SNAP_KIND_HEAP || k == SNAP_KIND_ANON_NAMED ||
				 k == SNAP_KIND_RESERVED || k == SNAP_KIND_SHMEM;
		if (anonymous && d->changes[c].delta.kb[SNAP_M_RSS] > 0)
			grown += d->changes[c].delta.kb[SNAP_M_RSS];
	}
	return grown;
}

/* Captures pid, runs `step`, captures again; the diff (API and CLI, every
 * change listed) adds up per kind and shows at least min_growth_mib of
 * new anonymous Rss in its changes. The two snapshots are saved as a
 * and b (PATH_MAX each). */
static void diff_across(pid_t pid, const char *name, void (*step)(const char *),
			const char *arg, int64_t min_growth_mib, char *a, char *b)
{
	char label[128];
	snprintf(label, sizeof(label), "%s %s", name, arg);
	snap_snapshot *old = capture_quiet(pid, any_moment, label);
	step(arg);
	snap_snapshot *new = capture_quiet(pid, any_moment, label);
	assert_non_null(old);
	assert_non_null(new);
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.min_change_kb = 0;
	snap_diff *d;
	assert_int_equal(snap_diff_new(&d, old, new, &opts, NULL), 0);
	assert_true(d->same_process && d->by_address);
	assert_diff_adds_up(d, label);
	int64_t grown = anonymous_growth_kb(d);
	print_message("%s: %zu changes, %" PRId64 " kB of new anonymous Rss in them, "
		      "the process %+" PRId64 " kB\n", label, d->nchanges, grown,
		      d->total_new.kb[SNAP_M_RSS] - d->total_old.kb[SNAP_M_RSS]);
	if (grown < min_growth_mib * KB_PER_MIB)
		fail_msg("%s: the changes show %" PRId64 " kB of new anonymous Rss, want %" PRId64 " MiB (the process grew %+" PRId64 " kB)",
			 label, grown, min_growth_mib,
			 d->total_new.kb[SNAP_M_RSS] - d->total_old.kb[SNAP_M_RSS]);
	snap_diff_free(d);

	snprintf(a, PATH_MAX, "%s/%s-%s-old.json", fx.dir, name, arg);
	snprintf(b, PATH_MAX, "%s/%s-%s-new.json", fx.dir, name, arg);
	write_snapshot(old, a);
	write_snapshot(new, b);
	cmd_result res = run_mapsnap_ok(0, "diff", "--min-change", "0", "--format", "json",
					a, b, NULL);
	json_t *doc = json_parse_output(res.out, label);
	cmd_result_free(&res);
	assert_diff_json_adds_up(doc, label);
	json_decref(doc);
	snap_snapshot_free(old);
	snap_snapshot_free(new);
}

/* Two renderers of one browser are matched by identity: the diff still
 * adds up per kind, with every change of one kind (API and CLI). */
static void chromium_identity_diff_adds_up(void **state)
{
	(void)state;
	need_page();
	struct proc procs[MAX_PROCS];
	size_t n = browser_processes(procs, MAX_PROCS);
	pid_t other = 0;
	for (size_t k = 0; k < n && !other; k++)
		if (strcmp(procs[k].type, "renderer") == 0 && procs[k].pid != fx.renderer)
			other = procs[k].pid;
	assert_true(other > 0);
	snap_snapshot *a = capture_quiet(other, any_moment, "another renderer");
	snap_snapshot *b = capture_quiet(fx.renderer, any_moment, "the page's renderer");
	assert_non_null(a);
	assert_non_null(b);
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.min_change_kb = 0;
	snap_diff *d;
	assert_int_equal(snap_diff_new(&d, a, b, &opts, NULL), 0);
	assert_false(d->by_address);
	assert_diff_adds_up(d, "renderer vs renderer");
	snap_diff_free(d);
	char pa[PATH_MAX], pb[PATH_MAX];
	snprintf(pa, sizeof(pa), "%s/other-renderer.json", fx.dir);
	snprintf(pb, sizeof(pb), "%s/page-renderer.json", fx.dir);
	write_snapshot(a, pa);
	write_snapshot(b, pb);
	cmd_result res = run_mapsnap_ok(0, "diff", "--min-change", "0", "--format", "json",
					pa, pb, NULL);
	json_t *doc = json_parse_output(res.out, "renderer vs renderer");
	cmd_result_free(&res);
	assert_string_equal(json_string_value(json_object_get(doc, "matching")), "identity");
	assert_diff_json_adds_up(doc, "renderer vs renderer");
	json_decref(doc);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void page_step(const char *name)
{
	char expr[64], want[64];
	snprintf(expr, sizeof(expr), "step(\"%s\")", name);
	char *done = page_eval(&fx.browser, expr);
	snprintf(want, sizeof(want), "%s ", name);
	assert_true(strncmp(done, want, strlen(want)) == 0);
	free(done);
}

/* The trend of the renderer's snapshots follows each kind and the thread
 * stacks exactly as the snapshots hold them, and names no kind as a
 * suspect. */
static void check_trend(char files[][PATH_MAX], size_t n, const char *label)
{
	char *argv[16];
	size_t argc = 0;
	argv[argc++] = (char *)mapsnap_bin();
	argv[argc++] = "trend";
	argv[argc++] = "--format";
	argv[argc++] = "json";
	for (size_t k = 0; k < n; k++)
		argv[argc++] = files[k];
	argv[argc] = NULL;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	json_t *trend = json_parse_output(res.out, label);
	cmd_result_free(&res);
	json_t *by_kind = json_object_get(trend, "by_kind");
	json_t *stacks = json_object_get(json_object_get(trend, "process"), "thread_stacks");
	for (size_t t = 0; t < n; t++) {
		FILE *f = fopen(files[t], "r");
		assert_non_null(f);
		snap_snapshot *s;
		assert_int_equal(fmt_json_load(&s, f, files[t], NULL), 0);
		fclose(f);
		snap_identity *id;
		assert_int_equal(snap_identity_new(&id, s, NULL), 0);
		int64_t rss[SNAP_KIND_COUNT] = { 0 };
		for (size_t i = 0; i < s->nregions; i++)
			rss[id->kinds[i]] += (int64_t)snap_region_get(s, &s->regions[i], "Rss");
		size_t k;
		json_t *kind;
		json_array_foreach(by_kind, k, kind) {
			int kk = snap_kind_parse(json_string_value(json_object_get(kind, "kind")));
			json_t *v = json_array_get(json_object_get(json_object_get(kind, "Rss"),
								   "values"), t);
			assert_true(kk >= 0);
			if (json_integer_value(v) != rss[kk])
				fail_msg("%s: trend says %s Rss %lld kB in snapshot %zu, its regions %" PRId64,
					 label, snap_kind_name(kk), json_integer_value(v), t, rss[kk]);
		}
		assert_int_equal(json_integer_value(json_array_get(json_object_get(stacks, "values"), t)),
				 id->thread_stacks);
		snap_identity_free(id);
		snap_snapshot_free(s);
	}
	json_decref(trend);
	argv[3] = "text";
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_no_all_regions(res.out, label);
	cmd_result_free(&res);
}

static void chromium_diff_while_allocating(void **state)
{
	(void)state;
	need_page();
	static const char *const steps[] = { "arrays", "objects", "canvas", "worker" };
	/* typed arrays of 128 MiB, 64 MiB in the worker: most of it seen */
	static const int64_t growth_mib[] = { 100, 0, 0, 48 };
	char files[5][PATH_MAX], old[PATH_MAX];
	for (size_t k = 0; k < 4; k++)
		diff_across(fx.renderer, "renderer", page_step, steps[k], growth_mib[k],
			    k ? old : files[0], files[k + 1]);
	check_trend(files, 5, "renderer trend");
	save_fixture(fx.renderer, "chromium-renderer.json");
}

/* ---- Python ---- */

static void python_layout(void **state)
{
	(void)state;
	pid_t pid = fx.python.pid;
	snap_snapshot *s = capture_quiet(pid, (struct moment){ -1, 0 }, "python");
	assert_non_null(s);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	assert_layout_truth(s, id, "python");

	/* every thread blocked: each stack found by its stack pointer */
	long others = s->process.threads - 1;
	assert_true(others >= 4);
	assert_int_equal(id->thread_stacks, others);
	assert_int_equal(id->stacks.by_pointer, others);

	/* arenas: the 64 MiB-aligned MAP_NORESERVE heaps the kernel shows */
	size_t arenas = 0, aligned_nr = 0;
	for (size_t i = 0; i < s->nregions; i++) {
		const snap_region *r = &s->regions[i];
		arenas += id->evidence[i] == SNAP_EV_ARENA;
		aligned_nr += r->path_len == 0 && strcmp(r->perms, "rw-p") == 0 &&
			      r->start % (64 * MIB) == 0 && snap_region_has_flag(r, "nr") &&
			      !snap_region_has_flag(r, "ac");
	}
	assert_true(arenas >= 1);
	assert_int_equal(arenas, aligned_nr);

	/* the ctypes libraries: loaded once, not duplicated */
	static const char *const libs[] = { "/libz.so", "/libuuid.so" };
	for (size_t k = 0; k < 2; k++) {
		size_t loads = 0;
		for (size_t m = 0; m < id->nimages; m++)
			loads += id->images[m].has_offset0 && strstr(id->images[m].path, libs[k]);
		if (loads != 1)
			fail_msg("python: %zu loads of %s", loads, libs[k] + 1);
		for (size_t d = 0; d < id->ndups; d++)
			if (strstr(libs[k], id->dups[d].name))
				fail_msg("python: %s reported duplicated", id->dups[d].name);
	}

	/* the big bytearrays are anonymous memory, no thread stack */
	int64_t anon_rss = 0;
	int rss = snap_field_find(s, "Rss");
	for (size_t i = 0; i < s->nregions; i++) {
		uint64_t kb = snap_region_value(&s->regions[i], rss);
		if (id->kinds[i] == SNAP_KIND_ANON)
			anon_rss += (int64_t)kb;
		if (id->kinds[i] == SNAP_KIND_THREAD_STACK && kb > 1024)
			fail_msg("python: a thread stack of %" PRIu64 " kB Rss", kb);
	}
	assert_true(anon_rss >= 3 * 96 * KB_PER_MIB);
	snap_identity_free(id);
	snap_snapshot_free(s);
}

static void python_command(const char *cmd)
{
	char reply[256];
	assert_int_equal(helper_command(&fx.python, cmd, reply, sizeof(reply)), 0);
	if (strcmp(reply, "ok") != 0)
		fail_msg("workload.py: %s -> %s", cmd, reply);
}

static void expect_stacks(pid_t pid, struct moment when, size_t by_pointer,
			  size_t by_map_stack, const char *label)
{
	snap_snapshot *s = capture_quiet(pid, when, label);
	assert_non_null(s);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	assert_layout_truth(s, id, label);
	if (id->stacks.by_pointer != by_pointer || id->stacks.by_map_stack != by_map_stack ||
	    id->thread_stacks != by_pointer + by_map_stack)
		fail_msg("%s: Threads: %ld: %zu thread stacks (%zu by pointer, %zu by MAP_STACK), want %zu by pointer and %zu by MAP_STACK",
			 label, s->process.threads, id->thread_stacks, id->stacks.by_pointer,
			 id->stacks.by_map_stack, by_pointer, by_map_stack);
	snap_identity_free(id);
	snap_snapshot_free(s);
}

/* A thread that never blocks has no stack pointer to read: its stack is
 * found by the MAP_STACK mark. Once it has ended, glibc keeps its stack
 * for the next thread: a MAP_STACK stack beyond the threads, within
 * glibc's cache. */
static void python_running_and_cached_stacks(void **state)
{
	(void)state;
	pid_t pid = fx.python.pid;
	static long tids[MAX_TASKS];
	long threads = read_tasks(pid, tids);
	assert_true(threads >= 5);
	python_command("spin");
	expect_stacks(pid, (struct moment){ threads + 1, 1 }, (size_t)threads - 1, 1,
		      "python, one thread running");
	python_command("stop");
	expect_stacks(pid, (struct moment){ threads, 0 }, (size_t)threads - 1, 1,
		      "python, one thread ended");
	save_fixture(pid, "python.json");
}

static void python_summary_equals_rollup(void **state)
{
	(void)state;
	assert_true(summary_matches_rollup(fx.python.pid, "python"));
}

static void python_alloc(const char *mib)
{
	char cmd[32], reply[64];
	snprintf(cmd, sizeof(cmd), "alloc %s", mib);
	assert_int_equal(helper_command(&fx.python, cmd, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok");
}

static void python_diff_while_allocating(void **state)
{
	(void)state;
	char a[PATH_MAX], b[PATH_MAX];
	diff_across(fx.python.pid, "python", python_alloc, "64", 64, a, b);
}

/* The same file loaded twice (dlmopen into a new namespace): reported
 * duplicated, as a new duplicate in the diff, and the diff adds up. */
static void python_dlmopen_is_duplicated(void **state)
{
	(void)state;
	pid_t pid = fx.python.pid;
	snap_snapshot *old = capture_quiet(pid, any_moment, "python before dlmopen");
	python_command("dlmopen z");
	snap_snapshot *new = capture_quiet(pid, any_moment, "python after dlmopen");
	assert_non_null(old);
	assert_non_null(new);
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.min_change_kb = 0;
	snap_diff *d;
	assert_int_equal(snap_diff_new(&d, old, new, &opts, NULL), 0);
	assert_diff_adds_up(d, "python dlmopen");
	assert_layout_truth(old, d->old_id, "python before dlmopen");
	assert_layout_truth(new, d->new_id, "python after dlmopen");
	bool libz = false;
	for (size_t k = 0; k < d->ndups; k++)
		if (strcmp(d->dups[k].dup->name, "libz.so") == 0) {
			libz = true;
			assert_true(d->dups[k].new_in_new);
			assert_true(d->dups[k].dup->same_file);
			assert_int_equal(d->dups[k].dup->nimages, 2);
		}
	if (!libz)
		fail_msg("python: libz loaded twice, not reported duplicated in the diff");
	size_t duplicated = 0;
	for (size_t c = 0; c < d->nchanges; c++)
		duplicated += d->changes[c].type == SNAP_CHANGE_DUPLICATED;
	assert_true(duplicated >= 1);
	snap_diff_free(d);
	snap_snapshot_free(old);
	snap_snapshot_free(new);
}

/* ---- offline: the redacted snapshots ---- */

static snap_snapshot *load_fixture(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	snap_snapshot *s;
	snap_error err;
	if (fmt_json_load(&s, f, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	fclose(f);
	assert_true(s->redacted);
	assert_true(s->process.known);
	return s;
}

/* Kind counts in `summary --format json` are the identity's. */
static void summary_counts_kinds(const char *path, const snap_identity *id)
{
	size_t count[SNAP_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < id->snap->nregions; i++)
		count[id->kinds[i]]++;
	cmd_result res = run_mapsnap_ok(0, "summary", path, "--format", "json", NULL);
	json_t *doc = json_parse_output(res.out, path);
	cmd_result_free(&res);
	size_t listed = 0, i;
	json_t *kind;
	json_array_foreach(json_object_get(doc, "by_kind"), i, kind) {
		int k = snap_kind_parse(json_string_value(json_object_get(kind, "kind")));
		assert_true(k >= 0);
		assert_int_equal(json_counter(kind, "regions"), count[k]);
		listed += count[k];
	}
	assert_int_equal(listed, id->snap->nregions);
	json_t *stacks = json_object_get(doc, "thread_stacks");
	assert_int_equal(json_counter(stacks, "count"), count[SNAP_KIND_THREAD_STACK]);
	assert_int_equal(json_counter(stacks, "threads"), id->snap->process.threads);
	json_decref(doc);
}

/* Distinct regions holding the stack pointers read. */
static size_t regions_with_sp(const snap_snapshot *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nregions; i++) {
		bool holds = false;
		for (size_t k = 0; k < s->process.nthread_sp; k++)
			holds |= region_at(s, s->process.thread_sp[k]) == (long)i;
		n += holds;
	}
	return n;
}

static void offline_renderer(void **state)
{
	(void)state;
	snap_snapshot *s = load_fixture(FIXTURE_RENDERER);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	assert_layout_truth(s, id, FIXTURE_RENDERER);
	assert_true(s->process.threads > 1);
	assert_true(s->process.nthread_sp > 0);
	assert_int_equal(id->stacks.by_pointer, regions_with_sp(s));
	/* the V8 cage and PartitionAlloc's pools: large no-access ranges */
	size_t reserved = 0;
	for (size_t i = 0; i < s->nregions; i++)
		reserved += id->kinds[i] == SNAP_KIND_RESERVED &&
			    s->regions[i].end - s->regions[i].start > 1024 * MIB;
	assert_true(reserved >= 1);
	/* a library mapped out of offset order (libXdmcp: r-xp at 0, ---p at
	 * 0x5000, r--p at 0x4000, rw-p at 0x5000), one load: the layout
	 * checks above found it loaded once */
	size_t out_of_order = 0;
	for (size_t i = 1; i < s->nregions; i++) {
		const snap_region *r = &s->regions[i], *prev = &s->regions[i - 1];
		out_of_order += r->inode && r->inode == prev->inode && r->offset < prev->offset &&
				id->image_of[i] >= 0 && id->image_of[i] == id->image_of[i - 1];
	}
	assert_true(out_of_order >= 1);
	summary_counts_kinds(FIXTURE_RENDERER, id);
	snap_identity_free(id);
	snap_snapshot_free(s);
}

static void offline_python(void **state)
{
	(void)state;
	snap_snapshot *s = load_fixture(FIXTURE_PYTHON);
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, s, NULL), 0);
	assert_layout_truth(s, id, FIXTURE_PYTHON);
	/* captured with every thread blocked, after one thread ended: each
	 * thread's stack by its pointer, the ended one's by MAP_STACK */
	assert_int_equal(s->process.nthread_sp, (size_t)s->process.threads - 1);
	assert_int_equal(id->stacks.by_pointer, regions_with_sp(s));
	assert_int_equal(id->stacks.by_pointer, s->process.nthread_sp);
	assert_int_equal(id->stacks.by_map_stack, 1);
	assert_int_equal(id->thread_stacks, s->process.nthread_sp + 1);
	summary_counts_kinds(FIXTURE_PYTHON, id);
	snap_identity_free(id);
	snap_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chromium_every_process_layout),
		cmocka_unit_test(chromium_summary_equals_rollup),
		cmocka_unit_test(chromium_cli_captures),
		cmocka_unit_test(chromium_diff_while_allocating),
		cmocka_unit_test(chromium_identity_diff_adds_up),
		cmocka_unit_test(python_layout),
		cmocka_unit_test(python_running_and_cached_stacks),
		cmocka_unit_test(python_summary_equals_rollup),
		cmocka_unit_test(python_diff_while_allocating),
		cmocka_unit_test(python_dlmopen_is_duplicated),
		cmocka_unit_test(offline_renderer),
		cmocka_unit_test(offline_python),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
