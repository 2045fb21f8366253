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

/* "pid 1234" in a static buffer (errors are set on one thread). */
static const char *proc_source(long pid)
{
	static _Thread_local char source[32];
	snprintf(source, sizeof(source), "pid %ld", pid);
	return source;
}

static int proc_error(snap_error *err, int code, long pid, const char *what)
{
	const char *source = proc_source(pid);
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
	/* The limit past which mmap fails, for the map-count ratio of a
	 * snapshot read later elsewhere. */
	snprintf(path, sizeof(path), "%s/sys/vm/max_map_count", procfs_root(opts));
	if (read_file_all(path, &text, NULL) == 0) {
		long n = strtol(text, NULL, 10);
		snap->host.max_map_count = n > 0 && n <= INT32_MAX ? n : 0;
		free(text);
	}
	return SNAP_OK;
}

/* The fields of /proc/PID/stat that say which program a pid runs and
 * whether it still has an address space. */
struct stat_fields {
	char state;             /* field 3: 'Z' zombie, 'X' dead */
	unsigned long flags;    /* field 9: PF_* */
	long long start_time;   /* field 22 */
	uint64_t vsize;         /* field 23: 0 once the address space is gone */
	uint64_t start_code;    /* field 26: 0 until an exec has mapped */
	uint64_t end_code;      /* field 27:   the program (the end of it) */
	uint64_t start_stack;   /* field 28: set anew by every exec */
};

#define PF_KTHREAD 0x00200000UL /* include/linux/sched.h */

/* stat: "pid (comm) state ppid ...": comm may hold spaces and ')', so
 * fields are counted from the last ')'. */
static int parse_stat_fields(const char *text, struct stat_fields *out)
{
	const char *close = strrchr(text, ')');
	memset(out, 0, sizeof(*out));
	out->start_time = -1;
	if (!close)
		return SNAP_EFORMAT;
	const char *s = close + 1;
	for (int field = 3; *s && field <= 28; field++) {
		while (*s == ' ')
			s++;
		if (field == 3)
			out->state = *s;
		else if (field == 9)
			out->flags = strtoul(s, NULL, 10);
		else if (field == 22)
			out->start_time = strtoll(s, NULL, 10);
		else if (field == 23)
			out->vsize = strtoull(s, NULL, 10);
		else if (field == 26)
			out->start_code = strtoull(s, NULL, 10);
		else if (field == 27)
			out->end_code = strtoull(s, NULL, 10);
		else if (field == 28)
			out->start_stack = strtoull(s, NULL, 10);
		while (*s && *s != ' ')
			s++;
	}
	return SNAP_OK;
}

static int parse_stat(snap_snapshot *snap, const char *text,
		      struct stat_fields *fields)
{
	struct stat_fields local;
	if (!fields)
		fields = &local;
	int rc = parse_stat_fields(text, fields);
	snap->process.start_time = fields->start_time;
	snap->process.start_stack = fields->start_stack;
	return rc;
}

static bool exited_state(char state)
{
	return state == 'Z' || state == 'X';
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

/* The path of /proc/PID/cgroup's lines "ID:CONTROLLERS:PATH": the
 * unified hierarchy's ("0::PATH") when there is one, else the first. */
static const char *cgroup_path(const char *text)
{
	const char *first = NULL;
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		const char *a = memchr(line, ':', n);
		const char *b = a ? memchr(a + 1, ':', n - (size_t)(a + 1 - line)) : NULL;
		if (b && strncmp(line, "0::", 3) == 0)
			return b + 1;
		if (b && !first)
			first = b + 1;
		line += n + (line[n] == '\n');
	}
	return first;
}

/* Where the process runs: its mount namespace, its cgroup (the v2 line
 * "0::PATH", else the first), and the container the cgroup names. A
 * fact that cannot be read stays NULL: none of them is needed. */
