/* Snapshot JSON: write -> load -> write is stable, the checksum catches
 * edits, streams of documents load, and malformed documents are refused
 * with a message naming what is wrong. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

static const char *const fixtures[] = {
	"fixtures/ref/sleep/proc.smaps", "fixtures/ref/python3/proc.smaps",
	"fixtures/ref/zoo/proc.smaps", "fixtures/ref/mapzoo/smaps",
	"fixtures/ref/synthetic/smaps_inconsistent",
	"fixtures/ref/synthetic/smaps_pkey",
	"fixtures/smaps/kernel-4.19.smaps",
	"fixtures/smaps/vendor-unknown-keys.smaps",
	"fixtures/smaps/odd-names.smaps", "fixtures/smaps/latin1-path.smaps",
};

static snap_snapshot *from_fixture(const char *path)
{
	snap_snapshot *snap;
	snap_error err = { 0 };
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	if (snap_capture_files(snap, path, true, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	return snap;
}

__attribute__((noinline)) static char *to_json(const snap_snapshot *snap, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_int_equal(fmt_json_write(f, snap), 0);
	fclose(f);
	return buf;
}

__attribute__((noinline)) static char *to_smaps(const snap_snapshot *snap, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_int_equal(fmt_smaps_write(f, snap), 0);
	fclose(f);
	return buf;
}

/* Loads one document from text; returns the loader's status. */
static int load_text(snap_snapshot **out, const char *text, size_t len,
		     snap_error *err)
{
	FILE *f = fmemopen((void *)text, len, "r");
	assert_non_null(f);
	int rc = fmt_json_load(out, f, "test.json", err);
	fclose(f);
	return rc;
}

static void test_write_load_write_stable(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(*fixtures); i++) {
		snap_snapshot *snap = from_fixture(fixtures[i]), *back;
		size_t len, len2, smaps_len, orig_len;
		char *json = to_json(snap, &len);
		snap_error err = { 0 };
		if (load_text(&back, json, len, &err) != 0)
			fail_msg("%s: %s", fixtures[i], err.message);
		assert_false(fmt_checksum_mismatch(back));
		char *again = to_json(back, &len2);
		if (len != len2 || memcmp(json, again, len) != 0)
			fail_msg("%s: JSON not stable", fixtures[i]);
		/* And the loaded snapshot still writes the kernel's text. */
		char *smaps = to_smaps(back, &smaps_len);
		char *orig = read_file(fixtures[i], &orig_len);
		assert_int_equal(smaps_len, orig_len);
		assert_memory_equal(smaps, orig, orig_len);
		assert_int_equal(back->nregions, snap->nregions);
		free(orig);
		free(smaps);
		free(again);
		free(json);
		snap_snapshot_free(back);
		snap_snapshot_free(snap);
	}
}

static void test_process_facts_survive(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/ref/mapzoo/smaps"), *back;
	size_t len;
	char *json = to_json(snap, &len);
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_true(back->process.known);
	assert_int_equal(back->process.pid, 7110);
	assert_true(back->process.start_stack == 140722754245696ull);
	assert_int_equal(back->process.argc, 1);
	assert_string_equal(back->process.argv[0], "./mapzoo");
	assert_int_equal(back->nrollup, snap->nrollup);
	assert_true(back->nrollup > 10);
	free(json);
	snap_snapshot_free(back);
	snap_snapshot_free(snap);
}

/* Zero counters are omitted: absent means 0, and the file stays small. */
static void test_zero_counters_omitted(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/ref/sleep/proc.smaps");
	size_t len;
	char *json = to_json(snap, &len);
	const char *vsyscall = strstr(json, "\"path\":\"[vsyscall]\"");
	assert_non_null(vsyscall);
	const char *eol = strchr(vsyscall, '\n');
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(eol - vsyscall), vsyscall);
	assert_null(strstr(line, "\"Rss\""));
	assert_non_null(strstr(line, "\"Size\":4"));
	/* One region object per line. */
	size_t lines = 0;
	for (const char *p = json; (p = strstr(p, "\n{\"start\":")); p++)
		lines++;
	assert_int_equal(lines, snap->nregions);
	free(json);
	snap_snapshot_free(snap);
}

