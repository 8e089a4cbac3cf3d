/*
 * http: parallel HTTP requests over one libcurl multi handle.
 *
 * A caller fills a struct http_request, submits it and runs the loop;
 * when a transfer ends its done() callback runs, and may submit further
 * requests (that is how each instance's login -> list -> act steps pipeline
 * independently of the others).  Connections are reused across requests.
 * Secrets never reach the log: only method, URL path and status are traced,
 * and URLs must not carry credentials.
 */
#ifndef QBITRR_HTTP_H
#define QBITRR_HTTP_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct http;
struct http_request;

typedef void (*http_done_fn)(struct http_request *req);

struct http_request {
	/* Filled by the caller; owned by the request (freed by http_request_free). */
	char		*url;
	char		*body;		/* NULL: no body */
	const char	*method;	/* static string: "GET", "POST", "DELETE" */
	const char	*content_type;	/* static; NULL with a body = form */
	char		*cookie;	/* "SID=..." or NULL */
	char		*api_key;	/* sent as X-Api-Key; NULL: none */
	const char	*label;		/* who this is for, e.g. "qBit-Seedbox"; borrowed */
	const char	*endpoint;	/* for messages, e.g. "torrents/info"; static */
	bool		 skip_tls_verify;
	long		 timeout_s;
	http_done_fn	 done;
	void		*arg;		/* for done() */
	int		 tag;		/* caller's use */
	void		*wrap;		/* for client modules wrapping done() */

	/* Results, valid in done(). */
	long		 status;	/* HTTP status, 0 on transport failure */
	struct buf	 response;	/* body (decoded) */
	char		*set_cookie;	/* every Set-Cookie "name=value", "; "-joined, or NULL */
	char		 error[256];	/* transport error text, "" if none */
	bool		 timed_out;
	bool		 too_large;	/* over the cap set by http_set_max_response */
	int64_t		 wire_bytes;	/* bytes received on the wire (compressed) */
	int64_t		 elapsed_ms;

	void		*handle;	/* private: CURL easy handle */
	void		*private_headers; /* private: curl_slist */
	int64_t		 started_ms;	/* private */
	bool		 kept;		/* private: see http_keep() */
	bool		 cancelling;	/* private: done() runs for "interrupted" */
	struct http	*http;		/* private */
};

struct http_stats {
	int64_t	 requests;
	int64_t	 wire_bytes;	/* received, as sent by the servers */
	int64_t	 body_bytes;	/* received, after decompression */
};

/* One per run.  stop, when non-NULL, is polled: once it is set no new transfer starts. */
struct http *http_new(volatile sig_atomic_t *stop);
void	 http_free(struct http *h);

/* Abandon any answer whose body, once decompressed, exceeds bytes (0: no cap). */
void	 http_set_max_response(struct http *h, int64_t bytes);

/* A new request with the url taken over (caller's string is freed with the request). */
struct http_request *http_request_new(const char *method, char *url);
void	 http_request_free(struct http_request *req);

/*
 * Queue req.  It starts at once (or at the next loop turn).  After done()
 * returns, the request is freed by the loop unless done() resubmitted it
 * or took it over with http_keep().
 */
void	 http_submit(struct http *h, struct http_request *req);
void	 http_keep(struct http_request *req);

/* Run until no transfer is left.  Returns 0, or -1 if stop was raised. */
int	 http_run(struct http *h);

const struct http_stats *http_stats(const struct http *h);

/* A short human description of what went wrong, e.g. "HTTP 500" or "timed out after 30 s". */
const char *http_failure(const struct http_request *req, char *buf, size_t n);

/*
 * A client's failure (qBittorrent instance or Arr named name): the first
 * one is kept in *first ("endpoint: message") and logged as an error, the
 * ones after it only at debug level, so a dead server is one error line.
 */
void	 http_client_failure(char **first, const char *name, const char *endpoint,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif
