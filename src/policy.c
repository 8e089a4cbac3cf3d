/* policy: the pure rule chain (see policy.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy.h"
#include "util.h"

#define IGNORED_TAG	"qBitrr-ignored"

static const char *const action_names[ACT__COUNT] = {
	[ACT_CREATE_CATEGORY] = "create_category",
	[ACT_IMPORT] = "import",
	[ACT_DELETE] = "delete",
	[ACT_BLOCKLIST] = "blocklist",
	[ACT_SEARCH] = "search",
	[ACT_RECHECK] = "recheck",
	[ACT_SET_CATEGORY] = "set_category",
	[ACT_PAUSE] = "pause",
	[ACT_RESUME] = "resume",
	[ACT_SET_FILE_PRIORITY] = "set_file_priority",
	[ACT_ADD_TAG] = "add_tag",
	[ACT_REMOVE_TAG] = "remove_tag",
	[ACT_SET_LIMITS] = "set_limits",
	[ACT_VERIFY_IMPORT] = "verify_import",
};

const char *
policy_action_name(enum action_kind kind)
{
	return (unsigned)kind < ACT__COUNT ? action_names[kind] : "?";
}

bool
policy_action_mutates(enum action_kind kind)
{
	return kind != ACT_VERIFY_IMPORT;
}

/* ---- torrent predicates ---------------------------------------------- */

static bool
state_is(const struct qbit_torrent *t, const char *s)
{
	return t->state != NULL && strcmp(t->state, s) == 0;
}

bool
torrent_is_complete(const struct qbit_torrent *t)
{
	return t->amount_left == 0 && t->progress >= 1.0 - 1e-9 && t->size > 0;
}

bool
torrent_is_paused(const struct qbit_torrent *t)
{
	return state_is(t, "pausedDL") || state_is(t, "pausedUP") ||
	    state_is(t, "stoppedDL") || state_is(t, "stoppedUP");
}

bool
torrent_is_downloading(const struct qbit_torrent *t)
{
	static const char *const dl[] = { "downloading", "stalledDL", "metaDL",
	    "forcedMetaDL", "forcedDL", "queuedDL", "checkingDL", "pausedDL",
	    "stoppedDL", "allocating" };

	for (size_t i = 0; i < sizeof(dl) / sizeof(dl[0]); i++)
		if (state_is(t, dl[i]))
			return !torrent_is_complete(t);
	return false;
}

bool
torrent_is_stalled(const struct qbit_torrent *t)
{
	if (torrent_is_complete(t))
		return false;
	if (state_is(t, "stalledDL") || state_is(t, "metaDL") || state_is(t, "forcedMetaDL"))
		return true;
	/* availability is -1 when qBittorrent does not know it. */
	return state_is(t, "downloading") && t->availability >= 0 && t->availability < 1;
}

/* Complete and in a seeding or stopped-complete state: ready for import. */
static bool
torrent_is_seeding(const struct qbit_torrent *t)
{
	static const char *const up[] = { "uploading", "stalledUP", "queuedUP",
	    "pausedUP", "stoppedUP", "forcedUP" };

	if (!torrent_is_complete(t))
		return false;
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		if (state_is(t, up[i]))
			return true;
	return false;
}

bool
policy_category_managed(const struct config *cfg, const char *category)
{
	if (category == NULL || *category == '\0')
		return false;
	/* The list discovery asks qBittorrent for (config_load made it)... */
	for (size_t i = 0; i < cfg->n_managed_categories; i++)
		if (strcmp(cfg->managed_categories[i], category) == 0)
			return true;
	/* ...and "radarr/4k" under an Arr with MatchSubcategories. */
	return config_arr_for_category(cfg, category) != NULL;
}

const struct arr_config *
policy_arr_for(const struct config *cfg, const char *category, const struct state_row *row)
{
	const struct arr_config *a = config_arr_for_category(cfg, category);

	if (a != NULL || row == NULL)
		return a;
	if (row->arr != NULL)
		for (size_t i = 0; i < cfg->n_arrs; i++)
			if (cfg->arrs[i].managed && strcmp(cfg->arrs[i].name, row->arr) == 0)
				return &cfg->arrs[i];
	if (row->prev_category != NULL)
		return config_arr_for_category(cfg, row->prev_category);
	return NULL;
}

/* ---- decision building ----------------------------------------------- */

static void
trace(struct policy_decision *d, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	if (!d->tracing)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->trace = xreallocarray(d->trace, d->n_trace + 1, sizeof(char *));
	d->trace[d->n_trace++] = xstrdup(line);
}

