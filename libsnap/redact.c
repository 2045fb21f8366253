/* Redaction: what a user may send outside without leaking names. The
 * policy (README, "capture --redact") in one place:
 *
 *   - names become tokens "h-" + 12 hex digits of SipHash-2-4 keyed with
 *     a secret that is never written into a snapshot: random for each
 *     capture run, or shared through a key file by captures that must be
 *     compared. Equal names give equal tokens under one key (so a series
 *     and its diffs still match), and without the key no guess, however
 *     likely (a user name, a project), can be checked against a token;
 *   - paths in the system directories (/usr, /lib*, /bin, /sbin, /etc and
 *     the ones configured) stay; elsewhere every component but a standard
 *     top-level directory is a token; " (deleted)" stays visible;
 *   - [anon:NAME], [anon_shmem:NAME], memfd and /dev/shm names are tokens;
 *   - comm and status Name are tokens, unless they are the file name of an
 *     executable kept in clear; only argv[0] is kept, redacted as a path;
 *   - hostname, boot_id, Uid, Gid and Groups are dropped, the kernel
 *     release is cut to its version numbers, inodes become keyed numbers
 *     (equal files still equal), vendor text lines become tokens. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "internal.h"

/* ---- SipHash-2-4 (Aumasson and Bernstein, 2012) ---- */

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

static uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	const uint8_t *p = data;
	size_t whole = len - len % 8;
	for (size_t i = 0; i < whole; i += 8)
		sip_block(v, le64(p + i));
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	sip_block(v, last);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- keys ---- */

