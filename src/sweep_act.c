/* sweep_act: turn decisions into outcomes, perform them in phases, record (see sweep.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arr.h"
#include "log.h"
#include "policy.h"
#include "qbit.h"
#include "state.h"
#include "sweep_p.h"
#include "util.h"

static const struct qbit_torrent *
torrent_of(const struct item *it)
{
	return &it->in->qc.torrents.items[it->index];
}

/* ---- outcomes -------------------------------------------------------- */

static struct outcome *
outcome_new(struct sweep *sw, struct inst *in, struct item *it, enum action_kind kind,
    const char *rule, const char *reason)
{
	struct outcome *o = xcalloc(1, sizeof(*o));

	o->in = in;
	o->item = it;
	o->kind = kind;
	o->rule = rule;
	o->reason = xstrdup(reason ? reason : "");
	o->result = RESULT_PENDING;
	sw->outcomes.v = xreallocarray(sw->outcomes.v, sw->outcomes.n + 1, sizeof(o));
	sw->outcomes.v[sw->outcomes.n++] = o;
	return o;
}

const char *
outcome_result_name(enum outcome_result result)
{
	static const char *const names[RESULT__COUNT] = {
		[RESULT_PENDING] = "pending",
		[RESULT_PLANNED] = "planned",
		[RESULT_DONE] = "done",
		[RESULT_FAILED] = "failed",
		[RESULT_SKIPPED] = "skipped",
		[RESULT_HELD] = "held",
	};

	return (unsigned)result < RESULT__COUNT ? names[result] : "?";
}

static void
outcome_set(struct outcome *o, enum outcome_result result, const char *error)
{
	o->result = result;
	free(o->error);
	o->error = error ? xstrdup(error) : NULL;
}

/*
 * Whether the outcome should be performed now: not settled yet and its
 * prerequisite done (or, in a dry run, planned).  A prerequisite that ended
 * otherwise settles this one as skipped; one still in flight means "later".
 */
static bool
outcome_ready(struct outcome *o)
{
	enum outcome_result pre;

	if (o->result != RESULT_PENDING)
		return false;
	if (o->after == NULL)
		return true;
	pre = o->after->result;
	if (pre == RESULT_PENDING)
		return false;
	if (pre == RESULT_DONE || pre == RESULT_PLANNED)
		return true;
	char why[300];
	snprintf(why, sizeof(why), "not attempted: %s %s", policy_action_name(o->after->kind),
	    outcome_result_name(pre));
	outcome_set(o, RESULT_SKIPPED, why);
	return false;
}

/* ---- turning decisions into outcomes ---------------------------------- */

/*
 * Destructive actions decided for one instance: deletes, blocklists and
 * the re-searches that follow them, each counted (a stalled download
 * removed, blocklisted and searched again is three).
 */
static size_t
destructive(const struct policy_action *pa)
{
	size_t n = 0;

	if (pa->kind == ACT_DELETE)
		n++;
	if (pa->kind == ACT_BLOCKLIST || (pa->kind == ACT_DELETE && pa->blocklist))
		n++;
	if (n > 0 && pa->search)
		n++;
	return n;
}

static size_t
count_deletes(struct sweep *sw, struct inst *in, char *top, size_t n)
{
	struct rule_count { const char *rule; size_t count; } *rules = NULL;
	size_t nr = 0, total = 0;

	for (size_t i = 0; i < sw->n_items; i++) {
		struct item *it = &sw->items[i];
		if (it->in != in)
			continue;
		for (size_t a = 0; a < it->d.n_actions; a++) {
			size_t k = destructive(&it->d.actions[a]);
			if (k == 0)
				continue;
			total += k;
			size_t r;
			for (r = 0; r < nr; r++)
				if (strcmp(rules[r].rule, it->d.actions[a].rule) == 0)
					break;
			if (r == nr) {
				rules = xreallocarray(rules, nr + 1, sizeof(*rules));
				rules[nr].rule = it->d.actions[a].rule;
				rules[nr++].count = 0;
			}
			rules[r].count += k;
		}
	}
	/* Top reasons, most frequent first. */
	top[0] = '\0';
	for (size_t shown = 0; shown < 3 && shown < nr; shown++) {
		size_t best = 0;
		for (size_t r = 1; r < nr; r++)
			if (rules[r].count > rules[best].count)
				best = r;
		size_t len = strlen(top);
		snprintf(top + len, n - len, "%s%s %zu", shown ? ", " : "", rules[best].rule,
		    rules[best].count);
		rules[best].count = 0;
	}
	free(rules);
	return total;
}

