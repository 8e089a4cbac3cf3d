/* sweep: discover -> reconcile -> decide -> act -> record (see sweep.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "arr.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "qbit.h"
#include "state.h"
#include "sweep.h"
#include "sweep_p.h"
#include "util.h"

static struct qbit_torrent *
item_torrent(const struct item *it)
{
	return &it->in->qc.torrents.items[it->index];
}

/* ---- discover -------------------------------------------------------- */

static void step_lists(struct inst *in);

/* One request of discovery ended; the instance is listed when all have. */
static void
step_done(struct inst *in)
{
	if (--in->pending > 0 || in->failed)
		return;
	if (in->qc.api_version == NULL || in->qc.api_version[0] == '\0') {
		qbit_client_fail(&in->qc, "app/webapiVersion", "empty answer");
		in->failed = true;
		return;
	}
	if (qbit_version_check(&in->qc) == -1) {
		in->failed = true;
		return;
	}
	in->qc.reachable = true;
}

static void
info_done(struct http_request *req)
{
	struct inst *in = req->arg;
	const char *ep = req->endpoint;
	const char *body = req->response.data ? req->response.data : "";
	char err[256];

	if (in->failed || qbit_check(&in->qc, req) == -1) {
		in->failed = true;
	} else if (strcmp(ep, "app/version") == 0) {
		free(in->qc.version);
		in->qc.version = xstrdup(body);
	} else if (strcmp(ep, "app/webapiVersion") == 0) {
		free(in->qc.api_version);
		in->qc.api_version = xstrdup(body);
	} else if (strcmp(ep, "torrents/categories") == 0) {
		if (qbit_parse_categories(body, req->response.len, &in->qc.categories,
		    err, sizeof(err)) == -1) {
			qbit_client_fail(&in->qc, ep, "%s", err);
			in->failed = true;
		}
	} else if (qbit_parse_free_space(body, req->response.len, &in->qc.free_space,
	    err, sizeof(err)) == -1) {
		qbit_client_fail(&in->qc, ep, "%s", err);
		in->failed = true;
	}
	step_done(in);
}

static void
step_info(struct inst *in)
{
	static const char *const endpoints[] = { "app/version", "app/webapiVersion",
	    "torrents/categories" };
	bool want_space = in->sw->want_free_space || (!in->sw->read_only_discovery &&
	    config_instance_free_space(in->sw->cfg, in->qc.ic) >= 0);

	/*
	 * The versions are read in every session, never carried over from an
	 * earlier run: an instance upgraded from 4.x to 5.x between two runs
	 * renames pause/resume to stop/start.  The lists need only the
	 * session: they go out with the rest, in one round trip.
	 */
	in->pending = 3 + (want_space ? 1 : 0);
	step_lists(in);
	for (int i = 0; i < 3; i++)
		qbit_call(&in->qc, in->sw->http, "GET", endpoints[i], NULL, NULL,
		    info_done, in);
	/* Free space is only in sync/maindata, which costs a full list: only when asked. */
	if (want_space)
		qbit_call(&in->qc, in->sw->http, "GET", "sync/maindata", xstrdup("rid=0"),
		    NULL, info_done, in);
}

static void
login_done(struct http_request *req)
{
	struct inst *in = req->arg;

	if (qbit_login_result(&in->qc, req) == -1) {
		in->failed = true;
		return;
	}
	step_info(in);
}

/* One torrents/info list: for one managed category, or unfiltered (cat NULL). */
struct list_ctx {
	struct inst	*in;
	const char	*cat;		/* borrowed from the config */
};

/*
 * qBittorrent's category=X also returns the subcategories X/... (always
 * from 5.2, as an option before): a torrent belongs to the list of its own
 * category only, so none is listed twice and radarr/4k is not radarr's
 * unless the Arr asks for MatchSubcategories.
 */
static bool
keep_listed(const struct qbit_torrent *t, void *arg)
{
	const struct list_ctx *lc = arg;

	if (lc->cat != NULL)
		return strcmp(t->category, lc->cat) == 0;
	return policy_category_managed(lc->in->sw->cfg, t->category);
}

