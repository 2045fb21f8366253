/* The command line as a whole, through the real binary: the option table
 * against every --help, old spellings, the usage errors, output to a
 * full disk, -o into missing directories, --from-smaps -, --name, the
 * diff of two programs, and pmap 4.0.2's ways with PIDs (zombies, thread
 * ids, /proc/PID, hex and octal, unreadable processes) byte for byte
 * against the system pmap on live processes. */
#include <setjmp.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

#define MAX_ARGS 16

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = make_tmpdir();
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	free(tmpdir);
	return 0;
}

static const char *in_tmp(const char *name)
{
	static char path[4][1024];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

/* Runs program with args (NULL-ended). */
static void run_args(cmd_result *res, const char *program, const char *const *args,
		     const char *stdin_text)
{
	char *argv[MAX_ARGS + 2];
	size_t n = 0;
	argv[n++] = (char *)program;
	for (; args[n - 1] && n <= MAX_ARGS; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	assert_int_equal(run_cmd(res, argv, stdin_text), 0);
}

static void run_sh(cmd_result *res, const char *script)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	assert_int_equal(run_cmd(res, argv, NULL), 0);
}

/* ---- the option table against --help -------------------------------------- */

struct row {
	char command[32], option[40], letter[4], arg[32], values[128], alias[40];
};

static size_t read_table(struct row **out)
{
	cmd_result res = run_mapsnap_ok(0, "--list-options", NULL);
	size_t cap = 512, n = 0;
	struct row *rows = calloc(cap, sizeof(*rows));
	for (char *line = strtok(res.out, "\n"); line; line = strtok(NULL, "\n")) {
		assert_true(n < cap);
		struct row *r = &rows[n++];
		int got = sscanf(line, "%31[^\t]\t%39[^\t]\t%3[^\t]\t%31[^\t]\t%127[^\t]\t%39s",
				 r->command, r->option, r->letter, r->arg, r->values, r->alias);
		if (got != 6)
			fail_msg("bad --list-options line: %s", line);
	}
	cmd_result_free(&res);
	*out = rows;
	return n;
}

/* The --help of a table command ("capture --every" is the series). */
static char *help_of(const char *command)
{
	cmd_result res;
	if (strcmp(command, "capture --every") == 0)
		res = run_mapsnap_ok(0, "capture", "--every", "1s", "--help", NULL);
	else if (strcmp(command, "capture --all") == 0)
		res = run_mapsnap_ok(0, "capture", "--all", "--help", NULL);
	else
		res = run_mapsnap_ok(0, command, "--help", NULL);
	char *out = res.out;
	free(res.err);
	return out;
}

/* word in text, not as part of a longer option name. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)); p++) {
		char before = p == text ? ' ' : p[-1];
		char after = p[n];
		if ((before == ' ' || before == '\n' || before == ',' || before == '[') &&
		    !(isalnum((unsigned char)after) || after == '-'))
			return true;
	}
	return false;
}

static void every_table_row_is_in_its_help(void **state)
{
	(void)state;
	struct row *rows;
	size_t n = read_table(&rows);
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		char *help = help_of(r->command);
		if (strcmp(r->option, "-") != 0 && !has_word(help, r->option))
			fail_msg("%s --help does not name %s", r->command, r->option);
		if (strcmp(r->letter, "-") != 0) {
			char letter[8];
			snprintf(letter, sizeof(letter), "-%s", r->letter);
			if (!has_word(help, letter))
				fail_msg("%s --help does not name %s", r->command, letter);
		}
		if (strcmp(r->values, "-") != 0)
			for (char *v = strtok(r->values, "|"); v; v = strtok(NULL, "|"))
				if (!has_word(help, v))
					fail_msg("%s --help: %s does not list '%s'", r->command,
						 r->option, v);
		/* one name, one row per command */
		for (size_t k = i + 1; k < n; k++)
			if (strcmp(rows[k].command, r->command) == 0 &&
			    strcmp(rows[k].option, r->option) == 0 && strcmp(r->option, "-"))
				fail_msg("%s: %s is in the table twice", r->command, r->option);
		free(help);
	}
	free(rows);
}

