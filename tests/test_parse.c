/* The smaps parser and the smaps text writer, through the public API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

static const char *const real_fixtures[] = {
	"fixtures/ref/sleep/proc.smaps", "fixtures/ref/python3/proc.smaps",
	"fixtures/ref/zoo/proc.smaps", "fixtures/ref/mapzoo/smaps",
	"fixtures/ref/bigvirt/smaps", "fixtures/ref/evolve_before/smaps",
	"fixtures/ref/evolve_after/smaps", "fixtures/ref/synthetic/smaps_pkey",
	"fixtures/ref/synthetic/smaps_noswap",
	"fixtures/ref/synthetic/smaps_inconsistent",
	"fixtures/ref/synthetic/smaps_longname",
};

static const char *const made_fixtures[] = {
	"fixtures/smaps/kernel-4.19.smaps",
	"fixtures/smaps/vendor-unknown-keys.smaps",
	"fixtures/smaps/odd-names.smaps",
	"fixtures/smaps/latin1-path.smaps",
};

/* Parses text fed in pieces of `step` bytes (0: all at once). */
static int parse_text(snap_snapshot **out, const char *text, size_t len,
		      size_t step, snap_error *err)
{
	snap_snapshot *snap;
	snap_parser *p;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_parser_new(&p, snap, "test", NULL, NULL, err), 0);
	int rc = 0;
	for (size_t off = 0; rc == 0 && off < len;) {
		size_t n = step && len - off > step ? step : len - off;
		rc = snap_parser_feed(p, text + off, n, err);
		off += n;
	}
	if (rc == 0)
		rc = snap_parser_finish(p, err);
	snap_parser_free(p);
	if (rc != 0) {
		snap_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return 0;
}

static snap_snapshot *parse_file(const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	assert_non_null(text);
	snap_snapshot *snap;
	snap_error err = { 0 };
	int rc = parse_text(&snap, text, len, 0, &err);
	if (rc != 0)
		fail_msg("%s: %s", path, err.message);
	free(text);
	return snap;
}

static char *smaps_text(const snap_snapshot *snap, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	assert_int_equal(fmt_smaps_write(f, snap), 0);
	fclose(f);
	return buf;
}

static size_t count_headers(const char *text)
{
	size_t n = 0;
	for (const char *line = text; line && *line;) {
		if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f'))
			n++;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return n;
}

/* Every fixture parses into as many regions as it has header lines, and
 * writing them back gives the kernel's text byte for byte. */
static void round_trip_all(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len, out_len;
		char *text = read_file(paths[i], &len);
		assert_non_null(text);
		snap_snapshot *snap = parse_file(paths[i]);
		assert_int_equal(snap->nregions, count_headers(text));
		char *out = smaps_text(snap, &out_len);
		if (out_len != len || memcmp(out, text, len) != 0)
			fail_msg("%s does not round-trip", paths[i]);
		free(out);
		free(text);
		snap_snapshot_free(snap);
	}
}

static void test_real_fixtures_round_trip(void **state)
{
	(void)state;
	round_trip_all(real_fixtures, sizeof(real_fixtures) / sizeof(*real_fixtures));
}

static void test_made_fixtures_round_trip(void **state)
{
	(void)state;
	round_trip_all(made_fixtures, sizeof(made_fixtures) / sizeof(*made_fixtures));
}

/* A line split across feeds at any byte gives the same snapshot. */
static void test_split_feeds(void **state)
{
	(void)state;
	size_t len, whole_len;
	char *text = read_file("fixtures/smaps/odd-names.smaps", &len);
	snap_snapshot *whole = parse_file("fixtures/smaps/odd-names.smaps");
	char *expect = smaps_text(whole, &whole_len);
	for (size_t step = 1; step < 200; step += 13) {
		snap_snapshot *snap;
		snap_error err = { 0 };
		assert_int_equal(parse_text(&snap, text, len, step, &err), 0);
		size_t out_len;
		char *out = smaps_text(snap, &out_len);
		assert_int_equal(out_len, whole_len);
		assert_memory_equal(out, expect, whole_len);
		free(out);
		snap_snapshot_free(snap);
	}
	free(expect);
	free(text);
	snap_snapshot_free(whole);
}

