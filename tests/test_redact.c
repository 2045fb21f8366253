/* capture --redact: the policy of libsnap/redact.c through the public API
 * (tokens keyed with SipHash-2-4, paths, names, dropped facts), and
 * through the real binary on a process run as another user from its home
 * directory with arguments: none of its name, its user's name, its home,
 * its uid, the hostname or the boot id may be anywhere in the file. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

static char *tmp;

static int setup(void **state)
{
	(void)state;
	tmp = make_tmpdir();
	return tmp ? 0 : -1;
}

static void drop_user(void);

static int teardown(void **state)
{
	(void)state;
	drop_user();
	remove_tree(tmp);
	free(tmp);
	return 0;
}

static char *in_tmp(const char *name)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", tmp, name) > 0);
	return path;
}

/* A key from a key file holding hex. */
static void key_from_hex(snap_redact *r, const char *hex)
{
	char *path = in_tmp("fixed.key");
	unlink(path);
	assert_int_equal(write_file(path, hex, strlen(hex)), 0);
	bool created = true;
	snap_error err = { 0 };
	assert_int_equal(snap_redact_key_file(r, path, &created, &err), 0);
	assert_false(created);
	free(path);
}

static const char *token(const snap_redact *r, const char *s)
{
	static char buf[4][16];
	static int next;
	char *out = buf[next++ % 4];
	snap_redact_token(r, s, strlen(s), out);
	return out;
}

/* Tokens are SipHash-2-4: the reference vector of its paper (key
 * 00..0f, message 00..0e) is a129ca6149be45e5, of which a token shows
 * the first 48 bits. */
static void test_token_is_keyed_siphash(void **state)
{
	(void)state;
	snap_redact r, other;
	key_from_hex(&r, "000102030405060708090a0b0c0d0e0f\n");
	char msg[15], out[16];
	for (int i = 0; i < 15; i++)
		msg[i] = (char)i;
	snap_redact_token(&r, msg, sizeof(msg), out);
	assert_string_equal(out, "h-a129ca6149be");
	key_from_hex(&other, "0f0e0d0c0b0a09080706050403020100");
	assert_string_equal(token(&r, "alice"), token(&r, "alice"));
	assert_string_not_equal(token(&r, "alice"), token(&other, "alice"));
	assert_string_not_equal(token(&r, "alice"), token(&r, "alicf"));
	/* Random keys differ. */
	assert_int_equal(snap_redact_random(&other, NULL), 0);
	assert_string_not_equal(token(&r, "alice"), token(&other, "alice"));
}

/* A missing key file is created (0600, 32 hex digits) and read back the
 * same; something else is refused, never overwritten. */
static void test_key_file(void **state)
{
	(void)state;
	char *path = in_tmp("new.key");
	snap_redact a, b;
	bool created = false;
	snap_error err = { 0 };
	assert_int_equal(snap_redact_key_file(&a, path, &created, &err), 0);
	assert_true(created);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 33);
	assert_int_equal(snap_redact_key_file(&b, path, &created, &err), 0);
	assert_false(created);
	assert_memory_equal(a.key, b.key, 16);
	assert_int_equal(write_file(path, "precious data\n", 14), 0);
	assert_int_equal(snap_redact_key_file(&b, path, &created, &err), SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "not a redaction key"));
	size_t len;
	char *text = read_file(path, &len);
	assert_string_equal(text, "precious data\n");
	free(text);
	free(path);
}

static void expect_path(snap_snapshot *snap, const snap_redact *r, const char *in,
			const char *want)
{
	const char *got = snap_redact_path(snap, r, in, strlen(in), NULL);
	if (strcmp(got, want) != 0)
		fail_msg("%s -> %s, not %s", in, got, want);
}

/* Paths: the system directories (and those kept) stay; elsewhere each
 * component below a standard top-level directory is a token; kernel
 * names stay, but [anon:] and memfd names are tokens. */
