/* pmap views through the formats API, against what procps-ng pmap 4.0.2
 * printed for the same smaps (fixtures/ref/, see its README.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats.h"
#include "pmap_expect.h"
#include "snap.h"
#include "util.h"

#define REF "fixtures/ref"

/* ---- helpers ------------------------------------------------------------- */

static snap_snapshot *load(const char *smaps, bool siblings)
{
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	int rc = snap_capture_files(snap, smaps, siblings, &err);
	if (rc < 0)
		fail_msg("%s: %s", smaps, err.message);
	return snap;
}

static char *render(const snap_snapshot *snap, const fmt_pmap_opts *opts)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(fmt_pmap_write(f, snap, opts), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* "qXX", "-x-p", "default": pmap's flags spelled without spaces. */
static fmt_pmap_opts mode_opts(const char *flags)
{
	fmt_pmap_opts o = { 0 };
	int xs = 0;
	for (const char *c = strcmp(flags, "default") ? flags : ""; *c; c++) {
		switch (*c) {
		case 'q': o.quiet = true; break;
		case 'p': o.show_path = true; break;
		case 'x': o.mode = FMT_PMAP_EXTENDED; break;
		case 'd': o.mode = FMT_PMAP_DEVICE; break;
		case 'X': xs++; break;
		default: break;
		}
	}
	if (xs)
		o.mode = xs == 1 ? FMT_PMAP_X : FMT_PMAP_XX;
	return o;
}

/* Fails with the first differing line, which says more than a byte count. */
static void assert_same_text(const char *actual, const char *expected,
			     const char *label)
{
	if (strcmp(actual, expected) == 0)
		return;
	const char *a = actual, *e = expected;
	int line = 1;
	while (*a && *a == *e) {
		if (*a == '\n')
			line++;
		a++;
		e++;
	}
	fail_msg("%s: output differs from pmap at line %d:\n  got:  %.160s\n"
		 "  want: %.160s", label, line, a, e);
}

static char *read_text(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text)
		fail_msg("cannot read %s", path);
	return text;
}

/* pmap_fix_long_names over the snapshot's region paths. */
static char *fix_long_names(const char *expected, const snap_snapshot *snap,
			    bool show_path)
{
	const char **paths = calloc(snap->nregions + 1, sizeof(*paths));
	for (size_t i = 0; i < snap->nregions; i++)
		paths[i] = snap->regions[i].path;
	char *fixed = pmap_fix_long_names(expected, paths, snap->nregions, show_path);
	free(paths);
	assert_non_null(fixed);
	return fixed;
}

/* The lines of a "$ pmap ..." section of a transcript, up to "rc=". */
static char *section(const char *transcript, const char *command)
{
	const char *start = strstr(transcript, command);
	if (!start)
		fail_msg("no section '%s'", command);
	start = strchr(start, '\n') + 1;
	const char *end = strstr(start, "\nrc=");
	assert_non_null(end);
	return strndup(start, (size_t)(end - start) + 1);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static char *nth_line(char *text, size_t n)
{
	while (n-- && text)
		text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
	return text;
}

/* ---- the second set: exact by construction, 15 modes ---------------------- */

static const char *const second_modes[] = {
	"default", "x", "X", "XX", "d", "q", "qx", "qX", "qXX", "qd",
	"p", "px", "pX", "pXX", "pd",
};

static void check_second_set(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), REF "/%s/smaps", name);
	snap_snapshot *snap = load(path, true);
	for (size_t m = 0; m < sizeof(second_modes) / sizeof(*second_modes); m++) {
		fmt_pmap_opts o = mode_opts(second_modes[m]);
		snprintf(path, sizeof(path), REF "/%s/pmap_%s.rc", name, second_modes[m]);
		char *rc = read_text(path);
		assert_string_equal(rc, "0\n");
		free(rc);
		snprintf(path, sizeof(path), REF "/%s/pmap_%s.out", name, second_modes[m]);
		char *want = read_text(path);
		if (o.mode == FMT_PMAP_X || o.mode == FMT_PMAP_XX) {
			char *fixed = fix_long_names(want, snap, o.show_path);
			free(want);
			want = fixed;
		}
		char *got = render(snap, &o);
		assert_same_text(got, want, path);
		free(got);
		free(want);
	}
	snap_snapshot_free(snap);
}

