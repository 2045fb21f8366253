/* identity.c: library names, load instances (images), duplicated
 * libraries and the identity keys, on hand-made and real fixtures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"
#include "util.h"

static snap_snapshot *load(const char *path)
{
	snap_snapshot *snap;
	snap_error err;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	if (snap_capture_files(snap, path, false, &err) != 0)
		fail_msg("%s: %s", err.source, err.message);
	return snap;
}

static void check_lib_name(const char *path, const char *want)
{
	char buf[128];
	size_t n = snap_lib_name(buf, sizeof(buf), path, strlen(path));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void lib_names_strip_versions(void **state)
{
	(void)state;
	check_lib_name("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "libz.so");
	check_lib_name("/tmp/x/libz.so.1", "libz.so");
	check_lib_name("/opt/old/lib/libc-2.31.so", "libc.so");
	check_lib_name("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so");
	/* "-64" is no release: it has no dot */
	check_lib_name("/lib64/ld-linux-x86-64.so.2", "ld-linux-x86-64.so");
	check_lib_name("libpython3.11.so.1.0", "libpython3.11.so");
	check_lib_name("/usr/lib/libstdc++.so.6.0.30", "libstdc++.so");
	check_lib_name("/x/_ssl.cpython-311-x86_64-linux-gnu.so",
		       "_ssl.cpython-311-x86_64-linux-gnu.so");
	check_lib_name("/opt/demo/data.bin", "data.bin");
	check_lib_name("/opt/libfoo.sox", "libfoo.sox");
}

static void lib_name_truncates_safely(void **state)
{
	(void)state;
	char buf[4];
	const char *p = "/usr/lib/libz.so.1";
	assert_int_equal(snap_lib_name(buf, sizeof(buf), p, strlen(p)), 7);
	assert_string_equal(buf, "lib");
	/* the length given is honoured: " (deleted)" stays out */
	const char *d = "/usr/lib/libz.so.1 (deleted)";
	char full[64];
	snap_lib_name(full, sizeof(full), d, strlen("/usr/lib/libz.so.1"));
	assert_string_equal(full, "libz.so");
}