static void test_paths(void **state)
{
	(void)state;
	snap_redact r;
	key_from_hex(&r, "00112233445566778899aabbccddeeff");
	static const char *const keep[] = { "/opt/vendor/" };
	r.keep = keep;
	r.nkeep = 1;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	char want[512];
	static const char *const same[] = {
		"", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
		"/libx32/x.so", "/bin/sh", "/sbin/init", "/etc/ld.so.cache", "[heap]",
		"[stack]", "[vdso]", "/dev/zero (deleted)", "/SYSV0000abcd (deleted)",
		"anon_inode:[perf_event]", "/opt/vendor/lib/libv.so", "/opt/vendor",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(*same); i++)
		expect_path(snap, &r, same[i], same[i]);
	snprintf(want, sizeof(want), "/home/%s/%s/%s", token(&r, "alice"), token(&r, "src"),
		 token(&r, "app.so"));
	expect_path(snap, &r, "/home/alice/src/app.so", want);
	snprintf(want, sizeof(want), "/root/%s (deleted)", token(&r, "x"));
	expect_path(snap, &r, "/root/x (deleted)", want);
	snprintf(want, sizeof(want), "/srv/%s/%s", token(&r, "acme"), token(&r, "db"));
	expect_path(snap, &r, "/srv/acme/db", want);
	snprintf(want, sizeof(want), "/tmp/%s", token(&r, "secret.bin"));
	expect_path(snap, &r, "/tmp/secret.bin", want);
	snprintf(want, sizeof(want), "/opt/%s/%s", token(&r, "acme-internal"), token(&r, "x"));
	expect_path(snap, &r, "/opt/acme-internal/x", want);
	snprintf(want, sizeof(want), "/%s/%s", token(&r, "work"), token(&r, "app"));
	expect_path(snap, &r, "/work/app", want);
	snprintf(want, sizeof(want), "/%s/%s", token(&r, "usrx"), token(&r, "x"));
	expect_path(snap, &r, "/usrx/x", want);
	snprintf(want, sizeof(want), "[anon:%s]", token(&r, "session keys"));
	expect_path(snap, &r, "[anon:session keys]", want);
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", token(&r, "wayland/alice"));
	expect_path(snap, &r, "/memfd:wayland/alice (deleted)", want);
	snprintf(want, sizeof(want), "/dev/shm/%s", token(&r, "alice-cache"));
	expect_path(snap, &r, "/dev/shm/alice-cache", want);
	snprintf(want, sizeof(want), "%s/%s", token(&r, "bin"), token(&r, "tool"));
	expect_path(snap, &r, "bin/tool", want);
	snprintf(want, sizeof(want), "./%s", token(&r, "tool"));
	expect_path(snap, &r, "./tool", want);
	snap_snapshot_free(snap);
}

/* Host and process facts: comm and Name are tokens unless they are the
 * file name of a system executable; only argv[0] stays, redacted; the
 * hostname, boot id, Uid, Gid and Groups go; the kernel keeps its version. */
static void test_meta(void **state)
{
	(void)state;
	snap_redact r;
	key_from_hex(&r, "00112233445566778899aabbccddeeff");
	for (int sys = 0; sys < 2; sys++) {
		snap_snapshot *snap;
		assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
		snap->host.hostname = "build-host-7";
		snap->host.boot_id = "2f1c-boot";
		snap->host.kernel = "6.18.44-fc-v782";
		snap->host.machine = "x86_64";
		snap_process *p = &snap->process;
		p->known = true;
		p->comm = sys ? "python3.11" : "secret-worker-n"; /* 15 bytes */
		p->exe = sys ? "/usr/bin/python3.11" : "/home/alice/bin/secret-worker-name";
		static const char *argv[] = { "secret-worker-name", "--token=abc", "x" };
		const char **args = snap_snapshot_alloc(snap, sizeof(argv));
		memcpy(args, argv, sizeof(argv));
		p->argv = args;
		p->argc = 3;
		snap_kv *kv = snap_snapshot_alloc(snap, 5 * sizeof(*kv));
		kv[0] = (snap_kv){ "Name", p->comm };
		kv[1] = (snap_kv){ "Uid", "1000\t1000\t1000\t1000" };
		kv[2] = (snap_kv){ "Gid", "1000\t1000\t1000\t1000" };
		kv[3] = (snap_kv){ "Groups", "27 1000" };
		kv[4] = (snap_kv){ "VmRSS", "12 kB" };
		p->status = kv;
		p->nstatus = 5;
		assert_int_equal(snap_redact_meta(snap, &r, NULL), 0);
		assert_true(snap->redacted);
		assert_null(snap->host.hostname);
		assert_null(snap->host.boot_id);
		assert_string_equal(snap->host.kernel, "6.18.44");
		assert_string_equal(snap->host.machine, "x86_64");
		assert_int_equal(p->argc, 1);
		assert_int_equal(p->nstatus, 2);
		assert_string_equal(p->status[1].key, "VmRSS");
		if (sys) {
			assert_string_equal(p->comm, "python3.11");
			assert_string_equal(p->exe, "/usr/bin/python3.11");
		} else {
			/* comm cut to 15 bytes still takes its executable's token. */
			const char *t = token(&r, "secret-worker-name");
			assert_string_equal(p->comm, t);
			assert_string_equal(p->status[0].value, t);
			assert_string_equal(p->argv[0], t);
			char want[128];
			snprintf(want, sizeof(want), "/home/%s/%s/%s", token(&r, "alice"),
				 token(&r, "bin"), t);
			assert_string_equal(p->exe, want);
		}
		snap_snapshot_free(snap);
	}
}