/* Loads json with the bytes at `at` replaced by `with`: the checksum,
 * which covers the whole document, must no longer match. */
static void expect_edit_detected(const char *json, size_t len, const char *at,
				 const char *with)
{
	char *copy = malloc(len + 1);
	memcpy(copy, json, len + 1);
	char *where = strstr(copy, at);
	if (!where)
		fail_msg("no '%s' in the document", at);
	assert_int_equal(strlen(with), strlen(at));
	memcpy(where, with, strlen(with));
	snap_snapshot *back;
	assert_int_equal(load_text(&back, copy, len, NULL), 0);
	if (!fmt_checksum_mismatch(back))
		fail_msg("edit of '%s' not detected", at);
	snap_snapshot_free(back);
	free(copy);
}

static void test_checksum_detects_edit(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/ref/sleep/proc.smaps"), *back;
	snap->process.known = true;
	snap->process.comm = "sleep";
	snap->host.hostname = "box";
	size_t len;
	char *json = to_json(snap, &len);
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_false(fmt_checksum_mismatch(back));
	assert_true(back->checksum_covers_document);
	snap_snapshot_free(back);
	expect_edit_detected(json, len, "\"Pss\":2,", "\"Pss\":1,");
	expect_edit_detected(json, len, "\"comm\":\"sleep\"", "\"comm\":\"sleeq\"");
	expect_edit_detected(json, len, "\"hostname\":\"box\"", "\"hostname\":\"bot\"");
	expect_edit_detected(json, len, "\"region_count\":37", "\"region_count\":38");
	/* Even white space: the checksum is of the bytes. */
	expect_edit_detected(json, len, ",\n\"fields\"", ", \"fields\"");
	free(json);
	snap_snapshot_free(snap);
}

/* Files written before the checksum covered the whole document carry an
 * "xxh3-64:" checksum of their regions alone: they still load, checked
 * by that rule. */
static uint64_t checksum_of(const snap_snapshot *snap)
{
	uint64_t sum = 0;
	assert_int_equal(snap_snapshot_checksum(&sum, snap, NULL), 0);
	return sum;
}

static void test_regions_checksum_still_checked(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/ref/sleep/proc.smaps"), *back;
	size_t len;
	char *json = to_json(snap, &len);
	char *sum = strstr(json, "\"checksum\":\"" FMT_CHECKSUM_DOC);
	assert_non_null(sum);
	char legacy[80];
	int n = snprintf(legacy, sizeof(legacy), "\"checksum\":\"xxh3-64:%016" PRIx64 "\"}\n",
			 checksum_of(snap));
	memcpy(sum, legacy, (size_t)n + 1);
	len = strlen(json);
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_true(back->has_stored_checksum);
	assert_false(back->checksum_covers_document);
	assert_false(fmt_checksum_mismatch(back));
	snap_snapshot_free(back);
	/* An edited region is still caught; the process facts are not covered. */
	expect_edit_detected(json, len, "\"Pss\":2,", "\"Pss\":1,");
	free(json);
	snap_snapshot_free(snap);
}