static void
plan_outcomes(struct sweep *sw)
{
	/* Categories missing on a reachable instance. */
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		const char *const *cats = sw->cfg->managed_categories;
		size_t n = sw->cfg->n_managed_categories, adopted = 0;

		if (in->failed)
			continue;
		for (size_t k = 0; sw->adopt && k < sw->n_items; k++)
			adopted += sw->items[k].in == in && sw->items[k].d.row.import_result != NULL &&
			    strcmp(sw->items[k].d.row.import_result, "adopted") == 0;
		if (adopted > 0)
			log_warn("%s: first sweep on a new state file: %zu torrent(s) "
			    "completed more than 24 h ago taken as imported already, not "
			    "imported again", in->qc.ic->name, adopted);
		for (size_t c = 0; c < n; c++) {
			bool found = false;
			for (size_t k = 0; k < in->qc.categories.n; k++)
				found = found || strcmp(in->qc.categories.items[k], cats[c]) == 0;
			if (found)
				continue;
			struct outcome *o = outcome_new(sw, in, NULL, ACT_CREATE_CATEGORY,
			    "categories", "managed category missing on this instance");
			o->category = xstrdup(cats[c]);
			o->detail = xstrdup(cats[c]);
		}
		/* The mass-deletion fuse. */
		char top[256];
		size_t deletes = count_deletes(sw, in, top, sizeof(top));
		int limit = config_instance_max_deletions(sw->cfg, in->qc.ic);
		if ((int64_t)deletes > (int64_t)limit) {
			in->fuse_blown = true;
			sw->partial = true;
			log_error("%s: %zu deletions, blocklists and re-searches decided > "
			    "MaxDeletionsPerRun %d: none performed on this instance (%s); "
			    "they stay due for the next run (once the cause is understood, "
			    "raise MaxDeletionsPerRun in [%s] above %zu for one run to let "
			    "them happen)", in->qc.ic->name, deletes, limit, top,
			    in->qc.ic->name, deletes);
		}
	}

	for (size_t i = 0; i < sw->n_items; i++) {
		struct item *it = &sw->items[i];
		const struct qbit_torrent *t = torrent_of(it);
		struct policy_decision *d = &it->d;

		char safe[300];
		if (d->report)
			log_warn("%s: %.8s %s: %s", it->in->qc.ic->name, t->hash,
			    log_sanitize(t->name, safe, sizeof(safe)),
			    d->waiting ? d->waiting : d->rule ? d->rule : "needs attention");
		else if (d->waiting != NULL)
			log_info("%s: %.8s %s: %s", it->in->qc.ic->name, t->hash,
			    log_sanitize(t->name, safe, sizeof(safe)), d->waiting);
		for (size_t a = 0; a < d->n_actions; a++) {
			const struct policy_action *pa = &d->actions[a];
			struct outcome *o, *bl = NULL;
			const struct arr_config *arr;
			const struct queue_record *rec = NULL;

			if (it->in->fuse_blown && destructive(pa) > 0) {
				o = outcome_new(sw, it->in, it, pa->kind, pa->rule, pa->reason);
				o->action = pa;
				outcome_set(o, RESULT_HELD, "MaxDeletionsPerRun exceeded on this instance");
				it->in->held++;
				continue;
			}
			if ((pa->kind == ACT_DELETE || pa->kind == ACT_BLOCKLIST) &&
			    sw->clock_refuse) {
				o = outcome_new(sw, it->in, it, pa->kind, pa->rule, pa->reason);
				o->action = pa;
				outcome_set(o, RESULT_HELD, "clock jump: see the run's warning");
				it->in->held++;
				continue;
			}
			arr = it->arr;
			/* The record the decision saw: this instance's own. */
			if ((pa->kind == ACT_DELETE || pa->kind == ACT_BLOCKLIST) &&
			    (pa->blocklist || pa->kind == ACT_BLOCKLIST) && it->qrec != NULL) {
				rec = it->qrec;
				arr = it->qarr;
			}
			if (pa->kind == ACT_DELETE && pa->blocklist && pa->history_id > 0) {
				/* Gone from the queue: its grab in the history is marked failed. */
				if (arr == NULL)
					arr = it->history_arr;
				if (arr == NULL)
					continue;	/* cannot happen: policy saw the grab */
				bl = outcome_new(sw, it->in, it, ACT_BLOCKLIST, pa->rule, pa->reason);
				bl->arr = arr;
				bl->history_id = pa->history_id;
				bl->action = pa;
				bl->detail = xasprintf("grab %lld marked failed in the history",
				    (long long)pa->history_id);
			} else if ((pa->kind == ACT_DELETE && pa->blocklist) ||
			    pa->kind == ACT_BLOCKLIST) {
				if (rec == NULL)
					continue;	/* cannot happen: policy saw it present */
				bl = outcome_new(sw, it->in, it, ACT_BLOCKLIST, pa->rule, pa->reason);
				bl->arr = arr;
				bl->record = rec;
				bl->search = pa->search;
				bl->action = pa;
			}
			if (pa->kind == ACT_BLOCKLIST) {
				o = bl;
			} else {
				o = outcome_new(sw, it->in, it, pa->kind, pa->rule, pa->reason);
				o->action = pa;
				o->after = bl;
				o->delete_files = pa->delete_files;
				o->arr = arr;
				if (pa->category != NULL) {
					o->category = xstrdup(pa->category);
					o->detail = xasprintf("category %s", pa->category);
				}
				if (pa->kind == ACT_IMPORT)
					o->detail = xasprintf("path %s", pa->path);
			}
			if (pa->search && rec != NULL && rec->n_media_ids > 0) {
				struct outcome *s = outcome_new(sw, it->in, it, ACT_SEARCH, pa->rule,
				    "ReSearch after the blocklist");
				s->arr = arr;
				s->record = rec;
				s->after = o;
				s->media_ids = xcalloc(rec->n_media_ids, sizeof(int64_t));
				memcpy(s->media_ids, rec->media_ids, rec->n_media_ids * sizeof(int64_t));
				s->n_media_ids = rec->n_media_ids;
			}
		}
	}
}

/* Free space per instance: pause what does not fit, resume what we paused. */
static void
plan_free_space(struct sweep *sw)
{
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		int64_t threshold = config_instance_free_space(sw->cfg, in->qc.ic);
		struct qbit_torrent *ts;
		const struct state_row **rows;
		struct item **owners;
		struct policy_space_action *acts;
		size_t n = 0, na;

		if (in->failed || threshold < 0 || in->qc.free_space < 0)
			continue;
		ts = xcalloc(sw->n_items + 1, sizeof(*ts));
		rows = xcalloc(sw->n_items + 1, sizeof(*rows));
		owners = xcalloc(sw->n_items + 1, sizeof(*owners));
		for (size_t k = 0; k < sw->n_items; k++) {
			struct item *it = &sw->items[k];
			bool deleting = false;
			if (it->in != in)
				continue;
			for (size_t a = 0; a < it->d.n_actions; a++)
				deleting = deleting || it->d.actions[a].kind == ACT_DELETE;
			if (deleting)
				continue;
			ts[n] = *torrent_of(it);	/* shallow: only read */
			rows[n] = it->row;
			owners[n++] = it;
		}
		na = policy_free_space(ts, rows, n, in->qc.free_space, threshold, &acts);
		for (size_t a = 0; a < na; a++) {
			struct item *it = owners[acts[a].index];
			outcome_new(sw, in, it, acts[a].kind, "free-space", acts[a].reason);
		}
		policy_space_actions_free(acts, na);
		free(ts);
		free(rows);
		free(owners);
	}
}

/* ---- performing ------------------------------------------------------- */

