/* Hostile snapshots and processes through the real binary: every field a
 * snapshot holds (comm, cmdline, exe, host facts, every path, text lines,
 * status and rollup keys) carries ESC, OSC, CSI (raw 0x9b and U+009B),
 * other controls and bytes that are not UTF-8, and every command in every
 * format must keep them from the terminal: no escape sequence but
 * mapsnap's own colours reaches stdout or stderr. VmFlags and field names
 * that are not what a kernel prints are refused. Counters no kernel prints
 * are load errors; counters that only add up past 2^63 saturate, and the
 * gate still sees them as huge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "snap.h"
#include "util.h"

struct fixture {
	char *dir;
	char *one, *other, *series, *smaps; /* hostile inputs */
};

static struct fixture fx;

/* The hostile strings, as JSON escapes: an OSC that retitles the
 * terminal, a CSI that clears it, C1 CSI (U+009B), CR, DEL. */
#define OSC "\\u001b]0;pwned\\u0007"
#define CSI "\\u001b[2J"
#define C1 "\\u009b31m"
#define MIX OSC CSI C1 "\\r\\u007f"

/* One hostile document; heap_kb and second make a series of them. */
static char *hostile_doc(unsigned heap_kb, int second)
{
	char *doc;
	int n = asprintf(&doc,
		"{\"schema\":\"mapsnap.snapshot/1\",\"tool\":\"mapsnap " CSI "\","
		"\"captured_at\":\"2026-11-22T02:00:%02d.000Z\",\"source\":\"procfs" OSC "\","
		"\"host\":{\"page_size\":4096,\"hostname\":\"h" MIX "\",\"kernel\":\"6.1" MIX "\","
		"\"machine\":\"x86" CSI "\",\"boot_id\":\"b" OSC "\"},"
		"\"process\":{\"pid\":4242,\"start_time\":7,\"start_stack\":0,\"comm\":\"" MIX "\","
		"\"exe\":\"/usr/bin/" MIX "\",\"cmdline\":[\"" MIX "\",\"arg" C1 "\"],\"threads\":1,"
		"\"status\":{\"Name\":\"" MIX "\",\"Threads\":\"1\",\"" OSC "\":\"x" CSI "\"}},"
		"\"regions\":[\n"
		"{\"start\":\"00400000\",\"end\":\"00402000\",\"perms\":\"r-xp\",\"offset\":\"00000000\","
		"\"dev\":\"08:01\",\"inode\":11,\"path\":\"/usr/lib/lib" MIX ".so.1\",\"Size\":8,"
		"\"Rss\":8,\"Pss\":8,\"Private_Clean\":8,\"Vendor\":\"v" MIX "\",\"VmFlags\":\"rd ex\"},\n"
		"{\"start\":\"00402000\",\"end\":\"00404000\",\"perms\":\"rw-p\",\"offset\":\"00002000\","
		"\"dev\":\"08:01\",\"inode\":11,\"path\":\"/usr/lib/lib" MIX ".so.1\",\"Size\":8,"
		"\"Rss\":8,\"Private_Dirty\":8,\"Vendor\":\"w\",\"VmFlags\":\"rd wr\"},\n"
		"{\"start\":\"00500000\",\"end\":\"00600000\",\"perms\":\"r-xp\",\"offset\":\"00000000\","
		"\"dev\":\"08:02\",\"inode\":12,\"path\":\"/opt/lib" MIX ".so.1.2\",\"Size\":1024,"
		"\"Rss\":64,\"Vendor\":\"" CSI "\",\"VmFlags\":\"rd ex\"},\n"
		"{\"start\":\"01000000\",\"end\":\"%08x\",\"perms\":\"rw-p\",\"offset\":\"00000000\","
		"\"dev\":\"00:00\",\"inode\":0,\"path\":\"[heap]\",\"Size\":%u,\"Rss\":%u,"
		"\"Private_Dirty\":%u,\"Anonymous\":%u,\"Vendor\":\"\",\"VmFlags\":\"rd wr\"},\n"
		"{\"start\":\"10000000\",\"end\":\"10100000\",\"perms\":\"rwxp\",\"offset\":\"00000000\","
		"\"dev\":\"00:00\",\"inode\":0,\"path\":\"[anon:" MIX "]\",\"Size\":1024,\"Rss\":1024,"
		"\"Private_Dirty\":1024,\"Anonymous\":1024,\"Swap\":512,\"Vendor\":\"\",\"VmFlags\":\"rd wr ex\"},\n"
		"{\"start\":\"20000000\",\"end\":\"20010000\",\"perms\":\"rw-p\",\"offset\":\"00000000\","
		"\"dev\":\"08:01\",\"inode\":13,\"path\":\"/tmp/" MIX " (deleted)\",\"Size\":64,\"Rss\":64,"
		"\"Private_Dirty\":64,\"Vendor\":\"\",\"VmFlags\":\"rd wr\"},\n"
		/* Exact bytes no JSON string holds: raw CSI 0x9b, 0xff. */
		"{\"start\":\"30000000\",\"end\":\"30001000\",\"perms\":\"r--p\",\"offset\":\"00000000\","
		"\"dev\":\"08:01\",\"inode\":14,\"path\":\"/srv/x\",\"path_hex\":"
		"\"2f7372762f1b5b324a9b33316dff2e62696e\",\"Size\":4,\"Rss\":4,\"Vendor\":\"\","
		"\"VmFlags\":\"rd\"}\n"
		"],\"fields\":[\"Size\",\"Rss\",\"Pss\",\"Private_Clean\",\"Private_Dirty\","
		"\"Anonymous\",\"Swap\",\"Vendor\"],\"unitless\":[],\"text_fields\":[\"Vendor\"],"
		"\"rollup\":{\"Rss\":%u,\"" MIX "\":1},\"captured_end\":\"2026-11-22T02:00:%02d.001Z\","
		"\"capture_ms\":1.5,\"region_count\":7}\n",
		second, 0x1000000 + heap_kb * 1024, heap_kb, heap_kb, heap_kb, heap_kb,
		heap_kb + 1172, second);
	assert_true(n > 0);
	return doc;
}

