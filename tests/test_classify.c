/* classify.c and identity.c through the public API: each kind decided by
 * its evidence, on layouts written as smaps text. Thread stacks: the
 * stack pointer, the MAP_STACK mark, the bare pattern only without it,
 * and never more than the threads (plus glibc's cache); no-access ranges:
 * guards and reservations; the brk name on an executable mapping; shared
 * files; library loads by file offset, gaps and .bss; duplicates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

/* One region of smaps text: RANGE PERMS OFFSET INODE NAME, Size from the
 * range, and VmFlags when flags is not NULL. */
static void region(FILE *f, const char *range, const char *perms, const char *offset,
		   unsigned long inode, const char *name, const char *flags)
{
	unsigned long long start, end;
	sscanf(range, "%llx-%llx", &start, &end);
	fprintf(f, "%s %s %s %s %lu", range, perms, offset, inode ? "fe:00" : "00:00",
		inode);
	if (name && *name)
		fprintf(f, "%*s%s", 10, "", name);
	else
		fputc(' ', f);
	fprintf(f, "\nSize: %llu kB\nRss: 4 kB\n", (end - start) >> 10);
	if (flags)
		fprintf(f, "VmFlags: %s \n", flags);
}

struct layout {
	char *text;
	size_t len;
	FILE *f;
};

static void begin(struct layout *l)
{
	l->f = open_memstream(&l->text, &l->len);
	assert_non_null(l->f);
}

#define REGION(l, ...) region((l)->f, __VA_ARGS__)
#define ANON(l, range, perms, flags) REGION(l, range, perms, "00000000", 0, "", flags)

/* Parses the layout; threads (-1: unknown) and kernel go into the
 * process and host facts as a capture would record them. */
static snap_identity *interpret(struct layout *l, long threads, const char *kernel,
				snap_snapshot **snap)
{
	fclose(l->f);
	assert_int_equal(snap_snapshot_new(snap, NULL), 0);
	snap_parser *p;
	snap_error err = { 0 };
	assert_int_equal(snap_parser_new(&p, *snap, "layout", NULL, NULL, NULL), 0);
	if (snap_parser_feed(p, l->text, l->len, &err) != 0 ||
	    snap_parser_finish(p, &err) != 0)
		fail_msg("%s:%ld: %s", err.source, err.line, err.message);
	snap_parser_free(p);
	free(l->text);
	if (threads >= 0) {
		(*snap)->process.known = true;
		(*snap)->process.threads = threads;
		(*snap)->process.pid = 42;
	}
	(*snap)->host.kernel = kernel;
	snap_identity *id;
	assert_int_equal(snap_identity_new(&id, *snap, NULL), 0);
	return id;
}

static void done(snap_identity *id, snap_snapshot *snap)
{
	snap_identity_free(id);
	snap_snapshot_free(snap);
}

static size_t count_kind(const snap_identity *id, enum snap_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < id->snap->nregions; i++)
		n += id->kinds[i] == k;
	return n;
}

#define GUARD_FLAGS "mr mw me nh"
#define STACK_FLAGS "rd wr mr mw me ac nh"
#define PLAIN "rd wr mr mw me ac"

/* glibc thread stacks on a kernel that marks MAP_STACK: each thread's
 * stack pointer decides first, then the mark. */
static void stacks_by_pointer_and_mark(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	ANON(&l, "7f0000000000-7f0000001000", "---p", GUARD_FLAGS);
	ANON(&l, "7f0000001000-7f0000801000", "rw-p", STACK_FLAGS);
	ANON(&l, "7f0000801000-7f0000802000", "---p", GUARD_FLAGS);
	ANON(&l, "7f0000802000-7f0001002000", "rw-p", STACK_FLAGS);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 3, "6.18.44", &snap);
	/* interpret() built the identity before the sp existed: once more */
	uint64_t sp = 0x7f0000800f00;
	snap->process.thread_sp = &sp;
	snap->process.nthread_sp = 1;
	snap_identity_free(id);
	assert_int_equal(snap_identity_new(&id, snap, NULL), 0);
	assert_int_equal(id->kinds[0], SNAP_KIND_GUARD);
	assert_int_equal(id->evidence[0], SNAP_EV_STACK_GUARD);
	assert_int_equal(id->kinds[1], SNAP_KIND_THREAD_STACK);
	assert_int_equal(id->evidence[1], SNAP_EV_STACK_POINTER);
	assert_int_equal(id->kinds[3], SNAP_KIND_THREAD_STACK);
	assert_int_equal(id->evidence[3], SNAP_EV_MAP_STACK);
	assert_int_equal(id->stacks.by_pointer, 1);
	assert_int_equal(id->stacks.by_map_stack, 1);
	assert_true(id->stacks.map_stack_marked);
	assert_int_equal(id->thread_stacks, 2);
	snap->process.thread_sp = NULL;
	snap->process.nthread_sp = 0;
	done(id, snap);
}

