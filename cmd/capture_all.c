/* mapsnap capture --all: a snapshot of every process this user may read,
 * into a directory (one plain snapshot file per process, each written to
 * a temporary file and renamed into place) or into one stream of
 * documents (-o FILE, -o -). Processes that exit meanwhile or deny
 * access are counted, never fatal; kernel threads (no memory map) are
 * skipped. With --every, rounds repeat on the monotonic clock: a host
 * series (new files per round, or documents appended to FILE). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture_all.h"
#include "common.h"

struct all_settings {
	const char *output;
	cli_schedule sched;
	bool force;
	snap_capture_opts opts;
	cli_redaction redaction; /* one key for every process and round */
};

/* What one round saw. */
struct tally {
	size_t listed, captured, vanished, denied, changed, no_map, failed;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap capture --all -o DIR/|FILE|- [options]\n"
	      "       mapsnap capture --all -o DIR/|FILE|- --every DURATION\n"
	      "                       [--count N | --for DURATION]\n"
	      "\n"
	      "Captures every process this user may read. -o DIR/ writes one\n"
	      "snapshot file per process (mapsnap-<comm>-<pid>-<UTC time>.json,\n"
	      "each renamed into place when complete) and prints their names;\n"
	      "-o FILE writes one stream of snapshot documents (renamed into\n"
	      "place when complete), -o - writes it to stdout. Processes that\n"
	      "exit meanwhile or deny access are counted on stderr, never fatal;\n"
	      "kernel threads have no memory map and are skipped. Two processes\n"
	      "are read at a time with two CPUs or more; a stream is in pid order.\n"
	      "On a terminal a progress line shows the count. With --every, a\n"
	      "round every DURATION (a host series): new files in DIR/, or\n"
	      "documents appended to FILE, until --count rounds, --for DURATION,\n"
	      "or Ctrl-C, SIGTERM, SIGHUP (between two processes).\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_ALL, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap capture --all -o host/          one file per process\n"
	      "  mapsnap capture --all -o - | mapsnap rank -\n"
	      "  mapsnap capture --all --every 5m --for 1d -o host.json\n"
	      "\n"
	      "Exit status: 0 when the round(s) ran (vanished and denied processes\n"
	      "included), 2 on a usage error or when an output cannot be written.\n",
	      f);
}

bool capture_all_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--all") == 0)
			return true;
	return false;
}

/* ---- arguments ---- */

static int parse_option(struct all_settings *s, int c, const char *arg)
{
	int rc = cli_capture_option(&s->opts, &s->redaction, c, arg);
	if (rc == 1)
		rc = cli_schedule_option(&s->sched, c, arg);
	if (rc != 1)
		return rc;
	switch (c) {
	case 'o': s->output = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case OPT_ALL: return EXIT_OK;
	}
	return EXIT_ERROR;
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct all_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_ALL, "capture", argc, argv)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (optind < argc)
		return cli_error("capture: --all takes no pids ('%s')", argv[optind]);
	if (!s->output)
		return cli_error("capture: --all needs -o DIR/, -o FILE or -o -");
	if ((s->sched.count || s->sched.has_for) && !s->sched.every_ms)
		return cli_error("capture: --count and --for go with --every DURATION");
	if (cli_schedule_check(&s->sched) != EXIT_OK)
		return EXIT_ERROR;
	return cli_redaction_ready(&s->redaction, &s->opts);
}

/* ---- the processes ---- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Every process id in /proc, ascending; *out is malloc'd. */
static int list_pids(pid_t **out, size_t *count)
{
	DIR *d = opendir("/proc");
	if (!d)
		return cli_error("/proc: %s", strerror(errno));
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			pid_t *grown = realloc(pids, cap * sizeof(*grown));
			if (!grown) {
				free(pids);
				closedir(d);
				return cli_error("capture: out of memory");
			}
			pids = grown;
		}
		pids[n++] = (pid_t)strtol(de->d_name, NULL, 10);
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*out = pids;
	*count = n;
	return EXIT_OK;
}

