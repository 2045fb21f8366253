/* The NDJSON rows in a real ClickHouse: a throwaway clickhouse-server on
 * a free loopback port, with a temporary config declaring a two-shard
 * cluster (127.0.0.1 and 127.0.0.2, one server, a database per shard),
 * tables created from the repository's SQL files, rows of live helper
 * captures loaded with JSONEachRow and no setting, and SQL through the
 * Distributed table compared with `mapsnap summary` and `mapsnap check`
 * (region counts, Rss, duplicated libraries, deleted mappings) and with
 * what the helpers did (the fleet queries of formats/clickhouse/).
 * The server starts once for the binary and is killed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

enum { A, B, C, NPROCS }; /* two paths of libz + deleted; dlmopen; plain */

static struct {
	char *dir;
	pid_t server;
	char port[16];
	helper_proc h[NPROCS];
	char pid[NPROCS][16];
	char snap[NPROCS][4200];  /* the capture loaded */
	char first[4200];         /* A before it loaded the copy */
	char copy[4400];          /* A's copy of the library (deleted) */
} fx;

/* ---- the server ---- */

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	return ntohs(a.sin_port);
}

static int write_config(void)
{
	char path[4300], *text;
	int n = asprintf(&text,
		"<?xml version=\"1.0\"?>\n<yandex>\n"
		"<logger><level>warning</level><log>%1$s/server.log</log>"
		"<errorlog>%1$s/server.err.log</errorlog></logger>\n"
		"<listen_host>127.0.0.1</listen_host><listen_host>127.0.0.2</listen_host>\n"
		"<tcp_port>%2$s</tcp_port>\n"
		"<path>%1$s/data/</path><tmp_path>%1$s/tmp/</tmp_path>\n"
		"<user_files_path>%1$s/user_files/</user_files_path>\n"
		"<format_schema_path>%1$s/format_schemas/</format_schema_path>\n"
		"<mark_cache_size>67108864</mark_cache_size>\n"
		"<users_config>users.xml</users_config>\n"
		"<default_profile>default</default_profile>\n"
		"<default_database>default</default_database>\n"
		"<remote_servers><mapsnap>\n"
		"<shard><replica><host>127.0.0.1</host><port>%2$s</port>"
		"<default_database>shard1</default_database></replica></shard>\n"
		"<shard><replica><host>127.0.0.2</host><port>%2$s</port>"
		"<default_database>shard2</default_database></replica></shard>\n"
		"</mapsnap></remote_servers>\n</yandex>\n", fx.dir, fx.port);
	snprintf(path, sizeof(path), "%s/config.xml", fx.dir);
	int rc = n > 0 ? write_file(path, text, (size_t)n) : -1;
	free(text);
	static const char users[] =
		"<?xml version=\"1.0\"?>\n<yandex>\n<profiles><default/></profiles>\n"
		"<users><default><password></password><networks><ip>127.0.0.0/8</ip>"
		"</networks><profile>default</profile><quota>default</quota></default>"
		"</users>\n<quotas><default/></quotas>\n</yandex>\n";
	snprintf(path, sizeof(path), "%s/users.xml", fx.dir);
	return rc == 0 ? write_file(path, users, sizeof(users) - 1) : -1;
}