static void
list_done(struct http_request *req)
{
	struct list_ctx *lc = req->arg;
	struct inst *in = lc->in;
	struct qbit_torrent_list tmp;
	size_t skipped = 0;
	char err[256];

	memset(&tmp, 0, sizeof(tmp));
	if (in->failed || qbit_check(&in->qc, req) == -1) {
		in->failed = true;
	} else if (qbit_parse_torrents(req->response.data ? req->response.data : "",
	    req->response.len, &tmp, &skipped, err, sizeof(err)) == -1) {
		qbit_client_fail(&in->qc, "torrents/info", "%s", err);
		in->failed = true;
	} else {
		if (skipped > 0)
			log_warn("%s: torrents/info: %zu entries without a valid hash ignored",
			    in->qc.ic->name, skipped);
		qbit_torrent_list_retain(&tmp, keep_listed, lc);
		qbit_torrent_list_move(&in->qc.torrents, &tmp);
	}
	qbit_torrent_list_free(&tmp);
	free(lc);
	test_kill_point("discover");
	step_done(in);
}

static void
list_one(struct inst *in, const char *cat)
{
	struct list_ctx *lc = xcalloc(1, sizeof(*lc));
	struct buf q;

	lc->in = in;
	lc->cat = cat;
	in->pending++;
	if (cat == NULL) {
		qbit_call(&in->qc, in->sw->http, "GET", "torrents/info", NULL, NULL,
		    list_done, lc);
		return;
	}
	buf_init(&q);
	buf_puts(&q, "category=");
	buf_urlencode(&q, cat);
	qbit_call(&in->qc, in->sw->http, "GET", "torrents/info", q.data, NULL,
	    list_done, lc);
}

static void
step_lists(struct inst *in)
{
	const struct config *cfg = in->sw->cfg;

	/*
	 * Subcategories come with category=X only when the server says so (an
	 * option before 5.2): an Arr with MatchSubcategories needs the whole
	 * list, filtered here, as qBitrr does.
	 */
	for (size_t i = 0; i < cfg->n_arrs; i++)
		if (cfg->arrs[i].managed && cfg->arrs[i].match_subcategories) {
			list_one(in, NULL);
			return;
		}
	for (size_t i = 0; i < cfg->n_managed_categories; i++)
		list_one(in, cfg->managed_categories[i]);
}

void
sweep_discover(struct sweep *sw)
{
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		if (in->qc.ic->username != NULL)
			qbit_login(&in->qc, sw->http, login_done, in);
		else
			step_info(in);
	}
	http_run(sw->http);
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		if (!in->qc.reachable) {
			in->failed = true;
			sw->partial = true;
			if (in->qc.error == NULL)
				qbit_client_fail(&in->qc, "discovery", "interrupted");
		} else {
			log_debug("%s: qBittorrent %s (API %s): %zu managed torrents",
			    in->qc.ic->name, in->qc.version, in->qc.api_version,
			    in->qc.torrents.n);
		}
	}
}

/* ---- the clock --------------------------------------------------------- */

int
sweep_clock(struct sweep *sw)
{
	struct policy_clock c;
	int64_t last, pending;

	if (state_clock(sw->st, &last, &pending) == -1)
		return -1;
	policy_clock_check(sw->now, last, pending, &c);
	sw->now = c.now;
	sw->clock_refuse = c.refuse;
	sw->clock_pending = c.pending;
	snprintf(sw->clock_why, sizeof(sw->clock_why), "%s", c.why);
	if (c.refuse) {
		log_error("%s", c.why);
		sw->partial = true;
	}
	if (c.shift != 0) {
		log_warn("%s", c.why);
		sw->clock_shift = c.shift;
		if (!sw->opt->dry_run && state_shift_clocks(sw->st, c.shift) == -1)
			return -1;
	}
	return 0;
}

/* ---- setup and teardown ---------------------------------------------- */

static void
outcomes_free(struct outcomes *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i]->reason);
		free(o->v[i]->detail);
		free(o->v[i]->error);
		free(o->v[i]->category);
		free(o->v[i]->media_ids);
		free(o->v[i]->owed_hash);
		free(o->v[i]->owed_name);
		free(o->v[i]);
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}

int
sweep_init(struct sweep *sw, const struct config *cfg, const struct sweep_options *opt,
    volatile sig_atomic_t *stop)
{
	memset(sw, 0, sizeof(*sw));
	sw->cfg = cfg;
	sw->opt = opt;
	sw->stop = stop;
	sw->now = now_seconds();
	sw->started = time(NULL);
	sw->t0 = monotonic_ms();
	sw->http = http_new(stop);
	if (sw->http == NULL)
		return -1;
	http_set_max_response(sw->http, cfg->settings.max_response);
	sw->insts = xcalloc(cfg->n_instances, sizeof(*sw->insts));
	for (size_t i = 0; i < cfg->n_instances; i++) {
		if (cfg->instances[i].disabled)
			continue;
		struct inst *in = &sw->insts[sw->n_insts++];
		in->sw = sw;
		qbit_client_init(&in->qc, &cfg->instances[i],
		    (long)cfg->settings.http_timeout);
	}
	sw->arrs = xcalloc(cfg->n_arrs, sizeof(*sw->arrs));
	for (size_t i = 0; i < cfg->n_arrs; i++)
		arr_client_init(&sw->arrs[i], &cfg->arrs[i], (long)cfg->settings.http_timeout);
	return 0;
}

