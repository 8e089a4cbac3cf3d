/*
 * sweep_commands: the commands, top of the sweep's one-way flow.  sweep_run
 * opens the state and lock, then calls the phases in order (sweep.c:
 * discover, reconcile, decide; sweep_act.c: act, record; sweep_publish.c:
 * status page, metrics, notifications) and prints --json or the summary;
 * status, explain and history read the same phases without acting.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "state.h"
#include "sweep_p.h"
#include "util.h"

static const char *
sweep_state_path(const struct config *cfg, const struct sweep_options *opt, char *buf, size_t n)
{
	char *copy, *dir;
	const char *file = "qbitrr.db";

	if (opt->state_path != NULL)
		return opt->state_path;
	if (cfg->settings.state_file != NULL) {
		if (cfg->settings.state_file[0] == '/')
			return cfg->settings.state_file;
		file = cfg->settings.state_file;
	}
	/* Relative to the config file's folder, not the working directory. */
	copy = xstrdup(cfg->path);
	dir = dirname(copy);
	snprintf(buf, n, "%s/%s", dir, file);
	free(copy);
	return buf;
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * Invalid UTF-8 from a server (a torrent name, app/version) must not drop
 * an object or the whole document: each bad byte becomes U+FFFD.
 */
static json_t *
jtext(const char *s)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v == NULL) {
		char *copy = str_utf8_clean(s);
		v = json_string(copy);
		free(copy);
	}
	return v ? v : json_null();
}

static void
print_doc(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);

	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	json_decref(doc);
}

static json_t *
instance_json(const struct inst *in)
{
	return json_pack("{s:s, s:s, s:b, s:o, s:o, s:I, s:o}",
	    "name", in->qc.ic->name, "url", in->qc.ic->base_url,
	    "reachable", !in->failed,
	    "version", jtext(in->failed ? NULL : in->qc.version),
	    "api_version", jtext(in->failed ? NULL : in->qc.api_version),
	    "torrents", (json_int_t)(in->failed ? 0 : in->qc.torrents.n),
	    "error", jtext(in->qc.error));
}

static json_t *
torrent_json(const struct item *it)
{
	const struct qbit_torrent *t = &it->in->qc.torrents.items[it->index];

	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:f, s:o}",
	    "hash", t->hash, "instance", it->in->qc.ic->name, "name", jtext(t->name),
	    "category", jtext(t->category), "arr", jstr(it->arr ? it->arr->name : NULL),
	    "state", jtext(t->state), "progress", t->progress, "ratio", t->ratio,
	    "waiting", jtext(it->d.waiting));
}

static json_t *
action_json(const struct outcome *o)
{
	const struct qbit_torrent *t = o->item ?
	    &o->item->in->qc.torrents.items[o->item->index] : NULL;

	return json_pack("{s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:s, s:o, s:o}",
	    "instance", o->in->qc.ic->name, "hash", jstr(t ? t->hash : o->owed_hash),
	    "name", jtext(t ? t->name : o->owed_name), "action", policy_action_name(o->kind),
	    "rule", o->rule, "reason", jtext(o->reason), "detail", jtext(o->detail),
	    "result", outcome_result_name(o->result), "error", jtext(o->error),
	    "arr", jstr(o->arr ? o->arr->name : NULL));
}

/* Everything of the document but its torrents and actions. */
static json_t *
document_head(struct sweep *sw)
{
	const struct http_stats *hs = http_stats(sw->http);
	json_t *insts = json_array();
	char started[32];

	for (size_t i = 0; i < sw->n_insts; i++)
		json_array_append_new(insts, instance_json(&sw->insts[i]));
	time_iso8601(sw->started, started, sizeof(started));
	return json_pack("{s:b, s:s, s:I, s:o, s:{s:I, s:I, s:I, s:I}}",
	    "dry_run", sw->opt->dry_run, "started", started,
	    "duration_ms", (json_int_t)(monotonic_ms() - sw->t0), "instances", insts,
	    "stats", "requests", (json_int_t)hs->requests,
	    "wire_bytes", (json_int_t)hs->wire_bytes,
	    "body_bytes", (json_int_t)hs->body_bytes,
	    "rows_written", (json_int_t)(sw->st ? state_rows_written(sw->st) : 0));
}

