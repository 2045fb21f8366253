/* Which build of a file a mapping holds: the GNU build-id, from the
 * PROCMAP_QUERY ioctl on /proc/PID/maps (Linux >= 6.11) or from the ELF
 * note of the mapped file; for files without one, an OpenTelemetry-style
 * identifier (a hash of the size and the first and last 4 KiB). The ELF
 * program headers also say how much .bss a load maps past its last file
 * page, which tells a library's .bss from memory that merely lies above it. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PAGE 4096ull
#define NOTES_MAX (64u << 10) /* a note segment larger than this is no build-id's */
#define FALLBACK_CHUNK 4096

/* ---- PROCMAP_QUERY (include/uapi/linux/fs.h, Linux 6.11; Debian 12's
 * headers predate it) ---- */

struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20

_Static_assert(sizeof(struct procmap_query) == 104, "procmap_query is 104 bytes");

int snap_procmap_build_id(int maps_fd, uint64_t addr, snap_build_id *out,
			  snap_error *err)
{
	struct procmap_query q = {
		.size = sizeof(q),
		.query_flags = PROCMAP_QUERY_FILE_BACKED_VMA,
		.query_addr = addr,
		.build_id_size = sizeof(out->bytes),
		.build_id_addr = (uint64_t)(uintptr_t)out->bytes,
	};
	memset(out, 0, sizeof(*out));
	if (ioctl(maps_fd, PROCMAP_QUERY, &q) != 0) {
		/* ENOTTY: no such ioctl (before 6.11); EINVAL: a kernel that
		 * knows the ioctl but not the build-id fields. */
		if (errno == ENOTTY || errno == EINVAL)
			return snap_error_set(err, SNAP_EINVAL, NULL, 0, "PROCMAP_QUERY: %s "
					      "(it needs /proc/PID/maps on Linux 6.11 or later)",
					      strerror(errno));
		if (errno == ESRCH)
			return snap_error_set(err, SNAP_ENOPROC, NULL, 0,
					      "PROCMAP_QUERY: the process is gone");
		if (errno == ENOENT)
			return snap_error_set(err, SNAP_EIO, NULL, 0, "PROCMAP_QUERY: no "
					      "file mapping at or above %#" PRIx64, addr);
		return snap_error_set(err, SNAP_EIO, NULL, 0, "PROCMAP_QUERY at %#" PRIx64
				      ": %s", addr, strerror(errno));
	}
	out->len = q.build_id_size;
	out->source = q.build_id_size ? SNAP_BUILD_ID_QUERY : SNAP_BUILD_ID_NONE;
	return SNAP_OK;
}

/* ---- ELF headers ---- */

/* A program header, whatever the file's class. */
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

struct elf {
	int fd;
	bool is64;
	uint64_t phoff;
	uint16_t phnum, phentsize;
};

/* SNAP_OK, SNAP_EFORMAT when the file ends first, or SNAP_EIO with errno
 * set when it cannot be read. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? SNAP_EIO : SNAP_EFORMAT;
		done += (size_t)n;
	}
	return SNAP_OK;
}

/* Native-endian ELF only: a snapshot describes this machine's processes.
 * SNAP_EFORMAT for anything else, SNAP_EIO (errno set) for a read error. */
static int elf_open(struct elf *e, int fd)
{
	unsigned char ident[EI_NIDENT];
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	int rc = read_at(fd, ident, sizeof(ident), 0);
	if (rc < 0)
		return rc;
	if (memcmp(ident, ELFMAG, SELFMAG) != 0)
		return SNAP_EFORMAT;
	unsigned char native = *(const uint16_t *)"\1\0" == 1 ? ELFDATA2LSB : ELFDATA2MSB;
	if (ident[EI_DATA] != native)
		return SNAP_EFORMAT;
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;
		if ((rc = read_at(fd, &h, sizeof(h), 0)) < 0)
			return rc;
		*e = (struct elf){ fd, true, h.e_phoff, h.e_phnum, h.e_phentsize };
		return e->phentsize >= sizeof(Elf64_Phdr) ? SNAP_OK : SNAP_EFORMAT;
	}
	if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		if ((rc = read_at(fd, &h, sizeof(h), 0)) < 0)
			return rc;
		*e = (struct elf){ fd, false, h.e_phoff, h.e_phnum, h.e_phentsize };
		return e->phentsize >= sizeof(Elf32_Phdr) ? SNAP_OK : SNAP_EFORMAT;
	}
	return SNAP_EFORMAT;
}

