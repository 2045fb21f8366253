/*
 * example_diff.c: libmapsnap from a C program, using only the installed
 * headers. It captures its own process, saves the snapshot to DIR,
 * loads it back, maps and touches 8 MiB, captures again and diffs the
 * loaded snapshot against the new one.
 *
 *   cc example_diff.c $(pkg-config --cflags --libs mapsnap) -o example_diff
 *   ./example_diff /tmp
 *
 * Exit status 0 when every step worked, 1 otherwise (the reason on
 * stderr). make check (tests/library.sh) builds and runs it.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <mapsnap/snap.h>
#include <mapsnap/snapfile.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAPPING_BYTES (8u << 20)

static int failed(const char *step, const snap_error *err)
{
	char why[1100];
	fprintf(stderr, "example_diff: %s: %s\n", step,
		snap_error_format(err, why, sizeof(why)));
	return 1;
}

/* The change whose new side covers addr, or NULL. */
static const snap_change *change_at(const snap_diff *diff, uint64_t addr)
{
	for (size_t i = 0; i < diff->nchanges; i++) {
		const snap_side *s = &diff->changes[i].new;
		if (s->present && s->start <= addr && addr < s->end)
			return &diff->changes[i];
	}
	return NULL;
}

static int report_diff(const snap_diff *diff, const void *mapping)
{
	const snap_change *c = change_at(diff, (uint64_t)(uintptr_t)mapping);
	if (!c) {
		fprintf(stderr, "example_diff: the diff has no change at %p\n", mapping);
		return 1;
	}
	printf("diff: %zu changes, matched by %s\n", diff->nchanges,
	       diff->by_address ? "address" : "identity");
	printf("the 8 MiB mapping: %s, Rss %+lld kB\n", snap_change_name(c->type),
	       (long long)c->delta.kb[SNAP_M_RSS]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: example_diff DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/before.json", argv[1]);
	printf("libmapsnap %s\n", snap_version());

	snap_error err = { 0 };
	snap_capture_opts opts;
	snap_capture_opts_init(&opts, SNAP_CAPTURE_OPTS_VERSION);
	opts.no_build_ids = true; /* faster; the diff needs no build-ids */

	snap_snapshot *before = NULL, *loaded = NULL, *after = NULL;
	snap_diff *diff = NULL;
	void *mapping = MAP_FAILED;
	int status = 1;
	if (snap_capture(&before, getpid(), &opts, &err) < 0) {
		status = failed("capture", &err);
		goto out;
	}
	if (snap_snapshot_save_file(path, before, SNAP_SAVE_OVERWRITE, &err) < 0) {
		status = failed("save", &err);
		goto out;
	}
	if (snap_snapshot_load_file(&loaded, path, &err) < 0) {
		status = failed("load", &err);
		goto out;
	}
	uint64_t sum_before, sum_loaded;
	if (snap_snapshot_checksum(&sum_before, before, &err) < 0 ||
	    snap_snapshot_checksum(&sum_loaded, loaded, &err) < 0) {
		status = failed("checksum", &err);
		goto out;
	}
	printf("saved %zu regions, loaded %zu, checksums %s\n", before->nregions,
	       loaded->nregions, sum_before == sum_loaded ? "equal" : "differ");

	mapping = mmap(NULL, MAPPING_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapping == MAP_FAILED) {
		perror("example_diff: mmap");
		goto out;
	}
	memset(mapping, 1, MAPPING_BYTES);
	if (snap_capture(&after, getpid(), &opts, &err) < 0) {
		status = failed("capture", &err);
		goto out;
	}

	snap_diff_opts dopts;
	snap_diff_opts_init(&dopts, SNAP_DIFF_OPTS_VERSION);
	if (snap_diff_new(&diff, loaded, after, &dopts, &err) < 0) {
		status = failed("diff", &err);
		goto out;
	}
	status = report_diff(diff, mapping);
out:
	if (mapping != MAP_FAILED)
		munmap(mapping, MAPPING_BYTES);
	snap_diff_free(diff);
	snap_snapshot_free(after);
	snap_snapshot_free(loaded);
	snap_snapshot_free(before);
	return status;
}