/* Raw smaps text, as a kernel prints a hostile file name: bytes as they
 * are (only a newline becomes \012), and a vendor line of text. */
static const char hostile_smaps[] =
	"00400000-00401000 r-xp 00000000 08:01 42                                 "
	"/tmp/\033]0;pwned\a\033[2J\x9b" "31m\xc2\x9b\xff\x7f\r.bin\n"
	"Size:                  4 kB\n"
	"Rss:                   4 kB\n"
	"Name:           \033]0;x\a\033[2J\n"
	"VmFlags: rd ex \n"
	"00600000-00700000 rw-p 00000000 00:00 0                                  "
	"[anon:\033[2J\x9b]\n"
	"Size:               1024 kB\n"
	"Rss:                1024 kB\n"
	"Name:           y\n"
	"VmFlags: rd wr \n";

static char *in_dir(const char *name)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", fx.dir, name) > 0);
	return path;
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(write_file(path, text, strlen(text)), 0);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	fx.one = in_dir("one.json");
	fx.other = in_dir("other.json");
	fx.series = in_dir("series.json");
	fx.smaps = in_dir("raw.smaps");
	char *a = hostile_doc(1024, 1), *b = hostile_doc(9216, 2), *c = hostile_doc(17408, 3);
	write_text(fx.one, a);
	write_text(fx.other, b);
	char *all;
	assert_true(asprintf(&all, "%s%s%s", a, b, c) > 0);
	write_text(fx.series, all);
	write_text(fx.smaps, hostile_smaps);
	free(a);
	free(b);
	free(c);
	free(all);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	free(fx.one);
	free(fx.other);
	free(fx.series);
	free(fx.smaps);
	return 0;
}