static void test_header_fields(void **state)
{
	(void)state;
	snap_snapshot *snap = parse_file("fixtures/ref/zoo/proc.smaps");
	const snap_region *r = &snap->regions[0];
	assert_true(r->start == 0x562b10e5a000ull);
	assert_true(r->end == 0x562b10e5b000ull);
	assert_string_equal(r->perms, "r--p");
	assert_int_equal(r->dev_major, 0xfe);
	assert_int_equal(r->dev_minor, 0);
	assert_int_equal(r->inode, 1089539);
	assert_string_equal(r->path, "/opt/demo/zoo");
	assert_string_equal(r->vmflags, "rd mr mw me");
	assert_int_equal(snap_region_get(snap, r, "Size"), 4);
	assert_int_equal(snap_region_get(snap, r, "Private_Dirty"), 4);
	/* The kernel's order, not a fixed list. */
	assert_string_equal(snap->fields[0].name, "Size");
	assert_string_equal(snap->fields[snap->nfields - 1].name, "THPeligible");
	assert_int_equal(snap->fields[snap->nfields - 1].unit, SNAP_UNIT_NONE);
	snap_snapshot_free(snap);
}

static const snap_region *find_path(const snap_snapshot *snap, const char *path)
{
	for (size_t i = 0; i < snap->nregions; i++)
		if (strcmp(snap->regions[i].path, path) == 0)
			return &snap->regions[i];
	return NULL;
}

static void test_odd_names_kept_verbatim(void **state)
{
	(void)state;
	snap_snapshot *snap = parse_file("fixtures/smaps/odd-names.smaps");
	assert_non_null(find_path(snap, "/srv/data/file with space.dat"));
	assert_non_null(find_path(snap, "/srv/data/line\\012break.dat"));
	assert_non_null(find_path(snap, "/srv/data/gone.dat (deleted)"));
	assert_non_null(find_path(snap, "/srv/data/tab\there.bin"));
	const snap_region *anon = &snap->regions[9];
	assert_string_equal(anon->path, "");
	assert_int_equal(anon->path_len, 0);
	size_t longest = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		if (snap->regions[i].path_len > longest)
			longest = snap->regions[i].path_len;
	assert_true(longest > 4000);
	snap_snapshot_free(snap);
}

static void test_old_and_vendor_kernels(void **state)
{
	(void)state;
	snap_snapshot *old = parse_file("fixtures/smaps/kernel-4.19.smaps");
	assert_int_equal(snap_field_find(old, "Pss_Dirty"), -1);
	assert_int_equal(snap_field_find(old, "THPeligible"), -1);
	assert_true(snap_region_has_flag(&old->regions[0], "dw"));
	assert_int_equal(snap_region_get(old, &old->regions[2], "Swap"), 16);
	snap_snapshot_free(old);

	snap_snapshot *vendor = parse_file("fixtures/smaps/vendor-unknown-keys.smaps");
	int wb = snap_field_find(vendor, "Writeback");
	int pkey = snap_field_find(vendor, "ProtectionKey");
	int name = snap_field_find(vendor, "Name");
	assert_true(wb >= 0 && pkey >= 0 && name >= 0);
	assert_int_equal(vendor->fields[wb].unit, SNAP_UNIT_KB);
	assert_int_equal(vendor->fields[pkey].unit, SNAP_UNIT_NONE);
	assert_int_equal(vendor->fields[name].unit, SNAP_UNIT_TEXT);
	const snap_region *named = find_path(vendor, "[anon:my cache]");
	assert_non_null(named);
	const snap_entry *last = &named->entries[named->nentries - 1];
	assert_int_equal(last->field, name);
	assert_string_equal(snap_entry_text(last), "my cache");
	assert_int_equal(named->layout[named->nlayout - 1], name);
	/* Zero counters are printed lines, but not stored entries. */
	assert_true(snap_region_printed(named, wb));
	assert_int_equal(snap_region_value(named, wb), 0);
	for (size_t i = 0; i < named->nentries; i++)
		assert_true(named->entries[i].is_text || named->entries[i].value != 0);
	snap_snapshot_free(vendor);
}