static const char *server_binary(void)
{
	static const char *const where[] = { "/usr/sbin/clickhouse-server",
					     "/usr/bin/clickhouse-server" };
	for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

static bool port_open(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

/* Starts the server and waits (30 s at most) until it accepts queries. */
static int start_server(void)
{
	const char *bin = server_binary();
	int port = free_port();
	if (!bin || port < 0) {
		fprintf(stderr, "clickhouse-server is not installed (make deps)\n");
		return -1;
	}
	snprintf(fx.port, sizeof(fx.port), "%d", port);
	if (write_config() != 0)
		return -1;
	char config[4300], log[4300];
	snprintf(config, sizeof(config), "--config-file=%s/config.xml", fx.dir);
	snprintf(log, sizeof(log), "%s/stdout.log", fx.dir);
	fx.server = fork();
	if (fx.server == 0) {
		/* a test binary killed by its timeout takes the server along */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, "clickhouse-server", config, (char *)NULL);
		_exit(127);
	}
	for (int tries = 0; tries < 600; tries++) {
		int status;
		if (waitpid(fx.server, &status, WNOHANG) == fx.server) {
			fx.server = 0;
			fprintf(stderr, "clickhouse-server exited; see %s\n", log);
			return -1;
		}
		char *argv[] = { "clickhouse-client", "--port", fx.port, "-q", "SELECT 1", NULL };
		cmd_result res;
		if (port_open(port) && run_cmd(&res, argv, NULL) == 0) {
			bool ready = res.status == 0 && strcmp(res.out, "1\n") == 0;
			cmd_result_free(&res);
			if (ready)
				return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "clickhouse-server did not accept queries within 30 s\n");
	return -1;
}

/* ---- SQL ---- */

/* Runs a query (stdin_text: data to insert); fails the test on an error.
 * Returns its TSV output (malloc'd). */
static char *sql_in(const char *database, const char *query, const char *stdin_text)
{
	char *argv[] = { "clickhouse-client", "--port", fx.port, "--database",
			 (char *)database, "--multiquery", "-q", (char *)query, NULL };
	cmd_result res;
	assert_int_equal(run_cmd(&res, argv, stdin_text), 0);
	if (res.status != 0)
		fail_msg("clickhouse: %s\n%.400s", res.err, query);
	free(res.err);
	return res.out;
}

static char *sql(const char *query)
{
	return sql_in("shard1", query, NULL);
}

static char *repo_file(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text)
		fail_msg("cannot read %s (run from the repository)", path);
	return text;
}

static int run_repo_sql(const char *database, const char *path)
{
	char *text = read_file(path, NULL);
	char *argv[] = { "clickhouse-client", "--port", fx.port, "--database",
			 (char *)database, "--multiquery", NULL };
	cmd_result res;
	int rc = text && run_cmd(&res, argv, text) == 0 ? res.status : -1;
	if (rc > 0)
		fprintf(stderr, "%s: %s\n", path, res.err);
	if (text && rc >= 0)
		cmd_result_free(&res);
	free(text);
	return rc;
}

static int create_tables(void)
{
	char *argv[] = { "clickhouse-client", "--port", fx.port, "--multiquery", "-q",
			 "CREATE DATABASE shard1; CREATE DATABASE shard2", NULL };
	cmd_result res;
	if (run_cmd(&res, argv, NULL) != 0 || res.status != 0)
		return -1;
	cmd_result_free(&res);
	return run_repo_sql("shard1", "formats/clickhouse/mapsnap.sql") ||
	       run_repo_sql("shard2", "formats/clickhouse/mapsnap.sql") ||
	       run_repo_sql("shard1", "formats/clickhouse/cluster.sql") ||
	       run_repo_sql("shard2", "formats/clickhouse/cluster.sql");
}

/* ---- the helpers and their rows ---- */

static int ask(helper_proc *h, const char *cmd, char *rest, size_t size)
{
	char reply[4400];
	if (helper_command(h, cmd, reply, sizeof(reply)) != 0 || strncmp(reply, "ok", 2)) {
		fprintf(stderr, "helper: %s -> %s\n", cmd, reply);
		return -1;
	}
	if (rest)
		snprintf(rest, size, "%s", reply[2] == ' ' ? reply + 3 : "");
	return 0;
}

static int capture(int k, char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/%s.json", fx.dir, name);
	cmd_result res;
	if (run_mapsnap(&res, NULL, "capture", fx.pid[k], "-o", path, NULL) != 0)
		return -1;
	int status = res.status;
	cmd_result_free(&res);
	return status;
}

static int start_helpers(void)
{
	for (int k = 0; k < NPROCS; k++) {
		char *argv[] = { (char *)helper_path("stages"), NULL };
		if (helper_start(&fx.h[k], argv) != 0)
			return -1;
		snprintf(fx.pid[k], sizeof(fx.pid[k]), "%d", fx.h[k].pid);
	}
	if (capture(A, fx.first, sizeof(fx.first), "a-first") ||
	    ask(&fx.h[A], "load-copy", fx.copy, sizeof(fx.copy)) || unlink(fx.copy) ||
	    ask(&fx.h[B], "dlmopen", NULL, 0))
		return -1;
	for (int k = 0; k < NPROCS; k++) {
		char name[16];
		snprintf(name, sizeof(name), "%c", 'a' + k);
		if (capture(k, fx.snap[k], sizeof(fx.snap[k]), name))
			return -1;
	}
	return 0;
}

static char *rows_of(const char *path)
{
	cmd_result res = run_mapsnap_ok(0, "convert", "--to", "ndjson", (char *)path, NULL);
	free(res.err);
	return res.out;
}

static int load_rows(void)
{
	/* A on the first shard, B and C (and A's earlier capture) on the second */
	const char *shard[NPROCS] = { "shard1", "shard2", "shard2" };
	for (int k = 0; k < NPROCS; k++) {
		char *rows = rows_of(fx.snap[k]);
		free(sql_in(shard[k], "INSERT INTO mapsnap_regions FORMAT JSONEachRow", rows));
		free(rows);
	}
	char *rows = rows_of(fx.first);
	free(sql_in("shard2", "INSERT INTO mapsnap_regions FORMAT JSONEachRow", rows));
	free(rows);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!(fx.dir = make_tmpdir()) || start_server() || create_tables() ||
	    start_helpers())
		return -1;
	load_rows();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < NPROCS; k++)
		helper_stop(&fx.h[k]);
	if (fx.server > 0) {
		kill(fx.server, SIGKILL);
		waitpid(fx.server, NULL, 0);
	}
	if (fx.dir)
		remove_tree(fx.dir);
	free(fx.dir);
	return 0;
}