/* One process's document, built in memory so that a process exiting
 * mid-read leaves nothing in a stream; or, once it is the next one due
 * in a stream that can be cut back (a file), written straight into it
 * (a big process's document is then not copied once more at its end),
 * and cut back off if the capture fails after all. */
struct doc {
	char *text;
	size_t len, cap, regions;
	char comm[64];
	bool direct;     /* written into the stream from `start` on */
	off_t start;
	int write_errno; /* the stream's, when a direct write failed */
};

struct round;
static bool goes_direct(struct round *r, size_t index, struct doc *doc);

/* The stdio stream a document is written through. */
struct doc_stream {
	struct doc *doc;
	struct round *round;
	size_t index;
};

static FILE *direct_stream(const struct round *r);

static ssize_t doc_write(void *cookie, const char *buf, size_t size)
{
	struct doc_stream *ds = cookie;
	struct doc *d = ds->doc;
	if (d->direct || goes_direct(ds->round, ds->index, d)) {
		if (!d->write_errno && fwrite(buf, 1, size, direct_stream(ds->round)) == size)
			return (ssize_t)size;
		d->write_errno = d->write_errno ? d->write_errno : errno;
		return -1;
	}
	if (d->cap - d->len < size) {
		size_t cap = d->cap ? d->cap : 64 * 1024;
		while (cap - d->len < size)
			cap *= 2;
		char *grown = realloc(d->text, cap);
		if (!grown)
			return -1;
		d->text = grown;
		d->cap = cap;
	}
	memcpy(d->text + d->len, buf, size);
	d->len += size;
	return (ssize_t)size;
}

struct stream {
	fmt_json_writer *writer;
	struct doc *doc;
};

static int stream_region(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct stream *st = ctx;
	st->doc->regions++;
	return fmt_json_region(st->writer, snap, r);
}

/* comm may hold '/', spaces and more: a file-name-safe form. */
static void safe_name(char *out, size_t size, const char *comm)
{
	size_t n = 0;
	for (const char *s = comm; *s && n + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		out[n++] = isalnum(c) || c == '.' || c == '-' || c == '_' ? (char)c : '_';
	}
	out[n] = '\0';
}

static int capture_doc(const struct all_settings *s, pid_t pid, struct doc_stream *ds,
		       snap_error *err)
{
	struct doc *doc = ds->doc;
	memset(doc, 0, sizeof(*doc));
	snap_snapshot *snap = NULL;
	struct stream st = { NULL, doc };
	cookie_io_functions_t io = { .write = doc_write };
	FILE *mem = fopencookie(ds, "w", io);
	int rc = mem ? snap_snapshot_new(&snap, err) : SNAP_ENOMEM;
	if (rc == SNAP_OK && (rc = snap_capture_meta(snap, pid, &s->opts, err)) == SNAP_OK &&
	    (rc = fmt_json_begin(&st.writer, mem, snap)) == SNAP_OK) {
		rc = snap_capture_smaps(snap, pid, &s->opts, stream_region, &st, err);
		if (rc == SNAP_OK)
			rc = fmt_json_end(st.writer, snap); /* frees the writer */
		else
			fmt_json_abort(st.writer);
	}
	if (snap && snap->process.comm)
		safe_name(doc->comm, sizeof(doc->comm), snap->process.comm);
	snap_snapshot_free(snap);
	if (mem && fclose(mem) != 0 && rc == SNAP_OK)
		rc = SNAP_ENOMEM;
	if (rc != SNAP_OK) {
		free(doc->text);
		doc->text = NULL;
		doc->len = 0;
	}
	return rc;
}

/* ---- where documents go ---- */

struct sink {
	const struct all_settings *s;
	bool to_dir;
	cli_output out; /* FILE or stdout, one round without --every */
	int append_fd;  /* FILE with --every: documents appended */
	char stamp[32]; /* the round's UTC time, in file names */
	int write_errno;
};

