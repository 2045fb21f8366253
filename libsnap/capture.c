/* Capture from procfs: process and host facts, then a streamed read of
 * /proc/PID/smaps, then smaps_rollup. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const char *procfs_root(const snap_capture_opts *opts)
{
	return opts && opts->procfs ? opts->procfs : "/proc";
}

static int errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ESRCH:
		return SNAP_ENOPROC;
	case EACCES:
	case EPERM:
		return SNAP_EPERM;
	case ENOMEM:
		return SNAP_ENOMEM;
	}
	return SNAP_EIO;
}

static int proc_error(snap_error *err, int code, long pid, const char *what)
{
	char source[32];
	snprintf(source, sizeof(source), "pid %ld", pid);
	if (code == SNAP_ENOPROC)
		return snap_error_set(err, code, source, 0, "no such process");
	if (code == SNAP_EPERM)
		return snap_error_set(err, code, source, 0,
				      "permission denied (needs ptrace access: "
				      "same user or CAP_SYS_PTRACE)");
	return snap_error_set(err, code, source, 0, "cannot read %s", what);
}

/* Reads PROCFS/PID/NAME; *out is malloc'd. */
static int read_proc(const snap_capture_opts *opts, long pid, const char *name,
		     char **out, size_t *len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%ld/%s", procfs_root(opts), pid, name);
	int rc = read_file_all(path, out, len);
	return rc < 0 ? errno_status(-rc) : 0;
}

static const char *chomp_dup(snap_snapshot *snap, const char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return snap_snapshot_strndup(snap, s, n);
}

static int read_host(snap_snapshot *snap, const snap_capture_opts *opts)
{
	struct utsname u;
	char path[PATH_MAX];
	char *text;
	if (uname(&u) == 0 &&
	    (!(snap->host.hostname = snap_snapshot_strdup(snap, u.nodename)) ||
	     !(snap->host.kernel = snap_snapshot_strdup(snap, u.release)) ||
	     !(snap->host.machine = snap_snapshot_strdup(snap, u.machine))))
		return SNAP_ENOMEM;
	snap->host.page_size = sysconf(_SC_PAGESIZE);
	snprintf(path, sizeof(path), "%s/sys/kernel/random/boot_id",
		 procfs_root(opts));
	if (read_file_all(path, &text, NULL) == 0) {
		snap->host.boot_id = chomp_dup(snap, text);
		free(text);
		if (!snap->host.boot_id)
			return SNAP_ENOMEM;
	}
	return SNAP_OK;
}

/* stat: "pid (comm) state ppid ...": comm may hold spaces and ')', so
 * fields are counted from the last ')'. */
static int parse_stat(snap_snapshot *snap, const char *text)
{
	const char *close = strrchr(text, ')');
	if (!close)
		return SNAP_EFORMAT;
	const char *s = close + 1;
	/* Field 3 (state) follows; count to 22 (starttime) and 28. */
	for (int field = 3; *s; field++) {
		while (*s == ' ')
			s++;
		if (field == 22)
			snap->process.start_time = strtoll(s, NULL, 10);
		if (field == 28) {
			snap->process.start_stack = strtoull(s, NULL, 10);
			break;
		}
		while (*s && *s != ' ')
			s++;
	}
	return SNAP_OK;
}

static int parse_cmdline(snap_snapshot *snap, const char *text, size_t len)
{
	size_t argc = 0;
	for (size_t i = 0; i < len; i++)
		argc += text[i] == '\0';
	if (len && text[len - 1] != '\0')
		argc++;
	const char **argv = snap_snapshot_alloc(snap, (argc + 1) * sizeof(*argv));
	if (!argv)
		return SNAP_ENOMEM;
	const char *s = text;
	for (size_t i = 0; i < argc; i++) {
		size_t n = strnlen(s, (size_t)(text + len - s));
		if (!(argv[i] = snap_snapshot_strndup(snap, s, n)))
			return SNAP_ENOMEM;
		s += n + 1;
	}
	snap->process.argv = argv;
	snap->process.argc = argc;
	return SNAP_OK;
}

