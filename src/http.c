/* http: libcurl multi loop with per-request completion callbacks (see http.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "util.h"

/* Overwrite a secret before freeing it; volatile keeps the stores. */
static void
wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* Transfers at once for one label (one instance or Arr); the rest wait their turn. */
#define PER_LABEL_MAX	8

struct http {
	CURLM			*multi;
	volatile sig_atomic_t	*stop;
	struct http_stats	 stats;
	int			 running;	/* transfers added and not yet done */
	int			 global_init;
	int64_t			 max_response;	/* decoded body bytes; 0: no cap */
	struct http_request	**active;	/* the running transfers */
	size_t			 n_active, cap_active;
	struct http_request	**waiting;	/* FIFO of requests over their label's share */
	size_t			 n_waiting, cap_waiting, first_waiting;
};

struct http *
http_new(volatile sig_atomic_t *stop)
{
	struct http *h = xcalloc(1, sizeof(*h));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("libcurl initialisation failed");
		free(h);
		return NULL;
	}
	h->global_init = 1;
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		log_error("libcurl multi handle initialisation failed");
		curl_global_cleanup();
		free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	h->stop = stop;
	return h;
}

void
http_set_max_response(struct http *h, int64_t bytes)
{
	h->max_response = bytes > 0 ? bytes : 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	free(h->active);
	free(h->waiting);
	curl_multi_cleanup(h->multi);
	if (h->global_init)
		curl_global_cleanup();
	free(h);
}

struct http_request *
http_request_new(const char *method, char *url)
{
	struct http_request *req = xcalloc(1, sizeof(*req));

	req->method = method;
	req->url = url;
	req->timeout_s = 30;
	buf_init(&req->response);
	return req;
}

void
http_request_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->handle != NULL)
		curl_easy_cleanup(req->handle);
	curl_slist_free_all(req->private_headers);
	free(req->url);
	free(req->body);
	free(req->cookie);
	if (req->api_key != NULL) {
		wipe(req->api_key, strlen(req->api_key));
		free(req->api_key);
	}
	free(req->set_cookie);
	buf_free(&req->response);
	free(req);
}

static bool
same_label(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_request *req = arg;
	struct http *h = req->http;

	/*
	 * Counted after decompression (a small gzip bomb is caught as well),
	 * and over every answer one server is sending at once, so parallel
	 * lists from one hostile server cannot multiply the cap.
	 */
	if (h->max_response > 0) {
		int64_t held = (int64_t)(size * nmemb);
		for (size_t i = 0; i < h->n_active; i++)
			if (same_label(h->active[i]->label, req->label))
				held += (int64_t)h->active[i]->response.len;
		if (held > h->max_response) {
			req->too_large = true;
			return 0;	/* curl aborts the transfer with a write error */
		}
	}
	buf_append(&req->response, ptr, size * nmemb);
	return size * nmemb;
}

/*
 * Every cookie of the answer, as "a=1; b=2": qBittorrent names its session
 * cookie SID, a name of the user's choice (4.6+) or QBT_SID_<port> (5.2+),
 * and a proxy in front may set its own first.  Sent back as they came.
 */
#define MAX_COOKIES_LEN 4096

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_request *req = arg;
	size_t n = size * nmemb;
	static const char name[] = "set-cookie:";

	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *p = ptr + sizeof(name) - 1, *end = ptr + n;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = p;
		while (q < end && *q != ';' && *q != '\r' && *q != '\n' &&
		    (unsigned char)*q >= 0x20 && *q != 0x7f)
			q++;
		size_t had = req->set_cookie ? strlen(req->set_cookie) : 0;
		if (q > p && memchr(p, '=', (size_t)(q - p)) != NULL &&
		    had + 2 + (size_t)(q - p) < MAX_COOKIES_LEN) {
			char *all = xasprintf("%s%s%.*s", had ? req->set_cookie : "",
			    had ? "; " : "", (int)(q - p), p);
			free(req->set_cookie);
			req->set_cookie = all;
		}
	}
	return n;
}