/* The colours mapsnap itself writes. */
static size_t own_colour(const char *s, size_t avail)
{
	static const char *const sgr[] = { "\033[0m", "\033[1m", "\033[2m", "\033[31m",
					   "\033[32m", "\033[33m", "\033[35m", "\033[36m" };
	for (size_t i = 0; i < sizeof(sgr) / sizeof(*sgr); i++) {
		size_t n = strlen(sgr[i]);
		if (n <= avail && memcmp(s, sgr[i], n) == 0)
			return n;
	}
	return 0;
}

/* Nothing a terminal acts on: no ESC (but, when colours are on, one of
 * mapsnap's own), no byte 0x9b at all, no other control but newline and
 * tab, no DEL, no U+0080..U+009F, nothing that is not UTF-8. */
static void expect_terminal_safe(const char *what, const char *s, size_t len,
				 bool colours)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = 1;
		if (p[i] == 0x1b && colours)
			n = own_colour(s + i, len - i);
		else if (p[i] == 0x1b || p[i] == 0x9b || p[i] == 0x7f ||
			 (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t'))
			n = 0;
		else if (p[i] >= 0x80)
			n = snap_utf8_seq(p + i, len - i);
		if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			n = 0;
		if (!n)
			fail_msg("%s: byte 0x%02x at offset %zu: ...%.*s", what, p[i], i,
				 (int)(len - i < 40 ? len - i : 40), s + i);
		i += n;
	}
}

/* Runs mapsnap with args (NULL-ended) and checks both outputs; returns
 * the result for more checks (free it). */
static cmd_result run_safe(int want, bool colours, const char *const *args)
{
	char *argv[32];
	char what[512] = "";
	int n = 0;
	argv[n++] = (char *)mapsnap_bin();
	for (; args[n - 1]; n++) {
		argv[n] = (char *)args[n - 1];
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s", args[n - 1]);
	}
	argv[n] = NULL;
	if (colours)
		setenv("CLICOLOR_FORCE", "1", 1);
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	unsetenv("CLICOLOR_FORCE");
	if (res.status != want)
		fail_msg("mapsnap%s: exit %d, not %d: %s", what, res.status, want, res.err);
	expect_terminal_safe(what, res.out, res.out_len, colours);
	expect_terminal_safe(what, res.err, strlen(res.err), false);
	return res;
}