/* ---- failures ---- */

/* From here on getrandom(2) fails with ENOSYS, in this process and in
 * what it runs (as under an old kernel or a strict sandbox). */
static int deny_getrandom(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(*code), code };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int without_random_numbers(const char *key, const char *smaps)
{
	snap_redact r;
	snap_error err = { 0 };
	bool created;
	int bad = deny_getrandom() != 0;
	bad |= error_says(snap_redact_random(&r, &err), SNAP_EIO, &err,
			  "no random numbers for a redaction key (getrandom: "
			  "Function not implemented)");
	bad |= snap_redact_random(&r, NULL) != SNAP_EIO;
	bad |= error_says(snap_redact_key_file(&r, key, &created, &err), SNAP_EIO, &err,
			  "no random numbers for a redaction key");
	bad |= strcmp(err.source, key) != 0 || file_exists(key);
	cmd_result res;
	bad |= run_mapsnap(&res, NULL, "capture", "--redact", "--from-smaps", smaps, "-o",
			   "-", NULL) != 0;
	bad |= res.status != 2 || strcmp(res.out, "") != 0 ||
	       strcmp(res.err, "mapsnap: capture: no random numbers for a redaction key "
			       "(getrandom: Function not implemented)\n") != 0;
	if (bad)
		fprintf(stderr, "capture: status %d, stderr: %s", res.status, res.err);
	cmd_result_free(&res);
	return bad;
}

/* Without random numbers there is no key: the library says so, and so
 * does capture --redact, which writes nothing. */
static void test_no_random_numbers(void **state)
{
	(void)state;
	char *key = in_tmp("never.key"), *smaps = in_tmp("plain.smaps");
	const char *text = "00400000-00401000 r-xp 00000000 08:01 42 /home/alice/tool\n"
			   "Size:    4 kB\nRss:     4 kB\n";
	assert_int_equal(write_file(smaps, text, strlen(text)), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(without_random_numbers(key, smaps));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(key);
	free(smaps);
}

struct to_redact {
	snap_redact r;
	snap_snapshot *meta, *regions, *whole;
};

static int redact_without_memory(void *ctx)
{
	struct to_redact *t = ctx;
	snap_error err = { 0 };
	snap_region region = t->regions->regions[0];
	int bad = error_says(snap_redact_region(t->regions, &t->r, &region, &err),
			     SNAP_ENOMEM, &err, "out of memory redacting region 400000-401000");
	bad |= snap_redact_region(t->regions, &t->r, &region, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_redact_meta(t->meta, &t->r, &err), SNAP_ENOMEM, &err,
			  "out of memory redacting the process facts");
	bad |= error_says(snap_redact_snapshot(t->whole, &t->r, &err), SNAP_ENOMEM, &err,
			  "out of memory redacting");
	const char *path = "/home/alice/tool";
	bad |= snap_redact_path(t->regions, &t->r, path, strlen(path), &err) != NULL;
	bad |= error_says(SNAP_ENOMEM, SNAP_ENOMEM, &err,
			  "out of memory redacting a path of 16 bytes");
	bad |= snap_redact_path(t->regions, &t->r, path, strlen(path), NULL) != NULL;
	return bad;
}

static snap_snapshot *snapshot_to_redact(const char *smaps)
{
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_capture_files(snap, smaps, false, &err), 0);
	snap->process.known = true;
	snap->process.comm = "tool";
	snap->process.exe = "/home/alice/tool";
	return snap;
}