void
sweep_fini(struct sweep *sw)
{
	/*
	 * Every command that logged in logs out: no session left behind.  Not
	 * under --dry-run, which sends nothing that changes a server.
	 */
	if (sw->http != NULL && (sw->stop == NULL || !*sw->stop) &&
	    (sw->opt == NULL || !sw->opt->dry_run)) {
		for (size_t i = 0; i < sw->n_insts; i++)
			qbit_logout(&sw->insts[i].qc, sw->http);
		http_run(sw->http);
	}
	for (size_t i = 0; i < sw->n_items; i++) {
		qbit_file_list_free(&sw->items[i].files);
		qbit_tracker_list_free(&sw->items[i].trackers);
		policy_decision_free(&sw->items[i].d);
	}
	free(sw->items);
	for (size_t i = 0; i < sw->n_insts; i++) {
		qbit_client_free(&sw->insts[i].qc);
		qbit_torrent_list_free(&sw->insts[i].all);
	}
	free(sw->insts);
	for (size_t i = 0; sw->arrs != NULL && i < sw->cfg->n_arrs; i++)
		arr_client_free(&sw->arrs[i]);
	free(sw->arrs);
	outcomes_free(&sw->outcomes);
	state_rows_free(&sw->rows);
	state_close(sw->st);
	http_free(sw->http);
	memset(sw, 0, sizeof(*sw));
}

struct arr_client *
sweep_arr_client(struct sweep *sw, const struct arr_config *ac)
{
	if (ac == NULL)
		return NULL;
	return &sw->arrs[ac - sw->cfg->arrs];
}

/* ---- reconcile and decide -------------------------------------------- */

static int
item_hash_cmp(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a;
	const struct item *y = *(const struct item *const *)b;

	return strcmp(item_torrent(x)->hash, item_torrent(y)->hash);
}

/* Which items share their hash with an item of another instance. */
static void
mark_multi(struct sweep *sw)
{
	struct item **v = xcalloc(sw->n_items + 1, sizeof(*v));
	size_t i, j;

	for (i = 0; i < sw->n_items; i++)
		v[i] = &sw->items[i];
	qsort(v, sw->n_items, sizeof(*v), item_hash_cmp);
	for (i = 0; i < sw->n_items; i = j) {
		for (j = i + 1; j < sw->n_items && item_hash_cmp(&v[i], &v[j]) == 0; j++)
			;
		for (size_t k = i; j - i > 1 && k < j; k++)
			v[k]->multi = true;
	}
	free(v);
}