#define RUN(want, colours, ...) \
	run_safe(want, colours, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_shown(const cmd_result *res, const char *text)
{
	if (!strstr(res->out, text))
		fail_msg("'%s' not in:\n%s", text, res->out);
}

/* Every command and format on the hostile files: safe, and the hostile
 * names still shown (as '?'), not dropped. */
static void test_every_command_every_format(void **state)
{
	(void)state;
	static const char *const show_modes[] = { "-q", "-x", "-X", "-XX", "-d", "-p",
						   "--explain" };
	for (size_t i = 0; i < sizeof(show_modes) / sizeof(*show_modes); i++) {
		cmd_result r = RUN(0, false, "show", show_modes[i], fx.one);
		cmd_result_free(&r);
		r = RUN(0, false, "show", show_modes[i], fx.smaps);
		cmd_result_free(&r);
	}
	cmd_result r = RUN(0, false, "show", "-XX", "-p", fx.one);
	expect_shown(&r, "/usr/lib/lib?]0;pwned??[2J??31m??.so.1");
	expect_shown(&r, "/srv/?[2J?31m?.bin");
	cmd_result_free(&r);
	r = RUN(0, false, "show", "-x", "--path", "*lib*", fx.one);
	cmd_result_free(&r);
	static const char *const formats[] = { "text", "json", "markdown" };
	for (size_t i = 0; i < 3; i++) {
		const char *f = formats[i];
		r = RUN(0, false, "summary", "--format", f, fx.one);
		if (i == 0)
			expect_shown(&r, "?]0;pwned??[2J??31m??");
		cmd_result_free(&r);
		r = RUN(0, false, "summary", "--format", f, fx.smaps);
		cmd_result_free(&r);
		r = RUN(0, false, "check", "--format", f, fx.one);
		cmd_result_free(&r);
		r = RUN(0, false, "diff", "--format", f, fx.one, fx.other);
		cmd_result_free(&r);
		r = RUN(0, false, "diff", "--format", f, fx.smaps, fx.one);
		cmd_result_free(&r);
		r = RUN(0, false, "trend", "--format", f, fx.series);
		cmd_result_free(&r);
		r = RUN(1, false, "diff", "--format", f, "--fail-if", "rss>+1K", fx.one, fx.other);
		cmd_result_free(&r);
		r = RUN(0, false, "rank", "--format", f, fx.one, fx.other, fx.series);
		if (i == 0)
			expect_shown(&r, "?]0;pwned??[2J??31m??");
		cmd_result_free(&r);
		r = RUN(0, false, "rank", "--libs", "--format", f, fx.one, fx.smaps);
		cmd_result_free(&r);
	}
	r = RUN(0, false, "rank", "--format", "prometheus", "--by", "comm", fx.one);
	cmd_result_free(&r);
	r = RUN(0, false, "report", "-o", "-", fx.one);
	cmd_result_free(&r);
	r = RUN(0, false, "report", "-o", "-", fx.one, fx.other);
	cmd_result_free(&r);
	r = RUN(0, false, "report", "-o", "-", fx.series);
	cmd_result_free(&r);
	r = RUN(0, false, "convert", "--to", "json", fx.one);
	cmd_result_free(&r);
	r = RUN(0, false, "convert", "--to", "json", fx.smaps);
	cmd_result_free(&r);
	r = RUN(0, false, "capture", "--from-smaps", fx.smaps, "-o", "-");
	cmd_result_free(&r);
}

/* With colours forced on, the only escape sequences are mapsnap's own,
 * and they are there. */
static void test_colours_are_the_only_escapes(void **state)
{
	(void)state;
	cmd_result r = RUN(0, true, "diff", fx.one, fx.other);
	expect_shown(&r, "\033[1mmapsnap diff\033[0m");
	cmd_result_free(&r);
	r = RUN(1, true, "diff", "--fail-if", "rss>+1K", fx.smaps, fx.other);
	expect_shown(&r, "\033[31mFAILED\033[0m");
	cmd_result_free(&r);
	r = RUN(0, true, "trend", fx.series);
	expect_shown(&r, "\033[1mmapsnap trend\033[0m");
	cmd_result_free(&r);
	/* Off when asked (NO_COLOR), and then no ESC at all. */
	setenv("NO_COLOR", "1", 1);
	r = RUN(0, false, "diff", fx.one, fx.other);
	unsetenv("NO_COLOR");
	cmd_result_free(&r);
}

/* convert --to smaps keeps the kernel's exact bytes in a file or a pipe,
 * and escapes them on a terminal (run under script(1) for a pty). */
static void test_convert_smaps_exact_but_not_on_a_terminal(void **state)
{
	(void)state;
	cmd_result r;
	assert_int_equal(run_mapsnap(&r, NULL, "convert", "--to", "smaps", fx.smaps, NULL), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, strlen(hostile_smaps));
	assert_memory_equal(r.out, hostile_smaps, r.out_len);
	cmd_result_free(&r);
	if (access("/usr/bin/script", X_OK) != 0) {
		print_message("skipped: no script(1) for a pty\n");
		return;
	}
	char *cmd;
	assert_true(asprintf(&cmd, "%s convert --to smaps %s", mapsnap_bin(), fx.smaps) > 0);
	char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };
	assert_int_equal(run_cmd(&r, argv, NULL), 0);
	assert_int_equal(r.status, 0);
	/* The pty ends lines with CR LF; a CR of the data would stand alone. */
	size_t n = 0;
	for (size_t i = 0; i < r.out_len; i++)
		if (!(r.out[i] == '\r' && i + 1 < r.out_len && r.out[i + 1] == '\n'))
			r.out[n++] = r.out[i];
	r.out[n] = '\0';
	r.out_len = n;
	expect_terminal_safe("convert --to smaps on a pty", r.out, r.out_len, false);
	if (!strstr(r.out, "/tmp/?]0;pwned??[2J?31m?????.bin"))
		fail_msg("the escaped name is not there:\n%s", r.out);
	cmd_result_free(&r);
	free(cmd);
}

