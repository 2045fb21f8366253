/* The only module that talks to xxHash. The canonical encoding hashed
 * here is specified in formats/README.md ("checksum"). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "internal.h"

struct snap_hasher {
	XXH3_state_t *state;
};

int snap_hasher_new(snap_hasher **out, snap_error *err)
{
	snap_hasher *h = calloc(1, sizeof(*h));
	if (!h || !(h->state = XXH3_createState())) {
		free(h);
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0,
				      "out of memory creating a checksum state");
	}
	XXH3_64bits_reset(h->state);
	*out = h;
	return SNAP_OK;
}

void snap_hasher_free(snap_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->state);
	free(h);
}

static void add(snap_hasher *h, const void *data, size_t len)
{
	XXH3_64bits_update(h->state, data, len);
}

void snap_hasher_add(snap_hasher *h, const void *data, size_t len)
{
	add(h, data, len);
}

static char *put_dec(char *out, uint64_t v)
{
	return out + snap_format_dec(out, v);
}

static char *put_hex(char *out, uint64_t v)
{
	return out + snap_format_hex(out, v, 1);
}

/* The canonical encoding of formats/README.md: a header line
 * "start end perms offset major:minor inode path", one "Name=value" line
 * per non-zero counter or text line in printed order, "VmFlags=..." when
 * printed, then an empty line. Hex is lowercase without padding. */
void snap_hasher_add_region(snap_hasher *h, const snap_snapshot *snap,
			    const snap_region *r)
{
	char buf[160], *p = buf;
	p = put_hex(p, r->start);
	*p++ = ' ';
	p = put_hex(p, r->end);
	*p++ = ' ';
	memcpy(p, r->perms, 4);
	p += 4;
	*p++ = ' ';
	p = put_hex(p, r->offset);
	*p++ = ' ';
	p = put_hex(p, r->dev_major);
	*p++ = ':';
	p = put_hex(p, r->dev_minor);
	*p++ = ' ';
	p = put_dec(p, r->inode);
	*p++ = ' ';
	add(h, buf, (size_t)(p - buf));
	add(h, r->path, r->path_len);
	add(h, "\n", 1);
	for (size_t i = 0; i < r->nentries; i++) {
		const snap_entry *e = &r->entries[i];
		if (!e->is_text && e->value == 0)
			continue;
		const char *name = snap->fields[e->field].name;
		add(h, name, strlen(name));
		if (e->is_text) {
			add(h, "=", 1);
			add(h, e->text, strlen(e->text));
			add(h, "\n", 1);
		} else {
			p = buf;
			*p++ = '=';
			p = put_dec(p, e->value);
			*p++ = '\n';
			add(h, buf, (size_t)(p - buf));
		}
	}
	if (r->vmflags) {
		add(h, "VmFlags=", 8);
		add(h, r->vmflags, strlen(r->vmflags));
		add(h, "\n", 1);
	}
	add(h, "\n", 1);
}

uint64_t snap_hasher_digest(const snap_hasher *h)
{
	return XXH3_64bits_digest(h->state);
}

int snap_snapshot_checksum(uint64_t *out, const snap_snapshot *snap, snap_error *err)
{
	snap_hasher *h;
	int rc = snap_hasher_new(&h, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < snap->nregions; i++)
		snap_hasher_add_region(h, snap, &snap->regions[i]);
	*out = snap_hasher_digest(h);
	snap_hasher_free(h);
	return SNAP_OK;
}

uint64_t snap_hash64(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

void snap_hash128(uint8_t out[16], const void *data, size_t len)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(out, c.digest, 16);
}
