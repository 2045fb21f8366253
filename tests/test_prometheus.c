/* mapsnap summary --format prometheus: promtool accepts the output, a
 * throwaway prometheus-node-exporter on a free loopback port serves it
 * from its textfile directory, and the scraped mapsnap_rss_bytes summed
 * over kind equals the snapshot's Rss; bounded labels, one set of series
 * per pid for a series file, escaping, the map-count ratio, and the
 * atomic -o that never leaves half a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static struct {
	char *dir;
	char textfiles[4200]; /* node_exporter's textfile directory */
	helper_proc stages;
	char pid[16];
	char snap[4200];
} fx;

static int ask(const char *cmd, char *rest, size_t size)
{
	char reply[4400];
	if (helper_command(&fx.stages, cmd, reply, sizeof(reply)) != 0 ||
	    strncmp(reply, "ok", 2) != 0)
		return -1;
	if (rest)
		snprintf(rest, size, "%s", reply[2] == ' ' ? reply + 3 : "");
	return 0;
}

static int setup(void **state)
{
	(void)state;
	char *argv[] = { (char *)helper_path("stages"), NULL };
	char copy[4400];
	fx.dir = make_tmpdir();
	if (!fx.dir || helper_start(&fx.stages, argv) != 0)
		return -1;
	snprintf(fx.pid, sizeof(fx.pid), "%d", fx.stages.pid);
	/* a duplicated library (deleted copy), threads, an arena */
	if (ask("load-copy", copy, sizeof(copy)) || unlink(copy) || ask("threads 3", NULL, 0) ||
	    ask("arena", NULL, 0))
		return -1;
	snprintf(fx.textfiles, sizeof(fx.textfiles), "%s/textfiles", fx.dir);
	snprintf(fx.snap, sizeof(fx.snap), "%s/stages.json", fx.dir);
	cmd_result res;
	run_mapsnap(&res, NULL, "capture", fx.pid, "-o", fx.snap, NULL);
	int status = res.status;
	cmd_result_free(&res);
	return status == 0 && mkdir(fx.textfiles, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	helper_stop(&fx.stages);
	if (fx.dir)
		remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- reading the exposition ---- */

struct sample {
	char name[64];
	char labels[512]; /* as written, without the braces */
	double value;
};

/* The samples of text (comment lines skipped); *n gets how many. */
static struct sample *samples_of(const char *text, size_t *n)
{
	size_t cap = 64;
	struct sample *s = calloc(cap, sizeof(*s));
	*n = 0;
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		if (line[0] != '#' && len) {
			if (*n == cap)
				s = realloc(s, (cap *= 2) * sizeof(*s));
			struct sample *x = &s[(*n)++];
			memset(x, 0, sizeof(*x));
			size_t name = strcspn(line, "{ ");
			snprintf(x->name, sizeof(x->name), "%.*s", (int)name, line);
			const char *rest = line + name;
			if (*rest == '{') {
				const char *close = strstr(rest, "} ");
				assert_non_null(close);
				snprintf(x->labels, sizeof(x->labels), "%.*s", (int)(close - rest - 1),
					 rest + 1);
				rest = close + 1;
			}
			x->value = strtod(rest, NULL);
		}
		line += len + (line[len] == '\n');
	}
	return s;
}

static bool has_label(const struct sample *s, const char *label)
{
	return strstr(s->labels, label) != NULL;
}

/* The sum of a family's samples whose labels hold `with`. */
static double sum_of(const struct sample *s, size_t n, const char *name, const char *with)
{
	double total = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0 && has_label(&s[i], with))
			total += s[i].value;
	return total;
}

static json_t *summary_json(const char *path)
{
	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "json", (char *)path, NULL);
	json_t *doc = json_loads(res.out, 0, NULL);
	assert_non_null(doc);
	cmd_result_free(&res);
	return doc;
}

static long long totals(json_t *sum, const char *measure)
{
	return json_integer_value(json_object_get(json_object_get(sum, "totals"), measure));
}

static void promtool_accepts(const char *path)
{
	char *text = read_file(path, NULL);
	assert_non_null(text);
	char *argv[] = { "promtool", "check", "metrics", NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, text), 0);
	if (res.status != 0)
		fail_msg("promtool check metrics: exit %d: %s%s", res.status, res.out, res.err);
	cmd_result_free(&res);
	free(text);
}

/* ---- the tests ---- */

static long host_max_map_count(void)
{
	char *text = read_file("/proc/sys/vm/max_map_count", NULL);
	assert_non_null(text);
	long n = atol(text);
	free(text);
	return n;
}