static int read_placement(snap_snapshot *snap, const snap_capture_opts *opts, long pid)
{
	char path[PATH_MAX], target[256];
	snprintf(path, sizeof(path), "%s/%ld/ns/mnt", procfs_root(opts), pid);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n > 0 && !(snap->process.mnt_ns = snap_snapshot_strndup(snap, target, (size_t)n)))
		return SNAP_ENOMEM;
	char *text;
	size_t len;
	if (read_proc(opts, pid, "cgroup", &text, &len) < 0)
		return SNAP_OK;
	int rc = SNAP_OK;
	const char *cg = cgroup_path(text);
	char id[128];
	if (cg && !(snap->process.cgroup = snap_snapshot_strndup(snap, cg, strcspn(cg, "\n"))))
		rc = SNAP_ENOMEM;
	else if (cg && snap_container_id(id, sizeof(id), snap->process.cgroup) &&
		 !(snap->process.container_id = snap_snapshot_strdup(snap, id)))
		rc = SNAP_ENOMEM;
	free(text);
	return rc;
}

/* A fingerprint of a string that may be NULL. */
static uint64_t text_print(const char *s)
{
	return s ? snap_hash64(s, strlen(s)) : 0;
}

/* A failure of a call that names no process (why), for pid. */
static int pid_error(snap_error *err, int code, long pid, const snap_error *why)
{
	return snap_error_set(err, code, proc_source(pid), 0, "%s", why->message);
}

/* The redaction of a capture: the caller's, else a random key made for
 * this snapshot alone (kept in memory with it, never written). */
