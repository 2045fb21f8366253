/* The smaps text parser, fed in two pieces split anywhere; what it
 * accepts must survive JSON and smaps text round trips, and show
 * --explain gives each of its regions one row. */
#include "fuzz_common.h"

/* Process line, header, a row per region, total, a blank line and the
 * five lines on thread stacks (no name holds a newline: smaps escapes
 * it as \012). */
static void explain(const snap_snapshot *snap)
{
	snap_identity *id = NULL;
	FUZZ_ASSERT(snap_identity_new(&id, snap, NULL) == 0);
	char *text = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_ASSERT(fmt_explain_text(f, id, NULL) == 0);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	FUZZ_ASSERT(lines == snap->nregions + 9);
	free(text);
	snap_identity_free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split = size ? data[0] % (size + 1) : 0;
	snap_snapshot *snap = fuzz_parse_smaps(data, size, split);
	if (!snap)
		return 0;
	fuzz_json_round_trip(snap);
	explain(snap);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_ASSERT(fmt_smaps_write(f, snap) == 0);
	fclose(f);
	/* What we write is smaps text we accept, with the same regions. */
	snap_snapshot *again = fuzz_parse_smaps((const uint8_t *)text, len, len / 2);
	FUZZ_ASSERT(again);
	FUZZ_ASSERT(again->nregions == snap->nregions);
	FUZZ_ASSERT(fuzz_checksum(again) == fuzz_checksum(snap));
	snap_snapshot_free(again);
	free(text);
	snap_snapshot_free(snap);
	return 0;
}
