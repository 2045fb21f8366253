/* Shared by the fuzz harnesses: each defines LLVMFuzzerTestOneInput and
 * checks invariants (a snapshot that loads writes back to a document that
 * loads again with the same checksum) by aborting when one breaks. */
#ifndef MAPSNAP_FUZZ_COMMON_H
#define MAPSNAP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                       \
			abort();                                           \
		}                                                          \
	} while (0)

/* Parses data as smaps text into a new snapshot; NULL when refused. */
static inline snap_snapshot *fuzz_parse_smaps(const uint8_t *data, size_t size,
					      size_t split)
{
	snap_snapshot *snap;
	snap_parser *p;
	if (snap_snapshot_new(&snap) < 0)
		return NULL;
	if (snap_parser_new(&p, snap, "fuzz", NULL, NULL) < 0) {
		snap_snapshot_free(snap);
		return NULL;
	}
	if (split > size)
		split = size;
	int rc = snap_parser_feed(p, (const char *)data, split, NULL);
	if (rc == 0)
		rc = snap_parser_feed(p, (const char *)data + split, size - split, NULL);
	if (rc == 0)
		rc = snap_parser_finish(p, NULL);
	snap_parser_free(p);
	if (rc != 0) {
		snap_snapshot_free(snap);
		return NULL;
	}
	return snap;
}

/* Writes snap as JSON and loads it back: it must load, with the same
 * regions and a matching checksum. */
static inline void fuzz_json_round_trip(const snap_snapshot *snap)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FUZZ_ASSERT(f);
	FUZZ_ASSERT(fmt_json_write(f, snap) == 0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	snap_snapshot *back = NULL;
	snap_error err = { 0 };
	int rc = fmt_json_load(&back, f, "round-trip", &err);
	if (rc != 0)
		fprintf(stderr, "reload failed: %s\n", err.message);
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(back->nregions == snap->nregions);
	FUZZ_ASSERT(!fmt_checksum_mismatch(back));
	FUZZ_ASSERT(snap_snapshot_checksum(back) == snap_snapshot_checksum(snap));
	fclose(f);
	free(buf);
	snap_snapshot_free(back);
}

#endif
