/* The kernel's smaps layout, reproduced from the model. The widths come
 * from fs/proc/task_mmu.c: the header is padded to column 73 on 64-bit
 * when a name follows, labels are padded to 16 and values end at 24. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"

#define NAME_COLUMN 72 /* seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) */
#define VALUE_END 24

static void put_header(FILE *f, const snap_region *r)
{
	int n = fprintf(f, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64
			" %02x:%02x %" PRIu64 " ", r->start, r->end, r->perms,
			r->offset, r->dev_major, r->dev_minor, r->inode);
	if (r->path_len) {
		if (n < NAME_COLUMN)
			fprintf(f, "%*s", NAME_COLUMN - n, "");
		fputc(' ', f);
		fwrite(r->path, 1, r->path_len, f);
	}
	fputc('\n', f);
}

static void put_entry(FILE *f, const snap_field *field, const snap_entry *e)
{
	const char *text = e ? snap_entry_text(e) : NULL;
	uint64_t value = e && !e->is_text ? e->value : 0;
	size_t label = strlen(field->name) + 1;
	fprintf(f, "%s:", field->name);
	size_t pad = label < 16 ? 16 - label : 1;
	fprintf(f, "%*s", (int)pad, "");
	label += pad;
	int width = label < VALUE_END ? (int)(VALUE_END - label) : 0;
	switch (field->unit) {
	case SNAP_UNIT_KB:
		fprintf(f, "%*" PRIu64 " kB\n", width, value);
		break;
	case SNAP_UNIT_NONE:
		fprintf(f, "%*" PRIu64 "\n", width, value);
		break;
	case SNAP_UNIT_TEXT:
		fprintf(f, "%s\n", text ? text : "");
		break;
	}
}

int fmt_smaps_write_region(FILE *f, const snap_snapshot *snap,
			   const snap_region *r)
{
	put_header(f, r);
	/* Entries hold the non-zero lines in layout order: walk both. */
	size_t next = 0;
	for (size_t i = 0; i < r->nlayout; i++) {
		const snap_entry *e = NULL;
		if (next < r->nentries && r->entries[next].field == r->layout[i])
			e = &r->entries[next++];
		put_entry(f, &snap->fields[r->layout[i]], e);
	}
	if (r->vmflags) {
		fputs("VmFlags:", f);
		for (const char *s = r->vmflags; *s;) {
			const char *sp = strchr(s, ' ');
			size_t n = sp ? (size_t)(sp - s) : strlen(s);
			fputc(' ', f);
			fwrite(s, 1, n, f);
			s += n + (sp ? 1 : 0);
		}
		fputs(" \n", f);
	}
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}

int fmt_smaps_write(FILE *f, const snap_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++)
		if (fmt_smaps_write_region(f, snap, &snap->regions[i]) < 0)
			return SNAP_EIO;
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