static int parse_status(snap_snapshot *snap, char *text)
{
	size_t cap = 1, n = 0;
	for (const char *p = text; *p; p++)
		cap += *p == '\n';
	snap_kv *kv = snap_snapshot_alloc(snap, cap * sizeof(*kv));
	if (!kv)
		return SNAP_ENOMEM;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vlen = strlen(v);
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			kv[n].key = snap_snapshot_strndup(snap, line,
							  (size_t)(colon - line));
			kv[n].value = snap_snapshot_strndup(snap, v, vlen);
			if (!kv[n].key || !kv[n].value)
				return SNAP_ENOMEM;
			if (strcmp(kv[n].key, "Threads") == 0)
				snap->process.threads = strtol(kv[n].value, NULL, 10);
			n++;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	snap->process.status = kv;
	snap->process.nstatus = n;
	return SNAP_OK;
}

static int read_exe(snap_snapshot *snap, const snap_capture_opts *opts,
		    long pid)
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%ld/exe", procfs_root(opts), pid);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return SNAP_OK;
	snap->process.exe = snap_snapshot_strndup(snap, target, (size_t)n);
	return snap->process.exe ? SNAP_OK : SNAP_ENOMEM;
}

/* The redaction of a capture: the caller's, else a random key made for
 * this snapshot alone (kept in memory with it, never written). */
static const snap_redact *capture_redaction(snap_snapshot *snap,
					    const snap_capture_opts *opts)
{
	if (opts->redaction)
		return opts->redaction;
	if (!snap->redaction) {
		snap_redact *own = snap_snapshot_alloc(snap, sizeof(*own));
		if (!own || snap_redact_random(own) < 0)
			return NULL;
		snap->redaction = own;
	}
	return snap->redaction;
}

/* "nr arg1..arg6 sp pc" in a system call, "-1 sp pc" when blocked
 * outside one, "running" on a CPU (no stack pointer to read). */
static bool syscall_sp(const char *text, uint64_t *sp)
{
	char *end;
	long nr = strtol(text, &end, 10);
	if (end == text)
		return false;
	int skip = nr == -1 ? 0 : 6;
	const char *s = end;
	for (int i = 0; i <= skip; i++) {
		while (*s == ' ')
			s++;
		if (i == skip)
			break;
		while (*s && *s != ' ')
			s++;
	}
	if (strncmp(s, "0x", 2) != 0)
		return false;
	*sp = strtoull(s + 2, &end, 16);
	return end != s + 2;
}

static int read_thread_sps(snap_snapshot *snap, const snap_capture_opts *opts,
			   long pid)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%ld/task", procfs_root(opts), pid);
	DIR *dir = opendir(path);
	if (!dir)
		return 0; /* not fatal: the kinds fall back to guard pages */
	size_t cap = snap->process.threads > 0 ? (size_t)snap->process.threads + 8 : 64;
	uint64_t *sps = snap_snapshot_alloc(snap, cap * sizeof(*sps));
	struct dirent *de;
	size_t n = 0;
	while (sps && (de = readdir(dir)) && n < cap) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0 || tid == pid)
			continue;
		char name[64], *text;
		snprintf(name, sizeof(name), "task/%ld/syscall", tid);
		if (read_proc(opts, pid, name, &text, NULL) < 0)
			continue;
		if (syscall_sp(text, &sps[n]))
			n++;
		free(text);
	}
	closedir(dir);
	if (!sps)
		return SNAP_ENOMEM;
	snap->process.thread_sp = sps;
	snap->process.nthread_sp = n;
	return 0;
}

