/* buildid.c through the public API: build-ids equal what readelf -n
 * prints, for libc and for libraries this test builds (two builds of one
 * source, one without a note); the PROCMAP_QUERY ioctl agrees with the
 * note; the content-hash fallback; the .bss a load maps past its file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "snap.h"
#include "util.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"

static char *dir;

/* Builds a shared library from source into dir/name with extra flags. */
static const char *build_lib(const char *name, const char *source, const char *flags)
{
	static char path[4][4200];
	static int next;
	char *out = path[next++ % 4];
	char all[256];
	snprintf(out, sizeof(path[0]), "%s/%s", dir, name);
	snprintf(all, sizeof(all), "-O1 %s", flags);
	if (build_shared_library(source, out, all) != 0)
		fail_msg("could not build %s", name);
	return out;
}

/* What readelf -n prints as "Build ID:", or "" when none. */
static void readelf_build_id(char *hex, size_t size, const char *path)
{
	char *argv[] = { "readelf", "-n", (char *)path, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, NULL), 0);
	assert_int_equal(res.status, 0);
	hex[0] = '\0';
	const char *at = strstr(res.out, "Build ID: ");
	if (at)
		sscanf(at + 10, "%127s", hex);
	(void)size;
	cmd_result_free(&res);
}

static snap_elf_facts facts_of(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	snap_elf_facts f;
	snap_error err = { 0 };
	assert_int_equal(snap_elf_read(&f, fd, &err), 0);
	assert_string_equal(err.message, "");
	close(fd);
	return f;
}

static void assert_note_is(const char *path)
{
	char want[128], got[160];
	readelf_build_id(want, sizeof(want), path);
	snap_elf_facts f = facts_of(path);
	assert_true(f.elf);
	snap_build_id_hex(got, sizeof(got), &f.build_id);
	assert_string_equal(got, want);
	if (want[0])
		assert_int_equal(f.build_id.source, SNAP_BUILD_ID_NOTE);
}

static const char version1[] = "int answer(void) { return 41; }\n";
static const char version2[] = "int answer(void) { return 42 + 0 * 7; }\n"
			       "int other(void) { return 1; }\n";

static void notes_equal_readelf(void **state)
{
	(void)state;
	assert_note_is(LIBC);
	const char *a = build_lib("libv1.so", version1, "-Wl,--build-id");
	const char *b = build_lib("libv2.so", version2, "-Wl,--build-id");
	assert_note_is(a);
	assert_note_is(b);
	snap_elf_facts fa = facts_of(a), fb = facts_of(b);
	assert_int_equal(fa.build_id.len, 20); /* sha1, ld's default */
	assert_true(memcmp(fa.build_id.bytes, fb.build_id.bytes, 20) != 0);
}

