/* mapsnap convert: a snapshot (or smaps text, or a live pid) to smaps text
 * or snapshot JSON. --to smaps reproduces the kernel's text byte for byte
 * for a snapshot captured on a 64-bit kernel. --to ndjson streams region
 * rows of any number of snapshots for a column store. */
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
	      "       mapsnap convert --to ndjson [-o FILE] [--force] INPUT...\n"
	      "\n"
	      "INPUT is a snapshot file (one or more documents), raw smaps text,\n"
	      "'-' for stdin, or a live PID; for ndjson also a directory (its\n"
	      "*.json files). Writes to stdout unless -o is given.\n"
	      "\n"
	      "ndjson reads one snapshot at a time, whatever the input size; its\n"
	      "rows follow the mapsnap.row/1 schema of formats/README.md (for\n"
	      "ClickHouse's JSONEachRow).\n"
	      "\n", f);
	cli_print_options(f, CLI_CONVERT, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap convert --to smaps snap.json > smaps.txt\n"
	      "  mapsnap convert --to json smaps.txt -o snap.json\n"
	      "  mapsnap convert --to ndjson host/ -o rows.ndjson\n"
	      "\n"
	      "Exit status: 0, or 2 on a usage or input error.\n", f);
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

struct rows_ctx {
	FILE *f;
	int rc; /* a write or memory failure, when one stopped the stream */
};

static int write_rows(void *ctx, const snap_snapshot *snap, const char *source)
{
	struct rows_ctx *rc = ctx;
	snap_identity *id;
	(void)source;
	if ((rc->rc = snap_identity_new(&id, snap, NULL)) < 0)
		return rc->rc;
	rc->rc = fmt_ndjson_write(rc->f, id);
	snap_identity_free(id);
	return rc->rc;
}

static int convert_rows(const struct convert_settings *s, int argc, char **argv)
{
	snap_error err = { 0 };
	cli_output out;
	if (cli_output_open(&out, s->output, s->force, &err) < 0)
		return cli_report(&err);
	struct rows_ctx ctx = { out.f, 0 };
	int rc = 0;
	for (int i = 0; i < argc && rc == 0; i++)
		rc = cli_each_snapshot(argv[i], NULL, write_rows, &ctx, &err);
	if (rc != 0) {
		cli_output_discard(&out);
		if (ctx.rc == SNAP_ENOMEM)
			return cli_error("convert: out of memory");
		if (ctx.rc < 0)
			return cli_error("%s: write failed: %s", s->output, strerror(errno));
		return cli_report(&err);
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
	struct convert_settings s = { NULL, "-", false };
	int c;
	while ((c = cli_getopt(CLI_CONVERT, "convert", argc, argv)) != -1) {
		switch (c) {
		case 't':
			if (cli_pick(CLI_CONVERT, "convert", 't', optarg) < 0)
				return EXIT_ERROR;
			s.to = optarg;
			break;
		case 'o': s.output = optarg; break;
		case 'f': s.force = true; break;
		case OPT_NO_CHECKSUM: break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return EXIT_ERROR;
		}
	}
	if (s.to && strcmp(s.to, "ndjson") == 0) {
		if (optind >= argc)
			return cli_error("convert: give at least one INPUT");
		return convert_rows(&s, argc - optind, argv + optind);
	}
	if (!s.to || (strcmp(s.to, "smaps") != 0 && strcmp(s.to, "json") != 0))
		return cli_error("convert: --to smaps, json or ndjson is required");
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