int snap_redact_random(snap_redact *r, snap_error *err)
{
	memset(r, 0, sizeof(*r));
	size_t got = 0;
	while (got < sizeof(r->key)) {
		ssize_t n = getrandom(r->key + got, sizeof(r->key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return snap_error_set(err, SNAP_EIO, NULL, 0,
					      "no random numbers for a redaction key "
					      "(getrandom: %s)",
					      n < 0 ? strerror(errno) : "no bytes");
		got += (size_t)n;
	}
	return SNAP_OK;
}

static int hexdigit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 32 hex digits, then at most a newline. */
static bool parse_key(uint8_t key[16], const char *text, size_t len)
{
	if (len && text[len - 1] == '\n')
		len--;
	if (len != 32)
		return false;
	for (size_t i = 0; i < 16; i++) {
		int hi = hexdigit(text[2 * i]), lo = hexdigit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A new key file: exclusive create, so nothing is ever replaced. */
static int write_key(const snap_redact *r, const char *path, snap_error *err)
{
	char text[34];
	for (size_t i = 0; i < 16; i++)
		snprintf(text + 2 * i, 3, "%02x", r->key[i]);
	text[32] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot create the key file: %s",
				      strerror(errno));
	bool ok = write(fd, text, 33) == 33 && fsync(fd) == 0;
	int e = errno;
	ok &= close(fd) == 0;
	if (!ok) {
		unlink(path);
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot write the key file: %s",
				      strerror(e));
	}
	return SNAP_OK;
}

int snap_redact_key_file(snap_redact *r, const char *path, bool *created,
			 snap_error *err)
{
	char *text;
	size_t len;
	int rc = read_file_all(path, &text, &len);
	*created = false;
	if (rc == -ENOENT) {
		snap_error why;
		if ((rc = snap_redact_random(r, &why)) < 0)
			return snap_error_set(err, rc, path, 0, "%s", why.message);
		*created = true;
		return write_key(r, path, err);
	}
	if (rc < 0)
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot read the key file: %s",
				      strerror(-rc));
	memset(r, 0, sizeof(*r));
	bool ok = parse_key(r->key, text, len);
	free(text);
	if (!ok)
		return snap_error_set(err, SNAP_EFORMAT, path, 0, "not a redaction key "
				      "(32 hex digits, as mapsnap writes one when the file "
				      "does not exist)");
	return SNAP_OK;
}

/* ---- tokens ---- */

void snap_redact_token(const snap_redact *r, const char *s, size_t len, char out[16])
{
	snprintf(out, 16, "h-%012" PRIx64, siphash24(r->key, s, len) >> 16);
}

/* An inode as a keyed number: equal inodes stay equal, 0 (anonymous)
 * stays 0, and the number fits a JSON integer any reader takes. */
static uint64_t redact_inode(const snap_redact *r, uint64_t inode)
{
	uint8_t bytes[14] = "inode:";
	for (int i = 0; i < 8; i++)
		bytes[6 + i] = (uint8_t)(inode >> (8 * i));
	return inode ? 1 + siphash24(r->key, bytes, sizeof(bytes)) % ((1ULL << 40) - 1) : 0;
}

/* ---- paths ---- */

/* Where redacted text is built: a growing buffer in the snapshot's arena
 * would waste the abandoned copies, so a malloc'd one is copied once. */
struct text {
	char *data;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *grown = realloc(t->data, cap);
		if (!grown) {
			t->failed = true;
			return;
		}
		t->data = grown;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void text_token(struct text *t, const snap_redact *r, const char *s, size_t n)
{
	char token[16];
	snap_redact_token(r, s, n, token);
	text_add(t, token, strlen(token));
}

static const char *text_keep(struct text *t, snap_snapshot *snap)
{
	const char *kept = t->failed ? NULL
		: snap_snapshot_strndup(snap, t->data ? t->data : "", t->len);
	free(t->data);
	return kept;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

/* dir itself or anything below it ("/usr" keeps "/usr/x", not "/usrx"). */
static bool below(const char *path, size_t len, const char *dir, size_t dlen)
{
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	return len >= dlen && memcmp(path, dir, dlen) == 0 &&
	       (len == dlen || path[dlen] == '/');
}

static bool system_path(const snap_redact *r, const char *path, size_t len)
{
	static const char *const system[] = { "/usr", "/bin", "/sbin", "/etc" };
	for (size_t i = 0; i < sizeof(system) / sizeof(*system); i++)
		if (below(path, len, system[i], strlen(system[i])))
			return true;
	/* /lib, /lib32, /lib64, /libx32: every top-level lib* directory. */
	if (has_prefix(path, len, "/lib"))
		return true;
	for (size_t i = 0; i < r->nkeep; i++)
		if (below(path, len, r->keep[i], strlen(r->keep[i])))
			return true;
	return false;
}

/* Top-level directories whose name says nothing about anyone. */
static bool standard_top(const char *name, size_t len)
{
	static const char *const tops[] = { "home", "root", "tmp", "var", "srv", "opt",
					    "run", "mnt", "media", "proc", "sys", "snap",
					    "dev", "nix", "boot" };
	for (size_t i = 0; i < sizeof(tops) / sizeof(*tops); i++)
		if (strlen(tops[i]) == len && memcmp(tops[i], name, len) == 0)
			return true;
	return false;
}

/* Tokens for every component of [s, end) but "." and ".."; slashes stay. */
static void components(struct text *t, const snap_redact *r, const char *s,
		       const char *end)
{
	while (s < end) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		const char *stop = slash ? slash : end;
		size_t n = (size_t)(stop - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || !n)
			text_add(t, s, n);
		else
			text_token(t, r, s, n);
		if (slash)
			text_add(t, "/", 1);
		s = slash ? slash + 1 : end;
	}
}

/* [anon:NAME] and [anon_shmem:NAME]: the name is a token. */
static bool bracket_name(struct text *t, const snap_redact *r, const char *p,
			 size_t len)
{
	static const char *const named[] = { "[anon:", "[anon_shmem:" };
	for (size_t i = 0; i < sizeof(named) / sizeof(*named); i++) {
		size_t n = strlen(named[i]);
		if (len > n && has_prefix(p, len, named[i]) && p[len - 1] == ']') {
			text_add(t, p, n);
			text_token(t, r, p + n, len - n - 1);
			text_add(t, "]", 1);
			return true;
		}
	}
	return false;
}

/* The part of an absolute path after what stays in clear: "/memfd:",
 * "/dev/shm/", a standard top-level directory. */
static size_t clear_prefix(const char *p, size_t len)
{
	if (has_prefix(p, len, "/memfd:"))
		return 7;
	if (has_prefix(p, len, "/dev/shm/"))
		return 9;
	const char *slash = len > 1 ? memchr(p + 1, '/', len - 1) : NULL;
	size_t top = slash ? (size_t)(slash - p - 1) : len - 1;
	if (standard_top(p + 1, top))
		return slash ? top + 2 : len;
	return 1;
}

static void redact_name(struct text *t, const snap_redact *r, const char *p, size_t len)
{
	if (len == 0 || system_path(r, p, len) ||
	    (has_prefix(p, len, "/dev/") && !has_prefix(p, len, "/dev/shm/")) ||
	    has_prefix(p, len, "/SYSV") || has_prefix(p, len, "anon_inode:")) {
		text_add(t, p, len);
		return;
	}
	if (p[0] == '[') {
		if (!bracket_name(t, r, p, len))
			text_add(t, p, len); /* [heap], [stack], [vdso]... */
		return;
	}
	bool deleted = len > 10 && memcmp(p + len - 10, " (deleted)", 10) == 0;
	size_t body = deleted ? len - 10 : len;
	size_t keep = p[0] == '/' ? clear_prefix(p, body) : 0;
	text_add(t, p, keep);
	if (has_prefix(p, body, "/memfd:"))
		text_token(t, r, p + keep, body - keep); /* a memfd name may hold '/' */
	else
		components(t, r, p + keep, p + body);
	if (deleted)
		text_add(t, " (deleted)", 10);
}

const char *snap_redact_path(snap_snapshot *snap, const snap_redact *r,
			     const char *path, size_t len, snap_error *err)
{
	struct text t = { 0 };
	redact_name(&t, r, path, len);
	const char *kept = text_keep(&t, snap);
	if (!kept)
		snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory redacting a path "
			       "of %zu bytes", len);
	return kept;
}

/* ---- the snapshot ---- */

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* comm and status Name: kept when they name an executable kept in clear
 * (comm is its file name, cut to 15 bytes), else the token of that file
 * name (so comm, exe and argv[0] agree) or of the name itself. */
static const char *redact_comm(snap_snapshot *snap, const snap_redact *r,
			       const char *name, const char *exe)
{
	const char *base = base_name(exe);
	size_t n = strlen(name);
	bool of_exe = base && n && strncmp(base, name, n) == 0 &&
		      (base[n] == '\0' || n == 15);
	if (of_exe && system_path(r, exe, strlen(exe)))
		return name;
	char token[16];
	if (of_exe)
		snap_redact_token(r, base, strlen(base), token);
	else
		snap_redact_token(r, name, n, token);
	return snap_snapshot_strdup(snap, token);
}

/* argv[0]: a path as paths are; a bare name as comm is. */
static const char *redact_arg0(snap_snapshot *snap, const snap_redact *r,
			       const char *arg, const char *exe)
{
	if (strchr(arg, '/'))
		return snap_redact_path(snap, r, arg, strlen(arg), NULL);
	const char *base = base_name(exe);
	if (base && strcmp(base, arg) == 0 && system_path(r, exe, strlen(exe)))
		return arg;
	char token[16];
	snap_redact_token(r, arg, strlen(arg), token);
	return snap_snapshot_strdup(snap, token);
}

/* "6.18.44-fc-v782" -> "6.18.44": the version says which smaps fields a
 * kernel prints; the rest names a build. */
static const char *kernel_version(snap_snapshot *snap, const char *release)
{
	size_t n = strspn(release, "0123456789.");
	while (n && release[n - 1] == '.')
		n--;
	return n ? snap_snapshot_strndup(snap, release, n) : NULL;
}

static bool dropped_status(const char *key)
{
	return strcmp(key, "Uid") == 0 || strcmp(key, "Gid") == 0 ||
	       strcmp(key, "Groups") == 0;
}

static int redact_status(snap_snapshot *snap, const snap_redact *r, const char *exe)
{
	snap_process *p = &snap->process;
	size_t n = 0, bytes;
	snap_kv *kv = ck_array_size(&bytes, p->nstatus, 1, sizeof(*kv)) ? NULL
		      : snap_snapshot_alloc(snap, bytes);
	if (!kv)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < p->nstatus; i++) {
		if (dropped_status(p->status[i].key))
			continue;
		kv[n] = p->status[i];
		if (strcmp(kv[n].key, "Name") == 0 &&
		    !(kv[n].value = redact_comm(snap, r, kv[n].value, exe)))
			return SNAP_ENOMEM;
		n++;
	}
	p->status = kv;
	p->nstatus = n;
	return SNAP_OK;
}