/* A live process with a hostile comm (prctl), command line and mapped
 * file name, through every command that reads a pid. */
static void test_live_hostile_process(void **state)
{
	(void)state;
	char *dir = in_dir("live");
	assert_int_equal(mkdir(dir, 0700), 0);
	helper_proc h;
	char *argv[] = { (char *)helper_path("hostile"), dir, "\033]0;argv\a",
			 "\x9b" "2J", "\xc2\x9b" "1m", NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", h.pid);
	static const char *const show_modes[] = { "-q", "-x", "-X", "-XX", "-d", "-p",
						   "--explain" };
	for (size_t i = 0; i < sizeof(show_modes) / sizeof(*show_modes); i++) {
		cmd_result r = RUN(0, false, "show", show_modes[i], pid);
		cmd_result_free(&r);
	}
	cmd_result r = RUN(0, false, "show", "-X", pid);
	expect_shown(&r, "?[2J?]0;x??31m??1m?.bin");
	cmd_result_free(&r);
	static const char *const formats[] = { "text", "json", "markdown" };
	for (size_t i = 0; i < 3; i++) {
		r = RUN(0, false, "summary", "--format", formats[i], pid);
		if (i == 0)
			expect_shown(&r, "?]0;pwned? (pid");
		cmd_result_free(&r);
		r = RUN(0, false, "check", "--format", formats[i], pid);
		cmd_result_free(&r);
		r = RUN(0, false, "diff", "--format", formats[i], pid, pid);
		cmd_result_free(&r);
		r = RUN(0, i == 0, "diff", "--format", formats[i], fx.one, pid);
		cmd_result_free(&r);
	}
	static const char *const rank_formats[] = { "text", "json", "markdown", "prometheus" };
	for (size_t i = 0; i < 4; i++) {
		r = RUN(0, false, "rank", "--format", rank_formats[i], pid);
		cmd_result_free(&r);
		r = RUN(0, false, "rank", "--libs", "--format", rank_formats[i], pid);
		cmd_result_free(&r);
	}
	r = RUN(0, false, "watch", pid, "--batch", "--count", "2", "--interval", "50ms");
	expect_shown(&r, "mapsnap watch: ?]0;pwned? (pid");
	cmd_result_free(&r);
	r = RUN(0, false, "capture", pid, "-o", "-");
	cmd_result_free(&r);
	r = RUN(0, false, "convert", "--to", "json", pid);
	cmd_result_free(&r);
	r = RUN(0, false, "report", "-o", "-", pid);
	cmd_result_free(&r);
	/* The default file name is made of safe characters. */
	char *capdir = in_dir("captures/");
	r = RUN(0, false, "capture", pid, "-o", capdir);
	expect_shown(&r, "mapsnap-__0_pwned_-");
	cmd_result_free(&r);
	free(capdir);
	helper_stop(&h);
	free(dir);
}

/* VmFlags and field names are what a kernel prints or the file is
 * refused: exit 2, one line naming the file, nothing unsafe. */
static void test_hostile_flags_and_names_refused(void **state)
{
	(void)state;
	static const char *const docs[] = {
		"{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[{\"start\":\"1000\",\"end\":"
		"\"2000\",\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		"\"path\":\"\",\"VmFlags\":\"rd " OSC "\"}]}",
		"{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[{\"start\":\"1000\",\"end\":"
		"\"2000\",\"perms\":\"r--p\",\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,"
		"\"path\":\"\",\"R" CSI "ss\":4}]}",
		"{\"schema\":\"mapsnap.snapshot/1\",\"fields\":[\"Size\",\"" OSC "\"],"
		"\"regions\":[]}",
		"{\"schema\":\"mapsnap.snapshot/1\",\"regions\":[],\"text_fields\":[\"" C1 "\"]}",
	};
	char *path = in_dir("bad.json");
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		write_text(path, docs[i]);
		static const char *const cmds[][4] = { { "show", "-XX" }, { "summary" },
						       { "check" }, { "report", "-o", "-" } };
		for (size_t k = 0; k < sizeof(cmds) / sizeof(*cmds); k++) {
			const char *args[8] = { 0 };
			size_t n = 0;
			for (; cmds[k][n]; n++)
				args[n] = cmds[k][n];
			args[n] = path;
			cmd_result r = run_safe(2, false, args);
			if (r.out_len || !strstr(r.err, path) || strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
				fail_msg("doc %zu, %s: %s", i, cmds[k][0], r.err);
			cmd_result_free(&r);
		}
	}
	free(path);
}

/* One region object with these counters (JSON members). */
static char *one_region_doc(const char *counters)
{
	char *doc;
	assert_true(asprintf(&doc, "{\"schema\":\"mapsnap.snapshot/1\",\"regions\":["
			     "{\"start\":\"00400000\",\"end\":\"00401000\",\"perms\":\"rw-p\","
			     "\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,\"path\":\"/x\",%s},"
			     "{\"start\":\"00401000\",\"end\":\"00402000\",\"perms\":\"rw-p\","
			     "\"offset\":\"0\",\"dev\":\"00:00\",\"inode\":0,\"path\":\"/y\",%s}]}",
			     counters, counters) > 0);
	return doc;
}

/* Counters no kernel prints are load errors naming the region, in every
 * reading command: exit 2, one line, no output. */
static void test_impossible_counters_refused(void **state)
{
	(void)state;
	static const struct {
		const char *counters, *says;
	} cases[] = {
		{ "\"Size\":4,\"Rss\":9223372036854775807", "region 1: Rss 9223372036854775807 is more than 2^52" },
		{ "\"Size\":4,\"Rss\":8", "region 1: Rss 8 kB is more than the region's size, 4 kB" },
		{ "\"Size\":4,\"Swap\":4503599627370497", "region 1: Swap 4503599627370497 is more than 2^52" },
	};
	char *path = in_dir("impossible.json");
	char *out = in_dir("impossible.out");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *doc = one_region_doc(cases[i].counters);
		write_text(path, doc);
		free(doc);
		static const char *const cmds[][6] = {
			{ "show", "-x", "@" }, { "summary", "@" }, { "check", "@" },
			{ "diff", "@", "@" }, { "trend", "@" }, { "convert", "--to", "json", "@", "-o", "@O" },
			{ "report", "@", "-o", "@O" },
		};
		for (size_t k = 0; k < sizeof(cmds) / sizeof(*cmds); k++) {
			const char *args[8] = { 0 };
			for (size_t n = 0; n < 6 && cmds[k][n]; n++)
				args[n] = strcmp(cmds[k][n], "@") == 0 ? path
					  : strcmp(cmds[k][n], "@O") == 0 ? out : cmds[k][n];
			cmd_result r = run_safe(2, false, args);
			const char *nl = strchr(r.err, '\n');
			if (r.out_len || !nl || nl[1] || !strstr(r.err, path) ||
			    !strstr(r.err, cases[i].says))
				fail_msg("%s on '%s': %s", cmds[k][0], cases[i].counters, r.err);
			cmd_result_free(&r);
			assert_false(file_exists(out));
		}
	}
	free(path);
	free(out);
}

