/* A process whose every name is an attack on a terminal, for the tests
 * that mapsnap never lets one through.
 *
 *   hostile DIR [ARG...]
 *
 * It sets its comm to "\e]0;pwned\a" (an OSC that retitles the terminal),
 * creates in DIR a file whose name holds ESC, CSI (raw 0x9b and U+009B),
 * OSC and a byte that is not UTF-8, maps it, prints "ready <pid>", and
 * waits for stdin to close; then it removes the file. The test passes
 * hostile ARGs too: they are its command line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define HOSTILE_COMM "\033]0;pwned\a"
#define HOSTILE_FILE "\033[2J\033]0;x\a\x9b" "31m\xc2\x9b" "1m\xff.bin"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hostile DIR [ARG...]\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", argv[1], HOSTILE_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 8192) != 0) {
		perror("hostile: file");
		return 1;
	}
	char *map = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		perror("hostile: mmap");
		return 1;
	}
	volatile char touch = map[0];
	(void)touch;
	if (prctl(PR_SET_NAME, HOSTILE_COMM, 0, 0, 0) != 0) {
		perror("hostile: prctl");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	unlink(path);
	return 0;
}