/* Host and port of a URL ("https://h/x" is port 443); false if unreadable. */
static bool
url_host_port(const char *url, char *host, size_t n, int *port)
{
	const char *p = strstr(url, "://"), *end, *hend, *colon = NULL;
	bool tls = strncasecmp(url, "https://", 8) == 0;
	long v;
	char *e;

	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(end - p));
		if (hend == NULL)
			return false;
		p++;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hend = colon != NULL ? colon : end;
	}
	if (hend <= p || (size_t)(hend - p) >= n)
		return false;
	memcpy(host, p, (size_t)(hend - p));
	host[hend - p] = '\0';
	if (colon == NULL) {
		*port = tls ? 443 : 80;
		return true;
	}
	v = strtol(colon + 1, &e, 10);
	if (e != end || v <= 0 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/* The instance an Arr's download client (by name) reaches, or NULL. */
static struct inst *
client_instance(struct sweep *sw, const struct arr_client *c, const char *name)
{
	for (size_t i = 0; i < c->n_clients; i++) {
		if (strcmp(c->clients[i].name, name) != 0)
			continue;
		for (size_t k = 0; k < sw->n_insts; k++) {
			char host[256];
			int port;
			if (url_host_port(sw->insts[k].qc.ic->base_url, host, sizeof(host), &port) &&
			    port == c->clients[i].port &&
			    strcasecmp(host, c->clients[i].host) == 0)
				return &sw->insts[k];
		}
		return NULL;
	}
	return NULL;
}

/*
 * The item's record among its download's records in one Arr's queue.  A
 * hash on one instance with one record: that record.  Otherwise the Arr's
 * download clients (host, port) say whose each record is: this instance's
 * (PRESENT), all other instances' (ABSENT), or not known (AMBIGUOUS: kept).
 */
static enum queue_fact
record_for(struct sweep *sw, struct item *it, const struct arr_client *c,
    const struct queue_record **rec)
{
	const struct queue_record *first = arr_find_record(c, item_torrent(it)->hash);
	size_t n = arr_count_records(c, first);
	bool all_known = true;

	*rec = NULL;
	if (first == NULL)
		return QUEUE_ABSENT;
	if (n == 1 && !it->multi) {
		*rec = first;
		return QUEUE_PRESENT;
	}
	if (!c->clients_fetched)
		return QUEUE_AMBIGUOUS;
	for (size_t k = 0; k < n; k++) {
		struct inst *owner = client_instance(sw, c, first[k].client);
		if (owner == it->in) {
			if (*rec != NULL) {
				*rec = NULL;		/* two clients for one instance */
				return QUEUE_AMBIGUOUS;
			}
			*rec = &first[k];
		} else if (owner == NULL) {
			all_known = false;
		}
	}
	if (*rec != NULL)
		return QUEUE_PRESENT;
	return all_known ? QUEUE_ABSENT : QUEUE_AMBIGUOUS;
}

/* The same for a grab found in the history. */
static enum history_fact
grab_for(struct sweep *sw, struct item *it)
{
	const struct arr_client *c;
	struct inst *owner;

	if (it->history != HISTORY_PRESENT || !it->multi)
		return it->history;
	c = sweep_arr_client(sw, it->history_arr);
	if (c == NULL || !c->clients_fetched)
		return HISTORY_AMBIGUOUS;
	owner = client_instance(sw, c, it->grab_client);
	if (owner == it->in)
		return HISTORY_PRESENT;
	return owner != NULL ? HISTORY_ABSENT : HISTORY_AMBIGUOUS;
}

/*
 * A sweep loads only the rows of torrents not gone; a listed torrent
 * without one may be coming back: its gone row, if any, joins the rows
 * (before any pointer into them is taken).
 */
static void
load_gone_rows(struct sweep *sw)
{
	struct state_rows back;

	if (sw->st == NULL)
		return;
	memset(&back, 0, sizeof(back));
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		const char **unknown;
		size_t n = 0;
		if (in->failed)
			continue;
		unknown = xcalloc(in->qc.torrents.n + 1, sizeof(*unknown));
		for (size_t j = 0; j < in->qc.torrents.n; j++) {
			const char *hash = in->qc.torrents.items[j].hash;
			if (state_rows_find(&sw->rows, in->qc.ic->name, hash) == NULL)
				unknown[n++] = hash;
		}
		if (state_load_gone(sw->st, in->qc.ic->name, unknown, n, &back) == -1)
			sw->state_failed = true;
		free(unknown);
	}
	if (back.n == 0)
		return;
	if (sw->clock_shift != 0 && sw->opt->dry_run)
		state_rows_shift(&back, sw->clock_shift);
	for (size_t i = 0; i < back.n; i++)
		*state_rows_add(&sw->rows) = back.items[i];
	free(back.items);
	state_rows_sort(&sw->rows);
}

void
sweep_reconcile(struct sweep *sw)
{
	size_t total = 0, k = 0;

	load_gone_rows(sw);

	for (size_t i = 0; i < sw->n_insts; i++)
		if (!sw->insts[i].failed)
			total += sw->insts[i].qc.torrents.n;
	sw->items = xcalloc(total, sizeof(*sw->items));
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		if (in->failed)
			continue;
		for (size_t j = 0; j < in->qc.torrents.n; j++) {
			struct item *it = &sw->items[k++];
			const struct qbit_torrent *t = &in->qc.torrents.items[j];
			it->in = in;
			it->index = j;
			it->row = state_rows_find(&sw->rows, in->qc.ic->name, t->hash);
			if (policy_new_life(it->row, t)) {
				char gone[32], safe[300];
				time_iso8601((time_t)it->row->gone_at, gone, sizeof(gone));
				log_info("%s: %.8s %s: back after it was gone (%s): a new "
				    "torrent to every rule", in->qc.ic->name, t->hash,
				    log_sanitize(t->name, safe, sizeof(safe)), gone);
				it->earlier = it->row;
				it->row = NULL;
			}
			it->arr = policy_arr_for(sw->cfg, t->category, it->row);
		}
	}
	sw->n_items = k;
	mark_multi(sw);
}

