/* arr: Radarr/Sonarr/Lidarr API client (see arr.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arr.h"
#include "log.h"
#include "util.h"

#define QUEUE_PAGE_SIZE 1000
#define QUEUE_MAX_RECORDS 200000

void
arr_client_init(struct arr_client *c, const struct arr_config *ac, long timeout_s)
{
	memset(c, 0, sizeof(*c));
	c->ac = ac;
	c->timeout_s = timeout_s;
}

void
arr_client_free(struct arr_client *c)
{
	for (size_t i = 0; i < c->n_records; i++)
		queue_record_clear(&c->records[i]);
	free(c->records);
	for (size_t i = 0; i < c->n_clients; i++) {
		free(c->clients[i].name);
		free(c->clients[i].host);
	}
	free(c->clients);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

const char *
arr_api_prefix(enum arr_kind kind)
{
	return kind == ARR_LIDARR ? "/api/v1" : "/api/v3";
}

static const char *
media_key(enum arr_kind kind)
{
	switch (kind) {
	case ARR_RADARR: return "movieId";
	case ARR_SONARR: return "episodeId";
	case ARR_LIDARR: return "albumId";
	}
	return "movieId";
}

static char *
str_or_null(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void
push_id(int64_t **v, size_t *n, int64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = id;
}

/* A page of an Arr's paged list ({"records": [...], ...}); NULL with err. */
static json_t *
load_records_page(const char *data, size_t len, const char *what, json_t **records,
    char *err, size_t errlen)
{
	json_error_t e;
	json_t *doc = json_loadb(data, len, 0, &e);

	if (doc == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", e.position, e.text);
		return NULL;
	}
	*records = json_object_get(doc, "records");
	if (!json_is_object(doc) || !json_is_array(*records)) {
		snprintf(err, errlen, "expected a %s page with records", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int
arr_parse_queue_page(const char *data, size_t len, enum arr_kind kind,
    struct queue_record **recs, size_t *n, int64_t *total, char *err, size_t errlen)
{
	json_t *records, *o;
	json_t *doc = load_records_page(data, len, "queue", &records, err, errlen);
	size_t i;

	if (doc == NULL)
		return -1;
	*total = json_integer_value(json_object_get(doc, "totalRecords"));
	json_array_foreach(records, i, o) {
		const json_t *did = json_object_get(o, "downloadId");
		const json_t *id = json_object_get(o, "id");
		const json_t *media = json_object_get(o, media_key(kind));
		const json_t *cl = json_object_get(o, "downloadClient");
		const char *client = json_is_string(cl) ? json_string_value(cl) : "";
		struct queue_record *r = NULL;
		char up[64];
		size_t k;

		/* Pending releases have no downloadId: nothing of ours. */
		if (!json_is_string(did) || !json_is_integer(id))
			continue;
		snprintf(up, sizeof(up), "%s", json_string_value(did));
		for (char *p = up; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		/* One record per download and client: Sonarr's episodes merge. */
		for (k = 0; k < *n; k++)
			if (strcmp((*recs)[k].download_id, up) == 0 &&
			    strcmp((*recs)[k].client, client) == 0) {
				r = &(*recs)[k];
				break;
			}
		if (r == NULL) {
			*recs = xreallocarray(*recs, *n + 1, sizeof(**recs));
			r = &(*recs)[(*n)++];
			memset(r, 0, sizeof(*r));
			r->download_id = xstrdup(up);
			r->client = xstrdup(client);
			r->status = str_or_null(o, "status");
			r->tracked_state = str_or_null(o, "trackedDownloadState");
			r->tracked_status = str_or_null(o, "trackedDownloadStatus");
		}
		push_id(&r->ids, &r->n_ids, json_integer_value(id));
		if (json_is_integer(media))
			push_id(&r->media_ids, &r->n_media_ids, json_integer_value(media));
		const json_t *sm = json_object_get(o, "statusMessages"), *m;
		size_t j;
		json_array_foreach(sm, j, m) {
			const json_t *msgs = json_object_get(m, "messages"), *s;
			const json_t *title = json_object_get(m, "title");
			size_t l;
			/* Lidarr puts a whole-release rejection in the title only. */
			if (json_is_string(title) && json_array_size(msgs) == 0) {
				r->messages = xreallocarray(r->messages, r->n_messages + 1,
				    sizeof(char *));
				r->messages[r->n_messages++] = xstrdup(json_string_value(title));
			}
			json_array_foreach(msgs, l, s) {
				if (!json_is_string(s))
					continue;
				r->messages = xreallocarray(r->messages, r->n_messages + 1,
				    sizeof(char *));
				r->messages[r->n_messages++] = xstrdup(json_string_value(s));
			}
		}
	}
	json_decref(doc);
	return 0;
}

int
arr_parse_grab(const char *data, size_t len, const char *hash, int64_t *grab_id,
    char *client, size_t clientlen, char *err, size_t errlen)
{
	json_t *records, *o;
	json_t *doc = load_records_page(data, len, "history", &records, err, errlen);
	size_t i;

	*grab_id = 0;
	if (clientlen > 0)
		client[0] = '\0';
	if (doc == NULL)
		return -1;
	json_array_foreach(records, i, o) {
		const json_t *did = json_object_get(o, "downloadId");
		const json_t *id = json_object_get(o, "id");
		const json_t *ev = json_object_get(o, "eventType");

		/* Checked here too: a server that ignored the filters is not believed. */
		if (!json_is_string(did) || strcasecmp(json_string_value(did), hash) != 0 ||
		    !json_is_integer(id) || json_integer_value(id) <= 0)
			continue;
		if (!(json_is_string(ev) && strcmp(json_string_value(ev), "grabbed") == 0) &&
		    !(json_is_integer(ev) && json_integer_value(ev) == 1))
			continue;
		/* The latest grab of the download, and the client it went to. */
		if ((int64_t)json_integer_value(id) > *grab_id) {
			const json_t *data_o = json_object_get(o, "data");
			const json_t *cn = json_object_get(data_o, "downloadClientName");
			if (cn == NULL)
				cn = json_object_get(data_o, "DownloadClientName");
			*grab_id = (int64_t)json_integer_value(id);
			snprintf(client, clientlen, "%s", json_is_string(cn) ?
			    json_string_value(cn) : "");
		}
	}
	json_decref(doc);
	return 0;
}

static int
record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct queue_record *)a)->download_id,
	    ((const struct queue_record *)b)->download_id);
}