/* The --json document of a sweep (new reference). */
static json_t *
sweep_json(struct sweep *sw)
{
	json_t *doc = document_head(sw), *torrents = json_array(), *actions = json_array();

	for (size_t i = 0; i < sw->n_items; i++)
		json_array_append_new(torrents, torrent_json(&sw->items[i]));
	for (size_t i = 0; i < sw->outcomes.n; i++)
		json_array_append_new(actions, action_json(sw->outcomes.v[i]));
	json_object_set_new(doc, "torrents", torrents);
	json_object_set_new(doc, "actions", actions);
	return doc;
}

/*
 * The --json document on stdout, one torrent at a time: with tens of
 * thousands of managed torrents a whole tree would cost more than the
 * sweep itself.
 */
static void
print_json_stream(struct sweep *sw, int exit_status)
{
	json_t *head = document_head(sw), *v;
	const char *key;
	const size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII;
	bool first = true;

	json_object_set_new(head, "exit_status", json_integer(exit_status));
	fputc('{', stdout);
	json_object_foreach(head, key, v) {
		printf("%s\"%s\":", first ? "" : ",", key);
		json_dumpf(v, stdout, flags | JSON_ENCODE_ANY);
		first = false;
	}
	fputs(",\n\"torrents\":[", stdout);
	for (size_t i = 0; i < sw->n_items; i++) {
		json_t *t = torrent_json(&sw->items[i]);
		fputs(i ? ",\n" : "\n", stdout);
		json_dumpf(t, stdout, flags);
		json_decref(t);
	}
	fputs("],\n\"actions\":[", stdout);
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		json_t *a = action_json(sw->outcomes.v[i]);
		fputs(i ? ",\n" : "\n", stdout);
		json_dumpf(a, stdout, flags);
		json_decref(a);
	}
	fputs("]}\n", stdout);
	json_decref(head);
}

/*
 * The state file and the rows: shared by sweep and the read-only commands.
 * A sweep first proves the file takes a write and checks its clock.
 */
static int
open_state(struct sweep *sw, const char *path, bool readonly, bool sweeping, bool with_gone)
{
	if (state_open(path, readonly, &sw->st) == -1)
		return -1;
	if (sweeping && !readonly && state_run_start(sw->st, sw->now) == -1)
		return -1;
	if (sweeping && sweep_clock(sw) == -1)
		return -1;
	if (state_load(sw->st, with_gone, &sw->rows) == -1)
		return -1;
	if (sw->clock_shift != 0 && readonly)
		state_rows_shift(&sw->rows, sw->clock_shift);
	if (sw->rows.n == 0) {
		struct state_instance *v = NULL;
		size_t n = 0;
		if (state_load_instances(sw->st, &v, &n) == 0 && n == 0)
			sw->adopt = true;
		state_instances_free(v, n);
	}
	return 0;
}