static struct policy_action *
add_action(struct policy_decision *d, enum action_kind kind, const char *rule,
    const char *fmt, ...)
{
	struct policy_action *a;
	va_list ap;
	char reason[512];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	d->actions = xreallocarray(d->actions, d->n_actions + 1, sizeof(*d->actions));
	a = &d->actions[d->n_actions++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->rule = rule;
	a->reason = xstrdup(reason);
	a->dl_limit = -1;
	a->up_limit = -1;
	return a;
}

static void
set_waiting(struct policy_decision *d, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(d->waiting);
	d->waiting = xstrdup(msg);
}

void
policy_decision_free(struct policy_decision *d)
{
	for (size_t i = 0; i < d->n_actions; i++) {
		free(d->actions[i].reason);
		free(d->actions[i].category);
		free(d->actions[i].file_ids);
		free(d->actions[i].path);
	}
	free(d->actions);
	for (size_t i = 0; i < d->n_trace; i++)
		free(d->trace[i]);
	free(d->trace);
	free(d->waiting);
	state_row_clear(&d->row);
	memset(d, 0, sizeof(*d));
}

/*
 * Seconds from a server's timestamp t (> 0) to now; 0 for one in the
 * future.  The subtraction cannot overflow whatever the server sent.
 */
static int64_t
elapsed(int64_t now, int64_t t)
{
	return t >= now ? 0 : t < 0 && now > INT64_MAX + t ? INT64_MAX : now - t;
}

/* "14 min", "3 h 5 min", "2 d 4 h": durations in an operator's units. */
static const char *
human_duration(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%lld s", (long long)s);
	else if (s % 86400 == 0)
		snprintf(buf, n, "%lld d", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, n, "%lld h", (long long)(s / 3600));
	else if (s < 3600 && s % 60 != 0)
		snprintf(buf, n, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
	else if (s < 7200)
		snprintf(buf, n, "%lld min", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, n, "%lld h %lld min", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%lld d %lld h", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}

struct chain {
	const struct policy_input *in;
	struct policy_decision *d;
	const struct torrent_config *tc;	/* NULL when no Arr is known */
	const struct tracker_config *trk;	/* the torrent's ruling tracker, or NULL */
	bool exempt;
	char exempt_why[160];
};

/* ---- per-tracker rules (qBitrr's [[...Trackers]]) ------------------------- */

/* The host of a tracker URL, lower case, into buf ("" if none). */
static void
url_host(const char *url, char *buf, size_t n)
{
	const char *s = strstr(url, "://"), *end;
	size_t len;

	s = s ? s + 3 : url;
	end = s + strcspn(s, "/?#");
	for (const char *at = s; at < end; at++)
		if (*at == '@')
			s = at + 1;
	if (*s == '[')
		s++;
	len = strcspn(s, *s && s[-1] == '[' ? "]" : ":/?#");
	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
}

/* A torrent's tracker host is the configured one, or a subdomain of it. */
static bool
host_matches(const char *host, const char *want)
{
	size_t n = strlen(host), m = strlen(want);

	if (m == 0 || n < m)
		return false;
	if (n == m)
		return strcmp(host, want) == 0;
	return host[n - m - 1] == '.' && strcmp(host + n - m, want) == 0;
}

static bool
tracker_present(const struct tracker_config *k, const struct qbit_tracker_list *tl)
{
	char host[256];

	for (size_t i = 0; i < tl->n; i++) {
		if (tl->items[i].url == NULL || strncmp(tl->items[i].url, "** [", 4) == 0)
			continue;	/* DHT, PeX, LSD */
		url_host(tl->items[i].url, host, sizeof(host));
		if (host_matches(host, k->host))
			return true;
	}
	return false;
}

/* qBitrr's "most important" tracker: the matching one of highest Priority. */
static const struct tracker_config *
ruling_tracker(const struct arr_config *arr, const struct qbit_tracker_list *tl)
{
	const struct tracker_config *best = NULL;

	for (size_t i = 0; i < arr->n_trackers; i++) {
		const struct tracker_config *k = &arr->trackers[i];

		if (k->remove_if_exists || !tracker_present(k, tl))
			continue;
		if (best == NULL || k->priority > best->priority)
			best = k;
	}
	return best;
}

static const char *
tracker_label(const struct tracker_config *k)
{
	return k->name != NULL && *k->name != '\0' ? k->name : k->host;
}

/*
 * A Hit-and-Run tracker (same host) says the torrent is gone: the
 * obligation no longer applies.  qBitrr's words, exactly.
 */
static bool
hnr_tracker_dead(const struct arr_config *arr, const struct qbit_tracker_list *tl)
{
	static const char *const gone[] = { "unregistered torrent",
	    "torrent not registered", "info hash is not authorized",
	    "torrent is not authorized", "torrent not found" };
	char host[256];

	for (size_t i = 0; i < tl->n; i++) {
		bool hnr_host = false;

		if (tl->items[i].url == NULL || tl->items[i].msg == NULL)
			continue;
		url_host(tl->items[i].url, host, sizeof(host));
		for (size_t k = 0; k < arr->n_trackers && !hnr_host; k++)
			hnr_host = arr->trackers[k].hnr != HNR_DISABLED &&
			    strcmp(arr->trackers[k].host, host) == 0;
		if (!hnr_host)
			continue;
		for (size_t j = 0; j < sizeof(gone) / sizeof(gone[0]); j++)
			if (str_casestr(tl->items[i].msg, gone[j]))
				return true;
	}
	return false;
}

/*
 * Hit-and-Run, as qBitrr decides it: true (and why) when the ruling
 * tracker's minimum is not met yet, so that a removal must wait.  Below
 * HitAndRunMinimumDownloadPercent there is no obligation; a partial
 * download needs HitAndRunPartialSeedRatio; a complete one MinSeedRatio
 * and/or MinSeedingTimeDays (qBittorrent's seeding_time less
 * TrackerUpdateBuffer), per HitAndRunMode.
 */
static bool
hnr_holds(const struct chain *c, char *why, size_t n)
{
	const struct tracker_config *k = c->trk;
	const struct qbit_torrent *t = c->in->t;
	int64_t min_time, seeded;
	bool rset, tset, rmet, tmet, ok;
	char b1[32], b2[32];

	if (k == NULL || k->hnr == HNR_DISABLED)
		return false;
	if (c->in->facts.trackers != NULL && c->in->arr != NULL &&
	    hnr_tracker_dead(c->in->arr, c->in->facts.trackers))
		return false;
	if (t->progress < k->hnr_min_dl_pct / 100.0)
		return false;
	if (t->progress < 1.0) {
		if (t->ratio >= k->hnr_partial_ratio)
			return false;
		snprintf(why, n, "Hit-and-Run on %s: partial download (%.0f %%) at ratio %.2f "
		    "< HitAndRunPartialSeedRatio %.2f", tracker_label(k), t->progress * 100,
		    t->ratio, k->hnr_partial_ratio);
		return true;
	}
	min_time = (int64_t)(k->hnr_min_days * 86400);
	seeded = t->seeding_time - k->hnr_buffer;
	rset = k->hnr_min_ratio > 0;
	tset = min_time > 0;
	rmet = rset && t->ratio >= k->hnr_min_ratio;
	tmet = tset && seeded >= min_time;
	if (rset && tset)
		ok = k->hnr == HNR_AND ? rmet && tmet : rmet || tmet;
	else
		ok = rset ? rmet : tset ? tmet : true;
	if (ok)
		return false;
	snprintf(why, n, "Hit-and-Run on %s (mode %s): ratio %.2f %s MinSeedRatio %.2f, "
	    "seeded %s %s MinSeedingTimeDays %g", tracker_label(k),
	    k->hnr == HNR_AND ? "and" : "or", t->ratio, rmet ? ">=" : "<", k->hnr_min_ratio,
	    human_duration(seeded, b1, sizeof(b1)), tmet ? ">=" : "<", k->hnr_min_days);
	(void)b2;
	return true;
}

/*
 * Remove a torrent: blocklist in its Arr (when asked and possible), delete
 * with files, re-search.  Fails closed: an unknown or unreachable queue
 * makes the removal wait.
 */
static void
removal(struct chain *c, const char *rule, bool blocklist, const char *reason)
{
	const struct policy_input *in = c->in;
	struct policy_decision *d = c->d;
	const struct arr_config *arr = in->arr;
	struct policy_action *a;

	if (c->exempt) {
		set_waiting(d, "%s, but %s: exempt from removal", reason, c->exempt_why);
		trace(d, "  -> would remove, but %s", c->exempt_why);
		return;
	}
	if (strcmp(rule, "stalled") == 0 || strcmp(rule, "slow") == 0 ||
	    strcmp(rule, "unwanted-files") == 0) {
		char why[300];

		if (hnr_holds(c, why, sizeof(why))) {
			set_waiting(d, "%s, but %s: kept until the tracker's minimum is met",
			    reason, why);
			trace(d, "  -> would remove, but %s: kept", why);
			return;
		}
	}
	if (blocklist && (arr == NULL || arr->uri != NULL)) {
		switch (in->facts.queue) {
		case QUEUE_UNKNOWN:
			d->needs |= POLICY_NEED_QUEUE;
			trace(d, "  -> needs the Arr queue to blocklist first");
			return;
		case QUEUE_UNREACHABLE:
			set_waiting(d, "%s, but %s is unreachable: removal waits "
			    "until it can be blocklisted", reason,
			    arr ? arr->name : "no Arr");
			trace(d, "  -> waits: Arr unreachable (fail closed)");
			return;
		case QUEUE_AMBIGUOUS:
			d->report = true;
			set_waiting(d, "%s, but the hash is on several instances and %s's "
			    "download clients (host, port) do not tell which of its "
			    "records is this instance's: kept, not blocklisted", reason,
			    arr ? arr->name : "the Arr");
			trace(d, "  -> kept: cannot tell this instance's queue record");
			return;
		case QUEUE_PRESENT:
			a = add_action(d, ACT_DELETE, rule, "%s", reason);
			a->delete_files = true;
			a->blocklist = true;
			a->search = arr != NULL && arr->research;
			trace(d, "  -> blocklist in %s, delete with files%s", arr ? arr->name : "Arr",
			    a->search ? ", re-search" : "");
			return;
		case QUEUE_ABSENT:
			switch (in->facts.history) {
			case HISTORY_UNKNOWN:
				d->needs |= POLICY_NEED_HISTORY;
				trace(d, "  -> not queued: needs the grab in the Arr history");
				return;
			case HISTORY_UNREACHABLE:
				set_waiting(d, "%s, but %s history is unreachable: removal "
				    "waits until it can be blocklisted", reason,
				    arr ? arr->name : "the Arrs'");
				trace(d, "  -> waits: Arr history unreachable (fail closed)");
				return;
			case HISTORY_PRESENT:
				/* The Arr searches again itself if its Redownload Failed is on. */
				a = add_action(d, ACT_DELETE, rule, "%s (gone from %s queue: its "
				    "grab %lld in the history is marked failed)", reason,
				    arr ? arr->name : "the Arr's", (long long)in->facts.grab_id);
				a->delete_files = true;
				a->blocklist = true;
				a->history_id = in->facts.grab_id;
				trace(d, "  -> mark grab %lld failed in %s, delete with files",
				    (long long)in->facts.grab_id, arr ? arr->name : "Arr");
				return;
			case HISTORY_AMBIGUOUS:
				d->report = true;
				set_waiting(d, "%s, but the hash is on several instances and "
				    "%s's grab names a download client that matches none "
				    "of them: kept, not blocklisted", reason,
				    arr ? arr->name : "the Arr");
				trace(d, "  -> kept: cannot tell whose grab it is");
				return;
			case HISTORY_ABSENT:
				break;
			}
			break;
		case QUEUE_NO_ARR:
			break;
		}
		a = add_action(d, ACT_DELETE, rule, "%s (neither in %s queue nor in its grab "
		    "history: nothing to blocklist)", reason, arr ? arr->name : "any Arr");
	} else {
		a = add_action(d, ACT_DELETE, rule, "%s", reason);
	}
	a->delete_files = true;
	trace(d, "  -> delete with files");
}

static bool
rule_failed(struct chain *c)
{
	const struct policy_input *in = c->in;

	if (strcmp(in->t->category, in->cfg->settings.failed_category) != 0) {
		trace(c->d, "failed-category: no (category \"%s\" is not FailedCategory \"%s\")",
		    in->t->category, in->cfg->settings.failed_category);
		return false;
	}
	trace(c->d, "failed-category: yes (category is FailedCategory \"%s\")",
	    in->cfg->settings.failed_category);
	removal(c, "failed-category", true, "moved to FailedCategory");
	return true;
}

static bool
rule_recheck(struct chain *c)
{
	const struct policy_input *in = c->in;
	struct policy_decision *d = c->d;
	const char *prev = in->row ? in->row->prev_category : NULL;
	struct policy_action *a;

	if (strcmp(in->t->category, in->cfg->settings.recheck_category) != 0) {
		trace(d, "recheck-category: no");
		return false;
	}
	trace(d, "recheck-category: yes (category is RecheckCategory \"%s\")",
	    in->cfg->settings.recheck_category);
	if ((prev == NULL || *prev == '\0') && in->row != NULL && in->row->recheck_sent_at != 0 &&
	    in->row->category != NULL &&
	    strcmp(in->row->category, in->cfg->settings.recheck_category) == 0) {
		/* Rechecked already; no previous category to return to. */
		set_waiting(d, "rechecked; no previous category known, left in \"%s\"",
		    in->cfg->settings.recheck_category);
		return true;
	}
	add_action(d, ACT_RECHECK, "recheck-category", "moved to RecheckCategory");
	d->row.recheck_sent_at = in->now;
	if (prev != NULL && *prev != '\0') {
		a = add_action(d, ACT_SET_CATEGORY, "recheck-category",
		    "back to its previous category \"%s\" after the recheck", prev);
		a->category = xstrdup(prev);
		trace(d, "  -> recheck, then category back to \"%s\"", prev);
	} else {
		d->report = true;
		set_waiting(d, "rechecked; no previous category known, left in \"%s\"",
		    in->cfg->settings.recheck_category);
		trace(d, "  -> recheck; no previous category known");
	}
	return true;
}

static bool
rule_missing(struct chain *c)
{
	if (!state_is(c->in->t, "missingFiles")) {
		trace(c->d, "missing-files: no (state %s)", c->in->t->state);
		return false;
	}
	trace(c->d, "missing-files: yes (state missingFiles)");
	removal(c, "missing-files", false, "state missingFiles: data files are gone");
	return true;
}

static bool
rule_errored(struct chain *c)
{
	const struct policy_input *in = c->in;
	struct policy_decision *d = c->d;

	if (!state_is(in->t, "error")) {
		trace(d, "errored: no");
		return false;
	}
	if (in->row == NULL || in->row->recheck_sent_at == 0) {
		trace(d, "errored: yes (state error) -> force recheck once");
		add_action(d, ACT_RECHECK, "errored", "state error: forcing one recheck");
		d->row.recheck_sent_at = in->now;
		return true;
	}
	trace(d, "errored: yes, still after the recheck -> reported, never deleted");
	if (in->row->error_reported_at == 0) {
		d->report = true;
		d->row.error_reported_at = in->now;
	}
	set_waiting(d, "still in state error after a recheck (disk full? "
	    "wrong permissions?): look at it in qBittorrent; never deleted for this");
	return true;
}

static bool
rule_stalled(struct chain *c)
{
	const struct policy_input *in = c->in;
	const struct qbit_torrent *t = in->t;
	struct policy_decision *d = c->d;
	int64_t since, delay, stalled_for, idle;
	char b1[32], b2[32], b3[32];

	if (!torrent_is_stalled(t)) {
		trace(d, "stalled: no (state %s%s)", t->state,
		    torrent_is_complete(t) ? ", complete" : "");
		return false;
	}
	since = in->row ? in->row->stalled_since : 0;
	if (since == 0 || (in->row != NULL && t->progress > in->row->progress + 1e-9))
		since = in->now;	/* first seen stalled, or it made progress */
	d->row.stalled_since = since;
	stalled_for = in->now - since;
	if (c->tc == NULL) {
		trace(d, "stalled: yes (state %s) but no Arr settings apply", t->state);
		return false;
	}
	if (c->tc->research_stalled && (in->row == NULL || in->row->research_stalled_at == 0) &&
	    !c->exempt && in->arr != NULL && in->arr->uri != NULL) {
		if (in->facts.queue == QUEUE_UNKNOWN) {
			d->needs |= POLICY_NEED_QUEUE;
		} else if (in->facts.queue == QUEUE_PRESENT) {
			struct policy_action *a = add_action(d, ACT_BLOCKLIST, "stalled",
			    "stalled (state %s): ReSearchStalled blocklists and "
			    "re-searches at first detection, keeping the torrent", t->state);
			a->search = in->arr->research;
			d->row.research_stalled_at = in->now;
		} else if (in->facts.queue == QUEUE_ABSENT) {
			/* Not queued: nothing to blocklist, and no reason to ask again. */
			d->row.research_stalled_at = in->now;
		}
	}
	delay = c->tc->stalled_delay;
	/* Neither known (or nonsense like INT64_MIN): not idle, so never removed on it. */
	idle = t->last_activity > 0 ? elapsed(in->now, t->last_activity) :
	    t->added_on > 0 ? elapsed(in->now, t->added_on) : 0;
	if (delay == -1) {
		/* qBitrr: -1 is no grace; removed once idle for IgnoreTorrentsYoungerThan. */
		int64_t young = config_arr_ignore_younger(in->cfg, in->arr);
		char reason[256];

		if (idle < young) {
			trace(d, "stalled: yes (state %s), StalledDelay -1 (no grace), but last "
			    "activity %s ago < IgnoreTorrentsYoungerThan %s", t->state,
			    human_duration(idle, b1, sizeof(b1)),
			    human_duration(young, b2, sizeof(b2)));
			set_waiting(d, "stalled; StalledDelay -1: removal due in %s",
			    human_duration(young - idle, b3, sizeof(b3)));
			return false;
		}
		snprintf(reason, sizeof(reason), "stalled (state %s), StalledDelay -1 (no grace): "
		    "last activity %s ago >= IgnoreTorrentsYoungerThan %s", t->state,
		    human_duration(idle, b1, sizeof(b1)), human_duration(young, b2, sizeof(b2)));
		trace(d, "stalled: yes, %s", reason);
		removal(c, "stalled", true, reason);
		return true;
	}
	if (delay <= 0) {
		trace(d, "stalled: yes (state %s, since %s) but StalledDelay 0 never removes",
		    t->state, human_duration(stalled_for, b1, sizeof(b1)));
		set_waiting(d, "stalled; StalledDelay 0 never removes");
		return false;
	}
	if (stalled_for >= delay * 60 && idle >= delay * 60) {
		char reason[256];
		snprintf(reason, sizeof(reason), "stalled (state %s) for %s >= StalledDelay "
		    "%lld min, last activity %s ago", t->state,
		    human_duration(stalled_for, b1, sizeof(b1)), (long long)delay,
		    human_duration(idle, b2, sizeof(b2)));
		trace(d, "stalled: yes, %s", reason);
		removal(c, "stalled", true, reason);
		return true;
	}
	{
		int64_t due = delay * 60 - stalled_for;
		if (delay * 60 - idle > due)
			due = delay * 60 - idle;
		char hhmm[16];
		time_t st = (time_t)since;
		struct tm tm;
		localtime_r(&st, &tm);
		strftime(hhmm, sizeof(hhmm), "%H:%M", &tm);
		trace(d, "stalled: yes, since %s (%s) < StalledDelay %lld min, last activity "
		    "%s ago — due in %s", hhmm, human_duration(stalled_for, b1,
		    sizeof(b1)), (long long)delay, human_duration(idle, b2, sizeof(b2)),
		    human_duration(due, b3, sizeof(b3)));
		set_waiting(d, "stalled for %s < StalledDelay %lld min: removal due in %s",
		    b1, (long long)delay, b3);
	}
	/* Not due yet: later rules (unwanted files, unregistered) still apply. */
	return false;
}

static bool
rule_slow(struct chain *c)
{
	const struct policy_input *in = c->in;
	const struct qbit_torrent *t = in->t;
	char b1[32], b2[32], reason[256], from[128] = "";
	int64_t eta_max;

	if (c->tc == NULL) {
		trace(c->d, "slow: no (no Arr settings)");
		return false;
	}
	/* qBitrr: a positive MaximumETA of the torrent's tracker wins. */
	eta_max = c->tc->maximum_eta;
	if (c->trk != NULL && c->trk->maximum_eta > 0) {
		eta_max = c->trk->maximum_eta;
		snprintf(from, sizeof(from), " (tracker %s)", tracker_label(c->trk));
	}
	if (!state_is(t, "downloading") || eta_max <= 0) {
		trace(c->d, "slow: no (%s)", eta_max <= 0 ? "MaximumETA off" : "not downloading");
		return false;
	}
	if (t->eta <= eta_max) {
		trace(c->d, "slow: no (ETA %s <= MaximumETA %s%s)",
		    human_duration(t->eta, b1, sizeof(b1)),
		    human_duration(eta_max, b2, sizeof(b2)), from);
		return false;
	}
	if (c->tc->do_not_remove_slow) {
		trace(c->d, "slow: ETA over MaximumETA, but DoNotRemoveSlow = true");
		return false;
	}
	if (t->progress >= c->tc->max_deletable_pct) {
		trace(c->d, "slow: no (progress %.1f %% >= MaximumDeletablePercentage %.1f %%)",
		    t->progress * 100, c->tc->max_deletable_pct * 100);
		return false;
	}
	snprintf(reason, sizeof(reason), "slow: ETA %s > MaximumETA %s%s at %.1f %% "
	    "(< MaximumDeletablePercentage %.1f %%)", human_duration(t->eta, b1, sizeof(b1)),
	    human_duration(eta_max, b2, sizeof(b2)), from, t->progress * 100,
	    c->tc->max_deletable_pct * 100);
	trace(c->d, "slow: yes, %s", reason);
	removal(c, "slow", true, reason);
	return true;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Python's PurePath.suffix: from the last '.', unless it starts or ends the name. */
static const char *
path_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL || dot == name || dot[1] == '\0')
		return "";
	return dot;
}

/*
 * As qBitrr decides it, on first sight of a download: a file is excluded
 * when any folder above it (lower-cased, as qBitrr does even with
 * CaseSensitiveMatches) matches FolderExclusionRegex, else its name matches
 * FileNameExclusionRegex, else the allowlist is set and none of its
 * regexes is found in the file's suffix.  A search that gives up (match
 * limit) keeps the file: fail closed.
 */
bool
policy_file_unwanted(const struct torrent_config *tc, const char *path)
{
	const char *name = base_name(path);
	int r;

	for (const char *p = path; p < name; ) {
		const char *slash = strchr(p, '/');
		if (slash == NULL || slash >= name)
			break;
		char *folder = str_lower(xstrndup(p, (size_t)(slash - p)));
		r = *folder != '\0' && strcmp(folder, ".") != 0 ?
		    config_regexlist_search(&tc->folder_exclusion, folder) : 0;
		free(folder);
		if (r != 0)
			return r == 1;
		p = slash + 1;
	}
	if ((r = config_regexlist_search(&tc->filename_exclusion, name)) != 0)
		return r == 1;
	if (tc->extension_allowlist.n == 0)
		return false;
	return config_regexlist_search(&tc->extension_allowlist, path_suffix(name)) == 0;
}

static bool
rule_unwanted_files(struct chain *c)
{
	const struct policy_input *in = c->in;
	struct policy_decision *d = c->d;
	const struct qbit_file_list *files = in->facts.files;
	struct policy_action *a;
	size_t unwanted = 0, candidates = 0;

	if (c->tc == NULL || torrent_is_complete(in->t) || in->t->size <= 0 ||
	    state_is(in->t, "metaDL") || state_is(in->t, "forcedMetaDL")) {
		trace(d, "unwanted-files: no (not a downloading torrent with metadata)");
		return false;
	}
	if (in->row != NULL && in->row->files_checked_at != 0) {
		trace(d, "unwanted-files: no (files checked already)");
		return false;
	}
	if (files == NULL) {
		d->needs |= POLICY_NEED_FILES;
		trace(d, "unwanted-files: needs the file list");
		return false;
	}
	d->row.files_checked_at = in->now;
	for (size_t i = 0; i < files->n; i++) {
		if (files->items[i].priority == 0)
			continue;
		candidates++;
		if (policy_file_unwanted(c->tc, files->items[i].name))
			unwanted++;
	}
	if (unwanted == 0) {
		trace(d, "unwanted-files: no (%zu files, none excluded)", files->n);
		return false;
	}
	if (unwanted == candidates) {
		char reason[160];
		snprintf(reason, sizeof(reason), "all %zu files are unwanted "
		    "(FolderExclusionRegex/FileNameExclusionRegex/FileExtensionAllowlist)",
		    unwanted);
		trace(d, "unwanted-files: yes, %s", reason);
		removal(c, "unwanted-files", true, reason);
		/* Not removed now (exempt, Arr not asked or unreachable): stays due. */
		if (d->n_actions == 0 || d->actions[d->n_actions - 1].kind != ACT_DELETE)
			d->row.files_checked_at = in->row ? in->row->files_checked_at : 0;
		return true;
	}
	a = add_action(d, ACT_SET_FILE_PRIORITY, "unwanted-files",
	    "%zu of %zu files excluded by FolderExclusionRegex/FileNameExclusionRegex/"
	    "FileExtensionAllowlist: priority 0", unwanted, candidates);
	a->file_ids = xcalloc(unwanted, sizeof(int));
	for (size_t i = 0; i < files->n; i++)
		if (files->items[i].priority != 0 &&
		    policy_file_unwanted(c->tc, files->items[i].name))
			a->file_ids[a->n_file_ids++] = files->items[i].index;
	trace(d, "unwanted-files: yes, %zu of %zu files get priority 0", unwanted, candidates);
	return true;
}

bool
policy_unregistered(const struct torrent_config *tc, const struct qbit_tracker_list *tl,
    char *why, size_t n)
{
	const char *hit = NULL, *url = NULL;

	if (tl == NULL || tl->n == 0)
		return false;
	for (size_t i = 0; i < tl->n; i++) {
		if (tl->items[i].status == 2)
			return false;	/* a working tracker knows the torrent */
		for (size_t j = 0; hit == NULL && j < tc->unregistered_messages.n; j++)
			if (str_casestr(tl->items[i].msg, tc->unregistered_messages.items[j])) {
				hit = tl->items[i].msg;
				url = tl->items[i].url;
			}
	}
	if (hit != NULL && why != NULL)
		snprintf(why, n, "tracker %s says \"%s\"", url, hit);
	return hit != NULL;
}

static bool
rule_unregistered(struct chain *c)
{
	const struct policy_input *in = c->in;
	char why[300], reason[400];

	if (c->tc == NULL || !c->tc->remove_unregistered) {
		trace(c->d, "unregistered: no (RemoveUnregistered off)");
		return false;
	}
	if (in->t->tracker != NULL && *in->t->tracker != '\0') {
		trace(c->d, "unregistered: no (tracker %s is working)", in->t->tracker);
		return false;
	}
	if (in->facts.trackers == NULL) {
		c->d->needs |= POLICY_NEED_TRACKERS;
		trace(c->d, "unregistered: needs the tracker list");
		return false;
	}
	if (!policy_unregistered(c->tc, in->facts.trackers, why, sizeof(why))) {
		trace(c->d, "unregistered: no (no tracker says unregistered)");
		return false;
	}
	snprintf(reason, sizeof(reason), "unregistered: %s and no tracker works", why);
	trace(c->d, "unregistered: yes, %s", reason);
	removal(c, "unregistered", true, reason);
	return true;
}

static bool
rule_arr_error(struct chain *c)
{
	const struct policy_input *in = c->in;
	const struct arr_config *arr = in->arr;
	const struct queue_record *q = in->facts.record;

	if (arr == NULL || arr->uri == NULL || arr->error_codes_to_blocklist.n == 0 ||
	    !torrent_is_complete(in->t) ||
	    (in->row != NULL && in->row->import_result != NULL &&
	    strcmp(in->row->import_result, "completed") == 0)) {
		trace(c->d, "arr-import-error: no");
		return false;
	}
	if (in->facts.queue == QUEUE_UNKNOWN) {
		c->d->needs |= POLICY_NEED_QUEUE;
		trace(c->d, "arr-import-error: needs the Arr queue");
		return false;
	}
	/*
	 * importPending with a warning; since Radarr 5.8, Sonarr 4.0.5 and
	 * Lidarr 2.10.1 rejected files are importBlocked, and Lidarr marks
	 * rejected tracks importFailed (warning or error).
	 */
	if (in->facts.queue != QUEUE_PRESENT || q == NULL || q->status == NULL ||
	    strcasecmp(q->status, "completed") != 0 || q->tracked_state == NULL ||
	    q->tracked_status == NULL ||
	    !((strcasecmp(q->tracked_state, "importPending") == 0 &&
	    strcasecmp(q->tracked_status, "warning") == 0) ||
	    ((strcasecmp(q->tracked_state, "importBlocked") == 0 ||
	    strcasecmp(q->tracked_state, "importFailed") == 0) &&
	    (strcasecmp(q->tracked_status, "warning") == 0 ||
	    strcasecmp(q->tracked_status, "error") == 0)))) {
		trace(c->d, "arr-import-error: no (no import warning in the queue)");
		return false;
	}
	for (size_t i = 0; i < q->n_messages; i++)
		for (size_t j = 0; j < arr->error_codes_to_blocklist.n; j++)
			if (strcmp(q->messages[i], arr->error_codes_to_blocklist.items[j]) == 0) {
				char reason[400];
				snprintf(reason, sizeof(reason), "%s import failed: \"%s\" "
				    "(ArrErrorCodesToBlocklist)", arr->name, q->messages[i]);
				trace(c->d, "arr-import-error: yes, %s", reason);
				removal(c, "arr-import-error", true, reason);
				return true;
			}
	trace(c->d, "arr-import-error: no (queue messages not in ArrErrorCodesToBlocklist)");
	return false;
}

/*
 * An absolute path with ".", ".." and repeated slashes resolved by text
 * alone; NULL when it is not absolute or ".." climbs above "/".
 */
static char *
path_normalise(const char *p)
{
	char *out = xmalloc(strlen(p) + 2);
	size_t o = 0;

	if (p[0] != '/') {
		free(out);
		return NULL;
	}
	while (*p != '\0') {
		const char *seg;
		size_t n;

		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (o == 0) {
				free(out);
				return NULL;
			}
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--;	/* the slash before the dropped segment */
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* Is path root itself or below it? */
static bool
path_within(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/';
	while (n > 1 && root[n - 1] == '/')
		n--;
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The remote root of the PathMapping that applies to path, as config_map_path picks it; "/" if none. */
static const char *
mapping_root(const struct instance_config *ic, const char *path)
{
	for (size_t i = 0; i < ic->n_mappings; i++) {
		const char *r = ic->mappings[i].remote;
		size_t n = strlen(r);
		if (strcmp(r, "/") == 0 ? path[0] == '/' :
		    strncmp(path, r, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return r;
	}
	return "/";
}

static bool
rule_import(struct chain *c)
{
	const struct policy_input *in = c->in;
	const struct qbit_torrent *t = in->t;
	const struct state_row *row = in->row;
	struct policy_decision *d = c->d;
	const struct arr_config *arr = in->arr;
	int64_t delay = in->cfg->settings.import_delay;
	struct policy_action *a;
	char b1[32], b2[32];

	if (arr == NULL || !torrent_is_seeding(t)) {
		trace(d, "import: no (%s)", arr == NULL ? "no Arr" : "not complete");
		return false;
	}
	if (row != NULL && row->import_sent_at != 0) {
		if (arr->verify_import && row->import_command_id > 0 && row->import_result != NULL &&
		    (strcmp(row->import_result, "queued") == 0 ||
		    strcmp(row->import_result, "started") == 0)) {
			add_action(d, ACT_VERIFY_IMPORT, "import",
			    "VerifyImport: asking %s how command %lld ended", arr->name,
			    (long long)row->import_command_id);
		}
		trace(d, "import: sent already (%s)", row->import_result ? row->import_result : "");
		return false;
	}
	if (arr->uri == NULL) {
		trace(d, "import: no (%s has no URI)", arr->name);
		return false;
	}
	if (row == NULL && in->adopt && t->completion_on > 0 &&
	    elapsed(in->now, t->completion_on) >= POLICY_ADOPT_SECONDS) {
		d->row.import_sent_at = in->now;
		free(d->row.import_result);
		d->row.import_result = xstrdup("adopted");
		trace(d, "import: adopted (completed %s ago, before this new state file): "
		    "taken as imported already", human_duration(elapsed(in->now,
		    t->completion_on), b1, sizeof(b1)));
		set_waiting(d, "adopted as imported already (first sweep on a new state file)");
		return true;
	}
	if (t->completion_on <= 0 || elapsed(in->now, t->completion_on) < delay) {
		trace(d, "import: not yet (completed %s ago < ImportDelay %s)",
		    human_duration(elapsed(in->now, t->completion_on), b1, sizeof(b1)),
		    human_duration(delay, b2, sizeof(b2)));
		set_waiting(d, "import due in %s", human_duration(delay -
		    elapsed(in->now, t->completion_on), b1, sizeof(b1)));
		return true;
	}
	if (row != NULL && row->import_next_try > in->now) {
		trace(d, "import: retry after %d failed attempt(s) in %s", row->import_attempts,
		    human_duration(row->import_next_try - in->now, b1, sizeof(b1)));
		set_waiting(d, "import retry in %s (last: %s)", b1,
		    row->import_result ? row->import_result : "failed");
		return true;
	}
	{
		const char *root = mapping_root(in->ic, t->content_path);
		char *norm = path_normalise(t->content_path);
		if (norm == NULL || !path_within(norm, root)) {
			/* A server's "/downloads/../../root" must not become a scan
			 * (with importMode Move) of a folder outside the mapping. */
			trace(d, "import: refused (content_path %s leaves %s once '..' is "
			    "resolved)", t->content_path, root);
			set_waiting(d, "import refused: content_path %s leaves %s%s once "
			    "'..' is resolved; nothing sent", t->content_path,
			    strcmp(root, "/") == 0 ? "" : "the PathMapping root ", root);
			d->report = true;
			free(norm);
			return true;
		}
		a = add_action(d, ACT_IMPORT, "import", "complete %s ago (ImportDelay %s)",
		    human_duration(elapsed(in->now, t->completion_on), b1, sizeof(b1)),
		    human_duration(delay, b2, sizeof(b2)));
		a->path = config_map_path(in->ic, norm);
		free(norm);
	}
	trace(d, "import: yes, scan %s in %s", a->path, arr->name);
	return true;
}

static bool
rule_seeding(struct chain *c)
{
	const struct policy_input *in = c->in;
	const struct qbit_torrent *t = in->t;
	const struct state_row *row = in->row;
	struct policy_decision *d = c->d;
	const struct seeding_config *sc;
	int64_t seeded, idle_up, time_lim;
	double ratio_lim;
	bool ratio_met, time_met, met;
	char b1[32], b2[32], reason[400], from[160] = "", idle[64] = "";

	if (c->tc == NULL || !torrent_is_seeding(t)) {
		trace(d, "seeding-goal: no (%s)", c->tc == NULL ? "no Arr" : "not complete");
		return false;
	}
	sc = &c->tc->seeding;
	if (sc->remove_torrent == -1) {
		trace(d, "seeding-goal: no (RemoveTorrent -1: never)");
		return false;
	}
	if (qbit_has_tag(t->tags, IGNORED_TAG) || state_is(t, "forcedUP")) {
		trace(d, "seeding-goal: no (%s)", state_is(t, "forcedUP") ? "forcedUP" :
		    "tagged " IGNORED_TAG);
		return false;
	}
	if (c->trk != NULL && c->trk->super_seed) {
		trace(d, "seeding-goal: no (tracker %s: SuperSeedMode keeps it)",
		    tracker_label(c->trk));
		return false;
	}
	/* qBitrr: a positive limit of the torrent's tracker wins over the Arr's. */
	ratio_lim = sc->max_ratio;
	time_lim = sc->max_seeding_time;
	if (c->trk != NULL && (c->trk->max_ratio > 0 || c->trk->max_seeding_time > 0)) {
		if (c->trk->max_ratio > 0)
			ratio_lim = c->trk->max_ratio;
		if (c->trk->max_seeding_time > 0)
			time_lim = c->trk->max_seeding_time;
		snprintf(from, sizeof(from), " (tracker %s)", tracker_label(c->trk));
	}
	/*
	 * qBitrr counts time spent seeding only: qBittorrent's seeding_time,
	 * or, as qBittorrent updates that late for an idle seeder, the time it
	 * has been seen in stalledUP without a break.
	 */
	seeded = t->seeding_time > 0 ? t->seeding_time : 0;
	idle_up = state_is(t, "stalledUP") && d->row.stalled_since > 0 ?
	    in->now - d->row.stalled_since : 0;
	ratio_met = ratio_lim > 0 && t->ratio >= ratio_lim;
	time_met = time_lim > 0 && (seeded >= time_lim || idle_up >= time_lim);
	if (idle_up > seeded)
		snprintf(idle, sizeof(idle), " (stalledUP for %s)",
		    human_duration(idle_up, b2, sizeof(b2)));
	switch (sc->remove_torrent) {
	case 1: met = ratio_met; break;
	case 2: met = time_met; break;
	case 3: met = ratio_met || time_met; break;
	case 4: met = ratio_met && time_met; break;
	default: met = false; break;
	}
	char ratio_limit[32];
	if (ratio_lim > 0)
		snprintf(ratio_limit, sizeof(ratio_limit), "%.2f", ratio_lim);
	else
		snprintf(ratio_limit, sizeof(ratio_limit), "unset");
	snprintf(reason, sizeof(reason), "seeding goal (RemoveTorrent %d): ratio %.2f %s "
	    "MaxUploadRatio %s, seeded %s%s %s MaxSeedingTime %s%s", sc->remove_torrent,
	    t->ratio, ratio_met ? ">=" : "<", ratio_limit,
	    human_duration(seeded, b1, sizeof(b1)), idle, time_met ? ">=" : "<",
	    time_lim > 0 ? human_duration(time_lim, b2, sizeof(b2)) : "unset", from);
	if (!met) {
		trace(d, "seeding-goal: not met, %s", reason);
		return false;
	}
	if (row == NULL || row->import_sent_at == 0) {
		if (in->arr != NULL && in->arr->uri != NULL) {
			if (in->facts.queue == QUEUE_UNKNOWN) {
				d->needs |= POLICY_NEED_QUEUE;
				trace(d, "seeding-goal: met; needs the Arr queue (import not confirmed)");
				return false;
			}
			if (in->facts.queue != QUEUE_ABSENT) {
				set_waiting(d, "%s met, but %s %s: kept until imported", reason,
				    in->arr->name, in->facts.queue == QUEUE_PRESENT ?
				    "still tracks it" : "is unreachable");
				trace(d, "seeding-goal: met, waiting for the import");
				return true;
			}
		} else {
			set_waiting(d, "%s met, but the import is not confirmed: kept", reason);
			trace(d, "seeding-goal: met, import not confirmed");
			return true;
		}
	}
	trace(d, "seeding-goal: yes, %s", reason);
	if (c->exempt) {
		set_waiting(d, "%s, but %s", reason, c->exempt_why);
		return true;
	}
	{
		char why[300];

		if (hnr_holds(c, why, sizeof(why))) {
			set_waiting(d, "%s, but %s: kept until the tracker's minimum is met",
			    reason, why);
			trace(d, "  -> would remove, but %s: kept", why);
			return true;
		}
	}
	add_action(d, ACT_DELETE, "seeding-goal", "%s", reason)->delete_files = true;
	return true;
}

/*
 * Rate limits beside the chain, as qBitrr applies its Arr-level
 * [SeedingMode] limits: bytes/s passed to qBittorrent as they are, -1 sets
 * "unlimited", 0 leaves the torrent's limit alone.  Set only where the
 * torrent's current limit differs.  qBittorrent lists "no limit" as 0 (or
 * -1), and takes 0 to mean unlimited.
 */
static bool
limit_differs(int64_t current, int64_t want)
{
	if (want == 0)
		return current > 0;
	return current != want;
}

static void
rule_limits(struct chain *c)
{
	const struct seeding_config *sc;
	int64_t dl, up, want_dl, want_up;
	bool dl_diff, up_diff;
	struct policy_action *a;

	if (c->tc == NULL)
		return;
	sc = &c->tc->seeding;
	/* qBitrr: the torrent's tracker's limits, when it sets them, else the Arr's. */
	want_dl = sc->download_limit;
	want_up = sc->upload_limit;
	if (c->trk != NULL && c->trk->dl_limit != TRACKER_UNSET)
		want_dl = c->trk->dl_limit;
	if (c->trk != NULL && c->trk->up_limit != TRACKER_UNSET)
		want_up = c->trk->up_limit;
	dl = want_dl > 0 ? want_dl : 0;
	up = want_up > 0 ? want_up : 0;
	dl_diff = want_dl != 0 && limit_differs(c->in->t->dl_limit, dl);
	up_diff = want_up != 0 && limit_differs(c->in->t->up_limit, up);
	if (!dl_diff && !up_diff)
		return;
	a = add_action(c->d, ACT_SET_LIMITS, "rate-limits",
	    "download %lld B/s, upload %lld B/s (-1 = unlimited, 0 = left alone)%s%s",
	    (long long)want_dl, (long long)want_up, c->trk ? ", tracker " : "",
	    c->trk ? tracker_label(c->trk) : "");
	a->dl_limit = dl_diff ? dl : -1;
	a->up_limit = up_diff ? up : -1;
	trace(c->d, "rate-limits: set download %lld B/s, upload %lld B/s (0 = unlimited)",
	    (long long)a->dl_limit, (long long)a->up_limit);
}

static bool
clock_agrees(int64_t wall, int64_t ref)
{
	return wall >= ref - CLOCK_SLACK_SECONDS && wall - ref <= CLOCK_FAR_AHEAD_SECONDS;
}

void
policy_clock_check(int64_t wall, int64_t last, int64_t pending, struct policy_clock *out)
{
	char b1[32];

	memset(out, 0, sizeof(*out));
	out->now = wall;
	if (last <= 0)
		return;
	if (clock_agrees(wall, last)) {
		/* Never behind the last sweep: stored times stay in the past. */
		if (wall < last)
			out->now = last;
		return;
	}
	if (pending > 0 && clock_agrees(wall, pending)) {
		out->shift = pending - last;
		if (wall < pending)
			out->now = pending;
		snprintf(out->why, sizeof(out->why), "the clock moved %s %s the last "
		    "recorded sweep and two runs agree on it: accepted; stored times "
		    "move with it, the time across the jump counts for no rule",
		    human_duration(out->shift < 0 ? -out->shift : out->shift, b1, sizeof(b1)),
		    out->shift < 0 ? "behind" : "ahead of");
		return;
	}
	out->refuse = true;
	out->pending = wall;
	out->now = last;
	snprintf(out->why, sizeof(out->why), "the clock is %s %s the last recorded "
	    "sweep: no deletion or blocklist this run (decided by the recorded clock); "
	    "if the clock is right, the next run accepts it",
	    human_duration(wall < last ? last - wall : wall - last, b1, sizeof(b1)),
	    wall < last ? "behind" : "ahead of");
}

bool
policy_new_life(const struct state_row *row, const struct qbit_torrent *t)
{
	if (row == NULL || row->gone_at == 0)
		return false;
	/*
	 * Added to qBittorrent before we first saw the old life: the same
	 * torrent, back in a managed category.  Anything else (re-added, or
	 * qBittorrent does not say) starts over: its clocks, flags and import
	 * state belonged to a torrent that was removed.
	 */
	return !(t->added_on > 0 && row->first_seen > 0 && t->added_on < row->first_seen);
}

static void
row_observe(const struct policy_input *in, struct state_row *r)
{
	const struct qbit_torrent *t = in->t;
	const char *failed = in->cfg->settings.failed_category;
	const char *recheck = in->cfg->settings.recheck_category;

	if (in->row != NULL) {
		state_row_copy(r, in->row);
	} else {
		memset(r, 0, sizeof(*r));
		memcpy(r->hash, t->hash, sizeof(r->hash));
		r->instance = xstrdup(in->ic->name);
		r->first_seen = in->now;
	}
	free(r->name);
	r->name = xstrdup(t->name);
	free(r->category);
	r->category = xstrdup(t->category);
	free(r->state);
	r->state = xstrdup(t->state);
	r->progress = t->progress;
	r->ratio = t->ratio;
	r->last_seen = in->now;
	r->gone_at = 0;
	if (strcmp(t->category, failed) != 0 && strcmp(t->category, recheck) != 0) {
		free(r->prev_category);
		r->prev_category = xstrdup(t->category);
	}
	if (in->arr != NULL && (r->arr == NULL || strcmp(r->arr, in->arr->name) != 0)) {
		free(r->arr);
		r->arr = xstrdup(in->arr->name);
	}
	if (torrent_is_complete(t)) {
		if (r->seeding_since == 0)
			r->seeding_since = in->now;
	} else {
		r->seeding_since = 0;
	}
	/*
	 * Out of the stalled states the clock restarts, whichever rule matches.
	 * A complete torrent in stalledUP keeps its own clock here (qBitrr's
	 * idle seeding time), restarted by any other state.
	 */
	if (torrent_is_complete(t) && state_is(t, "stalledUP")) {
		if (!(in->row != NULL && in->row->stalled_since > 0 && in->row->state != NULL &&
		    strcmp(in->row->state, "stalledUP") == 0))
			r->stalled_since = in->now;
	} else if (!torrent_is_stalled(t))
		r->stalled_since = 0;
}

static void
drop_blocklists(struct policy_decision *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n_actions; i++) {
		if (d->actions[i].kind == ACT_BLOCKLIST) {
			free(d->actions[i].reason);
			free(d->actions[i].category);
			free(d->actions[i].file_ids);
			free(d->actions[i].path);
			continue;
		}
		d->actions[k++] = d->actions[i];
	}
	d->n_actions = k;
}

void
policy_decide(const struct policy_input *in, struct policy_decision *d)
{
	struct chain c;
	const struct qbit_torrent *t = in->t;
	int64_t young = in->arr ? config_arr_ignore_younger(in->cfg, in->arr) :
	    in->cfg->settings.ignore_younger_than;
	char b1[32], b2[32];
	/* The chain, in order: the first rule that ends it names the decision. */
	static const struct {
		const char *name;
		bool (*ends_chain)(struct chain *);
	} rules[] = {
		{ "failed-category", rule_failed },
		{ "recheck-category", rule_recheck },
		{ "missing-files", rule_missing },
		{ "errored", rule_errored },
		{ "stalled", rule_stalled },
		{ "slow", rule_slow },
		{ "unwanted-files", rule_unwanted_files },
		{ "unregistered", rule_unregistered },
		{ "arr-import-error", rule_arr_error },
		{ "import", rule_import },
		{ "seeding-goal", rule_seeding },
	};

	row_observe(in, &d->row);
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.d = d;
	c.tc = in->arr ? &in->arr->torrent : NULL;
	if (qbit_has_tag(t->tags, IGNORED_TAG)) {
		c.exempt = true;
		snprintf(c.exempt_why, sizeof(c.exempt_why), "tagged " IGNORED_TAG);
	} else if (t->added_on > 0 && elapsed(in->now, t->added_on) < young) {
		c.exempt = true;
		snprintf(c.exempt_why, sizeof(c.exempt_why),
		    "added %s ago < IgnoreTorrentsYoungerThan %s",
		    human_duration(elapsed(in->now, t->added_on), b1, sizeof(b1)),
		    human_duration(young, b2, sizeof(b2)));
	}
	trace(d, "ignored: %s", c.exempt ? c.exempt_why : "no");
	if (in->arr != NULL && in->arr->n_trackers > 0) {
		/* Per-tracker rules and Hit-and-Run need the torrent's trackers. */
		if (in->facts.trackers == NULL) {
			d->needs |= POLICY_NEED_TRACKERS;
			trace(d, "trackers: needs the torrent's tracker list (%s has %zu "
			    "tracker rules)", in->arr->name, in->arr->n_trackers);
			set_waiting(d, "nothing decided until its tracker list is read "
			    "(per-tracker rules)");
			return;
		}
		c.trk = ruling_tracker(in->arr, in->facts.trackers);
		if (c.trk != NULL)
			trace(d, "tracker: %s (Priority %lld, Hit-and-Run %s)",
			    tracker_label(c.trk), (long long)c.trk->priority,
			    c.trk->hnr == HNR_DISABLED ? "disabled" :
			    c.trk->hnr == HNR_AND ? "and" : "or");
		else
			trace(d, "tracker: none of %s's tracker rules matches", in->arr->name);
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].ends_chain(&c)) {
			d->rule = rules[i].name;
			break;
		}
	}
	for (size_t i = 0; i < d->n_actions; i++)
		if (d->actions[i].kind == ACT_DELETE) {
			/* A "removal due in ..." of an earlier rule is stale now. */
			free(d->waiting);
			d->waiting = NULL;
			/* A removal blocklists by itself: drop a ReSearchStalled blocklist. */
			if (d->actions[i].blocklist)
				drop_blocklists(d);
			return;
		}
	rule_limits(&c);
}

/* ---- per-instance rules ---------------------------------------------- */

size_t
policy_free_space(const struct qbit_torrent *torrents, const struct state_row **rows,
    size_t n, int64_t free_space, int64_t threshold, struct policy_space_action **out)
{
	int64_t budget = free_space - threshold;
	size_t count = 0;

	*out = NULL;
	if (threshold < 0 || free_space < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct qbit_torrent *t = &torrents[i];
		bool ours = rows[i] != NULL && rows[i]->space_paused_at != 0;
		bool paused = torrent_is_paused(t);
		enum action_kind kind;
		char reason[256];

		/* amount_left < 0: qBittorrent did not say; nothing to decide on. */
		if (!torrent_is_downloading(t) || qbit_has_tag(t->tags, IGNORED_TAG) ||
		    t->amount_left < 0)
			continue;
		if (paused && !ours)
			continue;	/* paused by the user: not ours to resume */
		if (t->amount_left <= budget) {
			budget -= t->amount_left;
			if (!paused)
				continue;
			kind = ACT_RESUME;
			snprintf(reason, sizeof(reason), "free space: %lld MiB left needed, "
			    "fits in %lld MiB above FreeSpace", (long long)(t->amount_left >> 20),
			    (long long)((budget + t->amount_left) >> 20));
		} else {
			if (paused)
				continue;
			kind = ACT_PAUSE;
			snprintf(reason, sizeof(reason), "free space: %lld MiB left to download "
			    "> %lld MiB free above FreeSpace", (long long)(t->amount_left >> 20),
			    (long long)((budget > 0 ? budget : 0) >> 20));
		}
		*out = xreallocarray(*out, count + 1, sizeof(**out));
		(*out)[count].index = i;
		(*out)[count].kind = kind;
		(*out)[count].reason = xstrdup(reason);
		count++;
	}
	return count;
}

void
policy_space_actions_free(struct policy_space_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].reason);
	free(a);
}

bool
policy_paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	if (la == 0 || lb == 0)
		return false;
	n = la < lb ? la : lb;
	if (strncmp(a, b, n) != 0)
		return false;
	if (la == lb)
		return true;
	/* One is a prefix of the other: only a whole path component counts. */
	if (la < lb)
		return b[la] == '/' || a[la - 1] == '/';
	return a[lb] == '/' || b[lb - 1] == '/';
}
