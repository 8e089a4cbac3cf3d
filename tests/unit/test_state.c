/*
 * test_state: unit tests of the SQLite state file (cmocka).
 *
 * Every test works on files in one temporary folder.  Files that must be
 * refused or left alone are compared byte for byte before and after; error
 * messages are read from stderr (captured with dup2) and must name the file
 * and say what is wrong.  Old (v1) and foreign files are built with the
 * sqlite3 API directly.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "state.h"
#include "util.h"
#include "unit.h"


static char tmpdir[] = "/tmp/test_state.XXXXXX";
static int file_seq;

#define H1	"fc329d74692a2bc1fb5f163a81ab437917a3d3cf"
#define H2	"14a7c2e1b7d04c4d9a51a3c5b0f2e6d8c9a0b1c2"
#define H3	"e97c4a1dd1ff0cd3cd3a1a1b2e0f0e0d1c2b3a49"
#define HOSTILE	"He said \"hi\"; DROP TABLE torrents;--\nqbitrr-sweep: error: forged\r\t" \
	"\x01\x1b[31m\x7f \xc3\x9cn\xc3\xaf""c\xc3\xb6""d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac " \
	"\xf0\x9f\x8e\xac '%_\\"

/* A new path in tmpdir (not created); caller frees. */
static char *
tmp_path(const char *suffix)
{
	return xasprintf("%s/f%03d%s", tmpdir, ++file_seq, suffix);
}

/* ---- stderr capture --------------------------------------------------- */

static int
open_capture(const char *path, bool readonly, struct state **st, char **msgs)
{
	struct capture c;
	int rc;

	capture_start(&c, 2);
	rc = state_open(path, readonly, st);
	*msgs = capture_end(&c);
	return rc;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

/* ---- files ------------------------------------------------------------ */

struct bytes {
	char	*data;
	size_t	 len;
};

static struct bytes
file_bytes(const char *path)
{
	struct bytes b = { NULL, 0 };
	struct buf bb;
	char chunk[8192];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	buf_init(&bb);
	buf_puts(&bb, "");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&bb, chunk, n);
	fclose(fp);
	b.data = bb.data;
	b.len = bb.len;
	return b;
}

static void
assert_file_is(const char *path, const struct bytes *before)
{
	struct bytes now = file_bytes(path);

	assert_int_equal(now.len, before->len);
	assert_memory_equal(now.data, before->data, before->len);
	free(now.data);
}

static bool
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Files in dir (not . and ..). */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* ---- direct SQLite access (building and inspecting files) --------------- */

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s: %s", path, sql, msg);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* First column of the first row as text ("" when NULL); caller frees. */
static char *
sql_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s: %s", path, sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	else
		out = xstrdup("");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return out;
}

static int64_t
sql_int(const char *path, const char *sql)
{
	char *t = sql_text(path, sql);
	int64_t v = strtoll(t, NULL, 10);

	free(t);
	return v;
}

static const char v1_schema[] =
    "PRAGMA user_version = 1;"
    "CREATE TABLE torrents (hash TEXT PRIMARY KEY, category TEXT, arr TEXT,"
    " first_seen INTEGER, last_seen INTEGER, imported_at INTEGER,"
    " stalled_since INTEGER);";

/* The v1 rows used by the migration tests (one upper-case hash, one short). */
static const char v1_rows[] =
    "INSERT INTO torrents VALUES ('" H1 "', 'radarr', 'Radarr-Movies', 1000, 2000,"
    " 1500, NULL);"
    "INSERT INTO torrents VALUES ('14A7C2E1B7D04C4D9A51A3C5B0F2E6D8C9A0B1C2',"
    " 'tv-sonarr', 'Sonarr-TV', 1100, 2100, NULL, 1900);"
    "INSERT INTO torrents VALUES ('" H3 "', 'lidarr', 'Lidarr-Music', 1200, 2200,"
    " NULL, NULL);";

static char *
make_v1(void)
{
	char *path = tmp_path(".db");
	char *sql = xasprintf("%s%s", v1_schema, v1_rows);

	sql_exec(path, sql);
	free(sql);
	return path;
}

/* ---- rows --------------------------------------------------------------- */

static void
fill_row(struct state_row *r, const char *instance, const char *hash, int seed)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->hash, sizeof(r->hash), "%s", hash);
	r->instance = xstrdup(instance);
	r->name = xstrdup(HOSTILE);
	r->category = xstrdup("radarr");
	r->prev_category = xstrdup("t\xc3\xa9n\xc3\xa8""bres");
	r->arr = xstrdup("Radarr-Movies");
	r->state = xstrdup("stalledUP");
	r->progress = 0.29333333333333333 + seed;
	r->ratio = 1.0421 + seed;
	r->first_seen = 1795651843 + seed;
	r->last_seen = 1795651900 + seed;
	r->gone_at = 1795652000 + seed;
	r->stalled_since = 1795652100 + seed;
	r->seeding_since = 1795652200 + seed;
	r->import_sent_at = 1795652300 + seed;
	r->import_command_id = 1337 + seed;
	r->import_attempts = 3 + seed;
	r->import_next_try = 1795652400 + seed;
	r->import_result = xstrdup("failed: HTTP 500 \"boom\"");
	r->recheck_sent_at = 1795652500 + seed;
	r->files_checked_at = 1795652600 + seed;
	r->space_paused_at = 1795652700 + seed;
	r->research_stalled_at = 1795652800 + seed;
	r->error_reported_at = -1795652900LL - seed;	/* negative survives too */
}

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* Field-by-field (state_row_same is tested separately). */
static void
assert_row_equal(const struct state_row *a, const struct state_row *b)
{
	assert_string_equal(a->hash, b->hash);
	assert_str_or_null(a->instance, b->instance);
	assert_str_or_null(a->name, b->name);
	assert_str_or_null(a->category, b->category);
	assert_str_or_null(a->prev_category, b->prev_category);
	assert_str_or_null(a->arr, b->arr);
	assert_str_or_null(a->state, b->state);
	assert_true(a->progress == b->progress);
	assert_true(a->ratio == b->ratio);
	assert_int_equal(a->first_seen, b->first_seen);
	assert_int_equal(a->last_seen, b->last_seen);
	assert_int_equal(a->gone_at, b->gone_at);
	assert_int_equal(a->stalled_since, b->stalled_since);
	assert_int_equal(a->seeding_since, b->seeding_since);
	assert_int_equal(a->import_sent_at, b->import_sent_at);
	assert_int_equal(a->import_command_id, b->import_command_id);
	assert_int_equal(a->import_attempts, b->import_attempts);
	assert_int_equal(a->import_next_try, b->import_next_try);
	assert_str_or_null(a->import_result, b->import_result);
	assert_int_equal(a->recheck_sent_at, b->recheck_sent_at);
	assert_int_equal(a->files_checked_at, b->files_checked_at);
	assert_int_equal(a->space_paused_at, b->space_paused_at);
	assert_int_equal(a->research_stalled_at, b->research_stalled_at);
	assert_int_equal(a->error_reported_at, b->error_reported_at);
}

