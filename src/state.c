/* state: SQLite state file, schema migrations, run lock (see state.h). */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "file.h"
#include "log.h"
#include "state.h"
#include "util.h"

struct state {
	sqlite3	*db;		/* NULL: read-only view of a missing file */
	char	*path;
	bool	 readonly;
	int	 version;	/* schema version found on disk */
	int64_t	 written;
	bool	 checked;	/* quick_check passed: recorded by state_run_start */
	sqlite3_stmt *upsert, *action, *action_update, *action_last, *history,
		     *history_hash, *history_torrent, *gone_row;
};

/* PRAGMA quick_check reads the whole file: on a sweep's open, once a week. */
#define INTEGRITY_CHECK_SECONDS (7 * 86400)

static const char schema_v2[] =
    "CREATE TABLE IF NOT EXISTS torrents ("
    " hash TEXT NOT NULL, instance TEXT NOT NULL, name TEXT, category TEXT,"
    " prev_category TEXT, arr TEXT, state TEXT, progress REAL, ratio REAL,"
    " first_seen INTEGER, last_seen INTEGER, gone_at INTEGER,"
    " stalled_since INTEGER, seeding_since INTEGER, import_sent_at INTEGER,"
    " import_command_id INTEGER, import_attempts INTEGER NOT NULL DEFAULT 0,"
    " import_next_try INTEGER, import_result TEXT, recheck_sent_at INTEGER,"
    " files_checked_at INTEGER, space_paused_at INTEGER,"
    " research_stalled_at INTEGER, error_reported_at INTEGER,"
    " UNIQUE(hash, instance));"
    "CREATE TABLE IF NOT EXISTS actions ("
    " id INTEGER PRIMARY KEY, time INTEGER NOT NULL, instance TEXT NOT NULL,"
    " hash TEXT, name TEXT, action TEXT NOT NULL, reason TEXT,"
    " result TEXT NOT NULL, error TEXT);"
    "CREATE INDEX IF NOT EXISTS actions_time ON actions(time);"
    "DROP INDEX IF EXISTS actions_hash;"
    "CREATE INDEX IF NOT EXISTS actions_key ON actions(hash, instance, id);"
    "CREATE TABLE IF NOT EXISTS owed_searches ("
    " instance TEXT NOT NULL, hash TEXT NOT NULL, name TEXT, arr TEXT NOT NULL,"
    " media_ids TEXT NOT NULL, since INTEGER NOT NULL,"
    " PRIMARY KEY(instance, hash, arr));"
    "CREATE TABLE IF NOT EXISTS instances ("
    " name TEXT PRIMARY KEY, url TEXT, version TEXT, api_version TEXT,"
    " last_sweep INTEGER, last_success INTEGER, last_error TEXT,"
    " free_space INTEGER);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);"
    "CREATE INDEX IF NOT EXISTS actions_intended ON actions(id)"
    " WHERE result = 'intended';"
    "CREATE INDEX IF NOT EXISTS torrents_gone ON torrents(gone_at)"
    " WHERE gone_at IS NOT NULL;";

static const char migrate_v1[] =
    "ALTER TABLE torrents RENAME TO torrents_v1;"
    "%s"
    "INSERT INTO torrents (hash, instance, category, arr, first_seen, last_seen,"
    " import_sent_at, import_result, stalled_since)"
    " SELECT lower(hash), 'qBit', category, arr, first_seen, last_seen,"
    " imported_at, CASE WHEN imported_at IS NOT NULL THEN 'migrated' END,"
    " stalled_since FROM torrents_v1;"
    "DROP TABLE torrents_v1;"
    "PRAGMA user_version = 2;";

#define ROW_COLUMNS \
    "hash, instance, name, category, prev_category, arr, state, progress, ratio," \
    " first_seen, last_seen, gone_at, stalled_since, seeding_since," \
    " import_sent_at, import_command_id, import_attempts, import_next_try," \
    " import_result, recheck_sent_at, files_checked_at, space_paused_at," \
    " research_stalled_at, error_reported_at"

/* ---- rows ------------------------------------------------------------ */

static int
row_cmp(const void *pa, const void *pb)
{
	const struct state_row *a = pa, *b = pb;
	int c = strcmp(a->instance, b->instance);

	return c != 0 ? c : strcmp(a->hash, b->hash);
}

void
state_rows_sort(struct state_rows *rows)
{
	if (rows->n > 1)
		qsort(rows->items, rows->n, sizeof(*rows->items), row_cmp);
}

struct state_row *
state_rows_find(const struct state_rows *rows, const char *instance, const char *hash)
{
	struct state_row key;

	memset(&key, 0, sizeof(key));
	snprintf(key.hash, sizeof(key.hash), "%s", hash);
	key.instance = (char *)(uintptr_t)instance;
	if (rows->n == 0)
		return NULL;
	return bsearch(&key, rows->items, rows->n, sizeof(*rows->items), row_cmp);
}

struct state_row *
state_rows_add(struct state_rows *rows)
{
	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 64;
		rows->items = xreallocarray(rows->items, rows->cap, sizeof(*rows->items));
	}
	memset(&rows->items[rows->n], 0, sizeof(rows->items[0]));
	return &rows->items[rows->n++];
}

/* ---- opening and migrations ------------------------------------------ */

