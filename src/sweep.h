/*
 * sweep: the commands (sweep_commands.c) and one run over every configured
 * instance, in this order:
 *
 *   discover   log in to every enabled instance and list its managed
 *              categories, all instances in parallel;
 *   reconcile  match what was found against the state file's rows;
 *   decide     run the policy for each torrent, fetching files, trackers
 *              and Arr queues only for the torrents whose rules ask;
 *   act        blocklists, then qBittorrent actions and imports, then
 *              category restores and searches, each phase in parallel;
 *   record     one write transaction: rows, gone rows, instances, audit;
 *   publish    status page, metrics, notifications (sweep_publish.c).
 * sweep_run (sweep_commands.c) drives these; status, explain and history
 * reuse discover, reconcile and decide without acting.
 */
#ifndef QBITRR_SWEEP_H
#define QBITRR_SWEEP_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"

/* Exit statuses (sysexits.h values where one fits). */
#define EXIT_PARTIAL	1	/* an instance or Arr failed, or an action did */
#define EXIT_USAGE	64
#define EXIT_STATE	74	/* state file cannot be opened, created or migrated */
#define EXIT_LOCKED	75	/* another run holds the lock */
#define EXIT_CONFIG	78

struct sweep_options {
	bool		 dry_run;
	bool		 json;
	const char	*state_path;
	const char	*html_path;	/* status --html FILE */
	const char	*query;		/* explain: hash prefix or name substring */
	const char	*instance;	/* history --instance */
	int64_t		 since;		/* history --since, seconds ago (0: all) */
};

/* Run a sweep; returns the exit status.  stop is raised by SIGTERM/SIGINT. */
int	sweep_run(const struct config *cfg, const struct sweep_options *opt,
	    volatile sig_atomic_t *stop);

/* The status command: live instance facts plus the state file's rows. */
int	sweep_status(const struct config *cfg, const struct sweep_options *opt,
	    volatile sig_atomic_t *stop);

/* The explain command: the rule chain for matching torrents, live. */
int	sweep_explain(const struct config *cfg, const struct sweep_options *opt,
	    volatile sig_atomic_t *stop);

/* The history command: the audit table. */
int	sweep_history(const struct config *cfg, const struct sweep_options *opt);

#endif