/* One thread, a buffer over a no-access page (no MAP_STACK: no nh): no
 * thread stack at all. */
static void single_thread_buffer_over_guard(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	ANON(&l, "7f0000000000-7f0000001000", "---p", "mr mw me");
	ANON(&l, "7f0000001000-7f0000101000", "rw-p", PLAIN);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, "6.18.44", &snap);
	assert_int_equal(id->kinds[0], SNAP_KIND_GUARD);
	assert_int_equal(id->evidence[0], SNAP_EV_SMALL_GUARD);
	assert_int_equal(id->kinds[1], SNAP_KIND_ANON);
	assert_int_equal(id->thread_stacks, 0);
	done(id, snap);
}

/* No VmFlags at all: the bare pattern, but never more stacks than the
 * threads besides main. */
static void pattern_capped_by_threads(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	for (int k = 0; k < 3; k++) {
		char g[64], s[64];
		unsigned long long base = 0x7f0000000000ull + (unsigned long long)k * 0x1000000;
		snprintf(g, sizeof(g), "%llx-%llx", base, base + 0x1000);
		snprintf(s, sizeof(s), "%llx-%llx", base + 0x1000, base + 0x801000);
		ANON(&l, g, "---p", NULL);
		ANON(&l, s, "rw-p", NULL);
	}
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 2, NULL, &snap);
	assert_false(id->stacks.map_stack_marked);
	assert_int_equal(id->thread_stacks, 1);
	assert_int_equal(id->stacks.by_pattern, 1);
	assert_int_equal(id->stacks.refused, 2);
	/* the highest one is taken (mmap places new stacks below older ones) */
	assert_int_equal(id->kinds[5], SNAP_KIND_THREAD_STACK);
	assert_int_equal(id->evidence[1], SNAP_EV_OVER_THREADS);
	assert_int_equal(id->kinds[1], SNAP_KIND_ANON);
	done(id, snap);

	/* a kernel before 6.7 marks nothing: the pattern again */
	begin(&l);
	ANON(&l, "7f0000000000-7f0000001000", "---p", "mr mw me");
	ANON(&l, "7f0000001000-7f0000801000", "rw-p", PLAIN);
	id = interpret(&l, 2, "6.1.0-13-amd64", &snap);
	assert_int_equal(id->kinds[1], SNAP_KIND_THREAD_STACK);
	assert_int_equal(id->evidence[1], SNAP_EV_GUARD_PATTERN);
	done(id, snap);
	/* ... while 6.7 and later mark every glibc stack, so no mark, no stack */
	begin(&l);
	ANON(&l, "7f0000000000-7f0000001000", "---p", "mr mw me");
	ANON(&l, "7f0000001000-7f0000801000", "rw-p", PLAIN);
	id = interpret(&l, 2, "6.7.0", &snap);
	assert_int_equal(id->kinds[1], SNAP_KIND_ANON);
	done(id, snap);
}

/* One thread and six MAP_STACK stacks: glibc keeps exited threads'
 * stacks up to 40 MiB (stack and guard): four of 8 MiB fit, two do not. */
static void map_stack_cache_bound(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	for (int k = 0; k < 6; k++) {
		char g[64], s[64];
		unsigned long long base = 0x7f0000000000ull + (unsigned long long)k * 0x1000000;
		snprintf(g, sizeof(g), "%llx-%llx", base, base + 0x1000);
		snprintf(s, sizeof(s), "%llx-%llx", base + 0x1000, base + 0x801000);
		ANON(&l, g, "---p", GUARD_FLAGS);
		ANON(&l, s, "rw-p", STACK_FLAGS);
	}
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, "6.18.44", &snap);
	assert_int_equal(id->thread_stacks, 4);
	assert_int_equal(id->stacks.by_map_stack, 4);
	assert_int_equal(id->stacks.refused, 2);
	assert_int_equal(count_kind(id, SNAP_KIND_GUARD) + count_kind(id, SNAP_KIND_RESERVED),
			 6);
	done(id, snap);
}

/* No-access ranges: small ones touching memory are guards, large ones
 * and lone ones are reservations; an arena's tail stays with its arena. */