static struct state *
open_rw(const char *path)
{
	struct state *st = NULL;
	char *msgs;

	if (open_capture(path, false, &st, &msgs) != 0)
		fail_msg("state_open(%s): %s", path, msgs);
	free(msgs);
	assert_non_null(st);
	return st;
}

/* ---- tests: a new file ------------------------------------------------ */

static void
test_create_new(void **state)
{
	char *path = tmp_path(".db"), *mode, *sql, *msgs;
	struct state *st;
	struct state_rows rows;

	(void)state;
	st = open_rw(path);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 0);
	state_rows_free(&rows);
	state_close(st);

	assert_true(exists(path));
	assert_int_equal(sql_int(path, "PRAGMA user_version"), STATE_SCHEMA_VERSION);
	assert_int_equal(STATE_SCHEMA_VERSION, 2);
	mode = sql_text(path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type='table'"
	    " AND name IN ('torrents','actions','instances')"), 3);
	/* UNIQUE(hash, instance): the same hash on another instance is fine. */
	sql = xasprintf("INSERT INTO torrents (hash, instance) VALUES ('%s','qBit');"
	    "INSERT INTO torrents (hash, instance) VALUES ('%s','qBit-Seedbox');", H1, H1);
	sql_exec(path, sql);
	free(sql);
	{
		sqlite3 *db;
		char *sq = xasprintf("INSERT INTO torrents (hash, instance) VALUES ('%s','qBit')",
		    H1);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sq, NULL, NULL, NULL), SQLITE_CONSTRAINT);
		sqlite3_close(db);
		free(sq);
	}
	/* Opening again is quiet and keeps the rows. */
	assert_int_equal(open_capture(path, false, &st, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 2);
	state_rows_free(&rows);
	state_close(st);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
	free(path);
}

static void
test_rows_roundtrip(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row full, bare, upd;
	struct state_rows rows;

	(void)state;
	fill_row(&full, "qBit", H1, 0);
	/* Only the key: NULL strings and 0 ("not set") times come back as such. */
	memset(&bare, 0, sizeof(bare));
	snprintf(bare.hash, sizeof(bare.hash), "%s", H2);
	bare.instance = xstrdup("qBit");

	assert_int_equal(state_begin(st), 0);
	assert_int_equal(state_save_row(st, &full), 0);
	assert_int_equal(state_save_row(st, &bare), 0);
	assert_int_equal(state_commit(st), 0);
	assert_int_equal(state_rows_written(st), 2);
	state_close(st);

	st = open_rw(path);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 2);
	/* sorted by instance, then hash: H2 ("14a7") before H1 ("fc32") */
	assert_row_equal(&rows.items[0], &bare);
	assert_row_equal(&rows.items[1], &full);
	assert_true(rows.items[0].in_db);
	assert_true(rows.items[1].in_db);
	assert_true(state_row_same(&rows.items[1], &full));
	assert_memory_equal(rows.items[1].name, HOSTILE, sizeof(HOSTILE));
	state_rows_free(&rows);

	/* Saving the same key again updates it in place. */
	fill_row(&upd, "qBit", H1, 7);
	free(upd.name);
	upd.name = NULL;
	upd.stalled_since = 0;
	assert_int_equal(state_save_row(st, &upd), 0);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_row_equal(&rows.items[1], &upd);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM torrents"), 2);
	state_rows_free(&rows);
	state_close(st);

	/* Rows the loader cannot use (bad hash) are skipped, not fatal. */
	sql_exec(path, "INSERT INTO torrents (hash, instance) VALUES ('short', 'qBit');"
	    "INSERT INTO torrents (hash, instance) VALUES ('" H1 "x', 'qBit');");
	st = open_rw(path);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 2);
	state_rows_free(&rows);
	state_close(st);

	state_row_clear(&full);
	state_row_clear(&bare);
	state_row_clear(&upd);
	free(path);
}

/* A sweep loads the rows not gone; a gone one is read by its key when asked. */
static void
test_rows_gone_on_demand(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row live, gone, other;
	struct state_rows rows;

	(void)state;
	fill_row(&live, "qBit", H1, 0);
	live.gone_at = 0;
	fill_row(&gone, "qBit", H2, 3);
	gone.gone_at = 1700000500;
	fill_row(&other, "qBit-Seedbox", H2, 5);	/* same hash, another instance, live */
	other.gone_at = 0;
	assert_int_equal(state_begin(st), 0);
	assert_int_equal(state_save_row(st, &live), 0);
	assert_int_equal(state_save_row(st, &gone), 0);
	assert_int_equal(state_save_row(st, &other), 0);
	assert_int_equal(state_commit(st), 0);

	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 3);
	state_rows_free(&rows);

	assert_int_equal(state_load(st, false, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_null(state_rows_find(&rows, "qBit", H2));
	assert_non_null(state_rows_find(&rows, "qBit-Seedbox", H2));
	/* Only a gone row is read this way, and only for its own instance. */
	{
		const char *none[] = { H1, H3 }, *one[] = { H2 }, *mixed[] = { H3, H2, H1 };
		assert_int_equal(state_load_gone(st, "qBit", none, 2, &rows), 0);
		assert_int_equal(state_load_gone(st, "qBit-Other", one, 1, &rows), 0);
		assert_int_equal(state_load_gone(st, "qBit", one, 0, &rows), 0);
		assert_int_equal(rows.n, 2);
		assert_int_equal(state_load_gone(st, "qBit", mixed, 3, &rows), 1);
	}
	assert_int_equal(rows.n, 3);
	assert_row_equal(&rows.items[2], &gone);
	assert_true(rows.items[2].in_db);
	state_rows_sort(&rows);
	assert_non_null(state_rows_find(&rows, "qBit", H2));
	state_rows_free(&rows);
	state_close(st);

	state_row_clear(&live);
	state_row_clear(&gone);
	state_row_clear(&other);
	free(path);
}

static void
test_transactions(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row a, b;
	struct state_rows rows;

	(void)state;
	fill_row(&a, "qBit", H1, 0);
	fill_row(&b, "qBit", H2, 0);
	assert_int_equal(state_begin(st), 0);
	assert_int_equal(state_save_row(st, &a), 0);
	state_rollback(st);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 0);
	state_rows_free(&rows);
	state_rollback(st);	/* no transaction: harmless */

	assert_int_equal(state_begin(st), 0);
	assert_int_equal(state_save_row(st, &b), 0);
	assert_int_equal(state_commit(st), 0);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.items[0].hash, H2);
	state_rows_free(&rows);
	state_close(st);
	state_row_clear(&a);
	state_row_clear(&b);
	free(path);
}