/* Each bad text is rejected with SNAP_EFORMAT and a line number. */
static void expect_bad_n(const char *text, size_t len, long line,
			 const char *words)
{
	snap_snapshot *snap = NULL;
	snap_error err = { 0 };
	int rc = parse_text(&snap, text, len, 0, &err);
	if (rc != SNAP_EFORMAT)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.line, line);
	if (!strstr(err.message, words))
		fail_msg("message '%s' lacks '%s'", err.message, words);
}

static void expect_bad(const char *text, long line, const char *words)
{
	expect_bad_n(text, strlen(text), line, words);
}

#define HDR "00400000-00401000 r-xp 00000000 08:01 42 /bin/x\n"
#define BODY "Size:                  4 kB\nRss:                   4 kB\nVmFlags: rd ex \n"
#define BODY_OK "00300000-00301000 r-xp 00000000 08:01 42 /bin/x\n" \
	"Size:    4 kB\nRss:    4 kB\nVmFlags: rd ex \n"

static void test_bad_inputs(void **state)
{
	(void)state;
	expect_bad(HDR BODY HDR "Size:                  4 kB\n", 6, "incomplete");
	expect_bad(HDR "Size:                  4 kB", 2, "no newline");
	expect_bad("00400000-0040zz00 r-xp 00000000 08:01 42 /bin/x\n", 1, "header");
	expect_bad("00401000-00400000 r-xp 00000000 08:01 42 /bin/x\n" BODY, 1, "above");
	expect_bad("00000000000000400000-00401000 r-xp 00000000 08:01 42\n", 1, "header");
	expect_bad("Size:                  4 kB\n", 1, "before any mapping");
	expect_bad(HDR "\n" BODY, 2, "empty line");
	expect_bad(HDR "garbage without colon\n", 2, "Key: value");
	expect_bad(HDR "Rss:   4 kB\nRss:   8 kB\n", 3, "printed twice");
	expect_bad("00400000-00401000 r\"xp 00000000 08:01 42 /bin/x\n", 1, "header");
	expect_bad(HDR "VmFlags: rd \xe9x \n", 2, "not ASCII");
	expect_bad(HDR BODY HDR "Size:  4\n", 6, "printed differently");
	expect_bad(HDR BODY HDR "Size:  four kB\n", 6, "not a number");
	expect_bad(HDR "Name:  caf\xe9\n", 2, "not valid UTF-8");
	expect_bad(HDR "R\"ss:  4 kB\n", 2, "Key: value");
	expect_bad(HDR "path:  4 kB\n", 2, "Key: value");
	static const char nul[] = HDR "Rss:  4 kB\0x\n";
	expect_bad_n(nul, sizeof(nul) - 1, 2, "NUL");
	expect_bad(HDR "Size: 99999999999999999999999 kB\n" BODY, 2, "out of range");
}

/* Counters hold numbers: a kernel counter's line, or any line with the
 * " kB" unit, whose value is text is refused naming that line, in the
 * first region as in later ones (it used to pass as a vendor text line). */
static void test_counters_are_numbers(void **state)
{
	(void)state;
	expect_bad(HDR "Size:    4 kB\nRss:   abc\nVmFlags: rd ex \n", 3, "Rss: the value is not a number");
	expect_bad(HDR "Size:    4 kB\nRss:   12x kB\n", 3, "Rss: the value is not a number");
	expect_bad(HDR "Vendor_Thing:   lots kB\n", 2, "Vendor_Thing: the value is not a number");
	expect_bad(HDR "THPeligible:    yes\n", 2, "THPeligible: the value is not a number");
	expect_bad(HDR "Size:    4 kB\nRss:  -4 kB\n", 3, "not a number");
	/* A vendor line of text without a unit stays text. */
	snap_snapshot *snap;
	snap_error err = { 0 };
	const char *ok = HDR "Size:    4 kB\nName:   my cache\n";
	assert_int_equal(parse_text(&snap, ok, strlen(ok), 0, &err), 0);
	assert_int_equal(snap->fields[snap_field_find(snap, "Name")].unit, SNAP_UNIT_TEXT);
	snap_snapshot_free(snap);
}

