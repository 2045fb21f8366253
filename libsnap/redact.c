/* Redaction: what a user may send outside without leaking names. Home
 * directory components become stable tokens so two snapshots redacted
 * alike still match by path in a diff. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t component_len(const char *s, const char *end)
{
	const char *slash = memchr(s, '/', (size_t)(end - s));
	return slash ? (size_t)(slash - s) : (size_t)(end - s);
}

/* Writes the token that stands for one path component. */
static size_t put_token(char *out, const char *comp, size_t len)
{
	uint64_t h = snap_hash64(comp, len);
	return (size_t)sprintf(out, "h-%08" PRIx64, h >> 32);
}

static bool under_home(const char *path, size_t len)
{
	return len > 6 && (memcmp(path, "/home/", 6) == 0 ||
			   memcmp(path, "/root/", 6) == 0);
}

const char *snap_redact_path(snap_snapshot *snap, const char *path, size_t len)
{
	const char *end = path + len;
	const char *rest;
	size_t root_len;
	/* The path may be the name column of a mapping: only absolute paths
	 * under a home directory are rewritten. */
	if (!under_home(path, len))
		return snap_snapshot_strndup(snap, path, len);
	root_len = 6;
	rest = path + root_len;
	/* Worst case every component grows to a 10-byte token. */
	char *out = snap_snapshot_alloc(snap, len + 16 * (len / 2 + 2));
	if (!out)
		return NULL;
	memcpy(out, path, root_len);
	size_t n = root_len;
	while (rest < end) {
		size_t clen = component_len(rest, end);
		/* A " (deleted)" suffix on the last component stays visible. */
		const char *suffix = NULL;
		size_t slen = 0;
		if (rest + clen == end && clen > 10 &&
		    memcmp(rest + clen - 10, " (deleted)", 10) == 0) {
			suffix = " (deleted)";
			slen = 10;
			clen -= 10;
		}
		n += put_token(out + n, rest, clen);
		if (suffix) {
			memcpy(out + n, suffix, slen);
			n += slen;
		}
		rest += clen + slen;
		if (rest < end && *rest == '/') {
			out[n++] = '/';
			rest++;
		}
	}
	out[n] = '\0';
	return out;
}

int snap_redact_region(snap_snapshot *snap, snap_region *r)
{
	if (!under_home(r->path, r->path_len))
		return SNAP_OK;
	const char *path = snap_redact_path(snap, r->path, r->path_len);
	if (!path)
		return SNAP_ENOMEM;
	r->path = path;
	r->path_len = strlen(path);
	return SNAP_OK;
}