static void test_mapzoo(void **state)
{
	(void)state;
	check_second_set("mapzoo");
}

static void test_bigvirt(void **state)
{
	(void)state;
	check_second_set("bigvirt");
}

static void test_evolve(void **state)
{
	(void)state;
	check_second_set("evolve_before");
	check_second_set("evolve_after");
}

/* The correction above is real: pmap's mapzoo -X row shows the directory. */
static void test_long_name_fix_changes_mapzoo(void **state)
{
	(void)state;
	snap_snapshot *snap = load(REF "/mapzoo/smaps", true);
	char *want = read_text(REF "/mapzoo/pmap_X.out");
	char *fixed = fix_long_names(want, snap, false);
	assert_string_not_equal(want, fixed);
	assert_non_null(strstr(want, " a_very_long_directory_name_"));
	assert_null(strstr(fixed, " a_very_long_directory_name_"));
	free(want);
	free(fixed);
	snap_snapshot_free(snap);
}

/* ---- the first set: stopped live processes -------------------------------- */

/* pmap-A.txt: low is the first region's start, high the sixth's. */
static void first_set_range(fmt_pmap_opts *o, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), REF "/%s/proc.maps", name);
	char *maps = read_text(path);
	o->has_range = true;
	o->low = strtoull(maps, NULL, 16);
	o->high = strtoull(nth_line(maps, 5), NULL, 16);
	free(maps);
}

static void check_first_set_exact(const char *name)
{
	static const char *const modes[] = {
		"", "-x", "-d", "-p", "-q", "-q-x", "-x-p", "-A", "-x-A",
	};
	char path[256];
	snprintf(path, sizeof(path), REF "/%s/proc.smaps", name);
	snap_snapshot *snap = load(path, true);
	for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
		fmt_pmap_opts o = mode_opts(modes[m]);
		if (strchr(modes[m], 'A'))
			first_set_range(&o, name);
		snprintf(path, sizeof(path), REF "/%s/pmap%s.txt", name, modes[m]);
		char *want = read_text(path);
		char *got = render(snap, &o);
		assert_same_text(got, want, path);
		free(got);
		free(want);
	}
	snap_snapshot_free(snap);
}

/* These processes were read live (stopped): pmap -X read smaps again
 * after proc.smaps was saved, and Pss of shared pages depends on who else
 * maps them at that moment (the reader maps libc too). So the Pss column
 * and its total may differ; every other byte must not. */
static void check_first_set_pss_moved(const char *name)
{
	static const char *const modes[] = { "-X", "-XX", "-XX-p" };
	char path[256];
	snprintf(path, sizeof(path), REF "/%s/proc.smaps", name);
	snap_snapshot *snap = load(path, true);
	for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
		fmt_pmap_opts o = mode_opts(modes[m]);
		snprintf(path, sizeof(path), REF "/%s/pmap%s.txt", name, modes[m]);
		char *want = read_text(path);
		char *got = render(snap, &o);
		size_t lines = count_lines(want);
		assert_int_equal(count_lines(got), lines);
		/* The Pss column's word index, from the header line. */
		char *header = strndup(nth_line(want, 1), 4096);
		*strchr(header, '\n') = '\0';
		size_t pss = 0;
		for (char *w = strtok(header, " "); w && strcmp(w, "Pss"); w = strtok(NULL, " "))
			pss++;
		free(header);
		for (size_t i = 2; i < lines; i++) {
			bool totals = i == lines - 1;
			mask_column(nth_line(want, i), totals ? pss - 5 : pss);
			mask_column(nth_line(got, i), totals ? pss - 5 : pss);
		}
		assert_same_text(got, want, path);
		free(got);
		free(want);
	}
	snap_snapshot_free(snap);
}