static void guards_and_reservations(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	ANON(&l, "10000-100010000", "---p", "mr mw me");                  /* 4 GiB */
	ANON(&l, "1b2800000000-1b2800004000", "---p", "mr mw me");        /* 16K */
	ANON(&l, "1b2800004000-1b2800108000", "rw-p", PLAIN);
	ANON(&l, "1b2800108000-1b2800200000", "---p", "mr mw me");        /* 992K */
	ANON(&l, "1b2900000000-1b2900001000", "---p", "mr mw me");        /* alone */
	ANON(&l, "7f0004000000-7f0004021000", "rw-p", "rd wr mr mw me nr");
	ANON(&l, "7f0004021000-7f0008000000", "---p", "mr mw me nr");
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, "6.18.44", &snap);
	assert_int_equal(id->kinds[0], SNAP_KIND_RESERVED);
	assert_int_equal(id->evidence[0], SNAP_EV_RESERVATION);
	assert_int_equal(id->kinds[1], SNAP_KIND_GUARD);
	assert_int_equal(id->kinds[2], SNAP_KIND_ANON);
	assert_int_equal(id->kinds[3], SNAP_KIND_RESERVED); /* over 64K */
	assert_int_equal(id->kinds[4], SNAP_KIND_RESERVED);
	assert_int_equal(id->kinds[5], SNAP_KIND_ARENA);
	assert_int_equal(id->kinds[6], SNAP_KIND_ARENA);
	assert_int_equal(id->evidence[6], SNAP_EV_ARENA_RESERVE);
	done(id, snap);
}

/* The kernel names any mapping that covers the brk start [heap]; V8's
 * executable code range lands there in Chromium. */
static void executable_heap_is_no_brk_heap(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	REGION(&l, "557ae0000000-557b00000000", "rwxp", "00000000", 0, "[heap]",
	       "rd wr ex mr mw me ac");
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, "6.18.44", &snap);
	assert_int_equal(id->kinds[0], SNAP_KIND_ANON);
	assert_int_equal(id->evidence[0], SNAP_EV_EXEC_HEAP);
	done(id, snap);
	begin(&l);
	REGION(&l, "55d7adc9c000-55d7adcbd000", "rw-p", "00000000", 0, "[heap]", PLAIN);
	id = interpret(&l, 1, "6.18.44", &snap);
	assert_int_equal(id->kinds[0], SNAP_KIND_HEAP);
	done(id, snap);
}

/* Shared memory objects and writable shared mappings are shmem; a
 * read-only shared mapping of an ordinary file (fonts, icudtl.dat, *.pak)
 * is a file; a shared mapping of a library is no load of it. */
static void shared_mappings(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	REGION(&l, "7f0000000000-7f0000100000", "r--s", "00000000", 11,
	       "/usr/lib/chromium/icudtl.dat", NULL);
	REGION(&l, "7f0000100000-7f0000200000", "rw-s", "00000000", 12, "/srv/db/data", NULL);
	REGION(&l, "7f0000200000-7f0000300000", "rw-s", "00000000", 13,
	       "/dev/shm/.org.chromium.Chromium.x (deleted)", NULL);
	REGION(&l, "7f0000300000-7f0000301000", "r--s", "00000000", 14,
	       "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL);
	REGION(&l, "7f0000400000-7f0000401000", "rw-s", "00000000", 0,
	       "/dev/zero (deleted)", NULL);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, NULL, &snap);
	assert_int_equal(id->kinds[0], SNAP_KIND_FILE);
	assert_int_equal(id->kinds[1], SNAP_KIND_SHMEM);
	assert_int_equal(id->evidence[1], SNAP_EV_SHARED_WRITABLE);
	assert_int_equal(id->kinds[2], SNAP_KIND_SHMEM);
	assert_int_equal(id->evidence[2], SNAP_EV_SHMEM_NAME);
	assert_int_equal(id->kinds[3], SNAP_KIND_FILE);
	assert_int_equal(id->kinds[4], SNAP_KIND_SHMEM);
	assert_int_equal(id->ndups, 0);
	done(id, snap);
}

#define XDMCP "/usr/lib/x86_64-linux-gnu/libXdmcp.so.6.0.0"

/* libXdmcp as Chromium maps it: code first, then a gap, RELRO at a lower
 * offset than the data after it. One load, its .bss attached, no
 * duplicate. */