static int
exec_sql(struct state *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
read_int(struct state *st, const char *sql, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
table_exists(struct state *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(st->db,
	    "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &s,
	    NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

/* What is wrong with the file, in words, for the 74 error. */
static void report_write_failure(struct state *st, const char *doing);

static void
report_unreadable(struct state *st, const char *what)
{
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_CANTOPEN;

	/* Only a file that is not (or no longer) a database is worth moving aside. */
	if (code == SQLITE_READONLY || code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
	    code == SQLITE_FULL || code == SQLITE_PERM) {
		report_write_failure(st, "open the state file");
		return;
	}
	if (access(st->path, R_OK) == -1) {
		log_error("%s: cannot read the state file: %s (give the user running "
		    "qbitrr-sweep read and write access to it and its folder; the "
		    "file was left untouched)", st->path, strerror(errno));
		return;
	}
	log_error("%s: %s: %s (refusing to use or overwrite it; move it aside "
	    "to start a new state file)", st->path, what,
	    st->db ? sqlite3_errmsg(st->db) : "cannot open");
}

/*
 * A write failed: say why in terms of the cause (permissions, a read-only
 * file system, a full disk) and that nothing was sent.  The file itself is
 * fine, so never advise moving it aside.
 */
static void
report_write_failure(struct state *st, const char *doing)
{
	char *dir = xstrdup(st->path), *slash = strrchr(dir, '/');
	struct statvfs vfs;
	struct stat sb;
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_CANTOPEN;
	const char *sqlmsg = st->db ? sqlite3_errmsg(st->db) : "cannot open";

	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		log_error("%s: cannot %s: the file system holding it is mounted "
		    "read-only; nothing was sent to any server (keep the file: it "
		    "is intact)", st->path, doing);
	else if (code == SQLITE_FULL || (statvfs(dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 1024 * 1024))
		log_error("%s: cannot %s: no space left on the device holding it "
		    "(%llu KiB free); nothing was sent to any server: free some space "
		    "(keep the file: it is intact)", st->path, doing,
		    statvfs(dir, &vfs) == 0 ?
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize / 1024 : 0ULL);
	else if (access(st->path, W_OK) == -1 && errno != ENOENT)
		log_error("%s: cannot %s: the state file is not writable (%s%s); "
		    "nothing was sent to any server: give the user running "
		    "qbitrr-sweep write access to it (keep the file: it is intact)",
		    st->path, doing, strerror(errno),
		    stat(st->path, &sb) == 0 && (sb.st_mode & 0222) == 0 ?
		    ", mode has no write bit" : "");
	else if (access(dir, W_OK | X_OK) == -1)
		log_error("%s: cannot %s: its folder %s is not writable (%s); SQLite "
		    "keeps its journal beside the file; nothing was sent to any "
		    "server (keep the file: it is intact)", st->path, doing, dir,
		    strerror(errno));
	else
		log_error("%s: cannot %s: %s; nothing was sent to any server",
		    st->path, doing, sqlmsg);
	free(dir);
}

static int
meta_get(struct state *st, const char *key, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	*out = 0;
	if (st->db == NULL || !table_exists(st, "meta"))
		return -1;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

static bool
integrity_check_due(struct state *st)
{
	int64_t last, now = now_seconds();

	return meta_get(st, "checked_at", &last) == -1 || last > now ||
	    now - last >= INTEGRITY_CHECK_SECONDS;
}

static int
check_file(struct state *st)
{
	char *msg = NULL;
	sqlite3_stmt *s = NULL;
	int ok = 0;

	if (read_int(st, "PRAGMA user_version", &st->version) == -1) {
		report_unreadable(st, "not a readable SQLite database");
		return -1;
	}
	/*
	 * Every open reads the schema (a damaged header or schema fails here);
	 * the full quick_check reads every page: it runs when no sweep has
	 * recorded one in the last week.
	 */
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s,
	    NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		ok = 1;
	sqlite3_finalize(s);
	s = NULL;
	if (ok && integrity_check_due(st)) {
		ok = 0;
		if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW) {
				const char *r = (const char *)sqlite3_column_text(s, 0);
				ok = r != NULL && strcmp(r, "ok") == 0;
				if (!ok)
					msg = xstrdup(r ? r : "?");
			}
			sqlite3_finalize(s);
		}
		st->checked = ok;
	}
	if (!ok) {
		log_error("%s: database is corrupt (%s); refusing to use or "
		    "overwrite it", st->path, msg ? msg : sqlite3_errmsg(st->db));
		free(msg);
		return -1;
	}
	if (st->version > STATE_SCHEMA_VERSION) {
		log_error("%s: schema version %d is newer than this qbitrr-sweep "
		    "understands (%d); upgrade qbitrr-sweep, the file was left untouched",
		    st->path, st->version, STATE_SCHEMA_VERSION);
		return -1;
	}
	if (st->version == 0 && table_exists(st, "torrents")) {
		log_error("%s: has a torrents table but no schema version; "
		    "not a qbitrr-sweep state file, left untouched", st->path);
		return -1;
	}
	if (st->version == 1 && !table_exists(st, "torrents")) {
		log_error("%s: schema version 1 without a torrents table; left untouched",
		    st->path);
		return -1;
	}
	return 0;
}

/*
 * The backup is a copy of the version 1 file written by us, not by
 * VACUUM INTO, so it goes through write_file_atomic: a temporary file made
 * with O_EXCL and renamed, never a path someone else may have planted.
 */
static int
backup_v1(struct state *st)
{
	char *bak = xasprintf("%s.v1.bak", st->path);
	sqlite3_int64 size = 0;
	unsigned char *copy;
	int rc = -1;

	copy = sqlite3_serialize(st->db, "main", &size, 0);
	if (copy == NULL) {
		log_error("%s: cannot copy the file for the backup %s before migrating: %s",
		    st->path, bak, sqlite3_errmsg(st->db));
		goto out;
	}
	if (write_file_atomic(bak, (const char *)copy, (size_t)size) == -1) {
		log_error("%s: cannot write backup %s before migrating", st->path, bak);
		goto out;
	}
	rc = 0;
out:
	sqlite3_free(copy);
	free(bak);
	return rc;
}

static int
migrate(struct state *st)
{
	char *sql;

	if (st->version == STATE_SCHEMA_VERSION)
		return exec_sql(st, schema_v2);	/* no-op unless a table is missing */
	/* A version 1 file was backed up by state_open before any write. */
	if (exec_sql(st, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (st->version == 0) {
		sql = xasprintf("%sPRAGMA user_version = 2;", schema_v2);
	} else {
		sql = xasprintf(migrate_v1, schema_v2);
		log_notice("%s: migrating the single-instance state file (schema 1) "
		    "to schema 2; backup in %s.v1.bak", st->path, st->path);
	}
	if (exec_sql(st, sql) == -1) {
		free(sql);
		exec_sql(st, "ROLLBACK");
		log_error("%s: migration from schema %d failed; the file is unchanged",
		    st->path, st->version);
		return -1;
	}
	free(sql);
	if (exec_sql(st, "COMMIT") == -1)
		return -1;
	st->version = STATE_SCHEMA_VERSION;
	return 0;
}

/* SQLite makes path-wal, path-shm and path-journal by name: none may be a link. */
static int
companions_are_links(const char *path)
{
	static const char *const suffix[] = { "-wal", "-shm", "-journal" };
	struct stat sb;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		if (lstat(p, &sb) == 0 && S_ISLNK(sb.st_mode)) {
			log_error("%s: is a symbolic link; refusing to use the state file", p);
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

/* Reads of a big file (the status page, explain) map it instead of pread. */
static void
tune_reads(struct state *st)
{
	sqlite3_exec(st->db, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384",
	    NULL, NULL, NULL);
}

/*
 * Reading a WAL-mode file needs its -shm companion, which SQLite cannot
 * create in a read-only folder.  With no -wal file there is nothing beyond
 * the main file to read: open it as immutable then.
 */
static int
readonly_fallback(struct state *st)
{
	sqlite3_stmt *s = NULL;
	int rc, code;
	char *wal;
	struct stat sb;
	struct buf uri;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    (rc = sqlite3_step(s)) == SQLITE_ROW) {
		sqlite3_finalize(s);
		return 0;
	}
	sqlite3_finalize(s);
	code = sqlite3_errcode(st->db);
	if (code != SQLITE_CANTOPEN && code != SQLITE_READONLY && code != SQLITE_IOERR)
		return 0;	/* check_file reports it */
	wal = xasprintf("%s-wal", st->path);
	rc = lstat(wal, &sb) == 0 && sb.st_size > 0;
	free(wal);
	if (rc)
		return 0;
	buf_init(&uri);
	buf_puts(&uri, "file:");
	for (const char *p = st->path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("/-._~", c) != NULL)
			buf_append(&uri, p, 1);
		else
			buf_printf(&uri, "%%%02X", c);
	}
	buf_puts(&uri, "?mode=ro&immutable=1");
	sqlite3_close(st->db);
	st->db = NULL;
	if (sqlite3_open_v2(uri.data, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("%s: cannot open state file: %s", st->path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		buf_free(&uri);
		return -1;
	}
	log_debug("%s: read-only folder: reading the state file as immutable", st->path);
	buf_free(&uri);
	return 0;
}

int
state_open(const char *path, bool readonly, struct state **out)
{
	struct state *st = xcalloc(1, sizeof(*st));
	struct stat sb, now;
	int flags, fd = -1;

	*out = NULL;
	st->path = xstrdup(path);
	st->readonly = readonly;
	/*
	 * Open (or create) the file ourselves without following a link, so a
	 * link planted in a shared folder is refused, then check that SQLite
	 * opened that same file and that its companions are not links either.
	 */
	if (!readonly && access(path, W_OK) == -1 && (errno == EACCES || errno == EROFS)) {
		report_write_failure(st, "open the state file for writing");
		goto fail;
	}
	fd = open_nofollow(path, readonly ? O_RDONLY : O_RDWR | O_CREAT, 0644,
	    "state file");
	if (fd == -1) {
		if (errno == ENOENT && readonly) {
			st->version = STATE_SCHEMA_VERSION;
			*out = st;
			return 0;
		}
		goto fail;
	}
	if (fstat(fd, &sb) == -1 || companions_are_links(path) == -1)
		goto fail;
	flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("%s: cannot open state file: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (readonly && readonly_fallback(st) == -1)
		goto fail;
	tune_reads(st);
	if (check_file(st) == -1)
		goto fail;
	if (lstat(path, &now) == -1 || now.st_dev != sb.st_dev || now.st_ino != sb.st_ino) {
		log_error("%s: the state file was replaced while being opened; "
		    "refusing to use it", path);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (!readonly) {
		/* Back up before anything, even the WAL switch, touches the file. */
		if (st->version == 1 && backup_v1(st) == -1)
			goto fail;
		/* Migrate before the WAL switch: a failed migration leaves the file as it was. */
		if (migrate(st) == -1 || exec_sql(st, "PRAGMA journal_mode=WAL") == -1 ||
		    exec_sql(st, "PRAGMA synchronous=FULL") == -1) {
			report_write_failure(st, "prepare the state file");
			goto fail;
		}
	}
	*out = st;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	state_close(st);
	return -1;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->upsert);
	sqlite3_finalize(st->action);
	sqlite3_finalize(st->action_update);
	sqlite3_finalize(st->action_last);
	sqlite3_finalize(st->history);
	sqlite3_finalize(st->history_hash);
	sqlite3_finalize(st->history_torrent);
	sqlite3_finalize(st->gone_row);
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* ---- reading --------------------------------------------------------- */

static char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/*
 * A row not marked gone was listed by every successful sweep of its
 * instance (a sweep marks what it no longer finds), so its last sighting
 * is that instance's last success: a sweep that changes nothing needs no
 * write per torrent.
 */
static void
derive_last_seen(struct state *st, struct state_rows *rows)
{
	struct state_instance *v = NULL;
	size_t n = 0;

	if (state_load_instances(st, &v, &n) == -1 || n == 0) {
		state_instances_free(v, n);
		return;
	}
	for (size_t i = 0; i < rows->n; i++) {
		struct state_row *r = &rows->items[i];
		if (r->gone_at != 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (strcmp(v[k].name, r->instance) == 0 && v[k].last_success > r->last_seen)
				r->last_seen = v[k].last_success;
	}
	state_instances_free(v, n);
}

/* One row of a "SELECT ROW_COLUMNS" statement into r (hash already checked). */
static void
read_row(sqlite3_stmt *s, struct state_row *r)
{
	memcpy(r->hash, sqlite3_column_text(s, 0), 41);
	r->instance = col_text(s, 1);
	if (r->instance == NULL)
		r->instance = xstrdup("qBit");
	r->name = col_text(s, 2);
	r->category = col_text(s, 3);
	r->prev_category = col_text(s, 4);
	r->arr = col_text(s, 5);
	r->state = col_text(s, 6);
	r->progress = sqlite3_column_double(s, 7);
	r->ratio = sqlite3_column_double(s, 8);
	r->first_seen = sqlite3_column_int64(s, 9);
	r->last_seen = sqlite3_column_int64(s, 10);
	r->gone_at = sqlite3_column_int64(s, 11);
	r->stalled_since = sqlite3_column_int64(s, 12);
	r->seeding_since = sqlite3_column_int64(s, 13);
	r->import_sent_at = sqlite3_column_int64(s, 14);
	r->import_command_id = sqlite3_column_int64(s, 15);
	r->import_attempts = sqlite3_column_int(s, 16);
	r->import_next_try = sqlite3_column_int64(s, 17);
	r->import_result = col_text(s, 18);
	r->recheck_sent_at = sqlite3_column_int64(s, 19);
	r->files_checked_at = sqlite3_column_int64(s, 20);
	r->space_paused_at = sqlite3_column_int64(s, 21);
	r->research_stalled_at = sqlite3_column_int64(s, 22);
	r->error_reported_at = sqlite3_column_int64(s, 23);
	r->in_db = true;
}

static bool
valid_hash_column(sqlite3_stmt *s)
{
	const unsigned char *h = sqlite3_column_text(s, 0);

	return h != NULL && strlen((const char *)h) == 40;
}

int
state_load(struct state *st, bool with_gone, struct state_rows *out)
{
	sqlite3_stmt *s = NULL;
	char *sql;
	int rc;

	memset(out, 0, sizeof(*out));
	if (st->db == NULL)
		return 0;
	if (st->version == 1)	/* read-only view of an unmigrated file: nothing gone */
		sql = xstrdup("SELECT lower(hash), 'qBit', NULL, category, NULL, arr,"
		    " NULL, NULL, NULL, first_seen, last_seen, NULL, stalled_since,"
		    " NULL, imported_at, NULL, 0, NULL,"
		    " CASE WHEN imported_at IS NOT NULL THEN 'migrated' END,"
		    " NULL, NULL, NULL, NULL, NULL FROM torrents");
	else
		sql = xasprintf("SELECT %s FROM torrents%s", ROW_COLUMNS,
		    with_gone ? "" : " WHERE gone_at IS NULL");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		free(sql);
		return -1;
	}
	free(sql);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (valid_hash_column(s))
			read_row(s, state_rows_add(out));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		state_rows_free(out);
		return -1;
	}
	derive_last_seen(st, out);
	state_rows_sort(out);
	return 0;
}

/* ---- writing --------------------------------------------------------- */

static int
writable(struct state *st)
{
	if (st->readonly || st->db == NULL) {
		log_error("%s: internal error: write to a read-only state file", st->path);
		return 0;
	}
	return 1;
}

int
state_begin(struct state *st)
{
	return writable(st) ? exec_sql(st, "BEGIN IMMEDIATE") : -1;
}

int
state_commit(struct state *st)
{
	return writable(st) ? exec_sql(st, "COMMIT") : -1;
}

void
state_rollback(struct state *st)
{
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		exec_sql(st, "ROLLBACK");
}

static void
bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int
step_done(struct state *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	st->written += sqlite3_changes(st->db);
	return 0;
}

static sqlite3_stmt *
prepare_once(struct state *st, sqlite3_stmt **slot, const char *sql)
{
	if (*slot == NULL && sqlite3_prepare_v3(st->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		*slot = NULL;
	}
	return *slot;
}

int
state_load_gone(struct state *st, const char *instance, const char *const *hashes,
    size_t n, struct state_rows *out)
{
	sqlite3_stmt *s;
	bool own_txn;
	int rc = SQLITE_DONE, found = 0;

	if (n == 0 || st->db == NULL || st->version < 2)
		return 0;
	s = prepare_once(st, &st->gone_row, "SELECT " ROW_COLUMNS " FROM torrents"
	    " WHERE hash = ?1 AND instance = ?2 AND gone_at IS NOT NULL");
	if (s == NULL)
		return -1;
	/* One read transaction: a lock and an unlock for all, not for each. */
	own_txn = sqlite3_get_autocommit(st->db) && exec_sql(st, "BEGIN") == 0;
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		bind_str(s, 1, hashes[i]);
		bind_str(s, 2, instance);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			if (valid_hash_column(s)) {
				read_row(s, state_rows_add(out));
				found++;
			}
		sqlite3_reset(s);
	}
	sqlite3_clear_bindings(s);
	if (own_txn)
		exec_sql(st, "COMMIT");
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return found;
}

int
state_save_row(struct state *st, const struct state_row *r)
{
	sqlite3_stmt *s;
	char *sql;

	if (!writable(st))
		return -1;
	if (st->upsert == NULL) {
		sql = xasprintf("INSERT INTO torrents (%s) VALUES (?1,?2,?3,?4,?5,?6,"
		    "?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)"
		    " ON CONFLICT(hash, instance) DO UPDATE SET name=?3, category=?4,"
		    " prev_category=?5, arr=?6, state=?7, progress=?8, ratio=?9,"
		    " first_seen=?10, last_seen=?11, gone_at=?12, stalled_since=?13,"
		    " seeding_since=?14, import_sent_at=?15, import_command_id=?16,"
		    " import_attempts=?17, import_next_try=?18, import_result=?19,"
		    " recheck_sent_at=?20, files_checked_at=?21, space_paused_at=?22,"
		    " research_stalled_at=?23, error_reported_at=?24", ROW_COLUMNS);
		s = prepare_once(st, &st->upsert, sql);
		free(sql);
	}
	if ((s = st->upsert) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, r->hash, -1, SQLITE_TRANSIENT);
	bind_str(s, 2, r->instance);
	bind_str(s, 3, r->name);
	bind_str(s, 4, r->category);
	bind_str(s, 5, r->prev_category);
	bind_str(s, 6, r->arr);
	bind_str(s, 7, r->state);
	sqlite3_bind_double(s, 8, r->progress);
	sqlite3_bind_double(s, 9, r->ratio);
	bind_time(s, 10, r->first_seen);
	bind_time(s, 11, r->last_seen);
	bind_time(s, 12, r->gone_at);
	bind_time(s, 13, r->stalled_since);
	bind_time(s, 14, r->seeding_since);
	bind_time(s, 15, r->import_sent_at);
	bind_time(s, 16, r->import_command_id);
	sqlite3_bind_int(s, 17, r->import_attempts);
	bind_time(s, 18, r->import_next_try);
	bind_str(s, 19, r->import_result);
	bind_time(s, 20, r->recheck_sent_at);
	bind_time(s, 21, r->files_checked_at);
	bind_time(s, 22, r->space_paused_at);
	bind_time(s, 23, r->research_stalled_at);
	bind_time(s, 24, r->error_reported_at);
	return step_done(st, s);
}

int
state_settle_action(struct state *st, int64_t id, const struct state_action *a)
{
	sqlite3_stmt *s;

	if (!writable(st) || (s = prepare_once(st, &st->action_update,
	    "UPDATE actions SET reason = ?2, result = ?3, error = ?4"
	    " WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, a->reason);
	bind_str(s, 3, a->result);
	bind_str(s, 4, a->error);
	return step_done(st, s);
}

bool
state_action_repeats(struct state *st, const struct state_action *a, int64_t before)
{
	sqlite3_stmt *s;
	bool same = false;

	if (st->db == NULL || (s = prepare_once(st, &st->action_last,
	    "SELECT result, error FROM actions WHERE hash IS ?1 AND instance = ?2"
	    " AND action = ?3 AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT 1")) == NULL)
		return false;
	bind_str(s, 1, a->hash);
	bind_str(s, 2, a->instance);
	bind_str(s, 3, a->action);
	sqlite3_bind_int64(s, 4, before);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(s, 0);
		const char *e = (const char *)sqlite3_column_text(s, 1);
		same = str_same(r, a->result) && str_same(e, a->error);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return same;
}

int
state_drop_action(struct state *st, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!writable(st))
		return -1;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM actions WHERE id = ?", -1, &s,
	    NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = step_done(st, s);
	sqlite3_finalize(s);
	return rc;
}

int
state_add_action(struct state *st, const struct state_action *a)
{
	sqlite3_stmt *s;

	if (!writable(st) || (s = prepare_once(st, &st->action,
	    "INSERT INTO actions (time, instance, hash, name, action, reason,"
	    " result, error) VALUES (?,?,?,?,?,?,?,?)")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a->time);
	bind_str(s, 2, a->instance);
	bind_str(s, 3, a->hash);
	bind_str(s, 4, a->name);
	bind_str(s, 5, a->action);
	bind_str(s, 6, a->reason);
	bind_str(s, 7, a->result);
	bind_str(s, 8, a->error);
	return step_done(st, s);
}

int64_t
state_last_action_id(const struct state *st)
{
	return st->db ? sqlite3_last_insert_rowid(st->db) : 0;
}

int
state_meta_set(struct state *st, const char *key, int64_t value)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!writable(st))
		return -1;
	/* 0 removes the key (no write when it is not there). */
	if (sqlite3_prepare_v2(st->db, value == 0 ? "DELETE FROM meta WHERE key = ?1" :
	    "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", -1, &s,
	    NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	rc = step_done(st, s);
	sqlite3_finalize(s);
	return rc;
}

int
state_clock(struct state *st, int64_t *last, int64_t *pending)
{
	struct state_instance *v = NULL;
	size_t n = 0;

	*last = *pending = 0;
	if (meta_get(st, "clock_pending", pending) == -1)
		*pending = 0;
	/* The clock of the last sweep is its instances' last_sweep. */
	if (state_load_instances(st, &v, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i].last_sweep > *last)
			*last = v[i].last_sweep;
	state_instances_free(v, n);
	return 0;
}

static const char *const row_times[] = {
	"first_seen", "last_seen", "gone_at", "stalled_since", "seeding_since",
	"import_sent_at", "import_next_try", "recheck_sent_at", "files_checked_at",
	"space_paused_at", "research_stalled_at", "error_reported_at",
};

int
state_shift_clocks(struct state *st, int64_t delta)
{
	struct buf sql;
	int rc;

	if (!writable(st))
		return -1;
	buf_init(&sql);
	buf_puts(&sql, "BEGIN IMMEDIATE; UPDATE torrents SET ");
	for (size_t i = 0; i < sizeof(row_times) / sizeof(row_times[0]); i++)
		buf_printf(&sql, "%s%s = %s + %lld", i ? ", " : "", row_times[i], row_times[i],
		    (long long)delta);
	buf_printf(&sql, "; UPDATE instances SET last_sweep = last_sweep + %lld,"
	    " last_success = last_success + %lld;"
	    " UPDATE owed_searches SET since = since + %lld;"
	    " DELETE FROM meta WHERE key = 'clock_pending'; COMMIT;",
	    (long long)delta, (long long)delta, (long long)delta);
	rc = exec_sql(st, sql.data);
	if (rc == -1)
		state_rollback(st);
	buf_free(&sql);
	return rc;
}

void
state_rows_shift(struct state_rows *rows, int64_t delta)
{
	for (size_t i = 0; i < rows->n; i++) {
		struct state_row *r = &rows->items[i];
		int64_t *t[] = { &r->first_seen, &r->last_seen, &r->gone_at,
		    &r->stalled_since, &r->seeding_since, &r->import_sent_at,
		    &r->import_next_try, &r->recheck_sent_at, &r->files_checked_at,
		    &r->space_paused_at, &r->research_stalled_at, &r->error_reported_at };
		for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
			if (*t[k] != 0)
				*t[k] += delta;
	}
}

int
state_prune(struct state *st, int64_t gone_before, int64_t actions_before, int batch,
    int64_t *gone_removed, int64_t *actions_removed)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	*gone_removed = *actions_removed = 0;
	if (!writable(st))
		return -1;
	for (int k = 0; k < 2; k++) {
		int64_t before = k == 0 ? gone_before : actions_before;
		if (before <= 0)
			continue;
		if (sqlite3_prepare_v2(st->db, k == 0 ?
		    "DELETE FROM torrents WHERE rowid IN (SELECT rowid FROM torrents"
		    " WHERE gone_at IS NOT NULL AND gone_at < ?1 LIMIT ?2)" :
		    "DELETE FROM actions WHERE id IN (SELECT id FROM actions"
		    " WHERE time < ?1 LIMIT ?2)", -1, &s, NULL) != SQLITE_OK) {
			log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
			return -1;
		}
		sqlite3_bind_int64(s, 1, before);
		sqlite3_bind_int(s, 2, batch);
		rc = step_done(st, s);
		sqlite3_finalize(s);
		if (rc == -1)
			return -1;
		*(k == 0 ? gone_removed : actions_removed) = sqlite3_changes(st->db);
	}
	return 0;
}

void
state_vacuum_step(struct state *st, int pages)
{
	char *sql;

	if (st->db == NULL || st->readonly)
		return;
	/* Give the pages freed by retention back to the file system, a bit a run. */
	sql = xasprintf("PRAGMA incremental_vacuum(%d)", pages);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		log_debug("%s: incremental vacuum: %s", st->path, sqlite3_errmsg(st->db));
	free(sql);
}

/* A file without incremental vacuum is converted once (VACUUM rewrites it). */
static void
enable_incremental_vacuum(struct state *st)
{
	int mode = -1;

	if (read_int(st, "PRAGMA auto_vacuum", &mode) == -1 || mode == 2)
		return;
	if (sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM;", NULL, NULL,
	    NULL) != SQLITE_OK)
		log_warn("%s: cannot switch to incremental vacuum (needs free space about "
		    "the size of the file): %s; will try again next run", st->path,
		    sqlite3_errmsg(st->db));
	else
		log_info("%s: switched to incremental vacuum: space freed by retention "
		    "goes back to the file system", st->path);
}

int
state_run_start(struct state *st, int64_t now)
{
	char *msg = NULL, *sql;

	if (!writable(st))
		return -1;
	/*
	 * A real write before any server is touched: the start of this run,
	 * and the intents a killed run left open, which may have happened.
	 */
	sql = xasprintf("BEGIN IMMEDIATE;"
	    "INSERT OR REPLACE INTO meta (key, value) VALUES ('run_started', %lld);"
	    "INSERT OR REPLACE INTO meta (key, value) SELECT 'checked_at', %lld WHERE %d;"
	    "UPDATE actions SET result = 'interrupted', error = 'the run ended before "
	    "its answer: this may have happened on the server' WHERE result = 'intended';"
	    "COMMIT;", (long long)now, (long long)now, st->checked ? 1 : 0);
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		free(sql);
		report_write_failure(st, "record the start of the run");
		state_rollback(st);
		return -1;
	}
	free(sql);
	st->checked = false;
	st->written += sqlite3_changes(st->db);
	enable_incremental_vacuum(st);
	return 0;
}

int
state_save_instance(struct state *st, const struct state_instance *si)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!writable(st))
		return -1;
	/* last_success and version survive a failed sweep. */
	if (sqlite3_prepare_v2(st->db,
	    "INSERT INTO instances (name, url, version, api_version, last_sweep,"
	    " last_success, last_error, free_space) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"
	    " ON CONFLICT(name) DO UPDATE SET url=?2,"
	    " version=coalesce(?3, version), api_version=coalesce(?4, api_version),"
	    " last_sweep=?5, last_success=coalesce(?6, last_success),"
	    " last_error=?7, free_space=coalesce(?8, free_space)", -1, &s,
	    NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	bind_str(s, 1, si->name);
	bind_str(s, 2, si->url);
	bind_str(s, 3, si->version);
	bind_str(s, 4, si->api_version);
	bind_time(s, 5, si->last_sweep);
	bind_time(s, 6, si->last_success);
	bind_str(s, 7, si->last_error);
	if (si->free_space >= 0)
		sqlite3_bind_int64(s, 8, si->free_space);
	rc = step_done(st, s);
	sqlite3_finalize(s);
	return rc;
}

int
state_load_instances(struct state *st, struct state_instance **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (st->db == NULL || st->version < 2)
		return 0;
	if (sqlite3_prepare_v2(st->db, "SELECT name, url, version, api_version,"
	    " last_sweep, last_success, last_error, free_space FROM instances"
	    " ORDER BY name", -1, &s, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		struct state_instance *si = &(*out)[(*n)++];
		si->name = col_text(s, 0);
		si->url = col_text(s, 1);
		si->version = col_text(s, 2);
		si->api_version = col_text(s, 3);
		si->last_sweep = sqlite3_column_int64(s, 4);
		si->last_success = sqlite3_column_int64(s, 5);
		si->last_error = col_text(s, 6);
		si->free_space = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(s, 7);
	}
	sqlite3_finalize(s);
	return 0;
}

void
state_instances_free(struct state_instance *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].url);
		free(v[i].version);
		free(v[i].api_version);
		free(v[i].last_error);
	}
	free(v);
}

/* The rows of a history statement, appended to out; the statement is reset. */
static void
read_history(sqlite3_stmt *s, struct state_history_entry **out, size_t *n)
{
	size_t cap = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		struct state_history_entry *e = &(*out)[(*n)++];
		e->time = sqlite3_column_int64(s, 0);
		e->instance = col_text(s, 1);
		e->hash = col_text(s, 2);
		e->name = col_text(s, 3);
		e->action = col_text(s, 4);
		e->reason = col_text(s, 5);
		e->result = col_text(s, 6);
		e->error = col_text(s, 7);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
state_history(struct state *st, int64_t since, const char *instance,
    const char *hash_prefix, size_t limit, struct state_history_entry **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	char *prefix = NULL;

	*out = NULL;
	*n = 0;
	if (st->db == NULL || st->version < 2)
		return 0;
	/*
	 * Hashes are lower-case hex: a prefix p is the range [p, p || 'g') of
	 * the (hash, instance, id) index; the unary + keeps SQLite from walking
	 * the time index instead (for LIMIT 1 it would, reading the table
	 * until that hash comes up).  Without a prefix the time index serves.
	 */
	if (hash_prefix != NULL)
		s = prepare_once(st, &st->history_hash, "SELECT time, instance, hash, name,"
		    " action, reason, result, error FROM actions"
		    " WHERE hash >= ?3 AND hash < ?3 || 'g' AND +time >= ?1"
		    " AND (?2 IS NULL OR +instance = ?2)"
		    " ORDER BY +time DESC, id DESC LIMIT ?4");
	else
		s = prepare_once(st, &st->history, "SELECT time, instance, hash, name, action,"
		    " reason, result, error FROM actions WHERE time >= ?1"
		    " AND (?2 IS NULL OR instance = ?2) AND ?3 IS NULL"
		    " ORDER BY time DESC, id DESC LIMIT ?4");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, since);
	bind_str(s, 2, instance);
	if (hash_prefix != NULL)
		prefix = str_lower(xstrdup(hash_prefix));
	bind_str(s, 3, prefix);
	sqlite3_bind_int64(s, 4, limit ? (int64_t)limit : -1);
	read_history(s, out, n);
	free(prefix);
	return 0;
}

int
state_torrent_history(struct state *st, const char *instance, const char *hash,
    size_t limit, struct state_history_entry **out, size_t *n)
{
	sqlite3_stmt *s;

	*out = NULL;
	*n = 0;
	if (st->db == NULL || st->version < 2)
		return 0;
	/* An exact key walks the (hash, instance, id) index backwards: limit rows read. */
	s = prepare_once(st, &st->history_torrent, "SELECT time, instance, hash, name,"
	    " action, reason, result, error FROM actions WHERE hash = ?1"
	    " AND instance = ?2 ORDER BY id DESC LIMIT ?3");
	if (s == NULL)
		return -1;
	bind_str(s, 1, hash);
	bind_str(s, 2, instance);
	sqlite3_bind_int64(s, 3, limit ? (int64_t)limit : -1);
	read_history(s, out, n);
	/* Newest first by the clock, as history prints them (a clock moved back
	 * can disorder ids): an insertion sort, stable, of at most limit rows. */
	for (size_t i = 1; i < *n; i++) {
		struct state_history_entry e = (*out)[i];
		size_t k = i;
		for (; k > 0 && (*out)[k - 1].time < e.time; k--)
			(*out)[k] = (*out)[k - 1];
		(*out)[k] = e;
	}
	return 0;
}

static int
last_cmp(const void *pa, const void *pb)
{
	const struct state_history_entry *a = pa, *b = pb;
	int c = strcmp(a->instance, b->instance);

	return c != 0 ? c : strcmp(a->hash, b->hash);
}

int
state_last_actions(struct state *st, struct state_history_entry **out, size_t *n)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (st->db == NULL || st->version < 2)
		return 0;
	/* One pass over the (hash, instance, id) index, then one lookup per torrent. */
	if (sqlite3_prepare_v2(st->db, "SELECT time, instance, hash, action, result"
	    " FROM actions WHERE id IN (SELECT max(id) FROM actions"
	    " WHERE hash IS NOT NULL GROUP BY hash, instance)", -1, &s, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct state_history_entry *e;
		if (sqlite3_column_type(s, 1) == SQLITE_NULL ||
		    sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->time = sqlite3_column_int64(s, 0);
		e->instance = col_text(s, 1);
		e->hash = col_text(s, 2);
		e->action = col_text(s, 3);
		e->result = col_text(s, 4);
	}
	sqlite3_finalize(s);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), last_cmp);
	return 0;
}

const struct state_history_entry *
state_last_action_find(const struct state_history_entry *v, size_t n,
    const char *instance, const char *hash)
{
	struct state_history_entry key;

	memset(&key, 0, sizeof(key));
	key.instance = (char *)(uintptr_t)instance;
	key.hash = (char *)(uintptr_t)hash;
	return n ? bsearch(&key, v, n, sizeof(*v), last_cmp) : NULL;
}

void
state_history_free(struct state_history_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].instance);
		free(v[i].hash);
		free(v[i].name);
		free(v[i].action);
		free(v[i].reason);
		free(v[i].result);
		free(v[i].error);
	}
	free(v);
}

int64_t
state_rows_written(const struct state *st)
{
	return st->written;
}

int
state_lock(const char *state_path)
{
	char *path = xasprintf("%s.lock", state_path);
	char pid[32] = "";
	int fd = open_nofollow(path, O_RDWR | O_CREAT, 0644, "lock file");

	if (fd == -1) {
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;
		ssize_t r = pread(fd, pid, sizeof(pid) - 1, 0);
		if (r > 0) {
			pid[r] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
		}
		if (e == EWOULDBLOCK)
			log_error("%s: another qbitrr-sweep run holds the lock (pid %s); "
			    "exiting", path, pid[0] ? pid : "unknown");
		else
			log_error("%s: cannot lock: %s", path, strerror(e));
		close(fd);
		free(path);
		return e == EWOULDBLOCK ? -2 : -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, strlen(pid), 0) < 0)
		log_debug("%s: cannot record pid: %s", path, strerror(errno));
	free(path);
	return fd;
}

int
state_owe_search(struct state *st, const struct state_owed *o)
{
	sqlite3_stmt *s = NULL;
	struct buf ids;
	int rc;

	if (!writable(st))
		return -1;
	buf_init(&ids);
	buf_puts(&ids, "");
	for (size_t i = 0; i < o->n_media_ids; i++)
		buf_printf(&ids, "%s%lld", i ? "," : "", (long long)o->media_ids[i]);
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO owed_searches (instance,"
	    " hash, name, arr, media_ids, since) VALUES (?,?,?,?,?,?)", -1, &s,
	    NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		buf_free(&ids);
		return -1;
	}
	bind_str(s, 1, o->instance);
	bind_str(s, 2, o->hash);
	bind_str(s, 3, o->name);
	bind_str(s, 4, o->arr);
	bind_str(s, 5, ids.data);
	sqlite3_bind_int64(s, 6, o->since);
	rc = step_done(st, s);
	sqlite3_finalize(s);
	buf_free(&ids);
	return rc;
}

int
state_clear_owed(struct state *st, const char *instance, const char *hash, const char *arr)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!writable(st))
		return -1;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM owed_searches WHERE instance = ?"
	    " AND hash = ? AND arr = ?", -1, &s, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	bind_str(s, 1, instance);
	bind_str(s, 2, hash);
	bind_str(s, 3, arr);
	rc = step_done(st, s);
	sqlite3_finalize(s);
	return rc;
}