static int redact_process(snap_snapshot *snap, const snap_redact *r)
{
	snap_process *p = &snap->process;
	/* The exe's real path decides what comm may keep: read it first. */
	const char *exe = p->exe;
	snap->redacted = true;
	snap->host.hostname = NULL;
	snap->host.boot_id = NULL;
	if (snap->host.kernel)
		snap->host.kernel = kernel_version(snap, snap->host.kernel);
	if (!p->known)
		return SNAP_OK;
	if (p->comm && !(p->comm = redact_comm(snap, r, p->comm, exe)))
		return SNAP_ENOMEM;
	if (p->argv && p->argc > 1)
		p->argc = 1;
	if (p->argv && p->argc && !(p->argv[0] = redact_arg0(snap, r, p->argv[0], exe)))
		return SNAP_ENOMEM;
	if (exe && !(p->exe = snap_redact_path(snap, r, exe, strlen(exe), NULL)))
		return SNAP_ENOMEM;
	/* The cgroup path names users (user-1000.slice) and services; the
	 * container id stays comparable as a token. */
	p->cgroup = NULL;
	p->mnt_ns = NULL;
	if (p->container_id) {
		char token[16];
		snap_redact_token(r, p->container_id, strlen(p->container_id), token);
		if (!(p->container_id = snap_snapshot_strdup(snap, token)))
			return SNAP_ENOMEM;
	}
	return redact_status(snap, r, exe);
}

