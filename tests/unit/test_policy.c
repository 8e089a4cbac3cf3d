/*
 * test_policy: unit tests of the pure rule chain (cmocka).
 *
 * Every test is a table of cases: the inputs that matter for a rule (a
 * torrent, its stored row, the facts fetched, a config tweak) and the
 * expected decision (matched rule, actions rendered as one string, needed
 * facts, waiting/report flags and chosen row fields).  All cases of a table
 * are run; every mismatch is printed with the case name, then the test
 * fails.  Configs are built in C, not parsed, so these tests do not depend
 * on the config parser.  The spec is issues 3, 4 and 6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"
#include "qbit.h"
#include "state.h"
#include "util.h"
#include "unit.h"


#define NOW	((int64_t)1800000000)
#define MIN	((int64_t)60)
#define HOUR	((int64_t)3600)
#define DAY	((int64_t)86400)
#define GIB	((int64_t)1 << 30)
#define HASH	"0123456789abcdef0123456789abcdef01234567"
#define ETA_INF	((int64_t)8640000)

/* ---- fixture: a config built in C -------------------------------------- */

struct fx {
	struct config cfg;
	struct instance_config inst;
	struct path_mapping maps[2];
	struct arr_config arrs[3];	/* Radarr-Movies, Sonarr-TV (no URI), Lidarr (unmanaged) */
	/* per case */
	struct qbit_torrent t;
	struct state_row row;
	bool has_row;
	struct qbit_file_list files;
	struct qbit_tracker_list trackers;
	struct queue_record rec;
};

static void
strlist_make(struct strlist *l, const char *const *v, size_t n)
{
	l->items = n ? xcalloc(n, sizeof(char *)) : NULL;
	l->n = n;
	for (size_t i = 0; i < n; i++)
		l->items[i] = xstrdup(v[i]);
}

static void
strlist_push(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(char *));
	l->items[l->n++] = xstrdup(s);
}

