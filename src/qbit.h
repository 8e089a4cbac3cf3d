/*
 * qbit: the qBittorrent WebUI API v2 client.
 *
 * Pure parts (qbit_parse_*) turn JSON answers into compact records and are
 * unit-tested; the rest builds requests for the http loop.  One client per
 * configured instance; every request goes to that instance only.
 */
#ifndef QBITRR_QBIT_H
#define QBITRR_QBIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "records.h"

/*
 * Parse a torrents/info answer (a JSON array) and append every entry to out.
 * Entries without a valid 40-hex hash are skipped and counted in *skipped.
 * Returns 0, or -1 with a reason in err when the document is not a JSON
 * array (malformed, truncated).
 */
int	qbit_parse_torrents(const char *data, size_t len, struct qbit_torrent_list *out,
	    size_t *skipped, char *err, size_t errlen);

/* Parse torrents/categories ({"name": {...}, ...}) into a list of names. */
int	qbit_parse_categories(const char *data, size_t len, struct strlist *out,
	    char *err, size_t errlen);

int	qbit_parse_files(const char *data, size_t len, struct qbit_file_list *out,
	    char *err, size_t errlen);

int	qbit_parse_trackers(const char *data, size_t len, struct qbit_tracker_list *out,
	    char *err, size_t errlen);

/* free_space_on_disk from a sync/maindata answer; -1 when absent. */
int	qbit_parse_free_space(const char *data, size_t len, int64_t *out,
	    char *err, size_t errlen);

/* True for API versions of qBittorrent 5 (webapiVersion >= 2.11.0). */
bool	qbit_api_is_v5(const char *api_version);

/* The oldest qBittorrent swept: 4.3.1 added content_path to torrents/info. */
#define QBIT_MIN_MAJOR	4
#define QBIT_MIN_MINOR	3
#define QBIT_MIN_PATCH	1

/* "v4.5.2" (or "5.3.0", "v4.6"): major, minor, patch into out; -1 if not a version. */
int	qbit_parse_version(const char *version, int out[3]);

/* The session and findings of one instance during a run. */
struct qbit_client {
	const struct instance_config *ic;	/* borrowed from the config */
	long	 timeout_s;
	char	*cookie;		/* secret */
	char	*version;		/* "v4.5.2" */
	char	*api_version;		/* "2.8.19" */
	bool	 reachable;		/* logged in and listed */
	bool	 banned;		/* never log in again this run */
	bool	 relogged;		/* the one re-login after a 403 is spent */
	char	*error;			/* first failure, for reports */
	struct strlist categories;	/* existing categories */
	struct qbit_torrent_list torrents;	/* managed categories only */
	int64_t	 free_space;		/* -1 unknown */
};

void	qbit_client_init(struct qbit_client *qc, const struct instance_config *ic,
	    long timeout_s);
void	qbit_client_free(struct qbit_client *qc);

/* Record the first failure of an instance (later ones go to the debug log). */
void	qbit_client_fail(struct qbit_client *qc, const char *endpoint, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Send one API call to the instance.  body: form-encoded, taken over (may
 * be NULL).  A 403 that is not a ban triggers one re-login, then the call is
 * sent again; a ban marks the client banned.  done() sees the final
 * request; req->arg is arg.
 */
void	qbit_call(struct qbit_client *qc, struct http *h, const char *method,
	    const char *endpoint, char *query, char *body, http_done_fn done, void *arg);

/* Log in (POST auth/login); done() gets the request, check qbit_login_ok(). */
void	qbit_login(struct qbit_client *qc, struct http *h, http_done_fn done, void *arg);
/*
 * End the session (POST auth/logout) when there is one: qBittorrent keeps
 * every session until it expires (master evicts the oldest beyond 15).
 * The answer only goes to the debug log.
 */
void	qbit_logout(struct qbit_client *qc, struct http *h);

/* After a login request ended: 0 when logged in, else -1 with qc->error set. */
int	qbit_login_result(struct qbit_client *qc, struct http_request *req);


/* Check a finished call: 0 when 2xx, else -1 with the failure recorded on qc. */
int	qbit_check(struct qbit_client *qc, struct http_request *req);

/*
 * After app/version was read this session: 0 when the instance is recent
 * enough to sweep, else -1 with the reason recorded on qc.
 */
int	qbit_version_check(struct qbit_client *qc);

/* Name of the pause/resume endpoint for the instance's API version. */
const char *qbit_pause_endpoint(const struct qbit_client *qc);
const char *qbit_resume_endpoint(const struct qbit_client *qc);

#endif
