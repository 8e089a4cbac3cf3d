/*
 * records: the facts every module shares, with no I/O.
 *
 * A torrent, its files and trackers as qBittorrent lists them, a download in
 * an Arr's queue, and the stored row of a (hash, instance).  The clients
 * (qbit, arr) fill them, state loads and stores rows, policy decides on
 * them; none of those needs another to hold or free a record.
 */
#ifndef QBITRR_RECORDS_H
#define QBITRR_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- qBittorrent ----------------------------------------------------- */

/* One torrent as listed by torrents/info: only the fields rules use. */
struct qbit_torrent {
	char	 hash[41];	/* lower-case hex */
	char	*name;
	char	*category;
	char	*tags;		/* ", "-joined, as qBittorrent sends them */
	char	*state;
	char	*content_path;
	char	*save_path;
	char	*tracker;	/* "" unless a tracker works */
	double	 progress;
	double	 ratio;
	double	 availability;
	int64_t	 size;
	int64_t	 amount_left;
	int64_t	 added_on;
	int64_t	 completion_on;
	int64_t	 last_activity;
	int64_t	 seeding_time;
	int64_t	 eta;
	int64_t	 dl_limit;	/* bytes/s, qBittorrent's value (0 or -1 = none) */
	int64_t	 up_limit;
	bool	 force_start;
};

struct qbit_torrent_list {
	struct qbit_torrent *items;
	size_t	 n;
	size_t	 cap;
};

/* Free what t points to and zero it. */
void	qbit_torrent_clear(struct qbit_torrent *t);
void	qbit_torrent_list_free(struct qbit_torrent_list *l);
/* Move every item of src to the end of dst; src is left empty. */
void	qbit_torrent_list_move(struct qbit_torrent_list *dst, struct qbit_torrent_list *src);

/* Keep the items keep() accepts, in order; returns how many were dropped. */
size_t	qbit_torrent_list_retain(struct qbit_torrent_list *l,
	    bool (*keep)(const struct qbit_torrent *t, void *arg), void *arg);

/* One file of torrents/files. */
struct qbit_file {
	int	 index;
	char	*name;		/* path inside the torrent */
	int	 priority;
	double	 progress;
	int64_t	 size;
};
struct qbit_file_list {
	struct qbit_file *items;
	size_t	 n;
};
void	qbit_file_list_free(struct qbit_file_list *l);

/* One real tracker of torrents/trackers (DHT/PeX/LSD pseudo-entries dropped). */
struct qbit_tracker {
	char	*url;
	char	*msg;
	int	 status;	/* 0 disabled, 1 not contacted, 2 working, 3 updating, 4 not working */
};
struct qbit_tracker_list {
	struct qbit_tracker *items;
	size_t	 n;
};
void	qbit_tracker_list_free(struct qbit_tracker_list *l);

/* True when tags (", "-joined) contain tag exactly. */
bool	qbit_has_tag(const char *tags, const char *tag);

/* ---- an Arr's queue ------------------------------------------------- */

/* One download in an Arr's queue (Sonarr's per-episode records merged). */
struct queue_record {
	char	*download_id;		/* upper-case hash */
	char	*client;		/* the Arr's name of its download client, or "" */
	int64_t	*ids;			/* queue record ids */
	size_t	 n_ids;
	int64_t	*media_ids;		/* movieId / episodeId / albumId, for a search */
	size_t	 n_media_ids;
	char	*status;
	char	*tracked_state;
	char	*tracked_status;
	char	**messages;		/* every statusMessages[].messages[] */
	size_t	 n_messages;
};

void	queue_record_clear(struct queue_record *r);

/* ---- the state file's rows ------------------------------------------- */

/* One (hash, instance).  Times are epoch seconds; 0 means "not set". */
struct state_row {
	char	 hash[41];
	char	*instance;
	char	*name;
	char	*category;
	char	*prev_category;	/* category before failed/recheck */
	char	*arr;		/* Arr section name */
	char	*state;		/* last observed qBittorrent state */
	double	 progress;
	double	 ratio;
	int64_t	 first_seen;
	int64_t	 last_seen;
	int64_t	 gone_at;
	int64_t	 stalled_since;
	int64_t	 seeding_since;
	int64_t	 import_sent_at;	/* accepted by the Arr */
	int64_t	 import_command_id;
	int	 import_attempts;	/* failed attempts since the last success */
	int64_t	 import_next_try;
	char	*import_result;		/* "queued", "completed", "failed: ..." */
	int64_t	 recheck_sent_at;	/* for errored torrents */
	int64_t	 files_checked_at;	/* unwanted-files rule done */
	int64_t	 space_paused_at;	/* we paused it for free space */
	int64_t	 research_stalled_at;	/* ReSearchStalled done */
	int64_t	 error_reported_at;
	bool	 in_db;			/* loaded from the file */
};

struct state_rows {
	struct state_row *items;
	size_t	 n;
	size_t	 cap;
};

void	state_row_clear(struct state_row *r);
/* Deep copy of src into dst (dst must be cleared or fresh). */
void	state_row_copy(struct state_row *dst, const struct state_row *src);
/* True when everything but last_seen is the same. */
bool	state_row_same(const struct state_row *a, const struct state_row *b);
void	state_rows_free(struct state_rows *rows);

#endif
