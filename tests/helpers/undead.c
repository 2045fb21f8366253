/* A process with a zombie child and a second thread, for the pmap parity
 * tests of a zombie and of a thread id.
 *
 *   undead
 *
 * It forks a child that exits at once and waits for that exit without
 * reaping it (WNOWAIT: the child stays a zombie), starts a thread that
 * blocks, prints "ready", and then answers each line on stdin with
 * "<zombie pid> <thread id>" until stdin closes. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int block_pipe[2];
static pid_t thread_id;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;

static void *blocked(void *arg)
{
	char c;
	(void)arg;
	pthread_mutex_lock(&lock);
	thread_id = (pid_t)syscall(SYS_gettid);
	pthread_cond_signal(&started);
	pthread_mutex_unlock(&lock);
	while (read(block_pipe[0], &c, 1) < 0)
		;
	return NULL;
}

int main(void)
{
	siginfo_t info;
	pthread_t t;
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0)
		_exit(0);
	if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) != 0 || pipe(block_pipe) != 0 ||
	    pthread_create(&t, NULL, blocked, NULL) != 0) {
		perror("undead");
		return 1;
	}
	pthread_mutex_lock(&lock);
	while (!thread_id)
		pthread_cond_wait(&started, &lock);
	pthread_mutex_unlock(&lock);
	printf("ready\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		printf("%d %d\n", (int)child, (int)thread_id);
		fflush(stdout);
	}
	return 0;
}