/* ---- mapsnap's own answers ---- */

static json_t *mapsnap_json(const char *cmd, const char *path)
{
	cmd_result res = run_mapsnap_ok(0, cmd, "--format", "json", (char *)path, NULL);
	json_error_t jerr;
	json_t *doc = json_loads(res.out, 0, &jerr);
	if (!doc)
		fail_msg("%s: not JSON: %s", cmd, jerr.text);
	cmd_result_free(&res);
	return doc;
}

static long long jint(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* Private_Dirty of a library's rows (segments and .bss) in a capture. */
static long dirty_of(const char *path, const char *lib)
{
	char *rows = rows_of(path);
	long kb = 0;
	for (char *line = rows; *line;) {
		size_t n = strcspn(line, "\n");
		json_t *row = json_loadb(line, n, JSON_DECODE_INT_AS_REAL, NULL);
		assert_non_null(row);
		if (strcmp(json_string_value(json_object_get(row, "lib")), lib) == 0)
			kb += (long)json_number_value(json_object_get(row, "Private_Dirty"));
		json_decref(row);
		line += n + (line[n] == '\n');
	}
	free(rows);
	return kb;
}

/* ---- tests ---- */

/* The table's columns are the row's members, in order, on both tables. */
static void tables_have_the_rows_columns(void **state)
{
	(void)state;
	char *rows = rows_of(fx.snap[C]);
	json_error_t jerr;
	json_t *row = json_loadb(rows, strcspn(rows, "\n"), JSON_DECODE_INT_AS_REAL, &jerr);
	assert_non_null(row);
	char want[4096] = "";
	for (void *it = json_object_iter(row); it; it = json_object_iter_next(row, it)) {
		strcat(want, json_object_iter_key(it));
		strcat(want, "\n");
	}
	char *local = sql("DESCRIBE TABLE shard1.mapsnap_regions");
	char *all = sql("DESCRIBE TABLE shard2.mapsnap_regions_all");
	assert_string_equal(local, all);
	/* the first column of each line: the names */
	char names[4096] = "";
	for (const char *r = local; *r;) {
		size_t n = strcspn(r, "\t\n"), len = strlen(names);
		snprintf(names + len, sizeof(names) - len, "%.*s\n", (int)n, r);
		r += strcspn(r, "\n");
		r += *r == '\n';
	}
	assert_string_equal(names, want);
	char *engine = sql("SELECT engine FROM system.tables WHERE database = 'shard1' "
			   "AND name IN ('mapsnap_regions', 'mapsnap_regions_all') ORDER BY name");
	assert_string_equal(engine, "MergeTree\nDistributed\n");
	free(engine);
	free(local);
	free(all);
	json_decref(row);
	free(rows);
}

/* Rows sit on both shards; the Distributed table sees each once. */
static void both_shards_hold_rows(void **state)
{
	(void)state;
	char *one = sql("SELECT count() FROM shard1.mapsnap_regions");
	char *two = sql("SELECT count() FROM shard2.mapsnap_regions");
	char *all = sql("SELECT count() FROM mapsnap_regions_all");
	assert_true(atol(one) > 0 && atol(two) > 0);
	assert_int_equal(atol(all), atol(one) + atol(two));
	free(one);
	free(two);
	free(all);
}

/* Region counts and Rss per process and per kind, as summary says. */
static void counts_and_rss_match_summary(void **state)
{
	(void)state;
	for (int k = 0; k < NPROCS; k++) {
		json_t *sum = mapsnap_json("summary", fx.snap[k]);
		char q[512], line[256];
		snprintf(q, sizeof(q),
			 "SELECT count(), sum(Rss), sum(Size) FROM mapsnap_regions_all "
			 "WHERE pid = %s AND captured_at_ms = (SELECT max(captured_at_ms) "
			 "FROM mapsnap_regions_all WHERE pid = %s)", fx.pid[k], fx.pid[k]);
		char *got = sql(q);
		json_t *totals = json_object_get(sum, "totals");
		snprintf(line, sizeof(line), "%lld\t%lld\t%lld\n", jint(sum, "regions"),
			 jint(totals, "Rss"), jint(totals, "Size"));
		assert_string_equal(got, line);
		free(got);
		/* per kind, in the order of kind names */
		snprintf(q, sizeof(q),
			 "SELECT kind, count(), sum(Rss) FROM mapsnap_regions_all WHERE pid = %s "
			 "AND captured_at_ms = (SELECT max(captured_at_ms) FROM "
			 "mapsnap_regions_all WHERE pid = %s) GROUP BY kind ORDER BY kind",
			 fx.pid[k], fx.pid[k]);
		got = sql(q);
		json_t *by_kind = json_object_get(sum, "by_kind");
		size_t matched = 0;
		for (size_t i = 0; i < json_array_size(by_kind); i++) {
			json_t *kind = json_array_get(by_kind, i);
			if (!jint(kind, "regions"))
				continue;
			snprintf(line, sizeof(line), "%s\t%lld\t%lld\n",
				 json_string_value(json_object_get(kind, "kind")),
				 jint(kind, "regions"), jint(kind, "Rss"));
			if (!strstr(got, line))
				fail_msg("pid %s: %s not in\n%s", fx.pid[k], line, got);
			matched++;
		}
		size_t lines = 0;
		for (const char *p = got; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, matched);
		free(got);
		json_decref(sum);
	}
}

/* Duplicated libraries by SQL (loads of one name per process) and by
 * `mapsnap check`'s duplicated-library findings. */
static void duplicates_match_check(void **state)
{
	(void)state;
	for (int k = 0; k < NPROCS; k++) {
		char q[512];
		snprintf(q, sizeof(q),
			 "SELECT lib FROM mapsnap_regions_all WHERE pid = %s AND kind = 'lib' "
			 "AND offset = 0 AND captured_at_ms = (SELECT max(captured_at_ms) FROM "
			 "mapsnap_regions_all WHERE pid = %s) GROUP BY lib "
			 "HAVING uniqExact(image) > 1 ORDER BY lib", fx.pid[k], fx.pid[k]);
		char *got = sql(q);
		json_t *check = mapsnap_json("check", fx.snap[k]);
		json_t *findings = json_object_get(check, "findings");
		char names[8][128];
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(findings); i++) {
			json_t *f = json_array_get(findings, i);
			if (strcmp(json_string_value(json_object_get(f, "rule")),
				   "duplicated-library") != 0)
				continue;
			const char *msg = json_string_value(json_object_get(f, "message"));
			assert_true(n < 8);
			snprintf(names[n], sizeof(names[n]), "%.*s", (int)strcspn(msg, " "), msg);
			n++;
		}
		qsort(names, n, sizeof(*names), (int (*)(const void *, const void *))strcmp);
		char want[1024] = "";
		for (size_t i = 0; i < n; i++) {
			strcat(want, names[i]);
			strcat(want, "\n");
		}
		assert_string_equal(got, want);
		if (k != C)
			assert_non_null(strstr(got, "libz.so\n"));
		else
			assert_string_equal(got, "");
		json_decref(check);
		free(got);
	}
}

