/*
 * arr: the Radarr/Sonarr/Lidarr API client (v3, Lidarr v1).
 *
 * Pure parts build command bodies and parse queue pages; the rest sends
 * requests through the http loop with the key in X-Api-Key (never in a URL).
 */
#ifndef QBITRR_ARR_H
#define QBITRR_ARR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "records.h"

/* One of the Arr's download clients: where it reaches qBittorrent. */
struct arr_dlclient {
	char	*name;
	char	*host;
	int	 port;
};

struct arr_client {
	const struct arr_config *ac;	/* borrowed */
	long	 timeout_s;
	bool	 queue_wanted;
	bool	 queue_fetched;
	bool	 queue_failed;
	bool	 partial;		/* something failed: the run exits 1 */
	char	*error;			/* first failure */
	struct queue_record *records;	/* sorted by download_id */
	size_t	 n_records;
	struct arr_dlclient *clients;	/* GET downloadclient, host:port ones */
	size_t	 n_clients;
	bool	 clients_fetched;
	bool	 clients_failed;
	int	 pages_pending;
	int64_t	 total_records;
};

void	arr_client_init(struct arr_client *c, const struct arr_config *ac, long timeout_s);
void	arr_client_free(struct arr_client *c);

/* "/api/v3" or "/api/v1". */
const char *arr_api_prefix(enum arr_kind kind);

/*
 * Parse one page of GET queue and merge its records into *recs (by
 * downloadId).  *total gets totalRecords.  Returns 0 or -1 with err.
 */
int	arr_parse_queue_page(const char *data, size_t len, enum arr_kind kind,
	    struct queue_record **recs, size_t *n, int64_t *total, char *err, size_t errlen);

/*
 * Parse a GET history?downloadId=HASH&eventType=1 page: *grab_id gets the id
 * of the latest "grabbed" record of hash (any case), 0 when there is none,
 * and client the download client it named (data.downloadClientName) or "".
 * Returns 0 or -1 with err.
 */
int	arr_parse_grab(const char *data, size_t len, const char *hash, int64_t *grab_id,
	    char *client, size_t clientlen, char *err, size_t errlen);

/* Sort records by download_id for arr_find_record. */
void	arr_sort_records(struct queue_record *recs, size_t n);
/* The first queue record of a hash (any case; one per download client), or NULL. */
const struct queue_record *arr_find_record(const struct arr_client *c, const char *hash);
/* How many records, from first on, are of the same download. */
size_t	arr_count_records(const struct arr_client *c, const struct queue_record *first);

/* Parse GET downloadclient: the clients with a host and a port.  0 or -1. */
int	arr_parse_downloadclients(const char *data, size_t len, struct arr_dlclient **out,
	    size_t *n, char *err, size_t errlen);

/* JSON bodies (caller frees). */
char	*arr_scan_body(enum arr_kind kind, const char *path, const char *hash,
	    const char *import_mode);
char	*arr_search_body(enum arr_kind kind, const int64_t *media_ids, size_t n);
char	*arr_bulk_body(const int64_t *ids, size_t n);

/* Parse a CommandResource: id and status.  Returns 0 or -1. */
int	arr_parse_command(const char *data, size_t len, int64_t *id, char *status,
	    size_t status_len, char *err, size_t errlen);


/*
 * Send one API call.  label: a static name for messages ("queue/{id}");
 * path: below the API prefix, with any query ("queue/123?blocklist=true"),
 * taken over; json: request body, taken over (NULL: none).
 */
void	arr_call(struct arr_client *c, struct http *h, const char *method,
	    const char *label, char *path, char *json, http_done_fn done, void *arg);

/* Fetch the whole queue (all pages); done_all(c) runs when it is complete or failed. */
void	arr_fetch_queue(struct arr_client *c, struct http *h, void (*done_all)(struct arr_client *));

/* Record the first failure of an Arr. */
void	arr_client_fail(struct arr_client *c, const char *endpoint, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Check a finished call: 0 when 2xx, else -1 with the failure recorded. */
int	arr_check(struct arr_client *c, struct http_request *req);

#endif