/* A line may be 16 KiB and a mapping's lines 1 MiB: beyond that the
 * text is refused as soon as the parser has seen that much, whether the
 * line came in one piece or many. */
static void test_length_limits(void **state)
{
	(void)state;
	size_t n = 20000;
	char *text = malloc(n + 64);
	memset(text, '0', n);
	text[n] = '\n';
	expect_bad_n(text, n + 1, 1, "longer than 16384 bytes");
	snap_snapshot *snap;
	snap_parser *p;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_parser_new(&p, snap, "cut", NULL, NULL, NULL), 0);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i += 1000)
		rc = snap_parser_feed(p, text, 1000, &err); /* no newline yet */
	assert_int_equal(rc, SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "longer than 16384 bytes"));
	snap_parser_free(p);
	snap_snapshot_free(snap);
	free(text);
	/* 80 text lines of 15,000 bytes: a 1.2 MB mapping. */
	size_t cap = 80 * 15100 + 256, len = 0;
	text = malloc(cap);
	len += (size_t)sprintf(text, HDR);
	for (int k = 0; k < 80; k++) {
		len += (size_t)sprintf(text + len, "Vendor%d: ", k);
		memset(text + len, 'x', 15000);
		len += 15000;
		text[len++] = '\n';
	}
	expect_bad_n(text, len, 71, "more than 1048576 bytes of lines");
	free(text);
}

/* What no kernel prints is refused naming the mapping and its header line:
 * a counter above 2^52 kB, Rss above the mapping's size. 2^52 itself is
 * accepted (the limit is inclusive). */
static void test_impossible_counters(void **state)
{
	(void)state;
	expect_bad(HDR "Size:    4 kB\nSwap:   4503599627370497 kB\nVmFlags: rd ex \n", 1,
		   "mapping 00400000-00401000: Swap 4503599627370497 is more than 2^52");
	expect_bad(BODY_OK HDR "Size:    4 kB\nRss:    8 kB\nVmFlags: rd ex \n", 5,
		   "mapping 00400000-00401000: Rss 8 kB is more than the region's size, 4 kB");
	expect_bad(HDR "Size:    4 kB\nRss:    9223372036854775807 kB\n", 1, "Rss");
	snap_snapshot *snap;
	snap_error err = { 0 };
	const char *edge = HDR "Size:    4 kB\nSwap:   4503599627370496 kB\n";
	assert_int_equal(parse_text(&snap, edge, strlen(edge), 0, &err), 0);
	assert_true(snap_region_get(snap, &snap->regions[0], "Swap") == SNAP_COUNTER_MAX);
	snap_snapshot_free(snap);
	/* smaps_rollup holds counters too. */
	assert_true(snap_snapshot_new(&snap, NULL) == 0);
	const char *rollup = "00400000-00401000 ---p 00000000 00:00 0 [rollup]\n"
			     "Rss:   4503599627370497 kB\n";
	assert_int_equal(snap_parse_rollup(snap, rollup, strlen(rollup), "smaps_rollup",
					   &err), SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "more than 2^52"));
	snap_snapshot_free(snap);
}

/* The model's own checks, called directly: what is wrong, without a
 * source (the caller knows the file). */