static int
record_client_cmp(const void *a, const void *b)
{
	int c = record_cmp(a, b);

	return c != 0 ? c : strcmp(((const struct queue_record *)a)->client,
	    ((const struct queue_record *)b)->client);
}

void
arr_sort_records(struct queue_record *recs, size_t n)
{
	if (n > 1)
		qsort(recs, n, sizeof(*recs), record_client_cmp);
}

const struct queue_record *
arr_find_record(const struct arr_client *c, const char *hash)
{
	struct queue_record key;
	char up[64];

	snprintf(up, sizeof(up), "%s", hash);
	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	memset(&key, 0, sizeof(key));
	key.download_id = up;
	if (c->n_records == 0)
		return NULL;
	const struct queue_record *r = bsearch(&key, c->records, c->n_records,
	    sizeof(key), record_cmp);
	/* The first of the download's records (one per client). */
	while (r != NULL && r > c->records && record_cmp(r - 1, &key) == 0)
		r--;
	return r;
}

size_t
arr_count_records(const struct arr_client *c, const struct queue_record *first)
{
	size_t n = 0;

	while (first != NULL && first + n < c->records + c->n_records &&
	    record_cmp(first + n, first) == 0)
		n++;
	return n;
}

int
arr_parse_downloadclients(const char *data, size_t len, struct arr_dlclient **out,
    size_t *n, char *err, size_t errlen)
{
	json_error_t e;
	json_t *doc = json_loadb(data, len, 0, &e), *o;
	size_t i;

	*out = NULL;
	*n = 0;
	if (doc == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", e.position, e.text);
		return -1;
	}
	if (!json_is_array(doc)) {
		snprintf(err, errlen, "expected a JSON array of download clients");
		json_decref(doc);
		return -1;
	}
	json_array_foreach(doc, i, o) {
		const json_t *name = json_object_get(o, "name");
		const json_t *fields = json_object_get(o, "fields"), *f;
		struct arr_dlclient dc;
		size_t k;

		if (!json_is_string(name))
			continue;
		memset(&dc, 0, sizeof(dc));
		json_array_foreach(fields, k, f) {
			const json_t *fn = json_object_get(f, "name");
			const json_t *fv = json_object_get(f, "value");
			if (!json_is_string(fn))
				continue;
			if (strcmp(json_string_value(fn), "host") == 0 && json_is_string(fv) &&
			    dc.host == NULL)
				dc.host = xstrdup(json_string_value(fv));
			else if (strcmp(json_string_value(fn), "port") == 0 &&
			    json_is_integer(fv) && json_integer_value(fv) > 0 &&
			    json_integer_value(fv) < 65536)
				dc.port = (int)json_integer_value(fv);
		}
		if (dc.host == NULL || dc.port == 0) {
			free(dc.host);
			continue;	/* not a host:port client (a blackhole, ...) */
		}
		dc.name = xstrdup(json_string_value(name));
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = dc;
	}
	json_decref(doc);
	return 0;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (s == NULL) {
		fputs("qbitrr-sweep: out of memory\n", stderr);
		abort();
	}
	/* jansson allocates with malloc: the caller's free() is right. */
	return s;
}

