/* Metrics in Prometheus' text exposition format (version 0.0.4), for
 * node_exporter's textfile collector. Cardinality stays bounded: the
 * labels are comm, pid and kind (13 kinds at most), never a region or a
 * path, so a host yields at most processes x kinds series per family. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

static int count_deleted(snap_check *c, size_t *regions)
{
	const snap_rule *rule = snap_check_rule("deleted-mapping");
	int rc = rule ? snap_check_run(c, rule, NULL) : SNAP_EINVAL;
	if (rc < 0)
		return rc;
	*regions = 0;
	for (size_t k = 0; k < c->nfindings; k++)
		if (strcmp(c->findings[k].rule, "deleted-mapping") == 0)
			*regions += c->findings[k].nregions;
	return 0;
}

static void add_region(snap_sums *s, const snap_region *r, const int *fields)
{
	s->regions++;
	for (int m = 0; m < SNAP_M_COUNT; m++)
		s->kb[m] += m == SNAP_M_SIZE ? (int64_t)((r->end - r->start) >> 10)
			    : (int64_t)snap_region_value(r, fields[m]);
}

int fmt_prom_process_init(fmt_prom_process *p, snap_check *c, long max_map_count)
{
	const snap_snapshot *snap = c->snap;
	const snap_identity *id = c->id;
	memset(p, 0, sizeof(*p));
	const char *comm = snap->process.known && snap->process.comm ? snap->process.comm : "";
	if (!(p->comm = strdup(comm)))
		return SNAP_ENOMEM;
	p->pid = snap->process.known && snap->process.pid > 0 ? snap->process.pid : 0;
	if (!snap->captured_at || snap_parse_utc(snap->captured_at, &p->captured_at, NULL) < 0)
		p->captured_at = -1;
	int fields[SNAP_M_COUNT];
	for (int m = 0; m < SNAP_M_COUNT; m++)
		fields[m] = snap_field_find(snap, snap_measure_name((enum snap_measure)m));
	for (size_t i = 0; i < snap->nregions; i++)
		add_region(&p->by_kind[id->kinds[i]], &snap->regions[i], fields);
	p->regions = snap->nregions;
	p->duplicated_libraries = id->ndups;
	p->thread_stacks = id->thread_stacks;
	p->max_map_count = max_map_count > 0 ? max_map_count : snap->host.max_map_count;
	int rc = count_deleted(c, &p->deleted_mappings);
	if (rc < 0)
		fmt_prom_process_clear(p);
	return rc;
}

void fmt_prom_process_clear(fmt_prom_process *p)
{
	free(p->comm);
	p->comm = NULL;
}

/* A label value: backslash, double quote and newline escaped; bytes that
 * are not UTF-8 (comm is whatever the process wrote) become U+FFFD. */
static void put_label_value(FILE *f, const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '"') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			size_t n = snap_utf8_seq((const unsigned char *)s + i, len - i);
			if (n)
				fwrite(s + i, 1, n, f);
			else
				fputs("\xef\xbf\xbd", f);
			i += n ? n : 1;
		}
	}
}

static void put_labels(FILE *f, const fmt_prom_process *p, const char *kind)
{
	fputs("{comm=\"", f);
	put_label_value(f, p->comm);
	fprintf(f, "\",pid=\"%ld\"", p->pid);
	if (kind)
		fprintf(f, ",kind=\"%s\"", kind);
	fputc('}', f);
}

static void put_family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* A per-kind family: one sample per kind the process has regions of. */
static void put_by_kind(FILE *f, const fmt_prom_process *procs, size_t n,
			const char *name, const char *help, int measure)
{
	put_family(f, name, help);
	for (size_t k = 0; k < n; k++)
		for (int kind = 0; kind < SNAP_KIND_COUNT; kind++) {
			const snap_sums *s = &procs[k].by_kind[kind];
			if (!s->regions)
				continue;
			fputs(name, f);
			put_labels(f, &procs[k], snap_kind_name((enum snap_kind)kind));
			if (measure < 0)
				fprintf(f, " %" PRId64 "\n", s->regions);
			else
				fprintf(f, " %" PRId64 "\n", s->kb[measure] * 1024);
		}
}

enum count { C_DUPS, C_DELETED, C_STACKS };

static void put_count(FILE *f, const fmt_prom_process *procs, size_t n,
		      const char *name, const char *help, enum count which)
{
	put_family(f, name, help);
	for (size_t k = 0; k < n; k++) {
		const fmt_prom_process *p = &procs[k];
		size_t v = which == C_DUPS ? p->duplicated_libraries
			 : which == C_DELETED ? p->deleted_mappings : p->thread_stacks;
		fputs(name, f);
		put_labels(f, p, NULL);
		fprintf(f, " %zu\n", v);
	}
}

int fmt_prometheus_write(FILE *f, const fmt_prom_process *procs, size_t n)
{
	put_by_kind(f, procs, n, "mapsnap_size_bytes",
		    "Address space mapped (smaps Size), by kind of memory.", SNAP_M_SIZE);
	put_by_kind(f, procs, n, "mapsnap_rss_bytes",
		    "Resident memory (smaps Rss), by kind of memory.", SNAP_M_RSS);
	put_by_kind(f, procs, n, "mapsnap_pss_bytes",
		    "Proportional set size (smaps Pss), by kind of memory.", SNAP_M_PSS);
	put_by_kind(f, procs, n, "mapsnap_private_dirty_bytes",
		    "Private dirty memory (smaps Private_Dirty), by kind of memory.",
		    SNAP_M_PRIVATE_DIRTY);
	put_by_kind(f, procs, n, "mapsnap_swap_bytes",
		    "Swapped out memory (smaps Swap), by kind of memory.", SNAP_M_SWAP);
	put_by_kind(f, procs, n, "mapsnap_regions",
		    "Mappings (smaps regions), by kind of memory.", -1);
	put_count(f, procs, n, "mapsnap_duplicated_libraries",
		  "Libraries loaded more than once (same file twice, or one name "
		  "from two files).", C_DUPS);
	put_count(f, procs, n, "mapsnap_deleted_mappings",
		  "Mappings of files deleted or replaced on disk (memfd, SysV and "
		  "/dev/zero aside).", C_DELETED);
	put_count(f, procs, n, "mapsnap_thread_stacks", "Thread stacks found.", C_STACKS);
	put_family(f, "mapsnap_map_count_ratio",
		   "Mappings over vm.max_map_count (mmap fails at 1).");
	for (size_t k = 0; k < n; k++) {
		if (procs[k].max_map_count <= 0)
			continue;
		fputs("mapsnap_map_count_ratio", f);
		put_labels(f, &procs[k], NULL);
		fprintf(f, " %.6g\n", (double)procs[k].regions / (double)procs[k].max_map_count);
	}
	put_family(f, "mapsnap_capture_timestamp_seconds",
		   "When the snapshot was captured (Unix time).");
	for (size_t k = 0; k < n; k++) {
		if (procs[k].captured_at < 0)
			continue;
		fputs("mapsnap_capture_timestamp_seconds", f);
		put_labels(f, &procs[k], NULL);
		fprintf(f, " %.3f\n", procs[k].captured_at);
	}
	return ferror(f) ? SNAP_EIO : 0;
}