/* The same hash on two instances is two rows; find picks the right one. */
static void
test_two_instances(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row r[4];
	struct state_rows rows;
	struct state_row *f;

	(void)state;
	fill_row(&r[0], "qBit-Seedbox", H1, 1);
	fill_row(&r[1], "qBit", H1, 2);
	fill_row(&r[2], "qBit", H3, 3);
	fill_row(&r[3], "qBit-Seedbox", H2, 4);
	for (size_t i = 0; i < NELEM(r); i++)
		assert_int_equal(state_save_row(st, &r[i]), 0);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 4);
	/* sorted: instance, then hash */
	assert_string_equal(rows.items[0].instance, "qBit");
	assert_string_equal(rows.items[0].hash, H3);	/* "e97c" < "fc32" */
	assert_string_equal(rows.items[1].instance, "qBit");
	assert_string_equal(rows.items[1].hash, H1);
	assert_string_equal(rows.items[2].instance, "qBit-Seedbox");
	assert_string_equal(rows.items[2].hash, H2);
	assert_string_equal(rows.items[3].instance, "qBit-Seedbox");
	assert_string_equal(rows.items[3].hash, H1);

	f = state_rows_find(&rows, "qBit", H1);
	assert_non_null(f);
	assert_row_equal(f, &r[1]);
	f = state_rows_find(&rows, "qBit-Seedbox", H1);
	assert_non_null(f);
	assert_row_equal(f, &r[0]);
	assert_null(state_rows_find(&rows, "qBit", H2));
	assert_null(state_rows_find(&rows, "qBit-Other", H1));
	assert_null(state_rows_find(&rows, "qbit", H1));
	state_rows_free(&rows);
	state_close(st);
	for (size_t i = 0; i < NELEM(r); i++)
		state_row_clear(&r[i]);
	free(path);
}

static void
test_touch(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row a, b;
	struct state_rows rows;
	int64_t w;

	(void)state;
	fill_row(&a, "qBit", H1, 0);
	fill_row(&b, "qBit-Seedbox", H1, 0);
	a.gone_at = b.gone_at = 0;	/* live rows */
	assert_int_equal(state_save_row(st, &a), 0);
	assert_int_equal(state_save_row(st, &b), 0);
	/*
	 * A live row's last sighting is its instance's last successful sweep:
	 * recording the instance is one write, not one per torrent.
	 */
	{
		struct state_instance si;
		memset(&si, 0, sizeof(si));
		si.name = (char *)"qBit";
		si.url = (char *)"http://localhost:8080";
		si.last_sweep = 1999999999;
		si.last_success = 1999999999;
		si.free_space = -1;
		w = state_rows_written(st);
		assert_int_equal(state_save_instance(st, &si), 0);
		assert_int_equal(state_rows_written(st), w + 1);
	}

	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.items[0].last_seen, 1999999999);
	assert_true(state_row_same(&rows.items[0], &a));
	a.last_seen = 1999999999;
	assert_row_equal(&rows.items[0], &a);
	/* the other instance (no successful sweep recorded) keeps its own */
	assert_row_equal(&rows.items[1], &b);
	state_rows_free(&rows);
	state_close(st);
	state_row_clear(&a);
	state_row_clear(&b);
	free(path);
}

/* state_row_same: every field but last_seen counts. */
static void
test_row_same(void **state)
{
	static const char *const fields[] = { "hash", "instance", "name", "category",
	    "prev_category", "arr", "state", "progress", "ratio", "first_seen", "gone_at",
	    "stalled_since", "seeding_since", "import_sent_at", "import_command_id",
	    "import_attempts", "import_next_try", "import_result", "recheck_sent_at",
	    "files_checked_at", "space_paused_at", "research_stalled_at",
	    "error_reported_at", "name=NULL", "import_result=NULL" };
	struct state_row a, b;

	(void)state;
	fill_row(&a, "qBit", H1, 0);
	state_row_copy(&b, &a);
	assert_true(state_row_same(&a, &b));
	assert_true(a.name != b.name);	/* deep copy */
	b.last_seen += 1000;
	assert_true(state_row_same(&a, &b));
	b.in_db = !a.in_db;
	assert_true(state_row_same(&a, &b));
	state_row_clear(&b);

	for (size_t i = 0; i < NELEM(fields); i++) {
		const char *f = fields[i];

		state_row_copy(&b, &a);
		if (strcmp(f, "hash") == 0) b.hash[39] = '0';
		else if (strcmp(f, "instance") == 0) { free(b.instance); b.instance = xstrdup("qBit-2"); }
		else if (strcmp(f, "name") == 0) { free(b.name); b.name = xstrdup(""); }
		else if (strcmp(f, "category") == 0) { free(b.category); b.category = xstrdup("radarr2"); }
		else if (strcmp(f, "prev_category") == 0) { free(b.prev_category); b.prev_category = NULL; }
		else if (strcmp(f, "arr") == 0) { free(b.arr); b.arr = xstrdup("Radarr-4K"); }
		else if (strcmp(f, "state") == 0) { free(b.state); b.state = xstrdup("stoppedUP"); }
		else if (strcmp(f, "progress") == 0) b.progress += 1e-9;
		else if (strcmp(f, "ratio") == 0) b.ratio = 0;
		else if (strcmp(f, "first_seen") == 0) b.first_seen++;
		else if (strcmp(f, "gone_at") == 0) b.gone_at = 0;
		else if (strcmp(f, "stalled_since") == 0) b.stalled_since++;
		else if (strcmp(f, "seeding_since") == 0) b.seeding_since++;
		else if (strcmp(f, "import_sent_at") == 0) b.import_sent_at = 0;
		else if (strcmp(f, "import_command_id") == 0) b.import_command_id++;
		else if (strcmp(f, "import_attempts") == 0) b.import_attempts++;
		else if (strcmp(f, "import_next_try") == 0) b.import_next_try++;
		else if (strcmp(f, "import_result") == 0) { free(b.import_result); b.import_result = xstrdup("queued"); }
		else if (strcmp(f, "recheck_sent_at") == 0) b.recheck_sent_at++;
		else if (strcmp(f, "files_checked_at") == 0) b.files_checked_at++;
		else if (strcmp(f, "space_paused_at") == 0) b.space_paused_at++;
		else if (strcmp(f, "research_stalled_at") == 0) b.research_stalled_at++;
		else if (strcmp(f, "error_reported_at") == 0) b.error_reported_at++;
		else if (strcmp(f, "name=NULL") == 0) { free(b.name); b.name = NULL; }
		else if (strcmp(f, "import_result=NULL") == 0) { free(b.import_result); b.import_result = NULL; }
		else fail_msg("unknown field %s", f);
		if (state_row_same(&a, &b) || state_row_same(&b, &a))
			fail_msg("a change of %s is not seen", f);
		state_row_clear(&b);
	}
	/* NULL on both sides is the same. */
	free(a.name);
	a.name = NULL;
	state_row_copy(&b, &a);
	assert_true(state_row_same(&a, &b));
	state_row_clear(&b);
	state_row_clear(&a);
}

