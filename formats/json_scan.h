/* Private to the snapshot JSON loader: a strict JSON scanner (RFC 8259)
 * over a document held in memory, and the fast path that reads the
 * "regions" array straight into the model without building a tree. */
#ifndef MAPSNAP_JSON_SCAN_H
#define MAPSNAP_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Where scanning failed: the position and a message for "invalid JSON". */
struct jscan {
	const char *start; /* the document, for line numbers */
	const char *end;
	const char *error_at;
	const char *error;
};

/* Skips white space. */
const char *jscan_ws(const char *p, const char *end);
/* Validates one JSON value at p and returns its end, or NULL (js->error
 * set). Strings are checked for escapes, control bytes and UTF-8. */
const char *jscan_value(struct jscan *js, const char *p, int depth);
/* Lowercase hex of 1 to 16 digits (the snapshot's address form). */
bool jscan_hex(const char *s, uint64_t *out);
/* The 1-based line of a position. */
long jscan_line(const struct jscan *js, const char *at);

/* Reads the regions array [p, end) (already validated by jscan_value) into
 * snap; layout is the document's "fields". Errors name the source and the
 * region. */
int jregions_load(snap_snapshot *snap, const char *p, const char *end,
		  const uint32_t *layout, size_t nlayout, const char *source,
		  snap_error *err);

#endif