/* Counters a kernel could print (each at most 2^52 kB) that add up past
 * 2^63 saturate: the totals read as huge in every format and the gate
 * fails, where the sums used to wrap (a +8796093022208G change totalling
 * -30K, and 'rss>+1G' passing). */
static void test_totals_saturate(void **state)
{
	(void)state;
	size_t n = 5000, cap = n * 256 + 512, len = 0;
	char *big = malloc(cap), *small = malloc(cap);
	for (int which = 0; which < 2; which++) {
		char *doc = which ? big : small;
		len = (size_t)sprintf(doc, "{\"schema\":\"mapsnap.snapshot/1\",\"process\":"
				      "{\"pid\":77,\"start_time\":5},\"regions\":[");
		for (size_t i = 0; i < n; i++)
			len += (size_t)sprintf(doc + len, "%s{\"start\":\"%08zx\",\"end\":\"%08zx\","
					       "\"perms\":\"rw-p\",\"offset\":\"0\",\"dev\":\"00:00\","
					       "\"inode\":0,\"path\":\"\",\"Size\":4,\"Rss\":4,"
					       "\"Private_Dirty\":%s,\"Swap\":%s}", i ? "," : "",
					       0x10000 + i * 0x2000, 0x11000 + i * 0x2000,
					       which ? "4503599627370496" : "4",
					       which ? "4503599627370496" : "0");
		strcpy(doc + len, "]}");
	}
	char *old = in_dir("small.json"), *new = in_dir("big.json");
	write_text(old, small);
	write_text(new, big);
	cmd_result r = RUN(1, false, "diff", "--fail-if", "swap>+1G", "--fail-if",
			   "dirty>+1G", old, new);
	expect_shown(&r, "GATE FAILED (2 of 2 checks failed)");
	cmd_result_free(&r);
	r = RUN(1, false, "diff", "--format", "json", "--fail-if", "swap>+1G", old, new);
	expect_shown(&r, "\"Swap\":9223372036854775807");
	cmd_result_free(&r);
	r = RUN(0, false, "summary", "--format", "json", new);
	expect_shown(&r, "\"Swap\":9223372036854775807");
	cmd_result_free(&r);
	r = RUN(0, false, "show", "-x", new);
	expect_shown(&r, "total kB           20000   20000 18446744073709551615");
	cmd_result_free(&r);
	r = RUN(0, false, "show", "-x", "--human", new);
	expect_shown(&r, "total                20M     20M  16384E");
	cmd_result_free(&r);
	r = RUN(0, false, "summary", new);
	cmd_result_free(&r);
	/* A series from small to saturated: trend's slopes and gate too. */
	char *series = in_dir("saturated-series.json");
	FILE *f = fopen(series, "w");
	assert_non_null(f);
	const char *docs[] = { small, big, big };
	for (int k = 0; k < 3; k++)
		fprintf(f, "{\"captured_at\":\"2026-11-22T02:00:0%d.000Z\",%s\n", k + 1,
			docs[k] + 1);
	fclose(f);
	r = RUN(1, false, "trend", "--metric", "dirty", "--fail-if", "dirty.slope>1M/min",
		"--fail-if", "swap>+1G", series);
	expect_shown(&r, "GATE FAILED (2 of 2 checks failed)");
	cmd_result_free(&r);
	r = RUN(1, false, "trend", "--format", "json", "--fail-if", "swap>+1G", series);
	cmd_result_free(&r);
	free(series);
	r = RUN(0, false, "check", new);
	cmd_result_free(&r);
	free(old);
	free(new);
	free(big);
	free(small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_every_format),
		cmocka_unit_test(test_colours_are_the_only_escapes),
		cmocka_unit_test(test_convert_smaps_exact_but_not_on_a_terminal),
		cmocka_unit_test(test_live_hostile_process),
		cmocka_unit_test(test_hostile_flags_and_names_refused),
		cmocka_unit_test(test_impossible_counters_refused),
		cmocka_unit_test(test_totals_saturate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