struct batch {
	struct sweep	*sw;
	struct outcome	**v;
	size_t		 n;
	bool		 bulk;		/* a queue/bulk of several downloads */
	int		 skip;		/* its skipRedownload */
};

static void
batch_add(struct batch *b, struct outcome *o)
{
	b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = o;
}

static void
settle_batch(struct batch *b, bool ok, const char *error)
{
	for (size_t i = 0; i < b->n; i++) {
		/* One outcome may span requests (set_limits): a failure sticks. */
		if (ok && b->v[i]->result == RESULT_FAILED)
			continue;
		outcome_set(b->v[i], ok ? RESULT_DONE : RESULT_FAILED, ok ? NULL : error);
	}
	free(b->v);
	free(b);
	test_kill_point("act");
}

static void
qbit_batch_done(struct http_request *req)
{
	struct batch *b = req->arg;
	struct inst *in = b->v[0]->in;
	char why[300];
	bool ok = req->status >= 200 && req->status < 300;

	/* Idempotent re-runs: an existing category is what we wanted. */
	if (!ok && req->status == 409 && strcmp(req->endpoint, "torrents/createCategory") == 0)
		ok = true;
	if (!ok) {
		qbit_check(&in->qc, req);
		http_failure(req, why, sizeof(why));
		b->sw->partial = true;
	}
	settle_batch(b, ok, ok ? NULL : why);
}

/* Join the hashes of a batch as qBittorrent takes them: a|b|c. */
static char *
batch_hashes(const struct batch *b)
{
	struct buf s;

	buf_init(&s);
	buf_puts(&s, "hashes=");
	for (size_t i = 0; i < b->n; i++) {
		if (i > 0)
			buf_puts(&s, "%7C");
		buf_puts(&s, torrent_of(b->v[i]->item)->hash);
	}
	return s.data;
}

static void
send_batch(struct sweep *sw, struct inst *in, const char *endpoint, struct batch *b,
    const char *extra)
{
	char *body;

	if (b->n == 0) {
		free(b->v);
		free(b);
		return;
	}
	if (sw->opt->dry_run) {
		for (size_t i = 0; i < b->n; i++)
			outcome_set(b->v[i], RESULT_PLANNED, NULL);
		free(b->v);
		free(b);
		return;
	}
	test_kill_point("send");
	body = batch_hashes(b);
	if (extra != NULL) {
		char *full = xasprintf("%s&%s", body, extra);
		free(body);
		body = full;
	}
	qbit_call(&in->qc, sw->http, "POST", endpoint, NULL, body, qbit_batch_done, b);
}

static struct batch *
batch_new(struct sweep *sw)
{
	struct batch *b = xcalloc(1, sizeof(*b));

	b->sw = sw;
	return b;
}

/* Send every ready outcome of one kind on one instance as one request. */
static void
send_kind(struct sweep *sw, struct inst *in, enum action_kind kind, const char *endpoint)
{
	struct batch *b = batch_new(sw);

	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		if (o->in == in && o->kind == kind && o->item != NULL && outcome_ready(o))
			batch_add(b, o);
	}
	send_batch(sw, in, endpoint, b, NULL);
}

static void
all_list_done(struct http_request *req)
{
	struct inst *in = req->arg;
	char err[256];

	if (qbit_check(&in->qc, req) == 0) {
		if (qbit_parse_torrents(req->response.data ? req->response.data : "",
		    req->response.len, &in->all, NULL, err, sizeof(err)) == 0)
			in->all_fetched = true;
		else
			qbit_client_fail(&in->qc, "torrents/info", "%s", err);
	}
}

/*
 * The shared-data guard: a delete keeps the files when another torrent on
 * the same instance (any category) uses the same content or contains it.
 */
static void
guard_shared_data(struct sweep *sw)
{
	bool any = false;

	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		if (o->kind == ACT_DELETE && o->result == RESULT_PENDING && o->delete_files &&
		    !o->in->all_requested) {
			o->in->all_requested = true;
			qbit_call(&o->in->qc, sw->http, "GET", "torrents/info", NULL, NULL,
			    all_list_done, o->in);
			any = true;
		}
	}
	if (any)
		http_run(sw->http);
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		const struct qbit_torrent *t;

		if (o->kind != ACT_DELETE || o->result != RESULT_PENDING || !o->delete_files)
			continue;
		t = torrent_of(o->item);
		if (!o->in->all_fetched) {
			outcome_set(o, RESULT_SKIPPED, "could not list every torrent on the instance "
			    "to check for shared data; kept for the next run");
			sw->partial = true;
			continue;
		}
		for (size_t k = 0; k < o->in->all.n; k++) {
			const struct qbit_torrent *other = &o->in->all.items[k];
			if (strcmp(other->hash, t->hash) == 0)
				continue;
			if (policy_paths_overlap(t->content_path, other->content_path)) {
				o->delete_files = false;
				free(o->detail);
				o->detail = xasprintf("files kept: shared with %.8s %s",
				    other->hash, other->name);
				break;
			}
		}
		if (o->delete_files && o->detail == NULL)
			o->detail = xstrdup("files deleted");
	}
}

/* Arr-side blocklists, batched per Arr and per skipRedownload flag. */
static void
arr_batch_done(struct http_request *req)
{
	struct batch *b = req->arg;
	struct arr_client *c = sweep_arr_client(b->sw, b->v[0]->arr);
	char why[300];
	bool ok = arr_check(c, req) == 0;

	if (!ok) {
		http_failure(req, why, sizeof(why));
		b->sw->partial = true;
	}
	settle_batch(b, ok, ok ? NULL : why);
}

static void send_queue_blocklist(struct sweep *sw, struct batch *b);

/*
 * queue/bulk answers 404 before removing anything when one id is no longer
 * in the queue: then each download is sent on its own, so that one that
 * vanished does not hold back the others.
 */
static void
bulk_done(struct http_request *req)
{
	struct batch *b = req->arg;

	if (req->status == 404 && b->n > 1) {
		log_info("%s: queue/bulk: HTTP 404 (a record left the queue): "
		    "blocklisting each download on its own", b->v[0]->arr->name);
		for (size_t i = 0; i < b->n; i++) {
			struct batch *one = batch_new(b->sw);
			one->skip = b->skip;
			batch_add(one, b->v[i]);
			send_queue_blocklist(b->sw, one);
		}
		free(b->v);
		free(b);
		return;
	}
	arr_batch_done(req);
}

