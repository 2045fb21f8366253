#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "util.h"

const char *mapsnap_bin(void)
{
	const char *bin = getenv("MAPSNAP");
	return bin && *bin ? bin : "./mapsnap";
}

const char *helper_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("MAPSNAP_HELPERS");
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "build/helpers",
		 name);
	return path;
}

struct sink {
	char *data;
	size_t len, cap;
};

static void sink_add(struct sink *s, const char *buf, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->data = realloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, buf, n);
	s->len += n;
	s->data[s->len] = '\0';
}

/* Feeds stdin and drains stdout/stderr together so no pipe fills up. */
static void pump(int in_fd, const char *stdin_text, int out_fd, int err_fd,
		 struct sink *out, struct sink *err)
{
	size_t in_left = stdin_text ? strlen(stdin_text) : 0;
	const char *in_pos = stdin_text;
	if (in_fd >= 0 && !in_left) {
		close(in_fd);
		in_fd = -1;
	}
	while (out_fd >= 0 || err_fd >= 0) {
		struct pollfd fds[3] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 },
					 { in_fd, POLLOUT, 0 } };
		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			break;
		char buf[65536];
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sink_add(i == 0 ? out : err, buf, (size_t)n);
			} else {
				close(fds[i].fd);
				if (i == 0)
					out_fd = -1;
				else
					err_fd = -1;
			}
		}
		if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in_fd, in_pos, in_left);
			if (n > 0) {
				in_pos += n;
				in_left -= (size_t)n;
			}
			if (n <= 0 || !in_left) {
				close(in_fd);
				in_fd = -1;
			}
		}
	}
	if (in_fd >= 0)
		close(in_fd);
}

int run_cmd(cmd_result *res, char *const argv[], const char *stdin_text)
{
	int in[2], out[2], err[2];
	memset(res, 0, sizeof(*res));
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]);
		close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	struct sink so = { 0 }, se = { 0 };
	sink_add(&so, "", 0);
	sink_add(&se, "", 0);
	pump(in[1], stdin_text, out[0], err[0], &so, &se);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->out = so.data;
	res->out_len = so.len;
	res->err = se.data;
	res->status = WIFEXITED(status) ? WEXITSTATUS(status)
					: 128 + WTERMSIG(status);
	return 0;
}

void cmd_result_free(cmd_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* argv[0] the binary, then ap's arguments up to NULL (63 at most). */
static int mapsnap_argv(char *argv[64], va_list ap)
{
	int n = 0;
	argv[n++] = (char *)mapsnap_bin();
	char *arg;
	while ((arg = va_arg(ap, char *)) && n < 63)
		argv[n++] = arg;
	argv[n] = NULL;
	return n;
}

int run_mapsnap(cmd_result *res, const char *stdin_text, ...)
{
	char *argv[64];
	va_list ap;
	va_start(ap, stdin_text);
	mapsnap_argv(argv, ap);
	va_end(ap);
	return run_cmd(res, argv, stdin_text);
}

cmd_result run_mapsnap_ok(int want, ...)
{
	char *argv[64];
	va_list ap;
	va_start(ap, want);
	int n = mapsnap_argv(argv, ap);
	va_end(ap);
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != want)
		fail_msg("%s %s: exit %d, not %d: %s", argv[1], argv[n - 1], res.status,
			 want, res.err);
	return res;
}

static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char c;
		ssize_t got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

