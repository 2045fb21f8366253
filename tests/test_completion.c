/* cmd/mapsnap.bash-completion in a real bash: the completion is sourced,
 * COMP_WORDS and COMP_CWORD set as readline would, _mapsnap called, and
 * COMPREPLY checked: commands and options as the binary's --help lists
 * them (asked once per command), option values, live PIDs (a helper
 * started here) and snapshot files in a directory made here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_WORDS 4096

static struct {
	char bin[PATH_MAX];
	char script[PATH_MAX];
	char *dir;
} fx;

struct words {
	char *text; /* the lines, each NUL-ended in place */
	char *w[MAX_WORDS];
	size_t n;
};

static const char driver[] =
	"cd \"$1\" || exit 9\n"
	"source \"$2\" || exit 9\n"
	"shift 2\n"
	"COMP_WORDS=(\"$@\")\n"
	"COMP_CWORD=$(($# - 1))\n"
	"COMP_LINE=\"$*\"\n"
	"COMP_POINT=${#COMP_LINE}\n"
	"_mapsnap || exit 8\n"
	"((${#COMPREPLY[@]} == 0)) || printf '%s\\n' \"${COMPREPLY[@]}\"\n";

/* COMPREPLY for the command line words (the last one being completed),
 * run in dir with bin as the command word. */
static struct words complete_in(const char *dir, const char *bin, const char *const *line)
{
	char *argv[32] = { "bash", "--norc", "--noprofile", "-c", (char *)driver, "bash",
			   (char *)dir, fx.script, (char *)bin };
	size_t n = 9;
	for (size_t i = 0; line[i]; i++)
		argv[n++] = (char *)line[i];
	argv[n] = NULL;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("completion of '%s': bash exit %d: %s", line[0], res.status, res.err);
	struct words out = { .text = res.out };
	free(res.err);
	for (char *p = out.text, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_true(out.n < MAX_WORDS);
		out.w[out.n++] = p;
	}
	return out;
}

static struct words complete(const char *const *line)
{
	return complete_in(fx.dir, fx.bin, line);
}

static bool has(const struct words *w, const char *word)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->w[i], word) == 0)
			return true;
	return false;
}

static void expect_exactly(const char *const *line, const char *const *want)
{
	struct words got = complete(line);
	size_t n = 0;
	for (; want[n]; n++)
		if (!has(&got, want[n]))
			fail_msg("completing '%s %s': no %s", line[0], line[1], want[n]);
	if (got.n != n)
		fail_msg("completing '%s %s': %zu words, not %zu (first: %s)", line[0],
			 line[1] ? line[1] : "", got.n, n, got.n ? got.w[0] : "");
	free(got.text);
}

/* The long options on the option lines of `mapsnap CMD --help`. */
static size_t help_long_options(const char *command, char opts[][64], size_t max)
{
	char *argv[] = { fx.bin, (char *)command, "--help", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	size_t n = 0;
	for (char *line = res.out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (p == line || p - line > 8)
			continue;
		if (p[0] == '-' && p[1] != '-' && p[2] == ',')
			p += 4;
		if (strncmp(p, "--", 2) != 0 || !isalnum((unsigned char)p[2]))
			continue;
		size_t len = strspn(p, "-abcdefghijklmnopqrstuvwxyz0123456789");
		assert_true(n < max && len < 64);
		memcpy(opts[n], p, len);
		opts[n++][len] = '\0';
	}
	cmd_result_free(&res);
	return n;
}

/* ---- tests ---- */

static void completes_the_commands(void **state)
{
	(void)state;
	const char *line[] = { "", NULL };
	struct words got = complete(line);
	static const char *const commands[] = { "capture", "convert", "show", "diff",
		"around", "summary", "check", "trend", "report", "watch", "rank" };
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!has(&got, commands[i]))
			fail_msg("command %s is not completed", commands[i]);
	assert_true(has(&got, "--help"));
	free(got.text);
	expect_exactly((const char *[]){ "ca", NULL }, (const char *[]){ "capture", NULL });
	expect_exactly((const char *[]){ "tr", NULL }, (const char *[]){ "trend", NULL });
}