static void test_model_says_why(void **state)
{
	(void)state;
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, &err), 0);
	int rss = snap_field_intern(snap, "Rss", 3, SNAP_UNIT_KB, &err);
	int swap = snap_field_intern(snap, "Swap", 4, SNAP_UNIT_KB, NULL);
	assert_int_equal(rss, 0);
	assert_int_equal(swap, 1);
	assert_int_equal(snap_field_intern(snap, "Rss", 3, SNAP_UNIT_KB, &err), rss);
	assert_string_equal(err.message, "");
	snap_entry entries[300];
	for (size_t i = 0; i < 300; i++)
		entries[i] = (snap_entry){ .field = (uint32_t)rss, .value = 4 };
	snap_region r = { .start = 0x1000, .end = 0x2000, .path = "", .perms = "rw-p",
			  .entries = entries, .nentries = 1 };
	assert_int_equal(snap_region_check(snap, &r, &err), 0);
	entries[0].value = 8;
	assert_int_equal(snap_region_check(snap, &r, &err), SNAP_EFORMAT);
	assert_string_equal(err.source, "");
	assert_string_equal(err.message, "Rss 8 kB is more than the region's size, 4 kB");
	assert_int_equal(snap_region_check(snap, &r, NULL), SNAP_EFORMAT);
	entries[0] = (snap_entry){ .field = (uint32_t)swap, .value = SNAP_COUNTER_MAX + 1 };
	assert_int_equal(snap_region_check(snap, &r, &err), SNAP_EFORMAT);
	assert_string_equal(err.message, "Swap 4503599627370497 is more than 2^52 (no "
			    "kernel prints that)");
	/* without a layout, at most 256 entries */
	r.nentries = 300;
	assert_int_equal(snap_snapshot_add_region(snap, &r, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "region 1000-2000: 300 entries and no layout "
			    "(at most 256 without one)");
	assert_int_equal(snap_snapshot_add_region(snap, &r, NULL), SNAP_EINVAL);
	assert_int_equal(snap->nregions, 0);
	r.nentries = 256;
	assert_int_equal(snap_snapshot_add_region(snap, &r, NULL), 0);
	assert_int_equal(snap->nregions, 1);
	snap_snapshot_free(snap);
}

static int model_without_memory(void *ctx)
{
	snap_snapshot *fresh = ctx, *other;
	snap_error err = { 0 };
	snap_region r = { .start = 0x1000, .end = 0x2000, .path = "", .perms = "rw-p" };
	snap_file f = { .dev_major = 8, .dev_minor = 1, .inode = 42 };
	int bad = error_says(snap_snapshot_new(&other, &err), SNAP_ENOMEM, &err,
			     "out of memory creating a snapshot");
	bad |= snap_snapshot_new(&other, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_field_intern(fresh, "Rss", 3, SNAP_UNIT_KB, &err),
			  SNAP_ENOMEM, &err, "out of memory adding the field Rss to the "
			  "snapshot");
	bad |= snap_field_intern(fresh, "Rss", 3, SNAP_UNIT_KB, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_snapshot_add_region(fresh, &r, &err), SNAP_ENOMEM, &err,
			  "out of memory adding region 1000-2000 to the snapshot");
	bad |= snap_snapshot_add_region(fresh, &r, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_snapshot_add_file(fresh, &f, &err), SNAP_ENOMEM, &err,
			  "out of memory adding the mapped file 8:1 42 to the snapshot");
	bad |= snap_snapshot_add_file(fresh, &f, NULL) != SNAP_ENOMEM;
	return bad;
}

static void test_model_out_of_memory(void **state)
{
	(void)state;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	int rc = run_out_of_memory(model_without_memory, snap);
	snap_snapshot_free(snap);
	assert_int_equal(rc, 0);
}

/* An empty text is no error for the parser (a kernel thread has no
 * maps); the commands decide what an empty input means. */
static void test_empty_is_zero_regions(void **state)
{
	(void)state;
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(parse_text(&snap, "", 0, 0, &err), 0);
	assert_int_equal(snap->nregions, 0);
	snap_snapshot_free(snap);
}

static int stop_after_two(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	(void)snap;
	(void)r;
	int *seen = ctx;
	return ++*seen == 2 ? 42 : 0;
}

/* The callback sees each region as soon as it is complete and can stop. */
static void test_streaming_callback(void **state)
{
	(void)state;
	size_t len;
	char *text = read_file("fixtures/ref/sleep/proc.smaps", &len);
	snap_snapshot *snap;
	snap_parser *p;
	int seen = 0;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_parser_new(&p, snap, "t", stop_after_two, &seen, NULL), 0);
	assert_int_equal(snap_parser_feed(p, text, len, NULL), 42);
	assert_int_equal(seen, 2);
	assert_int_equal(snap->nregions, 0); /* nothing stored */
	snap_parser_free(p);
	snap_snapshot_free(snap);
	free(text);
}