/* DELETE the queue records of a batch's downloads, blocklisting them. */
static void
send_queue_blocklist(struct sweep *sw, struct batch *b)
{
	struct arr_client *c = sweep_arr_client(sw, b->v[0]->arr);
	const char *flags = b->skip ?
	    "removeFromClient=false&blocklist=true&skipRedownload=true" :
	    "removeFromClient=false&blocklist=true&skipRedownload=false";
	int64_t *ids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		for (size_t k = 0; k < b->v[i]->record->n_ids; k++) {
			ids = xreallocarray(ids, n + 1, sizeof(*ids));
			ids[n++] = b->v[i]->record->ids[k];
		}
	b->bulk = b->n > 1;
	if (n == 1)
		arr_call(c, sw->http, "DELETE", "queue/{id}",
		    xasprintf("queue/%lld?%s", (long long)ids[0], flags), NULL,
		    arr_batch_done, b);
	else
		arr_call(c, sw->http, "DELETE", "queue/bulk",
		    xasprintf("queue/bulk?%s", flags), arr_bulk_body(ids, n),
		    bulk_done, b);
	free(ids);
}

static void
send_blocklists(struct sweep *sw)
{
	for (size_t a = 0; a < sw->cfg->n_arrs; a++) {
		for (int skip = 0; skip < 2; skip++) {
			struct batch *b = batch_new(sw);
			int64_t *ids = NULL;
			size_t n = 0;

			for (size_t i = 0; i < sw->outcomes.n; i++) {
				struct outcome *o = sw->outcomes.v[i];
				if (o->kind != ACT_BLOCKLIST || o->arr != &sw->cfg->arrs[a] ||
				    (int)o->search != skip || o->history_id > 0 || !outcome_ready(o))
					continue;
				batch_add(b, o);
				for (size_t k = 0; k < o->record->n_ids; k++) {
					ids = xreallocarray(ids, n + 1, sizeof(*ids));
					ids[n++] = o->record->ids[k];
				}
			}
			if (b->n == 0 || sw->opt->dry_run || n == 0) {
				for (size_t i = 0; i < b->n; i++)
					outcome_set(b->v[i], RESULT_PLANNED, NULL);
				free(b->v);
				free(b);
				free(ids);
				continue;
			}
			b->skip = skip;
			send_queue_blocklist(sw, b);
			free(ids);
		}
	}
}

/*
 * Downloads gone from the queue: POST history/failed/{id} blocklists the
 * grab (one call each: there is no bulk form).  The Arr then searches again
 * by itself when its Redownload Failed setting is on, so no search is sent.
 */
static void
send_history_failed(struct sweep *sw)
{
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		struct batch *b;

		if (o->kind != ACT_BLOCKLIST || o->history_id <= 0 || !outcome_ready(o))
			continue;
		if (sw->opt->dry_run) {
			outcome_set(o, RESULT_PLANNED, NULL);
			continue;
		}
		b = batch_new(sw);
		batch_add(b, o);
		arr_call(sweep_arr_client(sw, o->arr), sw->http, "POST", "history/failed/{id}",
		    xasprintf("history/failed/%lld", (long long)o->history_id), NULL,
		    arr_batch_done, b);
	}
}

static void
send_searches(struct sweep *sw)
{
	for (size_t a = 0; a < sw->cfg->n_arrs; a++) {
		struct batch *b = batch_new(sw);
		int64_t *ids = NULL;
		size_t n = 0;

		for (size_t i = 0; i < sw->outcomes.n; i++) {
			struct outcome *o = sw->outcomes.v[i];
			if (o->kind != ACT_SEARCH || o->arr != &sw->cfg->arrs[a] || !outcome_ready(o))
				continue;
			batch_add(b, o);
			for (size_t k = 0; k < o->n_media_ids; k++) {
				ids = xreallocarray(ids, n + 1, sizeof(*ids));
				ids[n++] = o->media_ids[k];
			}
		}
		if (b->n == 0 || sw->opt->dry_run) {
			for (size_t i = 0; i < b->n; i++)
				outcome_set(b->v[i], RESULT_PLANNED, NULL);
			free(b->v);
			free(b);
		} else {
			arr_call(&sw->arrs[a], sw->http, "POST", "command", xstrdup("command"),
			    arr_search_body(sw->cfg->arrs[a].kind, ids, n), arr_batch_done, b);
		}
		free(ids);
	}
}

static void
import_done(struct http_request *req)
{
	struct outcome *o = req->arg;
	struct arr_client *c = sweep_arr_client(o->in->sw, o->arr);
	char why[300], err[256];

	if (arr_check(c, req) == -1) {
		outcome_set(o, RESULT_FAILED, http_failure(req, why, sizeof(why)));
		o->in->sw->partial = true;
		return;
	}
	if (arr_parse_command(req->response.data ? req->response.data : "", req->response.len,
	    &o->command_id, o->command_status, sizeof(o->command_status), err, sizeof(err)) == -1) {
		/* The Arr accepted it (2xx); only the answer is odd. */
		log_warn("%s: command: %s", o->arr->name, err);
		snprintf(o->command_status, sizeof(o->command_status), "queued");
	}
	outcome_set(o, RESULT_DONE, NULL);
	test_kill_point("act");
}

