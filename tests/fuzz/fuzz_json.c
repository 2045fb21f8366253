/* The snapshot JSON loader on a stream of documents; every document it
 * accepts holds only counters a kernel prints, writes back to one it
 * accepts again, and shows (pmap -XX, the summary) as text a terminal
 * cannot be made to act on. */
#include "fuzz_common.h"

static void check_views(const snap_snapshot *snap)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_ASSERT(f);
	fmt_pmap_opts opts = { .mode = FMT_PMAP_XX };
	(void)fmt_pmap_write(f, snap, &opts);
	fmt_pmap_opts human = { .mode = FMT_PMAP_EXTENDED, .human = true };
	(void)fmt_pmap_write(f, snap, &human);
	snap_summary *sum;
	if (snap_summary_new(&sum, snap, NULL, NULL) == 0) {
		(void)fmt_summary_text(f, sum, NULL);
		(void)fmt_summary_markdown(f, sum, NULL);
		snap_summary_free(sum);
	}
	fclose(f);
	fuzz_check_terminal_safe(text, len, false);
	free(text);
}

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
		fuzz_check_limits(snap);
		check_views(snap);
		if (!fmt_checksum_mismatch(snap))
			fuzz_json_round_trip(snap);
		snap_snapshot_free(snap);
	}
	fclose(f);
	return 0;
}