int snap_capture_meta(snap_snapshot *snap, pid_t pid,
		      const snap_capture_opts *opts, snap_error *err)
{
	char *text = NULL;
	size_t len;
	int rc;
	char now[40];
	bool redact = opts && opts->redact;

	snap_utc_now(now, sizeof(now));
	snap->captured_at = snap_snapshot_strdup(snap, now);
	snap->tool = "mapsnap " SNAP_VERSION_STRING;
	snap->source = "procfs";
	if (!snap->captured_at || read_host(snap, opts) < 0)
		return proc_error(err, SNAP_ENOMEM, pid, "host facts");

	snap->process.known = true;
	snap->process.pid = pid;
	if ((rc = read_proc(opts, pid, "stat", &text, &len)) < 0)
		return proc_error(err, rc, pid, "stat");
	rc = parse_stat(snap, text);
	free(text);
	if (rc < 0)
		return proc_error(err, rc, pid, "stat");
	if ((rc = read_proc(opts, pid, "comm", &text, &len)) < 0)
		return proc_error(err, rc, pid, "comm");
	snap->process.comm = chomp_dup(snap, text);
	free(text);
	if (!snap->process.comm)
		return proc_error(err, SNAP_ENOMEM, pid, "comm");
	if ((rc = read_proc(opts, pid, "cmdline", &text, &len)) < 0)
		return proc_error(err, rc, pid, "cmdline");
	rc = parse_cmdline(snap, text, len);
	free(text);
	if (rc < 0)
		return proc_error(err, rc, pid, "cmdline");
	if ((rc = read_proc(opts, pid, "status", &text, &len)) < 0)
		return proc_error(err, rc, pid, "status");
	rc = parse_status(snap, text);
	free(text);
	if (rc < 0)
		return proc_error(err, rc, pid, "status");
	if (read_exe(snap, opts, pid) < 0)
		return proc_error(err, SNAP_ENOMEM, pid, "exe");
	if ((rc = read_thread_sps(snap, opts, pid)) < 0)
		return proc_error(err, rc, pid, "task");
	const snap_redact *redaction = redact ? capture_redaction(snap, opts) : NULL;
	if (redact && (!redaction || snap_redact_meta(snap, redaction) < 0))
		return proc_error(err, SNAP_ENOMEM, pid, "for redaction");
	/* Opening smaps is where the kernel checks ptrace access: find out
	 * now, before a caller starts writing a snapshot it cannot finish. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%ld/smaps", procfs_root(opts), (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return proc_error(err, errno_status(errno), pid, "smaps");
	close(fd);
	return SNAP_OK;
}

struct redact_ctx {
	snap_region_fn fn;
	void *ctx;
	const snap_redact *redaction;
};

static int redact_then(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct redact_ctx *rc = ctx;
	snap_region copy = *r;
	if (snap_redact_region(snap, rc->redaction, &copy) < 0)
		return SNAP_ENOMEM;
	return rc->fn ? rc->fn(rc->ctx, snap, &copy)
		      : snap_snapshot_add_region(snap, &copy);
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The process is still the one we started with (no exit, no pid reuse). */
static bool still_alive(const snap_snapshot *snap, const snap_capture_opts *opts,
			long pid)
{
	char *text;
	size_t len;
	if (read_proc(opts, pid, "stat", &text, &len) < 0)
		return false;
	snap_snapshot probe = { 0 };
	probe.process.start_time = -1;
	parse_stat(&probe, text);
	free(text);
	return probe.process.start_time == snap->process.start_time;
}

/* The kernel formats smaps while we read it, and that costs more than
 * parsing it: a reader thread keeps read() busy on one core while this
 * thread parses and writes on the other. A few fixed buffers bound the
 * memory whatever the number of regions. */
#define CHUNK_SIZE (256 * 1024)
#define NCHUNKS 4

struct chunk {
	char *data;
	size_t len;
};

struct reader {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk chunks[NCHUNKS];
	size_t head, count; /* ring of filled chunks */
	bool eof, cancel;
	int read_errno;
	int fd;
};

/* Fills one chunk with as many read()s as fit (each returns about a page). */
static ssize_t fill_chunk(int fd, struct chunk *c)
{
	c->len = 0;
	while (c->len + 8192 <= CHUNK_SIZE) {
		ssize_t n = read(fd, c->data + c->len, CHUNK_SIZE - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)c->len;
		c->len += (size_t)n;
	}
	return (ssize_t)c->len;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	for (;;) {
		pthread_mutex_lock(&rd->mu);
		while (rd->count == NCHUNKS && !rd->cancel)
			pthread_cond_wait(&rd->cv, &rd->mu);
		bool cancel = rd->cancel;
		struct chunk *c = &rd->chunks[(rd->head + rd->count) % NCHUNKS];
		pthread_mutex_unlock(&rd->mu);
		if (cancel)
			return NULL;
		ssize_t n = fill_chunk(rd->fd, c);
		int e = errno;
		pthread_mutex_lock(&rd->mu);
		if (n < 0)
			rd->read_errno = e;
		if (n > 0)
			rd->count++;
		if (n <= 0)
			rd->eof = true;
		pthread_cond_broadcast(&rd->cv);
		pthread_mutex_unlock(&rd->mu);
		if (n <= 0)
			return NULL;
	}
}

/* The next filled chunk, or NULL at the end (or on a read error). */
static struct chunk *next_chunk(struct reader *rd)
{
	pthread_mutex_lock(&rd->mu);
	while (rd->count == 0 && !rd->eof && !rd->read_errno)
		pthread_cond_wait(&rd->cv, &rd->mu);
	struct chunk *c = rd->count ? &rd->chunks[rd->head] : NULL;
	pthread_mutex_unlock(&rd->mu);
	return c;
}

static void release_chunk(struct reader *rd)
{
	pthread_mutex_lock(&rd->mu);
	rd->head = (rd->head + 1) % NCHUNKS;
	rd->count--;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
}

static void reader_cancel(struct reader *rd)
{
	pthread_mutex_lock(&rd->mu);
	rd->cancel = true;
	pthread_cond_broadcast(&rd->cv);
	pthread_mutex_unlock(&rd->mu);
}

static int reader_start(struct reader *rd, pthread_t *thread, int fd)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	for (int i = 0; i < NCHUNKS; i++)
		if (!(rd->chunks[i].data = malloc(CHUNK_SIZE)))
			return SNAP_ENOMEM;
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->cv, NULL);
	if (pthread_create(thread, NULL, reader_main, rd) != 0) {
		pthread_mutex_destroy(&rd->mu);
		pthread_cond_destroy(&rd->cv);
		return SNAP_ENOMEM;
	}
	return SNAP_OK;
}