static void
verify_done(struct http_request *req)
{
	struct outcome *o = req->arg;
	struct arr_client *c = sweep_arr_client(o->in->sw, o->arr);
	char why[300], err[256];
	int64_t id;

	/* The Arr drops finished commands after about a day: nothing left to ask. */
	if (req->status == 404) {
		snprintf(o->command_status, sizeof(o->command_status), "forgotten");
		free(o->detail);
		o->detail = xasprintf("command %lld no longer known to %s: verification "
		    "ends, the import is sent again",
		    (long long)o->item->row->import_command_id, o->arr->name);
		outcome_set(o, RESULT_DONE, NULL);
		return;
	}
	if (arr_check(c, req) == -1) {
		outcome_set(o, RESULT_FAILED, http_failure(req, why, sizeof(why)));
		o->in->sw->partial = true;
		return;
	}
	if (arr_parse_command(req->response.data ? req->response.data : "", req->response.len,
	    &id, o->command_status, sizeof(o->command_status), err, sizeof(err)) == -1) {
		outcome_set(o, RESULT_FAILED, err);
		return;
	}
	free(o->detail);
	o->detail = xasprintf("command %lld %s", (long long)id, o->command_status);
	outcome_set(o, RESULT_DONE, NULL);
	test_kill_point("act");
}

static void
send_imports(struct sweep *sw)
{
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		const struct qbit_torrent *t;

		if ((o->kind != ACT_IMPORT && o->kind != ACT_VERIFY_IMPORT) || !outcome_ready(o))
			continue;
		if (sw->opt->dry_run) {
			outcome_set(o, RESULT_PLANNED, NULL);
			continue;
		}
		t = torrent_of(o->item);
		test_kill_point("send");
		if (o->kind == ACT_IMPORT)
			arr_call(sweep_arr_client(sw, o->arr), sw->http, "POST", "command",
			    xstrdup("command"), arr_scan_body(o->arr->kind, o->action->path, t->hash,
			    o->arr->import_mode), import_done, o);
		else
			arr_call(sweep_arr_client(sw, o->arr), sw->http, "GET", "command/{id}",
			    xasprintf("command/%lld", (long long)o->item->row->import_command_id),
			    NULL, verify_done, o);
	}
}

static void
send_instance_actions(struct sweep *sw, struct inst *in)
{
	/* Deletes: with files and without (the guard), each one request. */
	for (int files = 0; files < 2; files++) {
		struct batch *b = batch_new(sw);
		for (size_t i = 0; i < sw->outcomes.n; i++) {
			struct outcome *o = sw->outcomes.v[i];
			if (o->in == in && o->kind == ACT_DELETE && (int)o->delete_files == files &&
			    outcome_ready(o))
				batch_add(b, o);
		}
		send_batch(sw, in, "torrents/delete", b,
		    files ? "deleteFiles=true" : "deleteFiles=false");
	}
	send_kind(sw, in, ACT_RECHECK, "torrents/recheck");
	send_kind(sw, in, ACT_PAUSE, qbit_pause_endpoint(&in->qc));
	send_kind(sw, in, ACT_RESUME, qbit_resume_endpoint(&in->qc));
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		struct batch *b;
		struct buf extra;

		if (o->in != in || (o->kind != ACT_CREATE_CATEGORY &&
		    o->kind != ACT_SET_FILE_PRIORITY && o->kind != ACT_SET_LIMITS) ||
		    !outcome_ready(o))
			continue;
		if (o->kind == ACT_CREATE_CATEGORY) {
			if (sw->opt->dry_run) {
				outcome_set(o, RESULT_PLANNED, NULL);
				continue;
			}
			b = batch_new(sw);
			batch_add(b, o);
			buf_init(&extra);
			buf_puts(&extra, "category=");
			buf_urlencode(&extra, o->category);
			buf_puts(&extra, "&savePath=");
			qbit_call(&in->qc, sw->http, "POST", "torrents/createCategory", NULL,
			    extra.data, qbit_batch_done, b);
		} else if (o->kind == ACT_SET_FILE_PRIORITY) {
			b = batch_new(sw);
			batch_add(b, o);
			if (sw->opt->dry_run) {
				send_batch(sw, in, "", b, NULL);
				continue;
			}
			buf_init(&extra);
			buf_printf(&extra, "hash=%s&id=", torrent_of(o->item)->hash);
			for (size_t k = 0; k < o->action->n_file_ids; k++)
				buf_printf(&extra, "%s%d", k ? "%7C" : "", o->action->file_ids[k]);
			buf_puts(&extra, "&priority=0");
			qbit_call(&in->qc, sw->http, "POST", "torrents/filePrio", NULL,
			    extra.data, qbit_batch_done, b);
		} else if (o->kind == ACT_SET_LIMITS) {
			/* Rare (only on change): one request per torrent and direction. */
			const struct policy_action *pa = o->action;
			for (int dir = 0; dir < 2; dir++) {
				int64_t v = dir == 0 ? pa->dl_limit : pa->up_limit;
				if (v < 0)
					continue;
				b = batch_new(sw);
				batch_add(b, o);
				char *lim = xasprintf("limit=%lld", (long long)v);
				send_batch(sw, in, dir == 0 ? "torrents/setDownloadLimit" :
				    "torrents/setUploadLimit", b, lim);
				free(lim);
			}
		}
	}
}

static void
send_set_categories(struct sweep *sw, struct inst *in)
{
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		struct batch *b;
		struct buf extra;

		if (o->in != in || o->kind != ACT_SET_CATEGORY || !outcome_ready(o))
			continue;
		/* Group every torrent going back to the same category. */
		b = batch_new(sw);
		for (size_t k = i; k < sw->outcomes.n; k++) {
			struct outcome *p = sw->outcomes.v[k];
			if (p->in == in && p->kind == ACT_SET_CATEGORY && p->result == RESULT_PENDING &&
			    strcmp(p->category, o->category) == 0 && (k == i || outcome_ready(p)))
				batch_add(b, p);
		}
		buf_init(&extra);
		buf_puts(&extra, "category=");
		buf_urlencode(&extra, o->category);
		send_batch(sw, in, "torrents/setCategory", b, extra.data);
		buf_free(&extra);
	}
}