char *
arr_scan_body(enum arr_kind kind, const char *path, const char *hash, const char *import_mode)
{
	static const char *const names[] = { "DownloadedMoviesScan",
	    "DownloadedEpisodesScan", "DownloadedAlbumsScan" };
	char up[64], *cpath = str_utf8_clean(path), *cmode, *chash, *body;

	cmode = str_utf8_clean(import_mode ? import_mode : "Auto");
	snprintf(up, sizeof(up), "%s", hash);
	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	chash = str_utf8_clean(up);	/* the cut at 63 bytes may split a character */
	body = dump(json_pack("{s:s, s:s, s:s, s:s}", "name", names[kind],
	    "path", cpath, "downloadClientId", chash, "importMode", cmode));
	free(cpath);
	free(cmode);
	free(chash);
	return body;
}

char *
arr_search_body(enum arr_kind kind, const int64_t *media_ids, size_t n)
{
	static const char *const names[] = { "MoviesSearch", "EpisodeSearch", "AlbumSearch" };
	static const char *const keys[] = { "movieIds", "episodeIds", "albumIds" };
	json_t *ids = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_integer(media_ids[i]));
	return dump(json_pack("{s:s, s:o}", "name", names[kind], keys[kind], ids));
}

char *
arr_bulk_body(const int64_t *ids, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(ids[i]));
	return dump(json_pack("{s:o}", "ids", a));
}

int
arr_parse_command(const char *data, size_t len, int64_t *id, char *status,
    size_t status_len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *doc = json_loadb(data, len, 0, &e);
	const json_t *v;

	if (doc == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", e.position, e.text);
		return -1;
	}
	v = json_object_get(doc, "id");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "command answer without an id");
		json_decref(doc);
		return -1;
	}
	*id = json_integer_value(v);
	v = json_object_get(doc, "status");
	snprintf(status, status_len, "%s", json_is_string(v) ? json_string_value(v) : "unknown");
	/* A scan that imported nothing still ends "completed", result "unsuccessful". */
	v = json_object_get(doc, "result");
	if (strcmp(status, "completed") == 0 && json_is_string(v) &&
	    strcmp(json_string_value(v), "unsuccessful") == 0)
		snprintf(status, status_len, "unsuccessful");
	json_decref(doc);
	return 0;
}

void
arr_client_fail(struct arr_client *c, const char *endpoint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_client_failure(&c->error, c->ac->name, endpoint, fmt, ap);
	va_end(ap);
}

static struct http_request *
arr_request(struct arr_client *c, const char *method, const char *label, char *path,
    char *json, http_done_fn done, void *arg)
{
	char *url = xasprintf("%s%s/%s", c->ac->uri, arr_api_prefix(c->ac->kind), path);
	struct http_request *req = http_request_new(method, url);

	free(path);
	req->label = c->ac->name;
	req->endpoint = label;
	req->timeout_s = c->timeout_s;
	req->skip_tls_verify = c->ac->skip_tls_verify;
	if (c->ac->api_key != NULL)
		req->api_key = xstrdup(c->ac->api_key);
	if (json != NULL) {
		req->body = json;
		req->content_type = "application/json";
	}
	req->done = done;
	req->arg = arg;
	return req;
}

void
arr_call(struct arr_client *c, struct http *h, const char *method, const char *label,
    char *path, char *json, http_done_fn done, void *arg)
{
	http_submit(h, arr_request(c, method, label, path, json, done, arg));
}