static void one_load_in_any_offset_order(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	REGION(&l, "7f01eba00000-7f01eba05000", "r-xp", "00000000", 332560, XDMCP, NULL);
	REGION(&l, "7f01eba05000-7f01ebc04000", "---p", "00005000", 332560, XDMCP, NULL);
	REGION(&l, "7f01ebc04000-7f01ebc05000", "r--p", "00004000", 332560, XDMCP, NULL);
	REGION(&l, "7f01ebc05000-7f01ebc06000", "rw-p", "00005000", 332560, XDMCP, NULL);
	ANON(&l, "7f01ebc06000-7f01ebc08000", "rw-p", NULL);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, NULL, &snap);
	assert_int_equal(id->nimages, 1);
	assert_int_equal(id->images[0].count, 4);
	assert_true(id->images[0].has_offset0);
	assert_int_equal(id->images[0].bss, 4);
	assert_int_equal(id->attached[4], 0);
	assert_int_equal(id->evidence[4], SNAP_EV_BSS);
	assert_int_equal(id->ndups, 0);
	done(id, snap);

	/* the same file loaded again (dlmopen): a second offset-0 mapping */
	begin(&l);
	REGION(&l, "7f01eba00000-7f01eba05000", "r-xp", "00000000", 332560, XDMCP, NULL);
	REGION(&l, "7f01eba05000-7f01eba06000", "rw-p", "00005000", 332560, XDMCP, NULL);
	REGION(&l, "7f01ebb00000-7f01ebb05000", "r-xp", "00000000", 332560, XDMCP, NULL);
	REGION(&l, "7f01ebb05000-7f01ebb06000", "rw-p", "00005000", 332560, XDMCP, NULL);
	id = interpret(&l, 1, NULL, &snap);
	assert_int_equal(id->nimages, 2);
	assert_int_equal(id->ndups, 1);
	assert_true(id->dups[0].same_file);
	assert_int_equal(id->dups[0].nimages, 2);
	done(id, snap);
}

/* Older ld.so leaves the gaps between a library's segments anonymous:
 * they belong to the load, not to the reservations. */
static void anonymous_gap_inside_a_load(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	REGION(&l, "7f0000000000-7f0000005000", "r-xp", "00000000", 77, "/lib/libold.so.1", NULL);
	ANON(&l, "7f0000005000-7f0000204000", "---p", NULL);
	REGION(&l, "7f0000204000-7f0000205000", "r--p", "00004000", 77, "/lib/libold.so.1", NULL);
	REGION(&l, "7f0000205000-7f0000206000", "rw-p", "00005000", 77, "/lib/libold.so.1", NULL);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, NULL, &snap);
	assert_int_equal(id->kinds[1], SNAP_KIND_LIB);
	assert_int_equal(id->evidence[1], SNAP_EV_IMAGE_GAP);
	assert_int_equal(id->nimages, 1);
	assert_int_equal(id->images[0].count, 4);
	assert_int_equal(id->image_of[1], 0);
	assert_int_equal(count_kind(id, SNAP_KIND_RESERVED), 0);
	done(id, snap);
}

#define CHROMIUM "/usr/lib/chromium/chromium"

/* The kernel maps a program's segments one by one and unmaps the pages
 * between them: Chromium's executable is one load with holes in it. */
static void one_load_across_unmapped_pages(void **state)
{
	(void)state;
	struct layout l;
	begin(&l);
	REGION(&l, "556444eee000-556447c80000", "r--p", "00000000", 900, CHROMIUM, NULL);
	REGION(&l, "556447c81000-5564568f4000", "r-xp", "02d92000", 900, CHROMIUM, NULL);
	REGION(&l, "5564568f5000-556457449000", "r--p", "11a06000", 900, CHROMIUM, NULL);
	REGION(&l, "556457449000-55645744b000", "rw-p", "1255a000", 900, CHROMIUM, NULL);
	snap_snapshot *snap;
	snap_identity *id = interpret(&l, 1, NULL, &snap);
	assert_int_equal(id->nimages, 1);
	assert_int_equal(id->images[0].count, 4);
	assert_int_equal(id->images[0].kind, SNAP_KIND_EXE);
	done(id, snap);
}

/* Every evidence has a token and a sentence. */
static void evidence_is_named(void **state)
{
	(void)state;
	for (int e = 0; e < SNAP_EV_COUNT; e++) {
		assert_true(strlen(snap_evidence_name(e)) > 2);
		assert_true(strlen(snap_evidence_about(e)) > 10);
		for (int f = 0; f < e; f++)
			assert_string_not_equal(snap_evidence_name(e), snap_evidence_name(f));
	}
	assert_string_equal(snap_evidence_name(SNAP_EV_COUNT), "?");
	assert_string_equal(snap_kind_name(SNAP_KIND_RESERVED), "reserved");
	assert_int_equal(snap_kind_parse("reserved"), SNAP_KIND_RESERVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stacks_by_pointer_and_mark),
		cmocka_unit_test(single_thread_buffer_over_guard),
		cmocka_unit_test(pattern_capped_by_threads),
		cmocka_unit_test(map_stack_cache_bound),
		cmocka_unit_test(guards_and_reservations),
		cmocka_unit_test(executable_heap_is_no_brk_heap),
		cmocka_unit_test(shared_mappings),
		cmocka_unit_test(one_load_in_any_offset_order),
		cmocka_unit_test(anonymous_gap_inside_a_load),
		cmocka_unit_test(one_load_across_unmapped_pages),
		cmocka_unit_test(evidence_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