/* Out of memory, each redaction says what it was doing. */
static void test_redact_out_of_memory(void **state)
{
	(void)state;
	char *smaps = in_tmp("oom.smaps");
	const char *text = "00400000-00401000 r-xp 00000000 08:01 42 /home/alice/tool\n"
			   "Size:    4 kB\nRss:     4 kB\n";
	assert_int_equal(write_file(smaps, text, strlen(text)), 0);
	struct to_redact t;
	key_from_hex(&t.r, "00112233445566778899aabbccddeeff");
	t.meta = snapshot_to_redact(smaps);
	t.regions = snapshot_to_redact(smaps);
	t.whole = snapshot_to_redact(smaps);
	int rc = run_out_of_memory(redact_without_memory, &t);
	snap_snapshot_free(t.meta);
	snap_snapshot_free(t.regions);
	snap_snapshot_free(t.whole);
	free(smaps);
	assert_int_equal(rc, 0);
}

/* ---- another user's process, through the binary ---- */

struct victim {
	uid_t uid;
	char user[32];
	char *home;
	pid_t pid;
	int to_child;
	char pidtext[16];
};

/* The throwaway user: made with useradd when missing (removed at the
 * end), else the uid alone (the kernel needs no account for setuid). */
static char made_user[32]; /* removed by the teardown, whatever happens */
static pid_t victim_pid;    /* stopped by the teardown too */

static void make_user(struct victim *v)
{
	if (getpwnam(v->user) || access("/usr/sbin/useradd", X_OK) != 0)
		return;
	char uid[16];
	snprintf(uid, sizeof(uid), "%u", (unsigned)v->uid);
	char *argv[] = { "/usr/sbin/useradd", "-M", "-N", "-u", uid, "-d", v->home, "-s",
			 "/usr/sbin/nologin", v->user, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status == 0)
		snprintf(made_user, sizeof(made_user), "%s", v->user);
	else
		print_message("useradd failed (%s); running as uid %s without an account\n",
			      res.err, uid);
	assert_non_null(getpwnam(v->user) ? v->user : uid);
	cmd_result_free(&res);
}

static void drop_user(void)
{
	if (victim_pid > 0) {
		kill(victim_pid, SIGTERM);
		waitpid(victim_pid, NULL, 0);
		victim_pid = 0;
	}
	if (!made_user[0])
		return;
	char *argv[] = { "/usr/sbin/userdel", made_user, NULL };
	cmd_result res;
	if (run_cmd(&res, argv, NULL) == 0)
		cmd_result_free(&res);
	made_user[0] = '\0';
}

/* Copies the helper into the home under the user's name and starts it
 * there, as the user, with arguments naming files of the user. */
static void start_victim(struct victim *v)
{
	char *bin, *arg1, *arg2;
	assert_true(asprintf(&bin, "%s/%s-worker", v->home, v->user) > 0);
	assert_true(asprintf(&arg1, "%s/%s-notes.dat", v->home, v->user) > 0);
	assert_true(asprintf(&arg2, "--secret-%s", v->user) > 0);
	size_t len;
	char *code = read_file(helper_path("homebody"), &len);
	assert_non_null(code);
	assert_int_equal(write_file(bin, code, len), 0);
	free(code);
	assert_int_equal(chmod(bin, 0755), 0);
	assert_int_equal(chown(v->home, v->uid, 100), 0);
	assert_int_equal(chown(bin, v->uid, 100), 0);
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (setgroups(0, NULL) || setgid(100) || setuid(v->uid) || chdir(v->home))
			_exit(126);
		setenv("HOME", v->home, 1);
		char *argv[] = { bin, arg1, arg2 + 2, arg2, NULL };
		execv(bin, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char line[64] = "";
	ssize_t n = read(out[0], line, sizeof(line) - 1);
	close(out[0]);
	if (n <= 0 || strncmp(line, "ready", 5) != 0)
		fail_msg("the helper did not start as uid %u", (unsigned)v->uid);
	v->pid = victim_pid = pid;
	v->to_child = in[1];
	snprintf(v->pidtext, sizeof(v->pidtext), "%d", pid);
	free(bin);
	free(arg1);
	free(arg2);
}

static void stop_victim(struct victim *v)
{
	close(v->to_child);
	waitpid(v->pid, NULL, 0);
	victim_pid = 0;
}

/* A word of text in s: not inside a longer run of letters and digits. */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = s; (p = strstr(p, word)); p++) {
		bool left = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '-');
		bool right = !(isalnum((unsigned char)p[n]) || p[n] == '-');
		if (left && right)
			return true;
	}
	return false;
}