int
sweep_run(const struct config *cfg, const struct sweep_options *opt, volatile sig_atomic_t *stop)
{
	struct sweep sw;
	char buf[4096];
	const char *path = sweep_state_path(cfg, opt, buf, sizeof(buf));
	int lockfd = -1, rc;
	json_t *doc;

	if (!opt->dry_run) {
		/* The lock keeps the pid of the last run: a file gone beside it was lost. */
		struct stat sb;
		char *lockp = xasprintf("%s.lock", path);
		if (lstat(path, &sb) == -1 && errno == ENOENT && lstat(lockp, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && sb.st_size > 0)
			log_warn("%s: the state file is missing but its lock file %s shows "
			    "earlier runs (deleted or moved?): starting a new one; torrents "
			    "completed more than 24 h ago are taken as imported already",
			    path, lockp);
		free(lockp);
		lockfd = state_lock(path);
		if (lockfd == -2)
			return EXIT_LOCKED;
		if (lockfd == -1)
			return EXIT_STATE;
	}
	if (sweep_init(&sw, cfg, opt, stop) == -1) {
		if (lockfd >= 0)
			close(lockfd);
		return EXIT_PARTIAL;
	}
	/* Nothing is sent before the file has taken a real write. */
	if (open_state(&sw, path, opt->dry_run, true, false) == -1) {
		sweep_fini(&sw);
		if (lockfd >= 0)
			close(lockfd);
		return EXIT_STATE;
	}
	sweep_discover(&sw);
	sweep_reconcile(&sw);
	sweep_decide(&sw);
	sweep_act(&sw);
	rc = sw.partial ? EXIT_PARTIAL : 0;
	if (*stop) {
		log_warn("interrupted: recording what was done");
		rc = EXIT_PARTIAL;
	}
	if (sw.state_failed)
		rc = EXIT_STATE;
	else if (!opt->dry_run && sweep_record(&sw) == -1)
		rc = EXIT_STATE;
	/* The document costs a copy of every torrent: built only for a notifier. */
	doc = NULL;
	if (!opt->dry_run && sweep_wants_document(&sw, rc != 0)) {
		doc = sweep_json(&sw);
		json_object_set_new(doc, "exit_status", json_integer(rc));
	}
	if (!opt->dry_run)
		sweep_publish(&sw, doc, rc != 0);
	if (*stop && rc == 0) {
		log_warn("interrupted while publishing");
		rc = EXIT_PARTIAL;
	}
	json_decref(doc);
	if (opt->json)
		print_json_stream(&sw, rc);
	log_info("swept %zu instance(s), %zu managed torrent(s), %zu action(s) in %lld ms",
	    sw.n_insts, sw.n_items, sw.outcomes.n, (long long)(monotonic_ms() - sw.t0));
	sweep_fini(&sw);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* ---- status ---------------------------------------------------------- */

static char *
category_counts(const struct config *cfg, const struct inst *in)
{
	const char *const *cats = cfg->managed_categories;
	size_t n = cfg->n_managed_categories;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "");
	for (size_t c = 0; c < n; c++) {
		size_t count = 0;
		for (size_t k = 0; k < in->qc.torrents.n; k++)
			count += strcmp(in->qc.torrents.items[k].category, cats[c]) == 0;
		if (count > 0)
			buf_printf(&b, "%s%s:%zu", b.len ? " " : "", cats[c], count);
	}
	if (b.len == 0)
		buf_puts(&b, "-");
	return b.data;
}

int
sweep_status(const struct config *cfg, const struct sweep_options *opt, volatile sig_atomic_t *stop)
{
	struct sweep sw;
	char buf[4096];
	const char *path = sweep_state_path(cfg, opt, buf, sizeof(buf));
	int rc = 0;

	if (sweep_init(&sw, cfg, opt, stop) == -1)
		return EXIT_PARTIAL;
	sw.read_only_discovery = true;
	sw.want_free_space = true;
	if (open_state(&sw, path, true, false, true) == -1) {
		sweep_fini(&sw);
		return EXIT_STATE;
	}
	sweep_discover(&sw);
	if (opt->html_path != NULL) {
		/* Pending actions come from a read-only decision pass. */
		struct sweep_options ro = *opt;
		ro.dry_run = true;
		sw.opt = &ro;
		sweep_reconcile(&sw);
		sweep_decide(&sw);
		if (sweep_write_status_page(&sw, opt->html_path) == -1)
			rc = EXIT_PARTIAL;
		sw.opt = opt;
	}
	for (size_t i = 0; i < sw.n_insts; i++)
		if (sw.insts[i].failed)
			rc = EXIT_PARTIAL;
	if (opt->json) {
		json_t *insts = json_array(), *rows = json_array();
		for (size_t i = 0; i < sw.n_insts; i++) {
			json_t *o = instance_json(&sw.insts[i]);
			char *counts = category_counts(cfg, &sw.insts[i]);
			json_object_set_new(o, "managed", json_string(counts));
			free(counts);
			json_array_append_new(insts, o);
		}
		for (size_t i = 0; i < sw.rows.n; i++) {
			const struct state_row *r = &sw.rows.items[i];
			json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:I, s:I, s:b}",
			    "hash", r->hash, "instance", r->instance, "name", jtext(r->name),
			    "category", jtext(r->category), "arr", jstr(r->arr), "state", jtext(r->state),
			    "progress", r->progress, "first_seen", (json_int_t)r->first_seen,
			    "last_seen", (json_int_t)r->last_seen, "gone", r->gone_at != 0));
		}
		print_doc(json_pack("{s:s, s:o, s:o}", "state_file", path, "instances", insts,
		    "torrents", rows));
	} else {
		printf("%-16s %-32s %-9s %-9s %-8s %s\n", "INSTANCE", "URL", "REACHABLE",
		    "VERSION", "API", "MANAGED");
		for (size_t i = 0; i < sw.n_insts; i++) {
			const struct inst *in = &sw.insts[i];
			char *counts = category_counts(cfg, in);
			/* Versions and errors come from the server: escaped for the terminal. */
			printf("%-16s %-32s %-9s %-9s %-8s %s\n", in->qc.ic->name, in->qc.ic->base_url,
			    in->failed ? "no" : "yes", in->failed ? "-" : log_safe(in->qc.version),
			    in->failed ? "-" : log_safe(in->qc.api_version),
			    in->failed ? log_safe(in->qc.error) : counts);
			free(counts);
		}
		printf("\nTRACKED TORRENTS in %s: %zu\n", path, sw.rows.n);
		if (sw.rows.n > 0)
			printf("%-16s %-8s %-12s %-14s %8s  %-20s %s\n", "INSTANCE", "HASH",
			    "CATEGORY", "STATE", "PROGRESS", "LAST SEEN", "NAME");
		for (size_t i = 0; i < sw.rows.n; i++) {
			const struct state_row *r = &sw.rows.items[i];
			char seen[32], name[256];
			time_iso8601((time_t)r->last_seen, seen, sizeof(seen));
			printf("%-16s %.8s %-12s %-14s %7.1f%%  %-20s %s\n", log_safe(r->instance),
			    log_safe(r->hash), r->category ? log_safe(r->category) : "-",
			    r->gone_at ? "(gone)" : r->state ? log_safe(r->state) : "-", r->progress * 100,
			    seen, log_sanitize(r->name ? r->name : "", name, sizeof(name)));
		}
	}
	sweep_fini(&sw);
	return rc;
}

