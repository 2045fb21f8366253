/* Every input a fuzzer once crashed on (tests/fuzz/regressions/<harness>/)
 * and a set of seeds, replayed through the harnesses built with the normal
 * toolchain: in make check they must pass their invariants, and in the
 * sanitizer build without a report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

int fuzz_one_smaps(const uint8_t *data, size_t size);
int fuzz_one_json(const uint8_t *data, size_t size);
int fuzz_one_gate(const uint8_t *data, size_t size);
int fuzz_one_diff(const uint8_t *data, size_t size);

typedef int (*harness_fn)(const uint8_t *, size_t);

static const char *const smaps_seeds[] = {
	"fixtures/ref/sleep/proc.smaps", "fixtures/ref/zoo/proc.smaps",
	"fixtures/ref/mapzoo/smaps", "fixtures/ref/evolve_before/smaps",
	"fixtures/ref/evolve_after/smaps", "fixtures/ref/synthetic/smaps_inconsistent",
	"fixtures/ref/synthetic/smaps_longname", "fixtures/smaps/kernel-4.19.smaps",
	"fixtures/smaps/vendor-unknown-keys.smaps", "fixtures/smaps/odd-names.smaps",
	"fixtures/smaps/latin1-path.smaps",
};
#define NSEEDS (sizeof(smaps_seeds) / sizeof(*smaps_seeds))

static size_t replay_dir(const char *name, harness_fn fn)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "tests/fuzz/regressions/%s", name);
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		char *data = read_file(path, &len);
		assert_non_null(data);
		fn((const uint8_t *)data, len);
		free(data);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_smaps_harness(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSEEDS; i++) {
		size_t len;
		char *text = read_file(smaps_seeds[i], &len);
		assert_non_null(text);
		fuzz_one_smaps((const uint8_t *)text, len);
		/* and every prefix cut mid-line: refused or accepted, no crash */
		for (size_t cut = 1; cut < len && cut < 4000; cut += 397)
			fuzz_one_smaps((const uint8_t *)text, cut);
		free(text);
	}
	replay_dir("smaps", fuzz_one_smaps);
}

static char *json_of(const char *smaps_path, size_t *len)
{
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_capture_files(snap, smaps_path, true, NULL), 0);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_int_equal(fmt_json_write(f, snap), 0);
	fclose(f);
	snap_snapshot_free(snap);
	return buf;
}

static void test_json_harness(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSEEDS; i++) {
		size_t len;
		char *json = json_of(smaps_seeds[i], &len);
		fuzz_one_json((const uint8_t *)json, len);
		for (size_t cut = 1; cut < len; cut += len / 7 + 1)
			fuzz_one_json((const uint8_t *)json, cut);
		free(json);
	}
	replay_dir("json", fuzz_one_json);
}

static void test_gate_harness(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"rss>+10%", "rss>+8M", "heap.rss>+1M", "anon.dirty>+64M", "dup-libs>0",
		"new-libs>0", "thread-stacks>+0", "regions>+100", "rss>>1", "", ">",
		"heap.", "rss>+1e999", "rss>+99999999999999999999G", "1.5G", "-4k",
	};
	for (size_t i = 0; i < sizeof(exprs) / sizeof(*exprs); i++)
		fuzz_one_gate((const uint8_t *)exprs[i], strlen(exprs[i]));
	replay_dir("gate", fuzz_one_gate);
}

static void test_diff_harness(void **state)
{
	(void)state;
	size_t a_len, b_len;
	char *a = read_file("fixtures/ref/evolve_before/smaps", &a_len);
	char *b = read_file("fixtures/ref/evolve_after/smaps", &b_len);
	char *pair = malloc(a_len + b_len + 1);
	memcpy(pair, a, a_len);
	pair[a_len] = '\0';
	memcpy(pair + a_len + 1, b, b_len);
	fuzz_one_diff((const uint8_t *)pair, a_len + b_len + 1);
	fuzz_one_diff((const uint8_t *)pair, a_len + 1 + b_len / 2);
	free(pair);
	free(a);
	free(b);
	replay_dir("diff", fuzz_one_diff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaps_harness),
		cmocka_unit_test(test_json_harness),
		cmocka_unit_test(test_gate_harness),
		cmocka_unit_test(test_diff_harness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
