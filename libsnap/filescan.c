/* What a capture reads of each mapped file, once per dev and inode: its
 * build-id (PROCMAP_QUERY, else the ELF note of the file as the process
 * maps it, else a content hash), the .bss its loads map, and for a
 * deleted mapping what sits at its path now. The file is opened through
 * /proc/PID/map_files/START-END (the very file mapped, deleted or in
 * another mount namespace), else through /proc/PID/root/PATH. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The first mapping seen of one file. */
struct file_ref {
	uint64_t start, end, inode;
	uint32_t dev_major, dev_minor;
	bool deleted;
	char *path; /* without " (deleted)" */
};

struct snap_file_scan {
	struct file_ref *refs;
	size_t n, cap;
	u64map seen; /* dev and inode -> index */
};

int snap_file_scan_new(snap_file_scan **out, snap_error *err)
{
	snap_file_scan *s = calloc(1, sizeof(*s));
	if (!s || u64map_init(&s->seen, 64) < 0) {
		free(s);
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0,
				      "out of memory creating a scan of the mapped files");
	}
	*out = s;
	return SNAP_OK;
}

void snap_file_scan_free(snap_file_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->refs[i].path);
	free(s->refs);
	u64map_free(&s->seen);
	free(s);
}

static uint64_t file_key(uint32_t major, uint32_t minor, uint64_t inode)
{
	uint64_t v[2] = { (uint64_t)major << 32 | minor, inode };
	return snap_hash64(v, sizeof(v));
}

/* Only regular files have an identity to read; the kernel's pseudo
 * files (memfd, SysV, /dev/zero) are shared memory, not builds. */
static bool worth_reading(const snap_region *r)
{
	static const char *const skip[] = { "/memfd:", "/SYSV", "/dev/", "/[aio]",
					    "/drm mm object", "/anon_hugepage" };
	if (r->inode == 0 || r->path[0] != '/')
		return false;
	for (size_t k = 0; k < sizeof(skip) / sizeof(*skip); k++)
		if (strncmp(r->path, skip[k], strlen(skip[k])) == 0)
			return false;
	return true;
}

/* Nothing is kept of a file it could not note, so a call again retries. */
static int note_file(snap_file_scan *s, const snap_region *r)
{
	uint64_t key = file_key(r->dev_major, r->dev_minor, r->inode);
	bool added;
	if (u64map_get(&s->seen, key))
		return SNAP_OK;
	if (array_grow(&s->refs, &s->cap, s->n, sizeof(*s->refs), 32) < 0)
		return SNAP_ENOMEM;
	struct file_ref *f = &s->refs[s->n];
	bool deleted;
	size_t len = snap_path_undeleted(r, &deleted);
	*f = (struct file_ref){ r->start, r->end, r->inode, r->dev_major, r->dev_minor,
				deleted, strndup(r->path, len) };
	if (!f->path)
		return SNAP_ENOMEM;
	if (!u64map_put(&s->seen, key, (uint32_t)s->n, &added)) {
		free(f->path);
		return SNAP_ENOMEM;
	}
	s->n++;
	return SNAP_OK;
}

int snap_file_scan_add(snap_file_scan *s, const snap_region *r, snap_error *err)
{
	if (worth_reading(r) && note_file(s, r) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory noting "
				      "the mapped file %.*s", (int)r->path_len, r->path);
	return SNAP_OK;
}

size_t snap_file_scan_count(const snap_file_scan *s)
{
	return s->n;
}

/* ---- reading one file ---- */

static bool same_inode(int fd, const struct file_ref *f)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == f->inode;
}

/* The mapped file itself: map_files needs CAP_SYS_ADMIN (or, since 5.9,
 * CAP_CHECKPOINT_RESTORE); the path as the process sees it otherwise. */
static int open_mapped(const char *procfs, pid_t pid, const struct file_ref *f)
{
	char path[SNAP_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%d/map_files/%" PRIx64 "-%" PRIx64, procfs,
		 (int)pid, f->start, f->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && !f->deleted && pid > 0) {
		snprintf(path, sizeof(path), "%s/%d/root%s", procfs, (int)pid, f->path);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0 && pid <= 0)
		fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0 && !same_inode(fd, f)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Build-id and .bss from the open file: the note, else a content hash. */
static void read_identity(int fd, snap_build_id *id, int64_t *bss)
{
	snap_elf_facts facts;
	if (snap_elf_read(&facts, fd, NULL) == SNAP_OK && facts.elf) {
		*bss = (int64_t)facts.bss_bytes;
		if (!id->len && facts.build_id.len)
			*id = facts.build_id;
	}
	if (!id->len)
		snap_file_fallback_id(id, fd, NULL);
}

/* What is at a deleted file's path now (nothing, or another file). */
static void read_at_path(const char *procfs, pid_t pid, const struct file_ref *f,
			 snap_file *out)
{
	char path[SNAP_PATH_MAX + 64];
	if (pid > 0)
		snprintf(path, sizeof(path), "%s/%d/root%s", procfs, (int)pid, f->path);
	else
		snprintf(path, sizeof(path), "%s", f->path);
	out->at_path_known = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	struct stat st;
	int64_t ignored;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		read_identity(fd, &out->at_path, &ignored);
	close(fd);
}

static void describe(const snap_file_scan_opts *o, int maps_fd, const struct file_ref *f,
		     snap_file *out)
{
	memset(out, 0, sizeof(*out));
	out->dev_major = f->dev_major;
	out->dev_minor = f->dev_minor;
	out->inode = f->inode;
	out->bss_bytes = -1;
	if (maps_fd >= 0)
		snap_procmap_build_id(maps_fd, f->start, &out->build_id, NULL);
	int fd = open_mapped(o->procfs, o->pid, f);
	if (fd >= 0) {
		read_identity(fd, &out->build_id, &out->bss_bytes);
		close(fd);
	}
	if (f->deleted)
		read_at_path(o->procfs, o->pid, f, out);
}

/* /proc/PID/maps for PROCMAP_QUERY, when the kernel has it (6.11). */
static int open_query(const snap_file_scan_opts *o)
{
	char path[SNAP_PATH_MAX + 64];
	snap_build_id probe;
	if (o->pid <= 0 || o->no_procmap_query)
		return -1;
	snprintf(path, sizeof(path), "%s/%d/maps", o->procfs, (int)o->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Address 0 holds no mapping: ENOENT from a kernel that knows the
	 * ioctl, ENOTTY (SNAP_EINVAL) from one before 6.11. */
	if (fd >= 0 && snap_procmap_build_id(fd, 0, &probe, NULL) == SNAP_EINVAL) {
		close(fd);
		return -1;
	}
	return fd;
}

int snap_file_scan_opts_init(snap_file_scan_opts *opts, unsigned int version)
{
	if (version != SNAP_FILE_SCAN_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	return SNAP_OK;
}

int snap_file_scan_read(snap_file_scan *s, snap_snapshot *snap,
			const snap_file_scan_opts *opts, snap_error *err)
{
	int rc = opts_version_check(opts->version, SNAP_FILE_SCAN_OPTS_VERSION,
				    "snap_file_scan_opts", err);
	if (rc < 0)
		return rc;
	snap_file_scan_opts o = *opts;
	if (!o.procfs)
		o.procfs = "/proc";
	int maps_fd = open_query(&o);
	for (size_t i = 0; i < s->n && rc == SNAP_OK; i++) {
		snap_file file;
		describe(&o, maps_fd, &s->refs[i], &file);
		rc = snap_snapshot_add_file(snap, &file, err);
	}
	if (maps_fd >= 0)
		close(maps_fd);
	return rc;
}
