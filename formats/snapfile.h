/*
 * snapfile.h: snapshot files for programs using libmapsnap.
 *
 * A snapshot file is the JSON document `mapsnap capture` writes (schema
 * and limits: formats/README.md); a series file holds several, one after
 * another. These calls read and write them; they are part of the
 * installed library (`#include <mapsnap/snapfile.h>`) and wrap the JSON
 * code of formats/, so that libsnap itself stays free of JSON.
 *
 * Conventions as in snap.h: 0 or a negative SNAP_E* code, with the
 * caller's snap_error (may be NULL) naming the file and what is wrong.
 */
#ifndef SNAP_SNAPFILE_H
#define SNAP_SNAPFILE_H

#include "snap.h"

/* ---- reading ------------------------------------------------------------- */

/* Reads the next snapshot document from f; `source` names f in errors.
 * Returns 0 with *out set (the caller frees it with snap_snapshot_free),
 * 1 at a clean end of input (nothing but white space was left), or a
 * negative code: SNAP_EFORMAT for a document that is not a valid
 * snapshot, SNAP_ETRUNC when f ends inside a document (a series whose
 * writer was stopped mid-append: the documents before it are complete),
 * SNAP_EIO when reading failed, SNAP_ENOMEM. Each document is validated
 * whole before it is returned. */
int snap_snapshot_read(snap_snapshot **out, FILE *f, const char *source,
		       snap_error *err);

/* Loads the first snapshot of the file at path (the only one of a file
 * `mapsnap capture` wrote). SNAP_EIO when the file cannot be opened or
 * read, SNAP_EFORMAT when it holds no snapshot or an invalid one, and
 * the codes of snap_snapshot_read(). */
int snap_snapshot_load_file(snap_snapshot **out, const char *path,
			    snap_error *err);

/* True when snap was loaded from a document whose stored checksum its
 * content does not match: the file was edited or corrupted after it was
 * written. False when it matches or the document carried none
 * (snap->has_stored_checksum says which). */
bool snap_snapshot_checksum_mismatch(const snap_snapshot *snap);

/* ---- writing ------------------------------------------------------------- */

/* Writes snap to f as one JSON document followed by a newline, with its
 * checksum; appending documents to one stream makes a series. SNAP_EIO
 * when writing failed (err names `source`, which may be NULL for
 * "<stream>"), SNAP_EINVAL for a snapshot the format cannot hold. */
int snap_snapshot_write(FILE *f, const snap_snapshot *snap, const char *source,
			snap_error *err);

/* Flags of snap_snapshot_save_file(). */
#define SNAP_SAVE_OVERWRITE 1u /* replace a file already at path */

/* Saves snap to the file at path, atomically: the document goes to a
 * temporary file in the same directory, is flushed to disk, then renamed
 * to path, so a reader sees the old file or the whole new one, never a
 * part. Without SNAP_SAVE_OVERWRITE an existing path is left alone and
 * the call gives SNAP_EEXIST. On any failure nothing is left behind. A
 * new file is readable by its owner only (mode 0600, as mkstemp makes
 * it): a snapshot names the process's files and command line. */
int snap_snapshot_save_file(const char *path, const snap_snapshot *snap,
			    unsigned flags, snap_error *err);

#endif
