/* qbit: qBittorrent WebUI API v2 client (see qbit.h). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "qbit.h"
#include "util.h"

/* ---- pure parsing ---------------------------------------------------- */

static char *
json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return xstrdup("");
}

static double
json_num(const json_t *obj, const char *key, double dflt)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? 1 : 0;
	return dflt;
}

static int64_t
json_int(const json_t *obj, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d > -9.2e18 && d < 9.2e18)
			return (int64_t)d;
	}
	return dflt;
}

static json_t *
load_json(const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *doc = json_loadb(data, len, JSON_ALLOW_NUL, &e);

	if (doc == NULL)
		snprintf(err, errlen, "malformed JSON at byte %d: %s", e.position, e.text);
	return doc;
}

/* A document that must be a JSON array of "what"; NULL with err otherwise. */
static json_t *
load_array(const char *data, size_t len, const char *what, char *err, size_t errlen)
{
	json_t *doc = load_json(data, len, err, errlen);

	if (doc != NULL && !json_is_array(doc)) {
		snprintf(err, errlen, "expected a JSON array of %s", what);
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

int
qbit_parse_categories(const char *data, size_t len, struct strlist *out,
    char *err, size_t errlen)
{
	json_t *doc = load_json(data, len, err, errlen), *v;
	const char *key;

	if (doc == NULL)
		return -1;
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "expected a JSON object of categories");
		json_decref(doc);
		return -1;
	}
	json_object_foreach(doc, key, v) {
		out->items = xreallocarray(out->items, out->n + 1, sizeof(char *));
		out->items[out->n++] = xstrdup(key);
	}
	json_decref(doc);
	return 0;
}

int
qbit_parse_files(const char *data, size_t len, struct qbit_file_list *out,
    char *err, size_t errlen)
{
	json_t *doc, *o;
	size_t i;

	if ((doc = load_array(data, len, "files", err, errlen)) == NULL)
		return -1;
	out->items = xcalloc(json_array_size(doc) + 1, sizeof(*out->items));
	out->n = 0;
	json_array_foreach(doc, i, o) {
		struct qbit_file *f = &out->items[out->n];
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")))
			continue;
		f->index = (int)json_int(o, "index", (int64_t)i);
		f->name = json_str(o, "name");
		f->priority = (int)json_int(o, "priority", 1);
		f->progress = json_num(o, "progress", 0);
		f->size = json_int(o, "size", 0);
		out->n++;
	}
	json_decref(doc);
	return 0;
}

int
qbit_parse_trackers(const char *data, size_t len, struct qbit_tracker_list *out,
    char *err, size_t errlen)
{
	json_t *doc, *o;
	size_t i;

	if ((doc = load_array(data, len, "trackers", err, errlen)) == NULL)
		return -1;
	out->items = xcalloc(json_array_size(doc) + 1, sizeof(*out->items));
	out->n = 0;
	json_array_foreach(doc, i, o) {
		const json_t *url = json_object_get(o, "url");
		if (!json_is_object(o) || !json_is_string(url))
			continue;
		/* DHT, PeX and LSD are listed as "** [DHT] **" pseudo-trackers. */
		if (strncmp(json_string_value(url), "** [", 4) == 0)
			continue;
		out->items[out->n].url = xstrdup(json_string_value(url));
		out->items[out->n].msg = json_str(o, "msg");
		out->items[out->n].status = (int)json_int(o, "status", 1);
		out->n++;
	}
	json_decref(doc);
	return 0;
}

bool
qbit_api_is_v5(const char *v)
{
	int major = 0, minor = 0;

	if (v == NULL || sscanf(v, "%d.%d", &major, &minor) < 2)
		return false;
	return major > 2 || (major == 2 && minor >= 11);
}

int
qbit_parse_version(const char *v, int out[3])
{
	int n = 0;

	if (v == NULL)
		return -1;
	if (*v == 'v' || *v == 'V')
		v++;
	out[0] = out[1] = out[2] = 0;
	while (n < 3) {
		long x;
		char *end;
		if (!isdigit((unsigned char)*v))
			return -1;
		errno = 0;
		x = strtol(v, &end, 10);
		if (errno != 0 || x > 9999)
			return -1;
		out[n++] = (int)x;
		v = end;
		if (*v != '.')
			break;
		v++;
	}
	return n >= 2 ? 0 : -1;
}