static void test_sleep(void **state)
{
	(void)state;
	check_first_set_exact("sleep");
	check_first_set_pss_moved("sleep");
}

static void test_python3(void **state)
{
	(void)state;
	check_first_set_exact("python3");
	check_first_set_pss_moved("python3");
}

static void test_zoo(void **state)
{
	(void)state;
	check_first_set_exact("zoo");
	check_first_set_pss_moved("zoo");
}

/* ---- synthetic smaps (hand-edited, run through pmap 4.0.2) ---------------- */

/* The synthetic files were run with the smaps of pid 7053, "sleep 100000",
 * whose stack region is 7ffeb6adf000-7ffeb6b00000. */
static snap_snapshot *load_synthetic(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), REF "/synthetic/smaps_%s", name);
	snap_snapshot *snap = load(path, false);
	const char **argv = snap_snapshot_alloc(snap, 3 * sizeof(*argv));
	argv[0] = snap_snapshot_strdup(snap, "sleep");
	argv[1] = snap_snapshot_strdup(snap, "100000");
	snap->process.known = true;
	snap->process.pid = 7053;
	snap->process.argv = argv;
	snap->process.argc = 2;
	snap->process.start_stack = 0x7ffeb6afed40;
	return snap;
}

static void check_synthetic(const char *name, const char *const *modes, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), REF "/synthetic/out_%s.txt", name);
	char *transcript = read_text(path);
	snap_snapshot *snap = load_synthetic(name);
	for (size_t m = 0; m < n; m++) {
		char command[64];
		snprintf(command, sizeof(command), "$ pmap %s PID", modes[m]);
		char *want = section(transcript, command);
		fmt_pmap_opts o = mode_opts(modes[m]);
		char *fixed = fix_long_names(want, snap, false);
		char *got = render(snap, &o);
		assert_same_text(got, fixed, command);
		free(got);
		free(fixed);
		free(want);
	}
	snap_snapshot_free(snap);
	free(transcript);
}

static const char *const synthetic_modes[] = { "", "-x", "-X", "-XX" };

/* Without "Swap:" lines pmap -x prints no rows, yet totals. */
static void test_synthetic_noswap(void **state)
{
	(void)state;
	check_synthetic("noswap", synthetic_modes, 4);
}

/* ProtectionKey (no unit) becomes a summed -X column. */
static void test_synthetic_pkey(void **state)
{
	(void)state;
	check_synthetic("pkey", synthetic_modes, 4);
}

/* pmap 4.0.2 refuses -X on it; the simple modes are exact. mapsnap's -X
 * shows the field a region lacks as "-". */
static void test_synthetic_inconsistent(void **state)
{
	(void)state;
	check_synthetic("inconsistent", synthetic_modes, 2);
	snap_snapshot *snap = load_synthetic("inconsistent");
	fmt_pmap_opts o = mode_opts("X");
	char *got = render(snap, &o);
	char *header = strndup(nth_line(got, 1), 4096);
	*strchr(header, '\n') = '\0';
	size_t ksm = 0;
	for (char *w = strtok(header, " "); w && strcmp(w, "KSM"); w = strtok(NULL, " "))
		ksm++;
	free(header);
	size_t dashes = 0;
	for (size_t i = 2; i + 2 < count_lines(got); i++) {
		char *line = strndup(nth_line(got, i), 4096);
		*strchr(line, '\n') = '\0';
		char *w = strtok(line, " ");
		for (size_t k = 0; w && k < ksm; k++)
			w = strtok(NULL, " ");
		dashes += w && strcmp(w, "-") == 0;
		free(line);
	}
	assert_int_equal(dashes, 1);
	free(got);
	snap_snapshot_free(snap);
}