static int
start_transfer(struct http *h, struct http_request *req)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;

	if (c == NULL) {
		snprintf(req->error, sizeof(req->error), "cannot create transfer");
		return -1;
	}
	if (req->handle != NULL)
		curl_easy_cleanup(req->handle);
	curl_slist_free_all(req->private_headers);
	req->private_headers = NULL;
	req->handle = c;
	req->http = h;
	req->kept = false;
	buf_free(&req->response);
	free(req->set_cookie);
	req->set_cookie = NULL;
	req->status = 0;
	req->error[0] = '\0';
	req->timed_out = false;
	req->too_large = false;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, req);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "qbitrr-sweep/" QBITRR_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, req->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    req->timeout_s < 10 ? req->timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (h->max_response > 0)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_response);
	if (req->skip_tls_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->cookie != NULL)
		curl_easy_setopt(c, CURLOPT_COOKIE, req->cookie);
	if (req->api_key != NULL) {
		char *hdr = xasprintf("X-Api-Key: %s", req->api_key);
		hdrs = curl_slist_append(hdrs, hdr);
		wipe(hdr, strlen(hdr));
		free(hdr);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json, text/plain, */*");
	if (req->body != NULL) {
		const char *ct = req->content_type ? req->content_type :
		    "application/x-www-form-urlencoded";
		char *hdr = xasprintf("Content-Type: %s", ct);
		hdrs = curl_slist_append(hdrs, hdr);
		free(hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
	}
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(req->method, "POST") == 0) {
		if (req->body == NULL) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		}
	} else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	/* The slist must outlive the transfer: keep it in the handle's private chain. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	req->private_headers = hdrs;
	req->started_ms = monotonic_ms();

	if (curl_multi_add_handle(h->multi, c) != CURLM_OK) {
		snprintf(req->error, sizeof(req->error), "cannot start transfer");
		return -1;
	}
	h->running++;
	h->stats.requests++;
	if (h->n_active == h->cap_active) {
		h->cap_active = h->cap_active ? h->cap_active * 2 : 16;
		h->active = xreallocarray(h->active, h->cap_active, sizeof(*h->active));
	}
	h->active[h->n_active++] = req;
	log_trace("%s: %s %s", req->label ? req->label : "http", req->method,
	    req->endpoint ? req->endpoint : "");
	return 0;
}

static size_t
label_running(const struct http *h, const char *label)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_active; i++)
		n += same_label(h->active[i]->label, label);
	return n;
}

/* A request that will not run: its callback sees "interrupted". */
static void
cancel(struct http_request *req)
{
	snprintf(req->error, sizeof(req->error), "interrupted");
	req->status = 0;
	req->cancelling = true;
	if (req->done != NULL)
		req->done(req);
	req->cancelling = false;
	if (!req->kept)
		http_request_free(req);
}

static void
start_or_fail(struct http *h, struct http_request *req)
{
	if (start_transfer(h, req) == -1) {
		if (req->done != NULL)
			req->done(req);
		if (!req->kept)
			http_request_free(req);
	}
}

void
http_submit(struct http *h, struct http_request *req)
{
	if (h->stop != NULL && *h->stop) {
		if (!req->cancelling)	/* else resubmitted from its own cancel: freed there */
			cancel(req);
		return;
	}
	/* One server listing 50,000 torrents must not mean 50,000 transfers at once. */
	if (label_running(h, req->label) >= PER_LABEL_MAX) {
		if (h->n_waiting == h->cap_waiting) {
			h->cap_waiting = h->cap_waiting ? h->cap_waiting * 2 : 64;
			h->waiting = xreallocarray(h->waiting, h->cap_waiting,
			    sizeof(*h->waiting));
		}
		h->waiting[h->n_waiting++] = req;
		req->http = h;
		/* A resubmission from done(): the finished transfer is not ours any more. */
		if (req->handle != NULL) {
			curl_easy_cleanup(req->handle);
			req->handle = NULL;
		}
		req->kept = false;
		return;
	}
	start_or_fail(h, req);
}

/* Start waiting requests whose label has room, oldest first. */
static void
start_waiting(struct http *h)
{
	size_t i = h->first_waiting;

	while (i < h->n_waiting) {
		struct http_request *req = h->waiting[i];
		if (req == NULL || label_running(h, req->label) >= PER_LABEL_MAX) {
			i++;
			continue;
		}
		h->waiting[i] = NULL;
		start_or_fail(h, req);	/* may append to waiting */
		i++;
	}
	while (h->first_waiting < h->n_waiting && h->waiting[h->first_waiting] == NULL)
		h->first_waiting++;
	if (h->first_waiting == h->n_waiting)
		h->first_waiting = h->n_waiting = 0;
}

void
http_keep(struct http_request *req)
{
	req->kept = true;
}

/* A transfer ended: collect its results, detach it and run its callback. */
static void
finish_transfer(struct http *h, CURL *c, CURLcode code)
{
	struct http_request *req = NULL;
	curl_off_t dl = 0;
	long status = 0;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&req);
	curl_multi_remove_handle(h->multi, c);
	h->running--;
	for (size_t i = 0; i < h->n_active; i++)
		if (h->active[i] == req) {
			h->active[i] = h->active[--h->n_active];
			break;
		}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &dl);
	req->elapsed_ms = monotonic_ms() - req->started_ms;
	if (code != CURLE_OK) {
		req->status = 0;
		req->timed_out = (code == CURLE_OPERATION_TIMEDOUT);
		if (req->too_large || code == CURLE_FILESIZE_EXCEEDED) {
			req->too_large = true;
			snprintf(req->error, sizeof(req->error),
			    "answer larger than %lld bytes (MaxResponseSize); abandoned",
			    (long long)h->max_response);
		} else if (req->timed_out)
			snprintf(req->error, sizeof(req->error),
			    "no answer within %ld s", req->timeout_s);
		else
			snprintf(req->error, sizeof(req->error), "%s",
			    curl_easy_strerror(code));
	} else {
		req->status = status;
	}
	req->wire_bytes = (int64_t)dl;
	h->stats.wire_bytes += (int64_t)dl;
	h->stats.body_bytes += (int64_t)req->response.len;
	log_trace("%s: %s %s -> %ld (%lld bytes, %lld ms)%s%s",
	    req->label ? req->label : "http", req->method,
	    req->endpoint ? req->endpoint : "", req->status,
	    (long long)req->response.len, (long long)req->elapsed_ms,
	    req->error[0] ? ": " : "", req->error);
	if (req->done != NULL)
		req->done(req);
	/* done() may have resubmitted req (a new handle) or kept it. */
	if (req->handle == c && !req->kept)
		http_request_free(req);
}