static void test_stream_of_documents(void **state)
{
	(void)state;
	snap_snapshot *a = from_fixture("fixtures/ref/sleep/proc.smaps");
	snap_snapshot *b = from_fixture("fixtures/ref/zoo/proc.smaps");
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(fmt_json_write(f, a), 0);
	assert_int_equal(fmt_json_write(f, b), 0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	snap_snapshot *x, *y, *z = NULL;
	assert_int_equal(fmt_json_load(&x, f, "s", NULL), 0);
	assert_int_equal(fmt_json_load(&y, f, "s", NULL), 0);
	assert_int_equal(fmt_json_load(&z, f, "s", NULL), 1);
	assert_null(z);
	assert_int_equal(x->nregions, a->nregions);
	assert_int_equal(y->nregions, b->nregions);
	fclose(f);
	free(buf);
	snap_snapshot_free(x);
	snap_snapshot_free(y);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void test_invalid_utf8_path_is_exact(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/smaps/latin1-path.smaps"), *back;
	size_t len;
	char *json = to_json(snap, &len);
	assert_non_null(strstr(json, "\"path_hex\":\""));
	assert_non_null(strstr(json, "caf\\ufffd-latin1"));
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_int_equal(back->regions[0].path_len, snap->regions[0].path_len);
	assert_memory_equal(back->regions[0].path, "/srv/data/caf\xe9-latin1.bin",
			    back->regions[0].path_len);
	snap_snapshot_free(back);
	free(json);
	snap_snapshot_free(snap);
}

#define DOC_HEAD "{\"schema\":\"mapsnap.snapshot/1\",\"fields\":[\"Size\",\"Rss\"],"
#define REGION "{\"start\":\"1000\",\"end\":\"2000\",\"perms\":\"r--p\"," \
	"\"offset\":\"00000000\",\"dev\":\"00:00\",\"inode\":0,\"path\":\"\",\"Size\":4}"

static void expect_refused(const char *doc, const char *words)
{
	snap_snapshot *snap = NULL;
	snap_error err = { 0 };
	int rc = load_text(&snap, doc, strlen(doc), &err);
	if (rc >= 0)
		fail_msg("accepted: %s", doc);
	assert_null(snap);
	assert_string_equal(err.source, "test.json");
	if (!strstr(err.message, words))
		fail_msg("message '%s' lacks '%s'", err.message, words);
}

static void test_malformed_documents(void **state)
{
	(void)state;
	/* the baseline is accepted */
	snap_snapshot *ok;
	const char *good = DOC_HEAD "\"regions\":[" REGION "]}";
	assert_int_equal(load_text(&ok, good, strlen(good), NULL), 0);
	snap_snapshot_free(ok);

	expect_refused("{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[", "invalid JSON");
	expect_refused("[1,2,3]", "not a JSON object");
	expect_refused("{\"regions\":[]}", "no \"schema\"");
	expect_refused("{\"schema\":\"other/9\",\"regions\":[]}", "unsupported schema");
	expect_refused(DOC_HEAD "\"x\":1}", "no \"regions\"");
	expect_refused(DOC_HEAD "\"regions\":{}}", "not an array");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"1000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		       "\"Rss\":\"12\"}]}", "\"Rss\" is not an integer");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"1000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		       "\"Rss\":-4}]}", "negative");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"1000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		       "\"Rss\":1180591620717411303424}]}", "invalid JSON");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"3000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0}]}",
		       "start is above end");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"10000000000000000\","
		       "\"end\":\"2000\",\"perms\":\"r--p\",\"offset\":\"0\","
		       "\"dev\":\"00:00\",\"inode\":0}]}", "hex");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"1000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"zz\",\"inode\":0}]}",
		       "MAJOR:MINOR");
	expect_refused(DOC_HEAD "\"regions\":[" "{\"start\":\"1000\",\"end\":\"2000\","
		       "\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		       "\"Rss\":4,\"Rss\":8}]}", "invalid JSON");
	expect_refused(DOC_HEAD "\"regions\":[" REGION "],\"checksum\":\"md5:00\"}",
		       "checksum");
	expect_refused("{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[\"\xff\xfe\"]}",
		       "invalid JSON");
	expect_refused(DOC_HEAD "\"regions\":[7]}", "region 1: not an object");
}

/* What capture read of the mapped files, and where the process runs,
 * survive a round trip; snapshots without them still load. */