/* A mapping line over 1023 bytes: pmap 4.0.2 cuts it, names the row from
 * the cut and adds a bogus "ffffffffffffffff" row (in -x the bogus row
 * carries the real row's RSS and Dirty, 16 and 16). mapsnap prints the one
 * real row with its real name. */
static void test_synthetic_longname(void **state)
{
	(void)state;
	char *transcript = read_text(REF "/synthetic/out_longname.txt");
	snap_snapshot *snap = load_synthetic("longname");
	const snap_region *heap = NULL;
	for (size_t i = 0; i < snap->nregions; i++)
		if (snap->regions[i].start == 0x559f358c8000)
			heap = &snap->regions[i];
	assert_non_null(heap);
	assert_true(heap->path_len > 1023);
	const char *name = strrchr(heap->path, '/') + 1;
	const char *modes[] = { "", "-x" };
	const char *real_rows[] = { "0000559f358c8000    132K rw--- ",
				    "0000559f358c8000     132      16      16 rw--- " };
	for (size_t m = 0; m < 2; m++) {
		char command[64], *want = NULL, *row;
		snprintf(command, sizeof(command), "$ pmap %s PID", modes[m]);
		char *pmap = section(transcript, command);
		char *bogus = strstr(pmap, "\nffffffffffffffff ") + 1;
		char *after_bogus = strchr(bogus, '\n') + 1;
		char *cut_row = m == 0 ? strstr(pmap, "\n0000559f358c8000 ") + 1 : bogus;
		assert_true(asprintf(&row, "%s%s\n", real_rows[m], name) > 0);
		assert_true(asprintf(&want, "%.*s%s%s", (int)(cut_row - pmap), pmap, row,
				     after_bogus) > 0);
		fmt_pmap_opts o = mode_opts(modes[m]);
		char *got = render(snap, &o);
		assert_same_text(got, want, command);
		free(got);
		free(row);
		free(want);
		free(pmap);
	}
	free(transcript);
	snap_snapshot_free(snap);
	check_synthetic("longname", synthetic_modes + 2, 2);
}

/* ---- -A (fixtures/ref/misc/range.txt, on the mapzoo process) -------------- */

static fmt_pmap_opts range_opts(const char *flags, uint64_t low, uint64_t high)
{
	fmt_pmap_opts o = mode_opts(flags);
	o.has_range = true;
	o.low = low;
	o.high = high;
	return o;
}