static void
log_outcome(const struct outcome *o)
{
	char name[300], reason[600], detail[400];
	const struct qbit_torrent *t = o->item ? torrent_of(o->item) : NULL;
	void (*logf)(const char *, ...) = log_notice;

	if (o->result == RESULT_FAILED)
		logf = log_warn;
	if (o->result == RESULT_HELD)
		logf = log_info;	/* the instance's summary is the warning */
	if (o->kind == ACT_VERIFY_IMPORT && o->result == RESULT_DONE && strcmp(o->command_status, "failed") != 0)
		logf = log_info;
	log_sanitize(t ? t->name : "", name, sizeof(name));
	log_sanitize(o->reason, reason, sizeof(reason));
	log_sanitize(o->detail ? o->detail : "", detail, sizeof(detail));
	if (t != NULL)
		logf("%s: %.8s %s: %s%s%s (%s: %s)%s%s: %s%s%s", o->in->qc.ic->name, t->hash, name,
		    policy_action_name(o->kind), o->arr ? " in " : "", o->arr ? o->arr->name : "",
		    o->rule, reason, o->detail ? "; " : "", detail,
		    outcome_result_name(o->result), o->error ? ": " : "", o->error ? o->error : "");
	else
		logf("%s: %s %s: %s%s%s", o->in->qc.ic->name, policy_action_name(o->kind),
		    detail, outcome_result_name(o->result),
		    o->error ? ": " : "", o->error ? o->error : "");
}

/* Write the results of actions back into the rows they concern. */
static void
apply_results(struct sweep *sw)
{
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		struct item *it = o->item;
		bool done = o->result == RESULT_DONE;
		struct state_row *r;
		const struct state_row *old;

		if (it == NULL)
			continue;
		r = &it->d.row;
		old = it->row;
		switch (o->kind) {
		case ACT_DELETE:
			if (done)
				r->gone_at = sw->now;
			break;
		case ACT_RECHECK:
			if (!done)
				r->recheck_sent_at = old ? old->recheck_sent_at : 0;
			break;
		case ACT_SET_FILE_PRIORITY:
			if (!done)
				r->files_checked_at = old ? old->files_checked_at : 0;
			break;
		case ACT_BLOCKLIST:
			if (!done)
				r->research_stalled_at = old ? old->research_stalled_at : 0;
			break;
		case ACT_IMPORT:
			free(r->import_result);
			if (done) {
				r->import_sent_at = sw->now;
				r->import_command_id = o->command_id;
				r->import_result = xstrdup(o->command_status);
				r->import_attempts = 0;
				r->import_next_try = 0;
			} else {
				int64_t backoff = 60;
				r->import_attempts++;
				for (int k = 1; k < r->import_attempts && backoff < 6 * 3600; k++)
					backoff *= 2;
				if (backoff > 6 * 3600)
					backoff = 6 * 3600;
				r->import_next_try = sw->now + backoff;
				r->import_result = xasprintf("failed: %s", o->error ? o->error : "?");
			}
			break;
		case ACT_VERIFY_IMPORT:
			if (done && (strcmp(o->command_status, "orphaned") == 0 ||
			    strcmp(o->command_status, "forgotten") == 0)) {
				/*
				 * The Arr restarted while the scan ran, or dropped the
				 * finished command before we asked: what it did is
				 * unknown.  Said once, then the normal import retry
				 * (a scan of files already imported imports nothing).
				 */
				bool orphaned = strcmp(o->command_status, "orphaned") == 0;
				char safe[300];
				int64_t backoff = 60;
				r->import_attempts++;
				for (int k = 1; k < r->import_attempts && backoff < 6 * 3600; k++)
					backoff *= 2;
				if (backoff > 6 * 3600)
					backoff = 6 * 3600;
				log_warn("%s: %.8s %s: %s import command %lld %s: the import "
				    "is sent again in %lld s", o->in->qc.ic->name, r->hash,
				    log_sanitize(r->name, safe, sizeof(safe)), o->arr->name,
				    (long long)r->import_command_id, orphaned ?
				    "orphaned (the Arr restarted while it ran)" :
				    "no longer known (the Arr drops finished commands after "
				    "about a day)", (long long)backoff);
				sw->partial = true;
				free(r->import_result);
				r->import_result = xstrdup(o->command_status);
				r->import_sent_at = 0;
				r->import_next_try = sw->now + backoff;
			} else if (done) {
				free(r->import_result);
				r->import_result = xstrdup(o->command_status);
				/* Unsuccessful: completed, nothing imported.  Said once: final. */
				if (strcmp(o->command_status, "failed") == 0 ||
				    strcmp(o->command_status, "aborted") == 0 ||
				    strcmp(o->command_status, "unsuccessful") == 0) {
					char safe[300];
					log_warn("%s: %.8s %s: %s import command %lld %s",
					    o->in->qc.ic->name, r->hash,
					    log_sanitize(r->name, safe, sizeof(safe)), o->arr->name,
					    (long long)r->import_command_id, o->command_status);
					sw->partial = true;
				}
			}
			break;
		case ACT_PAUSE:
			if (done)
				r->space_paused_at = sw->now;
			break;
		case ACT_RESUME:
			if (done)
				r->space_paused_at = 0;
			break;
		default:
			break;
		}
	}
}

/*
 * Searches owed by an earlier run that died after its blocklist: searched
 * now unless this run decided a new blocklist and search for the same
 * torrent anyway.
 */
static void
plan_owed_searches(struct sweep *sw)
{
	struct state_owed *owed = NULL;
	size_t n = 0;

	if (sw->st == NULL || state_load_owed(sw->st, &owed, &n) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		struct inst *in = NULL;
		const struct arr_config *arr = NULL;
		bool covered = false;

		for (size_t k = 0; k < sw->n_insts; k++)
			if (strcmp(sw->insts[k].qc.ic->name, owed[i].instance) == 0)
				in = &sw->insts[k];
		for (size_t k = 0; k < sw->cfg->n_arrs; k++)
			if (strcmp(sw->cfg->arrs[k].name, owed[i].arr) == 0 &&
			    sw->cfg->arrs[k].uri != NULL)
				arr = &sw->cfg->arrs[k];
		for (size_t k = 0; k < sw->outcomes.n; k++) {
			const struct outcome *o = sw->outcomes.v[k];
			covered = covered || (o->kind == ACT_SEARCH && o->item != NULL &&
			    o->in == in && strcmp(torrent_of(o->item)->hash, owed[i].hash) == 0);
		}
		if (in == NULL || arr == NULL || covered || owed[i].n_media_ids == 0)
			continue;
		char since[32], reason[160];
		time_iso8601((time_t)owed[i].since, since, sizeof(since));
		snprintf(reason, sizeof(reason), "owed since %s: the run that blocklisted "
		    "it ended before searching", since);
		struct outcome *o = outcome_new(sw, in, NULL, ACT_SEARCH, "owed-search", reason);
		o->arr = arr;
		o->media_ids = owed[i].media_ids;
		o->n_media_ids = owed[i].n_media_ids;
		owed[i].media_ids = NULL;
		o->owed_hash = xstrdup(owed[i].hash);
		o->owed_name = xstrdup(owed[i].name ? owed[i].name : "");
		o->detail = xasprintf("%.8s %s", owed[i].hash, o->owed_name);
	}
	state_owed_free(owed, n);
}

