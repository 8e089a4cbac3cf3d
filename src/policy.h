/*
 * policy: pure decisions.  A torrent snapshot, its stored state row, the
 * config, the clock and whatever extra facts were fetched go in; actions
 * with reasons and the updated row come out.  No I/O here, so every rule is
 * tested with tables of cases (tests/unit/test_policy.c).
 *
 * The rule chain, first match wins (issue-numbered in the man page):
 *   ignored (tag or young: exempt from every deleting rule) -> failed
 *   category -> recheck category -> missing files -> errored -> stalled ->
 *   slow -> unwanted files -> unregistered -> Arr import error -> import ->
 *   seeding goals; per-torrent rate limits apply beside the chain, free space
 *   is decided per instance (policy_free_space).
 *
 * A rule may need facts that are fetched only on demand (a torrent's files,
 * its trackers, its Arr's queue); it then sets a bit in decision.needs and
 * the caller fetches them and decides again.
 */
#ifndef QBITRR_POLICY_H
#define QBITRR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "records.h"

/* The action vocabulary, shared with the audit table and --json (add, never rename). */
enum action_kind {
	ACT_CREATE_CATEGORY,
	ACT_IMPORT,
	ACT_DELETE,
	ACT_BLOCKLIST,
	ACT_SEARCH,
	ACT_RECHECK,
	ACT_SET_CATEGORY,
	ACT_PAUSE,
	ACT_RESUME,
	ACT_SET_FILE_PRIORITY,
	ACT_ADD_TAG,
	ACT_REMOVE_TAG,
	ACT_SET_LIMITS,
	ACT_VERIFY_IMPORT,
	ACT__COUNT
};

const char *policy_action_name(enum action_kind kind);
/* Whether an action changes something (everything but verify_import). */
bool	policy_action_mutates(enum action_kind kind);

#define POLICY_NEED_FILES	0x1
#define POLICY_NEED_TRACKERS	0x2
#define POLICY_NEED_QUEUE	0x4
#define POLICY_NEED_HISTORY	0x8

/* What the caller knows about the torrent in its Arr's queue. */
enum queue_fact {
	QUEUE_UNKNOWN = 0,	/* not fetched */
	QUEUE_UNREACHABLE,	/* fetch failed: fail closed */
	QUEUE_ABSENT,		/* fetched, not there */
	QUEUE_PRESENT,		/* fetched, record below */
	QUEUE_NO_ARR,		/* the Arr has no URI: nothing to ask */
	QUEUE_AMBIGUOUS		/* the hash is on several instances and the Arr's
				   download clients do not tell which record is
				   this instance's: keep and report */
};

/*
 * A download no longer in the Arr's queue (an Arr lists only its own
 * category, so a move to FailedCategory drops it within a minute): its grab
 * in the Arr's history, which history/failed/{id} blocklists.
 */
enum history_fact {
	HISTORY_UNKNOWN = 0,	/* not asked */
	HISTORY_UNREACHABLE,	/* asking failed: fail closed */
	HISTORY_ABSENT,		/* asked, no grab of this download */
	HISTORY_PRESENT,	/* grab_id below */
	HISTORY_AMBIGUOUS	/* a grab, but for which instance cannot be told */
};

struct policy_facts {
	const struct qbit_file_list	*files;		/* NULL: not fetched */
	const struct qbit_tracker_list	*trackers;	/* NULL: not fetched */
	enum queue_fact			 queue;
	const struct queue_record	*record;	/* when QUEUE_PRESENT */
	enum history_fact		 history;	/* when QUEUE_ABSENT */
	int64_t				 grab_id;	/* when HISTORY_PRESENT */
};

struct policy_action {
	enum action_kind kind;
	const char	*rule;		/* static: "stalled", "failed-category", ... */
	char		*reason;	/* values compared, in config terms */
	/* ACT_DELETE: */
	bool		 delete_files;
	bool		 blocklist;	/* blocklist in the Arr first */
	bool		 search;	/* re-search afterwards */
	int64_t		 history_id;	/* > 0: blocklist by history/failed/{id} */
	/* ACT_SET_CATEGORY: */
	char		*category;
	/* ACT_SET_FILE_PRIORITY: file indexes to set to priority 0 */
	int		*file_ids;
	size_t		 n_file_ids;
	/* ACT_SET_LIMITS: bytes/s to set (0 = unlimited), -1 = leave as is */
	int64_t		 dl_limit;
	int64_t		 up_limit;
	/* ACT_IMPORT: the mapped path */
	char		*path;
};