static int parser_without_memory(void *ctx)
{
	snap_parser *p;
	snap_error err = { 0 };
	int bad = error_says(snap_parser_new(&p, ctx, "saved.smaps", NULL, NULL, &err),
			     SNAP_ENOMEM, &err, "out of memory creating a parser");
	bad |= strcmp(err.source, "saved.smaps") != 0;
	bad |= snap_parser_new(&p, ctx, NULL, NULL, NULL, NULL) != SNAP_ENOMEM;
	return bad;
}

/* A parser that cannot be made says so, under its source's name. */
static void test_parser_out_of_memory(void **state)
{
	(void)state;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	int rc = run_out_of_memory(parser_without_memory, snap);
	snap_snapshot_free(snap);
	assert_int_equal(rc, 0);
}

static void test_parse_size(void **state)
{
	(void)state;
	int64_t v;
	snap_error err = { 0 };
	assert_int_equal(snap_parse_size("4096", false, &v, &err), 0);
	assert_true(v == 4096);
	assert_int_equal(snap_parse_size("4K", false, &v, NULL), 0);
	assert_true(v == 4096);
	assert_int_equal(snap_parse_size("10M", false, &v, NULL), 0);
	assert_true(v == 10 * 1048576);
	assert_int_equal(snap_parse_size("1.5G", false, &v, NULL), 0);
	assert_true(v == 1610612736);
	assert_int_equal(snap_parse_size("+8M", true, &v, NULL), 0);
	assert_true(v == 8 * 1048576);
	assert_int_equal(snap_parse_size("-64k", true, &v, &err), 0);
	assert_true(v == -65536);
	assert_string_equal(err.message, "");
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "+8M", "a sign is not allowed here" },
		{ "10Q", "expected a number and an optional unit K, M, G, T (such as 4K, "
			 "10M, 1.5G)" },
		{ "", "expected a number and an optional unit K, M, G, T (such as 4K, "
		      "10M, 1.5G)" },
		{ "1e30", "more than 8 EiB" },
		{ "1e999", "more than 8 EiB" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[160];
		snprintf(want, sizeof(want), "bad size '%s': %s", bad[i].text, bad[i].why);
		assert_int_equal(snap_parse_size(bad[i].text, false, &v, &err), SNAP_EINVAL);
		assert_string_equal(err.message, want);
		assert_int_equal(snap_parse_size(bad[i].text, false, &v, NULL), SNAP_EINVAL);
	}
}

static void test_classify_reference(void **state)
{
	(void)state;
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_capture_files(snap, "fixtures/ref/zoo/proc.smaps", true,
					    &err), 0);
	enum snap_kind *kinds = calloc(snap->nregions, sizeof(*kinds));
	assert_int_equal(snap_classify(snap, kinds, NULL, NULL, NULL), 0);
	int count[SNAP_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		count[kinds[i]]++;
		if (strcmp(r->path, "[heap]") == 0)
			assert_int_equal(kinds[i], SNAP_KIND_HEAP);
		if (strcmp(r->path, "[stack]") == 0)
			assert_int_equal(kinds[i], SNAP_KIND_STACK);
		if (strstr(r->path, "libc.so.6"))
			assert_int_equal(kinds[i], SNAP_KIND_LIB);
		/* shared memory objects, and writable shared mappings; a
		 * read-only shared mapping of an ordinary file is a file */
		if (strncmp(r->path, "/memfd:", 7) == 0 ||
		    (r->perms[3] == 's' && r->perms[1] == 'w'))
			assert_int_equal(kinds[i], SNAP_KIND_SHMEM);
		if (strcmp(r->path, "/srv/demo/zoo-readonly.dat") == 0)
			assert_int_equal(kinds[i], SNAP_KIND_FILE);
		if (strcmp(r->path, "[vdso]") == 0)
			assert_int_equal(kinds[i], SNAP_KIND_SPECIAL);
	}
	/* zoo.c starts two threads: two guard + stack pairs. */
	assert_int_equal(count[SNAP_KIND_THREAD_STACK], 2);
	assert_true(count[SNAP_KIND_EXE] >= 4);
	assert_string_equal(snap_kind_name(SNAP_KIND_THREAD_STACK), "thread-stack");
	assert_int_equal(snap_kind_parse("anon-named"), SNAP_KIND_ANON_NAMED);
	assert_int_equal(snap_kind_parse("nope"), -1);
	free(kinds);
	snap_snapshot_free(snap);
}