static char *capture_text(const char *pid, bool redact)
{
	cmd_result res;
	if (redact)
		assert_int_equal(run_mapsnap(&res, NULL, "capture", "--redact", pid, "-o", "-",
					     NULL), 0);
	else
		assert_int_equal(run_mapsnap(&res, NULL, "capture", pid, "-o", "-", NULL), 0);
	if (res.status != 0)
		fail_msg("capture: %s", res.err);
	char *text = res.out;
	free(res.err);
	return text;
}

/* The secrets: in the plain capture (so the check can fail), in no
 * byte of the redacted one. */
static void test_other_users_process(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: needs root to run a process as another user\n");
		return;
	}
	struct victim v = { 0 };
	char *base = in_tmp("home");
	assert_int_equal(mkdir(base, 0755), 0);
	assert_int_equal(chmod(tmp, 0755), 0);
	v.uid = 2147000123;
	snprintf(v.user, sizeof(v.user), "msr%u", (unsigned)v.uid);
	assert_true(asprintf(&v.home, "%s/%s", base, v.user) > 0);
	assert_int_equal(mkdir(v.home, 0700), 0);
	make_user(&v);
	start_victim(&v);
	char host[256], uid[16], *boot;
	gethostname(host, sizeof(host));
	snprintf(uid, sizeof(uid), "%u", (unsigned)v.uid);
	size_t len;
	boot = read_file("/proc/sys/kernel/random/boot_id", &len);
	boot[strcspn(boot, "\n")] = '\0';
	const char *secrets[] = { v.user, v.home, strrchr(tmp, '/') + 1, uid, boot,
				  "-worker", "-notes.dat", "--secret-" };
	char *plain = capture_text(v.pidtext, false);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
		if (!strstr(plain, secrets[i]))
			fail_msg("'%s' is not in the plain capture either", secrets[i]);
	assert_true(has_word(plain, host));
	char *red = capture_text(v.pidtext, true);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
		if (strstr(red, secrets[i]))
			fail_msg("'%s' is in the redacted capture:\n%s", secrets[i], red);
	if (has_word(red, host))
		fail_msg("the hostname '%s' is in the redacted capture", host);
	assert_null(strstr(red, "\"Uid\""));
	assert_null(strstr(red, "\"Gid\""));
	assert_null(strstr(red, "\"boot_id\""));
	assert_non_null(strstr(red, "\"redacted\":true"));
	/* The default file name is built from the token. */
	char *dir = in_tmp("out/");
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--redact", v.pidtext, "-o", dir,
				     NULL), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "/mapsnap-h-"));
	assert_null(strstr(res.out, v.user));
	cmd_result_free(&res);
	free(dir);
	free(plain);
	free(red);
	free(boot);
	stop_victim(&v);
	free(v.home);
	free(base);
}

/* One key file, two captures: the same names give the same tokens, so the
 * two redacted snapshots compare; without it each capture has its own. */