static void reader_free(struct reader *rd)
{
	for (int i = 0; i < NCHUNKS; i++)
		free(rd->chunks[i].data);
}

static int parse_chunks(struct reader *rd, snap_parser *p, long pid,
			snap_error *err)
{
	struct chunk *c;
	int rc;
	while ((c = next_chunk(rd))) {
		rc = snap_parser_feed(p, c->data, c->len, err);
		release_chunk(rd);
		if (rc != 0)
			return rc;
	}
	if (rd->read_errno)
		return proc_error(err, errno_status(rd->read_errno), pid, "smaps");
	return snap_parser_finish(p, err);
}

static int read_smaps(snap_snapshot *snap, long pid, int fd,
		      snap_region_fn fn, void *ctx, snap_error *err)
{
	char source[64];
	snprintf(source, sizeof(source), "pid %ld: smaps", pid);
	snap_parser *p;
	struct reader rd;
	pthread_t thread;
	int rc = snap_parser_new(&p, snap, source, fn, ctx);
	if (rc < 0)
		return snap_error_set(err, rc, source, 0, "out of memory");
	if ((rc = reader_start(&rd, &thread, fd)) < 0) {
		reader_free(&rd);
		snap_parser_free(p);
		return snap_error_set(err, rc, source, 0, "out of memory");
	}
	rc = parse_chunks(&rd, p, pid, err);
	reader_cancel(&rd);
	pthread_join(thread, NULL);
	pthread_mutex_destroy(&rd.mu);
	pthread_cond_destroy(&rd.cv);
	reader_free(&rd);
	snap_parser_free(p);
	return rc;
}