static void no_note_and_data_files(void **state)
{
	(void)state;
	const char *lib = build_lib("libnone.so", version1, "-Wl,--build-id=none");
	char want[128];
	readelf_build_id(want, sizeof(want), lib);
	assert_string_equal(want, "");
	snap_elf_facts f = facts_of(lib);
	assert_true(f.elf);
	assert_int_equal(f.build_id.len, 0);
	/* the fallback: stable for one content, another for another */
	char data[4200];
	snprintf(data, sizeof(data), "%s/data.bin", dir);
	char *blob = calloc(1, 20000);
	assert_non_null(blob);
	blob[19999] = 'x';
	assert_int_equal(write_file(data, blob, 20000), 0);
	assert_false(facts_of(data).elf);
	snap_build_id x, y, z;
	int fd = open(data, O_RDONLY);
	assert_int_equal(snap_file_fallback_id(&x, fd, NULL), 0);
	assert_int_equal(snap_file_fallback_id(&y, fd, NULL), 0);
	close(fd);
	assert_int_equal(x.len, 16);
	assert_int_equal(x.source, SNAP_BUILD_ID_FALLBACK);
	assert_memory_equal(x.bytes, y.bytes, 16);
	blob[19999] = 'y'; /* the last 4 KiB differ */
	assert_int_equal(write_file(data, blob, 20000), 0);
	fd = open(data, O_RDONLY);
	assert_int_equal(snap_file_fallback_id(&z, fd, NULL), 0);
	close(fd);
	assert_true(memcmp(x.bytes, z.bytes, 16) != 0);
	free(blob);
	/* not a regular file */
	snap_error err = { 0 };
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(snap_file_fallback_id(&z, fd, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "content hash: the file is a character device, "
			    "not a regular file");
	assert_int_equal(snap_file_fallback_id(&z, fd, NULL), SNAP_EINVAL);
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(snap_file_fallback_id(&z, fd, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "content hash: the file is a directory, "
			    "not a regular file");
	close(fd);
	assert_string_equal(snap_build_id_source_name(SNAP_BUILD_ID_FALLBACK), "content-hash");
}

/* A library with 1 MiB of zeroes maps a separate .bss; one with a few
 * bytes keeps them in its last file page. */
static void bss_past_the_file(void **state)
{
	(void)state;
	const char *big = build_lib("libbig.so", "static char big[1 << 20];\n"
				    "char *area(void) { return big; }\n", "");
	const char *small = build_lib("libsmall.so", "static char few[8];\n"
				      "char *area(void) { return few; }\n", "");
	snap_elf_facts fb = facts_of(big), fs = facts_of(small);
	assert_true(fb.bss_bytes >= (1u << 20) - 4096);
	assert_true(fb.bss_bytes <= (1u << 20) + 4096);
	assert_int_equal(fs.bss_bytes, 0);
}

/* The address of a function in a dlopen'ed library, for PROCMAP_QUERY. */
static uint64_t mapped_at(const char *path, void **handle)
{
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(*handle);
	void *sym = dlsym(*handle, "answer");
	assert_non_null(sym);
	return (uint64_t)(uintptr_t)sym;
}

static void procmap_query_agrees_with_the_note(void **state)
{
	(void)state;
	int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	assert_true(maps >= 0);
	snap_build_id q;
	/* a libc function no sanitizer intercepts: under ASan, &printf is
	 * libasan's interceptor, another file with another build-id */
	int rc = snap_procmap_build_id(maps, (uint64_t)(uintptr_t)&gnu_get_libc_version, &q,
				       NULL);
	if (rc == SNAP_EINVAL) {
		close(maps);
		skip(); /* a kernel before 6.11 */
	}
	assert_int_equal(rc, 0);
	assert_int_equal(q.source, SNAP_BUILD_ID_QUERY);
	snap_elf_facts libc = facts_of(LIBC);
	assert_int_equal(q.len, libc.build_id.len);
	assert_memory_equal(q.bytes, libc.build_id.bytes, q.len);

	const char *lib = build_lib("libq.so", version2, "-Wl,--build-id");
	void *handle;
	uint64_t at = mapped_at(lib, &handle);
	assert_int_equal(snap_procmap_build_id(maps, at, &q, NULL), 0);
	snap_elf_facts f = facts_of(lib);
	assert_int_equal(q.len, f.build_id.len);
	assert_memory_equal(q.bytes, f.build_id.bytes, q.len);
	dlclose(handle);
	close(maps);
}

/* A file cut right after its ELF header, whose program headers were
 * behind it, in dir. */
static const char *cut_elf(void)
{
	static char path[4200];
	const char *lib = build_lib("libcut.so", version1, "");
	size_t len;
	char *bytes = read_file(lib, &len);
	assert_non_null(bytes);
	snprintf(path, sizeof(path), "%s/cut.so", dir);
	assert_int_equal(write_file(path, bytes, 64), 0); /* sizeof(Elf64_Ehdr) */
	free(bytes);
	return path;
}

/* The readers say what is wrong with what they were given. */
static void readers_say_why(void **state)
{
	(void)state;
	snap_elf_facts f;
	snap_error err = { 0 };
	int fd = open(cut_elf(), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(snap_elf_read(&f, fd, &err), SNAP_EFORMAT);
	assert_true(f.elf);
	assert_non_null(strstr(err.message, "damaged ELF file: program header 0 of "));
	assert_non_null(strstr(err.message, " lies past its end"));
	assert_int_equal(snap_elf_read(&f, fd, NULL), SNAP_EFORMAT);
	close(fd);
	/* a directory cannot be read at all: not "not ELF" */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(snap_elf_read(&f, fd, &err), SNAP_EIO);
	assert_string_equal(err.message, "cannot read the ELF header: Is a directory");
	assert_int_equal(snap_elf_read(&f, fd, NULL), SNAP_EIO);
	close(fd);
	/* PROCMAP_QUERY: on a file that is no maps file, and past the last
	 * file mapping */
	snap_build_id q;
	fd = open(LIBC, O_RDONLY | O_CLOEXEC);
	assert_int_equal(snap_procmap_build_id(fd, 0, &q, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "PROCMAP_QUERY: Inappropriate ioctl for device "
			    "(it needs /proc/PID/maps on Linux 6.11 or later)");
	close(fd);
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	int rc = snap_procmap_build_id(fd, UINT64_MAX - 4095, &q, &err);
	close(fd);
	if (rc == SNAP_EINVAL)
		skip(); /* a kernel before 6.11 */
	assert_int_equal(rc, SNAP_EIO);
	assert_string_equal(err.message, "PROCMAP_QUERY: no file mapping at or above "
			    "0xfffffffffffff000");
}

/* libc as a region of a saved smaps would name it. */
static snap_region libc_region(void)
{
	struct stat st;
	assert_int_equal(stat(LIBC, &st), 0);
	snap_region r = { .start = 0x7f0000000000, .end = 0x7f0000001000,
			  .inode = st.st_ino, .dev_major = major(st.st_dev),
			  .dev_minor = minor(st.st_dev), .path = LIBC,
			  .path_len = sizeof(LIBC) - 1, .perms = "r--p" };
	return r;
}

/* A scan reads the files it noted into the snapshot; options of another
 * version are refused, by name. */
static void file_scan_reads_and_refuses(void **state)
{
	(void)state;
	snap_file_scan *scan;
	snap_snapshot *snap;
	snap_error err = { 0 };
	snap_region r = libc_region();
	assert_int_equal(snap_file_scan_new(&scan, &err), 0);
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	assert_int_equal(snap_file_scan_add(scan, &r, &err), 0);
	assert_int_equal(snap_file_scan_add(scan, &r, NULL), 0);
	assert_int_equal(snap_file_scan_count(scan), 1);
	snap_file_scan_opts opts;
	assert_int_equal(snap_file_scan_opts_init(&opts, SNAP_FILE_SCAN_OPTS_VERSION), 0);
	opts.version = 99;
	assert_int_equal(snap_file_scan_read(scan, snap, &opts, &err), SNAP_EINVAL);
	assert_string_equal(err.source, "snap_file_scan_opts");
	assert_non_null(strstr(err.message, "version 99, this library"));
	assert_int_equal(snap_file_scan_read(scan, snap, &opts, NULL), SNAP_EINVAL);
	assert_int_equal(snap->nfiles, 0);
	opts.version = SNAP_FILE_SCAN_OPTS_VERSION;
	assert_int_equal(snap_file_scan_read(scan, snap, &opts, NULL), 0);
	assert_int_equal(snap->nfiles, 1);
	snap_elf_facts libc = facts_of(LIBC);
	assert_int_equal(snap->files[0].build_id.len, libc.build_id.len);
	assert_memory_equal(snap->files[0].build_id.bytes, libc.build_id.bytes,
			    libc.build_id.len);
	snap_snapshot_free(snap);
	snap_file_scan_free(scan);
}

static int scan_without_memory(void *ctx)
{
	snap_file_scan *scan = ctx, *other = NULL;
	snap_error err = { 0 };
	snap_region r = libc_region();
	int bad = error_says(snap_file_scan_new(&other, &err), SNAP_ENOMEM, &err,
			     "out of memory creating a scan of the mapped files");
	bad |= snap_file_scan_new(&other, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_file_scan_add(scan, &r, &err), SNAP_ENOMEM, &err,
			  "out of memory noting the mapped file " LIBC);
	bad |= snap_file_scan_add(scan, &r, NULL) != SNAP_ENOMEM;
	return bad;
}

static void file_scan_out_of_memory(void **state)
{
	(void)state;
	snap_file_scan *scan;
	assert_int_equal(snap_file_scan_new(&scan, NULL), 0);
	int rc = run_out_of_memory(scan_without_memory, scan);
	snap_file_scan_free(scan);
	assert_int_equal(rc, 0);
}

static void container_ids_from_cgroups(void **state)
{
	(void)state;
	static const char id[] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char pod[] =
		"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	char cg[512], got[128];
	const char *forms[] = { "/system.slice/docker-%s.scope", "/docker/%s",
				"/system.slice/cri-containerd-%s.scope",
				"/machine.slice/libpod-%s.scope/container",
				"/kubepods.slice/kubepods-burstable.slice/crio-%s.scope" };
	for (size_t k = 0; k < sizeof(forms) / sizeof(*forms); k++) {
		snprintf(cg, sizeof(cg), forms[k], id);
		assert_int_equal(snap_container_id(got, sizeof(got), cg), 64);
		assert_string_equal(got, id);
	}
	/* a pod's cgroup holds the pod's hash above the container's */
	snprintf(cg, sizeof(cg), "/kubepods/besteffort/pod%s/%s", pod, id);
	snap_container_id(got, sizeof(got), cg);
	assert_string_equal(got, id);
	assert_int_equal(snap_container_id(got, sizeof(got), "/lxc.payload.web1/init.scope"), 4);
	assert_string_equal(got, "web1");
	assert_int_equal(snap_container_id(got, sizeof(got), "/user.slice/user-0.slice/session-3.scope"), 0);
	assert_string_equal(got, "");
	/* 63 or 65 hex digits are no container hash */
	snprintf(cg, sizeof(cg), "/docker/%.63s", id);
	assert_int_equal(snap_container_id(got, sizeof(got), cg), 0);
	snprintf(cg, sizeof(cg), "/docker/%s0", id);
	assert_int_equal(snap_container_id(got, sizeof(got), cg), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(notes_equal_readelf),
		cmocka_unit_test(no_note_and_data_files),
		cmocka_unit_test(bss_past_the_file),
		cmocka_unit_test(procmap_query_agrees_with_the_note),
		cmocka_unit_test(readers_say_why),
		cmocka_unit_test(file_scan_reads_and_refuses),
		cmocka_unit_test(file_scan_out_of_memory),
		cmocka_unit_test(container_ids_from_cgroups),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