/* What is known about an item in its Arr's queue (see policy.h). */
static enum queue_fact
queue_fact_for(struct sweep *sw, struct item *it, const struct arr_config **arr,
    const struct queue_record **rec)
{
	bool unknown = false, failed = false, ambiguous = false;

	*rec = NULL;
	if (it->arr != NULL) {
		struct arr_client *c = sweep_arr_client(sw, it->arr);
		if (it->arr->uri == NULL)
			return QUEUE_NO_ARR;
		if (!c->queue_fetched)
			return c->queue_failed ? QUEUE_UNREACHABLE : QUEUE_UNKNOWN;
		return record_for(sw, it, c, rec);
	}
	/* No Arr known (e.g. moved to failed before we ever saw it): ask them all. */
	for (size_t i = 0; i < sw->cfg->n_arrs; i++) {
		struct arr_client *c = &sw->arrs[i];
		if (!c->ac->managed || c->ac->uri == NULL)
			continue;
		if (c->queue_failed)
			failed = true;
		else if (!c->queue_fetched)
			unknown = true;
		else {
			enum queue_fact f = record_for(sw, it, c, rec);
			if (f == QUEUE_PRESENT) {
				*arr = c->ac;
				return QUEUE_PRESENT;
			}
			ambiguous = ambiguous || f == QUEUE_AMBIGUOUS;
		}
	}
	return unknown ? QUEUE_UNKNOWN : failed ? QUEUE_UNREACHABLE :
	    ambiguous ? QUEUE_AMBIGUOUS : QUEUE_ABSENT;
}

static void
sweep_decide_item(struct sweep *sw, struct item *it)
{
	struct policy_input in;
	bool tracing = it->d.tracing;

	policy_decision_free(&it->d);
	it->d.tracing = tracing;
	memset(&in, 0, sizeof(in));
	in.cfg = sw->cfg;
	in.ic = it->in->qc.ic;
	in.t = item_torrent(it);
	in.row = it->row;
	in.arr = it->arr;
	in.now = sw->now;
	in.adopt = sw->adopt;
	in.facts.files = it->files_fetched ? &it->files : NULL;
	in.facts.trackers = it->trackers_fetched ? &it->trackers : NULL;
	in.facts.queue = queue_fact_for(sw, it, &in.arr, &in.facts.record);
	it->qrec = in.facts.record;
	it->qarr = in.facts.record != NULL ? in.arr : NULL;
	if (in.facts.queue == QUEUE_ABSENT) {
		in.facts.history = grab_for(sw, it);
		in.facts.grab_id = it->grab_id;
		if (it->history == HISTORY_PRESENT && in.arr == NULL)
			in.arr = it->history_arr;
	}
	policy_decide(&in, &it->d);
}

static void
files_done(struct http_request *req)
{
	struct item *it = req->arg;
	char err[256];

	if (qbit_check(&it->in->qc, req) == 0 &&
	    qbit_parse_files(req->response.data ? req->response.data : "", req->response.len,
	    &it->files, err, sizeof(err)) == 0)
		it->files_fetched = true;
	else if (req->status >= 200 && req->status < 300)
		log_warn("%s: %s: torrents/files: %s", it->in->qc.ic->name,
		    item_torrent(it)->hash, err);
}

static void
trackers_done(struct http_request *req)
{
	struct item *it = req->arg;
	char err[256];

	if (qbit_check(&it->in->qc, req) == 0 &&
	    qbit_parse_trackers(req->response.data ? req->response.data : "",
	    req->response.len, &it->trackers, err, sizeof(err)) == 0)
		it->trackers_fetched = true;
	else if (req->status >= 200 && req->status < 300)
		log_warn("%s: %s: torrents/trackers: %s", it->in->qc.ic->name,
		    item_torrent(it)->hash, err);
}

static void
queue_done(struct arr_client *c)
{
	if (c->queue_failed) {
		c->partial = true;
		log_warn("%s: queue unavailable: removals that need a blocklist wait "
		    "for the next run", c->ac->name);
	}
}

/* One history lookup of an item in one Arr. */
struct history_ctx {
	struct item	*it;
	struct arr_client *c;
};