/* smaps_rollup walks every page table again. It is read on a thread of
 * its own while smaps is read: the parsing thread leaves a core half
 * idle, and the rollup is as close in time to smaps as one read after it
 * would be. */
struct rollup_read {
	const snap_capture_opts *opts;
	long pid;
	char *text; /* NULL when unreadable (kernels before 4.14 have none) */
	size_t len;
};

static void *rollup_main(void *arg)
{
	struct rollup_read *rr = arg;
	if (read_proc(rr->opts, rr->pid, "smaps_rollup", &rr->text, &rr->len) < 0)
		rr->text = NULL;
	return NULL;
}

static void keep_rollup(snap_snapshot *snap, struct rollup_read *rr)
{
	if (rr->text && snap_parse_rollup(snap, rr->text, rr->len, "smaps_rollup",
					  NULL) < 0) {
		snap->rollup = NULL;
		snap->nrollup = 0;
	}
	free(rr->text);
	rr->text = NULL;
}

int snap_capture_smaps(snap_snapshot *snap, pid_t pid,
		       const snap_capture_opts *opts, snap_region_fn fn,
		       void *ctx, snap_error *err)
{
	char path[PATH_MAX], now[40];
	struct timespec t0, t1;
	struct redact_ctx rctx = { fn, ctx, NULL };
	if (opts && opts->redact) {
		if (!(rctx.redaction = capture_redaction(snap, opts)))
			return proc_error(err, SNAP_ENOMEM, pid, "for redaction");
		fn = redact_then;
		ctx = &rctx;
	}
	snprintf(path, sizeof(path), "%s/%ld/smaps", procfs_root(opts), (long)pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return proc_error(err, errno_status(errno), pid, "smaps");
	struct rollup_read rr = { opts, pid, NULL, 0 };
	pthread_t rollup_thread;
	bool rollup_started = !(opts && opts->no_rollup) &&
			      pthread_create(&rollup_thread, NULL, rollup_main, &rr) == 0;
	int rc = read_smaps(snap, pid, fd, fn, ctx, err);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rollup_started)
		pthread_join(rollup_thread, NULL);
	if (rc == 0 && snap->process.known && !still_alive(snap, opts, pid))
		rc = proc_error(err, SNAP_ENOPROC, pid, "smaps");
	/* An exiting process reads as an empty or short smaps, not an error:
	 * the check above makes sure it is still there, and the same. */
	if (rc != 0) {
		free(rr.text);
		return rc;
	}
	snap->capture_ms = elapsed_ms(&t0, &t1);
	keep_rollup(snap, &rr);
	snap_utc_now(now, sizeof(now));
	if (!(snap->captured_end = snap_snapshot_strdup(snap, now)))
		return proc_error(err, SNAP_ENOMEM, pid, "the capture time");
	return SNAP_OK;
}