/* In-memory rows: add, sort, find. */
static void
test_rows_sort_find(void **state)
{
	static const struct {
		const char *instance, *hash;
	} keys[] = {
		{ "qBit-Seedbox", H3 }, { "qBit", H3 }, { "qBit-A", H1 }, { "qBit", H1 },
		{ "qBit-Seedbox", H1 }, { "qBit", H2 },
	};
	struct state_rows rows = { 0 };

	(void)state;
	assert_null(state_rows_find(&rows, "qBit", H1));
	for (size_t i = 0; i < 200; i++) {
		struct state_row *r = state_rows_add(&rows);
		assert_int_equal(r->hash[0], '\0');
		assert_null(r->instance);
		snprintf(r->hash, sizeof(r->hash), "%040zx", i * 7919);
		r->instance = xasprintf("qBit-%03zu", (i * 37) % 200);
	}
	for (size_t i = 0; i < NELEM(keys); i++) {
		struct state_row *r = state_rows_add(&rows);
		snprintf(r->hash, sizeof(r->hash), "%s", keys[i].hash);
		r->instance = xstrdup(keys[i].instance);
		r->import_attempts = (int)i + 1;
	}
	state_rows_sort(&rows);
	for (size_t i = 1; i < rows.n; i++) {
		int c = strcmp(rows.items[i - 1].instance, rows.items[i].instance);
		assert_true(c < 0 || (c == 0 && strcmp(rows.items[i - 1].hash,
		    rows.items[i].hash) < 0));
	}
	for (size_t i = 0; i < NELEM(keys); i++) {
		struct state_row *r = state_rows_find(&rows, keys[i].instance, keys[i].hash);
		assert_non_null(r);
		assert_int_equal(r->import_attempts, (int)i + 1);
	}
	for (size_t i = 0; i < 200; i++) {
		char h[41], *inst = xasprintf("qBit-%03zu", (i * 37) % 200);
		snprintf(h, sizeof(h), "%040zx", i * 7919);
		assert_non_null(state_rows_find(&rows, inst, h));
		free(inst);
	}
	assert_null(state_rows_find(&rows, "qBit-A", H2));
	assert_null(state_rows_find(&rows, "", H1));
	state_rows_free(&rows);
	assert_null(rows.items);
	assert_int_equal(rows.n, 0);
}

/* ---- actions and history ---------------------------------------------- */

static void
test_history(void **state)
{
	static const struct state_action acts[] = {
		/* time, instance, hash, name, action, reason, result, error */
		{ 100, "qBit", H1, "Movie.One.2020", "import", "completed, not imported",
		  "done", NULL },
		{ 200, "qBit-Seedbox", H1, "Movie.One.2020", "delete", "stalled 20 min > 15 min",
		  "failed", "torrents/delete: HTTP 500" },
		{ 200, "qBit", H2, HOSTILE, "pause", "free space 1 GiB < 10 GiB", "planned",
		  NULL },
		{ 300, "qBit", NULL, NULL, "create_category", "missing", "done", NULL },
		{ 50, "qBit-Seedbox", H3, "Artist - Album", "recheck", "error state", "skipped",
		  NULL },
	};
	struct {
		int64_t	 since;
		const char *instance, *prefix;
		size_t	 limit;
		int	 want[6];	/* indexes into acts, newest first; -1 ends */
	} cases[] = {
		{ 0, NULL, NULL, 0, { 3, 2, 1, 0, 4, -1 } },
		{ 200, NULL, NULL, 0, { 3, 2, 1, -1 } },
		{ 201, NULL, NULL, 0, { 3, -1 } },
		{ 301, NULL, NULL, 0, { -1 } },
		{ 0, "qBit-Seedbox", NULL, 0, { 1, 4, -1 } },
		{ 0, "qBit", NULL, 0, { 3, 2, 0, -1 } },
		{ 0, "qbit", NULL, 0, { -1 } },
		{ 0, NULL, "fc32", 0, { 1, 0, -1 } },
		{ 0, NULL, "FC329D", 0, { 1, 0, -1 } },
		{ 0, NULL, "Fc329d74692A2bc1fb5f163a81ab437917a3d3cF", 0, { 1, 0, -1 } },
		{ 0, NULL, "14A7", 0, { 2, -1 } },
		{ 0, NULL, "e", 0, { 4, -1 } },
		{ 0, NULL, "0", 0, { -1 } },
		{ 0, NULL, "", 0, { 2, 1, 0, 4, -1 } },	/* any hash, not none */
		/* A prefix is literal: no LIKE wildcards. */
		{ 0, NULL, "f_", 0, { -1 } },
		{ 0, NULL, "%", 0, { -1 } },
		{ 0, NULL, "_c329d", 0, { -1 } },
		{ 0, NULL, "fc%d3cf", 0, { -1 } },
		{ 0, "qBit", "fc", 0, { 0, -1 } },
		{ 150, "qBit-Seedbox", "FC", 0, { 1, -1 } },
		{ 0, NULL, NULL, 2, { 3, 2, -1 } },
		{ 0, NULL, NULL, 1, { 3, -1 } },
		{ 0, NULL, "fc", 1, { 1, -1 } },
	};
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);

	(void)state;
	for (size_t i = 0; i < NELEM(acts); i++)
		assert_int_equal(state_add_action(st, &acts[i]), 0);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct state_history_entry *h = NULL;
		size_t n = 99, nw = 0;

		print_message("# since=%lld instance=%s prefix=%s limit=%zu\n",
		    (long long)cases[c].since, cases[c].instance ? cases[c].instance : "-",
		    cases[c].prefix ? cases[c].prefix : "-", cases[c].limit);
		assert_int_equal(state_history(st, cases[c].since, cases[c].instance,
		    cases[c].prefix, cases[c].limit, &h, &n), 0);
		while (cases[c].want[nw] != -1)
			nw++;
		assert_int_equal(n, nw);
		for (size_t i = 0; i < n; i++) {
			const struct state_action *a = &acts[cases[c].want[i]];
			assert_int_equal(h[i].time, a->time);
			assert_str_or_null(h[i].instance, a->instance);
			assert_str_or_null(h[i].hash, a->hash);
			assert_str_or_null(h[i].name, a->name);
			assert_str_or_null(h[i].action, a->action);
			assert_str_or_null(h[i].reason, a->reason);
			assert_str_or_null(h[i].result, a->result);
			assert_str_or_null(h[i].error, a->error);
		}
		state_history_free(h, n);
	}
	state_close(st);

	/* The audit log survives a reopen, also read-only. */
	{
		struct state_history_entry *h = NULL;
		size_t n = 0;
		char *msgs;

		assert_int_equal(open_capture(path, true, &st, &msgs), 0);
		free(msgs);
		assert_int_equal(state_history(st, 0, NULL, NULL, 0, &h, &n), 0);
		assert_int_equal(n, NELEM(acts));
		state_history_free(h, n);
		state_close(st);
	}
	free(path);
}