static int elf_phdr(const struct elf *e, uint16_t i, struct phdr *p)
{
	uint64_t at = e->phoff + (uint64_t)i * e->phentsize;
	int rc;
	if (e->is64) {
		Elf64_Phdr h;
		if ((rc = read_at(e->fd, &h, sizeof(h), at)) < 0)
			return rc;
		*p = (struct phdr){ h.p_type, h.p_flags, h.p_offset, h.p_vaddr, h.p_filesz,
				    h.p_memsz, h.p_align };
	} else {
		Elf32_Phdr h;
		if ((rc = read_at(e->fd, &h, sizeof(h), at)) < 0)
			return rc;
		*p = (struct phdr){ h.p_type, h.p_flags, h.p_offset, h.p_vaddr, h.p_filesz,
				    h.p_memsz, h.p_align };
	}
	return SNAP_OK;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

/* The anonymous pages a load maps past a segment's file pages (.bss
 * larger than what is left of its last file page). */
static uint64_t bss_past_file(const struct phdr *p)
{
	if (p->memsz <= p->filesz)
		return 0;
	uint64_t file_end = page_up(p->vaddr + p->filesz);
	uint64_t mem_end = page_up(p->vaddr + p->memsz);
	return mem_end > file_end ? mem_end - file_end : 0;
}

/* Looks for the GNU build-id note in notes[0 .. len). */
static bool find_build_id(const unsigned char *notes, size_t len, uint64_t align,
			  snap_build_id *out)
{
	size_t step = align == 8 ? 8 : 4;
	size_t at = 0;
	while (at + 12 <= len) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, notes + at, 4);
		memcpy(&descsz, notes + at + 4, 4);
		memcpy(&type, notes + at + 8, 4);
		size_t name_at = at + 12;
		size_t desc_at = name_at + ((namesz + step - 1) & ~(step - 1));
		if (namesz > len || descsz > len || desc_at > len || descsz > len - desc_at)
			return false;
		if (type == NT_GNU_BUILD_ID && namesz == 4 &&
		    memcmp(notes + name_at, "GNU", 4) == 0 && descsz > 0 &&
		    descsz <= sizeof(out->bytes)) {
			memcpy(out->bytes, notes + desc_at, descsz);
			out->len = descsz;
			out->source = SNAP_BUILD_ID_NOTE;
			return true;
		}
		at = desc_at + ((descsz + step - 1) & ~(step - 1));
	}
	return false;
}

static int note_build_id(const struct elf *e, const struct phdr *p, snap_build_id *out)
{
	if (p->filesz == 0 || p->filesz > NOTES_MAX)
		return SNAP_OK;
	unsigned char *notes = malloc(p->filesz);
	if (!notes)
		return SNAP_ENOMEM;
	if (read_at(e->fd, notes, p->filesz, p->offset) == SNAP_OK)
		find_build_id(notes, p->filesz, p->align, out);
	free(notes);
	return SNAP_OK;
}

int snap_elf_read(snap_elf_facts *out, int fd, snap_error *err)
{
	struct elf e;
	memset(out, 0, sizeof(*out));
	int rc = elf_open(&e, fd);
	if (rc == SNAP_EIO)
		return snap_error_set(err, rc, NULL, 0, "cannot read the ELF header: %s",
				      strerror(errno));
	if (rc < 0)
		return SNAP_OK; /* not ELF: a data file, nothing to say */
	out->elf = true;
	for (uint16_t i = 0; i < e.phnum; i++) {
		struct phdr p;
		if ((rc = elf_phdr(&e, i, &p)) == SNAP_EIO)
			return snap_error_set(err, rc, NULL, 0, "cannot read ELF program "
					      "header %u: %s", i, strerror(errno));
		if (rc < 0)
			return snap_error_set(err, rc, NULL, 0, "damaged ELF file: program "
					      "header %u of %u lies past its end", i, e.phnum);
		if (p.type == PT_LOAD)
			out->bss_bytes += bss_past_file(&p);
		else if (p.type == PT_NOTE && out->build_id.len == 0 &&
			 note_build_id(&e, &p, &out->build_id) < 0)
			return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory for "
					      "an ELF note segment of %" PRIu64 " bytes",
					      p.filesz);
	}
	return SNAP_OK;
}

/* ---- files with no build-id ---- */

static const char *file_type(mode_t mode)
{
	return S_ISDIR(mode) ? "a directory" : S_ISCHR(mode) ? "a character device"
	       : S_ISBLK(mode) ? "a block device" : S_ISFIFO(mode) ? "a pipe"
	       : S_ISSOCK(mode) ? "a socket" : S_ISLNK(mode) ? "a symbolic link"
	       : "of an unknown type";
}

int snap_file_fallback_id(snap_build_id *out, int fd, snap_error *err)
{
	struct stat st;
	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) != 0)
		return snap_error_set(err, SNAP_EIO, NULL, 0, "content hash: cannot stat the "
				      "file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "content hash: the file "
				      "is %s, not a regular file", file_type(st.st_mode));
	/* size, first 4 KiB, last 4 KiB: OpenTelemetry's file id recipe */
	unsigned char buf[8 + 2 * FALLBACK_CHUNK];
	uint64_t size = (uint64_t)st.st_size;
	size_t head = size < FALLBACK_CHUNK ? (size_t)size : FALLBACK_CHUNK;
	size_t tail = size - head < FALLBACK_CHUNK ? (size_t)(size - head) : FALLBACK_CHUNK;
	memcpy(buf, &size, 8);
	int rc = read_at(fd, buf + 8, head, 0);
	if (rc == SNAP_OK)
		rc = read_at(fd, buf + 8 + head, tail, size - tail);
	if (rc < 0)
		return snap_error_set(err, SNAP_EIO, NULL, 0, "content hash: cannot read "
				      "the file: %s", rc == SNAP_EIO ? strerror(errno)
							: "it ends before its size");
	snap_hash128(out->bytes, buf, 8 + head + tail);
	out->len = 16;
	out->source = SNAP_BUILD_ID_FALLBACK;
	return SNAP_OK;
}

size_t snap_build_id_hex(char *buf, size_t size, const snap_build_id *id)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	for (size_t i = 0; i < id->len && n + 2 < size; i++) {
		buf[n++] = digits[id->bytes[i] >> 4];
		buf[n++] = digits[id->bytes[i] & 15];
	}
	if (size)
		buf[n] = '\0';
	return n;
}

const char *snap_build_id_source_name(enum snap_build_id_source s)
{
	static const char *const names[] = {
		[SNAP_BUILD_ID_NONE] = "none", [SNAP_BUILD_ID_QUERY] = "procmap-query",
		[SNAP_BUILD_ID_NOTE] = "elf-note", [SNAP_BUILD_ID_FALLBACK] = "content-hash",
	};
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}