static void
history_done(struct http_request *req)
{
	struct history_ctx *hc = req->arg;
	struct item *it = hc->it;
	char err[256], up[41], client[128];
	int64_t id = 0;

	snprintf(up, sizeof(up), "%s", item_torrent(it)->hash);
	if (arr_check(hc->c, req) == -1) {
		it->history_failed = true;
		hc->c->partial = true;
	} else if (arr_parse_grab(req->response.data ? req->response.data : "",
	    req->response.len, up, &id, client, sizeof(client), err, sizeof(err)) == -1) {
		arr_client_fail(hc->c, "history", "%s", err);
		it->history_failed = true;
		hc->c->partial = true;
	} else if (id > 0 && it->grab_id == 0) {
		it->grab_id = id;
		it->history_arr = hc->c->ac;
		snprintf(it->grab_client, sizeof(it->grab_client), "%s", client);
	}
	if (--it->history_pending == 0)
		it->history = it->grab_id > 0 ? HISTORY_PRESENT :
		    it->history_failed ? HISTORY_UNREACHABLE : HISTORY_ABSENT;
	free(hc);
}

/* Ask the item's Arr (or, none known, every managed Arr) for its grab. */
static size_t
fetch_history(struct sweep *sw, struct item *it)
{
	char up[41];

	snprintf(up, sizeof(up), "%s", item_torrent(it)->hash);
	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	it->history_requested = true;
	/* Config order: the first Arr with a grab is the one taken. */
	for (size_t a = 0; a < sw->cfg->n_arrs; a++) {
		struct arr_client *c = &sw->arrs[a];
		struct history_ctx *hc;
		if ((it->arr != NULL && c->ac != it->arr) || c->ac->uri == NULL ||
		    !c->ac->managed)
			continue;
		hc = xcalloc(1, sizeof(*hc));
		hc->it = it;
		hc->c = c;
		it->history_pending++;
		arr_call(c, sw->http, "GET", "history",
		    xasprintf("history?downloadId=%s&eventType=1&pageSize=50", up), NULL,
		    history_done, hc);
	}
	if (it->history_pending == 0)
		it->history = HISTORY_ABSENT;
	return 1;
}

/* Fetch what the last decisions asked for; returns how many fetches started. */
static size_t
fetch_needs(struct sweep *sw)
{
	size_t started = 0;

	for (size_t i = 0; i < sw->n_items; i++) {
		struct item *it = &sw->items[i];
		const char *hash = item_torrent(it)->hash;

		if ((it->d.needs & POLICY_NEED_FILES) && !it->files_requested) {
			it->files_requested = true;
			started++;
			qbit_call(&it->in->qc, sw->http, "GET", "torrents/files",
			    xasprintf("hash=%s", hash), NULL, files_done, it);
		}
		if ((it->d.needs & POLICY_NEED_TRACKERS) && !it->trackers_requested) {
			it->trackers_requested = true;
			started++;
			qbit_call(&it->in->qc, sw->http, "GET", "torrents/trackers",
			    xasprintf("hash=%s", hash), NULL, trackers_done, it);
		}
		if ((it->d.needs & POLICY_NEED_HISTORY) && !it->history_requested)
			started += fetch_history(sw, it);
		if (it->d.needs & POLICY_NEED_QUEUE) {
			for (size_t a = 0; a < sw->cfg->n_arrs; a++) {
				struct arr_client *c = &sw->arrs[a];
				if (it->arr != NULL && c->ac != it->arr)
					continue;
				if (c->ac->uri == NULL || !c->ac->managed || c->queue_wanted)
					continue;
				c->queue_wanted = true;
				started++;
				arr_fetch_queue(c, sw->http, queue_done);
			}
		}
	}
	return started;
}

void
sweep_decide(struct sweep *sw)
{
	for (size_t i = 0; i < sw->n_items; i++)
		sweep_decide_item(sw, &sw->items[i]);
	/* Facts fetched on demand may lead to further needs: a few rounds at most. */
	for (int round = 0; round < 3 && !*sw->stop; round++) {
		if (fetch_needs(sw) == 0)
			break;
		http_run(sw->http);
		for (size_t i = 0; i < sw->n_items; i++)
			if (sw->items[i].d.needs != 0)
				sweep_decide_item(sw, &sw->items[i]);
	}
	for (size_t i = 0; i < sw->cfg->n_arrs; i++)
		if (sw->arrs[i].partial)
			sw->partial = true;
}
