/* Shared by the fuzz harnesses: each defines LLVMFuzzerTestOneInput and
 * checks invariants (a snapshot that loads writes back to a document that
 * loads again with the same checksum) by aborting when one breaks. */
#ifndef MAPSNAP_FUZZ_COMMON_H
#define MAPSNAP_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The checksum of snap's regions (which needs memory, like the rest). */
static inline uint64_t fuzz_checksum(const snap_snapshot *snap)
{
	uint64_t sum = 0;
	FUZZ_ASSERT(snap_snapshot_checksum(&sum, snap, NULL) == 0);
	return sum;
}

/* What loaded holds only what a kernel prints: every counter at most
 * SNAP_COUNTER_MAX, Rss within its region. */
static inline void fuzz_check_limits(const snap_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++)
		FUZZ_ASSERT(snap_region_check(snap, &snap->regions[i], NULL) == 0);
	for (size_t i = 0; i < snap->nrollup; i++)
		FUZZ_ASSERT(snap->rollup[i].value <= SNAP_COUNTER_MAX);
}

/* Text for a terminal: no ESC but mapsnap's own colours (when colours),
 * no 0x9b, no control but newline and tab, no DEL, no U+0080..U+009F,
 * only valid UTF-8. */
static inline void fuzz_check_terminal_safe(const char *s, size_t len, bool colours)
{
	static const char *const sgr[] = { "\033[0m", "\033[1m", "\033[2m", "\033[31m",
					   "\033[32m", "\033[33m", "\033[35m", "\033[36m" };
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		if (p[i] == 0x1b && colours) {
			for (size_t k = 0; k < sizeof(sgr) / sizeof(*sgr) && !n; k++)
				if (strlen(sgr[k]) <= len - i &&
				    memcmp(s + i, sgr[k], strlen(sgr[k])) == 0)
					n = strlen(sgr[k]);
		} else if (p[i] >= 0x80) {
			n = snap_utf8_seq(p + i, len - i);
			if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
				n = 0;
		} else if (p[i] != 0x1b && p[i] != 0x7f &&
			   (p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t')) {
			n = 1;
		}
		FUZZ_ASSERT(n > 0);
		i += n;
	}
}

/* Parses data as smaps text into a new snapshot; NULL when refused. */
static inline snap_snapshot *fuzz_parse_smaps(const uint8_t *data, size_t size,
					      size_t split)
{
	snap_snapshot *snap;
	snap_parser *p;
	if (snap_snapshot_new(&snap, NULL) < 0)
		return NULL;
	if (snap_parser_new(&p, snap, "fuzz", NULL, NULL, NULL) < 0) {
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
	fuzz_check_limits(snap);
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
	FUZZ_ASSERT(fuzz_checksum(back) == fuzz_checksum(snap));
	fclose(f);
	free(buf);
	snap_snapshot_free(back);
}

#endif