#define ANON(range, perms, flags) range " " perms " 00000000 00:00 0 \n" \
	"Size:                  4 kB\nVmFlags: " flags " \n"

/* Neighbour rules, with VmFlags but no MAP_STACK mark and no kernel
 * release (so the bare guard pattern is all there is): a 64 MiB aligned
 * rw/--- pair mapped MAP_NORESERVE is an arena, rw-p right above a small
 * ---p is a thread stack and that ---p its guard, a lone ---p touching
 * nothing is reserved address space, and an aligned 64 MiB mapping
 * without "nr" is plain anon. */
static void test_classify_neighbours(void **state)
{
	(void)state;
	const char *text =
		ANON("7f0000000000-7f0000021000", "rw-p", "rd wr mr mw me nr")
		ANON("7f0000021000-7f0004000000", "---p", "mr mw me nr")
		ANON("7f0010000000-7f0010001000", "---p", "mr mw me")
		ANON("7f0010001000-7f0010801000", "rw-p", "rd wr mr mw me ac")
		ANON("7f0020000000-7f0020001000", "---p", "mr mw me")
		ANON("7f0020002000-7f0020003000", "rw-p", "rd wr mr mw me ac")
		ANON("7f0028000000-7f002c000000", "rw-p", "rd wr mr mw me nr")
		ANON("7f0030000000-7f0034000000", "rw-p", "rd wr mr mw me ac");
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(parse_text(&snap, text, strlen(text), 0, &err), 0);
	enum snap_kind kinds[8];
	assert_int_equal(snap->nregions, 8);
	assert_int_equal(snap_classify(snap, kinds, NULL, NULL, NULL), 0);
	assert_int_equal(kinds[0], SNAP_KIND_ARENA);
	assert_int_equal(kinds[1], SNAP_KIND_ARENA);
	assert_int_equal(kinds[2], SNAP_KIND_GUARD);
	assert_int_equal(kinds[3], SNAP_KIND_THREAD_STACK);
	assert_int_equal(kinds[4], SNAP_KIND_RESERVED);
	assert_int_equal(kinds[5], SNAP_KIND_ANON); /* not adjacent to the guard */
	assert_int_equal(kinds[6], SNAP_KIND_ARENA); /* a fully grown heap */
	assert_int_equal(kinds[7], SNAP_KIND_ANON);  /* aligned by chance */
	/* A stack without a guard page (a custom thread stack) is known by
	 * the thread's stack pointer inside it. */
	uint64_t sp = 0x7f0030001234ull;
	snap->process.thread_sp = &sp;
	snap->process.nthread_sp = 1;
	assert_int_equal(snap_classify(snap, kinds, NULL, NULL, NULL), 0);
	assert_int_equal(kinds[7], SNAP_KIND_THREAD_STACK);
	assert_int_equal(kinds[5], SNAP_KIND_ANON);
	snap->process.thread_sp = NULL;
	snap->process.nthread_sp = 0;
	snap_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_fixtures_round_trip),
		cmocka_unit_test(test_made_fixtures_round_trip),
		cmocka_unit_test(test_split_feeds),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_odd_names_kept_verbatim),
		cmocka_unit_test(test_old_and_vendor_kernels),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_counters_are_numbers),
		cmocka_unit_test(test_impossible_counters),
		cmocka_unit_test(test_model_says_why),
		cmocka_unit_test(test_model_out_of_memory),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_empty_is_zero_regions),
		cmocka_unit_test(test_streaming_callback),
		cmocka_unit_test(test_parser_out_of_memory),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_classify_reference),
		cmocka_unit_test(test_classify_neighbours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