static void completes_each_commands_options_from_its_help(void **state)
{
	(void)state;
	static const char *const commands[] = { "capture", "convert", "show", "diff",
		"around", "summary", "check", "trend", "report", "watch", "rank" };
	for (size_t c = 0; c < sizeof(commands) / sizeof(*commands); c++) {
		char opts[128][64];
		size_t n = help_long_options(commands[c], opts, 128);
		assert_true(n >= 2);
		const char *line[] = { commands[c], "--", NULL };
		struct words got = complete(line);
		for (size_t i = 0; i < n; i++)
			if (!has(&got, opts[i]))
				fail_msg("'%s --' does not offer %s", commands[c], opts[i]);
		for (size_t i = 0; i < got.n; i++)
			if (strncmp(got.w[i], "--", 2) != 0)
				fail_msg("'%s --' offers %s", commands[c], got.w[i]);
		free(got.text);
	}
	expect_exactly((const char *[]){ "capture", "--ev", NULL },
		       (const char *[]){ "--every", NULL });
	/* capture --every's own help: --on-change is an option there. */
	expect_exactly((const char *[]){ "capture", "--every", "1s", "--on", NULL },
		       (const char *[]){ "--on-change", NULL });
	expect_exactly((const char *[]){ "show", "--ex", NULL },
		       (const char *[]){ "--explain", "--extended", NULL });
}

static void completes_option_values(void **state)
{
	(void)state;
	expect_exactly((const char *[]){ "summary", "--format", "", NULL },
		       (const char *[]){ "text", "json", "markdown", "prometheus", NULL });
	expect_exactly((const char *[]){ "diff", "--format", "m", NULL },
		       (const char *[]){ "markdown", NULL });
	expect_exactly((const char *[]){ "convert", "--to", "", NULL },
		       (const char *[]){ "smaps", "json", "ndjson", NULL });
	expect_exactly((const char *[]){ "show", "--sort", "s", NULL },
		       (const char *[]){ "size", "swap", NULL });
	expect_exactly((const char *[]){ "rank", "--sort", "sw", NULL },
		       (const char *[]){ "swap", "swappss", NULL });
	expect_exactly((const char *[]){ "diff", "--match", "", NULL },
		       (const char *[]){ "auto", "address", "identity", NULL });
	expect_exactly((const char *[]){ "show", "--kind", "heap,an", NULL },
		       (const char *[]){ "heap,anon", "heap,anon-named", NULL });
	expect_exactly((const char *[]){ "check", "--skip", "dup", NULL },
		       (const char *[]){ "duplicated-library", NULL });
	/* Values only for an option the command has: convert ranks nothing. */
	struct words got = complete((const char *[]){ "convert", "--metric", "", NULL });
	assert_false(has(&got, "rss"));
	free(got.text);
	/* A free value (a number, a duration): neither PIDs nor files. */
	expect_exactly((const char *[]){ "capture", "--every", "", NULL },
		       (const char *[]){ NULL });
	expect_exactly((const char *[]){ "show", "--top", "", NULL }, (const char *[]){ NULL });
	expect_exactly((const char *[]){ "check", "--heap-min", "1", NULL },
		       (const char *[]){ NULL });
}

static void completes_snapshot_files(void **state)
{
	(void)state;
	char path[PATH_MAX];
	static const char *const files[] = { "old.json", "new.json", "x.smaps", "notes.txt" };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx.dir, files[i]);
		assert_int_equal(write_file(path, "{}\n", 3), 0);
	}
	snprintf(path, sizeof(path), "%s/saved", fx.dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/saved/host.json", fx.dir);
	assert_int_equal(write_file(path, "{}\n", 3), 0);
	expect_exactly((const char *[]){ "diff", "", NULL },
		       (const char *[]){ "old.json", "new.json", "x.smaps", "saved", NULL });
	expect_exactly((const char *[]){ "trend", "saved/", NULL },
		       (const char *[]){ "saved/host.json", NULL });
	expect_exactly((const char *[]){ "report", "n", NULL },
		       (const char *[]){ "new.json", NULL });
	/* -o FILE takes any file name; around's -o DIR a directory. */
	expect_exactly((const char *[]){ "diff", "-o", "no", NULL },
		       (const char *[]){ "notes.txt", NULL });
	expect_exactly((const char *[]){ "around", "1", "-o", "", NULL },
		       (const char *[]){ "saved", NULL });
}