int
qbit_version_check(struct qbit_client *qc)
{
	int v[3];

	if (qbit_parse_version(qc->version, v) == -1) {
		char shown[64];
		log_sanitize(qc->version ? qc->version : "", shown, sizeof(shown));
		qbit_client_fail(qc, "app/version", "unrecognised version \"%s\"; "
		    "not swept", shown);
		return -1;
	}
	if (v[0] * 10000 + v[1] * 100 + v[2] < QBIT_MIN_MAJOR * 10000 +
	    QBIT_MIN_MINOR * 100 + QBIT_MIN_PATCH) {
		qbit_client_fail(qc, "app/version", "qBittorrent %d.%d.%d is older than "
		    "%d.%d.%d, the oldest supported (its torrent lists lack content_path); "
		    "not swept", v[0], v[1], v[2], QBIT_MIN_MAJOR, QBIT_MIN_MINOR,
		    QBIT_MIN_PATCH);
		return -1;
	}
	return 0;
}

/* ---- the client ------------------------------------------------------ */

void
qbit_client_init(struct qbit_client *qc, const struct instance_config *ic, long timeout_s)
{
	memset(qc, 0, sizeof(*qc));
	qc->ic = ic;
	qc->timeout_s = timeout_s;
	qc->free_space = -1;
}

void
qbit_client_free(struct qbit_client *qc)
{
	if (qc->cookie != NULL) {
		memset(qc->cookie, 0, strlen(qc->cookie));
		free(qc->cookie);
	}
	free(qc->version);
	free(qc->api_version);
	free(qc->error);
	for (size_t i = 0; i < qc->categories.n; i++)
		free(qc->categories.items[i]);
	free(qc->categories.items);
	qbit_torrent_list_free(&qc->torrents);
	memset(qc, 0, sizeof(*qc));
}

void
qbit_client_fail(struct qbit_client *qc, const char *endpoint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_client_failure(&qc->error, qc->ic->name, endpoint, fmt, ap);
	va_end(ap);
}

struct call_ctx {
	struct qbit_client *qc;
	struct http	*h;
	http_done_fn	 done;
};

static struct http_request *
make_request(struct qbit_client *qc, const char *method, const char *endpoint,
    char *query)
{
	char *url = xasprintf("%s/api/v2/%s%s%s", qc->ic->base_url, endpoint,
	    query ? "?" : "", query ? query : "");
	struct http_request *req = http_request_new(method, url);

	free(query);
	req->label = qc->ic->name;
	req->endpoint = endpoint;
	req->timeout_s = qc->timeout_s;
	req->skip_tls_verify = qc->ic->skip_tls_verify;
	if (qc->cookie != NULL)
		req->cookie = xstrdup(qc->cookie);
	return req;
}

/* True if the answer is a ban message (403 with "banned"). */
static bool
qbit_is_ban(const struct http_request *req)
{
	return req->status == 403 && req->response.data != NULL &&
	    str_casestr(req->response.data, "banned") != NULL;
}

static void relogin_done(struct http_request *login);

static void
call_done(struct http_request *req)
{
	struct call_ctx *ctx = req->wrap;
	struct qbit_client *qc = ctx->qc;

	if (req->status == 403 && !qbit_is_ban(req) && !qc->relogged &&
	    !qc->banned && qc->ic->username != NULL) {
		/* Session expired: log in once more, then send this call again. */
		qc->relogged = true;
		log_info("%s: %s: session expired (HTTP 403), logging in again",
		    qc->ic->name, req->endpoint);
		http_keep(req);
		qbit_login(qc, ctx->h, relogin_done, req);
		return;
	}
	if (qbit_is_ban(req))
		qc->banned = true;
	req->wrap = NULL;
	ctx->done(req);
	free(ctx);
}

static void
relogin_done(struct http_request *login)
{
	struct http_request *orig = login->arg;
	struct call_ctx *ctx = orig->wrap;

	if (qbit_login_result(ctx->qc, login) == 0) {
		free(orig->cookie);
		orig->cookie = ctx->qc->cookie ? xstrdup(ctx->qc->cookie) : NULL;
		http_submit(ctx->h, orig);
		return;
	}
	/* Give the caller the original 403; it frees nothing itself. */
	orig->wrap = NULL;
	ctx->done(orig);
	free(ctx);
	http_request_free(orig);
}

void
qbit_call(struct qbit_client *qc, struct http *h, const char *method,
    const char *endpoint, char *query, char *body, http_done_fn done, void *arg)
{
	struct http_request *req = make_request(qc, method, endpoint, query);
	struct call_ctx *ctx = xcalloc(1, sizeof(*ctx));

	req->body = body;
	ctx->qc = qc;
	ctx->h = h;
	ctx->done = done;
	req->arg = arg;
	req->wrap = ctx;
	req->done = call_done;
	http_submit(h, req);
}