static int capture_redaction(const snap_redact **out, snap_snapshot *snap,
			     const snap_capture_opts *opts, long pid, snap_error *err)
{
	snap_error why;
	int rc;
	if (opts->redaction) {
		*out = opts->redaction;
		return SNAP_OK;
	}
	if (!snap->internal->redaction) {
		snap_redact *own = snap_snapshot_alloc(snap, sizeof(*own));
		if (!own)
			return snap_error_set(err, SNAP_ENOMEM, proc_source(pid), 0,
					      "out of memory for a redaction key");
		if ((rc = snap_redact_random(own, &why)) < 0)
			return pid_error(err, rc, pid, &why);
		snap->internal->redaction = own;
	}
	*out = snap->internal->redaction;
	return SNAP_OK;
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

int snap_capture_opts_init(snap_capture_opts *opts, unsigned int version)
{
	if (version != SNAP_CAPTURE_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	return SNAP_OK;
}

static int check_opts(const snap_capture_opts *opts, snap_error *err)
{
	return opts ? opts_version_check(opts->version, SNAP_CAPTURE_OPTS_VERSION,
					 "snap_capture_opts", err)
		    : SNAP_OK;
}

int snap_capture_meta(snap_snapshot *snap, pid_t pid,
		      const snap_capture_opts *opts, snap_error *err)
{
	char *text = NULL;
	size_t len;
	int rc;
	char now[40];
	bool redact = opts && opts->redact;
	if ((rc = check_opts(opts, err)) < 0)
		return rc;

	snap_utc_now(now, sizeof(now));
	snap->captured_at = snap_snapshot_strdup(snap, now);
	snap->tool = "mapsnap " SNAP_VERSION_STRING;
	snap->source = "procfs";
	if (!snap->captured_at || read_host(snap, opts) < 0)
		return proc_error(err, SNAP_ENOMEM, pid, "host facts");

	snap->process.known = true;
	snap->process.pid = pid;
	struct stat_fields stat;
	if ((rc = read_proc(opts, pid, "stat", &text, &len)) < 0)
		return proc_error(err, rc, pid, "stat");
	rc = parse_stat(snap, text, &stat);
	free(text);
	if (rc < 0)
		return proc_error(err, rc, pid, "stat");
	/* A zombie has no memory left to read: smaps reads as empty. */
	if (exited_state(stat.state))
		return snap_error_set(err, SNAP_ENOPROC, proc_source(pid), 0,
				      "has exited (a zombie: its parent has not "
				      "reaped it yet)");
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
	if (read_placement(snap, opts, pid) < 0)
		return proc_error(err, SNAP_ENOMEM, pid, "cgroup");
	snap->internal->read_comm = text_print(snap->process.comm);
	snap->internal->read_exe = text_print(snap->process.exe);
	const snap_redact *redaction = NULL;
	snap_error why;
	if (redact && (rc = capture_redaction(&redaction, snap, opts, pid, err)) < 0)
		return rc;
	if (redact && (rc = snap_redact_meta(snap, redaction, &why)) < 0)
		return pid_error(err, rc, pid, &why);
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
	snap_error *err;
};

static int redact_then(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct redact_ctx *rc = ctx;
	snap_region copy = *r;
	if (snap_redact_region(snap, rc->redaction, &copy, rc->err) < 0)
		return SNAP_ENOMEM;
	return rc->fn ? rc->fn(rc->ctx, snap, &copy)
		      : snap_snapshot_add_region(snap, &copy, rc->err);
}

/* Notes each file-backed region (as the kernel printed it, before any
 * redaction) for the build-id scan, then passes it on. */
struct scan_ctx {
	snap_region_fn fn;
	void *ctx;
	snap_file_scan *scan;
	snap_error *err;
};

static int scan_then(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct scan_ctx *sc = ctx;
	if (snap_file_scan_add(sc->scan, r, sc->err) < 0)
		return SNAP_ENOMEM;
	return sc->fn ? sc->fn(sc->ctx, snap, r) : snap_snapshot_add_region(snap, r, sc->err);
}

/* Reads the files noted while the process still maps them. */
static int read_files(snap_snapshot *snap, const snap_capture_opts *opts, pid_t pid,
		      snap_file_scan *scan, const snap_redact *redaction, snap_error *err)
{
	snap_file_scan_opts so = { SNAP_FILE_SCAN_OPTS_VERSION, pid, opts ? opts->procfs : NULL,
				   opts && opts->no_procmap_query };
	snap_error why;
	int rc = snap_file_scan_read(scan, snap, &so, &why);
	if (rc < 0)
		return pid_error(err, rc, pid, &why);
	if (redaction)
		snap_redact_files(snap, redaction);
	return SNAP_OK;
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* ---- consistency: the regions belong to the process in the header ---- */

static int exited_error(snap_error *err, long pid)
{
	return snap_error_set(err, SNAP_ENOPROC, proc_source(pid), 0,
			      "exited during the capture");
}

static int changed_error(snap_error *err, long pid, const char *what)
{
	return snap_error_set(err, SNAP_ECHANGED, proc_source(pid), 0,
			      "ran another program during the capture (%s)", what);
}

/* The kernel ends a read of smaps early, with no error, once the address
 * space it reads is gone (the process exited or ran another program:
 * exec replaces it). Reading the same descriptor again from the start
 * tells: it gives nothing once that address space is gone, and it never
 * comes back. */
static bool address_space_lives(int fd)
{
	char buf[512];
	ssize_t n;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return false;
	while ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	return n > 0;
}

/* comm and exe as they are now, compared with the header's. */
static const char *changed_identity(const snap_snapshot *snap,
				    const snap_capture_opts *opts, long pid)
{
	char *text;
	size_t len;
	const char *what = NULL;
	if (read_proc(opts, pid, "comm", &text, &len) == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
			text[--len] = '\0';
		if (text_print(text) != snap->internal->read_comm)
			what = "its name changed";
		free(text);
	}
	snap_snapshot *probe;
	if (!what && snap_snapshot_new(&probe, NULL) == 0) {
		read_exe(probe, opts, pid);
		if (text_print(probe->process.exe) != snap->internal->read_exe)
			what = "its executable changed";
		snap_snapshot_free(probe);
	}
	return what;
}

/* After the read: SNAP_OK when the regions read are all the regions of
 * the process snap_capture_meta() described. */
static int check_consistent(const snap_snapshot *snap, const snap_capture_opts *opts,
			    long pid, int fd, size_t nregions, snap_error *err)
{
	bool lives = address_space_lives(fd);
	struct stat_fields now;
	char *text;
	size_t len;
	if (read_proc(opts, pid, "stat", &text, &len) < 0)
		return exited_error(err, pid);
	parse_stat_fields(text, &now);
	free(text);
	if (now.start_time != snap->process.start_time || exited_state(now.state))
		return exited_error(err, pid);
	bool kthread = now.flags & PF_KTHREAD; /* no address space, ever */
	if (!lives && !kthread)
		return now.vsize == 0 ? exited_error(err, pid)
				      : changed_error(err, pid, "exec");
	if (nregions == 0 && !kthread)
		return changed_error(err, pid, "no mappings read");
	if (now.start_stack != snap->process.start_stack)
		return changed_error(err, pid, "exec");
	/* An exec sets the code bounds last, once the program and its
	 * interpreter are mapped: read in between, the comm, exe and stack
	 * are already the new program's but its map is not all there. */
	if (!kthread && now.start_code == 0 && now.end_code == 0)
		return changed_error(err, pid, "exec in progress");
	const char *what = changed_identity(snap, opts, pid);
	return what ? changed_error(err, pid, what) : SNAP_OK;
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
	/* ESRCH: the task was reaped between two reads. */
	if (rd->read_errno == ESRCH)
		return exited_error(err, pid);
	if (rd->read_errno)
		return proc_error(err, errno_status(rd->read_errno), pid, "smaps");
	return snap_parser_finish(p, err);
}

static int read_smaps(snap_snapshot *snap, long pid, int fd, snap_region_fn fn,
		      void *ctx, size_t *nregions, snap_error *err)
{
	char source[64];
	snprintf(source, sizeof(source), "pid %ld: smaps", pid);
	snap_parser *p;
	struct reader rd;
	pthread_t thread;
	int rc = snap_parser_new(&p, snap, source, fn, ctx, err);
	if (rc < 0)
		return rc;
	if ((rc = reader_start(&rd, &thread, fd)) < 0) {
		reader_free(&rd);
		snap_parser_free(p);
		return snap_error_set(err, rc, source, 0, "out of memory");
	}
	rc = parse_chunks(&rd, p, pid, err);
	*nregions = snap_parser_region_count(p);
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
 * would be. That read cannot be interrupted, and on a big process it
 * takes a while: a capture stopped early (its callback said so) leaves
 * the thread to finish on its own and free what it read. */
struct rollup_read {
	pthread_t thread;
	pthread_mutex_t mu;
	bool done, abandoned;
	char path[PATH_MAX];
	char *text; /* NULL when unreadable (kernels before 4.14 have none) */
	size_t len;
};

static void rollup_free(struct rollup_read *rr)
{
	pthread_mutex_destroy(&rr->mu);
	free(rr->text);
	free(rr);
}

static void *rollup_main(void *arg)
{
	struct rollup_read *rr = arg;
	char *text;
	size_t len;
	if (read_file_all(rr->path, &text, &len) < 0)
		text = NULL;
	pthread_mutex_lock(&rr->mu);
	rr->text = text;
	rr->len = len;
	rr->done = true;
	bool abandoned = rr->abandoned;
	pthread_mutex_unlock(&rr->mu);
	if (abandoned)
		rollup_free(rr);
	return NULL;
}

static struct rollup_read *rollup_start(const snap_capture_opts *opts, long pid)
{
	if (opts && opts->no_rollup)
		return NULL;
	struct rollup_read *rr = calloc(1, sizeof(*rr));
	if (!rr)
		return NULL;
	snprintf(rr->path, sizeof(rr->path), "%s/%ld/smaps_rollup", procfs_root(opts),
		 pid);
	pthread_mutex_init(&rr->mu, NULL);
	if (pthread_create(&rr->thread, NULL, rollup_main, rr) != 0) {
		rollup_free(rr);
		return NULL;
	}
	return rr;
}

static void rollup_wait(struct rollup_read *rr)
{
	if (rr)
		pthread_join(rr->thread, NULL);
}

/* Lets the thread free rr when it is done, unless it is already. */
static void rollup_abandon(struct rollup_read *rr)
{
	if (!rr)
		return;
	pthread_mutex_lock(&rr->mu);
	rr->abandoned = true;
	bool done = rr->done;
	pthread_mutex_unlock(&rr->mu);
	if (done) {
		pthread_join(rr->thread, NULL);
		rollup_free(rr);
	} else {
		pthread_detach(rr->thread);
	}
}

/* Parses what the thread read into snap (NULL: drops it); frees rr. */
static void keep_rollup(snap_snapshot *snap, struct rollup_read *rr)
{
	if (snap && rr && rr->text &&
	    snap_parse_rollup(snap, rr->text, rr->len, "smaps_rollup", NULL) < 0) {
		snap->rollup = NULL;
		snap->nrollup = 0;
	}
	if (rr)
		rollup_free(rr);
}

int snap_capture_rollup(snap_snapshot *snap, pid_t pid, const snap_capture_opts *opts,
			snap_error *err)
{
	char *text;
	size_t len;
	int rc = check_opts(opts, err);
	if (rc < 0)
		return rc;
	rc = read_proc(opts, pid, "smaps_rollup", &text, &len);
	if (rc < 0)
		return proc_error(err, rc, pid, "smaps_rollup");
	if (len == 0) { /* an exiting process has no page tables left */
		free(text);
		return proc_error(err, SNAP_ENOPROC, pid, "smaps_rollup");
	}
	rc = snap_parse_rollup(snap, text, len, "smaps_rollup", err);
	free(text);
	return rc;
}

int snap_capture_smaps(snap_snapshot *snap, pid_t pid,
		       const snap_capture_opts *opts, snap_region_fn fn,
		       void *ctx, snap_error *err)
{
	char path[PATH_MAX], now[40];
	struct timespec t0, t1;
	struct redact_ctx rctx = { fn, ctx, NULL, err };
	int checked = check_opts(opts, err);
	if (checked < 0)
		return checked;
	if (opts && opts->redact) {
		if ((checked = capture_redaction(&rctx.redaction, snap, opts, pid, err)) < 0)
			return checked;
		fn = redact_then;
		ctx = &rctx;
	}
	struct scan_ctx sctx = { fn, ctx, NULL, err };
	if (!(opts && opts->no_build_ids)) {
		snap_error why;
		if ((checked = snap_file_scan_new(&sctx.scan, &why)) < 0)
			return pid_error(err, checked, pid, &why);
		fn = scan_then;
		ctx = &sctx;
	}
	snprintf(path, sizeof(path), "%s/%ld/smaps", procfs_root(opts), (long)pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snap_file_scan_free(sctx.scan);
		return proc_error(err, errno_status(errno), pid, "smaps");
	}
	struct rollup_read *rr = rollup_start(opts, pid);
	size_t nregions = 0;
	int rc = read_smaps(snap, pid, fd, fn, ctx, &nregions, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == 0 && sctx.scan)
		rc = read_files(snap, opts, pid, sctx.scan, rctx.redaction, err);
	snap_file_scan_free(sctx.scan);
	if (rc != 0) {
		close(fd);
		rollup_abandon(rr);
		return rc;
	}
	rollup_wait(rr);
	/* An exiting process reads as an empty or short smaps, not an error,
	 * and one that runs another program as the regions of either. */
	if (snap->process.known)
		rc = check_consistent(snap, opts, pid, fd, nregions, err);
	close(fd);
	if (rc != 0) {
		keep_rollup(NULL, rr);
		return rc;
	}
	snap->capture_ms = elapsed_ms(&t0, &t1);
	keep_rollup(snap, rr);
	snap_utc_now(now, sizeof(now));
	if (!(snap->captured_end = snap_snapshot_strdup(snap, now)))
		return proc_error(err, SNAP_ENOMEM, pid, "the capture time");
	return SNAP_OK;
}

int snap_capture(snap_snapshot **out, pid_t pid, const snap_capture_opts *opts,
		 snap_error *err)
{
	int rc = SNAP_ECHANGED;
	for (int attempt = 1; rc == SNAP_ECHANGED && attempt <= SNAP_CAPTURE_ATTEMPTS;
	     attempt++) {
		snap_snapshot *snap;
		if ((rc = snap_snapshot_new(&snap, err)) < 0)
			return rc;
		if ((rc = snap_capture_meta(snap, pid, opts, err)) == 0 &&
		    (rc = snap_capture_smaps(snap, pid, opts, NULL, NULL, err)) == 0) {
			*out = snap;
			return SNAP_OK;
		}
		snap_snapshot_free(snap);
	}
	if (rc == SNAP_ECHANGED && err) {
		snap_error last = *err;
		snap_error_set(err, rc, last.source, 0, "%.400s, %d times in a row",
			       last.message, SNAP_CAPTURE_ATTEMPTS);
	}
	return rc;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int snap_find_pids_by_comm(pid_t **out, size_t *count, const char *name,
			   const char *procfs, snap_error *err)
{
	snap_capture_opts opts = { .version = SNAP_CAPTURE_OPTS_VERSION, .procfs = procfs };
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
		parse_stat(snap, text, NULL);
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