/* explain's history: one torrent on one instance, the last rows recorded. */
static void
test_torrent_history(void **state)
{
	/* Recorded in this order; the clock went back before the fourth. */
	static const struct state_action acts[] = {
		{ 100, "qBit", H1, "M", "import", "a", "done", NULL },
		{ 200, "qBit", H1, "M", "recheck", "b", "done", NULL },
		{ 300, "qBit-Seedbox", H1, "M", "delete", "c", "done", NULL },
		{ 150, "qBit", H1, "M", "pause", "d", "failed", "HTTP 500" },
		{ 400, "qBit", H2, "N", "delete", "e", "done", NULL },
		{ 250, "qBit", H1, "M", "resume", "f", "done", NULL },
	};
	static const struct {
		const char *instance, *hash;
		size_t	 limit;
		int	 want[6];	/* indexes into acts; -1 ends */
	} cases[] = {
		/* The last recorded, newest first by the clock. */
		{ "qBit", H1, 0, { 5, 1, 3, 0, -1 } },
		{ "qBit", H1, 2, { 5, 3, -1 } },
		{ "qBit", H1, 3, { 5, 1, 3, -1 } },
		{ "qBit-Seedbox", H1, 0, { 2, -1 } },
		{ "qBit", H2, 5, { 4, -1 } },
		{ "qbit", H1, 0, { -1 } },	/* exact names, exact hashes */
		{ "qBit", H3, 0, { -1 } },
	};
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);

	(void)state;
	for (size_t i = 0; i < NELEM(acts); i++)
		assert_int_equal(state_add_action(st, &acts[i]), 0);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct state_history_entry *h = NULL;
		size_t n = 99, nw = 0;

		print_message("# %s %.8s limit %zu\n", cases[c].instance, cases[c].hash,
		    cases[c].limit);
		assert_int_equal(state_torrent_history(st, cases[c].instance, cases[c].hash,
		    cases[c].limit, &h, &n), 0);
		while (cases[c].want[nw] != -1)
			nw++;
		assert_int_equal(n, nw);
		for (size_t i = 0; i < n; i++) {
			const struct state_action *a = &acts[cases[c].want[i]];
			assert_int_equal(h[i].time, a->time);
			assert_string_equal(h[i].instance, a->instance);
			assert_string_equal(h[i].reason, a->reason);
			assert_str_or_null(h[i].error, a->error);
		}
		state_history_free(h, n);
	}
	state_close(st);
	free(path);
}

/* ---- instances ---------------------------------------------------------- */

