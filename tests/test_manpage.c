/* cmd/mapsnap.1 against the real binary. The page must format without a
 * groff warning; every long option that `mapsnap CMD --help` lists (its
 * usage lines and its option lines) must be an item of the page's
 * subsection for CMD; and every option the page lists for CMD must be
 * accepted by CMD: run with it (and a value when the page gives one) on
 * input that cannot be read, mapsnap must fail on the input, not refuse
 * the option. The commands come from `mapsnap --help`, the options from
 * each help text, so a new command or option shows up here by name. */
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
#include <unistd.h>

#include "util.h"

/* A PID above the kernel's largest pid_max, and a file that cannot exist:
 * the probes fail on them after their options were parsed. */
#define NO_PID "4194305"
#define NO_FILE "/nonexistent/mapsnap-probe.json"
#define MAX_OPTS 128
#define MAX_CMDS 32

struct option_item {
	char name[64];   /* without the leading "--" */
	bool has_value;  /* the page's tag gives a value after it */
	bool attached;   /* ...as --name=VALUE */
};

struct option_list {
	struct option_item item[MAX_OPTS];
	size_t n;
};

/* The modes of a command whose own --help lists other options. */
static const char *const capture_all[] = { "--all", NULL };
static const char *const capture_every[] = { "--every", "1s", NULL };
static const struct {
	const char *command;
	const char *const *mode;
} modes[] = {
	{ "capture", capture_all },
	{ "capture", capture_every },
};

static struct {
	char bin[PATH_MAX];
	char page_path[PATH_MAX];
	char *page;
	char *dir;
	char commands[MAX_CMDS][32];
	size_t ncommands;
} fx;

static bool list_has(const struct option_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->item[i].name, name) == 0)
			return true;
	return false;
}

static struct option_item *list_add(struct option_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->item[i].name, name) == 0)
			return &l->item[i];
	assert_true(l->n < MAX_OPTS);
	struct option_item *it = &l->item[l->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	return it;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c);
}

/* ---- options in a --help text ---- */

/* Every "--name" from p to the end of its line. */
static void help_scan_line(const char *line, const char *p, const char *end,
			   struct option_list *out, bool first_only)
{
	for (; p + 2 < end; p++) {
		bool starts = p[0] == '-' && p[1] == '-' && name_char(p[2]) &&
			      (p == line || !(name_char(p[-1]) || p[-1] == '-'));
		if (!starts)
			continue;
		char name[64];
		size_t n = 0;
		const char *q = p + 2;
		while (q < end && (name_char(*q) || (*q == '-' && name_char(q[1]))) &&
		       n + 1 < sizeof(name))
			name[n++] = *q++;
		name[n] = '\0';
		list_add(out, name);
		if (first_only)
			return;
		p = q - 1;
	}
}

/* An option line: at most 8 spaces, an optional "-x, ", then "--". */
static const char *option_line_start(const char *line)
{
	const char *p = line;
	while (*p == ' ' && p - line <= 8)
		p++;
	if (p == line || p - line > 8)
		return NULL;
	if (p[0] == '-' && p[1] && p[1] != '-' && p[2] == ',' && p[3] == ' ')
		p += 4;
	return p[0] == '-' && p[1] == '-' && name_char(p[2]) ? p : NULL;
}

/* The usage block (up to its first empty line) and the option lines. */
static void help_options(const char *help, struct option_list *out)
{
	bool in_usage = false;
	for (const char *line = help; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (strncmp(line, "usage:", 6) == 0)
			in_usage = true;
		else if (end == line)
			in_usage = false;
		const char *opt = option_line_start(line);
		if (in_usage)
			help_scan_line(line, line, end, out, false);
		else if (opt && opt < end)
			help_scan_line(line, opt, end, out, true);
		line = *end ? end + 1 : end;
	}
}

static char *help_text(const char *command, const char *const *mode)
{
	char *argv[8];
	size_t n = 0;
	argv[n++] = fx.bin;
	argv[n++] = (char *)command;
	for (size_t i = 0; mode && mode[i]; i++)
		argv[n++] = (char *)mode[i];
	argv[n++] = "--help";
	argv[n] = NULL;
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0)
		fail_msg("mapsnap %s --help: exit %d: %s", command, res.status, res.err);
	free(res.err);
	return res.out;
}

/* ---- options the man page lists for a command ---- */

