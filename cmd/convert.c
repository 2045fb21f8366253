/* mapsnap convert: a snapshot (or smaps text, or a live pid) to smaps text
 * or snapshot JSON. --to smaps reproduces the kernel's text byte for byte
 * for a snapshot captured on a 64-bit kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

struct convert_settings {
	const char *to;
	const char *output;
	bool force;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap convert --to smaps|json [-o FILE] [--force] INPUT\n"
	      "\n"
	      "INPUT is a snapshot file (one or more documents), raw smaps text,\n"
	      "'-' for stdin, or a live PID. Writes to stdout unless -o is given.\n"
	      "\n"
	      "  -t, --to FORMAT     smaps (the kernel's text) or json (a snapshot)\n"
	      "  -o, --output FILE   write FILE (atomically) instead of stdout\n"
	      "  -f, --force         overwrite an existing FILE\n"
	      "      --no-checksum   load files without a checksum without a warning\n"
	      "  -h, --help          this help\n", f);
}

/* smaps text holds mapping names as the kernel printed them, escape bytes
 * included: exact into a file or a pipe, through the reports' output
 * filter onto a terminal. */
static int write_all(FILE *out, const cli_snapshots *list, bool smaps, bool terminal)
{
	fmt_safe_out safe;
	FILE *f = terminal ? fmt_safe_open(&safe, out) : out;
	if (!f)
		return SNAP_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < list->count && rc == 0; i++)
		rc = smaps ? fmt_smaps_write(f, list->items[i])
			   : fmt_json_write(f, list->items[i]);
	if (terminal) {
		int closed = fmt_safe_close(&safe);
		rc = rc ? rc : closed;
	}
	return rc;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option options[] = {
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		CLI_NO_CHECKSUM_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	struct convert_settings s = { NULL, "-", false };
	int c;
	while ((c = getopt_long(argc, argv, "t:o:fh", options, NULL)) != -1) {
		if (c == CLI_OPT_NO_CHECKSUM) {
			cli_no_checksum = true;
			continue;
		}
		switch (c) {
		case 't': s.to = optarg; break;
		case 'o': s.output = optarg; break;
		case 'f': s.force = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return cli_bad_option("convert", argv);
		}
	}
	if (!s.to || (strcmp(s.to, "smaps") != 0 && strcmp(s.to, "json") != 0))
		return cli_error("convert: --to smaps or --to json is required");
	if (optind + 1 != argc)
		return cli_error("convert: give exactly one INPUT");

	snap_error err = { 0 };
	cli_snapshots list = { 0 };
	cli_output out;
	int rc = cli_load_arg(&list, argv[optind], NULL, &err);
	if (rc == 0)
		rc = cli_output_open(&out, s.output, s.force, &err);
	if (rc < 0) {
		cli_snapshots_free(&list);
		return cli_report(&err);
	}
	bool smaps = strcmp(s.to, "smaps") == 0;
	rc = write_all(out.f, &list, smaps,
		       smaps && out.to_stdout && isatty(STDOUT_FILENO));
	cli_snapshots_free(&list);
	if (rc < 0) {
		cli_output_discard(&out);
		return cli_error("%s: write failed: %s", s.output, strerror(errno));
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}
