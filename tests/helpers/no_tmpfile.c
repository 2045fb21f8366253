/* no_tmpfile COMMAND [ARGS...]: runs COMMAND where open(2) with O_TMPFILE
 * fails with EOPNOTSUPP, as on a file system without unnamed files, so
 * the tests reach mapsnap's fallback to a named temporary file. A seccomp
 * filter on open/openat's flags; everything else runs unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* O_TMPFILE includes O_DIRECTORY; the bit of its own is this one. */
#define TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)

#define ARG_LOW(n) (offsetof(struct seccomp_data, args) + 8 * (n))

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: no_tmpfile COMMAND [ARGS...]\n", stderr);
		return 2;
	}
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2)),
		BPF_JUMP(BPF_JMP | BPF_JA, 2, 0, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TMPFILE_BIT),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TMPFILE_BIT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(*filter), filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("no_tmpfile: seccomp");
		return 2;
	}
	execvp(argv[1], argv + 1);
	perror("no_tmpfile: exec");
	return 127;
}