struct policy_decision {
	struct policy_action *actions;
	size_t	 n_actions;
	struct state_row row;	/* the row to store (deep copy) */
	unsigned needs;		/* POLICY_NEED_* facts to fetch, then decide again */
	const char *rule;	/* rule that matched (static), or NULL */
	char	*waiting;	/* why a due action waits, or NULL */
	bool	 report;	/* something the operator must look at (logged as a warning) */
	/* Explain mode: one line per rule evaluated, in order. */
	char	**trace;
	size_t	 n_trace;
	bool	 tracing;
};

struct policy_input {
	const struct config		*cfg;
	const struct instance_config	*ic;
	const struct qbit_torrent	*t;
	const struct state_row		*row;	/* stored row, NULL if new */
	const struct arr_config		*arr;	/* owning Arr (from category or prev), or NULL */
	int64_t				 now;
	struct policy_facts		 facts;
	bool				 adopt;	/* first sweep on a new state file */
};

/*
 * On the first sweep of a new state file, a torrent qBittorrent shows as
 * completed longer ago than this is taken as imported already ("adopted"),
 * not imported again.
 */
#define POLICY_ADOPT_SECONDS	86400

/* True when the category is one this tool manages (an Arr's, failed, recheck). */
bool	policy_category_managed(const struct config *cfg, const char *category);

/* The Arr a torrent belongs to: by category, else by the stored Arr/prev category. */
const struct arr_config *policy_arr_for(const struct config *cfg, const char *category,
	    const struct state_row *row);

/*
 * Decide for one torrent.  d must be zeroed (set d->tracing first to get a
 * trace).  Always fills d->row; the caller frees with policy_decision_free.
 */
void	policy_decide(const struct policy_input *in, struct policy_decision *d);
void	policy_decision_free(struct policy_decision *d);

/* Stalled per rule 6: state and availability only (no clocks). */
bool	torrent_is_stalled(const struct qbit_torrent *t);
bool	torrent_is_complete(const struct qbit_torrent *t);
bool	torrent_is_paused(const struct qbit_torrent *t);
bool	torrent_is_downloading(const struct qbit_torrent *t);

/*
 * Free space on one instance: downloads that do not fit in the space left
 * above the threshold are paused (and remembered as space-paused); those we
 * paused are resumed when they fit again.  Fills one decision per torrent
 * that needs a pause or resume; rows[i] is the stored row of torrents[i] (or
 * NULL).  Returns the number of actions.
 */
struct policy_space_action {
	size_t	 index;		/* into torrents */
	enum action_kind kind;	/* ACT_PAUSE or ACT_RESUME */
	char	*reason;
};
size_t	policy_free_space(const struct qbit_torrent *torrents, const struct state_row **rows,
	    size_t n, int64_t free_space, int64_t threshold,
	    struct policy_space_action **out);
void	policy_space_actions_free(struct policy_space_action *a, size_t n);

/*
 * The run's clock against the clock of the last recorded sweep.  A clock
 * behind it (by more than CLOCK_SLACK_SECONDS) or more than
 * CLOCK_FAR_AHEAD_SECONDS ahead is a jump: that run decides by the last
 * recorded clock, performs no deletion or blocklist, and remembers the
 * jump as pending.  A next run whose clock agrees with the pending one
 * accepts the new clock: every stored time moves by the jump, so the time
 * across it counts for no clock (fail closed: rules wait longer, never
 * shorter).  A run back on the old clock drops the pending jump.
 */
#define CLOCK_SLACK_SECONDS	300
#define CLOCK_FAR_AHEAD_SECONDS	(30 * 86400)
struct policy_clock {
	int64_t	 now;		/* the clock this run decides and records by */
	int64_t	 shift;		/* add to every stored time (an accepted jump) */
	int64_t	 pending;	/* a jump to confirm next run (0: none) */
	bool	 refuse;	/* no destructive action this run */
	char	 why[300];	/* set when refuse or shift */
};
void	policy_clock_check(int64_t wall, int64_t last, int64_t pending,
	    struct policy_clock *out);

/*
 * Whether a stored row that was gone belongs to an earlier life of the
 * torrent now listed (removed, then added again): the sweep then decides
 * as for a torrent never seen, and the new row replaces the old one (the
 * old life stays in the audit).
 */
bool	policy_new_life(const struct state_row *row, const struct qbit_torrent *t);

/*
 * True when two content paths overlap: equal, or one inside the other, after
 * normalising trailing slashes ("/data/Movie" vs "/data/Movie.2" do not).
 */
bool	policy_paths_overlap(const char *a, const char *b);

/* Whether a file of a torrent is unwanted under the Arr's [.Torrent] rules. */
bool	policy_file_unwanted(const struct torrent_config *tc, const char *path);

/* Whether tracker messages say the torrent is unregistered (fail closed). */
bool	policy_unregistered(const struct torrent_config *tc,
	    const struct qbit_tracker_list *trackers, char *why, size_t n);

#endif
