/*
 * state: the SQLite state file.
 *
 * Schema version 2 (PRAGMA user_version = 2):
 *   torrents  one row per (hash, instance): what was last seen and the clocks
 *             and flags rules keep across runs; rows of torrents that left a
 *             reachable instance are kept with gone_at set.
 *   actions   the audit log: every action decided and what came of it.
 *   instances the last sweep of each instance.
 *   owed_searches  re-searches due after a blocklist, until the Arr took them.
 *   meta      small facts: start of the last run, last integrity check, a
 *             clock jump waiting for a second run to agree.
 * An action that changes a server is written to actions as "intended" before
 * it is sent and settled (done, failed...) after; one a killed run left open
 * reads "interrupted".
 * Version 1 is the single-instance schema (hash TEXT PRIMARY KEY); it is
 * migrated on the first read-write open after a backup copy <state>.v1.bak.
 */
#ifndef QBITRR_STATE_H
#define QBITRR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

#define STATE_SCHEMA_VERSION 2

struct state;

/* Sort rows for state_rows_find. */
void	state_rows_sort(struct state_rows *rows);
struct state_row *state_rows_find(const struct state_rows *rows, const char *instance,
	    const char *hash);
/* Append a new zeroed row and return it. */
struct state_row *state_rows_add(struct state_rows *rows);

/*
 * Open the state file.  readonly: never create, migrate or write (dry run,
 * status); a missing file then reads as empty.  Errors are logged naming the
 * file and what is wrong; returns 0 or -1 (the caller exits 74).
 */
int	state_open(const char *path, bool readonly, struct state **out);
void	state_close(struct state *st);

/*
 * Load the torrent rows (sorted): every one, or (with_gone false) only the
 * torrents not marked gone, which a sweep needs; a year of churn leaves
 * tens of thousands of gone rows that only a torrent coming back asks for.
 */
int	state_load(struct state *st, bool with_gone, struct state_rows *out);
/* Append the gone rows of these hashes on instance to out, unsorted: how many, or -1. */
int	state_load_gone(struct state *st, const char *instance, const char *const *hashes,
	    size_t n, struct state_rows *out);

int	state_begin(struct state *st);
int	state_commit(struct state *st);
void	state_rollback(struct state *st);

/*
 * Insert or update a row.  A row that did not change needs no write: state_load
 * derives a live row's last_seen from its instance's last successful sweep.
 */
int	state_save_row(struct state *st, const struct state_row *r);

struct state_action {
	int64_t	 time;
	const char *instance;
	const char *hash;
	const char *name;
	const char *action;	/* vocabulary: see policy.h */
	const char *reason;
	const char *result;	/* "done", "planned", "failed", "skipped" */
	const char *error;	/* NULL if none */
};
int	state_add_action(struct state *st, const struct state_action *a);
/* Settle audit row id (written as "intended" before the action was sent). */
int	state_settle_action(struct state *st, int64_t id, const struct state_action *a);
/* Whether the newest audit row of its (instance, hash, action), before id
 * before (0: any), has the same result and error. */
bool	state_action_repeats(struct state *st, const struct state_action *a,
	    int64_t before);
int	state_drop_action(struct state *st, int64_t id);
/* The id of the audit row just inserted. */
int64_t	state_last_action_id(const struct state *st);

/* Record a small fact about the file (table meta); 0 removes it. */
int	state_meta_set(struct state *st, const char *key, int64_t value);

/*
 * The first write of a run, before any server is touched: proves the file
 * can be written (a read-only file, folder or file system, or a full disk
 * fail here with a message naming the cause) and settles the intents a
 * killed run left as "interrupted".  Returns 0 or -1.
 */
int	state_run_start(struct state *st, int64_t now);

/*
 * Retention, inside the sweep's transaction: at most batch gone rows with
 * gone_at before gone_before, and batch audit rows older than
 * actions_before (0: keep).  The counts removed are returned.
 */
int	state_prune(struct state *st, int64_t gone_before, int64_t actions_before,
	    int batch, int64_t *gone_removed, int64_t *actions_removed);
/* After the commit: free up to pages pages back to the file system. */
void	state_vacuum_step(struct state *st, int pages);

/* The clock of the last recorded sweep and a jump seen since (0: none). */
int	state_clock(struct state *st, int64_t *last, int64_t *pending);
/* An accepted clock jump: every stored time of rows, instances, owed searches. */
int	state_shift_clocks(struct state *st, int64_t delta);
/* The same on rows in memory (a dry run). */
void	state_rows_shift(struct state_rows *rows, int64_t delta);

struct state_instance {
	char	*name;
	char	*url;
	char	*version;
	char	*api_version;
	int64_t	 last_sweep;
	int64_t	 last_success;
	char	*last_error;
	int64_t	 free_space;
};
int	state_save_instance(struct state *st, const struct state_instance *si);
/* All recorded instances; caller frees with state_instances_free. */
int	state_load_instances(struct state *st, struct state_instance **out, size_t *n);
void	state_instances_free(struct state_instance *v, size_t n);

/* History: actions newest first, filtered (NULL/0 = any). */
struct state_history_entry {
	int64_t	 time;
	char	*instance;
	char	*hash;
	char	*name;
	char	*action;
	char	*reason;
	char	*result;
	char	*error;
};
int	state_history(struct state *st, int64_t since, const char *instance,
	    const char *hash_prefix, size_t limit, struct state_history_entry **out, size_t *n);
/*
 * The last limit actions recorded for one torrent (exact instance and hash),
 * newest first: what explain shows.
 */
int	state_torrent_history(struct state *st, const char *instance, const char *hash,
	    size_t limit, struct state_history_entry **out, size_t *n);
void	state_history_free(struct state_history_entry *v, size_t n);
/*
 * The newest audit row of every (instance, hash), in one query, sorted for
 * state_last_action_find (time, instance, hash, action and result are set).
 */
int	state_last_actions(struct state *st, struct state_history_entry **out, size_t *n);
const struct state_history_entry *state_last_action_find(
	    const struct state_history_entry *v, size_t n, const char *instance,
	    const char *hash);

/*
 * Searches owed after a blocklist: remembered before the blocklist is sent,
 * so a run that dies between the two still searches on a later run.
 */
struct state_owed {
	char	*instance;
	char	*hash;
	char	*name;
	char	*arr;		/* Arr section name */
	int64_t	*media_ids;
	size_t	 n_media_ids;
	int64_t	 since;
};
int	state_owe_search(struct state *st, const struct state_owed *o);
int	state_clear_owed(struct state *st, const char *instance, const char *hash,
	    const char *arr);
int	state_load_owed(struct state *st, struct state_owed **out, size_t *n);
void	state_owed_free(struct state_owed *v, size_t n);

/* Number of rows changed by write statements since open (for the benchmark). */
int64_t	state_rows_written(const struct state *st);

/*
 * Take the run lock <state>.lock (flock, released by the kernel when the
 * process dies).  Returns the fd, -2 when another process holds it (its pid
 * is logged), -1 on other errors.
 */
int	state_lock(const char *state_path);

#endif
