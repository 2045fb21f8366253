/* The snapshot JSON loader on a stream of documents; every document it
 * accepts writes back to one it accepts again. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	for (int docs = 0; docs < 8; docs++) {
		snap_snapshot *snap = NULL;
		snap_error err = { 0 };
		int rc = fmt_json_load(&snap, f, "fuzz", &err);
		if (rc != 0) {
			FUZZ_ASSERT(rc == 1 || err.message[0]);
			break;
		}
		if (!fmt_checksum_mismatch(snap))
			fuzz_json_round_trip(snap);
		snap_snapshot_free(snap);
	}
	fclose(f);
	return 0;
}
