/* Snapshot files for libmapsnap's users (snapfile.h): the JSON reader
 * and writer of json_load.c and json_write.c behind snap_ names, plus an
 * atomic save. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "snapfile.h"

int snap_snapshot_read(snap_snapshot **out, FILE *f, const char *source,
		       snap_error *err)
{
	return fmt_json_load(out, f, source ? source : "<stream>", err);
}

int snap_snapshot_load_file(snap_snapshot **out, const char *path,
			    snap_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot open: %s",
				      strerror(errno));
	int rc = fmt_json_load(out, f, path, err);
	fclose(f);
	if (rc == 1)
		return snap_error_set(err, SNAP_EFORMAT, path, 0, "no snapshot in it");
	return rc;
}

bool snap_snapshot_checksum_mismatch(const snap_snapshot *snap)
{
	return fmt_checksum_mismatch(snap);
}

static int write_failed(int rc, const char *source, int saved_errno,
			snap_error *err)
{
	if (rc == SNAP_EIO)
		return snap_error_set(err, rc, source, 0, "write failed: %s",
				      strerror(saved_errno ? saved_errno : EIO));
	if (rc == SNAP_ENOMEM)
		return snap_error_set(err, rc, source, 0, "out of memory");
	return snap_error_set(err, rc, source, 0, "the snapshot is beyond the "
			      "limits of the snapshot format");
}

int snap_snapshot_write(FILE *f, const snap_snapshot *snap, const char *source,
			snap_error *err)
{
	errno = 0;
	int rc = fmt_json_write(f, snap);
	return rc < 0 ? write_failed(rc, source ? source : "<stream>", errno, err) : 0;
}

/* "dir/.name.XXXXXX" beside path, so the rename stays in one file system. */
static char *temp_name_beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dir_len;
	size_t len = dir_len + 1 + strlen(base) + sizeof(".XXXXXX");
	char *tmp = malloc(len);
	if (tmp)
		snprintf(tmp, len, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
	return tmp;
}

int fmt_rename_noreplace(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: link() never replaces. */
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

/* Renames tmp to path; without overwrite never over an existing file. */
static int put_in_place(const char *tmp, const char *path, bool overwrite)
{
	return overwrite ? rename(tmp, path) : fmt_rename_noreplace(tmp, path);
}

static int write_temp(int fd, const snap_snapshot *snap, const char *path,
		      snap_error *err)
{
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		return write_failed(SNAP_EIO, path, e, err);
	}
	int rc = snap_snapshot_write(f, snap, path, err);
	if (rc == 0 && fsync(fd) != 0)
		rc = write_failed(SNAP_EIO, path, errno, err);
	if (fclose(f) != 0 && rc == 0)
		rc = write_failed(SNAP_EIO, path, errno, err);
	return rc;
}

int snap_snapshot_save_file(const char *path, const snap_snapshot *snap,
			    unsigned flags, snap_error *err)
{
	bool overwrite = flags & SNAP_SAVE_OVERWRITE;
	if (flags & ~SNAP_SAVE_OVERWRITE)
		return snap_error_set(err, SNAP_EINVAL, path, 0, "unknown flags %#x",
				      flags);
	if (!overwrite && access(path, F_OK) == 0)
		return snap_error_set(err, SNAP_EEXIST, path, 0, "exists (not replaced)");
	char *tmp = temp_name_beside(path);
	if (!tmp)
		return snap_error_set(err, SNAP_ENOMEM, path, 0, "out of memory");
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int rc = snap_error_set(err, SNAP_EIO, path, 0, "cannot create a "
					"file beside it: %s", strerror(errno));
		free(tmp);
		return rc;
	}
	int rc = write_temp(fd, snap, path, err);
	if (rc == 0 && put_in_place(tmp, path, overwrite) != 0)
		rc = errno == EEXIST
			     ? snap_error_set(err, SNAP_EEXIST, path, 0, "exists (not replaced)")
			     : snap_error_set(err, SNAP_EIO, path, 0, "cannot rename "
					      "into place: %s", strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