static void promtool_accepts_a_live_process(void **state)
{
	(void)state;
	char out[4300];
	snprintf(out, sizeof(out), "%s/live.prom", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "prometheus", fx.pid, "-o",
					out, NULL);
	assert_string_equal(res.out, "");
	cmd_result_free(&res);
	promtool_accepts(out);
	char *text = read_file(out, NULL);
	size_t n;
	struct sample *s = samples_of(text, &n);
	char pid[64];
	snprintf(pid, sizeof(pid), "pid=\"%s\"", fx.pid);
	/* what the helper did, counted */
	assert_true(sum_of(s, n, "mapsnap_duplicated_libraries", pid) == 1);
	assert_true(sum_of(s, n, "mapsnap_deleted_mappings", pid) >= 4);
	assert_true(sum_of(s, n, "mapsnap_thread_stacks", pid) >= 3);
	assert_true(sum_of(s, n, "mapsnap_rss_bytes", "kind=\"thread-stack\"") > 0);
	assert_true(sum_of(s, n, "mapsnap_capture_timestamp_seconds", pid) > 1.7e9);
	/* the capture recorded this host's vm.max_map_count */
	double ratio = sum_of(s, n, "mapsnap_map_count_ratio", pid);
	double regions = sum_of(s, n, "mapsnap_regions", pid);
	assert_true(regions > 0);
	assert_true(ratio > 0.999999 * regions / (double)host_max_map_count() &&
		    ratio < 1.000001 * regions / (double)host_max_map_count());
	/* bounded cardinality: only comm, pid and kind, never a path */
	for (size_t i = 0; i < n; i++) {
		char copy[512];
		snprintf(copy, sizeof(copy), "%s", s[i].labels);
		size_t labels = 0;
		for (char *l = strtok(copy, ","); l; l = strtok(NULL, ","), labels++)
			if (strncmp(l, "comm=", 5) && strncmp(l, "pid=", 4) && strncmp(l, "kind=", 5))
				fail_msg("%s has label %s", s[i].name, l);
		assert_true(labels >= 2 && labels <= 3);
	}
	free(s);
	free(text);
}

static void sums_over_kind_are_the_snapshot(void **state)
{
	(void)state;
	char out[4300];
	snprintf(out, sizeof(out), "%s/file.prom", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "prometheus", fx.snap, "-o",
					out, NULL);
	cmd_result_free(&res);
	char *text = read_file(out, NULL);
	size_t n;
	struct sample *s = samples_of(text, &n);
	json_t *sum = summary_json(fx.snap);
	static const char *const families[][2] = {
		{ "mapsnap_rss_bytes", "Rss" }, { "mapsnap_pss_bytes", "Pss" },
		{ "mapsnap_size_bytes", "Size" }, { "mapsnap_swap_bytes", "Swap" },
		{ "mapsnap_private_dirty_bytes", "Private_Dirty" },
	};
	for (size_t k = 0; k < sizeof(families) / sizeof(*families); k++)
		assert_true(sum_of(s, n, families[k][0], "") ==
			    (double)totals(sum, families[k][1]) * 1024);
	assert_true(sum_of(s, n, "mapsnap_regions", "") ==
		    json_integer_value(json_object_get(sum, "regions")));
	json_decref(sum);
	free(s);
	free(text);
}

/* ---- node_exporter ---- */

