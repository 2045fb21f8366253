/* A process that keeps files of its user's mapped, for the redaction
 * tests: it is started as another user, from that user's home, with its
 * file names as arguments.
 *
 *   homebody FILE...
 *
 * It creates each FILE (8 KiB) if missing, maps and touches it, prints
 * "ready <pid>", and waits for stdin to close. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDWR | O_CREAT, 0600);
		if (fd < 0 || ftruncate(fd, 8192) != 0) {
			perror(argv[i]);
			return 1;
		}
		volatile char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			perror("homebody: mmap");
			return 1;
		}
		map[0] = 1;
		close(fd);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