/* Each --help: a synopsis, examples, the exit status, lines that fit. */
static void every_help_is_complete(void **state)
{
	(void)state;
	static const char *const commands[] = {
		"capture", "capture --every", "capture --all", "convert", "show", "diff",
		"around", "trend", "summary", "check", "report", "watch", "rank",
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		char *help = help_of(commands[i]);
		if (strncmp(help, "usage: mapsnap ", 15) != 0 || !strstr(help, "Examples:\n") ||
		    !strstr(help, "Exit status"))
			fail_msg("%s --help lacks a synopsis, examples or the exit status",
				 commands[i]);
		for (const char *line = help; *line;) {
			size_t len = strcspn(line, "\n");
			if (len > 80)
				fail_msg("%s --help: a line of %zu columns: %.*s", commands[i],
					 len, (int)len, line);
			line += len + (line[len] != '\0');
		}
		free(help);
	}
	/* capture's own help names the series and --all options too */
	char *help = help_of("capture");
	static const char *const series[] = { "--every", "--count", "--for", "--on-change",
					      "--all" };
	for (size_t i = 0; i < sizeof(series) / sizeof(*series); i++)
		if (!has_word(help, series[i]))
			fail_msg("capture --help hides %s", series[i]);
	free(help);
	cmd_result res = run_mapsnap_ok(0, "--help", NULL);
	assert_non_null(strstr(res.out, "Exit status"));
	cmd_result_free(&res);
}

/* The old spellings still parse: each alias with a value its option
 * takes, then --help (which ends the parse with status 0). */
static void aliases_are_accepted(void **state)
{
	(void)state;
	struct row *rows;
	size_t n = read_table(&rows), aliases = 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		if (strcmp(r->alias, "-") == 0 || strncmp(r->command, "capture", 7) == 0)
			continue;
		const char *value = strcmp(r->arg, "KEY") == 0 ? "size" : "3";
		cmd_result res;
		run_args(&res, mapsnap_bin(),
			 (const char *[]){ r->command, r->option, value, "--help", NULL }, NULL);
		if (res.status != 0 || strncmp(res.out, "usage:", 6) != 0)
			fail_msg("%s %s %s: status %d: %s", r->command, r->option, value,
				 res.status, res.err);
		cmd_result_free(&res);
		aliases++;
	}
	assert_true(aliases >= 6); /* --limit x3, --metric x4, --regions */
	free(rows);
	/* show -h is --help, as in pmap; --human is its own option */
	cmd_result res = run_mapsnap_ok(0, "show", "-h", NULL);
	assert_non_null(strstr(res.out, "usage: mapsnap show"));
	assert_non_null(strstr(res.out, "--human"));
	cmd_result_free(&res);
}

/* ---- usage errors ---------------------------------------------------------- */