int
arr_check(struct arr_client *c, struct http_request *req)
{
	char why[300];

	if (req->status >= 200 && req->status < 300)
		return 0;
	if (req->status == 401)
		arr_client_fail(c, req->endpoint, "HTTP 401: APIKey rejected");
	else if (req->status == 301 || req->status == 302 || req->status == 307 ||
	    req->status == 308)
		/* An Arr answers 307 to a path without its URL base. */
		arr_client_fail(c, req->endpoint, "HTTP %ld: redirected; the Arr's URL "
		    "Base (Settings, General) is probably missing from URI", req->status);
	else
		arr_client_fail(c, req->endpoint, "%s", http_failure(req, why, sizeof(why)));
	return -1;
}

struct queue_fetch {
	struct arr_client *c;
	struct http *h;
	void (*done_all)(struct arr_client *);
};

static char *
queue_path(const struct arr_client *c, int64_t page_size)
{
	static const char *const unknown[] = { "includeUnknownMovieItems",
	    "includeUnknownSeriesItems", "includeUnknownArtistItems" };

	return xasprintf("queue?page=1&pageSize=%lld&%s=true", (long long)page_size,
	    unknown[c->ac->kind]);
}

static void
queue_page_done(struct http_request *req)
{
	struct queue_fetch *qf = req->arg;
	struct arr_client *c = qf->c;
	char err[256];
	int64_t total = 0;

	c->pages_pending--;
	if (!c->queue_failed) {
		if (arr_check(c, req) == -1) {
			c->queue_failed = true;
		} else if (arr_parse_queue_page(req->response.data ? req->response.data : "",
		    req->response.len, c->ac->kind, &c->records, &c->n_records, &total,
		    err, sizeof(err)) == -1) {
			arr_client_fail(c, "queue", "%s", err);
			c->queue_failed = true;
		} else if (req->tag == 1 && (total < 0 || total > QUEUE_MAX_RECORDS)) {
			/* A runaway count would mean millions of page requests. */
			arr_client_fail(c, "queue", "totalRecords %lld is beyond any real "
			    "queue (at most %d); not paging through it",
			    (long long)total, QUEUE_MAX_RECORDS);
			c->queue_failed = true;
		} else if (req->tag == 1 && total > QUEUE_PAGE_SIZE) {
			/*
			 * More than one page: the Arr sorts its queue in memory by
			 * time left, which moves while one pages through it, so a
			 * record could be seen twice or never.  Ask again for all
			 * of it in one page (pageSize has no upper limit).
			 */
			for (size_t i = 0; i < c->n_records; i++)
				queue_record_clear(&c->records[i]);
			c->n_records = 0;
			c->total_records = total;
			c->pages_pending++;
			arr_call(c, qf->h, "GET", "queue", queue_path(c, total), NULL,
			    queue_page_done, qf);
		} else if (req->tag == 1) {
			c->total_records = total;
		}
	}
	if (c->pages_pending == 0) {
		c->queue_fetched = !c->queue_failed;
		if (c->queue_fetched)
			arr_sort_records(c->records, c->n_records);
		qf->done_all(c);
		free(qf);
	}
}

static void
clients_done(struct http_request *req)
{
	struct queue_fetch *qf = req->arg;
	struct arr_client *c = qf->c;
	char err[256];

	c->pages_pending--;
	if (arr_check(c, req) == -1 ||
	    arr_parse_downloadclients(req->response.data ? req->response.data : "",
	    req->response.len, &c->clients, &c->n_clients, err, sizeof(err)) == -1) {
		if (req->status >= 200 && req->status < 300)
			log_warn("%s: downloadclient: %s", c->ac->name, err);
		c->clients_failed = true;
	} else {
		c->clients_fetched = true;
	}
	if (c->pages_pending == 0) {
		c->queue_fetched = !c->queue_failed;
		if (c->queue_fetched)
			arr_sort_records(c->records, c->n_records);
		qf->done_all(c);
		free(qf);
	}
}

void
arr_fetch_queue(struct arr_client *c, struct http *h, void (*done_all)(struct arr_client *))
{
	struct queue_fetch *qf = xcalloc(1, sizeof(*qf));
	struct http_request *req;

	qf->c = c;
	qf->h = h;
	qf->done_all = done_all;
	/*
	 * The Arr's download clients (host, port) come with the queue: they
	 * tell which record is which instance's when a hash is on two.
	 */
	c->pages_pending = 2;
	req = arr_request(c, "GET", "queue", queue_path(c, QUEUE_PAGE_SIZE), NULL,
	    queue_page_done, qf);
	req->tag = 1;	/* page 1's answer fans out the remaining pages */
	http_submit(h, req);
	http_submit(h, arr_request(c, "GET", "downloadclient", xstrdup("downloadclient"),
	    NULL, clients_done, qf));
}
