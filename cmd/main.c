/* mapsnap: git-style dispatcher. One file per subcommand in cmd/. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "capture", cmd_capture, "capture /proc/PID/smaps to a snapshot file" },
	{ "convert", cmd_convert, "convert a snapshot to smaps text or JSON" },
	{ "show", cmd_show, "show a snapshot or pid as procps-ng pmap does" },
	{ "diff", cmd_diff, "what changed in memory between two snapshots or pids" },
	{ "around", cmd_around, "capture a pid before and after a command, diff" },
	{ "trend", cmd_trend, "which regions keep growing over a series of snapshots" },
	{ "summary", cmd_summary, "where the memory of a snapshot or pid is" },
	{ "check", cmd_check, "what looks wrong in a snapshot or pid's memory map" },
	{ "report", cmd_report, "one self-contained HTML page of a snapshot, diff or series" },
	{ "watch", cmd_watch, "one process's map live, refreshed: what grows, what is new" },
	{ "rank", cmd_rank, "every process (or library, user) by Pss, USS, Rss, swap" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mapsnap <command> [options] [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(*subcommands); i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'mapsnap <command> --help' describes a command.\n"
		   "  --version       print the version\n"
		   "  --list-options  every option of every command, one per line\n"
		   "                  (command, option, letter, value, words, alias of)\n"
		   "\nExamples:\n"
		   "  mapsnap show 1234                 the map of process 1234, (as pmap)\n"
		   "  mapsnap capture 1234 -o before.json\n"
		   "  mapsnap diff before.json 1234     what changed since\n"
		   "\nExit status: 0 success, 1 a gate or --strict check failed, "
		   "2 usage or input error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	opterr = 0; /* each subcommand reports bad options itself */
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return cli_stdout_finish("--help", EXIT_OK);
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("mapsnap %s\n", snap_version());
		return cli_stdout_finish("--version", EXIT_OK);
	}
	if (strcmp(name, "--list-options") == 0) {
		cli_list_options(stdout);
		return cli_stdout_finish("--list-options", EXIT_OK);	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(*subcommands); i++)
		if (strcmp(name, subcommands[i].name) == 0)
			/* Output the command left in stdio's buffer fails here,
			 * not silently at exit (a full disk, /dev/full). */
			return cli_stdout_finish(name, subcommands[i].run(argc - 1, argv + 1));
	cli_error("unknown command '%s' (see 'mapsnap --help')", name);
	return EXIT_ERROR;
}