static void test_files_and_container_survive(void **state)
{
	(void)state;
	snap_snapshot *snap = from_fixture("fixtures/ref/mapzoo/smaps"), *back;
	snap_file f = { .dev_major = 0xfe, .dev_minor = 1, .inode = 4242,
			.bss_bytes = 8192, .at_path_known = true };
	for (size_t i = 0; i < 20; i++)
		f.build_id.bytes[i] = (uint8_t)(i * 13);
	f.build_id.len = 20;
	f.build_id.source = SNAP_BUILD_ID_QUERY;
	f.at_path = f.build_id;
	f.at_path.bytes[0] ^= 1;
	f.at_path.source = SNAP_BUILD_ID_NOTE;
	assert_int_equal(snap_snapshot_add_file(snap, &f, NULL), 0);
	snap_file g = { .dev_major = 8, .dev_minor = 0x12, .inode = 7, .bss_bytes = -1 };
	g.build_id.len = 16;
	g.build_id.source = SNAP_BUILD_ID_FALLBACK;
	assert_int_equal(snap_snapshot_add_file(snap, &g, NULL), 0);
	snap->process.mnt_ns = "mnt:[4026532215]";
	snap->process.cgroup = "/system.slice/docker-0123abcd.scope";
	snap->process.container_id = "0123abcd";
	size_t len;
	char *json = to_json(snap, &len);
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_false(fmt_checksum_mismatch(back));
	assert_int_equal(back->nfiles, 2);
	const snap_file *bf = snap_snapshot_file(back, 0xfe, 1, 4242);
	assert_non_null(bf);
	assert_int_equal(bf->build_id.len, 20);
	assert_memory_equal(bf->build_id.bytes, f.build_id.bytes, 20);
	assert_int_equal(bf->build_id.source, SNAP_BUILD_ID_QUERY);
	assert_int_equal(bf->bss_bytes, 8192);
	assert_true(bf->at_path_known);
	assert_memory_equal(bf->at_path.bytes, f.at_path.bytes, 20);
	assert_int_equal(bf->at_path.source, SNAP_BUILD_ID_NOTE);
	const snap_file *bg = snap_snapshot_file(back, 8, 0x12, 7);
	assert_non_null(bg);
	assert_int_equal(bg->build_id.source, SNAP_BUILD_ID_FALLBACK);
	assert_int_equal(bg->bss_bytes, -1);
	assert_false(bg->at_path_known);
	assert_string_equal(back->process.mnt_ns, "mnt:[4026532215]");
	assert_string_equal(back->process.container_id, "0123abcd");
	/* and it writes back the same bytes */
	size_t len2;
	char *again = to_json(back, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(json, again, len);
	free(again);
	free(json);
	snap_snapshot_free(back);
	snap_snapshot_free(snap);
	expect_refused(DOC_HEAD "\"regions\":[],\"files\":[{\"dev\":\"fe:00\",\"inode\":1,"
		       "\"build_id\":\"abc\"}]}", "not a build-id in hex");
	expect_refused(DOC_HEAD "\"regions\":[],\"files\":[{\"dev\":\"fe:00\",\"inode\":1,"
		       "\"build_id\":\"abcd\",\"build_id_source\":\"guess\"}]}",
		       "no known source");
	expect_refused(DOC_HEAD "\"regions\":[],\"files\":{}}", "not an array");
}

static void test_deep_nesting_refused(void **state)
{
	(void)state;
	size_t depth = 100000;
	char *doc = malloc(depth * 6 + 1);
	memset(doc, '[', depth);
	memset(doc + depth, ']', depth);
	doc[depth * 2] = '\0';
	expect_refused(doc, "not a JSON object");
	for (size_t i = 0; i < depth; i++)
		memcpy(doc + 5 * i, "{\"a\":", 5);
	memset(doc + 5 * depth, '}', depth);
	doc[depth * 6] = '\0';
	expect_refused(doc, "invalid JSON: too deeply nested");
	free(doc);
}

/* Loads text; returns the loader's code and how far it read. */
static int load_counting(const char *text, size_t len, snap_error *err, long *read)
{
	FILE *f = fmemopen((void *)text, len, "r");
	assert_non_null(f);
	snap_snapshot *snap = NULL;
	int rc = fmt_json_load(&snap, f, "big.json", err);
	*read = ftell(f);
	fclose(f);
	snap_snapshot_free(snap);
	return rc;
}

/* A document may take 32 MiB outside its regions and 16 MiB per region
 * object; more is refused as soon as it is read, not after the whole
 * input. Garbage is refused within the first 4 KiB. */
static void test_size_limits_refuse_early(void **state)
{
	(void)state;
	size_t len = 48 << 20;
	char *text = malloc(len + 1);
	snap_error err = { 0 };
	long read;
	int n = sprintf(text, "{\"schema\":\"mapsnap.snapshot/1\",\"junk\":\"");
	memset(text + n, 'a', len - (size_t)n - 2);
	memcpy(text + len - 2, "\"}", 2);
	assert_int_equal(load_counting(text, len, &err, &read), SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "more than 32 MiB of JSON with 0 regions"));
	assert_true(read <= (32 << 20) + 1);
	/* One region object of 17 MiB. */
	n = sprintf(text, "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[{\"path\":\"");
	memset(text + n, 'a', len - (size_t)n - 4);
	memcpy(text + len - 4, "\"}]}", 4);
	assert_int_equal(load_counting(text, len, &err, &read), SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "region 1 is larger than 16 MiB"));
	assert_true(read <= (16 << 20) + 64);
	/* Garbage after a brace: refused at 4 KiB. */
	for (size_t i = 1; i < len; i++)
		text[i] = (char)(i * 7919 % 251 + 1);
	text[0] = '{';
	assert_int_equal(load_counting(text, len, &err, &read), SNAP_EFORMAT);
	assert_non_null(strstr(err.message, "invalid JSON"));
	assert_true(read <= 4096);
	free(text);
}

