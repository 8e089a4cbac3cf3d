/*
 * sweep_p.h: what the files of the sweep module share.  A run reads in
 * one direction: sweep_commands.c (the commands, sweep_run) calls sweep.c
 * (discover, reconcile, decide), then sweep_act.c (act, record), then
 * sweep_publish.c.  Nothing calls into sweep_commands.c, sweep.c calls
 * none of the later files, and no two objects need each other
 * (tests/lint.sh checks it).  Not a public interface.
 */
#ifndef QBITRR_SWEEP_P_H
#define QBITRR_SWEEP_P_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "arr.h"
#include "config.h"
#include "http.h"
#include "policy.h"
#include "qbit.h"
#include "state.h"
#include "sweep.h"

struct sweep;

/* One configured, enabled instance during the run. */
struct inst {
	struct sweep	*sw;
	struct qbit_client qc;
	int		 pending;	/* requests outstanding in the current step */
	bool		 failed;	/* discovery did not complete: its rows stay untouched */
	struct qbit_torrent_list all;	/* every torrent, any category (shared-data guard) */
	bool		 all_requested;
	bool		 all_fetched;
	bool		 fuse_blown;	/* MaxDeletionsPerRun exceeded */
	size_t		 held;		/* deletions and blocklists held this run */
};

/* One managed torrent on one instance. */
struct item {
	struct inst	*in;
	size_t		 index;		/* into in->qc.torrents */
	const struct state_row *row;	/* stored row or NULL */
	const struct state_row *earlier;	/* stored row of an earlier life */
	const struct arr_config *arr;
	struct qbit_file_list files;
	bool		 files_fetched;
	bool		 files_requested;
	struct qbit_tracker_list trackers;
	bool		 trackers_fetched;
	bool		 trackers_requested;
	/* The grab in the Arr history of a download gone from the queue. */
	enum history_fact history;
	int		 history_pending;	/* requests in flight */
	bool		 history_requested;
	bool		 history_failed;
	const struct arr_config *history_arr;	/* where the grab was found */
	int64_t		 grab_id;
	char		 grab_client[128];	/* the download client the grab named */
	bool		 multi;		/* the hash is on another instance too */
	const struct queue_record *qrec;	/* this instance's queue record */
	const struct arr_config *qarr;	/* and its Arr */
	struct policy_decision d;
};

/* What came of an outcome; its name is what the audit and --json say. */
enum outcome_result {
	RESULT_PENDING = 0,	/* not settled yet */
	RESULT_PLANNED,		/* a dry run would do it */
	RESULT_DONE,
	RESULT_FAILED,
	RESULT_SKIPPED,
	RESULT_HELD,		/* the fuse or the clock kept it back */
	RESULT__COUNT
};

const char *outcome_result_name(enum outcome_result result);

/* An action taken (or planned, held, skipped) and what came of it. */
struct outcome {
	struct inst	*in;
	struct item	*item;		/* NULL for create_category */
	enum action_kind kind;
	const char	*rule;		/* static */
	char		*reason;
	char		*detail;	/* "files kept: shared with ...", a category... */
	enum outcome_result result;
	char		*error;
	struct outcome	*after;		/* runs only when this one is done */
	const struct policy_action *action;	/* the decision behind it, or NULL */
	const struct arr_config *arr;	/* Arr-side actions */
	const struct queue_record *record;
	bool		 delete_files;	/* ACT_DELETE, after the guard */
	bool		 search;	/* ACT_BLOCKLIST: we search ourselves */
	int64_t		 history_id;	/* ACT_BLOCKLIST by history/failed/{id} */
	char		*category;	/* ACT_CREATE_CATEGORY, ACT_SET_CATEGORY */
	int64_t		 command_id;	/* ACT_IMPORT */
	char		 command_status[32];
	int64_t		*media_ids;	/* ACT_SEARCH */
	size_t		 n_media_ids;
	int64_t		 audit_id;	/* its audit row, written as "intended" before sending */
	char		*owed_hash;	/* ACT_SEARCH owed by an earlier run (item NULL) */
	char		*owed_name;
};

struct outcomes {
	struct outcome **v;
	size_t	 n;
};


struct sweep {
	const struct config	*cfg;
	const struct sweep_options *opt;
	volatile sig_atomic_t	*stop;
	struct http		*http;
	struct state		*st;
	struct state_rows	 rows;
	struct inst		*insts;
	size_t			 n_insts;
	struct arr_client	*arrs;		/* parallel to cfg->arrs */
	struct item		*items;
	size_t			 n_items;
	struct outcomes		 outcomes;
	int64_t			 now;		/* the policy clock */
	time_t			 started;
	int64_t			 t0;
	bool			 partial;
	bool			 state_failed;	/* the intents could not be written: nothing sent */
	bool			 adopt;		/* first sweep on a new state file */
	bool			 clock_refuse;	/* a clock jump: no deletion or blocklist */
	int64_t			 clock_pending;	/* a jump to confirm next run (recorded) */
	int64_t			 clock_shift;	/* an accepted jump (dry run: applied in memory) */
	char			 clock_why[300];
	bool			 read_only_discovery;	/* status, explain */
	bool			 want_free_space;	/* status: always ask */
};

int	sweep_init(struct sweep *sw, const struct config *cfg,
	    const struct sweep_options *opt, volatile sig_atomic_t *stop);
void	sweep_fini(struct sweep *sw);
void	sweep_discover(struct sweep *sw);
/* Check the run's clock against the last sweep's (policy_clock_check). */
int	sweep_clock(struct sweep *sw);
void	sweep_reconcile(struct sweep *sw);
void	sweep_decide(struct sweep *sw);
struct arr_client *sweep_arr_client(struct sweep *sw, const struct arr_config *ac);

/* sweep_act.c */
void	sweep_act(struct sweep *sw);
int	sweep_record(struct sweep *sw);

struct json_t;

/* sweep_publish.c: after a real sweep, for people and other programs. */
/* Status page, metrics and notifications as configured; failures only warn. */
void	sweep_publish(struct sweep *sw, struct json_t *doc, bool failed);
/* Whether a notifier will want the --json document after this sweep. */
bool	sweep_wants_document(const struct sweep *sw, bool failed);
/* The self-contained HTML status page; 0 or -1. */
int	sweep_write_status_page(struct sweep *sw, const char *path);

#endif