static void test_key_file_makes_captures_comparable(void **state)
{
	(void)state;
	helper_proc h;
	char *file = in_tmp("mapped.dat"), *key = in_tmp("team.key");
	char *argv[] = { (char *)helper_path("homebody"), file, NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	cmd_result a, b, c;
	assert_int_equal(run_mapsnap(&a, NULL, "capture", "--redact-key", key, "--redact", pid,
				     "-o", "-", NULL), 0);
	assert_int_equal(a.status, 0);
	assert_non_null(strstr(a.err, "a new redaction key"));
	assert_int_equal(run_mapsnap(&b, NULL, "capture", "--redact", "--redact-key", key, pid,
				     "-o", "-", NULL), 0);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.err, "");
	assert_int_equal(run_mapsnap(&c, NULL, "capture", "--redact", pid, "-o", "-", NULL), 0);
	snap_redact r;
	bool created;
	assert_int_equal(snap_redact_key_file(&r, key, &created, NULL), 0);
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	char *want;
	assert_true(asprintf(&want, "\"path\":\"%s\"",
			     snap_redact_path(snap, &r, file, strlen(file), NULL)) > 0);
	snap_snapshot_free(snap);
	assert_non_null(strstr(a.out, want));
	assert_non_null(strstr(b.out, want));
	assert_null(strstr(c.out, want));
	free(want);
	/* The key itself is written nowhere. */
	char *text = read_file(key, &(size_t){ 0 });
	text[32] = '\0';
	assert_null(strstr(a.out, text));
	free(text);
	cmd_result_free(&a);
	cmd_result_free(&b);
	cmd_result_free(&c);
	/* A series shares one key: its snapshots match by path. */
	char *series = in_tmp("series.json");
	assert_int_equal(run_mapsnap(&a, NULL, "capture", pid, "--every", "100ms", "--count",
				     "2", "--redact", "-o", series, NULL), 0);
	assert_int_equal(a.status, 0);
	cmd_result_free(&a);
	size_t len;
	char *both = read_file(series, &len);
	const char *first = strstr(both, "\"exe\":\""), *second = strstr(first + 1, "\"exe\":\"");
	assert_non_null(second);
	assert_int_equal(strcspn(first, ","), strcspn(second, ","));
	assert_memory_equal(first, second, strcspn(first, ","));
	free(both);
	free(series);
	/* --redact-key wants --redact. */
	assert_int_equal(run_mapsnap(&a, NULL, "capture", "--redact-key", key, pid, NULL), 0);
	assert_int_equal(a.status, 2);
	cmd_result_free(&a);
	helper_stop(&h);
	free(file);
	free(key);
}

/* capture --from-smaps --redact redacts too (it did not). */
static void test_from_smaps(void **state)
{
	(void)state;
	char *smaps = in_tmp("alice.smaps");
	const char *text = "00400000-00401000 r-xp 00000000 08:01 42 /home/alice/bin/tool\n"
			   "Size:    4 kB\nRss:     4 kB\nVmFlags: rd ex \n";
	assert_int_equal(write_file(smaps, text, strlen(text)), 0);
	cmd_result res;
	assert_int_equal(run_mapsnap(&res, NULL, "capture", "--redact", "--from-smaps", smaps,
				     "-o", "-", NULL), 0);
	assert_int_equal(res.status, 0);
	assert_null(strstr(res.out, "alice"));
	assert_null(strstr(res.out, "bin/tool"));
	assert_non_null(strstr(res.out, "\"path\":\"/home/h-"));
	assert_null(strstr(res.out, "\"inode\":42,"));
	cmd_result_free(&res);
	free(smaps);
}

/* --redact-key and --redact-keep without --redact are refused by each
 * form of capture (one check serves all three), with nothing written. */
static void test_key_without_redact(void **state)
{
	(void)state;
	char *out = in_tmp("unredacted.json");
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	const char *forms[][4] = {
		{ pid, NULL },
		{ pid, "--every", "1s", NULL },
		{ "--all", NULL },
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		for (int keep = 0; keep < 2; keep++) {
			char *argv[12];
			int n = 0;
			argv[n++] = (char *)mapsnap_bin();
			argv[n++] = "capture";
			for (int k = 0; forms[i][k]; k++)
				argv[n++] = (char *)forms[i][k];
			argv[n++] = keep ? "--redact-keep" : "--redact-key";
			argv[n++] = keep ? "/opt" : out;
			argv[n++] = "-o";
			argv[n++] = out;
			argv[n] = NULL;
			cmd_result res;
			assert_int_equal(run_cmd(&res, argv, NULL), 0);
			assert_int_equal(res.status, 2);
			assert_non_null(strstr(res.err, "go with --redact"));
			assert_false(file_exists(out));
			cmd_result_free(&res);
		}
	}
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_is_keyed_siphash),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_no_random_numbers),
		cmocka_unit_test(test_redact_out_of_memory),
		cmocka_unit_test(test_other_users_process),
		cmocka_unit_test(test_key_file_makes_captures_comparable),
		cmocka_unit_test(test_from_smaps),
		cmocka_unit_test(test_key_without_redact),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