static void
test_instances(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_instance ok = { (char *)(uintptr_t)"qBit",
	    (char *)(uintptr_t)"http://127.0.0.1:18081", (char *)(uintptr_t)"v4.5.2",
	    (char *)(uintptr_t)"2.8.19", 1000, 1000, NULL, 83499315200LL };
	struct state_instance failed = { (char *)(uintptr_t)"qBit",
	    (char *)(uintptr_t)"http://127.0.0.1:18082", NULL, NULL, 2000, 0,
	    (char *)(uintptr_t)"auth/login: login refused: wrong UserName or Password", -1 };
	struct state_instance other = { (char *)(uintptr_t)"qBit-Seedbox",
	    (char *)(uintptr_t)"https://seedbox.example.com/qbittorrent",
	    (char *)(uintptr_t)"v5.0.0", (char *)(uintptr_t)"2.11.2", 1500, 1500, NULL, -1 };
	struct state_instance again = ok;
	struct state_instance *v = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(state_load_instances(st, &v, &n), 0);
	assert_int_equal(n, 0);
	state_instances_free(v, n);

	assert_int_equal(state_save_instance(st, &other), 0);
	assert_int_equal(state_save_instance(st, &ok), 0);
	assert_int_equal(state_load_instances(st, &v, &n), 0);
	assert_int_equal(n, 2);
	/* ordered by name */
	assert_string_equal(v[0].name, "qBit");
	assert_string_equal(v[0].url, "http://127.0.0.1:18081");
	assert_string_equal(v[0].version, "v4.5.2");
	assert_string_equal(v[0].api_version, "2.8.19");
	assert_int_equal(v[0].last_sweep, 1000);
	assert_int_equal(v[0].last_success, 1000);
	assert_null(v[0].last_error);
	assert_int_equal(v[0].free_space, 83499315200LL);
	assert_string_equal(v[1].name, "qBit-Seedbox");
	assert_string_equal(v[1].version, "v5.0.0");
	assert_int_equal(v[1].free_space, -1);	/* unknown stays unknown */
	state_instances_free(v, n);

	/* A failed sweep: last version, success time and free space are kept. */
	assert_int_equal(state_save_instance(st, &failed), 0);
	assert_int_equal(state_load_instances(st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "qBit");
	assert_string_equal(v[0].url, "http://127.0.0.1:18082");
	assert_string_equal(v[0].version, "v4.5.2");
	assert_string_equal(v[0].api_version, "2.8.19");
	assert_int_equal(v[0].last_sweep, 2000);
	assert_int_equal(v[0].last_success, 1000);
	assert_string_equal(v[0].last_error, failed.last_error);
	assert_int_equal(v[0].free_space, 83499315200LL);
	state_instances_free(v, n);

	/* Success again clears the error. */
	again.last_sweep = again.last_success = 3000;
	again.version = (char *)(uintptr_t)"v4.6.7";
	again.free_space = 0;
	assert_int_equal(state_save_instance(st, &again), 0);
	state_close(st);
	st = open_rw(path);
	assert_int_equal(state_load_instances(st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].version, "v4.6.7");
	assert_int_equal(v[0].last_success, 3000);
	assert_null(v[0].last_error);
	assert_int_equal(v[0].free_space, 0);
	state_instances_free(v, n);
	state_close(st);
	free(path);
}

/* ---- read-only mode ---------------------------------------------------- */

static void
test_readonly_missing(void **state)
{
	char *dir = tmp_path(".d"), *path, *msgs;
	struct state *st = NULL;
	struct state_rows rows;
	struct state_instance *v = NULL;
	struct state_history_entry *h = NULL;
	struct state_row r;
	struct state_action a = { 1, "qBit", H1, "n", "pause", "r", "done", NULL };
	size_t n = 99;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/qbitrr.db", dir);
	assert_int_equal(open_capture(path, true, &st, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
	assert_non_null(st);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 0);
	state_rows_free(&rows);
	assert_int_equal(state_load_instances(st, &v, &n), 0);
	assert_int_equal(n, 0);
	state_instances_free(v, n);
	n = 99;
	assert_int_equal(state_history(st, 0, NULL, NULL, 0, &h, &n), 0);
	assert_int_equal(n, 0);
	state_history_free(h, n);

	/* Writes are refused loudly, never performed. */
	fill_row(&r, "qBit", H1, 0);
	{
		struct capture c;
		char *out;

		capture_start(&c, 2);
		assert_int_equal(state_begin(st), -1);
		assert_int_equal(state_save_row(st, &r), -1);
		assert_int_equal(state_add_action(st, &a), -1);
		assert_int_equal(state_commit(st), -1);
		state_rollback(st);
		out = capture_end(&c);
		assert_contains(out, path);
		assert_contains(out, "read-only");
		free(out);
	}
	state_row_clear(&r);
	state_close(st);
	assert_false(exists(path));
	assert_int_equal(count_entries(dir), 0);
	free(path);
	free(dir);
}

/* A read-only open of an existing file reads it and writes nothing. */
static void
test_readonly_existing(void **state)
{
	char *path = tmp_path(".db"), *msgs;
	struct state *st = open_rw(path);
	struct state_row r;
	struct state_rows rows;
	struct bytes before;

	(void)state;
	fill_row(&r, "qBit", H1, 0);
	assert_int_equal(state_save_row(st, &r), 0);
	state_close(st);
	before = file_bytes(path);

	assert_int_equal(open_capture(path, true, &st, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_row_equal(&rows.items[0], &r);
	state_rows_free(&rows);
	{
		struct capture c;
		char *out;

		capture_start(&c, 2);
		assert_int_equal(state_save_row(st, &r), -1);
		out = capture_end(&c);
		assert_contains(out, path);
		free(out);
	}
	state_close(st);
	assert_file_is(path, &before);
	free(before.data);
	state_row_clear(&r);
	free(path);
}

/* ---- migration from the single-instance schema (v1) ------------------- */

static const struct {
	const char *hash, *category, *arr;
	int64_t	 first_seen, last_seen, import_sent_at, stalled_since;
	const char *import_result;
} v1_want[] = {		/* as loaded: sorted by hash, lower-cased */
	{ H2, "tv-sonarr", "Sonarr-TV", 1100, 2100, 0, 1900, NULL },
	{ H3, "lidarr", "Lidarr-Music", 1200, 2200, 0, 0, NULL },
	{ H1, "radarr", "Radarr-Movies", 1000, 2000, 1500, 0, "migrated" },
};

static void
check_v1_rows(struct state *st)
{
	struct state_rows rows;

	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, NELEM(v1_want));
	for (size_t i = 0; i < rows.n; i++) {
		const struct state_row *r = &rows.items[i];
		assert_string_equal(r->hash, v1_want[i].hash);
		assert_string_equal(r->instance, "qBit");
		assert_string_equal(r->category, v1_want[i].category);
		assert_string_equal(r->arr, v1_want[i].arr);
		assert_int_equal(r->first_seen, v1_want[i].first_seen);
		assert_int_equal(r->last_seen, v1_want[i].last_seen);
		assert_int_equal(r->import_sent_at, v1_want[i].import_sent_at);
		assert_int_equal(r->stalled_since, v1_want[i].stalled_since);
		assert_str_or_null(r->import_result, v1_want[i].import_result);
		assert_null(r->name);
		assert_int_equal(r->import_attempts, 0);
		assert_int_equal(r->gone_at, 0);
		assert_true(r->in_db);
	}
	/* found by the lower-cased hash */
	assert_non_null(state_rows_find(&rows, "qBit", H2));
	state_rows_free(&rows);
}

static char *
dump_v1(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	struct buf b;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash, category, arr, first_seen,"
	    " last_seen, imported_at, stalled_since FROM torrents ORDER BY hash", -1, &s,
	    NULL), SQLITE_OK);
	buf_init(&b);
	buf_puts(&b, "");
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < 7; i++) {
			const unsigned char *t = sqlite3_column_text(s, i);
			buf_printf(&b, "%s|", t ? (const char *)t : "NULL");
		}
		buf_puts(&b, "\n");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return b.data;
}