static void test_ranges(void **state)
{
	(void)state;
	char *transcript = read_text(REF "/misc/range.txt");
	snap_snapshot *snap = load(REF "/mapzoo/smaps", true);
	const struct {
		const char *command, *flags;
		uint64_t low, high;
	} cases[] = {
		{ "$ pmap -A 7f13bc0db000,7f13bc0fb000 ZOO", "", 0x7f13bc0db000, 0x7f13bc0fb000 },
		{ "$ pmap -d -A 7f13bc0db000,7f13bc0fb000 ZOO", "d", 0x7f13bc0db000,
		  0x7f13bc0fb000 },
		{ "$ pmap -A 7f13bc0dc000 ZOO", "", 0x7f13bc0dc000, 0x7f13bc0dc000 },
		{ "$ pmap -A ,7f13bb73b000 ZOO", "", 0, 0x7f13bb73b000 },
		{ "$ pmap -A 7ffc91c55000, ZOO", "", 0x7ffc91c55000, UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *want = section(transcript, cases[i].command);
		fmt_pmap_opts o = range_opts(cases[i].flags, cases[i].low, cases[i].high);
		char *got = render(snap, &o);
		assert_same_text(got, want, cases[i].command);
		free(got);
		free(want);
	}
	free(transcript);
	snap_snapshot_free(snap);
}

/* pmap -x -A sums RSS and Dirty of every region read, those below the
 * range included: 748 where the rows add up to 104. range.txt was taken
 * after page-cache writeback cleaned some pages, so its Dirty numbers are
 * not those of the saved smaps; everything else is. */
static void test_range_extended_totals_quirk(void **state)
{
	(void)state;
	const char *command = "$ pmap -x -A 7f13bc0db000,7f13bc0fb000 ZOO";
	char *transcript = read_text(REF "/misc/range.txt");
	char *want = section(transcript, command);
	snap_snapshot *snap = load(REF "/mapzoo/smaps", true);
	fmt_pmap_opts o = range_opts("x", 0x7f13bc0db000, 0x7f13bc0fb000);
	char *got = render(snap, &o);
	size_t lines = count_lines(want);
	assert_int_equal(count_lines(got), lines);
	for (size_t i = 2; i < lines; i++) {
		bool totals = i == lines - 1;
		mask_column(nth_line(want, i), totals ? 4 : 3);
		mask_column(nth_line(got, i), totals ? 4 : 3);
	}
	assert_same_text(got, want, command);
	assert_non_null(strstr(got, "\ntotal kB             192     748 "));
	free(got);
	free(want);
	free(transcript);
	snap_snapshot_free(snap);
}

/* pmap 4.0.2 ignores -A in -X (it printed all 50 lines); mapsnap applies
 * it, with totals of the rows shown. */
static void test_range_applies_to_X(void **state)
{
	(void)state;
	snap_snapshot *snap = load(REF "/mapzoo/smaps", true);
	fmt_pmap_opts o = range_opts("X", 0x7f13bc0db000, 0x7f13bc0fb000);
	char *got = render(snap, &o);
	assert_int_equal(count_lines(got), 7);
	assert_non_null(strstr(got, "\n7f13bc0db000 rw-s 00020000 "));
	assert_non_null(strstr(got, "\n7f13bc0eb000 rw-p 00010000 "));
	assert_non_null(strstr(got, "\n7f13bc0fb000 r--p 00000000 "));
	/* Size 3 x 64, Rss 24 + 16 + 64 (the rows of pmap -x -A). */
	char *totals = nth_line(got, 6);
	assert_int_equal(strtoul(totals, &totals, 10), 192);
	assert_int_equal(strtoul(totals, &totals, 10), 104);
	free(got);
	snap_snapshot_free(snap);
}

/* ---- process facts -------------------------------------------------------- */

/* pmap on a kernel thread (fixtures/ref/misc/misc.txt, "pmap 2"). */
static void test_empty_address_space(void **state)
{
	(void)state;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	snap->process.known = true;
	snap->process.pid = 2;
	snap->process.comm = "kthreadd";
	snap->process.argv = snap_snapshot_alloc(snap, sizeof(char *));
	snap->process.argc = 0;
	const struct {
		const char *flags, *want;
	} cases[] = {
		{ "", "2:   [kthreadd]\n total                0K\n" },
		{ "x", "2:   [kthreadd]\nAddress           Kbytes     RSS   Dirty Mode  Mapping\n"
		       "---------------- ------- ------- ------- \n"
		       "total kB               0       0       0\n" },
		{ "X", "2:   [kthreadd]\n" },
		{ "d", "2:   [kthreadd]\nAddress           Kbytes Mode  Offset           Device"
		       "    Mapping\nmapped: 0K    writeable/private: 0K    shared: 0K\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fmt_pmap_opts o = mode_opts(cases[i].flags);
		char *got = render(snap, &o);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	snap_snapshot_free(snap);
}

/* A snapshot from smaps text alone: no pid, no command line, and no
 * start_stack, so the kernel's "[stack]" name decides "[ stack ]". */
static void test_unknown_process(void **state)
{
	(void)state;
	snap_snapshot *snap = load(REF "/mapzoo/smaps", false);
	fmt_pmap_opts o = mode_opts("");
	char *got = render(snap, &o);
	assert_memory_equal(got, "?:   (command line not recorded)\n", 33);
	char *want = read_text(REF "/mapzoo/pmap_default.out");
	assert_string_equal(strchr(got, '\n'), strchr(want, '\n'));
	free(want);
	free(got);
	snap_snapshot_free(snap);
}

/* ---- beyond pmap ---------------------------------------------------------- */

static const char *find_line(const char *text, const char *prefix)
{
	char needle[128];
	snprintf(needle, sizeof(needle), "\n%s", prefix);
	const char *hit = strstr(text, needle);
	if (!hit)
		fail_msg("no line starting '%s' in:\n%s", prefix, text);
	return hit + 1;
}

static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *hit = find_line(text, line);
	assert_true(hit[n] == '\n');
}

/* bigvirt: 20 GiB PROT_NONE, 12 GiB NORESERVE, libc's 1368K text. */
static void test_human_sizes(void **state)
{
	(void)state;
	snap_snapshot *snap = load(REF "/bigvirt/smaps", true);
	fmt_pmap_opts o = mode_opts("");
	o.human = true;
	char *got = render(snap, &o);
	assert_line(got, "00007fd9b9400000     20G -----   [ anon ]");
	assert_line(got, "00007fd6b9400000     12G rw---   [ anon ]");
	assert_line(got, "000055e6176d9000      4K r---- bigvirt");
	assert_line(got, "00007fdeb957d000    1.3M r-x-- libc.so.6");
	char total[64];
	snprintf(total, sizeof(total), " total %17s", "32G");
	assert_line(got, total);
	free(got);
	o = mode_opts("x");
	o.human = true;
	got = render(snap, &o);
	assert_line(got, "00007fdeb957d000    1.3M    972K      0K r-x-- libc.so.6");
	assert_non_null(strstr(got, "\nAddress             Size     RSS   Dirty Mode  Mapping\n"));
	assert_non_null(strstr(got, "\ntotal                32G "));
	free(got);
	o = mode_opts("d");
	o.human = true;
	got = render(snap, &o);
	assert_non_null(strstr(got, "\nmapped: 32G    writeable/private: 12G    shared: 0K\n"));
	free(got);
	snap_snapshot_free(snap);
}

/* Chosen rows print in the given order and the totals are theirs. */
static void test_chosen_rows(void **state)
{
	(void)state;
	snap_snapshot *snap = load(REF "/mapzoo/smaps", true);
	size_t rows[] = { 5, 0 }; /* [heap] 132K rw-p, then mapzoo 4K r--p */
	fmt_pmap_opts o = mode_opts("");
	o.rows = rows;
	o.nrows = 2;
	o.note = "filtered: 2 of many";
	char *got = render(snap, &o);
	assert_string_equal(got, "7110:   ./mapzoo\n"
				 "000056150dd58000    132K rw---   [ anon ]\n"
				 "00005614e33a3000      4K r---- mapzoo\n"
				 " total              136K\n"
				 "filtered: 2 of many\n");
	free(got);
	o.mode = FMT_PMAP_DEVICE;
	got = render(snap, &o);
	assert_non_null(strstr(got, "\nmapped: 136K    writeable/private: 132K    shared: 0K\n"));
	free(got);
	o.quiet = true;
	o.mode = FMT_PMAP_X;
	got = render(snap, &o);
	assert_int_equal(count_lines(got), 3);
	assert_null(strstr(got, "filtered"));
	free(got);
	snap_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapzoo),
		cmocka_unit_test(test_bigvirt),
		cmocka_unit_test(test_evolve),
		cmocka_unit_test(test_long_name_fix_changes_mapzoo),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_python3),
		cmocka_unit_test(test_zoo),
		cmocka_unit_test(test_synthetic_noswap),
		cmocka_unit_test(test_synthetic_pkey),
		cmocka_unit_test(test_synthetic_inconsistent),
		cmocka_unit_test(test_synthetic_longname),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_range_extended_totals_quirk),
		cmocka_unit_test(test_range_applies_to_X),
		cmocka_unit_test(test_empty_address_space),
		cmocka_unit_test(test_unknown_process),
		cmocka_unit_test(test_human_sizes),
		cmocka_unit_test(test_chosen_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