static void
strlist_done(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Compile as config.c does (PCRE2, Python's reading; allowlist entries get a '\'). */
static void
regexlist_make(struct regexlist *rl, const char *const *v, size_t n, bool case_sensitive,
    bool allowlist)
{
	char err[256];
	size_t bad;

	rl->n = n;
	rl->patterns = n ? xcalloc(n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < n; i++)
		rl->patterns[i] = xstrdup(v[i]);
	assert_int_equal(config_regexlist_compile(rl, case_sensitive, allowlist, &bad, err,
	    sizeof(err)), 0);
}

static void
regexlist_done(struct regexlist *rl)
{
	config_regexlist_free(rl);
}

static const char *const builtin_unreg[] = {
	"unregistered", "torrent not found", "not registered", "not authorized",
	"infohash not found", "trumped", "nuked",
};
static const char *const folder_re[] = { "\\bsamples?\\b", "\\bextras?\\b" };
static const char *const filename_re[] = { "\\bsample\\b", "^RARBG" };
static const char *const allow_ext[] = { ".mkv", ".mp4", ".srt" };

/* [<Arr>.Torrent] as the tests assume it unless a case tweaks it. */
static void
torrent_config_make(struct torrent_config *tc, bool case_sensitive)
{
	memset(tc, 0, sizeof(*tc));
	tc->case_sensitive = case_sensitive;
	regexlist_make(&tc->folder_exclusion, folder_re, NELEM(folder_re), case_sensitive, false);
	regexlist_make(&tc->filename_exclusion, filename_re, NELEM(filename_re), case_sensitive,
	    false);
	regexlist_make(&tc->extension_allowlist, allow_ext, NELEM(allow_ext), case_sensitive, true);
	tc->ignore_younger_than = -1;		/* [Settings]: 180 s */
	tc->maximum_eta = 7 * DAY;
	tc->max_deletable_pct = 0.99;
	tc->do_not_remove_slow = false;
	tc->stalled_delay = 15;			/* minutes */
	tc->research_stalled = false;
	tc->remove_unregistered = true;
	strlist_make(&tc->unregistered_messages, builtin_unreg, NELEM(builtin_unreg));
	tc->seeding.download_limit = -1;
	tc->seeding.upload_limit = -1;
	tc->seeding.max_ratio = 2.0;
	tc->seeding.max_seeding_time = 7 * DAY;
	tc->seeding.remove_torrent = -1;
}

static void
torrent_config_done(struct torrent_config *tc)
{
	regexlist_done(&tc->folder_exclusion);
	regexlist_done(&tc->filename_exclusion);
	regexlist_done(&tc->extension_allowlist);
	strlist_done(&tc->unregistered_messages);
}

static void
arr_make(struct arr_config *a, const char *name, enum arr_kind kind, const char *uri,
    const char *category, bool managed)
{
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->kind = kind;
	a->uri = uri ? xstrdup(uri) : NULL;
	a->api_key = xstrdup("secret");
	a->category = xstrdup(category);
	a->managed = managed;
	a->research = true;
	a->import_mode = xstrdup("Auto");
	torrent_config_make(&a->torrent, false);
}

static void
arr_done(struct arr_config *a)
{
	free(a->name);
	free(a->uri);
	free(a->api_key);
	free(a->category);
	free(a->import_mode);
	strlist_done(&a->error_codes_to_blocklist);
	torrent_config_done(&a->torrent);
}

static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->cfg.path = NULL;
	f->cfg.settings.failed_category = xstrdup("failed");
	f->cfg.settings.recheck_category = xstrdup("recheck");
	f->cfg.settings.ignore_younger_than = 180;
	f->cfg.settings.http_timeout = 30;
	f->cfg.settings.import_delay = 60;
	f->cfg.settings.free_space = -1;
	f->cfg.settings.max_deletions = 50;

	f->inst.name = xstrdup("qBit");
	f->inst.base_url = xstrdup("http://127.0.0.1:8080");
	f->inst.host = xstrdup("127.0.0.1");
	f->inst.port = 8080;
	/* Longest remote prefix first, as config.c sorts them. */
	f->maps[0].remote = xstrdup("/downloads/movies");
	f->maps[0].local = xstrdup("/srv/films");
	f->maps[1].remote = xstrdup("/downloads");
	f->maps[1].local = xstrdup("/mnt/media");
	f->inst.mappings = f->maps;
	f->inst.n_mappings = 2;
	f->inst.free_space = -1;
	f->inst.max_deletions = -1;
	f->cfg.instances = &f->inst;
	f->cfg.n_instances = 1;

	arr_make(&f->arrs[0], "Radarr-Movies", ARR_RADARR, "http://radarr:7878", "radarr", true);
	arr_make(&f->arrs[1], "Sonarr-TV", ARR_SONARR, NULL, "sonarr", true);
	arr_make(&f->arrs[2], "Lidarr-Music", ARR_LIDARR, "http://lidarr:8686", "music", false);
	f->cfg.arrs = f->arrs;
	f->cfg.n_arrs = 3;
	config_list_managed_categories(&f->cfg);
}

static void
fx_free_case(struct fx *f)
{
	qbit_torrent_clear(&f->t);
	state_row_clear(&f->row);
	f->has_row = false;
	qbit_file_list_free(&f->files);
	qbit_tracker_list_free(&f->trackers);
	queue_record_clear(&f->rec);
}

static void
fx_free(struct fx *f)
{
	fx_free_case(f);
	free(f->cfg.managed_categories);
	free(f->cfg.settings.failed_category);
	free(f->cfg.settings.recheck_category);
	free(f->inst.name);
	free(f->inst.base_url);
	free(f->inst.host);
	for (size_t i = 0; i < 2; i++) {
		free(f->maps[i].remote);
		free(f->maps[i].local);
	}
	for (size_t i = 0; i < 3; i++)
		arr_done(&f->arrs[i]);
	memset(f, 0, sizeof(*f));
}

static struct torrent_config *
radarr_tc(struct fx *f)
{
	return &f->arrs[0].torrent;
}

/* ---- case description ---------------------------------------------------- */

struct tspec {
	const char *state, *category, *tags, *content_path, *tracker;
	double	 progress, ratio, availability;
	int64_t	 size, amount_left, added_on, completion_on, last_activity;
	int64_t	 seeding_time, eta, dl_limit, up_limit;
};

struct rspec {
	bool	 present;
	const char *category, *prev_category, *arr, *import_result;
	double	 progress;
	int64_t	 stalled_since, seeding_since, import_sent_at, import_command_id;
	int64_t	 import_next_try, recheck_sent_at, files_checked_at;
	int64_t	 research_stalled_at, error_reported_at, space_paused_at;
	int	 import_attempts;
};

struct fspec {
	int	 prio;
	const char *name;
};

struct trspec {
	int	 status;
	const char *msg;
};

struct qspec {
	const char *status, *tracked_state, *tracked_status;
	const char *messages[3];
};

/* Which row fields a case checks. */
#define RX_STALLED	0x01
#define RX_FILES	0x02
#define RX_RECHECK	0x04
#define RX_RESEARCH	0x08
#define RX_ERRREP	0x10
#define RX_SEEDING	0x20
#define RX_PREV		0x40

struct expect {
	const char *rule;	/* NULL: no rule matched */
	const char *actions;	/* rendered, "" none */
	unsigned needs;
	bool	 waiting;
	bool	 report;
	unsigned rx;		/* RX_* fields below are checked */
	int64_t	 stalled_since, files_checked_at, recheck_sent_at;
	int64_t	 research_stalled_at, error_reported_at, seeding_since;
	const char *prev_category;
	const char *waiting_has;	/* substring of waiting, or NULL */
};

struct pcase {
	const char *name;
	void	(*tweak)(struct fx *);
	struct tspec t;
	struct rspec r;
	enum queue_fact queue;
	const struct qspec *rec;	/* QUEUE_PRESENT: NULL = a plain downloading record */
	enum history_fact history;	/* QUEUE_ABSENT: the grab in the Arr history */
	bool	 files_fetched;
	const struct fspec *files;
	size_t	 n_files;
	bool	 trackers_fetched;
	const struct trspec *trackers;
	size_t	 n_trackers;
	int	 seed_mode;		/* != 0: set the three seeding values below */
	double	 seed_ratio;
	int64_t	 seed_time;
	int64_t	 now;			/* 0: NOW */
	struct expect x;
};

#define FILES(...) .files_fetched = true, \
	.files = (const struct fspec[]){ __VA_ARGS__ }, \
	.n_files = sizeof((const struct fspec[]){ __VA_ARGS__ }) / sizeof(struct fspec)
#define TRACKERS(...) .trackers_fetched = true, \
	.trackers = (const struct trspec[]){ __VA_ARGS__ }, \
	.n_trackers = sizeof((const struct trspec[]){ __VA_ARGS__ }) / sizeof(struct trspec)
#define NO_TRACKERS .trackers_fetched = true, .trackers = NULL, .n_trackers = 0

/* Presets (later designators override earlier ones). */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

/* A healthy download: peers, a working tracker, ETA 1 h. */
#define T_DL .state = "downloading", .category = "radarr", .tags = "", \
	.content_path = "/downloads/Movie", .tracker = "http://tracker/announce", \
	.progress = 0.5, .ratio = 0.0, .availability = 3.0, .size = 1000000, \
	.amount_left = 500000, .added_on = NOW - 2 * DAY, .completion_on = 0, \
	.last_activity = NOW - 10, .seeding_time = 0, .eta = HOUR, .dl_limit = 0, .up_limit = 0
/* Stalled for a day: no peers, no activity. */
#define T_STALLED T_DL, .state = "stalledDL", .availability = 0.0, .eta = ETA_INF, \
	.last_activity = NOW - DAY
/* Complete a day ago, seeding without peers. */
#define T_SEED T_DL, .state = "stalledUP", .progress = 1.0, .amount_left = 0, \
	.availability = -1.0, .completion_on = NOW - DAY, .last_activity = NOW - HOUR, \
	.seeding_time = DAY, .ratio = 0.5, .eta = ETA_INF

/* A row seen before: category radarr, files checked. */
#define R_BASE .present = true, .category = "radarr", .prev_category = "radarr", \
	.arr = "Radarr-Movies", .progress = 0.5, .files_checked_at = NOW - DAY
/* Seeding, imported successfully. */
#define R_SEED R_BASE, .progress = 1.0, .seeding_since = NOW - DAY, \
	.import_sent_at = NOW - DAY, .import_command_id = 42, .import_result = "completed"
/* Seeding, not imported yet. */
#define R_SEED_NEW R_BASE, .progress = 1.0, .seeding_since = NOW - DAY

static const struct qspec rec_import_warning = {
	"completed", "importPending", "warning",
	{ "Not an upgrade for existing movie file(s)", NULL, NULL },
};

/* ---- running a case ------------------------------------------------------ */

static char *
sdup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
build_case(struct fx *f, const struct pcase *c)
{
	struct qbit_torrent *t = &f->t;
	struct state_row *r = &f->row;

	memset(t, 0, sizeof(*t));
	snprintf(t->hash, sizeof(t->hash), "%s", HASH);
	t->name = xstrdup("Movie (2020)");
	t->category = xstrdup(c->t.category ? c->t.category : "radarr");
	t->tags = xstrdup(c->t.tags ? c->t.tags : "");
	t->state = xstrdup(c->t.state ? c->t.state : "downloading");
	t->content_path = xstrdup(c->t.content_path ? c->t.content_path : "/downloads/Movie");
	t->save_path = xstrdup("/downloads");
	t->tracker = xstrdup(c->t.tracker ? c->t.tracker : "");
	t->progress = c->t.progress;
	t->ratio = c->t.ratio;
	t->availability = c->t.availability;
	t->size = c->t.size;
	t->amount_left = c->t.amount_left;
	t->added_on = c->t.added_on;
	t->completion_on = c->t.completion_on;
	t->last_activity = c->t.last_activity;
	t->seeding_time = c->t.seeding_time;
	t->eta = c->t.eta;
	t->dl_limit = c->t.dl_limit;
	t->up_limit = c->t.up_limit;

	memset(r, 0, sizeof(*r));
	f->has_row = c->r.present;
	if (c->r.present) {
		snprintf(r->hash, sizeof(r->hash), "%s", HASH);
		r->instance = xstrdup("qBit");
		r->name = xstrdup("Movie (2020)");
		r->category = sdup(c->r.category);
		r->prev_category = sdup(c->r.prev_category);
		r->arr = sdup(c->r.arr);
		r->state = xstrdup("downloading");
		r->progress = c->r.progress;
		r->first_seen = NOW - 2 * DAY;
		r->last_seen = NOW - 5 * MIN;
		r->stalled_since = c->r.stalled_since;
		r->seeding_since = c->r.seeding_since;
		r->import_sent_at = c->r.import_sent_at;
		r->import_command_id = c->r.import_command_id;
		r->import_attempts = c->r.import_attempts;
		r->import_next_try = c->r.import_next_try;
		r->import_result = sdup(c->r.import_result);
		r->recheck_sent_at = c->r.recheck_sent_at;
		r->files_checked_at = c->r.files_checked_at;
		r->space_paused_at = c->r.space_paused_at;
		r->research_stalled_at = c->r.research_stalled_at;
		r->error_reported_at = c->r.error_reported_at;
		r->in_db = true;
	}

	if (c->files_fetched && c->n_files > 0) {
		f->files.items = xcalloc(c->n_files, sizeof(struct qbit_file));
		f->files.n = c->n_files;
		for (size_t i = 0; i < c->n_files; i++) {
			f->files.items[i].index = (int)i;
			f->files.items[i].name = xstrdup(c->files[i].name);
			f->files.items[i].priority = c->files[i].prio;
			f->files.items[i].size = 1000;
		}
	}
	if (c->trackers_fetched && c->n_trackers > 0) {
		f->trackers.items = xcalloc(c->n_trackers, sizeof(struct qbit_tracker));
		f->trackers.n = c->n_trackers;
		for (size_t i = 0; i < c->n_trackers; i++) {
			f->trackers.items[i].url = xasprintf("https://tracker%zu.example/announce", i);
			f->trackers.items[i].msg = xstrdup(c->trackers[i].msg);
			f->trackers.items[i].status = c->trackers[i].status;
		}
	}
	if (c->queue == QUEUE_PRESENT) {
		const struct qspec *q = c->rec;
		static const struct qspec plain = { "downloading", "downloading", "ok", { NULL } };

		if (q == NULL)
			q = &plain;
		f->rec.download_id = xstrdup("0123456789ABCDEF0123456789ABCDEF01234567");
		f->rec.ids = xcalloc(1, sizeof(int64_t));
		f->rec.ids[0] = 101;
		f->rec.n_ids = 1;
		f->rec.media_ids = xcalloc(1, sizeof(int64_t));
		f->rec.media_ids[0] = 7;
		f->rec.n_media_ids = 1;
		f->rec.status = xstrdup(q->status);
		f->rec.tracked_state = xstrdup(q->tracked_state);
		f->rec.tracked_status = xstrdup(q->tracked_status);
		for (size_t i = 0; i < NELEM(q->messages) && q->messages[i] != NULL; i++) {
			f->rec.messages = xreallocarray(f->rec.messages, i + 1, sizeof(char *));
			f->rec.messages[i] = xstrdup(q->messages[i]);
			f->rec.n_messages = i + 1;
		}
	}
}

static void
input_for(struct fx *f, const struct pcase *c, int64_t now, struct policy_input *in)
{
	memset(in, 0, sizeof(*in));
	in->cfg = &f->cfg;
	in->ic = &f->inst;
	in->t = &f->t;
	in->row = f->has_row ? &f->row : NULL;
	/* As the sweep does it: the Arr by category, else by the stored row. */
	in->arr = policy_arr_for(&f->cfg, f->t.category, in->row);
	in->now = now;
	in->facts.files = c->files_fetched ? &f->files : NULL;
	in->facts.trackers = c->trackers_fetched ? &f->trackers : NULL;
	in->facts.queue = c->queue;
	in->facts.record = c->queue == QUEUE_PRESENT ? &f->rec : NULL;
	in->facts.history = c->history;
	in->facts.grab_id = c->history == HISTORY_PRESENT ? 77 : 0;
}

static void
append(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

/* The actions of a decision as one string: "delete(files,blocklist,search) ..." */
static void
render(const struct policy_decision *d, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < d->n_actions; i++) {
		const struct policy_action *a = &d->actions[i];

		if (i > 0)
			append(buf, n, " ");
		switch (a->kind) {
		case ACT_DELETE:
			append(buf, n, "delete(%s%s%s%s%s)", a->delete_files ? "files" : "",
			    a->delete_files && a->blocklist ? "," : "",
			    a->blocklist ? "blocklist" : "",
			    (a->delete_files || a->blocklist) && a->search ? "," : "",
			    a->search ? "search" : "");
			break;
		case ACT_BLOCKLIST:
			append(buf, n, "blocklist%s", a->search ? "(search)" : "");
			break;
		case ACT_SET_CATEGORY:
			append(buf, n, "set_category(%s)", a->category ? a->category : "NULL");
			break;
		case ACT_SET_FILE_PRIORITY:
			append(buf, n, "set_file_priority(");
			for (size_t k = 0; k < a->n_file_ids; k++)
				append(buf, n, "%s%d", k ? "," : "", a->file_ids[k]);
			append(buf, n, ")");
			break;
		case ACT_SET_LIMITS:
			append(buf, n, "set_limits(%lld,%lld)", (long long)a->dl_limit,
			    (long long)a->up_limit);
			break;
		case ACT_IMPORT:
			append(buf, n, "import(%s)", a->path ? a->path : "NULL");
			break;
		default:
			append(buf, n, "%s", policy_action_name(a->kind));
			break;
		}
	}
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Compare a decision with a case's expectation; print every mismatch. */
static int
check_decision(const char *name, const char *pass, const struct policy_decision *d,
    const struct expect *x, int64_t now)
{
	char got[1024];
	int bad = 0;

	render(d, got, sizeof(got));
#define MISMATCH(...) do { print_error("# %s%s: ", name, pass); \
	print_error(__VA_ARGS__); print_error("\n"); bad++; } while (0)
	if (!str_eq(d->rule, x->rule))
		MISMATCH("rule: got %s, want %s", d->rule ? d->rule : "NULL",
		    x->rule ? x->rule : "NULL");
	if (strcmp(got, x->actions ? x->actions : "") != 0)
		MISMATCH("actions: got \"%s\", want \"%s\"", got, x->actions ? x->actions : "");
	if (d->needs != x->needs)
		MISMATCH("needs: got %#x, want %#x", d->needs, x->needs);
	if ((d->waiting != NULL) != x->waiting)
		MISMATCH("waiting: got %s%s%s, want %s", d->waiting ? "\"" : "",
		    d->waiting ? d->waiting : "NULL", d->waiting ? "\"" : "",
		    x->waiting ? "set" : "NULL");
	if (x->waiting_has != NULL && (d->waiting == NULL ||
	    strstr(d->waiting, x->waiting_has) == NULL))
		MISMATCH("waiting: \"%s\" does not mention \"%s\"",
		    d->waiting ? d->waiting : "NULL", x->waiting_has);
	if (d->report != x->report)
		MISMATCH("report: got %d, want %d", d->report, x->report);
	if ((x->rx & RX_STALLED) && d->row.stalled_since != x->stalled_since)
		MISMATCH("row.stalled_since: got NOW%+lld, want NOW%+lld",
		    (long long)(d->row.stalled_since - NOW), (long long)(x->stalled_since - NOW));
	if ((x->rx & RX_FILES) && d->row.files_checked_at != x->files_checked_at)
		MISMATCH("row.files_checked_at: got %lld, want %lld",
		    (long long)d->row.files_checked_at, (long long)x->files_checked_at);
	if ((x->rx & RX_RECHECK) && d->row.recheck_sent_at != x->recheck_sent_at)
		MISMATCH("row.recheck_sent_at: got %lld, want %lld",
		    (long long)d->row.recheck_sent_at, (long long)x->recheck_sent_at);
	if ((x->rx & RX_RESEARCH) && d->row.research_stalled_at != x->research_stalled_at)
		MISMATCH("row.research_stalled_at: got %lld, want %lld",
		    (long long)d->row.research_stalled_at, (long long)x->research_stalled_at);
	if ((x->rx & RX_ERRREP) && d->row.error_reported_at != x->error_reported_at)
		MISMATCH("row.error_reported_at: got %lld, want %lld",
		    (long long)d->row.error_reported_at, (long long)x->error_reported_at);
	if ((x->rx & RX_SEEDING) && d->row.seeding_since != x->seeding_since)
		MISMATCH("row.seeding_since: got %lld, want %lld",
		    (long long)d->row.seeding_since, (long long)x->seeding_since);
	if ((x->rx & RX_PREV) && !str_eq(d->row.prev_category, x->prev_category))
		MISMATCH("row.prev_category: got %s, want %s",
		    d->row.prev_category ? d->row.prev_category : "NULL",
		    x->prev_category ? x->prev_category : "NULL");
	/* Invariants of every decision. */
	if (strcmp(d->row.hash, HASH) != 0 || d->row.last_seen != now ||
	    !str_eq(d->row.instance, "qBit"))
		MISMATCH("row identity/last_seen not filled");
	for (size_t i = 0; i < d->n_actions; i++)
		if (d->actions[i].rule == NULL || d->actions[i].reason == NULL ||
		    d->actions[i].reason[0] == '\0')
			MISMATCH("action %zu (%s) without rule or reason", i,
			    policy_action_name(d->actions[i].kind));
#undef MISMATCH
	return bad;
}

/* Decide one case twice (plain and traced: tracing must not change anything). */
static int
run_case(const struct pcase *c)
{
	struct fx f;
	struct policy_input in;
	struct policy_decision d;
	int64_t now = c->now ? c->now : NOW;
	int bad = 0;

	fx_init(&f);
	if (c->tweak != NULL)
		c->tweak(&f);
	if (c->seed_mode != 0) {
		for (size_t i = 0; i < 2; i++) {
			f.arrs[i].torrent.seeding.remove_torrent = c->seed_mode;
			f.arrs[i].torrent.seeding.max_ratio = c->seed_ratio;
			f.arrs[i].torrent.seeding.max_seeding_time = c->seed_time;
		}
	}
	build_case(&f, c);
	input_for(&f, c, now, &in);
	for (int pass = 0; pass < 2; pass++) {
		memset(&d, 0, sizeof(d));
		d.tracing = pass == 1;
		policy_decide(&in, &d);
		bad += check_decision(c->name, pass ? " (traced)" : "", &d, &c->x, now);
		if (pass == 1 && d.n_trace == 0) {
			print_error("# %s: tracing produced no lines\n", c->name);
			bad++;
		}
		if (pass == 0 && d.n_trace != 0) {
			print_error("# %s: trace lines without tracing\n", c->name);
			bad++;
		}
		policy_decision_free(&d);
	}
	fx_free(&f);
	return bad;
}

static void
run_table(const struct pcase *cases, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += run_case(&cases[i]);
	if (bad != 0)
		fail_msg("%d mismatch(es) in %zu cases", bad, n);
}

/* ---- config tweaks -------------------------------------------------------- */

static void tw_delay0(struct fx *f) { radarr_tc(f)->stalled_delay = 0; }
static void tw_delay_neg(struct fx *f) { radarr_tc(f)->stalled_delay = -1; }
static void tw_research_stalled(struct fx *f) { radarr_tc(f)->research_stalled = true; }
static void
tw_research_stalled_delay0(struct fx *f)
{
	radarr_tc(f)->research_stalled = true;
	radarr_tc(f)->stalled_delay = 0;
}
static void
tw_research_stalled_all(struct fx *f)
{
	f->arrs[0].torrent.research_stalled = true;
	f->arrs[1].torrent.research_stalled = true;
}
static void tw_no_research(struct fx *f) { f->arrs[0].research = false; }
static void tw_dnrs(struct fx *f) { radarr_tc(f)->do_not_remove_slow = true; }
static void tw_eta_off(struct fx *f) { radarr_tc(f)->maximum_eta = 0; }
static void tw_young600(struct fx *f) { radarr_tc(f)->ignore_younger_than = 600; }
static void tw_young0(struct fx *f) { radarr_tc(f)->ignore_younger_than = 0; }
static void tw_unreg_off(struct fx *f) { radarr_tc(f)->remove_unregistered = false; }
static void
tw_unreg_extra(struct fx *f)
{
	strlist_push(&radarr_tc(f)->unregistered_messages, "removed by staff");
}
static void
tw_codes(struct fx *f)
{
	static const char *const codes[] = {
		"Not an upgrade for existing movie file(s)",
		"Not a Custom Format upgrade for existing movie file(s)",
	};
	for (size_t i = 0; i < 2; i++)
		strlist_make(&f->arrs[i].error_codes_to_blocklist, codes, NELEM(codes));
}
static void tw_verify(struct fx *f) { f->arrs[0].verify_import = true; }
static void tw_limit_dl(struct fx *f) { radarr_tc(f)->seeding.download_limit = 102400; }
static void tw_limit_up(struct fx *f) { radarr_tc(f)->seeding.upload_limit = 51200; }
static void
tw_limit_both(struct fx *f)
{
	radarr_tc(f)->seeding.download_limit = 102400;
	radarr_tc(f)->seeding.upload_limit = 51200;
}
static void
tw_limit_zero(struct fx *f)
{
	radarr_tc(f)->seeding.download_limit = 0;
	radarr_tc(f)->seeding.upload_limit = 0;
}
static void
tw_limit_both_delay0(struct fx *f)
{
	tw_limit_both(f);
	radarr_tc(f)->stalled_delay = 0;
}
static void
tw_no_mapping(struct fx *f)
{
	f->inst.n_mappings = 0;
}

/* ---- rules 1-5: ignored, failed, recheck, missing files, errored ---------- */

static void
test_chain_head(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "healthy download: no rule",
	  .t = { T_DL }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "new healthy download: asks for its files (rule 8), nothing else",
	  .t = { T_DL },
	  .x = { NULL, "", POLICY_NEED_FILES, false, false } },

	/* Rule 2: failed category, by queue fact. */
	{ "failed: in the Arr queue -> blocklist, delete with files, re-search",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false,
	         .rx = RX_PREV, .prev_category = "radarr" } },
	{ "failed: queue not fetched -> needs the queue, nothing yet",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  .x = { "failed-category", "", POLICY_NEED_QUEUE, false, false } },
	{ "failed: Arr unreachable -> waits (fail closed)",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_UNREACHABLE,
	  .x = { "failed-category", "", 0, true, false, .waiting_has = "unreachable" } },
	{ "failed: neither in the queue nor in the history -> delete without blocklist",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  .x = { "failed-category", "delete(files)", 0, false, false } },
	{ "failed: gone from the queue, history not asked -> needs the history",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_ABSENT,
	  .x = { "failed-category", "", POLICY_NEED_HISTORY, false, false } },
	{ "failed: gone from the queue, history unreachable -> waits (fail closed)",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_ABSENT,
	  .history = HISTORY_UNREACHABLE,
	  .x = { "failed-category", "", 0, true, false, .waiting_has = "history is unreachable" } },
	{ "failed: gone from the queue, grab in the history -> blocklist by it, no search",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_ABSENT,
	  .history = HISTORY_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist)", 0, false, false } },
	{ "failed: Arr without URI (NO_ARR) -> delete without blocklist",
	  .t = { T_DL, .category = "failed" },
	  .r = { R_BASE, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV" },
	  .queue = QUEUE_NO_ARR,
	  .x = { "failed-category", "delete(files)", 0, false, false } },
	{ "failed: NO_ARR fact -> delete without blocklist",
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_NO_ARR,
	  .x = { "failed-category", "delete(files)", 0, false, false } },
	{ "failed: ReSearch off -> blocklist without search",
	  .tweak = tw_no_research,
	  .t = { T_DL, .category = "failed" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist)", 0, false, false } },
	{ "failed, never seen before: needs every Arr's queue",
	  .t = { T_DL, .category = "failed" }, .queue = QUEUE_UNKNOWN,
	  .x = { "failed-category", "", POLICY_NEED_QUEUE, false, false } },
	{ "failed, never seen before, found in a queue -> blocklist + delete",
	  .t = { T_DL, .category = "failed" }, .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist)", 0, false, false } },
	{ "failed, Arr known by prev category only",
	  .t = { T_DL, .category = "failed" },
	  .r = { R_BASE, .arr = NULL }, .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },
	{ "failed beats missingFiles (rule order)",
	  .t = { T_DL, .category = "failed", .state = "missingFiles" }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },

	/* Rule 1: ignored tag and young torrents are exempt from deleting rules. */
	{ "failed + tag qBitrr-ignored -> exempt, waits",
	  .t = { T_DL, .category = "failed", .tags = "keep, qBitrr-ignored" }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "", 0, true, false, .waiting_has = "qBitrr-ignored" } },
	{ "failed + similar tag qBitrr-ignored2 is not the ignored tag",
	  .t = { T_DL, .category = "failed", .tags = "qBitrr-ignored2" }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },
	{ "failed + young (60 s < 180 s) -> exempt",
	  .t = { T_DL, .category = "failed", .added_on = NOW - 60 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "", 0, true, false, .waiting_has = "IgnoreTorrentsYoungerThan" } },
	{ "failed + 179 s old -> still young",
	  .t = { T_DL, .category = "failed", .added_on = NOW - 179 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "", 0, true, false } },
	{ "failed + exactly 180 s old -> no longer young",
	  .t = { T_DL, .category = "failed", .added_on = NOW - 180 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },
	{ "per-Arr IgnoreTorrentsYoungerThan 600 overrides [Settings] 180",
	  .tweak = tw_young600,
	  .t = { T_DL, .category = "failed", .added_on = NOW - 300 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "", 0, true, false } },
	{ "per-Arr IgnoreTorrentsYoungerThan 600, exactly 600 s old",
	  .tweak = tw_young600,
	  .t = { T_DL, .category = "failed", .added_on = NOW - 600 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },
	{ "per-Arr IgnoreTorrentsYoungerThan 0: nothing is young",
	  .tweak = tw_young0,
	  .t = { T_DL, .category = "failed", .added_on = NOW - 1 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "failed-category", "delete(files,blocklist,search)", 0, false, false } },

	/* Rule 3: recheck category. */
	{ "recheck with a previous category -> recheck + back to it",
	  .t = { T_DL, .category = "recheck" }, .r = { R_BASE },
	  .x = { "recheck-category", "recheck set_category(radarr)", 0, false, false,
	         .rx = RX_RECHECK | RX_PREV, .recheck_sent_at = NOW, .prev_category = "radarr" } },
	{ "recheck, never seen before -> recheck, left there, reported",
	  .t = { T_DL, .category = "recheck" },
	  .x = { "recheck-category", "recheck", 0, true, true,
	         .rx = RX_RECHECK | RX_PREV, .recheck_sent_at = NOW, .prev_category = NULL } },
	{ "recheck, row without previous category -> recheck, reported",
	  .t = { T_DL, .category = "recheck" },
	  .r = { R_BASE, .category = "recheck", .prev_category = NULL, .arr = NULL },
	  .x = { "recheck-category", "recheck", 0, true, true, .rx = RX_RECHECK,
	         .recheck_sent_at = NOW } },
	{ "recheck done last sweep, no previous category -> no loop, no new report",
	  .t = { T_DL, .category = "recheck" },
	  .r = { R_BASE, .category = "recheck", .prev_category = NULL, .arr = NULL,
	         .recheck_sent_at = NOW - 5 * MIN },
	  .x = { "recheck-category", "", 0, true, false, .rx = RX_RECHECK,
	         .recheck_sent_at = NOW - 5 * MIN } },
	{ "recheck done last sweep but still in recheck, previous category known -> back to it",
	  .t = { T_DL, .category = "recheck" },
	  .r = { R_BASE, .category = "recheck", .recheck_sent_at = NOW - 5 * MIN },
	  .x = { "recheck-category", "recheck set_category(radarr)", 0, false, false } },
	{ "moved to recheck again weeks later -> recheck again",
	  .t = { T_DL, .category = "recheck" },
	  .r = { R_BASE, .recheck_sent_at = NOW - 30 * DAY },
	  .x = { "recheck-category", "recheck set_category(radarr)", 0, false, false,
	         .rx = RX_RECHECK, .recheck_sent_at = NOW } },
	{ "recheck is not a deleting rule: ignored tag still rechecked",
	  .t = { T_DL, .category = "recheck", .tags = "qBitrr-ignored" }, .r = { R_BASE },
	  .x = { "recheck-category", "recheck set_category(radarr)", 0, false, false } },

	/* Rule 4: missing files. */
	{ "missingFiles -> delete, no blocklist (even when queued)",
	  .t = { T_DL, .state = "missingFiles" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { "missing-files", "delete(files)", 0, false, false } },
	{ "missingFiles needs no queue",
	  .t = { T_DL, .state = "missingFiles" }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  .x = { "missing-files", "delete(files)", 0, false, false } },
	{ "missingFiles with Arr unreachable still deletes (nothing to blocklist)",
	  .t = { T_DL, .state = "missingFiles" }, .r = { R_BASE }, .queue = QUEUE_UNREACHABLE,
	  .x = { "missing-files", "delete(files)", 0, false, false } },
	{ "missingFiles + ignored tag -> exempt",
	  .t = { T_DL, .state = "missingFiles", .tags = "qBitrr-ignored" }, .r = { R_BASE },
	  .x = { "missing-files", "", 0, true, false } },
	{ "missingFiles + young -> exempt",
	  .t = { T_DL, .state = "missingFiles", .added_on = NOW - 10 }, .r = { R_BASE },
	  .x = { "missing-files", "", 0, true, false } },

	/* Rule 5: errored. */
	{ "error, first time -> recheck once",
	  .t = { T_DL, .state = "error" }, .r = { R_BASE },
	  .x = { "errored", "recheck", 0, false, false, .rx = RX_RECHECK,
	         .recheck_sent_at = NOW } },
	{ "error, never seen before -> recheck",
	  .t = { T_DL, .state = "error" },
	  .x = { "errored", "recheck", 0, false, false, .rx = RX_RECHECK,
	         .recheck_sent_at = NOW } },
	{ "error still after the recheck -> reported, never deleted",
	  .t = { T_DL, .state = "error" }, .r = { R_BASE, .recheck_sent_at = NOW - 5 * MIN },
	  .queue = QUEUE_PRESENT,
	  .x = { "errored", "", 0, true, true, .rx = RX_ERRREP | RX_RECHECK,
	         .error_reported_at = NOW, .recheck_sent_at = NOW - 5 * MIN } },
	{ "error reported already -> no new report, still no action",
	  .t = { T_DL, .state = "error" },
	  .r = { R_BASE, .recheck_sent_at = NOW - HOUR, .error_reported_at = NOW - 55 * MIN },
	  .queue = QUEUE_PRESENT,
	  .x = { "errored", "", 0, true, false, .rx = RX_ERRREP,
	         .error_reported_at = NOW - 55 * MIN } },
	{ "error on a young torrent: recheck is not deleting",
	  .t = { T_DL, .state = "error", .added_on = NOW - 10 }, .r = { R_BASE },
	  .x = { "errored", "recheck", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- rule 6: stalled ------------------------------------------------------ */

static void
test_stalled(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "first sight: stalled_since set now, waits",
	  .t = { T_STALLED }, .r = { R_BASE },
	  .x = { NULL, "", 0, true, false, .rx = RX_STALLED, .stalled_since = NOW,
	         .waiting_has = "StalledDelay" } },
	{ "first sight, new torrent: stalled_since set now; not due, so later rules run",
	  .t = { T_STALLED },
	  .x = { NULL, "", POLICY_NEED_FILES, true, false, .rx = RX_STALLED, .stalled_since = NOW } },
	{ "stalled_since kept across sweeps",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - 5 * MIN },
	  .x = { NULL, "", 0, true, false, .rx = RX_STALLED,
	         .stalled_since = NOW - 5 * MIN } },
	{ "exactly StalledDelay (15 min) -> removed",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - 15 * MIN },
	  .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false,
	         .rx = RX_STALLED, .stalled_since = NOW - 15 * MIN } },
	{ "1 s before StalledDelay -> waits",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - 15 * MIN + 1 },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false } },
	{ "stalled long, but last_activity 1 s too recent -> waits",
	  .t = { T_STALLED, .last_activity = NOW - 15 * MIN + 1 },
	  .r = { R_BASE, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false } },
	{ "stalled long, last_activity exactly StalledDelay ago -> removed",
	  .t = { T_STALLED, .last_activity = NOW - 15 * MIN },
	  .r = { R_BASE, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "last_activity unknown (0): added_on counts (old) -> removed",
	  .t = { T_STALLED, .last_activity = 0 },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "last_activity unknown (0): added_on counts (10 min) -> waits",
	  .t = { T_STALLED, .last_activity = 0, .added_on = NOW - 10 * MIN },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false } },
	{ "progress since last sweep resets stalled_since",
	  .t = { T_STALLED, .progress = 0.51 },
	  .r = { R_BASE, .progress = 0.5, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false, .rx = RX_STALLED, .stalled_since = NOW } },
	{ "no progress keeps stalled_since",
	  .t = { T_STALLED, .progress = 0.5 },
	  .r = { R_BASE, .progress = 0.5, .stalled_since = NOW - 10 * MIN },
	  .x = { NULL, "", 0, true, false, .rx = RX_STALLED,
	         .stalled_since = NOW - 10 * MIN } },
	{ "StalledDelay 0 never removes",
	  .tweak = tw_delay0,
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - 30 * DAY },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false, .rx = RX_STALLED,
	         .stalled_since = NOW - 30 * DAY } },
	/* qBitrr: -1 is no grace: removed once idle for IgnoreTorrentsYoungerThan. */
	{ "StalledDelay -1, first sight, idle 10 min >= 180 s -> removed",
	  .tweak = tw_delay_neg,
	  .t = { T_STALLED, .last_activity = NOW - 10 * MIN }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "StalledDelay -1, idle 179 s < 180 s -> waits",
	  .tweak = tw_delay_neg,
	  .t = { T_STALLED, .last_activity = NOW - 179 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, true, false, .waiting_has = "StalledDelay -1" } },

	/* Which states are stalled. */
	{ "metaDL is stalled",
	  .t = { T_STALLED, .state = "metaDL", .size = 0, .progress = 0, .amount_left = 0 },
	  .r = { R_BASE, .progress = 0, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "forcedMetaDL is stalled",
	  .t = { T_STALLED, .state = "forcedMetaDL", .size = 0, .progress = 0, .amount_left = 0 },
	  .r = { R_BASE, .progress = 0, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "downloading with availability 0.99 is stalled",
	  .t = { T_STALLED, .state = "downloading", .availability = 0.99 },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "downloading with availability -1 (unknown) is not stalled; clock cleared",
	  .t = { T_STALLED, .state = "downloading", .availability = -1, .eta = HOUR },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = 0 } },
	{ "downloading with availability 1 is not stalled",
	  .t = { T_STALLED, .state = "downloading", .availability = 1.0, .eta = HOUR },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = 0 } },
	{ "complete torrent in stalledDL is never stalled",
	  .t = { T_STALLED, .progress = 1.0, .amount_left = 0 },
	  .r = { R_BASE, .stalled_since = NOW - DAY, .import_sent_at = NOW - DAY },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = 0 } },
	/* stalled_since of a complete torrent is its stalledUP clock (qBitrr's idle seeding). */
	{ "stalledUP (seeding) is not stalled; its stalledUP clock starts",
	  .t = { T_SEED }, .r = { R_SEED, .stalled_since = NOW - DAY },
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = NOW } },
	{ "leaving the stalled states (to error) clears stalled_since",
	  .t = { T_STALLED, .state = "error" }, .r = { R_BASE, .stalled_since = NOW - HOUR },
	  .x = { "errored", "recheck", 0, false, false, .rx = RX_STALLED, .stalled_since = 0 } },
	{ "leaving the stalled states (to pausedDL) clears stalled_since",
	  .t = { T_STALLED, .state = "pausedDL" }, .r = { R_BASE, .stalled_since = NOW - HOUR },
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = 0 } },

	/* Removal depends on the queue fact like every blocklisting removal. */
	{ "due, queue not fetched -> needs the queue",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_UNKNOWN,
	  .x = { "stalled", "", POLICY_NEED_QUEUE, false, false } },
	{ "due, Arr unreachable -> waits",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - HOUR },
	  .queue = QUEUE_UNREACHABLE,
	  .x = { "stalled", "", 0, true, false } },
	{ "due, not in the queue -> delete without blocklist",
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  .x = { "stalled", "delete(files)", 0, false, false } },
	{ "due, Arr without URI -> delete without blocklist",
	  .t = { T_STALLED, .category = "sonarr" },
	  .r = { R_BASE, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV",
	         .stalled_since = NOW - HOUR }, .queue = QUEUE_NO_ARR,
	  .x = { "stalled", "delete(files)", 0, false, false } },
	{ "due, tagged qBitrr-ignored -> exempt",
	  .t = { T_STALLED, .tags = "qBitrr-ignored" },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_PRESENT,
	  .x = { "stalled", "", 0, true, false } },
	{ "stalled in an unmanaged category: nothing done",
	  .t = { T_STALLED, .category = "other" }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false, .rx = RX_STALLED, .stalled_since = NOW } },

	/* Not due yet: later rules still apply (first rule that acts wins). */
	{ "stalled, not due, tracker says unregistered -> removed as unregistered",
	  .t = { T_STALLED, .tracker = "" }, .r = { R_BASE, .stalled_since = NOW - 5 * MIN },
	  .queue = QUEUE_PRESENT, TRACKERS({ 4, "Unregistered torrent" }),
	  .x = { "unregistered", "delete(files,blocklist,search)", 0, false, false } },
	{ "stalled, StalledDelay 0, tracker says unregistered -> removed as unregistered",
	  .tweak = tw_delay0,
	  .t = { T_STALLED, .tracker = "" }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT, TRACKERS({ 4, "torrent not found" }),
	  .x = { "unregistered", "delete(files)", 0, false, false } },
	{ "stalled, not due, no working tracker -> trackers needed",
	  .t = { T_STALLED, .tracker = "" }, .r = { R_BASE, .stalled_since = NOW - 5 * MIN },
	  .x = { NULL, "", POLICY_NEED_TRACKERS, true, false } },
	{ "stalled and due: unregistered is not looked at (stalled acts first)",
	  .t = { T_STALLED, .tracker = "" }, .r = { R_BASE, .stalled_since = NOW - HOUR },
	  .queue = QUEUE_PRESENT,
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "stalled, not due, some files unwanted -> priority 0, removal still due later",
	  .t = { T_STALLED }, .r = { R_BASE, .files_checked_at = 0, .stalled_since = NOW - 5 * MIN },
	  FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/movie.nfo" }),
	  .x = { "unwanted-files", "set_file_priority(1)", 0, true, false,
	         .waiting_has = "StalledDelay" } },

	/* ReSearchStalled: blocklist at first detection, keep the torrent. */
	{ "ReSearchStalled at first detection -> blocklist + search, torrent kept",
	  .tweak = tw_research_stalled,
	  .t = { T_STALLED }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "blocklist(search)", 0, true, false,
	         .rx = RX_RESEARCH | RX_STALLED, .research_stalled_at = NOW, .stalled_since = NOW } },
	{ "ReSearchStalled, queue not fetched -> needs it",
	  .tweak = tw_research_stalled,
	  .t = { T_STALLED }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", POLICY_NEED_QUEUE, true, false, .rx = RX_RESEARCH,
	         .research_stalled_at = 0 } },
	{ "ReSearchStalled, Arr unreachable -> nothing yet, stays due",
	  .tweak = tw_research_stalled,
	  .t = { T_STALLED }, .r = { R_BASE }, .queue = QUEUE_UNREACHABLE,
	  .x = { NULL, "", 0, true, false, .rx = RX_RESEARCH, .research_stalled_at = 0 } },
	{ "ReSearchStalled done already -> no second blocklist, no queue needed",
	  .tweak = tw_research_stalled,
	  .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - 5 * MIN,
	         .research_stalled_at = NOW - 5 * MIN }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", 0, true, false, .rx = RX_RESEARCH,
	         .research_stalled_at = NOW - 5 * MIN } },
	{ "ReSearchStalled with StalledDelay 0: blocklists, never removes",
	  .tweak = tw_research_stalled_delay0,
	  .t = { T_STALLED }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "blocklist(search)", 0, true, false } },
	{ "ReSearchStalled on an ignored torrent -> nothing",
	  .tweak = tw_research_stalled,
	  .t = { T_STALLED, .tags = "qBitrr-ignored" }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", 0, true, false } },
	{ "ReSearchStalled on an Arr without URI -> nothing",
	  .tweak = tw_research_stalled_all,
	  .t = { T_STALLED, .category = "sonarr" },
	  .r = { R_BASE, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV" },
	  .queue = QUEUE_NO_ARR,
	  .x = { NULL, "", 0, true, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- rule 7: slow --------------------------------------------------------- */

static void
test_slow(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "ETA equal to MaximumETA is not slow",
	  .t = { T_DL, .eta = 7 * DAY }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false } },
	{ "ETA one second above MaximumETA is slow -> removed like stalled",
	  .t = { T_DL, .eta = 7 * DAY + 1 }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { "slow", "delete(files,blocklist,search)", 0, false, false } },
	{ "slow, queue not fetched -> needs it",
	  .t = { T_DL, .eta = 8 * DAY }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  .x = { "slow", "", POLICY_NEED_QUEUE, false, false } },
	{ "slow, Arr unreachable -> waits",
	  .t = { T_DL, .eta = 8 * DAY }, .r = { R_BASE }, .queue = QUEUE_UNREACHABLE,
	  .x = { "slow", "", 0, true, false } },
	{ "slow but DoNotRemoveSlow",
	  .tweak = tw_dnrs,
	  .t = { T_DL, .eta = 8 * DAY }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false } },
	{ "MaximumETA 0 is off",
	  .tweak = tw_eta_off,
	  .t = { T_DL, .eta = ETA_INF }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false } },
	{ "progress equal to MaximumDeletablePercentage is kept",
	  .t = { T_DL, .eta = 8 * DAY, .progress = 0.99 }, .r = { R_BASE, .progress = 0.99 },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", 0, false, false } },
	{ "progress just below MaximumDeletablePercentage is removed",
	  .t = { T_DL, .eta = 8 * DAY, .progress = 0.989 }, .r = { R_BASE, .progress = 0.989 },
	  .queue = QUEUE_PRESENT,
	  .x = { "slow", "delete(files,blocklist,search)", 0, false, false } },
	{ "slow with availability -1 (unknown): not stalled, so slow applies",
	  .t = { T_DL, .eta = 8 * DAY, .availability = -1 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "slow", "delete(files,blocklist,search)", 0, false, false } },
	{ "slow but young -> exempt",
	  .t = { T_DL, .eta = 8 * DAY, .added_on = NOW - 100 }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "slow", "", 0, true, false } },
	{ "slow but tagged qBitrr-ignored -> exempt",
	  .t = { T_DL, .eta = 8 * DAY, .tags = "qBitrr-ignored" }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT,
	  .x = { "slow", "", 0, true, false } },
	{ "stalled (not due) and slow -> removed as slow, no stale \"due in\"",
	  .t = { T_DL, .eta = 8 * DAY, .availability = 0.5 },
	  .r = { R_BASE, .stalled_since = NOW - 5 * MIN }, .queue = QUEUE_PRESENT,
	  .x = { "slow", "delete(files,blocklist,search)", 0, false, false,
	         .rx = RX_STALLED, .stalled_since = NOW - 5 * MIN } },
	{ "stalled and due, also slow -> stalled acts first",
	  .t = { T_DL, .eta = 8 * DAY, .availability = 0.5, .last_activity = NOW - HOUR },
	  .r = { R_BASE, .stalled_since = NOW - HOUR }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  .x = { "stalled", "delete(files)", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- rule 8: unwanted files ----------------------------------------------- */

static void
test_unwanted_files(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "files not fetched yet -> needs them",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 },
	  .x = { NULL, "", POLICY_NEED_FILES, false, false, .rx = RX_FILES,
	         .files_checked_at = 0 } },
	{ "every file wanted -> nothing, checked",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 },
	  FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/Movie.en.srt" }),
	  .x = { NULL, "", 0, false, false, .rx = RX_FILES, .files_checked_at = NOW } },
	{ "some unwanted -> priority 0 for them, checked",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 },
	  FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/Sample/movie.mkv" },
	        { 1, "Movie/movie.nfo" }, { 1, "Movie/Movie.en.srt" },
	        { 1, "Movie/Extras/Interview.mp4" }),
	  .x = { "unwanted-files", "set_file_priority(1,2,4)", 0, false, false,
	         .rx = RX_FILES, .files_checked_at = NOW } },
	{ "files already at priority 0 are not counted again",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 },
	  FILES({ 1, "Movie/Movie.mkv" }, { 0, "Movie/movie.nfo" }),
	  .x = { NULL, "", 0, false, false, .rx = RX_FILES, .files_checked_at = NOW } },
	/* qBitrr has no special case for in-progress names: the allowlist decides. */
	{ "in-progress names (.!qB, .parts) not in the allowlist are unwanted",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 }, .queue = QUEUE_PRESENT,
	  FILES({ 1, "Movie/movie.nfo.!qB" }, { 1, "Movie/Sample/sample.mkv.parts" },
	        { 1, "Movie/.Movie.exe.parts" }),
	  .x = { "unwanted-files", "delete(files,blocklist,search)", 0, false, false } },
	{ "all files unwanted -> removed like stalled",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 }, .queue = QUEUE_PRESENT,
	  FILES({ 1, "Movie/Movie.exe" }, { 1, "Movie/Sample/sample.mkv" }),
	  .x = { "unwanted-files", "delete(files,blocklist,search)", 0, false, false } },
	{ "all files unwanted, not in the queue -> delete without blocklist",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  FILES({ 1, "Movie/Movie.exe" }),
	  .x = { "unwanted-files", "delete(files)", 0, false, false } },
	{ "all files unwanted, queue not fetched -> needs it",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 }, .queue = QUEUE_UNKNOWN,
	  FILES({ 1, "Movie/Movie.exe" }),
	  .x = { "unwanted-files", "", POLICY_NEED_QUEUE, false, false } },
	{ "all files unwanted, Arr unreachable -> waits and stays due",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = 0 }, .queue = QUEUE_UNREACHABLE,
	  FILES({ 1, "Movie/Movie.exe" }),
	  .x = { "unwanted-files", "", 0, true, false, .rx = RX_FILES, .files_checked_at = 0 } },
	{ "all files unwanted, young -> exempt and stays due",
	  .t = { T_DL, .added_on = NOW - 60 }, .r = { R_BASE, .files_checked_at = 0 },
	  .queue = QUEUE_PRESENT, FILES({ 1, "Movie/Movie.exe" }),
	  .x = { "unwanted-files", "", 0, true, false, .rx = RX_FILES, .files_checked_at = 0 } },
	{ "some unwanted on an ignored torrent: priority 0 is not a deletion",
	  .t = { T_DL, .tags = "qBitrr-ignored" }, .r = { R_BASE, .files_checked_at = 0 },
	  FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/movie.nfo" }),
	  .x = { "unwanted-files", "set_file_priority(1)", 0, false, false } },
	{ "checked once: a later sweep does not look again",
	  .t = { T_DL }, .r = { R_BASE, .files_checked_at = NOW - HOUR },
	  FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/movie.nfo" }),
	  .x = { NULL, "", 0, false, false, .rx = RX_FILES, .files_checked_at = NOW - HOUR } },
	{ "complete torrent: files never fetched",
	  .t = { T_SEED }, .r = { R_SEED, .files_checked_at = 0 },
	  .x = { NULL, "", 0, false, false } },
	{ "metadata not yet known (size 0): files never fetched",
	  .t = { T_DL, .state = "queuedDL", .size = 0, .amount_left = 0, .progress = 0 },
	  .r = { R_BASE, .progress = 0, .files_checked_at = 0 },
	  .x = { NULL, "", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

struct unwanted_case {
	bool	 case_sensitive;
	bool	 empty_allowlist;
	const char *path;
	bool	 unwanted;
};

static void
test_file_unwanted(void **state)
{
	(void)state;
	static const struct unwanted_case cases[] = {
	{ false, false, "Movie/Movie.mkv", false },
	{ false, false, "Movie.mkv", false },
	{ false, false, "Movie/Movie.MKV", false },		/* case-insensitive allowlist */
	{ true, false, "Movie/Movie.MKV", true },		/* CaseSensitiveMatches */
	{ true, false, "Movie/Movie.mkv", false },
	{ false, false, "Movie/movie.nfo", true },		/* not in the allowlist */
	{ false, false, "Movie/movie", true },			/* no extension */
	{ false, false, "Movie/Sample/movie.mkv", true },	/* folder regex */
	{ false, false, "Movie/SAMPLES/movie.mkv", true },
	/* qBitrr lower-cases folder names, even with CaseSensitiveMatches. */
	{ true, false, "Movie/Sample/movie.mkv", true },
	{ true, false, "Movie/sample/movie.mkv", true },
	{ false, false, "Movie/Extras/Interview.mp4", true },
	{ false, false, "a/b/extra/c/movie.mkv", true },	/* any folder level */
	{ false, false, "Movie/Sampler/movie.mkv", false },	/* whole word only */
	{ false, false, "Movie/extras.mkv", false },		/* folder regex: folders only */
	{ false, false, "Samples.mkv", false },
	{ false, false, "Movie/movie.sample.mkv", true },	/* file name regex */
	{ false, false, "Movie/RARBG.mp4", true },
	{ false, false, "Movie/rarbg.mp4", true },
	{ true, false, "Movie/rarbg.mp4", false },
	/* Partial files: only as the allowlist says (qBitrr has no special case). */
	{ false, false, "Movie/Movie.mkv.!qB", true },
	{ false, false, "Movie/Sample/sample.mkv.!qB", true },
	/* Allowlist entries are regexes searched in the suffix. */
	{ false, false, "Movie/movie.mkv2", false },		/* re.search: \.mkv is in ".mkv2" */
	{ false, false, "Movie/.mkv", true },			/* Python: ".mkv" has no suffix */
	{ false, false, "Movie/movie.", true },
	{ false, true, "Movie/movie.nfo", false },		/* no allowlist: any extension */
	{ false, true, "Movie/Sample/movie.nfo", true },
	};
	int bad = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct torrent_config tc;
		bool got;

		torrent_config_make(&tc, cases[i].case_sensitive);
		if (cases[i].empty_allowlist)
			regexlist_done(&tc.extension_allowlist);
		got = policy_file_unwanted(&tc, cases[i].path);
		if (got != cases[i].unwanted) {
			print_error("# %s (case_sensitive %d, allowlist %s): got %d, want %d\n",
			    cases[i].path, cases[i].case_sensitive,
			    cases[i].empty_allowlist ? "empty" : "set", got, cases[i].unwanted);
			bad++;
		}
		torrent_config_done(&tc);
	}
	if (bad)
		fail_msg("%d mismatch(es)", bad);
}

/* A catastrophic pattern gives up within the match limit, and the file is kept. */
static void
test_regex_bounded(void **state)
{
	static const char *const evil[] = { "^(a+)+$" };
	struct torrent_config tc;
	char name[80];
	int64_t t0;

	(void)state;
	torrent_config_make(&tc, false);
	regexlist_done(&tc.filename_exclusion);
	regexlist_make(&tc.filename_exclusion, evil, 1, false, false);
	memset(name, 'a', 60);
	strcpy(name + 60, "!.mkv");
	t0 = monotonic_ms();
	assert_int_equal(config_regexlist_search(&tc.filename_exclusion, name), -1);
	assert_false(policy_file_unwanted(&tc, name));
	assert_true(monotonic_ms() - t0 < 5000);
	assert_int_equal(config_regexlist_search(&tc.filename_exclusion, "aaaa"), 1);
	torrent_config_done(&tc);
}

/* ---- rule 9: unregistered ------------------------------------------------- */

static void
test_unregistered(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "no working tracker, trackers not fetched -> needs them",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE },
	  .x = { NULL, "", POLICY_NEED_TRACKERS, false, false } },
	{ "a working tracker (torrent.tracker set) -> trackers never fetched",
	  .t = { T_DL }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "\"Unregistered torrent\" and no tracker works -> removed",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 4, "Unregistered torrent" }),
	  .x = { "unregistered", "delete(files,blocklist,search)", 0, false, false } },
	{ "unregistered, queue not fetched -> needs it",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_UNKNOWN,
	  TRACKERS({ 4, "Unregistered torrent" }),
	  .x = { "unregistered", "", POLICY_NEED_QUEUE, false, false } },
	{ "unregistered, Arr unreachable -> waits",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_UNREACHABLE,
	  TRACKERS({ 4, "Unregistered torrent" }),
	  .x = { "unregistered", "", 0, true, false } },
	{ "upper-case built-in message counts",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  TRACKERS({ 4, "TORRENT NOT FOUND" }),
	  .x = { "unregistered", "delete(files)", 0, false, false } },
	{ "each built-in message counts (trumped)",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  TRACKERS({ 4, "Torrent has been trumped by a better release" }),
	  .x = { "unregistered", "delete(files)", 0, false, false } },
	{ "a working tracker (status 2) vetoes",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 4, "Unregistered torrent" }, { 2, "" }),
	  .x = { NULL, "", 0, false, false } },
	{ "a working tracker listed first vetoes too",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 2, "" }, { 4, "not registered" }),
	  .x = { NULL, "", 0, false, false } },
	{ "timeout messages never count",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 4, "Timed out" }, { 4, "Connection timed out" }),
	  .x = { NULL, "", 0, false, false } },
	{ "updating / not contacted with no message never count",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 3, "" }, { 1, "" }),
	  .x = { NULL, "", 0, false, false } },
	{ "empty tracker list -> not unregistered",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_PRESENT, NO_TRACKERS,
	  .x = { NULL, "", 0, false, false } },
	{ "extra UnregisteredMessages entry counts (case-insensitive)",
	  .tweak = tw_unreg_extra,
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  TRACKERS({ 4, "Removed By Staff: dupe" }),
	  .x = { "unregistered", "delete(files)", 0, false, false } },
	{ "message not in the list (default config)",
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  TRACKERS({ 4, "Removed By Staff: dupe" }),
	  .x = { NULL, "", 0, false, false } },
	{ "RemoveUnregistered off -> trackers never fetched",
	  .tweak = tw_unreg_off,
	  .t = { T_DL, .tracker = "" }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "unregistered but tagged qBitrr-ignored -> exempt",
	  .t = { T_DL, .tracker = "", .tags = "qBitrr-ignored" }, .r = { R_BASE },
	  .queue = QUEUE_PRESENT, TRACKERS({ 4, "unregistered" }),
	  .x = { "unregistered", "", 0, true, false } },
	};

	run_table(cases, NELEM(cases));
}

