/* mapsnap watch: captures on a thread of their own, one per interval
 * (timed from the start of the last one), handed to the main thread one
 * at a time. While the main thread matches and draws one capture the
 * kernel already formats the next smaps: refreshes back to back cost
 * about one capture each, not a capture plus the matching. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

struct watch_capturer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long pid;
	int64_t interval_ms;
	unsigned long left;     /* captures still wanted; 0: no limit */
	struct timespec due;
	bool stop, paused, has_result;
	snap_snapshot *result;
	int rc;
	snap_error err;
	int notify[2];
};

static void add_ms(struct timespec *t, int64_t ms)
{
	t->tv_sec += (time_t)(ms / 1000);
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Waits (holding mu) until a capture is due; false when told to stop. */
static bool wait_due(struct watch_capturer *c)
{
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (c->stop || c->left == 1)
			return false;
		if (c->has_result || c->paused)
			pthread_cond_wait(&c->cv, &c->mu);
		else if (before(&now, &c->due))
			pthread_cond_timedwait(&c->cv, &c->mu, &c->due);
		else
			return true;
	}
}

static void *capturer_main(void *arg)
{
	struct watch_capturer *c = arg;
	snap_capture_opts opts = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true };
	pthread_mutex_lock(&c->mu);
	while (wait_due(c)) {
		clock_gettime(CLOCK_MONOTONIC, &c->due);
		add_ms(&c->due, c->interval_ms);
		pthread_mutex_unlock(&c->mu);
		snap_snapshot *snap = NULL;
		snap_error err = { 0 };
		int rc = snap_capture(&snap, (pid_t)c->pid, &opts, &err);
		pthread_mutex_lock(&c->mu);
		c->result = snap;
		c->rc = rc;
		c->err = err;
		c->has_result = true;
		c->left -= c->left > 1;
		if (write(c->notify[1], "c", 1) < 0) {
			/* the pipe holds a byte already: the main thread will look */
		}
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int watch_capturer_start(watch_capturer **out, long pid, int64_t interval_ms,
			 unsigned long count)
{
	watch_capturer *c = calloc(1, sizeof(*c));
	if (!c)
		return SNAP_ENOMEM;
	c->left = count ? count + 1 : 0;
	c->pid = pid;
	c->interval_ms = interval_ms;
	clock_gettime(CLOCK_MONOTONIC, &c->due);
	add_ms(&c->due, interval_ms);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&c->mu, NULL);
	if (pipe2(c->notify, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(c);
		return SNAP_EIO;
	}
	/* Signals go to the main thread, whose wait they must end. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, capturer_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(c->notify[0]);
		close(c->notify[1]);
		free(c);
		return SNAP_ENOMEM;
	}
	*out = c;
	return SNAP_OK;
}

int watch_capturer_fd(const watch_capturer *c)
{
	return c->notify[0];
}

int watch_capturer_take(watch_capturer *c, snap_snapshot **snap, snap_error *err)
{
	char b;
	while (read(c->notify[0], &b, 1) == 1)
		;
	pthread_mutex_lock(&c->mu);
	int rc = 1;
	if (c->has_result) {
		rc = c->rc;
		*snap = c->result;
		*err = c->err;
		c->result = NULL;
		c->has_result = false;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void watch_capturer_pause(watch_capturer *c, bool paused)
{
	pthread_mutex_lock(&c->mu);
	c->paused = paused;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void watch_capturer_stop(watch_capturer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	snap_snapshot_free(c->result);
	close(c->notify[0]);
	close(c->notify[1]);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