/* Deleted mappings by SQL and by check's deleted-mapping rule. */
static void deleted_mappings_match_check(void **state)
{
	(void)state;
	for (int k = 0; k < NPROCS; k++) {
		char q[512];
		snprintf(q, sizeof(q),
			 "SELECT count() FROM mapsnap_regions_all WHERE pid = %s AND deleted = 1 "
			 "AND captured_at_ms = (SELECT max(captured_at_ms) FROM "
			 "mapsnap_regions_all WHERE pid = %s)", fx.pid[k], fx.pid[k]);
		char *got = sql(q);
		json_t *check = mapsnap_json("check", fx.snap[k]);
		json_t *findings = json_object_get(check, "findings");
		size_t regions = 0;
		for (size_t i = 0; i < json_array_size(findings); i++) {
			json_t *f = json_array_get(findings, i);
			if (strcmp(json_string_value(json_object_get(f, "rule")),
				   "deleted-mapping") == 0)
				regions += json_array_size(json_object_get(f, "regions"));
		}
		assert_int_equal(atol(got), regions);
		assert_true(k == A ? regions > 0 : regions == 0);
		json_decref(check);
		free(got);
	}
}

/* The fleet queries the README shows, as shipped, on what the helpers did. */
static void fleet_queries(void **state)
{
	(void)state;
	char *query = repo_file("formats/clickhouse/fleet-two-builds.sql");
	char *got = sql(query);
	char host[256];
	gethostname(host, sizeof(host));
	/* libz from two files (A's copy, deleted since) and nothing else */
	char want[9000];
	snprintf(want, sizeof(want), "%s\tlibz.so\t2\t", host);
	assert_true(strncmp(got, want, strlen(want)) == 0);
	assert_non_null(strstr(got, fx.copy));
	assert_int_equal(strchr(got, '\n') - got + 1, (long)strlen(got));
	free(got);
	free(query);

	query = repo_file("formats/clickhouse/fleet-deleted-libraries.sql");
	got = sql(query);
	snprintf(want, sizeof(want), "%s\t%s\tstages\t['%s']\t", host, fx.pid[A], fx.copy);
	assert_true(strncmp(got, want, strlen(want)) == 0);
	assert_int_equal(strchr(got, '\n') - got + 1, (long)strlen(got));
	free(got);
	free(query);

	/* A's first capture and its last: load-copy dirtied the program's
	 * .bss (a 64K copy buffer); the rows say by how much. */
	query = repo_file("formats/clickhouse/fleet-dirty-growth.sql");
	got = sql(query);
	long grown = dirty_of(fx.snap[A], "stages") - dirty_of(fx.first, "stages");
	assert_true(grown >= 60); /* most of the 64K buffer was still clean */
	snprintf(want, sizeof(want), "stages\t%ld\t1\t%d\n", grown, NPROCS);
	if (!strstr(got, want))
		fail_msg("%s not in\n%s", want, got);

	free(got);
	free(query);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_have_the_rows_columns),
		cmocka_unit_test(both_shards_hold_rows),
		cmocka_unit_test(counts_and_rss_match_summary),
		cmocka_unit_test(duplicates_match_check),
		cmocka_unit_test(deleted_mappings_match_check),
		cmocka_unit_test(fleet_queries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