static void
test_unregistered_direct(void **state)
{
	struct torrent_config tc;
	struct qbit_tracker items[2];
	struct qbit_tracker_list tl = { items, 0 };
	char why[200];

	(void)state;
	torrent_config_make(&tc, false);
	assert_false(policy_unregistered(&tc, NULL, why, sizeof(why)));
	assert_false(policy_unregistered(&tc, &tl, why, sizeof(why)));
	items[0] = (struct qbit_tracker){ xstrdup("https://t.example/a"),
	    xstrdup("Infohash not found."), 4 };
	items[1] = (struct qbit_tracker){ xstrdup("https://u.example/a"), xstrdup(""), 0 };
	tl.n = 2;
	why[0] = '\0';
	assert_true(policy_unregistered(&tc, &tl, why, sizeof(why)));
	assert_non_null(strstr(why, "https://t.example/a"));
	assert_non_null(strstr(why, "Infohash not found."));
	assert_true(policy_unregistered(&tc, &tl, NULL, 0));
	items[1].status = 2;
	assert_false(policy_unregistered(&tc, &tl, why, sizeof(why)));
	for (size_t i = 0; i < 2; i++) {
		free(items[i].url);
		free(items[i].msg);
	}
	torrent_config_done(&tc);
}

/* ---- Arr import error codes ----------------------------------------------- */