/* The audit row of an outcome (the reason is allocated: free it). */
static void
outcome_audit(struct sweep *sw, const struct outcome *o, struct state_action *a)
{
	const struct qbit_torrent *t = o->item ? torrent_of(o->item) : NULL;

	memset(a, 0, sizeof(*a));
	a->time = sw->now;
	a->instance = o->in->qc.ic->name;
	a->hash = t ? t->hash : o->owed_hash;
	a->name = t ? t->name : o->owed_name ? o->owed_name : o->category;
	a->action = policy_action_name(o->kind);
	a->reason = o->detail ? xasprintf("%s: %s; %s", o->rule, o->reason, o->detail) :
	    xasprintf("%s: %s", o->rule, o->reason);
	a->result = outcome_result_name(o->result);
	a->error = o->error;
}

/* Whether performing the outcome changes a server (an intent is written first). */
static bool
outcome_changes_server(const struct outcome *o)
{
	return o->result == RESULT_PENDING && o->kind != ACT_VERIFY_IMPORT;
}

/*
 * Write down what this run is about to do before any of it is sent, in one
 * transaction: an "intended" audit row per action that changes a server,
 * the searches owed after blocklists, and imports as sent (a run killed
 * after sending one never sends it again).  A file that cannot take this
 * write stops the run here: nothing is sent.
 */
static int
persist_intents(struct sweep *sw)
{
	bool any = false;

	if (sw->opt->dry_run || sw->st == NULL)
		return 0;
	for (size_t i = 0; i < sw->outcomes.n && !any; i++)
		any = outcome_changes_server(sw->outcomes.v[i]);
	if (!any)
		return 0;
	if (state_begin(sw->st) == -1)
		return -1;
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		struct state_action a;
		int rc;

		if (!outcome_changes_server(o))
			continue;
		outcome_audit(sw, o, &a);
		a.result = "intended";
		rc = state_add_action(sw->st, &a);
		free((char *)(uintptr_t)a.reason);
		if (rc == -1)
			goto fail;
		o->audit_id = state_last_action_id(sw->st);
		if (o->kind == ACT_IMPORT) {
			struct state_row r;
			state_row_copy(&r, &o->item->d.row);
			r.import_sent_at = sw->now;
			r.import_command_id = 0;
			free(r.import_result);
			r.import_result = xstrdup("sent");
			rc = state_save_row(sw->st, &r);
			state_row_clear(&r);
			if (rc == -1)
				goto fail;
		}
		if (o->kind == ACT_SEARCH && o->item != NULL) {
			const struct qbit_torrent *t = torrent_of(o->item);
			struct state_owed so;
			memset(&so, 0, sizeof(so));
			so.instance = (char *)(uintptr_t)o->in->qc.ic->name;
			so.hash = (char *)(uintptr_t)t->hash;
			so.name = t->name;
			so.arr = o->arr->name;
			so.media_ids = o->media_ids;
			so.n_media_ids = o->n_media_ids;
			so.since = sw->now;
			if (state_owe_search(sw->st, &so) == -1)
				goto fail;
		}
	}
	if (state_commit(sw->st) == -1)
		goto fail;
	test_kill_point("intents");
	return 0;
fail:
	state_rollback(sw->st);
	for (size_t i = 0; i < sw->outcomes.n; i++)
		sw->outcomes.v[i]->audit_id = 0;
	return -1;
}

void
sweep_act(struct sweep *sw)
{
	bool *warned = xcalloc(sw->cfg->n_arrs + 1, sizeof(*warned));

	plan_outcomes(sw);
	plan_free_space(sw);
	plan_owed_searches(sw);
	/* Arrs without URI: their side is skipped, said once per run. */
	for (size_t i = 0; i < sw->n_items; i++) {
		const struct arr_config *a = sw->items[i].arr;
		size_t k = a ? (size_t)(a - sw->cfg->arrs) : 0;
		if (a != NULL && a->uri == NULL && !warned[k] &&
		    torrent_is_complete(torrent_of(&sw->items[i]))) {
			warned[k] = true;
			log_warn("%s: no URI configured: imports, blocklists and searches "
			    "for its torrents are skipped", a->name);
		}
	}
	free(warned);
	guard_shared_data(sw);
	/* A state file that failed a read (reconcile) or this write: nothing is sent. */
	if (sw->state_failed || persist_intents(sw) == -1) {
		log_error("the actions of this run could not be recorded before sending "
		    "them: none was sent");
		sw->state_failed = true;
		for (size_t i = 0; i < sw->outcomes.n; i++)
			if (sw->outcomes.v[i]->result == RESULT_PENDING)
				outcome_set(sw->outcomes.v[i], RESULT_SKIPPED,
				    "not sent: the state file cannot be written");
		return;
	}
	if (!*sw->stop) {
		send_blocklists(sw);
		send_history_failed(sw);
		http_run(sw->http);
	}
	if (!*sw->stop) {
		for (size_t i = 0; i < sw->n_insts; i++)
			if (!sw->insts[i].failed)
				send_instance_actions(sw, &sw->insts[i]);
		send_imports(sw);
		http_run(sw->http);
	}
	if (!*sw->stop) {
		for (size_t i = 0; i < sw->n_insts; i++)
			if (!sw->insts[i].failed)
				send_set_categories(sw, &sw->insts[i]);
		send_searches(sw);
		http_run(sw->http);
	}
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		if (o->result == RESULT_PENDING)
			outcome_set(o, RESULT_SKIPPED, *sw->stop ? "interrupted" : "not attempted");
		if (o->result == RESULT_FAILED)
			sw->partial = true;
		log_outcome(o);
	}
	apply_results(sw);
}