void
qbit_login(struct qbit_client *qc, struct http *h, http_done_fn done, void *arg)
{
	struct http_request *req = make_request(qc, "POST", "auth/login", NULL);
	struct buf body;

	buf_init(&body);
	buf_puts(&body, "username=");
	buf_urlencode(&body, qc->ic->username ? qc->ic->username : "");
	buf_puts(&body, "&password=");
	buf_urlencode(&body, qc->ic->password ? qc->ic->password : "");
	req->body = body.data;
	free(req->cookie);
	req->cookie = NULL;
	req->done = done;
	req->arg = arg;
	http_submit(h, req);
}

static void
logout_done(struct http_request *req)
{
	struct qbit_client *qc = req->arg;
	char why[300];

	/* Nothing depends on it: a session left behind only expires later. */
	if (req->status < 200 || req->status >= 300)
		log_debug("%s: auth/logout: %s", qc->ic->name,
		    http_failure(req, why, sizeof(why)));
}

void
qbit_logout(struct qbit_client *qc, struct http *h)
{
	struct http_request *req;

	if (qc->cookie == NULL)
		return;
	req = make_request(qc, "POST", "auth/logout", NULL);
	req->body = xstrdup("");
	req->done = logout_done;
	req->arg = qc;
	http_submit(h, req);
	memset(qc->cookie, 0, strlen(qc->cookie));
	free(qc->cookie);
	qc->cookie = NULL;
}

int
qbit_login_result(struct qbit_client *qc, struct http_request *req)
{
	char why[300];
	const char *text = req->response.data ? req->response.data : "";

	if (req->body != NULL) {
		/* The form holds the password: drop it as soon as it is sent. */
		memset(req->body, 0, strlen(req->body));
	}
	if (qbit_is_ban(req)) {
		qc->banned = true;
		qbit_client_fail(qc, "auth/login", "this IP is banned by qBittorrent "
		    "after too many failed logins; not retrying this run");
		return -1;
	}
	if (req->status == 0) {
		qbit_client_fail(qc, "auth/login", "%s", http_failure(req, why, sizeof(why)));
		return -1;
	}
	/* 4.x to 5.1 answer 200 "Ok.", 5.2 and later 204 with no body. */
	if ((req->status == 200 && strncmp(text, "Ok.", 3) == 0) ||
	    (req->status == 204 && req->response.len == 0)) {
		if (req->set_cookie != NULL) {
			free(qc->cookie);
			qc->cookie = xstrdup(req->set_cookie);
		}
		return 0;
	}
	if (req->status == 200 && strncmp(text, "Fails.", 6) == 0) {
		qbit_client_fail(qc, "auth/login", "login refused: wrong UserName or Password");
		return -1;
	}
	if (req->status == 401) {
		/* Up to 5.1 a 401 never comes from the password check. */
		qbit_client_fail(qc, "auth/login", "HTTP 401: wrong UserName or Password "
		    "on qBittorrent 5.2 and later; up to 5.1 the request was refused "
		    "before any password check, by its Host header validation or CSRF "
		    "protection (a proxy or a remapped port: see the WebUI's "
		    "\"Server domains\" and host header options)");
		return -1;
	}
	qbit_client_fail(qc, "auth/login", "unexpected answer (%s)",
	    http_failure(req, why, sizeof(why)));
	return -1;
}

int
qbit_check(struct qbit_client *qc, struct http_request *req)
{
	char why[300];

	if (req->status >= 200 && req->status < 300)
		return 0;
	if (qbit_is_ban(req)) {
		qbit_client_fail(qc, req->endpoint, "this IP is banned by qBittorrent "
		    "after too many failed logins; not retrying this run");
		return -1;
	}
	if (req->status == 403)
		qbit_client_fail(qc, req->endpoint, "HTTP 403 Forbidden (not logged in)");
	else
		qbit_client_fail(qc, req->endpoint, "%s", http_failure(req, why, sizeof(why)));
	return -1;
}

const char *
qbit_pause_endpoint(const struct qbit_client *qc)
{
	return qbit_api_is_v5(qc->api_version) ? "torrents/stop" : "torrents/pause";
}

const char *
qbit_resume_endpoint(const struct qbit_client *qc)
{
	return qbit_api_is_v5(qc->api_version) ? "torrents/start" : "torrents/resume";
}