static void
test_arr_import_error(void **state)
{
	(void)state;
	static const struct qspec other_msg = { "completed", "importPending", "warning",
	    { "Something else went wrong", NULL, NULL } };
	static const struct qspec second_msg = { "completed", "importPending", "warning",
	    { "One or more episodes expected", "Not a Custom Format upgrade for existing "
	    "movie file(s)", NULL } };
	static const struct qspec upper_case = { "Completed", "ImportPending", "Warning",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec not_warning = { "completed", "importPending", "ok",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec downloading = { "downloading", "downloading", "warning",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec imported = { "completed", "imported", "warning",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec partial_msg = { "completed", "importPending", "warning",
	    { "Not an upgrade", NULL, NULL } };
	static const struct qspec blocked = { "completed", "importBlocked", "warning",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec failed_error = { "completed", "importFailed", "error",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	static const struct qspec blocked_ok = { "completed", "importBlocked", "ok",
	    { "Not an upgrade for existing movie file(s)", NULL, NULL } };
	const struct pcase cases[] = {
	{ "codes configured, complete, queue unknown -> needs it",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", POLICY_NEED_QUEUE, false, false } },
	{ "import warning with a listed message -> blocklist, delete, search",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &rec_import_warning,
	  .x = { "arr-import-error", "delete(files,blocklist,search)", 0, false, false } },
	{ "the listed message may be any of the record's messages",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &second_msg,
	  .x = { "arr-import-error", "delete(files,blocklist,search)", 0, false, false } },
	{ "status words compared case-insensitively",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &upper_case,
	  .x = { "arr-import-error", "delete(files,blocklist,search)", 0, false, false } },
	{ "message must equal a listed string, not just start like it",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &partial_msg,
	  .x = { NULL, "", 0, false, false } },
	{ "importBlocked (Radarr 5.8+, Sonarr 4.0.5+) with a listed message -> removal",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &blocked,
	  .x = { "arr-import-error", "delete(files,blocklist,search)", 0, false, false } },
	{ "importFailed (Lidarr) with an error and a listed message -> removal",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &failed_error,
	  .x = { "arr-import-error", "delete(files,blocklist,search)", 0, false, false } },
	{ "importBlocked but status ok -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &blocked_ok,
	  .x = { NULL, "", 0, false, false } },
	{ "message not listed -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &other_msg,
	  .x = { NULL, "", 0, false, false } },
	{ "tracked status not warning -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &not_warning,
	  .x = { NULL, "", 0, false, false } },
	{ "record not completed -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &downloading,
	  .x = { NULL, "", 0, false, false } },
	{ "tracked state not importPending -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &imported,
	  .x = { NULL, "", 0, false, false } },
	{ "not in the queue -> nothing",
	  .tweak = tw_codes, .t = { T_SEED },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  .x = { NULL, "", 0, false, false } },
	{ "import completed -> queue not needed",
	  .tweak = tw_codes, .t = { T_SEED }, .r = { R_SEED }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", 0, false, false } },
	{ "no codes configured -> queue not needed",
	  .t = { T_SEED }, .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_UNKNOWN,
	  .x = { NULL, "", 0, false, false } },
	{ "incomplete torrent -> not this rule",
	  .tweak = tw_codes, .t = { T_DL }, .r = { R_BASE }, .queue = QUEUE_PRESENT,
	  .rec = &rec_import_warning,
	  .x = { NULL, "", 0, false, false } },
	{ "Arr without URI -> nothing to ask",
	  .tweak = tw_codes, .t = { T_SEED, .category = "sonarr" },
	  .r = { R_SEED, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV",
	         .import_result = "queued" }, .queue = QUEUE_NO_ARR,
	  .x = { NULL, "", 0, false, false } },
	{ "import error on an ignored torrent -> exempt",
	  .tweak = tw_codes, .t = { T_SEED, .tags = "qBitrr-ignored" },
	  .r = { R_SEED, .import_result = "queued" }, .queue = QUEUE_PRESENT,
	  .rec = &rec_import_warning,
	  .x = { "arr-import-error", "", 0, true, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- import (issue 4) ----------------------------------------------------- */

static void
test_import(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "complete a day ago, not imported -> import with the mapped path",
	  .t = { T_SEED }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "longest mapping prefix wins",
	  .t = { T_SEED, .content_path = "/downloads/movies/Movie (2020)" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/srv/films/Movie (2020))", 0, false, false } },
	{ "mapping matches whole components only",
	  .t = { T_SEED, .content_path = "/downloads2/Movie" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/downloads2/Movie)", 0, false, false } },
	{ "no mapping -> path as reported",
	  .tweak = tw_no_mapping, .t = { T_SEED }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/downloads/Movie)", 0, false, false } },
	{ "never seen before, complete -> import",
	  .t = { T_SEED },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false, .rx = RX_SEEDING,
	         .seeding_since = NOW } },
	{ "completed exactly ImportDelay (60 s) ago -> import",
	  .t = { T_SEED, .completion_on = NOW - 60 }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "completed 59 s ago -> not due, waits",
	  .t = { T_SEED, .completion_on = NOW - 59 }, .r = { R_SEED_NEW },
	  .x = { "import", "", 0, true, false, .waiting_has = "import due" } },
	{ "completion time unknown -> not due",
	  .t = { T_SEED, .completion_on = 0 }, .r = { R_SEED_NEW },
	  .x = { "import", "", 0, true, false } },
	{ "already sent (queued) -> never sent again",
	  .t = { T_SEED }, .r = { R_SEED, .import_result = "queued" },
	  .x = { NULL, "", 0, false, false } },
	{ "already sent, completed -> never sent again",
	  .t = { T_SEED }, .r = { R_SEED },
	  .x = { NULL, "", 0, false, false } },
	{ "already sent, VerifyImport and command queued -> verify",
	  .tweak = tw_verify, .t = { T_SEED }, .r = { R_SEED, .import_result = "queued" },
	  .x = { NULL, "verify_import", 0, false, false } },
	{ "already sent, VerifyImport and command started -> verify",
	  .tweak = tw_verify, .t = { T_SEED }, .r = { R_SEED, .import_result = "started" },
	  .x = { NULL, "verify_import", 0, false, false } },
	{ "already sent, VerifyImport but command completed -> nothing",
	  .tweak = tw_verify, .t = { T_SEED }, .r = { R_SEED },
	  .x = { NULL, "", 0, false, false } },
	{ "already sent, VerifyImport off -> nothing",
	  .t = { T_SEED }, .r = { R_SEED, .import_result = "queued" },
	  .x = { NULL, "", 0, false, false } },
	{ "failed before, next try in the future -> waits (backoff)",
	  .t = { T_SEED },
	  .r = { R_SEED_NEW, .import_attempts = 2, .import_next_try = NOW + 1,
	         .import_result = "failed: HTTP 503" },
	  .x = { "import", "", 0, true, false, .waiting_has = "retry" } },
	{ "failed before, next try now -> import again",
	  .t = { T_SEED },
	  .r = { R_SEED_NEW, .import_attempts = 2, .import_next_try = NOW,
	         .import_result = "failed: HTTP 503" },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "failed before, next try passed -> import again",
	  .t = { T_SEED },
	  .r = { R_SEED_NEW, .import_attempts = 1, .import_next_try = NOW - HOUR,
	         .import_result = "failed: connection refused" },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "Arr without URI -> no import",
	  .t = { T_SEED, .category = "sonarr" },
	  .r = { R_SEED_NEW, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV" },
	  .queue = QUEUE_NO_ARR,
	  .x = { NULL, "", 0, false, false } },
	{ "unmanaged category -> no import",
	  .t = { T_SEED, .category = "other" },
	  .x = { NULL, "", 0, false, false } },
	{ "not complete -> no import",
	  .t = { T_DL }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "complete but amount_left not 0 -> no import",
	  .t = { T_SEED, .amount_left = 1 }, .r = { R_SEED_NEW },
	  .x = { NULL, "", 0, false, false } },
	{ "pausedUP (stopped complete) -> import",
	  .t = { T_SEED, .state = "pausedUP" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "stoppedUP (qBittorrent 5) -> import",
	  .t = { T_SEED, .state = "stoppedUP" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "uploading -> import",
	  .t = { T_SEED, .state = "uploading" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "forcedUP -> import",
	  .t = { T_SEED, .state = "forcedUP" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "tagged qBitrr-ignored -> still imported",
	  .t = { T_SEED, .tags = "qBitrr-ignored" }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "young (added 100 s ago) -> still imported",
	  .t = { T_SEED, .added_on = NOW - 100, .completion_on = NOW - 61 }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	{ "import does not depend on seeding settings (goal met, not imported)",
	  .t = { T_SEED, .ratio = 5.0 }, .r = { R_SEED_NEW },
	  .seed_mode = 1, .seed_ratio = 2.0, .seed_time = 0,
	  .x = { "import", "import(/mnt/media/Movie)", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- seeding goals (issue 4) ---------------------------------------------- */

#define SEED_RATIO 2.0
#define SEED_TIME (7 * DAY)

static void
test_seeding(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "RemoveTorrent -1 never removes",
	  .t = { T_SEED, .ratio = 10, .seeding_time = 30 * DAY }, .r = { R_SEED },
	  .seed_mode = -1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	/* Mode 1: ratio. */
	{ "mode 1: ratio 1.99 < 2 -> kept",
	  .t = { T_SEED, .ratio = 1.99 }, .r = { R_SEED },
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 1: ratio exactly 2 -> removed",
	  .t = { T_SEED, .ratio = 2.0 }, .r = { R_SEED },
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "mode 1: ratio 2.01 -> removed",
	  .t = { T_SEED, .ratio = 2.01 }, .r = { R_SEED },
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "mode 1: time met but ratio not -> kept",
	  .t = { T_SEED, .ratio = 1.0, .seeding_time = 30 * DAY }, .r = { R_SEED },
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 1 with MaxUploadRatio unset (0) never removes",
	  .t = { T_SEED, .ratio = 100 }, .r = { R_SEED },
	  .seed_mode = 1, .seed_ratio = 0, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	/* Mode 2: seeding time = max(qBittorrent, own clock). */
	{ "mode 2: qBittorrent seeding_time 1 s short, own clock shorter -> kept",
	  .t = { T_SEED, .seeding_time = SEED_TIME - 1 }, .r = { R_SEED },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 2: qBittorrent seeding_time exactly MaxSeedingTime -> removed",
	  .t = { T_SEED, .seeding_time = SEED_TIME }, .r = { R_SEED },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	/* qBitrr counts time spent seeding only: paused or stopped time is not seeding. */
	{ "mode 2: qBittorrent's seeding_time 1 h, complete 7 d ago -> kept",
	  .t = { T_SEED, .seeding_time = HOUR }, .r = { R_SEED, .seeding_since = NOW - SEED_TIME },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false, .rx = RX_SEEDING,
	         .seeding_since = NOW - SEED_TIME } },
	{ "mode 2: qBittorrent frozen at 1 h, own clock 1 s short -> kept",
	  .t = { T_SEED, .seeding_time = HOUR },
	  .r = { R_SEED, .seeding_since = NOW - SEED_TIME + 1 },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 2: own clock starts now when the row has none",
	  .t = { T_SEED, .seeding_time = HOUR }, .r = { R_SEED, .seeding_since = 0 },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false, .rx = RX_SEEDING, .seeding_since = NOW } },
	{ "mode 2 with MaxSeedingTime unset (0) never removes",
	  .t = { T_SEED, .seeding_time = 365 * DAY }, .r = { R_SEED },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = 0,
	  .x = { NULL, "", 0, false, false } },
	/* Mode 3: either. */
	{ "mode 3: ratio only -> removed",
	  .t = { T_SEED, .ratio = 2.0, .seeding_time = HOUR }, .r = { R_SEED },
	  .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "mode 3: time only -> removed",
	  .t = { T_SEED, .ratio = 0.1, .seeding_time = SEED_TIME }, .r = { R_SEED },
	  .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "mode 3: neither (just below both) -> kept",
	  .t = { T_SEED, .ratio = 1.99, .seeding_time = SEED_TIME - 1 }, .r = { R_SEED },
	  .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	/* Mode 4: both. */
	{ "mode 4: ratio only -> kept",
	  .t = { T_SEED, .ratio = 3.0, .seeding_time = HOUR }, .r = { R_SEED },
	  .seed_mode = 4, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 4: time only -> kept",
	  .t = { T_SEED, .ratio = 1.0, .seeding_time = 30 * DAY }, .r = { R_SEED },
	  .seed_mode = 4, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 4: both exactly at the limits -> removed",
	  .t = { T_SEED, .ratio = 2.0, .seeding_time = SEED_TIME }, .r = { R_SEED },
	  .seed_mode = 4, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "mode 4: ratio met, complete 8 d ago but seeded 1 h -> kept",
	  .t = { T_SEED, .ratio = 2.5, .seeding_time = HOUR },
	  .r = { R_SEED, .seeding_since = NOW - 8 * DAY },
	  .seed_mode = 4, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "mode 2: seeding_time exactly MaxSeedingTime -> removed",
	  .t = { T_SEED, .seeding_time = SEED_TIME }, .r = { R_SEED },
	  .seed_mode = 2, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	/* Left alone. */
	{ "forcedUP is left alone",
	  .t = { T_SEED, .state = "forcedUP", .ratio = 5, .seeding_time = 30 * DAY },
	  .r = { R_SEED }, .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "tagged qBitrr-ignored is left alone",
	  .t = { T_SEED, .tags = "x, qBitrr-ignored", .ratio = 5, .seeding_time = 30 * DAY },
	  .r = { R_SEED }, .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	{ "young torrent meeting its goal is exempt",
	  .t = { T_SEED, .added_on = NOW - 100, .ratio = 5 },
	  .r = { R_SEED }, .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "", 0, true, false } },
	{ "pausedUP meeting its goal -> removed",
	  .t = { T_SEED, .state = "pausedUP", .ratio = 5 },
	  .r = { R_SEED }, .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	/* Not before the import is confirmed. */
	{ "goal met, import failed and backing off -> kept (import rule waits)",
	  .t = { T_SEED, .ratio = 5 },
	  .r = { R_SEED_NEW, .import_attempts = 1, .import_next_try = NOW + HOUR,
	         .import_result = "failed: HTTP 500" }, .queue = QUEUE_ABSENT, .history = HISTORY_ABSENT,
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "import", "", 0, true, false } },
	{ "goal met, Arr without URI (import never confirmed) -> kept",
	  .t = { T_SEED, .category = "sonarr", .ratio = 5 },
	  .r = { R_SEED_NEW, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV" },
	  .queue = QUEUE_NO_ARR,
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "", 0, true, false } },
	{ "goal met, Arr without URI but import recorded -> removed",
	  .t = { T_SEED, .category = "sonarr", .ratio = 5 },
	  .r = { R_SEED, .category = "sonarr", .prev_category = "sonarr", .arr = "Sonarr-TV" },
	  .queue = QUEUE_NO_ARR,
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "goal met, imported, queue unknown -> removed without asking",
	  .t = { T_SEED, .ratio = 5 }, .r = { R_SEED }, .queue = QUEUE_UNKNOWN,
	  .seed_mode = 1, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "incomplete torrent is not a seeder",
	  .t = { T_DL, .ratio = 5, .seeding_time = 30 * DAY }, .r = { R_BASE },
	  .seed_mode = 3, .seed_ratio = SEED_RATIO, .seed_time = SEED_TIME,
	  .x = { NULL, "", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- per-tracker rules and Hit-and-Run (qBitrr's [[...Trackers]]) ---------- */

/* The test torrents' trackers are https://trackerN.example/announce. */
static struct tracker_config trk_hnr = {
	.name = (char *)"PrivateHD", .uri = (char *)"https://tracker0.example/announce",
	.host = (char *)"tracker0.example", .priority = 10, .maximum_eta = -1,
	.max_ratio = -1, .max_seeding_time = -1, .dl_limit = TRACKER_UNSET,
	.up_limit = TRACKER_UNSET, .hnr = HNR_AND, .hnr_min_ratio = 1.0,
	.hnr_min_days = 7, .hnr_min_dl_pct = 10, .hnr_partial_ratio = 1.0,
};
static struct tracker_config trk_set[2];

static void
tw_trackers(struct fx *f, const struct tracker_config *a, const struct tracker_config *b)
{
	trk_set[0] = *a;
	if (b != NULL)
		trk_set[1] = *b;
	f->arrs[0].trackers = trk_set;
	f->arrs[0].n_trackers = b != NULL ? 2 : 1;
}

static void tw_hnr(struct fx *f) { tw_trackers(f, &trk_hnr, NULL); }
static void
tw_hnr_or(struct fx *f)
{
	tw_hnr(f);
	trk_set[0].hnr = HNR_OR;
}
static void
tw_hnr_seed(struct fx *f)
{
	tw_hnr(f);
	radarr_tc(f)->seeding.remove_torrent = 1;	/* MaxUploadRatio 2.0 */
}
static void
tw_hnr_or_seed(struct fx *f)
{
	tw_hnr_or(f);
	radarr_tc(f)->seeding.remove_torrent = 1;
}
static void
tw_hnr_apex(struct fx *f)
{
	tw_hnr(f);
	trk_set[0].uri = (char *)"example";
	trk_set[0].host = (char *)"example";		/* tracker0.example is a subdomain */
}
static void
tw_hnr_elsewhere(struct fx *f)
{
	tw_hnr(f);
	trk_set[0].uri = (char *)"https://elsewhere.example";
	trk_set[0].host = (char *)"elsewhere.example";
}
static void
tw_tracker_limits(struct fx *f)
{
	tw_hnr(f);
	trk_set[0].hnr = HNR_DISABLED;
	trk_set[0].maximum_eta = 600;
	trk_set[0].max_ratio = 3.0;
	trk_set[0].up_limit = 1000;
	radarr_tc(f)->seeding.remove_torrent = 1;
}
static void
tw_two_trackers(struct fx *f)
{
	struct tracker_config low = trk_hnr;

	low.name = (char *)"Public";
	low.uri = (char *)"https://tracker1.example";
	low.host = (char *)"tracker1.example";
	low.priority = 1;
	low.hnr = HNR_DISABLED;
	tw_trackers(f, &low, &trk_hnr);
}

static void
test_trackers(void **state)
{
	(void)state;
	const struct trspec tr0 = { 2, "" };
	const struct pcase cases[] = {
	{ "tracker rules, trackers not read yet -> nothing decided, trackers needed",
	  .tweak = tw_hnr, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT,
	  .x = { NULL, "", POLICY_NEED_TRACKERS, true, false, .waiting_has = "tracker list" } },
	{ "Hit-and-Run: partial download (50 %) at ratio 0, stalled past its delay -> kept",
	  .tweak = tw_hnr, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "stalled", "", 0, true, false, .waiting_has = "Hit-and-Run on PrivateHD" } },
	{ "Hit-and-Run: partial download at ratio 1.2 >= HitAndRunPartialSeedRatio -> removed",
	  .tweak = tw_hnr, .t = { T_STALLED, .ratio = 1.2 },
	  .r = { R_BASE, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "Hit-and-Run: below HitAndRunMinimumDownloadPercent (5 %) -> removed",
	  .tweak = tw_hnr, .t = { T_STALLED, .progress = 0.05 },
	  .r = { R_BASE, .progress = 0.05, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "Hit-and-Run: the tracker says unregistered -> no obligation, removed",
	  .tweak = tw_hnr, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS({ 4, "Unregistered torrent" }),
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "Hit-and-Run: \"Host not found\" is no word of qBitrr's -> kept",
	  .tweak = tw_hnr, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS({ 4, "Host not found (non-authoritative)" }),
	  .x = { "stalled", "", 0, true, false, .waiting_has = "Hit-and-Run" } },
	{ "Hit-and-Run by host: a subdomain of the configured host matches -> kept",
	  .tweak = tw_hnr_apex, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "stalled", "", 0, true, false, .waiting_has = "Hit-and-Run" } },
	{ "the Hit-and-Run tracker among the torrent's trackers -> kept",
	  .tweak = tw_hnr, .t = { T_STALLED }, .r = { R_BASE, .stalled_since = NOW - DAY },
	  .queue = QUEUE_PRESENT, TRACKERS({ 2, "" }, { 2, "" }),
	  .x = { "stalled", "", 0, true, false, .waiting_has = "Hit-and-Run" } },
	{ "Hit-and-Run on a tracker the torrent does not use -> removed",
	  .tweak = tw_hnr_elsewhere, .t = { T_STALLED },
	  .r = { R_BASE, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "stalled", "delete(files,blocklist,search)", 0, false, false } },
	{ "two matching trackers: the higher Priority (HnR) rules -> kept",
	  .tweak = tw_two_trackers, .t = { T_STALLED },
	  .r = { R_BASE, .stalled_since = NOW - DAY }, .queue = QUEUE_PRESENT,
	  TRACKERS({ 2, "" }, { 2, "" }),
	  .x = { "stalled", "", 0, true, false, .waiting_has = "Hit-and-Run on PrivateHD" } },
	{ "Hit-and-Run, mode and: ratio met, seeded 1 d < 7 d -> seeding goal waits",
	  .tweak = tw_hnr_seed, .t = { T_SEED, .ratio = 2.5 }, .r = { R_SEED },
	  TRACKERS(tr0),
	  .x = { "seeding-goal", "", 0, true, false, .waiting_has = "MinSeedingTimeDays" } },
	{ "Hit-and-Run, mode or: ratio 2.5 >= MinSeedRatio 1 -> removed",
	  .tweak = tw_hnr_or_seed, .t = { T_SEED, .ratio = 2.5 }, .r = { R_SEED },
	  TRACKERS(tr0),
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "Hit-and-Run, mode and: 8 d seeded and ratio met -> removed",
	  .tweak = tw_hnr_seed, .t = { T_SEED, .ratio = 2.5, .seeding_time = 8 * DAY },
	  .r = { R_SEED }, TRACKERS(tr0),
	  .x = { "seeding-goal", "delete(files)", 0, false, false } },
	{ "a positive tracker MaxUploadRatio (3) wins over the Arr's (2): ratio 2.5 kept",
	  .tweak = tw_tracker_limits, .t = { T_SEED, .ratio = 2.5, .up_limit = 1000 },
	  .r = { R_SEED }, TRACKERS(tr0),
	  .x = { NULL, "", 0, false, false } },
	{ "a positive tracker MaximumETA (10 min) wins over the Arr's (7 d): slow",
	  .tweak = tw_tracker_limits, .t = { T_DL, .eta = HOUR, .up_limit = 1000 },
	  .r = { R_BASE }, .queue = QUEUE_PRESENT, TRACKERS(tr0),
	  .x = { "slow", "delete(files,blocklist,search)", 0, false, false } },
	{ "the tracker's UploadRateLimit wins over the Arr's",
	  .tweak = tw_tracker_limits, .t = { T_DL, .eta = 300, .up_limit = 0 }, .r = { R_BASE },
	  TRACKERS(tr0),
	  .x = { NULL, "set_limits(-1,1000)", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- per-torrent rate limits ------------------------------------------------ */

static void
test_rate_limits(void **state)
{
	(void)state;
	const struct pcase cases[] = {
	{ "limits unset (-1) -> nothing",
	  .t = { T_DL, .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "limits 0 (not > 0) -> nothing",
	  .tweak = tw_limit_zero,
	  .t = { T_DL, .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "limits 0 leave the torrent's own limits alone (qBitrr)",
	  .tweak = tw_limit_zero,
	  .t = { T_DL, .dl_limit = 5000, .up_limit = 7000 }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "limits -1 make a limited torrent unlimited (qBitrr)",
	  .t = { T_DL, .dl_limit = 5000, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(0,-1)", 0, false, false } },
	{ "download limit differs -> set it (bytes/s, as qBitrr), upload untouched",
	  .tweak = tw_limit_dl,
	  .t = { T_DL, .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(102400,-1)", 0, false, false } },
	{ "download limit already set -> nothing",
	  .tweak = tw_limit_dl,
	  .t = { T_DL, .dl_limit = 102400, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "upload limit differs -> set it",
	  .tweak = tw_limit_up,
	  .t = { T_DL, .dl_limit = 0, .up_limit = 1024 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(-1,51200)", 0, false, false } },
	{ "both differ -> both",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .dl_limit = -1, .up_limit = -1 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(102400,51200)", 0, false, false } },
	{ "both configured, only upload differs -> upload only",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .dl_limit = 102400, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(-1,51200)", 0, false, false } },
	{ "both configured and equal -> nothing",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .dl_limit = 102400, .up_limit = 51200 }, .r = { R_BASE },
	  .x = { NULL, "", 0, false, false } },
	{ "limits apply to a stalled torrent that is kept",
	  .tweak = tw_limit_both_delay0,
	  .t = { T_STALLED, .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { NULL, "set_limits(102400,51200)", 0, true, false } },
	{ "limits apply beside a matched rule that does not delete (recheck)",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .state = "error", .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { "errored", "recheck set_limits(102400,51200)", 0, false, false } },
	{ "no limits on a torrent being deleted",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .state = "missingFiles", .dl_limit = 0, .up_limit = 0 }, .r = { R_BASE },
	  .x = { "missing-files", "delete(files)", 0, false, false } },
	{ "limits apply beside an import",
	  .tweak = tw_limit_up,
	  .t = { T_SEED, .up_limit = 0 }, .r = { R_SEED_NEW },
	  .x = { "import", "import(/mnt/media/Movie) set_limits(-1,51200)", 0, false, false } },
	{ "no Arr (unmanaged category) -> no limits",
	  .tweak = tw_limit_both,
	  .t = { T_DL, .category = "other", .dl_limit = 0, .up_limit = 0 },
	  .x = { NULL, "", 0, false, false } },
	};

	run_table(cases, NELEM(cases));
}

/* ---- multi-sweep sequences ------------------------------------------------ */

/* Decide the fixture's current torrent/row at `now`; the row is replaced by the result. */
static void
sweep_once(struct fx *f, int64_t now, enum queue_fact queue, bool files,
    struct policy_decision *d)
{
	struct policy_input in;

	memset(&in, 0, sizeof(in));
	in.cfg = &f->cfg;
	in.ic = &f->inst;
	in.t = &f->t;
	in.row = f->has_row ? &f->row : NULL;
	in.arr = policy_arr_for(&f->cfg, f->t.category, in.row);
	in.now = now;
	in.facts.queue = queue;
	in.facts.record = queue == QUEUE_PRESENT ? &f->rec : NULL;
	in.facts.files = files ? &f->files : NULL;
	memset(d, 0, sizeof(*d));
	policy_decide(&in, d);
}

/* Store the decided row as the next sweep's stored row. */
static void
keep_row(struct fx *f, const struct policy_decision *d)
{
	state_row_clear(&f->row);
	state_row_copy(&f->row, &d->row);
	f->has_row = true;
}

static void
set_str(char **p, const char *s)
{
	free(*p);
	*p = xstrdup(s);
}

static void
assert_actions(const struct policy_decision *d, const char *want)
{
	char got[512];

	render(d, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_sequences(void **state)
{
	const struct pcase seed = { "seq", .t = { T_STALLED }, .queue = QUEUE_PRESENT,
	    FILES({ 1, "Movie/Movie.mkv" }, { 1, "Movie/movie.nfo" }) };
	struct fx f;
	struct policy_decision d;
	int64_t t0 = NOW;

	(void)state;

	/* Recheck without a previous category: reported once, then no loop. */
	fx_init(&f);
	build_case(&f, &seed);
	set_str(&f.t.category, "recheck");
	set_str(&f.t.state, "downloading");
	f.t.availability = 3;
	sweep_once(&f, t0, QUEUE_UNKNOWN, false, &d);
	assert_actions(&d, "recheck");
	assert_true(d.report);
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 300, QUEUE_UNKNOWN, false, &d);
	assert_string_equal(d.rule, "recheck-category");
	assert_actions(&d, "");
	assert_false(d.report);
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 600, QUEUE_UNKNOWN, false, &d);
	assert_actions(&d, "");
	assert_false(d.report);
	policy_decision_free(&d);
	fx_free(&f);

	/* Recheck with a previous category learnt on an earlier sweep. */
	fx_init(&f);
	build_case(&f, &seed);
	set_str(&f.t.state, "downloading");
	f.t.availability = 3;
	f.t.eta = HOUR;
	sweep_once(&f, t0, QUEUE_UNKNOWN, true, &d);	/* seen in radarr */
	keep_row(&f, &d);
	policy_decision_free(&d);
	set_str(&f.t.category, "recheck");		/* user moves it */
	sweep_once(&f, t0 + 300, QUEUE_UNKNOWN, true, &d);
	assert_actions(&d, "recheck set_category(radarr)");
	assert_false(d.report);
	policy_decision_free(&d);
	fx_free(&f);

	/* Errored: recheck once, then one report, then quiet. */
	fx_init(&f);
	build_case(&f, &seed);
	set_str(&f.t.state, "error");
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "recheck");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 300, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	assert_true(d.report);
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 600, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	assert_false(d.report);
	assert_non_null(d.waiting);
	policy_decision_free(&d);
	fx_free(&f);

	/* Stalled across three sweeps: clock kept, removal exactly at the delay. */
	fx_init(&f);
	build_case(&f, &seed);
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.row.stalled_since, t0);
	assert_actions(&d, "");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 10 * MIN, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.row.stalled_since, t0);
	assert_actions(&d, "");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 15 * MIN - 1, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	policy_decision_free(&d);
	sweep_once(&f, t0 + 15 * MIN, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "delete(files,blocklist,search)");
	policy_decision_free(&d);
	fx_free(&f);

	/* ReSearchStalled: one blocklist, then never again. */
	fx_init(&f);
	tw_research_stalled(&f);
	build_case(&f, &seed);
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "blocklist(search)");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 5 * MIN, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	assert_int_equal(d.row.research_stalled_at, t0);
	policy_decision_free(&d);
	fx_free(&f);

	/* Unwanted files: checked once. */
	fx_init(&f);
	build_case(&f, &seed);
	set_str(&f.t.state, "downloading");
	f.t.availability = 3;
	f.t.eta = HOUR;
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.needs, POLICY_NEED_FILES);
	policy_decision_free(&d);
	sweep_once(&f, t0, QUEUE_PRESENT, true, &d);
	assert_actions(&d, "set_file_priority(1)");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 300, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.needs, 0);
	assert_actions(&d, "");
	policy_decision_free(&d);
	fx_free(&f);

	/* All files unwanted while the Arr is down: removed once it is back. */
	fx_init(&f);
	build_case(&f, &seed);
	set_str(&f.t.state, "downloading");
	f.t.availability = 3;
	f.t.eta = HOUR;
	set_str(&f.files.items[0].name, "Movie/Movie.exe");
	sweep_once(&f, t0, QUEUE_UNREACHABLE, true, &d);
	assert_actions(&d, "");
	assert_non_null(d.waiting);
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 300, QUEUE_UNKNOWN, false, &d);
	assert_int_equal(d.needs, POLICY_NEED_FILES);	/* still due */
	policy_decision_free(&d);
	sweep_once(&f, t0 + 300, QUEUE_PRESENT, true, &d);
	assert_actions(&d, "delete(files,blocklist,search)");
	policy_decision_free(&d);
	fx_free(&f);

	/* Paused, qBittorrent's seeding_time frozen: kept, as in qBitrr. */
	fx_init(&f);
	build_case(&f, &(const struct pcase){ "seq", .t = { T_SEED, .state = "pausedUP",
	    .seeding_time = HOUR } });
	radarr_tc(&f)->seeding.remove_torrent = 2;
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "import(/mnt/media/Movie)");
	assert_int_equal(d.row.seeding_since, t0);
	keep_row(&f, &d);
	policy_decision_free(&d);
	f.row.import_sent_at = t0;			/* the Arr accepted it */
	set_str(&f.row.import_result, "queued");
	sweep_once(&f, t0 + SEED_TIME - 1, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 30 * DAY, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	assert_null(d.rule);
	policy_decision_free(&d);
	fx_free(&f);

	/*
	 * Idle in stalledUP (qBittorrent updates seeding_time late for it):
	 * qBitrr's own stalledUP clock counts, restarted by any other state.
	 */
	fx_init(&f);
	build_case(&f, &(const struct pcase){ "seq", .t = { T_SEED, .seeding_time = HOUR },
	    .r = { R_SEED } });
	radarr_tc(&f)->seeding.remove_torrent = 2;
	sweep_once(&f, t0, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	assert_int_equal(d.row.stalled_since, t0);
	keep_row(&f, &d);
	policy_decision_free(&d);
	set_str(&f.t.state, "uploading");		/* a peer: the clock restarts */
	sweep_once(&f, t0 + 3 * DAY, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.row.stalled_since, 0);
	keep_row(&f, &d);
	policy_decision_free(&d);
	set_str(&f.t.state, "stalledUP");
	sweep_once(&f, t0 + 4 * DAY, QUEUE_PRESENT, false, &d);
	assert_int_equal(d.row.stalled_since, t0 + 4 * DAY);
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 4 * DAY + SEED_TIME - 1, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "");
	keep_row(&f, &d);
	policy_decision_free(&d);
	sweep_once(&f, t0 + 4 * DAY + SEED_TIME, QUEUE_PRESENT, false, &d);
	assert_actions(&d, "delete(files)");
	assert_string_equal(d.rule, "seeding-goal");
	policy_decision_free(&d);
	fx_free(&f);
}

/* ---- explain trace -------------------------------------------------------- */

static bool
trace_has(const struct policy_decision *d, const char *a, const char *b)
{
	for (size_t i = 0; i < d->n_trace; i++)
		if (strstr(d->trace[i], a) != NULL && (b == NULL || strstr(d->trace[i], b) != NULL))
			return true;
	return false;
}

static void
test_trace(void **state)
{
	const struct pcase stalled = { "trace", .t = { T_STALLED },
	    .r = { R_BASE, .stalled_since = NOW - 5 * MIN } };
	const struct pcase healthy = { "trace", .t = { T_DL }, .r = { R_BASE } };
	const struct pcase missing = { "trace", .t = { T_DL, .state = "missingFiles" },
	    .r = { R_BASE } };
	struct fx f;
	struct policy_input in;
	struct policy_decision d;

	(void)state;
	fx_init(&f);
	build_case(&f, &stalled);
	input_for(&f, &stalled, NOW, &in);
	memset(&d, 0, sizeof(d));
	d.tracing = true;
	policy_decide(&in, &d);
	assert_null(d.rule);		/* not due: nothing acts */
	assert_true(d.n_trace >= 5);
	assert_non_null(strstr(d.trace[0], "ignored"));
	/* Rules in order, each named, matched or not. */
	assert_true(trace_has(&d, "failed-category: no", NULL));
	assert_true(trace_has(&d, "recheck-category: no", NULL));
	assert_true(trace_has(&d, "missing-files: no", NULL));
	assert_true(trace_has(&d, "errored: no", NULL));
	/* "stalled: since 12:03 (5 min) < StalledDelay 15 min — due in 10 min" */
	assert_true(trace_has(&d, "StalledDelay 15 min", "due in 10 min"));
	assert_true(trace_has(&d, "stalled:", "(5 min)"));
	assert_non_null(d.waiting);
	assert_non_null(strstr(d.waiting, "due in 10 min"));
	policy_decision_free(&d);

	/* Not tracing: no lines. */
	memset(&d, 0, sizeof(d));
	policy_decide(&in, &d);
	assert_int_equal(d.n_trace, 0);
	assert_null(d.trace);
	policy_decision_free(&d);
	fx_free(&f);

	/* A torrent no rule matches: every rule shows up. */
	fx_init(&f);
	build_case(&f, &healthy);
	input_for(&f, &healthy, NOW, &in);
	memset(&d, 0, sizeof(d));
	d.tracing = true;
	policy_decide(&in, &d);
	assert_null(d.rule);
	{
		static const char *const rules[] = { "ignored", "failed-category",
		    "recheck-category", "missing-files", "errored", "stalled", "slow",
		    "unwanted-files", "unregistered", "arr-import-error", "import",
		    "seeding-goal" };
		size_t at = 0;
		for (size_t r = 0; r < NELEM(rules); r++) {
			while (at < d.n_trace && strncmp(d.trace[at], rules[r],
			    strlen(rules[r])) != 0)
				at++;
			if (at == d.n_trace)
				fail_msg("trace: rule %s missing or out of order", rules[r]);
		}
	}
	assert_true(trace_has(&d, "slow: no", "MaximumETA"));
	policy_decision_free(&d);
	fx_free(&f);

	/* First match wins: nothing after the matching rule is evaluated. */
	fx_init(&f);
	build_case(&f, &missing);
	input_for(&f, &missing, NOW, &in);
	memset(&d, 0, sizeof(d));
	d.tracing = true;
	policy_decide(&in, &d);
	assert_string_equal(d.rule, "missing-files");
	assert_true(trace_has(&d, "missing-files: yes", NULL));
	assert_false(trace_has(&d, "errored:", NULL));
	assert_false(trace_has(&d, "stalled:", NULL));
	assert_false(trace_has(&d, "import:", NULL));
	policy_decision_free(&d);
	fx_free(&f);
}

/* ---- free space (per instance) -------------------------------------------- */

struct fs_torrent {
	const char *state;
	int64_t	 left;
	bool	 complete;
	const char *tags;
	bool	 ours;		/* row with space_paused_at */
};

struct fs_case {
	const char *name;
	int64_t	 free_space, threshold;
	size_t	 n;
	struct fs_torrent t[4];
	const char *want;	/* "0:pause 2:resume" */
};

static void
test_free_space(void **state)
{
	(void)state;
	static const struct fs_case cases[] = {
	{ "off (threshold -1)", 1 * GIB, -1, 1,
	  { { "downloading", 10 * GIB, false, "", false } }, "" },
	{ "free space unknown (-1)", -1, 1 * GIB, 1,
	  { { "downloading", 10 * GIB, false, "", false } }, "" },
	{ "everything fits", 10 * GIB, 1 * GIB, 2,
	  { { "downloading", 3 * GIB, false, "", false },
	    { "stalledDL", 6 * GIB, false, "", false } }, "" },
	{ "the second does not fit -> paused", 5 * GIB, 1 * GIB, 2,
	  { { "downloading", 2 * GIB, false, "", false },
	    { "downloading", 3 * GIB, false, "", false } }, "1:pause" },
	{ "exactly fits -> kept running", 5 * GIB, 1 * GIB, 1,
	  { { "downloading", 4 * GIB, false, "", false } }, "" },
	{ "one byte too many -> paused", 5 * GIB, 1 * GIB, 1,
	  { { "downloading", 4 * GIB + 1, false, "", false } }, "0:pause" },
	{ "below the threshold already -> every download paused", 1 * GIB, 2 * GIB, 2,
	  { { "downloading", 1, false, "", false },
	    { "metaDL", 1, false, "", false } }, "0:pause 1:pause" },
	{ "we paused it and it fits now -> resumed", 10 * GIB, 1 * GIB, 1,
	  { { "pausedDL", 3 * GIB, false, "", true } }, "0:resume" },
	{ "we paused it (qBittorrent 5 stoppedDL), fits -> resumed", 10 * GIB, 1 * GIB, 1,
	  { { "stoppedDL", 3 * GIB, false, "", true } }, "0:resume" },
	{ "we paused it and it still does not fit -> stays paused", 3 * GIB, 1 * GIB, 1,
	  { { "pausedDL", 3 * GIB, false, "", true } }, "" },
	{ "paused by the user, fits -> never resumed", 10 * GIB, 1 * GIB, 1,
	  { { "pausedDL", 3 * GIB, false, "", false } }, "" },
	{ "user-paused torrent does not take budget", 5 * GIB, 1 * GIB, 2,
	  { { "pausedDL", 4 * GIB, false, "", false },
	    { "downloading", 4 * GIB, false, "", false } }, "" },
	{ "resumed ones take budget in order", 5 * GIB, 1 * GIB, 3,
	  { { "pausedDL", 3 * GIB, false, "", true },
	    { "pausedDL", 2 * GIB, false, "", true },
	    { "pausedDL", 1 * GIB, false, "", true } }, "0:resume 2:resume" },
	{ "tagged qBitrr-ignored is never paused", 1 * GIB, 1 * GIB, 1,
	  { { "downloading", 5 * GIB, false, "qBitrr-ignored", false } }, "" },
	{ "amount_left unknown (-1) -> nothing decided", 1 * GIB, 2 * GIB, 1,
	  { { "downloading", -1, false, "", false } }, "" },
	{ "complete torrents are not downloads", 1 * GIB, 1 * GIB, 2,
	  { { "stalledUP", 0, true, "", false },
	    { "pausedUP", 0, true, "", true } }, "" },
	};
	int bad = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct fs_case *c = &cases[i];
		struct qbit_torrent ts[4];
		struct state_row rows[4];
		const struct state_row *rp[4];
		struct policy_space_action *out = NULL;
		char got[256] = "";
		size_t n;

		memset(ts, 0, sizeof(ts));
		memset(rows, 0, sizeof(rows));
		for (size_t k = 0; k < c->n; k++) {
			const struct fs_torrent *s = &c->t[k];
			snprintf(ts[k].hash, sizeof(ts[k].hash), "%040zx", k + 1);
			ts[k].name = xasprintf("t%zu", k);
			ts[k].category = xstrdup("radarr");
			ts[k].tags = xstrdup(s->tags);
			ts[k].state = xstrdup(s->state);
			ts[k].tracker = xstrdup("");
			ts[k].amount_left = s->left;
			ts[k].size = s->complete ? 10 * GIB : s->left * 2 + 1;
			ts[k].progress = s->complete ? 1.0 : 0.5;
			ts[k].availability = 1;
			rows[k].space_paused_at = s->ours ? NOW - HOUR : 0;
			rp[k] = s->ours ? &rows[k] : (k % 2 ? &rows[k] : NULL);
		}
		n = policy_free_space(ts, rp, c->n, c->free_space, c->threshold, &out);
		for (size_t k = 0; k < n; k++) {
			append(got, sizeof(got), "%s%zu:%s", k ? " " : "", out[k].index,
			    policy_action_name(out[k].kind));
			if (out[k].reason == NULL || out[k].reason[0] == '\0') {
				print_error("# %s: action %zu without a reason\n", c->name, k);
				bad++;
			}
		}
		if (strcmp(got, c->want) != 0) {
			print_error("# %s: got \"%s\", want \"%s\"\n", c->name, got, c->want);
			bad++;
		}
		if (n == 0 && out != NULL) {
			print_error("# %s: no actions but out set\n", c->name);
			bad++;
		}
		policy_space_actions_free(out, n);
		for (size_t k = 0; k < c->n; k++) {
			free(ts[k].name);
			free(ts[k].category);
			free(ts[k].tags);
			free(ts[k].state);
			free(ts[k].tracker);
		}
	}
	if (bad)
		fail_msg("%d mismatch(es)", bad);
}

/* ---- path overlap (issue 6) ------------------------------------------------ */

static void
test_paths_overlap(void **state)
{
	(void)state;
	static const struct { const char *a, *b; bool want; } cases[] = {
		{ "/data/Movie", "/data/Movie", true },			/* equal */
		{ "/data/Movie/Movie.mkv", "/data/Movie", true },	/* a inside b */
		{ "/data/Movie", "/data/Movie/Movie.mkv", true },	/* b inside a */
		{ "/data/Show", "/data/Show/Season 01/e01.mkv", true },	/* deeper */
		{ "/data/Movie", "/data/Movie.2", false },		/* sibling, common prefix */
		{ "/data/Movie.2", "/data/Movie", false },
		{ "/data/Movie/", "/data/Movie.2/", false },
		{ "/data/Mov", "/data/Movie", false },
		{ "/data/Movie", "/data/Movies/x.mkv", false },
		{ "/data/Movie/", "/data/Movie", true },		/* trailing slashes */
		{ "/data/Movie", "/data/Movie/", true },
		{ "/data/Movie///", "/data/Movie/", true },
		{ "/data/", "/data/Movie", true },
		{ "/data/Movie/", "/data/Movie/a.mkv", true },
		{ "/", "/data/Movie", true },				/* root holds everything */
		{ "/data/Movie", "/", true },
		{ "/", "/", true },
		{ "//", "/data", true },
		{ "/data/a", "/data/b", false },
		{ "/data/a", "/other/a", false },
		{ "", "/data", false },
		{ "/data", "", false },
	};
	int bad = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		bool got = policy_paths_overlap(cases[i].a, cases[i].b);
		if (got != cases[i].want) {
			print_error("# overlap(\"%s\", \"%s\"): got %d, want %d\n",
			    cases[i].a, cases[i].b, got, cases[i].want);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d mismatch(es)", bad);
}

/* ---- predicates and helpers ----------------------------------------------- */

struct pred_case {
	const char *state;
	double	 progress, availability;
	int64_t	 size, left;
	bool	 stalled, complete, paused, downloading;
};

static void
test_predicates(void **state)
{
	(void)state;
	static const struct pred_case cases[] = {
	/* state          progress avail size left  stalled complete paused downloading */
	{ "stalledDL",     0.5, 0.0,  100, 50,  true,  false, false, true },
	{ "stalledDL",     1.0, 0.0,  100, 0,   false, true,  false, false },
	{ "metaDL",        0.0, 0.0,  0,   0,   true,  false, false, true },
	{ "forcedMetaDL",  0.0, 0.0,  0,   0,   true,  false, false, true },
	{ "downloading",   0.5, 0.0,  100, 50,  true,  false, false, true },
	{ "downloading",   0.5, 0.99, 100, 50,  true,  false, false, true },
	{ "downloading",   0.5, 1.0,  100, 50,  false, false, false, true },
	{ "downloading",   0.5, -1.0, 100, 50,  false, false, false, true },
	{ "forcedDL",      0.5, 0.0,  100, 50,  false, false, false, true },
	{ "queuedDL",      0.5, 0.0,  100, 50,  false, false, false, true },
	{ "pausedDL",      0.5, 0.0,  100, 50,  false, false, true,  true },
	{ "stoppedDL",     0.5, 0.0,  100, 50,  false, false, true,  true },
	{ "pausedUP",      1.0, -1.0, 100, 0,   false, true,  true,  false },
	{ "stoppedUP",     1.0, -1.0, 100, 0,   false, true,  true,  false },
	{ "stalledUP",     1.0, 0.0,  100, 0,   false, true,  false, false },
	{ "uploading",     1.0, 2.0,  100, 0,   false, true,  false, false },
	{ "downloading",   1.0, 1.0,  100, 0,   false, true,  false, false },
	{ "downloading",   0.999, 1.0, 100, 0,  false, false, false, true },
	{ "downloading",   1.0, 1.0,  100, 1,   false, false, false, true },
	{ "missingFiles",  0.5, 0.0,  100, 50,  false, false, false, false },
	{ "error",         0.5, 0.0,  100, 50,  false, false, false, false },
	};
	int bad = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct pred_case *c = &cases[i];
		struct qbit_torrent t;

		memset(&t, 0, sizeof(t));
		t.state = (char *)(uintptr_t)c->state;
		t.progress = c->progress;
		t.availability = c->availability;
		t.size = c->size;
		t.amount_left = c->left;
		if (torrent_is_stalled(&t) != c->stalled ||
		    torrent_is_complete(&t) != c->complete ||
		    torrent_is_paused(&t) != c->paused ||
		    torrent_is_downloading(&t) != c->downloading) {
			print_error("# %s progress %.3f avail %.2f left %lld: got "
			    "stalled %d complete %d paused %d downloading %d\n", c->state,
			    c->progress, c->availability, (long long)c->left,
			    torrent_is_stalled(&t), torrent_is_complete(&t),
			    torrent_is_paused(&t), torrent_is_downloading(&t));
			bad++;
		}
	}
	if (bad)
		fail_msg("%d mismatch(es)", bad);
}

static void
test_actions_and_categories(void **state)
{
	struct fx f;
	struct state_row row;

	(void)state;
	assert_string_equal(policy_action_name(ACT_CREATE_CATEGORY), "create_category");
	assert_string_equal(policy_action_name(ACT_IMPORT), "import");
	assert_string_equal(policy_action_name(ACT_DELETE), "delete");
	assert_string_equal(policy_action_name(ACT_BLOCKLIST), "blocklist");
	assert_string_equal(policy_action_name(ACT_SEARCH), "search");
	assert_string_equal(policy_action_name(ACT_RECHECK), "recheck");
	assert_string_equal(policy_action_name(ACT_SET_CATEGORY), "set_category");
	assert_string_equal(policy_action_name(ACT_PAUSE), "pause");
	assert_string_equal(policy_action_name(ACT_RESUME), "resume");
	assert_string_equal(policy_action_name(ACT_SET_FILE_PRIORITY), "set_file_priority");
	assert_string_equal(policy_action_name(ACT_ADD_TAG), "add_tag");
	assert_string_equal(policy_action_name(ACT_REMOVE_TAG), "remove_tag");
	assert_string_equal(policy_action_name(ACT_SET_LIMITS), "set_limits");
	assert_string_equal(policy_action_name(ACT_VERIFY_IMPORT), "verify_import");
	assert_string_equal(policy_action_name(ACT__COUNT), "?");
	for (int k = 0; k < ACT__COUNT; k++)
		assert_int_equal(policy_action_mutates((enum action_kind)k),
		    k != ACT_VERIFY_IMPORT);

	fx_init(&f);
	assert_true(policy_category_managed(&f.cfg, "radarr"));
	assert_true(policy_category_managed(&f.cfg, "sonarr"));	/* no URI: still managed */
	assert_true(policy_category_managed(&f.cfg, "failed"));
	assert_true(policy_category_managed(&f.cfg, "recheck"));
	assert_false(policy_category_managed(&f.cfg, "music"));	/* Managed = false */
	assert_false(policy_category_managed(&f.cfg, "other"));
	assert_false(policy_category_managed(&f.cfg, "Radarr"));
	assert_false(policy_category_managed(&f.cfg, ""));
	assert_false(policy_category_managed(&f.cfg, NULL));

	memset(&row, 0, sizeof(row));
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr", NULL), &f.arrs[0]);
	assert_ptr_equal(policy_arr_for(&f.cfg, "sonarr", NULL), &f.arrs[1]);
	assert_null(policy_arr_for(&f.cfg, "failed", NULL));
	assert_null(policy_arr_for(&f.cfg, "failed", &row));
	row.arr = (char *)(uintptr_t)"Sonarr-TV";
	assert_ptr_equal(policy_arr_for(&f.cfg, "failed", &row), &f.arrs[1]);
	row.arr = (char *)(uintptr_t)"Lidarr-Music";		/* unmanaged: not by name */
	row.prev_category = (char *)(uintptr_t)"radarr";
	assert_ptr_equal(policy_arr_for(&f.cfg, "failed", &row), &f.arrs[0]);
	row.arr = NULL;
	assert_ptr_equal(policy_arr_for(&f.cfg, "recheck", &row), &f.arrs[0]);
	/* The category wins over the row. */
	row.arr = (char *)(uintptr_t)"Sonarr-TV";
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr", &row), &f.arrs[0]);

	/* Exact categories unless MatchSubcategories; the longest prefix wins. */
	assert_false(policy_category_managed(&f.cfg, "radarr/4k"));
	assert_null(policy_arr_for(&f.cfg, "radarr/4k", NULL));
	f.arrs[0].match_subcategories = true;
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/4k", NULL), &f.arrs[0]);
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/4k/hdr", NULL), &f.arrs[0]);
	assert_null(policy_arr_for(&f.cfg, "radarrx", NULL));
	assert_null(policy_arr_for(&f.cfg, "radarr-4k", NULL));
	assert_null(policy_arr_for(&f.cfg, "sonarr/anime", NULL));	/* not asked */
	char *sonarr_cat = f.arrs[1].category;
	f.arrs[1].category = (char *)(uintptr_t)"radarr/4k";
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/4k", NULL), &f.arrs[1]);
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/4k/hdr", NULL), &f.arrs[0]);
	f.arrs[1].match_subcategories = true;
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/4k/hdr", NULL), &f.arrs[1]);
	assert_ptr_equal(policy_arr_for(&f.cfg, "radarr/hd", NULL), &f.arrs[0]);
	f.arrs[2].match_subcategories = true;			/* unmanaged: never */
	assert_false(policy_category_managed(&f.cfg, "music/x"));
	f.arrs[1].category = sonarr_cat;
	fx_free(&f);
}

/* The clock against the last recorded sweep: jumps refused, then accepted. */
static void
test_clock_check(void **state)
{
	struct policy_clock c;
	const int64_t last = 1800000000, year = 365 * 86400;

	(void)state;
	policy_clock_check(last + 60, 0, 0, &c);		/* first run */
	assert_int_equal(c.now, last + 60);
	assert_false(c.refuse);
	policy_clock_check(last + 60, last, 0, &c);		/* a minute later */
	assert_int_equal(c.now, last + 60);
	assert_int_equal(c.shift, 0);
	assert_false(c.refuse);
	assert_int_equal(c.pending, 0);
	policy_clock_check(last + 20 * 86400, last, 0, &c);	/* 20 days off: fine */
	assert_false(c.refuse);
	policy_clock_check(last - 100, last, 0, &c);		/* NTP step: clamped */
	assert_int_equal(c.now, last);
	assert_false(c.refuse);
	/* A year ahead: refused, decided by the recorded clock. */
	policy_clock_check(last + year, last, 0, &c);
	assert_true(c.refuse);
	assert_int_equal(c.now, last);
	assert_int_equal(c.pending, last + year);
	assert_int_equal(c.shift, 0);
	assert_non_null(strstr(c.why, "ahead of"));
	/* The next run agrees with it: accepted, stored times move a year. */
	policy_clock_check(last + year + 60, last, last + year, &c);
	assert_false(c.refuse);
	assert_int_equal(c.shift, year);
	assert_int_equal(c.now, last + year + 60);
	assert_int_equal(c.pending, 0);
	/* Back on the old clock instead: the pending jump is dropped. */
	policy_clock_check(last + 120, last, last + year, &c);
	assert_false(c.refuse);
	assert_int_equal(c.shift, 0);
	assert_int_equal(c.pending, 0);
	/* A year behind, then agreed on. */
	policy_clock_check(last - year, last, 0, &c);
	assert_true(c.refuse);
	assert_int_equal(c.now, last);
	assert_non_null(strstr(c.why, "behind"));
	policy_clock_check(last - year + 60, last, last - year, &c);
	assert_false(c.refuse);
	assert_int_equal(c.shift, -year);
	assert_int_equal(c.now, last - year + 60);
	/* A second, different jump is not an agreement. */
	policy_clock_check(last + 2 * year, last, last + year, &c);
	assert_true(c.refuse);
	assert_int_equal(c.pending, last + 2 * year);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_head),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_slow),
		cmocka_unit_test(test_unwanted_files),
		cmocka_unit_test(test_file_unwanted),
		cmocka_unit_test(test_regex_bounded),
		cmocka_unit_test(test_trackers),
		cmocka_unit_test(test_unregistered),
		cmocka_unit_test(test_unregistered_direct),
		cmocka_unit_test(test_arr_import_error),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_seeding),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_free_space),
		cmocka_unit_test(test_paths_overlap),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_actions_and_categories),
		cmocka_unit_test(test_clock_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