static int free_port(void)
{
	int sock = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int port = -1;
	if (sock >= 0 && bind(sock, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(sock, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (sock >= 0)
		close(sock);
	return port;
}

static pid_t start_exporter(const char *port)
{
	char listen[64], dir[4300];
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%s", port);
	snprintf(dir, sizeof(dir), "--collector.textfile.directory=%s", fx.textfiles);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp("prometheus-node-exporter", "prometheus-node-exporter",
		       "--collector.disable-defaults", "--collector.textfile", dir, listen,
		       (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Scrapes /metrics, waiting (20 s at most) for the exporter to listen. */
static char *scrape(pid_t exporter, const char *port)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/metrics", port);
	char *argv[] = { "curl", "-sf", "--max-time", "10", url, NULL };
	for (int tries = 0; tries < 400; tries++) {
		int status;
		if (waitpid(exporter, &status, WNOHANG) == exporter)
			fail_msg("prometheus-node-exporter exited (is it installed? make deps)");
		cmd_result res;
		assert_int_equal(run_cmd(&res, argv, NULL), 0);
		if (res.status == 0) {
			free(res.err);
			return res.out;
		}
		cmd_result_free(&res);
		usleep(50000);
	}
	fail_msg("prometheus-node-exporter did not answer on port %s", port);
	return NULL;
}

static void node_exporter_serves_the_snapshot(void **state)
{
	(void)state;
	char out[4400], port[16];
	snprintf(out, sizeof(out), "%s/mapsnap.prom", fx.textfiles);
	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "prometheus", fx.snap, "-o",
					out, NULL);
	cmd_result_free(&res);
	snprintf(port, sizeof(port), "%d", free_port());
	pid_t exporter = start_exporter(port);
	assert_true(exporter > 0);
	char *text = scrape(exporter, port);
	kill(exporter, SIGKILL);
	waitpid(exporter, NULL, 0);
	size_t n;
	struct sample *s = samples_of(text, &n);
	assert_true(sum_of(s, n, "node_textfile_scrape_error", "") == 0);
	json_t *sum = summary_json(fx.snap);
	char pid[64];
	snprintf(pid, sizeof(pid), "pid=\"%s\"", fx.pid);
	double rss = sum_of(s, n, "mapsnap_rss_bytes", pid);
	assert_true(rss > 0);
	assert_true(rss == (double)totals(sum, "Rss") * 1024);
	json_decref(sum);
	free(s);
	free(text);
}

/* ---- series, escaping, map count, atomic output ---- */

static char *edited_snapshot(const char *name, const char *from, const char *to)
{
	char *text = read_file(fx.snap, NULL), *path;
	char *at = strstr(text, from);
	assert_non_null(at);
	assert_true(asprintf(&path, "%s/%s", fx.dir, name) > 0);
	FILE *f = fopen(path, "w");
	fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	fclose(f);
	free(text);
	return path;
}

static void series_escaping_and_map_count(void **state)
{
	(void)state;
	/* three snapshots of one pid: one set of series, the latest's */
	char series[4300];
	snprintf(series, sizeof(series), "%s/series.json", fx.dir);
	for (int i = 0; i < 3; i++) {
		cmd_result res = run_mapsnap_ok(0, "capture", fx.pid, "-o", "-", NULL);
		FILE *f = fopen(series, "a");
		fputs(res.out, f);
		fclose(f);
		cmd_result_free(&res);
	}
	char out[4400];
	snprintf(out, sizeof(out), "%s/series.prom", fx.dir);
	cmd_result res = run_mapsnap_ok(0, "summary", "--format", "prometheus", series, "-o",
					out, NULL);
	cmd_result_free(&res);
	promtool_accepts(out);
	char *text = read_file(out, NULL);
	size_t n;
	struct sample *s = samples_of(text, &n);
	size_t stamps = 0;
	for (size_t i = 0; i < n; i++)
		stamps += strcmp(s[i].name, "mapsnap_capture_timestamp_seconds") == 0;
	assert_int_equal(stamps, 1);
	free(s);
	free(text);

	/* a comm with a quote and a backslash; a recorded vm.max_map_count */
	char *odd = edited_snapshot("odd.json", "\"comm\":\"stages\"", "\"comm\":\"a\\\"b\\\\c\"");
	/* capture recorded the host's limit; a snapshot from a host with a
	 * lower one says so */
	char recorded[64];
	snprintf(recorded, sizeof(recorded), "\"max_map_count\":%ld", host_max_map_count());
	char *limited = edited_snapshot("limited.json", recorded, "\"max_map_count\":1000");
	res = run_mapsnap_ok(0, "summary", "--format", "prometheus", odd, "-o", out, "--force",
			     NULL);
	cmd_result_free(&res);
	promtool_accepts(out);
	text = read_file(out, NULL);
	assert_non_null(strstr(text, "{comm=\"a\\\"b\\\\c\",pid="));
	free(text);
	res = run_mapsnap_ok(0, "summary", "--format", "prometheus", limited, "-o", out,
			     "--force", NULL);
	cmd_result_free(&res);
	promtool_accepts(out);
	text = read_file(out, NULL);
	s = samples_of(text, &n);
	json_t *sum = summary_json(fx.snap);
	double ratio = sum_of(s, n, "mapsnap_map_count_ratio", "");
	double want = (double)json_integer_value(json_object_get(sum, "regions")) / 1000;
	assert_true(ratio > want * 0.999999 && ratio < want * 1.000001);
	json_decref(sum);
	free(s);
	free(text);
	free(odd);
	free(limited);
}

static void output_is_atomic_and_kept(void **state)
{
	(void)state;
	char out[4400];
	snprintf(out, sizeof(out), "%s/atomic/metrics.prom", fx.dir);
	char sub[4300];
	snprintf(sub, sizeof(sub), "%s/atomic", fx.dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(write_file(out, "old\n", 4), 0);
	struct stat before, after;
	assert_int_equal(stat(out, &before), 0);
	/* not replaced without --force; a bad input replaces nothing */
	cmd_result res;
	run_mapsnap(&res, NULL, "summary", "--format", "prometheus", fx.snap, "-o", out, NULL);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
	run_mapsnap(&res, NULL, "summary", "--format", "prometheus", fx.snap, "/nonexistent",
		    "-o", out, "--force", NULL);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "/nonexistent"));
	cmd_result_free(&res);
	char *kept = read_file(out, NULL);
	assert_string_equal(kept, "old\n");
	free(kept);
	/* with --force: a new file renamed into place (another inode), and
	 * nothing else left in the directory */
	res = run_mapsnap_ok(0, "summary", "--format", "prometheus", fx.snap, "-o", out,
			     "--force", NULL);
	cmd_result_free(&res);
	assert_int_equal(stat(out, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	DIR *d = opendir(sub);
	struct dirent *de;
	size_t files = 0;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.' || strlen(de->d_name) > 2;
	closedir(d);
	assert_int_equal(files, 1);
	promtool_accepts(out);
	/* filters do not go with it */
	run_mapsnap(&res, NULL, "summary", "--format", "prometheus", "--kind", "heap",
		    fx.snap, NULL);
	assert_int_equal(res.status, 2);
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(promtool_accepts_a_live_process),
		cmocka_unit_test(sums_over_kind_are_the_snapshot),
		cmocka_unit_test(node_exporter_serves_the_snapshot),
		cmocka_unit_test(series_escaping_and_map_count),
		cmocka_unit_test(output_is_atomic_and_kept),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