/* ---- history ---------------------------------------------------------- */

int
sweep_history(const struct config *cfg, const struct sweep_options *opt)
{
	struct state *st;
	struct state_history_entry *v;
	size_t n;
	char buf[4096];
	const char *path = sweep_state_path(cfg, opt, buf, sizeof(buf));
	int64_t since = opt->since > 0 ? now_seconds() - opt->since : 0;

	if (state_open(path, true, &st) == -1)
		return EXIT_STATE;
	if (state_history(st, since, opt->instance, opt->query, 0, &v, &n) == -1) {
		state_close(st);
		return EXIT_STATE;
	}
	if (opt->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			char t[32];
			time_iso8601((time_t)v[i].time, t, sizeof(t));
			json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
			    "time", t, "instance", v[i].instance, "hash", jstr(v[i].hash),
			    "name", jtext(v[i].name), "action", jstr(v[i].action),
			    "reason", jtext(v[i].reason), "result", jstr(v[i].result),
			    "error", jtext(v[i].error)));
		}
		print_doc(a);
	} else {
		for (size_t i = 0; i < n; i++) {
			char t[32], name[256], reason[512];
			time_iso8601((time_t)v[i].time, t, sizeof(t));
			printf("%s  %-14s %-8.8s %-30s %-16s %-8s %s%s%s\n", t, log_safe(v[i].instance),
			    v[i].hash ? log_safe(v[i].hash) : "-",
			    log_sanitize(v[i].name ? v[i].name : "", name, sizeof(name)),
			    log_safe(v[i].action), log_safe(v[i].result),
			    log_sanitize(v[i].reason ? v[i].reason : "", reason, sizeof(reason)),
			    v[i].error ? ": " : "", v[i].error ? log_safe(v[i].error) : "");
		}
	}
	state_history_free(v, n);
	state_close(st);
	return 0;
}

/* ---- explain ---------------------------------------------------------- */

static bool
item_matches(const struct qbit_torrent *t, const char *q)
{
	size_t n = strlen(q);
	bool hex = n >= 4;

	for (size_t i = 0; i < n && hex; i++)
		hex = strchr("0123456789abcdefABCDEF", q[i]) != NULL;
	if (hex && strncasecmp(t->hash, q, n) == 0)
		return true;
	return str_casestr(t->name, q) != NULL;
}