/* ".SS "mapsnap capture \-\-all"" -> "mapsnap capture --all". */
static void section_title(const char *line, const char *end, char *out, size_t size)
{
	const char *p = line + 4;
	size_t n = 0;
	while (p < end && n + 1 < size) {
		if (*p == '"') {
			p++;
		} else if (p[0] == '\\' && p + 1 < end && p[1] == '-') {
			out[n++] = '-';
			p += 2;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
}

static bool section_of(const char *title, const char *command)
{
	size_t n = strlen(command);
	return strncmp(title, "mapsnap ", 8) == 0 && strncmp(title + 8, command, n) == 0 &&
	       (title[8 + n] == '\0' || title[8 + n] == ' ');
}

/* The options named in one .TP tag: \-\-name, then \fR and " \fI..."
 * (a value) or "=" (an attached value). */
static void tag_options(const char *p, const char *end, struct option_list *out)
{
	while ((p = strstr(p, "\\-\\-")) && p < end) {
		char name[64];
		size_t n = 0;
		p += 4;
		while (p < end && n + 1 < sizeof(name)) {
			if (name_char(*p))
				name[n++] = *p++;
			else if (p[0] == '\\' && p[1] == '-' && p + 2 < end && name_char(p[2]))
				name[n++] = '-', p += 2;
			else
				break;
		}
		name[n] = '\0';
		if (!n)
			continue;
		struct option_item *it = list_add(out, name);
		if (strncmp(p, "\\fR", 3) == 0 || strncmp(p, "\\fP", 3) == 0)
			p += 3;
		it->attached = *p == '=';
		it->has_value = it->attached || (p[0] == ' ' && p[1] == '\\' && p[2] == 'f');
	}
}

static void page_options(const char *page, const char *command, struct option_list *out)
{
	bool inside = false, tag_next = false;
	for (const char *line = page; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (strncmp(line, ".SS ", 4) == 0) {
			char title[128];
			section_title(line, end, title, sizeof(title));
			inside = section_of(title, command);
		} else if (strncmp(line, ".SH", 3) == 0) {
			inside = false;
		} else if (inside && tag_next) {
			tag_options(line, end, out);
		}
		tag_next = inside && end - line == 3 && strncmp(line, ".TP", 3) == 0;
		line = *end ? end + 1 : end;
	}
}

/* ---- the checks, on any page text ---- */

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Options of each --help missing from page; returns how many were
 * checked. */
static size_t missing_from_page(const char *page, char *report, size_t size)
{
	size_t checked = 0;
	report[0] = '\0';
	for (size_t c = 0; c < fx.ncommands; c++) {
		const char *command = fx.commands[c];
		struct option_list listed = { 0 }, help = { 0 };
		page_options(page, command, &listed);
		char *text = help_text(command, NULL);
		help_options(text, &help);
		free(text);
		for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
			if (strcmp(modes[m].command, command) != 0)
				continue;
			text = help_text(command, modes[m].mode);
			help_options(text, &help);
			free(text);
		}
		if (help.n < 2)
			fail_msg("mapsnap %s --help: only %zu long options found", command,
				 help.n);
		for (size_t i = 0; i < help.n; i++, checked++)
			if (!list_has(&listed, help.item[i].name))
				append(report, size, " %s:--%s", command, help.item[i].name);
	}
	return checked;
}

static bool refused(const cmd_result *probe, const char *control)
{
	return strstr(probe->err, "unknown option") ||
	       strstr(probe->err, "unrecognized option") || strcmp(probe->err, control) == 0;
}

/* Runs `mapsnap COMMAND [MODE] ARGS... NOT-READABLE-INPUT`. */
static void probe(cmd_result *res, const char *command, const char *const *mode,
		  const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = fx.bin;
	argv[n++] = (char *)command;
	for (size_t i = 0; mode && mode[i]; i++)
		argv[n++] = (char *)mode[i];
	for (size_t i = 0; args[i]; i++)
		argv[n++] = (char *)args[i];
	/* What each command reads: one process, two snapshots, or one. */
	if (!strcmp(command, "capture") || !strcmp(command, "watch")) {
		argv[n++] = NO_PID;
	} else if (!strcmp(command, "around")) {
		argv[n++] = NO_PID;
		argv[n++] = "--";
		argv[n++] = "false";
	} else {
		argv[n++] = NO_FILE;
		if (!strcmp(command, "diff"))
			argv[n++] = NO_FILE;
	}
	argv[n] = NULL;
	assert_int_equal(run_cmd(res, argv, NULL), 0);
	if (res->status > 2)
		fail_msg("mapsnap %s %s: exit %d (crashed?): %s", command, args[0],
			 res->status, res->err);
}

/* What COMMAND in mode m (0: none, else modes[m - 1]) says of an option
 * it does not have: asked once. */
static const char *control_error(size_t c, size_t m)
{
	static char *said[MAX_CMDS][1 + sizeof(modes) / sizeof(*modes)];
	static const char *const bogus[] = { "--mapsnap-no-such-option", NULL };
	if (!said[c][m]) {
		cmd_result res;
		probe(&res, fx.commands[c], m ? modes[m - 1].mode : NULL, bogus);
		said[c][m] = res.err;
		free(res.out);
	}
	return said[c][m];
}

/* Whether command c in mode m accepts the page's option it. */
static bool accepts(size_t c, size_t m, const struct option_item *it)
{
	char opt[80];
	const char *args[3] = { opt, NULL, NULL };
	snprintf(opt, sizeof(opt), "--%s%s", it->name, it->attached ? "=x" : "");
	if (it->has_value && !it->attached)
		args[1] = "x";
	cmd_result res;
	probe(&res, fx.commands[c], m ? modes[m - 1].mode : NULL, args);
	bool ok = !refused(&res, control_error(c, m));
	cmd_result_free(&res);
	return ok;
}

/* Whether command c accepts it in its own mode or any other. */
static bool accepted(size_t c, const struct option_item *it)
{
	bool ok = accepts(c, 0, it);
	for (size_t m = 1; !ok && m <= sizeof(modes) / sizeof(*modes); m++)
		if (strcmp(modes[m - 1].command, fx.commands[c]) == 0)
			ok = accepts(c, m, it);
	return ok;
}

/* Options page lists that their command refuses; returns how many were
 * checked. */
static size_t refused_by_binary(const char *page, char *report, size_t size)
{
	size_t checked = 0;
	report[0] = '\0';
	for (size_t c = 0; c < fx.ncommands; c++) {
		const char *command = fx.commands[c];
		struct option_list listed = { 0 };
		page_options(page, command, &listed);
		if (listed.n < 2)
			fail_msg("%s: the page lists only %zu options for %s", fx.page_path,
				 listed.n, command);
		for (size_t i = 0; i < listed.n; i++, checked++) {
			if (!accepted(c, &listed.item[i]))
				append(report, size, " %s:--%s", command, listed.item[i].name);
		}
	}
	return checked;
}

/* The page with the first .TP item in the section `title` whose tag
 * contains `tag` taken out (2 lines: .TP and the tag), or with `add`
 * inserted after that section's title line. */
static char *page_edited(const char *title, const char *tag, const char *add)
{
	char *copy = malloc(strlen(fx.page) + (add ? strlen(add) : 0) + 2);
	assert_non_null(copy);
	const char *sec = strstr(fx.page, title);
	assert_non_null(sec);
	const char *line_end = strchr(sec, '\n') + 1;
	if (add) {
		size_t head = (size_t)(line_end - fx.page);
		memcpy(copy, fx.page, head);
		strcpy(copy + head, add);
		strcat(copy, line_end);
		return copy;
	}
	const char *hit = strstr(line_end, tag);
	assert_non_null(hit);
	const char *tp = hit;
	while (tp > fx.page && strncmp(tp, "\n.TP\n", 5) != 0)
		tp--;
	size_t head = (size_t)(tp - fx.page) + 1;
	memcpy(copy, fx.page, head);
	strcpy(copy + head, strchr(hit, '\n') + 1);
	return copy;
}

/* ---- tests ---- */

static void page_formats_without_warnings(void **state)
{
	(void)state;
	char *argv[] = { "groff", "-man", "-ww", "-z", fx.page_path, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	if (res.status != 0 || res.err[0])
		fail_msg("groff -man -ww -z %s: exit %d:\n%s", fx.page_path, res.status,
			 res.err);
	cmd_result_free(&res);
	static const char *const sections[] = {
		".SH NAME\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH \"EXIT STATUS\"\n",
		".SH ENVIRONMENT\n", ".SH FILES\n", ".SH EXAMPLES\n", ".SH \"SEE ALSO\"\n",
	};
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
		char alt[64];
		/* .SH EXIT STATUS and .SH "EXIT STATUS" are the same section. */
		snprintf(alt, sizeof(alt), "%s", sections[i]);
		for (char *q = alt; (q = strchr(q, '"'));)
			memmove(q, q + 1, strlen(q));
		if (!strstr(fx.page, sections[i]) && !strstr(fx.page, alt))
			fail_msg("%s has no section %s", fx.page_path, alt);
	}
	static const char *const see_also[] = { "pmap (1)", "smem (8)", "proc (5)" };
	for (size_t i = 0; i < sizeof(see_also) / sizeof(*see_also); i++)
		assert_non_null(strstr(strstr(fx.page, "SEE ALSO"), see_also[i]));
	static const char *const env[] = { "MAPSNAP_NO_PROCMAP_QUERY", "NO_COLOR",
					   "\n.B TERM\n" };
	for (size_t i = 0; i < sizeof(env) / sizeof(*env); i++)
		assert_non_null(strstr(strstr(fx.page, ".SH ENVIRONMENT"), env[i]));
}

static void every_command_has_a_section(void **state)
{
	(void)state;
	assert_true(fx.ncommands >= 11);
	for (size_t c = 0; c < fx.ncommands; c++) {
		char title[64];
		snprintf(title, sizeof(title), "\n.SS \"mapsnap %s\"\n", fx.commands[c]);
		if (!strstr(fx.page, title))
			fail_msg("%s: no subsection for %s", fx.page_path, fx.commands[c]);
	}
}

static void help_options_are_in_the_page(void **state)
{
	(void)state;
	char report[8192];
	size_t checked = missing_from_page(fx.page, report, sizeof(report));
	if (report[0])
		fail_msg("options of --help missing from %s:%s", fx.page_path, report);
	print_message("%zu options of %zu commands found in the page\n", checked,
		      fx.ncommands);
}

static void page_options_are_accepted(void **state)
{
	(void)state;
	char report[8192];
	size_t checked = refused_by_binary(fx.page, report, sizeof(report));
	if (report[0])
		fail_msg("options %s lists that mapsnap refuses:%s", fx.page_path, report);
	print_message("%zu options of the page accepted\n", checked);
}

/* The checks name what is wrong: a page without one item, and a page
 * with an option mapsnap does not have. */
static void checks_name_what_is_missing(void **state)
{
	(void)state;
	char report[8192];
	char *page = page_edited(".SS \"mapsnap capture \\-\\-every\"",
				 "\\fB\\-\\-on\\-change\\fR", NULL);
	missing_from_page(page, report, sizeof(report));
	assert_string_equal(report, " capture:--on-change");
	free(page);
	page = page_edited(".SS \"mapsnap show\"", "\\fB\\-\\-sort\\fR", NULL);
	missing_from_page(page, report, sizeof(report));
	assert_string_equal(report, " show:--sort");
	free(page);
	page = page_edited(".SS \"mapsnap diff\"", NULL,
			   ".TP\n\\fB\\-\\-no\\-such\\-flag\\fR \\fIN\\fR\nNothing.\n");
	refused_by_binary(page, report, sizeof(report));
	assert_string_equal(report, " diff:--no-such-flag");
	free(page);
}

static void read_commands(void)
{
	char *argv[] = { fx.bin, "--help", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	const char *p = strstr(res.out, "commands:\n");
	assert_non_null(p);
	for (p = strchr(p, '\n') + 1; p[0] == ' ' && p[1] == ' ' && isalpha((unsigned char)p[2]);
	     p = strchr(p, '\n') + 1) {
		assert_true(fx.ncommands < MAX_CMDS);
		sscanf(p, " %31s", fx.commands[fx.ncommands++]);
	}
	cmd_result_free(&res);
}

static int setup(void **state)
{
	(void)state;
	const char *page = getenv("MAPSNAP_MANPAGE");
	if (!realpath(mapsnap_bin(), fx.bin) ||
	    !realpath(page && *page ? page : "cmd/mapsnap.1", fx.page_path))
		return -1;
	fx.page = read_file(fx.page_path, NULL);
	fx.dir = make_tmpdir();
	/* Probes run in an empty directory: nothing they might write lands
	 * in the tree. */
	if (!fx.page || !fx.dir || chdir(fx.dir) != 0)
		return -1;
	read_commands();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fx.dir) {
		remove_tree(fx.dir);
		free(fx.dir);
	}
	free(fx.page);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_formats_without_warnings),
		cmocka_unit_test(every_command_has_a_section),
		cmocka_unit_test(help_options_are_in_the_page),
		cmocka_unit_test(page_options_are_accepted),
		cmocka_unit_test(checks_name_what_is_missing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