int helper_start(helper_proc *h, char *const argv[])
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]);
		close(out[0]); close(out[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->pid = pid;
	h->to_child = in[1];
	h->from_child = out[0];
	char line[256];
	if (read_line(h->from_child, line, sizeof(line)) < 0 ||
	    strncmp(line, "ready", 5) != 0) {
		helper_stop(h);
		return -1;
	}
	return 0;
}

int helper_command(helper_proc *h, const char *line, char *reply, size_t size)
{
	size_t n = strlen(line);
	if (write(h->to_child, line, n) != (ssize_t)n || write(h->to_child, "\n", 1) != 1)
		return -1;
	return read_line(h->from_child, reply, size);
}

void helper_stop(helper_proc *h)
{
	if (h->pid <= 0)
		return;
	close(h->to_child);
	close(h->from_child);
	kill(h->pid, SIGCONT);
	/* Closing stdin ends a helper: wait for its exit (the pidfd becomes
	 * readable). One still there after ten seconds is stuck and gets
	 * SIGKILL, so that a failing test cannot hang the suite. */
	int pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	struct pollfd p = { pidfd, POLLIN, 0 };
	if (pidfd >= 0 && poll(&p, 1, 10000) == 0)
		kill(h->pid, SIGKILL);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	h->pid = 0;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct sink s = { 0 };
	sink_add(&s, "", 0);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sink_add(&s, buf, n);
	fclose(f);
	if (len)
		*len = s.len;
	return s.data;
}

int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/mapsnap-test-XXXXXX", base && *base ? base : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

void remove_tree(const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };
	cmd_result res;
	if (run_cmd(&res, argv, NULL) == 0)
		cmd_result_free(&res);
}

bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int private_mounts(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		return -1;
	/* Nothing mounted here may show outside, nor the other way. */
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

int freeze_proc(pid_t pid, const char *dir, const char *const *names)
{
	for (; *names; names++) {
		char live[128], saved[4200];
		size_t len;
		snprintf(live, sizeof(live), "/proc/%ld/%s", (long)pid, *names);
		snprintf(saved, sizeof(saved), "%s/frozen-%ld-%s", dir, (long)pid, *names);
		char *text = read_file(live, &len);
		int rc = text ? write_file(saved, text, len) : -1;
		free(text);
		if (rc != 0 || mount(saved, live, NULL, MS_BIND, NULL) != 0)
			return -1;
	}
	return 0;
}

void thaw_proc(pid_t pid, const char *const *names)
{
	for (; *names; names++) {
		char live[128];
		snprintf(live, sizeof(live), "/proc/%ld/%s", (long)pid, *names);
		umount2(live, MNT_DETACH);
	}
}

int stop_and_wait(pid_t pid)
{
	int status;
	if (kill(pid, SIGSTOP) != 0)
		return -1;
	while (waitpid(pid, &status, WUNTRACED) < 0)
		if (errno != EINTR)
			return -1;
	return WIFSTOPPED(status) ? 0 : -1;
}

size_t series_count(const char *path, bool *cut)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	*cut = false;
	while (f) {
		snap_snapshot *snap;
		int rc = fmt_json_load(&snap, f, path, NULL);
		if (rc != 0) {
			*cut = rc == SNAP_ETRUNC;
			break;
		}
		snap_snapshot_free(snap);
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

bool series_wait(const char *path, size_t n, pid_t writer)
{
	int in = inotify_init1(IN_CLOEXEC);
	int pidfd = (int)syscall(SYS_pidfd_open, writer, 0);
	char *dir = strdup(path), *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	bool ok = in >= 0 && pidfd >= 0 &&
		  inotify_add_watch(in, slash ? dir : ".",
				    IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE) >= 0;
	free(dir);
	bool cut;
	while (ok && series_count(path, &cut) < n) {
		struct pollfd p[2] = { { in, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			ok = errno == EINTR;
			continue;
		}
		if (p[1].revents) {
			ok = series_count(path, &cut) >= n; /* its last word */
			break;
		}
		char buf[4096];
		if (read(in, buf, sizeof(buf)) < 0 && errno != EINTR)
			ok = false;
	}
	if (pidfd >= 0)
		close(pidfd);
	if (in >= 0)
		close(in);
	return ok;
}

/* mapsnap with stdout and stderr into files, stop signals at default
 * (whatever this test inherited: `make check &` ignores SIGINT). */
static pid_t spawn_to_files(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fi = open("/dev/null", O_RDONLY);
	dup2(fi, 0);
	dup2(fo, 1);
	dup2(fe, 2);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

int capture_in_lockstep(cmd_result *res, helper_proc *h, const char *path,
			const char *every, size_t count, const char *ticks)
{
	char pid[16], count_text[16], out[4300], err[4300], cmd[64], reply[16];
	snprintf(pid, sizeof(pid), "%ld", (long)h->pid);
	snprintf(count_text, sizeof(count_text), "%zu", count);
	snprintf(out, sizeof(out), "%s.out", path);
	snprintf(err, sizeof(err), "%s.err", path);
	snprintf(cmd, sizeof(cmd), "tick %s", ticks);
	char *argv[] = { (char *)mapsnap_bin(), "capture", pid, "--every", (char *)every,
			 "--count", count_text, "-o", (char *)path, NULL };
	memset(res, 0, sizeof(*res));
	pid_t cap = spawn_to_files(argv, out, err);
	if (cap < 0)
		return -1;
	int rc = 0, status;
	for (size_t k = 1; k < count && rc == 0; k++)
		if (!series_wait(path, k, cap) ||
		    helper_command(h, cmd, reply, sizeof(reply)) != 0)
			rc = -1;
	while (waitpid(cap, &status, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res->out = read_file(out, &res->out_len);
	res->err = read_file(err, NULL);
	unlink(out);
	unlink(err);
	return rc || !res->out || !res->err ? -1 : 0;
}

int build_shared_library(const char *code, const char *out, const char *flags)
{
	char src[4200], buf[512];
	char *argv[16] = { "cc", "-shared", "-fPIC" };
	size_t argc = 3;
	snprintf(src, sizeof(src), "%s.c", out);
	if (write_file(src, code, strlen(code)) != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", flags);
	for (char *tok = strtok(buf, " "); tok && argc < 12; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc++] = "-o";
	argv[argc++] = (char *)out;
	argv[argc++] = src;
	argv[argc] = NULL;
	cmd_result res;
	if (run_cmd(&res, argv, NULL) != 0)
		return -1;
	int status = res.status;
	if (status != 0)
		fprintf(stderr, "cc -shared %s: exit %d: %s\n", src, status, res.err);
	cmd_result_free(&res);
	int fd = status == 0 ? open(out, O_RDONLY) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return status == 0 && fd >= 0 ? 0 : -1;
}

/* ---- failures on demand ---- */

#if !defined(__SANITIZE_ADDRESS__)
static long mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0;
	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

/* The stack is address space too: map what fn may need before the limit. */
static void __attribute__((noinline)) grow_stack(void)
{
	volatile char deep[512 * 1024];
	for (size_t i = 0; i < sizeof(deep); i += 4096)
		deep[i] = 0;
}

int run_out_of_memory(int (*fn)(void *ctx), void *ctx)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		grow_stack();
		rlim_t now = (rlim_t)mapped_bytes() + (1 << 20);
		struct rlimit limit = { now, now };
		if (setrlimit(RLIMIT_AS, &limit) != 0)
			_exit(120);
		/* Take what malloc still holds: large blocks, then every size
		 * of small chunk (glibc keeps freed ones in a list per size). */
		for (size_t size = 1 << 20; size > 1024; size /= 2)
			while (malloc(size))
				;
		for (size_t size = 1024; size; size -= 8)
			while (malloc(size))
				;
		if (malloc(1))
			_exit(121);
		_exit(fn(ctx) & 0xff);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
#else
int run_out_of_memory(int (*fn)(void *ctx), void *ctx)
{
	(void)fn;
	(void)ctx;
	return 0;
}
#endif

int error_says(int rc, int want, const snap_error *err, const char *text)
{
	if (rc == want && strstr(err->message, text))
		return 0;
	char buf[1100];
	fprintf(stderr, "returned %d (want %d), error '%s' (want '%s' in it)\n", rc, want,
		snap_error_format(err, buf, sizeof(buf)), text);
	return 1;
}