static void check_anon_key(const char *name, const char *want)
{
	char buf[128];
	size_t n = snap_anon_name_key(buf, sizeof(buf), name, strlen(name));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void anon_names_lose_thread_ids(void **state)
{
	(void)state;
	check_anon_key("[anon: glibc: pthread stack: 4242]",
		       "[anon: glibc: pthread stack: *]");
	check_anon_key("[anon:stack_and_tls:1234]", "[anon:stack_and_tls:*]");
	check_anon_key("[anon:libc_malloc]", "[anon:libc_malloc]");
	check_anon_key("[anon:x86_64 table]", "[anon:x86_64 table]");
	check_anon_key("[anon:scudo:primary]", "[anon:scudo:primary]");
}

static const snap_image *image_at(const snap_identity *id, uint64_t start)
{
	for (size_t i = 0; i < id->nimages; i++)
		if (id->snap->regions[id->images[i].first].start == start)
			return &id->images[i];
	fail_msg("no image at %lx", (unsigned long)start);
	return NULL;
}

/* fixtures/diff/dups.smaps: the exe, a data file mapped twice, libz three
 * times (normal, a copy, dlmopen of the same inode), libc-2.31.so and
 * libc.so.6, libssl.so.1.1 and .3, a module with a ---p gap, ld.so. */
static void images_are_load_instances(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/diff/dups.smaps");
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(id->nimages, 12);
	const snap_image *exe = image_at(id, 0x555555554000);
	assert_int_equal(exe->kind, SNAP_KIND_EXE);
	assert_int_equal(exe->count, 5);
	const snap_image *d0 = image_at(id, 0x7f0000000000);
	const snap_image *d1 = image_at(id, 0x7f0000010000);
	assert_int_equal(d0->kind, SNAP_KIND_FILE);
	assert_int_equal(d0->count, 1);
	assert_int_equal(d0->ordinal, 0);
	assert_int_equal(d1->ordinal, 1);
	const snap_image *z1 = image_at(id, 0x7f0001000000);
	const snap_image *copy = image_at(id, 0x7f0002000000);
	const snap_image *z3 = image_at(id, 0x7f0003000000);
	assert_int_equal(z1->kind, SNAP_KIND_LIB);
	assert_int_equal(z1->count, 5);
	assert_int_equal(z1->ordinal, 0);
	assert_int_equal(copy->ordinal, 0);
	assert_int_equal(z3->ordinal, 1);
	assert_int_equal(z1->inode, 333607);
	/* Size and Rss of the five segments: 0x3000+0x13000+0x7000+0x1000+0x1000 */
	assert_int_equal(z1->size_kb, 124);
	const snap_image *gap = image_at(id, 0x7f0008000000);
	assert_int_equal(gap->count, 5);
	/* the bss after the third libz is anonymous, in no image */
	size_t bss = z3->first + z3->count;
	assert_int_equal(snap->regions[bss].inode, 0);
	assert_int_equal(id->image_of[bss], -1);
	assert_int_equal(id->kinds[bss], SNAP_KIND_ANON);
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

static const snap_duplicate *dup_named(const snap_identity *id, const char *name)
{
	for (size_t i = 0; i < id->ndups; i++)
		if (strcmp(id->dups[i].name, name) == 0)
			return &id->dups[i];
	return NULL;
}

static void duplicated_libraries(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/diff/dups.smaps");
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(id->ndups, 3);
	const snap_duplicate *z = dup_named(id, "libz.so");
	const snap_duplicate *c = dup_named(id, "libc.so");
	const snap_duplicate *s = dup_named(id, "libssl.so");
	assert_non_null(z);
	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(z->nimages, 3);
	assert_true(z->same_file);
	assert_int_equal(c->nimages, 2);
	assert_false(c->same_file);
	assert_int_equal(s->nimages, 2);
	/* the data file mapped twice is not a library: no duplicate */
	assert_null(dup_named(id, "data.bin"));
	assert_null(dup_named(id, "ld-linux-x86-64.so"));
	for (size_t k = 0; k < z->nimages; k++) {
		const snap_image *img = &id->images[z->images[k]];
		assert_int_equal(img->kind, SNAP_KIND_LIB);
		assert_true(img->inode == 333607 || img->inode == 5555);
	}
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

/* zoo: a real process with 2 threads besides main (status: Threads: 3). */
static void kinds_and_classes_on_a_real_process(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/ref/zoo/proc.smaps");
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(id->thread_stacks, 2);
	size_t exact = 0, heap = 0, bss = 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		enum snap_kind k = id->kinds[i];
		/* no key depends on a neighbour: unnamed memory pairs by size */
		if (k == SNAP_KIND_THREAD_STACK || k == SNAP_KIND_GUARD ||
		    k == SNAP_KIND_ARENA || k == SNAP_KIND_RESERVED)
			assert_int_equal(id->classes[i], SNAP_MATCH_SIMILAR);
		if (r->inode && r->path[0] == '/' && k != SNAP_KIND_SHMEM) {
			assert_int_equal(id->classes[i], SNAP_MATCH_EXACT);
			assert_true(id->image_of[i] >= 0);
			exact++;
		}
		if (k == SNAP_KIND_HEAP) {
			heap++;
			assert_int_equal(id->classes[i], SNAP_MATCH_EXACT);
		}
		/* a library's .bss follows its library; other anon pairs by size */
		if (k == SNAP_KIND_ANON)
			assert_int_equal(id->classes[i], id->attached[i] >= 0
					 ? SNAP_MATCH_EXACT : SNAP_MATCH_SIMILAR);
		if (id->evidence[i] == SNAP_EV_BSS) {
			bss++;
			assert_true(id->attached[i] >= 0);
			assert_string_equal(id->images[id->attached[i]].path +
					    id->images[id->attached[i]].path_len - 9,
					    "libc.so.6");
		}
	}
	assert_int_equal(bss, 1);
	assert_int_equal(id->stacks.by_map_stack, 2);
	assert_int_equal(id->stacks.threads, -1); /* status not loaded */
	assert_true(exact > 10);
	assert_int_equal(heap, 1);
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

/* Unnamed anonymous regions are keyed by the named region below them:
 * equal keys under one anchor and perms, different keys elsewhere. */
static void anon_keys_follow_their_anchor(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/ref/zoo/proc.smaps");
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	size_t a = SIZE_MAX, b = SIZE_MAX, c = SIZE_MAX;
	bool named_since_a = false;
	for (size_t i = 1; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		named_since_a |= a != SIZE_MAX && r->path_len > 0;
		if (id->kinds[i] != SNAP_KIND_ANON || strcmp(r->perms, "rw-p") != 0)
			continue;
		if (a == SIZE_MAX)
			a = i;
		else if (b == SIZE_MAX && !named_since_a)
			b = i;
		if (id->kinds[i - 1] == SNAP_KIND_LIB)
			c = i; /* a bss, anchored on a library */
	}
	assert_true(a != SIZE_MAX && b != SIZE_MAX && c != SIZE_MAX);
	assert_true(id->keys[a] == id->keys[b]);
	assert_true(id->keys[a] != id->keys[c]);
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

static void add_region(snap_snapshot *snap, uint64_t start, uint64_t end,
		       const char *perms, const char *vmflags)
{
	snap_region r = { .start = start, .end = end, .path = "", .vmflags = vmflags };
	memcpy(r.perms, perms, 5);
	assert_int_equal(snap_snapshot_add_region(snap, &r, NULL), 0);
}

/* A 64 MiB mmap that happens to be 64 MiB aligned is no glibc arena:
 * arenas are MAP_NORESERVE ("nr", no "ac"). */
static void arenas_need_noreserve(void **state)
{
	(void)state;
	snap_snapshot *snap;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	add_region(snap, 0x7f0004000000, 0x7f0008000000, "rw-p", "rd wr mr mw me ac");
	add_region(snap, 0x7f0008000000, 0x7f0008021000, "rw-p", "rd wr mr mw me nr");
	add_region(snap, 0x7f0008021000, 0x7f000c000000, "---p", "mr mw me nr");
	add_region(snap, 0x7f0010000000, 0x7f0014000000, "rw-p", "rd wr mr mw me nr");
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(id->kinds[0], SNAP_KIND_ANON);
	assert_int_equal(id->kinds[1], SNAP_KIND_ARENA);
	assert_int_equal(id->kinds[2], SNAP_KIND_ARENA);
	assert_int_equal(id->kinds[3], SNAP_KIND_ARENA); /* a full heap */
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

static int identity_without_memory(void *ctx)
{
	const snap_snapshot *snap = ctx;
	snap_identity *id;
	enum snap_kind kinds[64];
	snap_path_map map = { "/usr", "/opt" };
	snap_error err = { 0 };
	char want[96];
	snprintf(want, sizeof(want), "out of memory building the identity of %zu regions",
		 snap->nregions);
	int bad = error_says(snap_identity_new(&id, snap, &err), SNAP_ENOMEM, &err, want);
	bad |= snap_identity_new(&id, snap, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_identity_new_mapped(&id, snap, &map, 1, &err), SNAP_ENOMEM,
			  &err, want);
	bad |= snap_identity_new_mapped(&id, snap, &map, 1, NULL) != SNAP_ENOMEM;
	snprintf(want, sizeof(want), "out of memory classifying %zu regions", snap->nregions);
	bad |= error_says(snap_classify(snap, kinds, NULL, NULL, &err), SNAP_ENOMEM, &err,
			  want);
	bad |= snap_classify(snap, kinds, NULL, NULL, NULL) != SNAP_ENOMEM;
	return bad;
}

/* Out of memory, an identity (and a classification) says how big a
 * snapshot it was building for. */
static void identity_out_of_memory(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/ref/sleep/proc.smaps");
	assert_true(snap->nregions > 0 && snap->nregions <= 64);
	int rc = run_out_of_memory(identity_without_memory, snap);
	snap_snapshot_free(snap);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lib_names_strip_versions),
		cmocka_unit_test(lib_name_truncates_safely),
		cmocka_unit_test(anon_names_lose_thread_ids),
		cmocka_unit_test(images_are_load_instances),
		cmocka_unit_test(duplicated_libraries),
		cmocka_unit_test(kinds_and_classes_on_a_real_process),
		cmocka_unit_test(anon_keys_follow_their_anchor),
		cmocka_unit_test(arenas_need_noreserve),
		cmocka_unit_test(identity_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