static bool names_directory(const char *output)
{
	struct stat st;
	size_t n = strlen(output);
	return (n && output[n - 1] == '/') ||
	       (stat(output, &st) == 0 && S_ISDIR(st.st_mode));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_file_doc(struct sink *k, pid_t pid, const struct doc *doc)
{
	const char *dir = k->s->output;
	const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	char path[4400];
	int n = snprintf(path, sizeof(path), "%s%smapsnap-%s-%ld-%s.json", dir, sep,
			 doc->comm[0] ? doc->comm : "unknown", (long)pid, k->stamp);
	/* Two rounds within one second: "-2", "-3"... */
	for (int i = 2; access(path, F_OK) == 0 && i < 1000; i++)
		snprintf(path + n - 5, sizeof(path) - (size_t)n + 5, "-%d.json", i);
	snap_error err = { 0 };
	cli_output out;
	if (cli_output_open(&out, path, false, &err) < 0)
		return cli_report(&err);
	if (fwrite(doc->text, 1, doc->len, out.f) != doc->len) {
		k->write_errno = errno;
		cli_output_discard(&out);
		return cli_error("%s: write failed: %s", path, strerror(k->write_errno));
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	printf("%s\n", path);
	return EXIT_OK;
}

static int sink_put(struct sink *k, pid_t pid, const struct doc *doc)
{
	if (doc->direct)
		return EXIT_OK; /* already there */
	if (k->to_dir)
		return write_file_doc(k, pid, doc);
	if (k->append_fd >= 0) {
		if (write_all(k->append_fd, doc->text, doc->len) < 0)
			return cli_error("%s: write failed: %s", k->s->output, strerror(errno));
		return EXIT_OK;
	}
	if (fwrite(doc->text, 1, doc->len, k->out.f) != doc->len)
		return cli_error("%s: write failed: %s", k->s->output, strerror(errno));
	return EXIT_OK;
}

static int sink_open(struct sink *k, const struct all_settings *s)
{
	memset(k, 0, sizeof(*k));
	k->s = s;
	k->append_fd = -1;
	snap_error err = { 0 };
	if (strcmp(s->output, "-") != 0 && names_directory(s->output)) {
		k->to_dir = true;
		if (cli_make_dirs(s->output) != 0)
			return cli_error("%s: cannot create directory: %s", s->output,
					 strerror(errno));
		return EXIT_OK;
	}
	if (s->sched.every_ms && strcmp(s->output, "-") != 0) {
		int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (s->force ? O_TRUNC : 0);
		if ((k->append_fd = open(s->output, flags, 0666)) < 0)
			return cli_error("%s: cannot open: %s", s->output, strerror(errno));
		return EXIT_OK;
	}
	if (cli_output_open(&k->out, s->output, s->force, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}

static int sink_close(struct sink *k, bool ok)
{
	snap_error err = { 0 };
	if (k->to_dir)
		return EXIT_OK;
	if (k->append_fd >= 0) {
		int rc = close(k->append_fd);
		return rc == 0 || !ok ? EXIT_OK : cli_error("%s: %s", k->s->output,
							   strerror(errno));
	}
	if (!ok) {
		cli_output_discard(&k->out);
		return EXIT_OK;
	}
	bool to_stdout = k->out.to_stdout;
	if (cli_output_commit(&k->out, &err) < 0)
		return cli_report(&err);
	if (!to_stdout)
		printf("%s\n", k->s->output);
	return EXIT_OK;
}

/* ---- a round ---- */

static void progress(const struct tally *t, size_t round, size_t done)
{
	fprintf(stderr, "\r\033[Kmapsnap: %zu/%zu processes, %zu captured", done,
		t->listed, t->captured);
	if (round)
		fprintf(stderr, " (round %zu)", round);
	fflush(stderr);
}

/* What /proc/PID/stat says of a process before its turn: whether it is
 * a kernel thread (PF_KTHREAD in field 9: no memory map, so one read
 * spares a whole capture) and its resident pages (field 24). A process
 * gone reads as neither: its capture then says what happened. Fields
 * after the comm are counted from its ')'. */
static void read_stat(pid_t pid, bool *kernel_thread, unsigned long long *resident)
{
	char path[64], buf[1024];
	*kernel_thread = false;
	*resident = 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *s = strrchr(buf, ')');
	for (int field = 2; s && *s && field < 24; s++) {
		if (*s != ' ')
			continue;
		if (++field == 9)
			*kernel_thread = strtoull(s + 1, NULL, 10) & 0x00200000;
		else if (field == 24)
			*resident = strtoull(s + 1, NULL, 10);
	}
}

/* Marks the kernel threads and returns the index of the process with the
 * most resident pages. The kernel's cost of smaps grows with the pages
 * it walks and the mappings it prints, and one big process can cost more
 * than all the others together: captured first, on a worker of its own,
 * it does not start last, after the small ones, and hold up the end of
 * the round. */
static size_t read_stats(const pid_t *pids, size_t n, bool *kernel_threads)
{
	size_t largest = 0;
	unsigned long long most = 0, resident;
	for (size_t i = 0; i < n; i++) {
		read_stat(pids[i], &kernel_threads[i], &resident);
		if (resident > most) {
			most = resident;
			largest = i;
		}
	}
	return largest;
}

/* What capturing one process gave, before it is counted and written. */
struct outcome {
	pid_t pid;
	int rc;
	bool kernel_thread, self; /* self: mapsnap itself, not counted */
	struct doc doc;
	snap_error err;
};

static void capture_one(const struct all_settings *s, struct round *r, size_t index,
			pid_t pid, bool kernel_thread, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	if ((o->kernel_thread = kernel_thread))
		return;
	struct doc_stream ds = { &o->doc, r, index };
	o->rc = capture_doc(s, pid, &ds, &o->err);
}

/* A document written straight into the stream that is not to be kept
 * (the capture failed after all, or found no map) is cut back off. */
static int cut_back(struct sink *k, const struct outcome *o)
{
	FILE *f = k->out.f;
	if (o->doc.write_errno)
		return cli_error("%s: write failed: %s", k->s->output,
				 strerror(o->doc.write_errno));
	if (fflush(f) != 0 || ftruncate(fileno(f), o->doc.start) != 0 ||
	    fseeko(f, o->doc.start, SEEK_SET) != 0)
		return cli_error("%s: cannot cut back a document: %s", k->s->output,
				 strerror(errno));
	return EXIT_OK;
}

/* Counts the outcome and writes its document; frees the document. */
static int put_outcome(struct sink *k, struct tally *t, struct outcome *o)
{
	int status = EXIT_OK;
	if (o->self)
		return EXIT_OK;
	if (o->doc.direct && (o->rc != SNAP_OK || o->doc.regions == 0 || o->doc.write_errno) &&
	    (status = cut_back(k, o)) != EXIT_OK)
		return status;
	if (o->kernel_thread) {
		t->no_map++;
		return EXIT_OK;
	}
	switch (o->rc) {
	case SNAP_OK: break;
	case SNAP_ENOPROC: t->vanished++; return EXIT_OK;
	case SNAP_EPERM: t->denied++; return EXIT_OK;
	case SNAP_ECHANGED: t->changed++; return EXIT_OK; /* exec mid-read: torn */
	default:
		t->failed++;
		cli_report(&o->err);
		return EXIT_OK;
	}
	if (o->doc.regions == 0)
		t->no_map++; /* a kernel thread, or a process tearing down */
	else if ((status = sink_put(k, o->pid, &o->doc)) == EXIT_OK)
		t->captured++;
	free(o->doc.text);
	return status;
}

static void report_round(const struct tally *t, size_t round)
{
	char r[32] = "";
	if (round)
		snprintf(r, sizeof(r), "round %zu: ", round);
	char changed[64] = "";
	if (t->changed)
		snprintf(changed, sizeof(changed), ", %zu ran another program mid-read",
			 t->changed);
	cli_warn("capture: %s%zu processes captured, %zu vanished, %zu denied%s, %zu "
		 "without a memory map (kernel threads)%s", r, t->captured, t->vanished,
		 t->denied, changed, t->no_map, t->failed ? "; some failed (above)" : "");
}

/* A round shared by its workers. Each claims the next process and
 * captures it unlocked; documents are written and counted in pid order
 * (a stream's order does not depend on timing) by whichever worker
 * completes the next one due. Up to WINDOW finished documents wait for
 * an earlier one, so a large process does not hold up the small ones
 * after it. The largest process is claimed first, out of turn; its
 * outcome waits in a slot of its own until its turn comes. */
#define WINDOW 32

struct round {
	struct sink *sink;
	const pid_t *pids;
	const bool *kernel_threads; /* by index, as stat said at the start */
	size_t npids, next_claim, next_put, round;
	pid_t self;
	bool tty;
	int status;
	struct tally tally;
	struct outcome done[WINDOW]; /* by index % WINDOW */
	bool ready[WINDOW];
	size_t first;                /* the index claimed first */
	bool first_claimed, first_ready;
	struct outcome first_done;
	pthread_mutex_t lock;
	pthread_cond_t room;
};

/* The stream documents may be written into straight: a file of one
 * round (stdout cannot be cut back; a directory has a file each). */
static FILE *direct_stream(const struct round *r)
{
	const struct sink *k = r->sink;
	return k->to_dir || k->append_fd >= 0 || k->out.to_stdout ? NULL : k->out.f;
}

/* True once the document is the next one due: nothing else is written
 * to the stream until it is put (next_put waits on it), so its bytes
 * can go there as they come. What it has in memory goes first. */
static bool goes_direct(struct round *r, size_t index, struct doc *doc)
{
	FILE *f = direct_stream(r);
	if (!f)
		return false;
	pthread_mutex_lock(&r->lock);
	bool due = r->next_put == index;
	pthread_mutex_unlock(&r->lock);
	if (!due || (doc->start = ftello(f)) < 0)
		return false;
	doc->direct = true;
	if (doc->len && fwrite(doc->text, 1, doc->len, f) != doc->len)
		doc->write_errno = errno;
	free(doc->text);
	doc->text = NULL;
	doc->len = doc->cap = 0;
	return true;
}

static bool claim(struct round *r, size_t *index)
{
	pthread_mutex_lock(&r->lock);
	while (r->next_claim - r->next_put >= WINDOW && r->status == EXIT_OK)
		pthread_cond_wait(&r->room, &r->lock);
	bool more = r->next_claim < r->npids && r->status == EXIT_OK && !cli_stop_signal();
	if (more && !r->first_claimed) {
		r->first_claimed = true;
		*index = r->first;
	} else if (more) {
		*index = r->next_claim++;
	}
	/* next_claim never rests on the index taken first, so it stays at
	 * or ahead of next_put. */
	if (r->first_claimed && r->next_claim == r->first)
		r->next_claim++;
	pthread_mutex_unlock(&r->lock);
	return more;
}

/* Stores the outcome, then writes every one now due, in order. */
static void put_in_turn(struct round *r, size_t index, const struct outcome *o)
{
	pthread_mutex_lock(&r->lock);
	bool *ready = index == r->first ? &r->first_ready : &r->ready[index % WINDOW];
	*(index == r->first ? &r->first_done : &r->done[index % WINDOW]) = *o;
	*ready = true;
	for (;;) {
		bool first = r->next_put == r->first;
		ready = first ? &r->first_ready : &r->ready[r->next_put % WINDOW];
		if (r->next_put >= r->npids || !*ready)
			break;
		struct outcome *due = first ? &r->first_done : &r->done[r->next_put % WINDOW];
		if (r->status == EXIT_OK)
			r->status = put_outcome(r->sink, &r->tally, due);
		else
			free(due->doc.text);
		*ready = false;
		r->next_put++;
		if (r->tty)
			progress(&r->tally, r->round, r->next_put);
	}
	pthread_cond_broadcast(&r->room);
	pthread_mutex_unlock(&r->lock);
}

static void *round_worker(void *arg)
{
	struct round *r = arg;
	size_t i;
	while (claim(r, &i)) {
		struct outcome o;
		if (r->pids[i] == r->self)
			o = (struct outcome){ .pid = r->self, .self = true };
		else
			capture_one(r->sink->s, r, i, r->pids[i], r->kernel_threads[i], &o);
		put_in_turn(r, i, &o);
	}
	return NULL;
}

/* Two processes at a time on two CPUs or more (those this process may
 * run on: taskset or a cgroup's cpuset can give it fewer than the
 * machine has): the kernel formats one process's smaps while the
 * other's is parsed and written. */
static size_t worker_count(void)
{
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0
		    ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	return cpus >= 4 ? 4 : cpus >= 2 ? 2 : 1;
}

static void run_workers(struct round *r)
{
	pthread_t threads[4];
	size_t started = 0, wanted = worker_count();
	while (started + 1 < wanted &&
	       pthread_create(&threads[started], NULL, round_worker, r) == 0)
		started++;
	round_worker(r); /* this thread is a worker too */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

static int run_round(struct sink *k, size_t round, bool tty)
{
	pid_t *pids = NULL;
	struct round r = { .sink = k, .round = round, .tty = tty, .self = getpid(),
			   .status = EXIT_OK };
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(k->stamp, sizeof(k->stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (list_pids(&pids, &r.tally.listed) != EXIT_OK)
		return EXIT_ERROR;
	bool *kernel_threads = calloc(r.tally.listed ? r.tally.listed : 1, sizeof(bool));
	if (!kernel_threads) {
		free(pids);
		return cli_error("capture: out of memory");
	}
	r.pids = pids;
	r.kernel_threads = kernel_threads;
	r.npids = r.tally.listed;
	r.first = read_stats(pids, r.npids, kernel_threads);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.room, NULL);
	run_workers(&r);
	/* Stopped early, the round never reached the process taken first. */
	if (r.first_ready)
		free(r.first_done.doc.text);
	pthread_cond_destroy(&r.room);
	pthread_mutex_destroy(&r.lock);
	if (tty)
		fputc('\n', stderr);
	free(pids);
	free(kernel_threads);
	report_round(&r.tally, round);
	return r.status;
}

/* ---- the schedule ---- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until the deadline; false when a stop signal came first. */
static bool wait_until(int64_t deadline)
{
	while (!cli_stop_signal()) {
		int64_t left = deadline - now_ns();
		if (left <= 0)
			return true;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		nanosleep(&ts, NULL); /* a signal ends it early */
	}
	return false;
}

static int run_rounds(struct sink *k, const struct all_settings *s, bool tty)
{
	int64_t interval = s->sched.every_ms * 1000000, start = now_ns();
	for (size_t round = 1;; round++) {
		int status = run_round(k, round, tty);
		if (status != EXIT_OK || cli_stop_signal() ||
		    (s->sched.count && round >= s->sched.count))
			return status;
		/* the next tick on the grid; ticks missed by a long round are skipped */
		int64_t tick = (now_ns() - start) / interval + 1;
		if (cli_schedule_over(&s->sched, tick))
			return EXIT_OK;
		if (!wait_until(start + tick * interval))
			return EXIT_OK;
	}
}

int cmd_capture_all(int argc, char **argv)
{
	struct all_settings s = { 0 };
	snap_capture_opts_init(&s.opts, SNAP_CAPTURE_OPTS_VERSION);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	/* A stop signal ends the run between two processes. */
	cli_signals_init(CLI_STOP_FLAG);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, said once */
	struct sink k;
	if (sink_open(&k, &s) != EXIT_OK)
		return EXIT_ERROR;
	bool tty = isatty(STDERR_FILENO);
	int status = s.sched.every_ms ? run_rounds(&k, &s, tty) : run_round(&k, 0, tty);
	/* A one-round stream stopped by a signal is incomplete: not kept. */
	bool complete = status == EXIT_OK && (s.sched.every_ms || !cli_stop_signal());
	if (cli_stop_signal())
		cli_warn("capture: stopped by %s", cli_signal_name(cli_stop_signal()));
	if (sink_close(&k, complete) != EXIT_OK || !complete)
		return EXIT_ERROR;
	return EXIT_OK;
}
