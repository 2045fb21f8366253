/* The helpers every report shares (formats/render.c): one kB formatter
 * (zero has no sign, whatever is asked), one markdown cell rule (markdown's
 * characters escaped, newline and TAB as a space) and the gate verdicts.
 * Then the rule through the real binary: this test maps a file whose name
 * holds a TAB, captures itself live as the mapping fills, and every
 * markdown report (summary, check, diff, trend) shows the name with a
 * space and holds no TAB at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats.h"
#include "render.h"
#include "snap.h"
#include "util.h"

#define SNAPS 5
#define MAP_BYTES (SNAPS * (1u << 20))

static const char *kb(double v, bool sign)
{
	static char buf[4][32];
	static int next;
	char *b = buf[next++ % 4];
	snap_format_kb(b, 32, v, sign);
	return b;
}

static void kb_formatter_zero_has_no_sign(void **state)
{
	(void)state;
	assert_string_equal(kb(0, true), "0K");
	assert_string_equal(kb(-0.0, true), "0K");
	assert_string_equal(kb(-0.0, false), "0K");
	assert_string_equal(kb(512, true), "+512K");
	assert_string_equal(kb(-512, true), "-512K");
	assert_string_equal(kb(2.5, false), "2.5K");
	assert_string_equal(kb(1536, true), "+1.5M");
	assert_string_equal(kb(-1536, true), "-1.5M");
	assert_string_equal(kb(3.0 * 1024 * 1024, false), "3.00G");
	char buf[32];
	assert_string_equal(fmt_kb(buf, sizeof(buf), 0, true), "0K");
	assert_string_equal(fmt_kb(buf, sizeof(buf), 1023, true), "+1023K");
	assert_string_equal(fmt_kb(buf, sizeof(buf), INT64_MIN, true), "-8796093022208.00G");
	assert_string_equal(fmt_rate(buf, sizeof(buf), 0, true), "0K/min");
	assert_string_equal(fmt_rate(buf, sizeof(buf), 5120, true), "+5.0M/min");
}

/* What a writer of f wrote, as a malloc'd string. */
typedef struct {
	FILE *f;
	char *text;
	size_t len;
} mem;

static void mem_open(mem *m)
{
	m->f = open_memstream(&m->text, &m->len);
	assert_non_null(m->f);
}

static char *mem_close(mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->text;
}

static void markdown_cells_one_rule(void **state)
{
	(void)state;
	mem m;
	mem_open(&m);
	fmt_markdown_cstr(m.f, "a\tb|c\n*d_e`[x]<y>#~\\");
	fmt_markdown_cstr(m.f, NULL);
	char *out = mem_close(&m);
	assert_string_equal(out, "a b\\|c \\*d\\_e\\`\\[x\\]\\<y\\>\\#\\~\\\\?");
	free(out);
}

static void verdicts_in_text_and_markdown(void **state)
{
	(void)state;
	snap_violation v[2] = { 0 };
	snprintf(v[0].message, sizeof(v[0].message), "rss>+1M: Rss +2.0M (1.0M -> 3.0M)");
	snprintf(v[1].message, sizeof(v[1].message), "heap_x|y");
	mem m;
	mem_open(&m);
	fmt_markdown_verdict(m.f, 0, NULL, 0);
	fmt_markdown_verdict(m.f, 3, v, 0);
	fmt_markdown_verdict(m.f, 3, v, 2);
	char *out = mem_close(&m);
	assert_string_equal(out, "**Gate passed** (3 checks).\n\n"
			    "**Gate FAILED**: 2 of 3 checks.\n\n"
			    "- rss\\>+1M: Rss +2.0M (1.0M -\\> 3.0M)\n"
			    "- heap\\_x\\|y\n\n");
	free(out);

	mem_open(&m);
	fmt_safe_out safe;
	FILE *f = fmt_safe_open(&safe, m.f);
	assert_non_null(f);
	fmt_text_verdict(f, &safe, false, 2, v, 1);
	assert_int_equal(fmt_safe_close(&safe), 0);
	out = mem_close(&m);
	assert_string_equal(out, "\nGATE FAILED (1 of 2 checks failed)\n"
			    "  rss>+1M: Rss +2.0M (1.0M -> 3.0M)\n");
	free(out);
}

/* ---- the rule through the binary, on this process ---- */

static void capture_self(const char *out)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	cmd_result res = run_mapsnap_ok(0, "capture", pid, "-o", out, NULL);
	cmd_result_free(&res);
}

static void expect_markdown(const char *what, const cmd_result *res, bool names_it)
{
	if (memchr(res->out, '\t', res->out_len))
		fail_msg("%s: a TAB in the markdown:\n%s", what, res->out);
	if (names_it && !strstr(res->out, "tab here.dat"))
		fail_msg("%s: the file is not named 'tab here.dat':\n%s", what, res->out);
}

static void every_markdown_report_writes_a_tab_as_a_space(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *path, *snaps[SNAPS];
	assert_true(asprintf(&path, "%s/tab\there.dat", dir) > 0);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, MAP_BYTES), 0);
	char *map = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	close(fd);
	/* Each snapshot after another MiB of the private mapping was dirtied:
	 * the region grows steadily from snapshot to snapshot. */
	for (int s = 0; s < SNAPS; s++) {
		memset(map + (size_t)s * (1u << 20), 0x5a, 1u << 20);
		assert_true(asprintf(&snaps[s], "%s/s%d.json", dir, s) > 0);
		capture_self(snaps[s]);
	}
	cmd_result r = run_mapsnap_ok(0, "summary", "--format", "markdown", snaps[SNAPS - 1], NULL);
	expect_markdown("summary", &r, false);
	cmd_result_free(&r);
	r = run_mapsnap_ok(0, "check", "--format", "markdown", snaps[SNAPS - 1], NULL);
	expect_markdown("check", &r, false);
	cmd_result_free(&r);
	r = run_mapsnap_ok(0, "diff", "--format", "markdown", "--limit", "0", snaps[0],
			   snaps[SNAPS - 1], NULL);
	expect_markdown("diff", &r, true);
	cmd_result_free(&r);
	r = run_mapsnap_ok(0, "trend", "--format", "markdown", "--limit", "0", snaps[0],
			   snaps[1], snaps[2], snaps[3], snaps[4], NULL);
	expect_markdown("trend", &r, true);
	cmd_result_free(&r);
	/* The text report keeps the TAB: only markdown cells are one line. */
	r = run_mapsnap_ok(0, "diff", "--limit", "0", snaps[0], snaps[SNAPS - 1], NULL);
	assert_non_null(strstr(r.out, "tab\there.dat"));
	cmd_result_free(&r);
	munmap(map, MAP_BYTES);
	for (int s = 0; s < SNAPS; s++)
		free(snaps[s]);
	free(path);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kb_formatter_zero_has_no_sign),
		cmocka_unit_test(markdown_cells_one_rule),
		cmocka_unit_test(verdicts_in_text_and_markdown),
		cmocka_unit_test(every_markdown_report_writes_a_tab_as_a_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
