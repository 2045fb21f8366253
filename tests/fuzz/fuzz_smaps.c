/* The smaps text parser, fed in two pieces split anywhere; what it
 * accepts must survive JSON and smaps text round trips. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split = size ? data[0] % (size + 1) : 0;
	snap_snapshot *snap = fuzz_parse_smaps(data, size, split);
	if (!snap)
		return 0;
	fuzz_json_round_trip(snap);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_ASSERT(fmt_smaps_write(f, snap) == 0);
	fclose(f);
	/* What we write is smaps text we accept, with the same regions. */
	snap_snapshot *again = fuzz_parse_smaps((const uint8_t *)text, len, len / 2);
	FUZZ_ASSERT(again);
	FUZZ_ASSERT(again->nregions == snap->nregions);
	FUZZ_ASSERT(snap_snapshot_checksum(again) == snap_snapshot_checksum(snap));
	snap_snapshot_free(again);
	free(text);
	snap_snapshot_free(snap);
	return 0;
}
