/* The diff of two fuzzed snapshots (the input split at its first NUL, or
 * in half), in both matching modes, rendered in every format (the HTML
 * report's embedded data must hold no raw '<'), and a gate checked
 * against it. */
#include <string.h>

#include "diff_invariants.h"
#include "fuzz_common.h"

/* Every format; the text with colours on, all of it terminal-safe. */
static void render(const snap_diff *diff, const snap_gate *gate)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fmt_diff_opts opts = { "old", "new", gate, true, 0 };
	FUZZ_ASSERT(fmt_diff_text(f, diff, &opts) == 0);
	opts.color = false;
	FUZZ_ASSERT(fmt_diff_json(f, diff, &opts) == 0);
	FUZZ_ASSERT(fmt_diff_markdown(f, diff, &opts) == 0);
	fclose(f);
	fuzz_check_terminal_safe(buf, len, true);
	free(buf);
}

/* Nothing from the snapshots may end the <script> element holding the
 * data: no '<' between its start tag and its end tag. */
static void render_html(const snap_diff *diff)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	FUZZ_ASSERT(fmt_report_diff(f, diff, NULL) == 0);
	fclose(f);
	const char *tag = "id=\"mapsnap-data\">";
	const char *data = strstr(page, tag);
	FUZZ_ASSERT(data != NULL);
	data += strlen(tag);
	const char *end = strstr(data, "</script>");
	FUZZ_ASSERT(end != NULL && memchr(data, '<', (size_t)(end - data)) == NULL);
	free(page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t half = nul ? (size_t)(nul - data) : size / 2;
	snap_snapshot *a = fuzz_parse_smaps(data, half, half / 2);
	size_t rest = nul ? size - half - 1 : size - half;
	snap_snapshot *b = fuzz_parse_smaps(data + size - rest, rest, rest / 3);
	for (int mode = SNAP_MATCH_ADDRESS; a && b && mode <= SNAP_MATCH_IDENTITY; mode++) {
		snap_diff_opts opts;
		snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
		opts.match = (enum snap_match_mode)mode;
		snap_diff *diff = NULL;
		if (snap_diff_new(&diff, a, b, &opts, NULL) != 0)
			continue;
		render_html(diff);
		snap_diff_free(diff);
		/* Everything listed: the changes add up to the totals. */
		opts.min_change_kb = 0;
		FUZZ_ASSERT(snap_diff_new(&diff, a, b, &opts, NULL) == 0);
		char why[256];
		if (!diff_invariants_hold(diff, why, sizeof(why)))
			fprintf(stderr, "%s\n", why);
		FUZZ_ASSERT(diff_invariants_hold(diff, why, sizeof(why)));
		snap_gate *gate;
		if (snap_gate_new(&gate, NULL) == 0) {
			if (snap_gate_add(gate, "rss>+1%", NULL) == 0 &&
			    snap_gate_add(gate, "heap.dirty>+4K", NULL) == 0 &&
			    snap_gate_add(gate, "swap>+1G", NULL) == 0)
				(void)snap_gate_check(gate, diff, NULL);
			render(diff, gate);
			snap_gate_free(gate);
		}
		snap_diff_free(diff);
	}
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	return 0;
}