int snap_redact_meta(snap_snapshot *snap, const snap_redact *r, snap_error *err)
{
	int rc = redact_process(snap, r);
	if (rc < 0)
		return snap_error_set(err, rc, NULL, 0, "out of memory redacting the "
				      "process facts");
	return SNAP_OK;
}

void snap_redact_files(snap_snapshot *snap, const snap_redact *r)
{
	for (size_t i = 0; i < snap->nfiles; i++)
		snap->files[i].inode = redact_inode(r, snap->files[i].inode);
}

/* Vendor text lines (Android's Name:) name things too: tokens. */
static int redact_texts(snap_snapshot *snap, const snap_redact *r, snap_region *region)
{
	size_t bytes;
	if (ck_array_size(&bytes, region->nentries, 1, sizeof(snap_entry)))
		return SNAP_ENOMEM;
	snap_entry *copy = snap_snapshot_alloc(snap, bytes);
	if (!copy)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < region->nentries; i++) {
		copy[i] = region->entries[i];
		if (!copy[i].is_text)
			continue;
		char token[16];
		snap_redact_token(r, copy[i].text, strlen(copy[i].text), token);
		if (!(copy[i].text = snap_snapshot_strdup(snap, token)))
			return SNAP_ENOMEM;
	}
	region->entries = copy;
	return SNAP_OK;
}

static int redact_region(snap_snapshot *snap, const snap_redact *r, snap_region *region)
{
	const char *path = snap_redact_path(snap, r, region->path, region->path_len, NULL);
	if (!path)
		return SNAP_ENOMEM;
	region->path = path;
	region->path_len = (uint32_t)strlen(path);
	region->inode = redact_inode(r, region->inode);
	for (size_t i = 0; i < region->nentries; i++)
		if (region->entries[i].is_text)
			return redact_texts(snap, r, region);
	return SNAP_OK;
}

int snap_redact_region(snap_snapshot *snap, const snap_redact *r, snap_region *region,
		       snap_error *err)
{
	if (redact_region(snap, r, region) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory redacting "
				      "region %" PRIx64 "-%" PRIx64, region->start,
				      region->end);
	return SNAP_OK;
}

int snap_redact_snapshot(snap_snapshot *snap, const snap_redact *r, snap_error *err)
{
	int rc = snap_redact_meta(snap, r, err);
	snap_redact_files(snap, r);
	for (size_t i = 0; rc == SNAP_OK && i < snap->nregions; i++)
		rc = snap_redact_region(snap, r, &snap->regions[i], err);
	return rc;
}