int
state_load_owed(struct state *st, struct state_owed **out, size_t *n)
{
	sqlite3_stmt *s = NULL;

	*out = NULL;
	*n = 0;
	if (st->db == NULL || st->version < 2 || !table_exists(st, "owed_searches"))
		return 0;
	if (sqlite3_prepare_v2(st->db, "SELECT instance, hash, name, arr, media_ids, since"
	    " FROM owed_searches ORDER BY since", -1, &s, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct state_owed *o;
		const char *ids = (const char *)sqlite3_column_text(s, 4);

		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		o = &(*out)[(*n)++];
		memset(o, 0, sizeof(*o));
		o->instance = col_text(s, 0);
		o->hash = col_text(s, 1);
		o->name = col_text(s, 2);
		o->arr = col_text(s, 3);
		o->since = sqlite3_column_int64(s, 5);
		for (const char *p = ids ? ids : ""; *p != '\0'; ) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			o->media_ids = xreallocarray(o->media_ids, o->n_media_ids + 1,
			    sizeof(int64_t));
			o->media_ids[o->n_media_ids++] = v;
			p = *end == ',' ? end + 1 : end;
		}
	}
	sqlite3_finalize(s);
	return 0;
}

void
state_owed_free(struct state_owed *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].instance);
		free(v[i].hash);
		free(v[i].name);
		free(v[i].arr);
		free(v[i].media_ids);
	}
	free(v);
}
