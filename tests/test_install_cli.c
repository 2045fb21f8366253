/* `make install` and `make uninstall` of the command line into a fresh
 * PREFIX (and with DESTDIR): the program runs from there, `man -l`
 * renders the installed page with every command in it, and the installed
 * completion loads in an interactive bash and completes with the
 * installed program. Runs make in the source tree, as a user would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAN_PATH "share/man/man1/mapsnap.1"
#define COMPLETION_PATH "share/bash-completion/completions/mapsnap"

static const char *const commands[] = { "capture", "convert", "show", "diff", "around",
	"summary", "check", "trend", "report", "watch", "rank" };

static struct {
	char *dir;
} fx;

/* make in the source tree, without what an outer make (make check)
 * passes down to its children. */
static void run_make(const char *target, const char *var1, const char *var2)
{
	char *argv[] = { "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL",
			 "make", "--no-print-directory", "-s", (char *)target,
			 (char *)var1, (char *)var2, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("make %s %s: exit %d: %s", target, var1, res.status, res.err);
	cmd_result_free(&res);
}

static void expect_file(const char *root, const char *path, mode_t mode)
{
	char full[PATH_MAX];
	struct stat st;
	snprintf(full, sizeof(full), "%s/%s", root, path);
	if (stat(full, &st) != 0)
		fail_msg("%s was not installed", full);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
}

static void expect_no_file(const char *root, const char *path)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s/%s", root, path);
	if (file_exists(full))
		fail_msg("%s is still there", full);
}

static void install_renders_the_man_page_and_loads_the_completion(void **state)
{
	(void)state;
	char prefix[1024], var[1040], path[PATH_MAX];
	snprintf(prefix, sizeof(prefix), "%s/prefix", fx.dir);
	snprintf(var, sizeof(var), "PREFIX=%s", prefix);
	run_make("install", var, NULL);
	expect_file(prefix, "bin/mapsnap", 0755);
	expect_file(prefix, MAN_PATH, 0644);
	expect_file(prefix, COMPLETION_PATH, 0644);

	snprintf(path, sizeof(path), "%s/bin/mapsnap", prefix);
	char *version[] = { path, "--version", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, version, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(strncmp(res.out, "mapsnap ", 8), 0);
	cmd_result_free(&res);

	snprintf(path, sizeof(path), "%s/" MAN_PATH, prefix);
	char *man[] = { "env", "MANPAGER=cat", "MANWIDTH=80", "man", "-l", path, NULL };
	assert_int_equal(run_cmd(&res, man, NULL), 0);
	if (res.status != 0)
		fail_msg("man -l %s: exit %d: %s", path, res.status, res.err);
	assert_non_null(strstr(res.out, "MAPSNAP(1)"));
	assert_non_null(strstr(res.out, "EXIT STATUS"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		char title[64];
		snprintf(title, sizeof(title), "   mapsnap %s\n", commands[i]);
		if (!strstr(res.out, title))
			fail_msg("man -l %s: no section 'mapsnap %s'", path, commands[i]);
	}
	cmd_result_free(&res);

	snprintf(path, sizeof(path), "%s/" COMPLETION_PATH, prefix);
	char *interactive[] = { "bash", "--norc", "-i", "-c",
				"source \"$1\" && complete -p mapsnap", "bash", path, NULL };
	assert_int_equal(run_cmd(&res, interactive, NULL), 0);
	if (res.status != 0)
		fail_msg("bash -i, source %s: exit %d: %s", path, res.status, res.err);
	assert_string_equal(res.out, "complete -F _mapsnap mapsnap\n");
	cmd_result_free(&res);

	/* As a user has it: the program found in PATH by its name. */
	char env_path[2 * PATH_MAX];
	snprintf(env_path, sizeof(env_path), "PATH=%s/bin:%s", prefix, getenv("PATH"));
	char *completes[] = { "env", env_path, "bash", "--norc", "-c",
			      "source \"$1\"; COMP_WORDS=(mapsnap capture --ev); COMP_CWORD=2;"
			      " _mapsnap; echo \"${COMPREPLY[*]}\"", "bash", path, NULL };
	assert_int_equal(run_cmd(&res, completes, NULL), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "--every\n");
	cmd_result_free(&res);

	run_make("uninstall", var, NULL);
	expect_no_file(prefix, "bin/mapsnap");
	expect_no_file(prefix, MAN_PATH);
	expect_no_file(prefix, COMPLETION_PATH);
}

static void install_cli_honours_destdir(void **state)
{
	(void)state;
	char stage[1024], root[1040], var[1040];
	snprintf(stage, sizeof(stage), "%s/stage", fx.dir);
	snprintf(root, sizeof(root), "%s/usr", stage);
	snprintf(var, sizeof(var), "DESTDIR=%s", stage);
	run_make("install-cli", var, "PREFIX=/usr");
	expect_file(root, "bin/mapsnap", 0755);
	expect_file(root, MAN_PATH, 0644);
	expect_file(root, COMPLETION_PATH, 0644);
	run_make("uninstall-cli", var, "PREFIX=/usr");
	expect_no_file(root, "bin/mapsnap");
	expect_no_file(root, MAN_PATH);
	expect_no_file(root, COMPLETION_PATH);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = make_tmpdir();
	return fx.dir && file_exists("GNUmakefile") ? 0 : -1;
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
		cmocka_unit_test(install_renders_the_man_page_and_loads_the_completion),
		cmocka_unit_test(install_cli_honours_destdir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