/* SIGTERM: every transfer ends now, its callback sees "interrupted". */
static void
abort_all(struct http *h)
{
	while (h->n_active > 0) {
		struct http_request *req = h->active[--h->n_active];
		curl_multi_remove_handle(h->multi, req->handle);
		h->running--;
		req->elapsed_ms = monotonic_ms() - req->started_ms;
		cancel(req);
	}
	for (size_t i = h->first_waiting; i < h->n_waiting; i++)
		if (h->waiting[i] != NULL) {
			struct http_request *req = h->waiting[i];
			h->waiting[i] = NULL;
			cancel(req);
		}
	h->first_waiting = h->n_waiting = 0;
}

int
http_run(struct http *h)
{
	for (;;) {
		int still = 0, numfds = 0, msgs = 0;
		CURLMsg *m;

		if (h->stop != NULL && *h->stop) {
			abort_all(h);
			break;
		}
		start_waiting(h);
		if (h->running == 0)
			break;
		if (curl_multi_perform(h->multi, &still) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(h->multi, &msgs)) != NULL)
			if (m->msg == CURLMSG_DONE)
				finish_transfer(h, m->easy_handle, m->data.result);
		if (h->running == 0 && h->n_waiting == 0)
			break;
		if (h->running > 0)
			curl_multi_poll(h->multi, NULL, 0, 200, &numfds);
	}
	return (h->stop != NULL && *h->stop) ? -1 : 0;
}

const struct http_stats *
http_stats(const struct http *h)
{
	return &h->stats;
}

const char *
http_failure(const struct http_request *req, char *buf, size_t n)
{
	if (req->status == 0)
		snprintf(buf, n, "%s", req->error[0] ? req->error : "no response");
	else
		snprintf(buf, n, "HTTP %ld", req->status);
	return buf;
}

void
http_client_failure(char **first, const char *name, const char *endpoint,
    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (*first == NULL) {
		*first = xasprintf("%s: %s", endpoint, msg);
		log_error("%s: %s: %s", name, endpoint, msg);
	} else {
		log_debug("%s: %s: %s", name, endpoint, msg);
	}
}