int snap_capture(snap_snapshot **out, pid_t pid, const snap_capture_opts *opts,
		 snap_error *err)
{
	snap_snapshot *snap;
	int rc = snap_snapshot_new(&snap);
	if (rc < 0)
		return snap_error_set(err, rc, NULL, 0, "out of memory");
	if ((rc = snap_capture_meta(snap, pid, opts, err)) < 0 ||
	    (rc = snap_capture_smaps(snap, pid, opts, NULL, NULL, err)) < 0) {
		snap_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return SNAP_OK;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int snap_find_pids_by_comm(pid_t **out, size_t *count, const char *name,
			   const char *procfs, snap_error *err)
{
	snap_capture_opts opts = { .procfs = procfs };
	DIR *dir = opendir(procfs_root(&opts));
	if (!dir)
		return snap_error_set(err, SNAP_EIO, procfs_root(&opts), 0,
				      "cannot list processes");
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = SNAP_OK;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		long pid = strtol(de->d_name, NULL, 10);
		char *comm;
		size_t len;
		if (read_proc(&opts, pid, "comm", &comm, &len) < 0)
			continue;
		if (len && comm[len - 1] == '\n')
			comm[--len] = '\0';
		bool match = strcmp(comm, name) == 0;
		free(comm);
		if (!match)
			continue;
		if (array_grow(&pids, &cap, n, sizeof(*pids), 16) < 0) {
			rc = SNAP_ENOMEM;
			break;
		}
		pids[n++] = (pid_t)pid;
	}
	closedir(dir);
	if (rc < 0) {
		free(pids);
		return snap_error_set(err, rc, NULL, 0, "out of memory");
	}
	if (n > 1)
		qsort(pids, n, sizeof(*pids), cmp_pid);
	*out = pids;
	*count = n;
	return SNAP_OK;
}

/* The sibling of smaps_path called `name` with smaps' prefix kept:
 * "dir/smaps" -> "dir/NAME", "dir/proc.smaps" -> "dir/proc.NAME". */
static bool sibling_path(char *out, size_t size, const char *smaps_path,
			 const char *name)
{
	const char *base = strrchr(smaps_path, '/');
	base = base ? base + 1 : smaps_path;
	size_t blen = strlen(base);
	if (blen < 5 || strcmp(base + blen - 5, "smaps") != 0)
		return false;
	int n = snprintf(out, size, "%.*s%s", (int)(strlen(smaps_path) - 5),
			 smaps_path, name);
	return n > 0 && (size_t)n < size;
}

static char *read_sibling(const char *smaps_path, const char *name, size_t *len)
{
	char path[PATH_MAX];
	char *text;
	if (!sibling_path(path, sizeof(path), smaps_path, name) ||
	    read_file_all(path, &text, len) < 0)
		return NULL;
	return text;
}

static int read_siblings(snap_snapshot *snap, const char *smaps_path)
{
	size_t len;
	char *text;
	int rc = SNAP_OK;
	if ((text = read_sibling(smaps_path, "stat", &len))) {
		snap->process.known = true;
		snap->process.pid = strtol(text, NULL, 10);
		parse_stat(snap, text);
		free(text);
	}
	if ((text = read_sibling(smaps_path, "comm", &len))) {
		snap->process.comm = chomp_dup(snap, text);
		free(text);
		if (!snap->process.comm)
			return SNAP_ENOMEM;
	}
	if ((text = read_sibling(smaps_path, "cmdline", &len))) {
		rc = parse_cmdline(snap, text, len);
		free(text);
	}
	if (rc == SNAP_OK && (text = read_sibling(smaps_path, "status", &len))) {
		rc = parse_status(snap, text);
		free(text);
	}
	if (rc == SNAP_OK && (text = read_sibling(smaps_path, "smaps_rollup", &len))) {
		if (snap_parse_rollup(snap, text, len, "smaps_rollup", NULL) < 0)
			snap->nrollup = 0;
		free(text);
	}
	return rc;
}

int snap_capture_files(snap_snapshot *snap, const char *smaps_path,
		       bool siblings, snap_error *err)
{
	int fd = open(smaps_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return snap_error_set(err, errno_status(errno) == SNAP_ENOPROC
					   ? SNAP_EIO : errno_status(errno),
				      smaps_path, 0, "%s", strerror(errno));
	int rc = snap_parse_smaps_fd(snap, fd, smaps_path, NULL, NULL, err);
	close(fd);
	if (rc < 0)
		return rc;
	snap->tool = "mapsnap " SNAP_VERSION_STRING;
	snap->source = "smaps-file";
	if (siblings && (rc = read_siblings(snap, smaps_path)) < 0)
		return snap_error_set(err, rc, smaps_path, 0, "out of memory");
	return SNAP_OK;
}