static void
test_migrate_v1(void **state)
{
	char *path = make_v1(), *bak = xasprintf("%s.v1.bak", path), *msgs, *orig, *copy,
	    *mode;
	struct state *st = NULL;
	struct bytes bak_bytes;

	(void)state;
	orig = dump_v1(path);
	/* A stale backup from an earlier attempt is replaced. */
	write_text(bak, "stale junk\n");

	assert_int_equal(open_capture(path, false, &st, &msgs), 0);
	assert_contains(msgs, path);
	assert_contains(msgs, "schema 1");
	assert_contains(msgs, bak);
	free(msgs);
	check_v1_rows(st);
	{
		struct state_instance *v;
		size_t n;
		assert_int_equal(state_load_instances(st, &v, &n), 0);
		assert_int_equal(n, 0);
		state_instances_free(v, n);
	}
	state_close(st);

	assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
	mode = sql_text(path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE"
	    " name='torrents_v1'"), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM torrents WHERE instance='qBit'"),
	    3);

	/* The backup is the untouched version 1 file. */
	assert_true(exists(bak));
	assert_int_equal(sql_int(bak, "PRAGMA user_version"), 1);
	copy = dump_v1(bak);
	assert_string_equal(copy, orig);
	free(copy);
	assert_int_equal(sql_int(bak, "SELECT count(*) FROM sqlite_master WHERE"
	    " type='table'"), 1);

	/* The next open is quiet and leaves the backup alone. */
	bak_bytes = file_bytes(bak);
	assert_int_equal(open_capture(path, false, &st, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
	check_v1_rows(st);
	state_close(st);
	assert_file_is(bak, &bak_bytes);
	free(bak_bytes.data);
	free(orig);
	free(bak);
	free(path);
}

/* An empty v1 file is migrated (and backed up) too. */
static void
test_migrate_v1_empty(void **state)
{
	char *path = tmp_path(".db"), *bak = xasprintf("%s.v1.bak", path);
	struct state *st;
	struct state_rows rows;

	(void)state;
	sql_exec(path, v1_schema);
	st = open_rw(path);
	assert_int_equal(state_load(st, true, &rows), 0);
	assert_int_equal(rows.n, 0);
	state_rows_free(&rows);
	state_close(st);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
	assert_int_equal(sql_int(bak, "PRAGMA user_version"), 1);
	free(bak);
	free(path);
}

/* A migration that cannot complete rolls back: still version 1, rows kept. */
static void
test_migrate_v1_failure(void **state)
{
	char *path = tmp_path(".db"), *msgs, *orig, *now;
	struct state *st = NULL;

	(void)state;
	/* Two hashes that differ only in case collide once lower-cased. */
	sql_exec(path, v1_schema);
	sql_exec(path, "INSERT INTO torrents VALUES ('" H1 "', 'radarr', 'R', 1, 2, NULL, NULL);"
	    "INSERT INTO torrents VALUES ('FC329D74692A2BC1FB5F163A81AB437917A3D3CF',"
	    " 'radarr', 'R', 1, 2, NULL, NULL);");
	orig = dump_v1(path);
	assert_int_equal(open_capture(path, false, &st, &msgs), -1);
	assert_null(st);
	assert_contains(msgs, path);
	assert_contains(msgs, "migration from schema 1 failed");
	free(msgs);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 1);
	now = dump_v1(path);
	assert_string_equal(now, orig);
	free(now);
	free(orig);
	free(path);
}

/* Read-only (dry run, status) reads a v1 file as it is, without migrating. */
static void
test_readonly_v1(void **state)
{
	char *path = make_v1(), *bak = xasprintf("%s.v1.bak", path), *dir, *msgs;
	struct state *st = NULL;
	struct bytes before = file_bytes(path);
	int entries;

	(void)state;
	dir = xstrdup(tmpdir);
	entries = count_entries(dir);
	assert_int_equal(open_capture(path, true, &st, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
	check_v1_rows(st);
	{
		struct state_history_entry *h;
		struct state_instance *v;
		size_t n;
		assert_int_equal(state_history(st, 0, NULL, NULL, 0, &h, &n), 0);
		assert_int_equal(n, 0);
		state_history_free(h, n);
		assert_int_equal(state_load_instances(st, &v, &n), 0);
		assert_int_equal(n, 0);
		state_instances_free(v, n);
	}
	state_close(st);
	assert_file_is(path, &before);
	assert_false(exists(bak));
	assert_int_equal(count_entries(dir), entries);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 1);
	free(before.data);
	free(dir);
	free(bak);
	free(path);
}

/* ---- files that are refused and left untouched ------------------------- */

struct refuse_case {
	const char *what;
	const char *needle;	/* in the message, besides the path */
};

static void
check_refused(const char *path, const char *needle)
{
	struct bytes before = file_bytes(path);
	char *bak = xasprintf("%s.v1.bak", path), *wal = xasprintf("%s-wal", path);

	for (int ro = 0; ro <= 1; ro++) {
		struct state *st = NULL;
		char *msgs;

		print_message("# %s, %s\n", path, ro ? "read-only" : "read-write");
		assert_int_equal(open_capture(path, ro, &st, &msgs), -1);
		assert_null(st);
		assert_contains(msgs, path);
		assert_contains(msgs, needle);
		free(msgs);
		assert_file_is(path, &before);
		assert_false(exists(bak));
		assert_false(exists(wal));
	}
	free(before.data);
	free(bak);
	free(wal);
}

static void
test_newer_schema_refused(void **state)
{
	char *path = tmp_path(".db");

	(void)state;
	sql_exec(path, "PRAGMA user_version = 99;"
	    "CREATE TABLE torrents (hash TEXT, instance TEXT, colour TEXT);"
	    "INSERT INTO torrents VALUES ('" H1 "', 'qBit', 'blue');");
	check_refused(path, "schema version 99 is newer");
	free(path);
}

static void
test_not_sqlite_refused(void **state)
{
	char *path = tmp_path(".db");

	(void)state;
	write_text(path, "hash,category\n" H1 ",radarr\n");
	check_refused(path, "not a readable SQLite database");
	free(path);

	/* Random bytes with the SQLite magic but a broken header. */
	path = tmp_path(".db");
	{
		FILE *fp = fopen(path, "wb");
		unsigned char junk[4096];
		assert_non_null(fp);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(i * 131 + 7);
		memcpy(junk, "SQLite format 3", 16);
		assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
		assert_int_equal(fclose(fp), 0);
	}
	check_refused(path, "not a readable SQLite database");
	free(path);
}

/* Damaged pages: found by the check on open, file never rewritten. */
static void
test_corrupt_refused(void **state)
{
	char *path = tmp_path(".db");
	struct state *st = open_rw(path);
	struct state_row r;

	(void)state;
	assert_int_equal(state_begin(st), 0);
	for (int i = 0; i < 300; i++) {
		char h[41];
		snprintf(h, sizeof(h), "%040x", i * 2654435761u);
		fill_row(&r, "qBit", h, i);
		assert_int_equal(state_save_row(st, &r), 0);
		state_row_clear(&r);
	}
	assert_int_equal(state_commit(st), 0);
	state_close(st);
	sql_exec(path, "PRAGMA journal_mode=DELETE");
	{
		int fd = open(path, O_WRONLY);
		unsigned char junk[4096];
		struct stat sb;

		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &sb), 0);
		assert_true(sb.st_size > 8 * 4096);
		memset(junk, 0xa5, sizeof(junk));
		/* pages 3 to 6 */
		for (off_t off = 2 * 4096; off < 6 * 4096; off += 4096)
			assert_int_equal(pwrite(fd, junk, sizeof(junk), off), (ssize_t)sizeof(junk));
		close(fd);
	}
	check_refused(path, "corrupt");
	free(path);
}