static void completes_live_pids(void **state)
{
	(void)state;
	helper_proc h;
	char *argv[] = { (char *)helper_path("homebody"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%ld", (long)h.pid);
	static const char *const commands[] = { "capture", "show", "watch", "around",
						"rank", "summary", "check" };
	for (size_t c = 0; c < sizeof(commands) / sizeof(*commands); c++) {
		struct words got = complete((const char *[]){ commands[c], "", NULL });
		if (!has(&got, pid))
			fail_msg("'%s ' does not offer the live pid %s", commands[c], pid);
		free(got.text);
	}
	/* Only the PIDs that start with what is typed, all of them alive. */
	char typed[16];
	snprintf(typed, sizeof(typed), "%.*s", (int)strlen(pid) - 1, pid);
	struct words got = complete((const char *[]){ "capture", typed, NULL });
	assert_true(has(&got, pid));
	for (size_t i = 0; i < got.n; i++) {
		assert_true(strncmp(got.w[i], typed, strlen(typed)) == 0);
		assert_true(strspn(got.w[i], "0123456789") == strlen(got.w[i]));
	}
	free(got.text);
	helper_stop(&h);
	got = complete((const char *[]){ "capture", pid, NULL });
	assert_false(has(&got, pid));
	free(got.text);
}

/* The binary is asked for a command's help once, then the cache answers. */
static void asks_the_binary_once(void **state)
{
	(void)state;
	char wrapper[PATH_MAX], log[PATH_MAX], script[3 * PATH_MAX];
	snprintf(wrapper, sizeof(wrapper), "%s/mapsnap-logged", fx.dir);
	snprintf(log, sizeof(log), "%s/asked.log", fx.dir);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" >>'%s'\nexec '%s' \"$@\"\n",
		 log, fx.bin);
	assert_int_equal(write_file(wrapper, script, strlen(script)), 0);
	assert_int_equal(chmod(wrapper, 0755), 0);
	char twice[] =
		"cd \"$1\" && source \"$2\" || exit 9\n"
		"for cur in --f --fo --form; do\n"
		"  COMP_WORDS=(\"$3\" summary \"$cur\"); COMP_CWORD=2; _mapsnap\n"
		"  printf '%s\\n' \"${COMPREPLY[@]}\"\n"
		"done\n";
	char *argv[] = { "bash", "--norc", "-c", twice, "bash", fx.dir, fx.script, wrapper,
			 NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "--format\n--force\n--format\n--force\n--format\n");
	cmd_result_free(&res);
	char *asked = read_file(log, NULL);
	assert_non_null(asked);
	assert_string_equal(asked, "summary --help\n");
	free(asked);
}

static void loads_in_an_interactive_shell(void **state)
{
	(void)state;
	char *argv[] = { "bash", "--norc", "-i", "-c", "source \"$1\" && complete -p mapsnap",
			 "bash", fx.script, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("bash -i: exit %d: %s", res.status, res.err);
	assert_string_equal(res.out, "complete -F _mapsnap mapsnap\n");
	cmd_result_free(&res);
}

static int setup(void **state)
{
	(void)state;
	const char *script = getenv("MAPSNAP_COMPLETION");
	if (!realpath(mapsnap_bin(), fx.bin) ||
	    !realpath(script && *script ? script : "cmd/mapsnap.bash-completion", fx.script))
		return -1;
	fx.dir = make_tmpdir();
	return fx.dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(completes_the_commands),
		cmocka_unit_test(completes_each_commands_options_from_its_help),
		cmocka_unit_test(completes_option_values),
		cmocka_unit_test(completes_snapshot_files),
		cmocka_unit_test(completes_live_pids),
		cmocka_unit_test(asks_the_binary_once),
		cmocka_unit_test(loads_in_an_interactive_shell),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