/* A loaded capture_ms may be any JSON number: 1e300 is written back as
 * the number it is (it used to come out as a NUL and stale bytes). */
static void test_huge_capture_ms_written_whole(void **state)
{
	(void)state;
	const char *doc = "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[],\"capture_ms\":1e300}";
	snap_snapshot *snap;
	assert_int_equal(load_text(&snap, doc, strlen(doc), NULL), 0);
	size_t len;
	char *json = to_json(snap, &len);
	assert_int_equal(strlen(json), len);
	char want[400];
	snprintf(want, sizeof(want), ",\"capture_ms\":%.3f,", 1e300);
	assert_true(strlen(want) > 300);
	assert_non_null(strstr(json, want));
	snap_snapshot *back;
	assert_int_equal(load_text(&back, json, len, NULL), 0);
	assert_true(back->capture_ms == 1e300);
	assert_false(fmt_checksum_mismatch(back));
	snap_snapshot_free(back);
	free(json);
	snap_snapshot_free(snap);
}

/* A header the loader would refuse (here a command line of 20 MiB of
 * control characters, 120 MiB escaped) is not written at all: the
 * writer's buffer has a cap, and the error comes back. */
static void test_writer_cap(void **state)
{
	(void)state;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	size_t n = 20 << 20;
	char *arg = malloc(n + 1);
	memset(arg, 1, n);
	arg[n] = '\0';
	const char *argv[] = { arg };
	snap->process.known = true;
	snap->process.argv = argv;
	snap->process.argc = 1;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_int_equal(fmt_json_write(f, snap), SNAP_ENOMEM);
	fclose(f);
	assert_int_equal(len, 0);
	free(out);
	free(arg);
	snap->process.argv = NULL;
	snap_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_load_write_stable),
		cmocka_unit_test(test_process_facts_survive),
		cmocka_unit_test(test_files_and_container_survive),
		cmocka_unit_test(test_zero_counters_omitted),
		cmocka_unit_test(test_checksum_detects_edit),
		cmocka_unit_test(test_regions_checksum_still_checked),
		cmocka_unit_test(test_stream_of_documents),
		cmocka_unit_test(test_invalid_utf8_path_is_exact),
		cmocka_unit_test(test_malformed_documents),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_size_limits_refuse_early),
		cmocka_unit_test(test_huge_capture_ms_written_whole),
		cmocka_unit_test(test_writer_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