/* A SQLite file of some other program. */
static void
test_foreign_refused(void **state)
{
	char *path = tmp_path(".db");

	(void)state;
	sql_exec(path, "CREATE TABLE torrents (id INTEGER PRIMARY KEY, magnet TEXT);"
	    "INSERT INTO torrents (magnet) VALUES ('magnet:?xt=urn:btih:" H1 "');");
	check_refused(path, "no schema version");
	free(path);

	path = tmp_path(".db");
	sql_exec(path, "PRAGMA user_version = 1; CREATE TABLE other (x);");
	check_refused(path, "without a torrents table");
	free(path);
}

static void
test_not_regular_refused(void **state)
{
	char *dir = tmp_path(".d"), *msgs, *path;
	struct state *st = NULL;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	for (int ro = 0; ro <= 1; ro++) {
		assert_int_equal(open_capture(dir, ro, &st, &msgs), -1);
		assert_null(st);
		assert_contains(msgs, dir);
		assert_contains(msgs, "not a regular file");
		free(msgs);
	}
	/* A folder that does not exist: cannot be created. */
	path = xasprintf("%s/missing/qbitrr.db", dir);
	assert_int_equal(open_capture(path, false, &st, &msgs), -1);
	assert_null(st);
	assert_contains(msgs, path);
	free(msgs);
	assert_int_equal(count_entries(dir), 0);
	free(path);
	free(dir);
}

/* ---- the run lock -------------------------------------------------------- */

static void
test_lock(void **state)
{
	char *path = tmp_path(".db"), *lock = xasprintf("%s.lock", path), *pid, *msgs;
	struct bytes b;
	struct capture c;
	int fd, fd2;

	(void)state;
	fd = state_lock(path);
	assert_true(fd >= 0);
	pid = xasprintf("%ld\n", (long)getpid());
	b = file_bytes(lock);
	assert_string_equal(b.data, pid);
	free(b.data);

	/*
	 * flock locks belong to the open file description: a second open() of
	 * the same file conflicts even inside this process (Linux).
	 */
	{
		int probe = open(lock, O_RDWR);
		assert_true(probe >= 0);
		assert_int_equal(flock(probe, LOCK_EX | LOCK_NB), -1);
		assert_int_equal(errno, EWOULDBLOCK);
		close(probe);
	}
	capture_start(&c, 2);
	fd2 = state_lock(path);
	msgs = capture_end(&c);
	assert_int_equal(fd2, -2);
	assert_contains(msgs, lock);
	assert_contains(msgs, "another qbitrr-sweep run holds the lock");
	{
		char *want = xasprintf("pid %ld", (long)getpid());
		assert_contains(msgs, want);
		free(want);
	}
	free(msgs);
	/* The loser did not overwrite the holder's pid. */
	b = file_bytes(lock);
	assert_string_equal(b.data, pid);
	free(b.data);

	/* Released with the descriptor (as on process death): next run gets it. */
	close(fd);
	fd = state_lock(path);
	assert_true(fd >= 0);
	b = file_bytes(lock);
	assert_string_equal(b.data, pid);
	free(b.data);
	close(fd);

	/* No folder for the lock: -1, and the message names it. */
	{
		char *bad = xasprintf("%s/missing/qbitrr.db", tmpdir);
		capture_start(&c, 2);
		assert_int_equal(state_lock(bad), -1);
		msgs = capture_end(&c);
		assert_contains(msgs, bad);
		assert_contains(msgs, "cannot open lock file");
		free(msgs);
		free(bad);
	}
	free(pid);
	free(lock);
	free(path);
}

/* A lock file left with garbage by a killed run does not block. */
static void
test_lock_stale(void **state)
{
	char *path = tmp_path(".db"), *lock = xasprintf("%s.lock", path), *pid;
	struct bytes b;
	int fd;

	(void)state;
	write_text(lock, "999999999999 stale and much longer than a pid\n");
	fd = state_lock(path);
	assert_true(fd >= 0);
	pid = xasprintf("%ld\n", (long)getpid());
	b = file_bytes(lock);
	assert_string_equal(b.data, pid);
	free(b.data);
	close(fd);
	free(pid);
	free(lock);
	free(path);
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_NOTICE);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_new),
		cmocka_unit_test(test_rows_roundtrip),
		cmocka_unit_test(test_rows_gone_on_demand),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_two_instances),
		cmocka_unit_test(test_touch),
		cmocka_unit_test(test_row_same),
		cmocka_unit_test(test_rows_sort_find),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_torrent_history),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_readonly_missing),
		cmocka_unit_test(test_readonly_existing),
		cmocka_unit_test(test_migrate_v1),
		cmocka_unit_test(test_migrate_v1_empty),
		cmocka_unit_test(test_migrate_v1_failure),
		cmocka_unit_test(test_readonly_v1),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_not_sqlite_refused),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_foreign_refused),
		cmocka_unit_test(test_not_regular_refused),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_lock_stale),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