/* ---- record ----------------------------------------------------------- */

/* Rows removed by retention per run, and pages given back after it. */
#define RETENTION_BATCH	5000
#define VACUUM_PAGES	2000

int
sweep_record(struct sweep *sw)
{
	bool *seen = xcalloc(sw->rows.n + 1, sizeof(bool));
	int rc = -1;

	if (state_begin(sw->st) == -1)
		goto out;
	for (size_t i = 0; i < sw->n_items; i++) {
		struct item *it = &sw->items[i];
		if (it->row != NULL)
			seen[it->row - sw->rows.items] = true;
		/* Unchanged: its last sighting follows from the instance's record. */
		if (it->row != NULL && state_row_same(it->row, &it->d.row))
			continue;
		if (state_save_row(sw->st, &it->d.row) == -1)
			goto fail;
	}
	/* Rows of reachable instances that were not listed: gone (kept, marked). */
	for (size_t i = 0; i < sw->rows.n; i++) {
		struct state_row *r = &sw->rows.items[i];
		bool reachable = false;
		if (seen[i] || r->gone_at != 0)
			continue;
		for (size_t k = 0; k < sw->n_insts; k++)
			if (!sw->insts[k].failed && strcmp(sw->insts[k].qc.ic->name, r->instance) == 0)
				reachable = true;
		if (!reachable)
			continue;
		r->gone_at = sw->now;
		if (state_save_row(sw->st, r) == -1)
			goto fail;
	}
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		struct state_instance si;
		memset(&si, 0, sizeof(si));
		si.name = (char *)(uintptr_t)in->qc.ic->name;
		si.url = in->qc.ic->base_url;
		si.version = in->failed ? NULL : in->qc.version;
		si.api_version = in->failed ? NULL : in->qc.api_version;
		si.last_sweep = sw->now;
		si.last_success = in->failed ? 0 : sw->now;
		si.last_error = in->qc.error;
		si.free_space = in->qc.free_space;
		if (state_save_instance(sw->st, &si) == -1)
			goto fail;
	}
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct outcome *o = sw->outcomes.v[i];
		const struct outcome *bl;
		bool settled;

		if (o->kind != ACT_SEARCH)
			continue;
		/* Owed until the Arr took it, or until we know no blocklist happened. */
		bl = o->after;
		if (bl != NULL && bl->kind != ACT_BLOCKLIST)
			bl = bl->after;
		settled = o->result == RESULT_DONE ||
		    (bl != NULL && bl->result != RESULT_DONE);
		if (settled && state_clear_owed(sw->st, o->in->qc.ic->name,
		    o->item ? torrent_of(o->item)->hash : o->owed_hash, o->arr->name) == -1)
			goto fail;
	}
	/* Held actions: one row per instance and run, not one per torrent. */
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct inst *in = &sw->insts[i];
		struct state_action a;
		char *reason;
		int r;

		if (in->held == 0)
			continue;
		reason = in->fuse_blown ? xasprintf("fuse: %zu deletion(s), blocklist(s) "
		    "or re-search(es) held: more than MaxDeletionsPerRun %d decided on this "
		    "instance; they stay due: once the cause is understood, raise "
		    "MaxDeletionsPerRun in [%s] for one run",
		    in->held, config_instance_max_deletions(sw->cfg, in->qc.ic), in->qc.ic->name) :
		    xasprintf("clock: %zu deletion(s) or blocklist(s) held: %s", in->held,
		    sw->clock_why);
		memset(&a, 0, sizeof(a));
		a.time = sw->now;
		a.instance = in->qc.ic->name;
		a.action = "delete";
		a.reason = reason;
		a.result = outcome_result_name(RESULT_HELD);
		r = state_add_action(sw->st, &a);
		free(reason);
		if (r == -1)
			goto fail;
	}
	{
		const struct settings *set = &sw->cfg->settings;
		int64_t gone, acts;
		/* Retention, in small batches: a year of runs stays bounded. */
		if (state_prune(sw->st, set->gone_row_days > 0 ?
		    sw->now - (int64_t)set->gone_row_days * 86400 : 0,
		    set->history_days > 0 ? sw->now - (int64_t)set->history_days * 86400 : 0,
		    RETENTION_BATCH, &gone, &acts) == -1)
			goto fail;
		if (gone + acts > 0)
			log_debug("retention: %lld gone row(s) and %lld audit row(s) removed",
			    (long long)gone, (long long)acts);
	}
	/* The clock itself is the instances' last_sweep. */
	if (state_meta_set(sw->st, "clock_pending", sw->clock_pending) == -1)
		goto fail;
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		struct state_action a;
		if (sw->outcomes.v[i]->item != NULL &&
		    sw->outcomes.v[i]->result == RESULT_HELD)
			continue;
		outcome_audit(sw, sw->outcomes.v[i], &a);
		/* The same failure run after run: recorded once per torrent and cause. */
		if (sw->outcomes.v[i]->result == RESULT_FAILED &&
		    state_action_repeats(sw->st, &a, sw->outcomes.v[i]->audit_id)) {
			free((char *)(uintptr_t)a.reason);
			if (sw->outcomes.v[i]->audit_id > 0 &&
			    state_drop_action(sw->st, sw->outcomes.v[i]->audit_id) == -1)
				goto fail;
			continue;
		}
		int r = sw->outcomes.v[i]->audit_id > 0 ?
		    state_settle_action(sw->st, sw->outcomes.v[i]->audit_id, &a) :
		    state_add_action(sw->st, &a);
		free((char *)(uintptr_t)a.reason);
		if (r == -1)
			goto fail;
	}
	test_kill_point("commit");
	if (state_commit(sw->st) == -1)
		goto fail;
	state_vacuum_step(sw->st, VACUUM_PAGES);
	rc = 0;
	goto out;
fail:
	state_rollback(sw->st);
out:
	free(seen);
	return rc;
}