static void unknown_options_are_named(void **state)
{
	(void)state;
	static const char *const cases[][5] = {
		{ "capture", "--bogus", "1" },   { "convert", "--bogus", "x" },
		{ "show", "--bogus", "1" },      { "diff", "--bogus", "a", "b" },
		{ "around", "1", "--bogus", "--", "true" },
		{ "trend", "--bogus", "x" },     { "summary", "--bogus", "1" },
		{ "check", "--bogus", "1" },     { "report", "--bogus", "1" },
		{ "watch", "--bogus", "1" },     { "rank", "--bogus" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cmd_result res;
		const char *args[6] = { 0 };
		for (size_t k = 0; k < 5 && cases[i][k]; k++)
			args[k] = cases[i][k];
		run_args(&res, mapsnap_bin(), args, NULL);
		char want[200];
		snprintf(want, sizeof(want), "mapsnap: %s: unknown option '--bogus' (see "
			 "'mapsnap %s --help')\n", cases[i][0], cases[i][0]);
		assert_int_equal(res.status, 2);
		assert_string_equal(res.err, want);
		cmd_result_free(&res);
	}
	cmd_result res = run_mapsnap_ok(2, "diff", "--bogus=3", "a", "b", NULL);
	assert_non_null(strstr(res.err, "unknown option '--bogus'"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "show", "-Z", "1", NULL);
	assert_non_null(strstr(res.err, "show: unknown option '-Z'"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "diff", "a", "b", "--top", NULL);
	assert_non_null(strstr(res.err, "diff: option '--top' needs a value"));
	cmd_result_free(&res);
	/* a bad value is named as it was spelled */
	res = run_mapsnap_ok(2, "diff", "--metric", "vss", "a", "b", NULL);
	assert_non_null(strstr(res.err, "--metric takes rss, pss, size, dirty, swap, anon"));
	cmd_result_free(&res);
}

static void fail_if_says_what_is_missing(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(2, "diff", "--fail-if", "rss>", "a", "b", NULL);
	assert_string_equal(res.err, "mapsnap: diff: --fail-if 'rss>': the limit is "
			    "missing after '>' (e.g. rss>+10%, rss>+8M, rss>0)\n");
	cmd_result_free(&res);
	res = run_mapsnap_ok(2, "trend", "--fail-if", ">= 5", "a", NULL);
	assert_non_null(strstr(res.err, "what to compare is missing before '>='"));
	assert_null(strstr(res.err, "(none)"));
	cmd_result_free(&res);
}

/* A value the library cannot read is refused with its reason, under the
 * option's name; a value it reads but the command does not take keeps
 * the command's own line. */
static void bad_values_say_why(void **state)
{
	(void)state;
	static const struct {
		const char *args[6], *err;
	} cases[] = {
		{ { "capture", "1", "--every", "5q" },
		  "capture: --every: bad duration '5q': expected a number and a unit ms, "
		  "s, m, h, d" },
		{ { "watch", "1", "--interval", "2 s" },
		  "watch: --interval: bad duration '2 s': expected a number and a unit ms, "
		  "s, m, h, d" },
		{ { "watch", "1", "--interval", "10ms" },
		  "watch: --interval takes a duration of 50ms or more (500ms, 2s), not "
		  "'10ms'" },
		{ { "diff", "--min-change", "+4K", "a", "b" },
		  "diff: --min-change: bad size '+4K': a sign is not allowed here" },
		{ { "show", "--min-size", "1Q", "1" },
		  "show: --min-size: bad size '1Q': expected a number and an optional unit "
		  "K, M, G, T (such as 4K, 10M, 1.5G)" },
		{ { "trend", "--min-slope", "5M", "x" },
		  "trend: --min-slope: bad rate '5M': expected an amount, '/' and a time "
		  "unit, such as 64K/min or 1M/h" },
		{ { "trend", "--min-slope", "-5M/min", "x" },
		  "trend: --min-slope wants a rate such as 64K/min or 1M/h, not '-5M/min'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cmd_result res;
		char want[300];
		run_args(&res, mapsnap_bin(), cases[i].args, NULL);
		snprintf(want, sizeof(want), "mapsnap: %s\n", cases[i].err);
		assert_int_equal(res.status, 2);
		assert_string_equal(res.out, "");
		assert_string_equal(res.err, want);
		cmd_result_free(&res);
	}
}

/* Output that does not reach stdout (a full disk) is an error, for
 * every command's --help and for a command's report. */
static void a_full_stdout_fails(void **state)
{
	(void)state;
	static const char *const commands[] = {
		"", "capture", "convert", "show", "diff", "around", "trend", "summary",
		"check", "report", "watch", "rank",
	};
	char script[9000];
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		snprintf(script, sizeof(script), "exec '%s' %s --help >/dev/full", mapsnap_bin(),
			 commands[i]);
		cmd_result res;
		run_sh(&res, script);
		if (res.status != 2 || !strstr(res.err, "No space left on device"))
			fail_msg("mapsnap %s --help >/dev/full: status %d, stderr '%s'",
				 commands[i], res.status, res.err);
		cmd_result_free(&res);
	}
	snprintf(script, sizeof(script), "exec '%s' show -x fixtures/smaps/odd-names.smaps "
		 ">/dev/full", mapsnap_bin());
	cmd_result res;
	run_sh(&res, script);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
}

/* ---- outputs and inputs ---------------------------------------------------- */

static const char *fixture(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof(path), "fixtures/smaps/%s", name);
	return path;
}

static void from_smaps_reads_stdin(void **state)
{
	(void)state;
	size_t len;
	char *text = read_file(fixture("odd-names.smaps"), &len);
	assert_non_null(text);
	cmd_result piped, named;
	run_args(&piped, mapsnap_bin(), (const char *[]){ "capture", "--from-smaps", "-",
							 "-o", in_tmp("piped.json"), NULL },
		 text);
	assert_int_equal(piped.status, 0);
	run_args(&named, mapsnap_bin(),
		 (const char *[]){ "capture", "--from-smaps", fixture("odd-names.smaps"), "-o",
				   in_tmp("named.json"), NULL }, NULL);
	assert_int_equal(named.status, 0);
	cmd_result a = run_mapsnap_ok(0, "show", "-XX", in_tmp("piped.json"), NULL);
	cmd_result b = run_mapsnap_ok(0, "show", "-XX", in_tmp("named.json"), NULL);
	assert_true(strlen(a.out) > 200);
	assert_string_equal(a.out, b.out);
	cmd_result_free(&a);
	cmd_result_free(&b);
	cmd_result_free(&piped);
	cmd_result_free(&named);
	/* stdin has no saved proc files beside it */
	cmd_result res;
	run_args(&res, mapsnap_bin(), (const char *[]){ "capture", "--from-smaps", "-",
						       "--proc-files", "-o", "-", NULL }, text);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--proc-files"));
	cmd_result_free(&res);
	free(text);
}

static void output_dir_levels_are_created(void **state)
{
	(void)state;
	cmd_result res = run_mapsnap_ok(0, "capture", "--from-smaps", fixture("odd-names.smaps"),
					"-o", in_tmp("a/b/c/"), NULL);
	/* the name printed is the file written, three new levels down */
	res.out[strcspn(res.out, "\n")] = '\0';
	assert_true(strncmp(res.out, in_tmp("a/b/c/mapsnap-"), strlen(in_tmp("a/b/c/"))) == 0);
	assert_true(file_exists(res.out));
	cmd_result_free(&res);
	/* around -o DIR: every level too */
	char pid[16];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	res = run_mapsnap_ok(0, "around", pid, "-o", in_tmp("x/y/z"), "--", "true", NULL);
	assert_true(file_exists(in_tmp("x/y/z/diff.json")));
	cmd_result_free(&res);
}

/* show, check and rank: -o FILE holds what stdout would, never replaces
 * a file without -f. */
static void show_check_rank_write_files(void **state)
{
	(void)state;
	static const char *const commands[][3] = {
		{ "show", "-x" }, { "check", "--top", "0" }, { "rank", "--sort", "rss" },
	};
	for (size_t i = 0; i < 3; i++) {
		const char *file = in_tmp(commands[i][0]);
		const char *args[8] = { commands[i][0], commands[i][1] };
		size_t n = commands[i][2] ? 3 : 2;
		if (commands[i][2])
			args[2] = commands[i][2];
		args[n] = fixture("odd-names.smaps");
		cmd_result out, to_file, again;
		run_args(&out, mapsnap_bin(), args, NULL);
		assert_int_equal(out.status, 0);
		args[n + 1] = "-o";
		args[n + 2] = file;
		run_args(&to_file, mapsnap_bin(), args, NULL);
		assert_int_equal(to_file.status, 0);
		assert_string_equal(to_file.out, "");
		char *text = read_file(file, NULL);
		assert_string_equal(text, out.out);
		free(text);
		run_args(&again, mapsnap_bin(), args, NULL);
		assert_int_equal(again.status, 2);
		assert_non_null(strstr(again.err, "already exists"));
		cmd_result_free(&again);
		args[n + 3] = "-f";
		run_args(&again, mapsnap_bin(), args, NULL);
		assert_int_equal(again.status, 0);
		cmd_result_free(&again);
		cmd_result_free(&out);
		cmd_result_free(&to_file);
	}
}

/* --top 0 is all, wherever --top is. */
static void top_zero_means_all(void **state)
{
	(void)state;
	const char *in = fixture("odd-names.smaps");
	cmd_result all = run_mapsnap_ok(0, "show", "-x", "--sort", "rss", in, NULL);
	cmd_result zero = run_mapsnap_ok(0, "show", "-x", "--top", "0", in, NULL);
	/* the same rows; only the note names the --top */
	assert_memory_equal(zero.out, all.out, strlen(all.out) - 60);
	cmd_result_free(&all);
	cmd_result_free(&zero);
	cmd_result one = run_mapsnap_ok(0, "summary", "--top", "1", in, NULL);
	zero = run_mapsnap_ok(0, "summary", "--top", "0", in, NULL);
	assert_true(strlen(zero.out) > strlen(one.out));
	cmd_result_free(&one);
	cmd_result_free(&zero);
}

/* ---- live processes -------------------------------------------------------- */

static bool have_pmap_40(void)
{
	cmd_result res;
	char *argv[] = { "pmap", "--version", NULL };
	if (run_cmd(&res, argv, NULL) != 0)
		return false;
	bool ok = res.status == 0 && strstr(res.out, "procps-ng 4.0.") != NULL;
	cmd_result_free(&res);
	return ok;
}

/* --name: the 15-byte comm, or argv[0]'s base name whatever its length. */
static void name_matches_comm_and_argv0(void **state)
{
	(void)state;
	const char *prog = in_tmp("a-very-long-program-name");
	size_t len;
	char *bin = read_file(helper_path("homebody"), &len);
	assert_non_null(bin);
	assert_int_equal(write_file(prog, bin, len), 0);
	free(bin);
	assert_int_equal(chmod(prog, 0755), 0);
	helper_proc h;
	char *argv[] = { (char *)prog, NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[32];
	snprintf(pid, sizeof(pid), "\"pid\":%ld,", (long)h.pid);
	static const char *const names[] = { "a-very-long-program-name", "a-very-long-pro" };
	for (size_t i = 0; i < 2; i++) {
		cmd_result res = run_mapsnap_ok(0, "capture", "--name", names[i], "-o", "-", NULL);
		if (!strstr(res.out, pid))
			fail_msg("--name %s did not find pid %ld", names[i], (long)h.pid);
		cmd_result_free(&res);
	}
	cmd_result res = run_mapsnap_ok(2, "capture", "--name", "a-very-long-program-nameX",
					"-o", "-", NULL);
	assert_non_null(strstr(res.err, "first 15 bytes"));
	assert_non_null(strstr(res.err, "argv[0]"));
	cmd_result_free(&res);
	helper_stop(&h);
}

/* Two programs: the diff's header says so, in each format. */
static void diff_of_two_programs_says_so(void **state)
{
	(void)state;
	helper_proc a, b;
	char *home[] = { (char *)helper_path("homebody"), NULL };
	assert_int_equal(helper_start(&a, home), 0);
	char *undead[] = { (char *)helper_path("undead"), NULL };
	assert_int_equal(helper_start(&b, undead), 0);
	char pa[16], pb[16];
	snprintf(pa, sizeof(pa), "%ld", (long)a.pid);
	snprintf(pb, sizeof(pb), "%ld", (long)b.pid);
	cmd_result res = run_mapsnap_ok(0, "diff", pa, pb, NULL);
	assert_non_null(strstr(res.out, "different executables: "));
	assert_non_null(strstr(res.out, "/homebody (old), "));
	assert_non_null(strstr(res.out, "/undead (new)\n"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "diff", "--format", "markdown", pa, pb, NULL);
	assert_non_null(strstr(res.out, "**Different executables:** "));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "diff", "--format", "json", pa, pb, NULL);
	assert_non_null(strstr(res.out, "\"same_executable\":false"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "diff", "--format", "json", pa, pa, NULL);
	assert_non_null(strstr(res.out, "\"same_executable\":true"));
	cmd_result_free(&res);
	res = run_mapsnap_ok(0, "diff", pa, pa, NULL);
	assert_null(strstr(res.out, "different executables"));
	cmd_result_free(&res);
	helper_stop(&b);
	helper_stop(&a);
}

/* pmap parity: the undead helper (a zombie child, a second thread),
 * stopped, its smaps and maps frozen in a private mount namespace, so
 * that both readers see the same bytes. */
static helper_proc undead;
static char zombie[16], tid[16], tgid[16];
static char *frozen_dir;
static const char *const frozen[] = { "smaps", "maps", NULL };

static int start_undead(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("undead"), NULL };
	char reply[64];
	if (helper_start(&undead, argv) != 0 ||
	    helper_command(&undead, "ids", reply, sizeof(reply)) < 0 ||
	    sscanf(reply, "%15s %15s", zombie, tid) != 2)
		return -1;
	snprintf(tgid, sizeof(tgid), "%ld", (long)undead.pid);
	frozen_dir = make_tmpdir();
	if (!frozen_dir || private_mounts() != 0 || stop_and_wait(undead.pid) != 0 ||
	    freeze_proc(undead.pid, frozen_dir, frozen) != 0)
		return -1;
	return 0;
}

static int stop_undead(void **state)
{
	(void)state;
	thaw_proc(undead.pid, frozen);
	helper_stop(&undead);
	if (frozen_dir)
		remove_tree(frozen_dir);
	free(frozen_dir);
	frozen_dir = NULL;
	return 0;
}

static const char *const modes[][3] = {
	{ NULL }, { "-x", NULL }, { "-X", NULL }, { "-XX", NULL }, { "-d", NULL },
	{ "-q", NULL }, { "-q", "-x", NULL }, { "-q", "-d", NULL }, { "-p", NULL },
};

/* pmap MODE pid and mapsnap show MODE pid: the same bytes and status. */
static void same_as_pmap(const char *pid, int show_status)
{
	for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
		const char *args[6];
		size_t n = 0;
		for (; modes[m][n]; n++)
			args[n] = modes[m][n];
		args[n++] = pid;
		args[n] = NULL;
		cmd_result pm, ms;
		run_args(&pm, "pmap", args, NULL);
		const char *full[7] = { "show" };
		memcpy(full + 1, args, (n + 1) * sizeof(*args));
		run_args(&ms, mapsnap_bin(), full, NULL);
		assert_int_equal(pm.status, 0);
		if (ms.status != show_status || strcmp(ms.out, pm.out) != 0)
			fail_msg("show %s %s (status %d) differs from pmap:\n%s\n---\n%s",
				 modes[m][0] ? modes[m][0] : "", pid, ms.status, ms.out, pm.out);
		cmd_result_free(&pm);
		cmd_result_free(&ms);
	}
}

static void pmap_zombie(void **state)
{
	(void)state;
	if (!have_pmap_40())
		skip();
	same_as_pmap(zombie, 0);
	cmd_result res = run_mapsnap_ok(0, "show", zombie, NULL);
	char want[64];
	snprintf(want, sizeof(want), "%s:   [undead] <defunct>\n", zombie);
	assert_memory_equal(res.out, want, strlen(want));
	cmd_result_free(&res);
}

static void pmap_thread_id(void **state)
{
	(void)state;
	if (!have_pmap_40())
		skip();
	assert_string_not_equal(tid, tgid);
	same_as_pmap(tid, 0);
	cmd_result res = run_mapsnap_ok(0, "show", tid, NULL);
	char want[64];
	snprintf(want, sizeof(want), "%s:   ", tgid);
	assert_memory_equal(res.out, want, strlen(want));
	cmd_result_free(&res);
}

static void pmap_pid_spellings(void **state)
{
	(void)state;
	if (!have_pmap_40())
		skip();
	long pid = (long)undead.pid;
	char proc[32], hex[32], octal[32];
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	snprintf(hex, sizeof(hex), "0x%lx", pid);
	snprintf(octal, sizeof(octal), "0%lo", pid);
	const char *spellings[] = { proc, hex, octal };
	for (size_t i = 0; i < 3; i++)
		same_as_pmap(spellings[i], 0);
	/* octal is not the decimal number with a leading zero */
	cmd_result res = run_mapsnap_ok(0, "show", "-q", octal, NULL);
	char want[64];
	snprintf(want, sizeof(want), "%ld:   ", pid);
	assert_memory_equal(res.out, want, strlen(want));
	cmd_result_free(&res);
}

/* As another user, pmap still prints a root process's line, then fails;
 * show prints the same line and one error line. (A process of its own:
 * the frozen copies would be readable by anyone.) */
static void pmap_unreadable(void **state)
{
	(void)state;
	if (!have_pmap_40() || access("/usr/bin/setpriv", X_OK) != 0 || getuid() != 0)
		skip();
	/* A copy nobody can reach: the checkout may be in a private home. */
	char dir[] = "/tmp/mapsnap-nobody-XXXXXX", bin[64];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(bin, sizeof(bin), "%s/mapsnap", dir);
	size_t len;
	char *image = read_file(mapsnap_bin(), &len);
	assert_non_null(image);
	assert_int_equal(write_file(bin, image, len), 0);
	free(image);
	assert_int_equal(chmod(bin, 0755), 0);
	helper_proc h;
	char *argv[] = { (char *)helper_path("homebody"), NULL };
	assert_int_equal(helper_start(&h, argv), 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%ld", (long)h.pid);
	for (size_t m = 0; m < 3; m++) {
		const char *args[12] = { "--reuid=nobody", "--regid=nogroup", "--clear-groups",
					 "pmap" };
		size_t n = 4;
		for (size_t k = 0; modes[m][k]; k++)
			args[n++] = modes[m][k];
		args[n++] = pid;
		args[n] = NULL;
		cmd_result pm, ms;
		run_args(&pm, "/usr/bin/setpriv", args, NULL);
		args[3] = "show";
		memmove(args + 4, args + 3, (n - 2) * sizeof(*args));
		args[3] = bin;
		run_args(&ms, "/usr/bin/setpriv", args, NULL);
		assert_int_equal(pm.status, 1);
		assert_int_equal(ms.status, 2);
		assert_true(strlen(pm.out) > strlen(pid) + 4);
		assert_string_equal(ms.out, pm.out);
		assert_non_null(strstr(ms.err, "permission denied"));
		cmd_result_free(&pm);
		cmd_result_free(&ms);
	}
	helper_stop(&h);
	unlink(bin);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_table_row_is_in_its_help),
		cmocka_unit_test(every_help_is_complete),
		cmocka_unit_test(aliases_are_accepted),
		cmocka_unit_test(unknown_options_are_named),
		cmocka_unit_test(fail_if_says_what_is_missing),
		cmocka_unit_test(bad_values_say_why),
		cmocka_unit_test(a_full_stdout_fails),
		cmocka_unit_test(from_smaps_reads_stdin),
		cmocka_unit_test(output_dir_levels_are_created),
		cmocka_unit_test(show_check_rank_write_files),
		cmocka_unit_test(top_zero_means_all),
		cmocka_unit_test(name_matches_comm_and_argv0),
		cmocka_unit_test(diff_of_two_programs_says_so),
		cmocka_unit_test_setup_teardown(pmap_zombie, start_undead, stop_undead),
		cmocka_unit_test_setup_teardown(pmap_thread_id, start_undead, stop_undead),
		cmocka_unit_test_setup_teardown(pmap_pid_spellings, start_undead, stop_undead),
		cmocka_unit_test(pmap_unreadable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