int
sweep_explain(const struct config *cfg, const struct sweep_options *opt, volatile sig_atomic_t *stop)
{
	struct sweep sw;
	char buf[4096];
	const char *path = sweep_state_path(cfg, opt, buf, sizeof(buf));
	size_t matched = 0;
	json_t *out = json_array();
	struct sweep_options ro = *opt;

	ro.dry_run = true;	/* explain changes nothing */
	if (sweep_init(&sw, cfg, &ro, stop) == -1) {
		json_decref(out);
		return EXIT_PARTIAL;
	}
	sw.read_only_discovery = true;
	if (open_state(&sw, path, true, false, false) == -1) {
		sweep_fini(&sw);
		json_decref(out);
		return EXIT_STATE;
	}
	sweep_discover(&sw);
	sweep_reconcile(&sw);
	for (size_t i = 0; i < sw.n_items; i++)
		if (opt->query == NULL || item_matches(&sw.items[i].in->qc.torrents.items[sw.items[i].index], opt->query))
			sw.items[i].d.tracing = true;
	sweep_decide(&sw);
	for (size_t i = 0; i < sw.n_items; i++) {
		struct item *it = &sw.items[i];
		const struct qbit_torrent *t = &it->in->qc.torrents.items[it->index];
		struct state_history_entry *h = NULL;
		size_t nh = 0;
		char name[256];

		if (!it->d.tracing)
			continue;
		matched++;
		/* Every torrent explained: its last few actions; one: its last 50. */
		state_torrent_history(sw.st, it->in->qc.ic->name, t->hash,
		    opt->query == NULL ? 5 : 50, &h, &nh);
		if (opt->json) {
			json_t *rules = json_array(), *acts = json_array(), *hist = json_array();
			for (size_t k = 0; k < it->d.n_trace; k++)
				json_array_append_new(rules, jtext(it->d.trace[k]));
			for (size_t k = 0; k < it->d.n_actions; k++)
				json_array_append_new(acts, json_pack("{s:s, s:s, s:o}",
				    "action", policy_action_name(it->d.actions[k].kind),
				    "rule", it->d.actions[k].rule, "reason", jtext(it->d.actions[k].reason)));
			for (size_t k = 0; k < nh; k++) {
				char tm[32];
				time_iso8601((time_t)h[k].time, tm, sizeof(tm));
				json_array_append_new(hist, json_pack("{s:s, s:o, s:o, s:o}", "time", tm,
				    "action", jstr(h[k].action), "result", jstr(h[k].result),
				    "reason", jtext(h[k].reason)));
			}
			json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o}",
			    "instance", it->in->qc.ic->name, "hash", t->hash, "name", jtext(t->name),
			    "category", jtext(t->category), "state", jtext(t->state),
			    "progress", t->progress, "rule", jstr(it->d.rule), "rules", rules,
			    "actions", acts, "waiting", jtext(it->d.waiting), "history", hist));
		} else {
			/* Everything the server said (name, state, tracker messages in the
			 * rule trace) is escaped for the terminal. */
			printf("%s %s %s\n  category %s, state %s, progress %.1f%%, Arr %s\n",
			    it->in->qc.ic->name, log_safe(t->hash), log_sanitize(t->name, name, sizeof(name)),
			    log_safe(t->category), log_safe(t->state), t->progress * 100,
			    it->arr ? it->arr->name : "-");
			for (size_t k = 0; k < it->d.n_trace; k++)
				printf("  %s\n", log_safe(it->d.trace[k]));
			if (it->d.n_actions == 0)
				printf("  next: %s\n", it->d.waiting ? log_safe(it->d.waiting) :
				    "nothing to do");
			for (size_t k = 0; k < it->d.n_actions; k++)
				printf("  next sweep: %s (%s: %s)\n",
				    policy_action_name(it->d.actions[k].kind), it->d.actions[k].rule,
				    log_safe(it->d.actions[k].reason));
			if (nh > 0)
				printf("  history:\n");
			for (size_t k = 0; k < nh; k++) {
				char tm[32];
				time_iso8601((time_t)h[k].time, tm, sizeof(tm));
				printf("    %s %s %s: %s\n", tm, log_safe(h[k].action),
				    log_safe(h[k].result), log_safe(h[k].reason));
			}
			printf("\n");
		}
		state_history_free(h, nh);
	}
	if (opt->json)
		print_doc(out);
	else
		json_decref(out);
	sweep_fini(&sw);
	if (matched == 0) {
		log_error("no managed torrent matches \"%s\"", opt->query ? opt->query : "");
		return EXIT_PARTIAL;
	}
	return 0;
}
