/*
 * config_keys: every key the configuration knows (one table: section,
 * name, type, where it is stored, limits), the sections qBitrr has and we
 * ignore, and applying each entry of a file to the config (see config_p.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_p.h"
#include "util.h"

#define S_OFF(f)	offsetof(struct settings, f)
#define Q_OFF(f)	offsetof(struct instance_config, f)
#define A_OFF(f)	offsetof(struct arr_config, f)
#define TR_OFF(f)	offsetof(struct tracker_config, f)
#define NOLIMIT		0, 0

static const struct keydef keydefs[K__COUNT] = {
	[K_STATE_FILE] = { SK_SETTINGS, "StateFile", T_STR,
	    S_OFF(state_file), NOLIMIT, KF_OPTIONAL },
	[K_FAILED_CAT] = { SK_SETTINGS, "FailedCategory", T_STR,
	    S_OFF(failed_category), NOLIMIT, KF_NONEMPTY },
	[K_RECHECK_CAT] = { SK_SETTINGS, "RecheckCategory", T_STR,
	    S_OFF(recheck_category), NOLIMIT, KF_NONEMPTY },
	[K_S_IGNORE_YOUNGER] = { SK_SETTINGS, "IgnoreTorrentsYoungerThan", T_DURATION,
	    S_OFF(ignore_younger_than), 0, INT64_MAX, 0 },
	[K_HTTP_TIMEOUT] = { SK_SETTINGS, "HttpTimeout", T_DURATION,
	    S_OFF(http_timeout), 1, 86400, 0 },
	[K_IMPORT_DELAY] = { SK_SETTINGS, "ImportDelay", T_DURATION,
	    S_OFF(import_delay), 0, INT64_MAX, 0 },
	[K_S_FREE_SPACE] = { SK_SETTINGS, "FreeSpace", T_SIZE,
	    S_OFF(free_space), NOLIMIT, 0 },
	[K_S_MAX_DELETIONS] = { SK_SETTINGS, "MaxDeletionsPerRun", T_INT,
	    S_OFF(max_deletions), 0, INT_MAX, 0 },
	[K_STATUS_PAGE] = { SK_SETTINGS, "StatusPage", T_STR,
	    S_OFF(status_page), NOLIMIT, KF_OPTIONAL },
	[K_METRICS_FILE] = { SK_SETTINGS, "MetricsFile", T_STR,
	    S_OFF(metrics_file), NOLIMIT, KF_OPTIONAL },
	[K_NOTIFY_COMMAND] = { SK_SETTINGS, "NotifyCommand", T_STR,
	    S_OFF(notify_command), NOLIMIT, KF_OPTIONAL },
	[K_WEBHOOK_URL] = { SK_SETTINGS, "WebhookURL", T_STR,
	    S_OFF(webhook_url), NOLIMIT, KF_OPTIONAL | KF_SECRET },
	[K_MAX_RESPONSE] = { SK_SETTINGS, "MaxResponseSize", T_SIZE,
	    S_OFF(max_response), INT64_C(1) << 16, INT64_C(1) << 40, 0 },
	[K_HISTORY_DAYS] = { SK_SETTINGS, "HistoryDays", T_INT,
	    S_OFF(history_days), 0, 36500, 0 },
	[K_GONE_ROW_DAYS] = { SK_SETTINGS, "GoneRowDays", T_INT,
	    S_OFF(gone_row_days), 0, 36500, 0 },
	[K_AUTO_PAUSE_RESUME] = { SK_SETTINGS, "AutoPauseResume", T_BOOL,
	    S_OFF(auto_pause_resume), NOLIMIT, 0 },

	[K_HOST] = { SK_QBIT, "Host", T_STR,
	    Q_OFF(host), NOLIMIT, KF_NONEMPTY },
	[K_PORT] = { SK_QBIT, "Port", T_INT, Q_OFF(port), 1, 65535, 0 },
	[K_USERNAME] = { SK_QBIT, "UserName", T_STR,
	    Q_OFF(username), NOLIMIT, KF_OPTIONAL },
	[K_PASSWORD] = { SK_QBIT, "Password", T_STR,
	    Q_OFF(password), NOLIMIT, KF_OPTIONAL | KF_SECRET },
	[K_PASSWORD_FILE] = { SK_QBIT, "PasswordFile", T_STR,
	    Q_OFF(password_file), NOLIMIT, KF_OPTIONAL },
	[K_DISABLED] = { SK_QBIT, "Disabled", T_BOOL,
	    Q_OFF(disabled), NOLIMIT, 0 },
	[K_Q_SKIP_TLS] = { SK_QBIT, "SkipTLSVerify", T_BOOL,
	    Q_OFF(skip_tls_verify), NOLIMIT, 0 },
	[K_PATH_MAPPING] = { SK_QBIT, "PathMapping", T_PATH_MAP,
	    0, NOLIMIT, 0 },
	[K_Q_FREE_SPACE] = { SK_QBIT, "FreeSpace", T_SIZE,
	    Q_OFF(free_space), NOLIMIT, 0 },
	[K_Q_MAX_DELETIONS] = { SK_QBIT, "MaxDeletionsPerRun", T_INT,
	    Q_OFF(max_deletions), -1, INT_MAX, 0 },

	[K_URI] = { SK_ARR, "URI", T_STR, A_OFF(uri), NOLIMIT, KF_OPTIONAL },
	[K_APIKEY] = { SK_ARR, "APIKey", T_STR,
	    A_OFF(api_key), NOLIMIT, KF_OPTIONAL | KF_SECRET },
	[K_APIKEY_FILE] = { SK_ARR, "APIKeyFile", T_STR,
	    A_OFF(api_key_file), NOLIMIT, KF_OPTIONAL },
	[K_CATEGORY] = { SK_ARR, "Category", T_STR,
	    A_OFF(category), NOLIMIT, KF_NONEMPTY },
	[K_MANAGED] = { SK_ARR, "Managed", T_BOOL, A_OFF(managed), NOLIMIT, 0 },
	[K_RESEARCH] = { SK_ARR, "ReSearch", T_BOOL,
	    A_OFF(research), NOLIMIT, 0 },
	[K_IMPORT_MODE] = { SK_ARR, "importMode", T_IMPORT_MODE,
	    A_OFF(import_mode), NOLIMIT, 0 },
	[K_A_SKIP_TLS] = { SK_ARR, "SkipTLSVerify", T_BOOL,
	    A_OFF(skip_tls_verify), NOLIMIT, 0 },
	[K_VERIFY_IMPORT] = { SK_ARR, "VerifyImport", T_BOOL,
	    A_OFF(verify_import), NOLIMIT, 0 },
	[K_ERROR_CODES] = { SK_ARR, "ArrErrorCodesToBlocklist", T_LIST,
	    A_OFF(error_codes_to_blocklist), NOLIMIT, 0 },
	[K_MATCH_SUBCATS] = { SK_ARR, "MatchSubcategories", T_BOOL,
	    A_OFF(match_subcategories), NOLIMIT, 0 },

	[K_CASE_SENSITIVE] = { SK_TORRENT, "CaseSensitiveMatches", T_BOOL,
	    A_OFF(torrent.case_sensitive), NOLIMIT, 0 },
	[K_FOLDER_RE] = { SK_TORRENT, "FolderExclusionRegex", T_REGEX,
	    A_OFF(torrent.folder_exclusion), NOLIMIT, 0 },
	[K_FILENAME_RE] = { SK_TORRENT, "FileNameExclusionRegex", T_REGEX,
	    A_OFF(torrent.filename_exclusion), NOLIMIT, 0 },
	[K_EXT_ALLOW] = { SK_TORRENT, "FileExtensionAllowlist", T_REGEX,
	    A_OFF(torrent.extension_allowlist), NOLIMIT, 0 },
	[K_T_IGNORE_YOUNGER] = { SK_TORRENT, "IgnoreTorrentsYoungerThan", T_DURATION,
	    A_OFF(torrent.ignore_younger_than), -1, INT64_MAX, 0 },
	[K_MAX_ETA] = { SK_TORRENT, "MaximumETA", T_DURATION,
	    A_OFF(torrent.maximum_eta), -1, INT64_MAX, 0 },
	[K_MAX_DELETABLE] = { SK_TORRENT, "MaximumDeletablePercentage", T_FRACTION,
	    A_OFF(torrent.max_deletable_pct), NOLIMIT, 0 },
	[K_NOT_REMOVE_SLOW] = { SK_TORRENT, "DoNotRemoveSlow", T_BOOL,
	    A_OFF(torrent.do_not_remove_slow), NOLIMIT, 0 },
	[K_STALLED_DELAY] = { SK_TORRENT, "StalledDelay", T_DURATION,
	    A_OFF(torrent.stalled_delay), -1, INT64_MAX / 60, KF_MINUTES },
	[K_RESEARCH_STALLED] = { SK_TORRENT, "ReSearchStalled", T_BOOL,
	    A_OFF(torrent.research_stalled), NOLIMIT, 0 },
	[K_REMOVE_UNREG] = { SK_TORRENT, "RemoveUnregistered", T_BOOL,
	    A_OFF(torrent.remove_unregistered), NOLIMIT, 0 },
	[K_UNREG_MSGS] = { SK_TORRENT, "UnregisteredMessages", T_LIST,
	    A_OFF(torrent.unregistered_messages), NOLIMIT, 0 },

	[K_DL_LIMIT] = { SK_SEEDING, "DownloadRateLimitPerTorrent", T_I64,
	    A_OFF(torrent.seeding.download_limit), -1, INT_MAX, 0 },
	[K_UL_LIMIT] = { SK_SEEDING, "UploadRateLimitPerTorrent", T_I64,
	    A_OFF(torrent.seeding.upload_limit), -1, INT_MAX, 0 },
	[K_MAX_RATIO] = { SK_SEEDING, "MaxUploadRatio", T_DOUBLE,
	    A_OFF(torrent.seeding.max_ratio), NOLIMIT, 0 },
	[K_MAX_SEED_TIME] = { SK_SEEDING, "MaxSeedingTime", T_DURATION,
	    A_OFF(torrent.seeding.max_seeding_time), -1, INT64_MAX, 0 },
	[K_REMOVE_TORRENT] = { SK_SEEDING, "RemoveTorrent", T_REMOVE,
	    A_OFF(torrent.seeding.remove_torrent), NOLIMIT, 0 },

	[K_TR_NAME] = { SK_TRACKER, "Name", T_STR, TR_OFF(name), NOLIMIT,
	    KF_OPTIONAL },
	[K_TR_URI] = { SK_TRACKER, "URI", T_STR, TR_OFF(uri), NOLIMIT,
	    KF_OPTIONAL },
	[K_TR_PRIORITY] = { SK_TRACKER, "Priority", T_I64, TR_OFF(priority),
	    INT32_MIN, INT32_MAX, 0 },
	[K_TR_MAX_ETA] = { SK_TRACKER, "MaximumETA", T_DURATION,
	    TR_OFF(maximum_eta), -1, INT64_MAX, 0 },
	[K_TR_DL_LIMIT] = { SK_TRACKER, "DownloadRateLimit", T_I64,
	    TR_OFF(dl_limit), -1, INT_MAX, 0 },
	[K_TR_UL_LIMIT] = { SK_TRACKER, "UploadRateLimit", T_I64,
	    TR_OFF(up_limit), -1, INT_MAX, 0 },
	[K_TR_MAX_RATIO] = { SK_TRACKER, "MaxUploadRatio", T_DOUBLE,
	    TR_OFF(max_ratio), NOLIMIT, 0 },
	[K_TR_MAX_SEED_TIME] = { SK_TRACKER, "MaxSeedingTime", T_DURATION,
	    TR_OFF(max_seeding_time), -1, INT64_MAX, 0 },
	[K_TR_REMOVE] = { SK_TRACKER, "RemoveIfExists", T_BOOL,
	    TR_OFF(remove_if_exists), NOLIMIT, 0 },
	[K_TR_HNR] = { SK_TRACKER, "HitAndRunMode", T_HNR, TR_OFF(hnr), NOLIMIT,
	    0 },
	[K_TR_SUPER_SEED] = { SK_TRACKER, "SuperSeedMode", T_BOOL,
	    TR_OFF(super_seed), NOLIMIT, 0 },
	[K_TR_MIN_RATIO] = { SK_TRACKER, "MinSeedRatio", T_DOUBLE,
	    TR_OFF(hnr_min_ratio), NOLIMIT, 0 },
	[K_TR_MIN_DAYS] = { SK_TRACKER, "MinSeedingTimeDays", T_DOUBLE,
	    TR_OFF(hnr_min_days), NOLIMIT, 0 },
	[K_TR_MIN_DL_PCT] = { SK_TRACKER, "HitAndRunMinimumDownloadPercent",
	    T_DOUBLE, TR_OFF(hnr_min_dl_pct), NOLIMIT, 0 },
	[K_TR_PARTIAL_RATIO] = { SK_TRACKER, "HitAndRunPartialSeedRatio",
	    T_DOUBLE, TR_OFF(hnr_partial_ratio), NOLIMIT, 0 },
	[K_TR_BUFFER] = { SK_TRACKER, "TrackerUpdateBuffer", T_DURATION,
	    TR_OFF(hnr_buffer), 0, INT64_MAX, 0 },
};

/*
 * Keys and sections of the original qBitrr that qbitrr-sweep does not use.
 * They are accepted (an info message, not a warning) so that a qBitrr
 * config file loads as it is.  A row names either a key of a kind of
 * section (a trailing '*' in key matches any rest) or, with key NULL, whole
 * sections by an fnmatch(3) pattern.
 */
static const struct unused {
	enum skind	 kind;
	const char	*key;
	const char	*section;
} unused[] = {
	{ SK_SETTINGS, "ConsoleLevel", NULL },
	{ SK_SETTINGS, "Logging", NULL },
	{ SK_SETTINGS, "LoopSleepTimer", NULL },
	{ SK_SETTINGS, "CompletedDownloadFolder", NULL },
	{ SK_SETTINGS, "FreeSpaceFolder", NULL },
	{ SK_SETTINGS, "NoInternetSleepTimer", NULL },
	{ SK_SETTINGS, "SearchLoopDelay", NULL },
	{ SK_SETTINGS, "Tagless", NULL },
	{ SK_SETTINGS, "PingURLS", NULL },
	{ SK_SETTINGS, "FFprobeAutoUpdate", NULL },
	{ SK_SETTINGS, "AutoUpdate*", NULL },
	{ SK_SETTINGS, "AutoRestartProcesses", NULL },
	{ SK_SETTINGS, "MaxProcessRestarts", NULL },
	{ SK_SETTINGS, "ProcessRestart*", NULL },
	{ SK_SETTINGS, "ConfigVersion", NULL },
	{ SK_SETTINGS, "WebUI*", NULL },	/* qBitrr 5.0-5.1 */
	{ SK_QBIT, "ManagedCategories", NULL },
	{ SK_QBIT, "MatchSubcategories", NULL },
	{ SK_QBIT, "Trackers", NULL },
	{ SK_QBIT, "v5", NULL },		/* qBitrr 4.10: qBittorrent 5 switch */
	{ SK_ARR, "RssSyncTimer", NULL },
	{ SK_ARR, "RefreshDownloadsTimer", NULL },
	{ SK_TORRENT, "AutoDelete", NULL },
	{ SK_TORRENT, "Trackers", NULL },
	{ SK_SEEDING, "RemoveDeadTrackers", NULL },
	{ SK_SEEDING, "RemoveTrackerWithMessage", NULL },
	{ SK_TRACKER, "SortTorrents", NULL },
	{ SK_TRACKER, "AddTrackerIfMissing", NULL },
	{ SK_TRACKER, "AddTags", NULL },
	{ SK_NONE, NULL, "WebUI" },
	{ SK_NONE, NULL, "WebUI.*" },
	{ SK_NONE, NULL, "*.EntrySearch" },
	{ SK_NONE, NULL, "*.EntrySearch.*" },
	{ SK_NONE, NULL, "qBit*.CategorySeeding" },
	{ SK_NONE, NULL, "qBit*.CategorySeeding.*" },
	{ SK_NONE, NULL, "*.Trackers" },
	{ SK_NONE, NULL, "[*" },	/* TOML [[array.of.tables]] */
	{ SK_NONE, NULL, "Readarr" },
	{ SK_NONE, NULL, "Readarr-*" },
	{ SK_NONE, NULL, "Readarr.*" },
};

static const char *const arr_prefix[] = {
	[ARR_RADARR] = "Radarr", [ARR_SONARR] = "Sonarr", [ARR_LIDARR] = "Lidarr"
};


/* Interpreting: sections. */

/* Does name match the key of a table row ("Foo*" matches any "Foo...")? */
static bool
key_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncasecmp(pattern, name, n - 1) == 0;
	return strcasecmp(pattern, name) == 0;
}

static bool
section_unused(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(unused); i++)
		if (unused[i].key == NULL &&
		    fnmatch(unused[i].section, name, 0) == 0)
			return true;
	return false;
}

static bool
key_unused(enum skind kind, const char *key)
{
	size_t i;

	for (i = 0; i < NELEM(unused); i++)
		if (unused[i].key != NULL && unused[i].kind == kind &&
		    key_matches(unused[i].key, key))
			return true;
	return false;
}

/*
 * Is base (a section name up to its first '.') the prefix itself or
 * "prefix-NAME"?  1 yes, 0 no, -1 "prefix-" with an empty NAME.
 */
static int
prefixed(const char *base, size_t blen, const char *prefix)
{
	size_t n = strlen(prefix);

	if (blen < n || strncmp(base, prefix, n) != 0)
		return 0;
	if (blen == n)
		return 1;
	if (base[n] != '-')
		return 0;
	return blen > n + 1 ? 1 : -1;
}

/*
 * [[qBit.Trackers]] or [[<Arr>.Torrent.Trackers]] of a Radarr, Sonarr or
 * Lidarr section.  qBitrr reads the trackers of the bare [qBit] only.
 */
static bool
tracker_table(const char *name)
{
	static const char suffix[] = ".Torrent.Trackers";
	size_t n = strlen(name), k = sizeof(suffix) - 1, i;
	const char *dot = strchr(name, '.');

	if (strcmp(name, "qBit.Trackers") == 0)
		return true;
	if (n <= k || strcmp(name + n - k, suffix) != 0 || dot != name + n - k)
		return false;
	for (i = 0; i < NELEM(arr_prefix); i++)
		if (prefixed(name, n - k, arr_prefix[i]) == 1)
			return true;
	return false;
}

/* Classify header h; report unknown and badly named sections. */
static void
header_classify(struct parser *p, struct header *h, enum arr_kind *ak)
{
	static const char *const known[] = {
		"Settings", "qBit", "Radarr", "Sonarr", "Lidarr"
	};
	const char *dot = strchr(h->name, '.');
	size_t blen = dot ? (size_t)(dot - h->name) : strlen(h->name);
	size_t i;
	int r;

	if (strcmp(h->name, "Settings") == 0) {
		h->kind = SK_SETTINGS;
		return;
	}
	if (strncmp(h->name, "QBit", 4) == 0 && (h->name[4] == '\0' ||
	    h->name[4] == '.')) {
		/* qBitrr 3.2 and older spelled it [QBit]. */
		char *renamed = xasprintf("qBit%s", h->name + 4);

		config_pinfo(p, h->line, "[%s]: read as [%s] (qBitrr 3.2 spelling)",
		    h->name, renamed);
		free(h->name);
		h->name = renamed;
		dot = strchr(h->name, '.');
	}
	if (h->array && tracker_table(h->name)) {
		h->kind = SK_TRACKER;
		return;
	}
	if (section_unused(h->name)) {
		h->kind = SK_UNUSED;
		config_pinfo(p, h->line, "[%s]: not used by qbitrr-sweep, ignored",
		    h->name);
		return;
	}
	if ((r = prefixed(h->name, blen, "qBit")) != 0 && dot == NULL) {
		if (r < 0) {
			config_perr(p, h->line, "[%s]: empty instance name", h->name);
			h->kind = SK_BAD;
		} else
			h->kind = SK_QBIT;
		return;
	}
	for (i = 0; i < NELEM(arr_prefix); i++) {
		if ((r = prefixed(h->name, blen, arr_prefix[i])) == 0)
			continue;
		*ak = (enum arr_kind)i;
		if (r < 0) {
			config_perr(p, h->line, "[%s]: empty %s name", h->name,
			    arr_prefix[i]);
			h->kind = SK_BAD;
			return;
		}
		if (dot == NULL) {
			h->kind = SK_ARR;
			return;
		}
		if (strcmp(dot, ".Torrent") == 0) {
			h->kind = SK_TORRENT;
			return;
		}
		if (strcmp(dot, ".Torrent.SeedingMode") == 0) {
			h->kind = SK_SEEDING;
			return;
		}
		break;
	}
	h->kind = SK_UNKNOWN;
	for (i = 0; i < NELEM(known); i++) {
		if (strncasecmp(h->name, known[i], strlen(known[i])) == 0 &&
		    strncmp(h->name, known[i], strlen(known[i])) != 0) {
			config_pwarn(p, h->line, "[%s]: unknown section (section "
			    "names are case-sensitive: %s)", h->name, known[i]);
			return;
		}
	}
	config_pwarn(p, h->line, "[%s]: unknown section", h->name);
}

static void
tracker_defaults(struct tracker_config *t, const struct header *h)
{
	memset(t, 0, sizeof(*t));
	t->maximum_eta = -1;
	t->max_ratio = -1;
	t->max_seeding_time = -1;
	t->dl_limit = TRACKER_UNSET;
	t->up_limit = TRACKER_UNSET;
	t->hnr = HNR_DISABLED;
	t->hnr_min_ratio = 1.0;
	t->hnr_min_dl_pct = 10;
	t->hnr_partial_ratio = 1.0;
	t->line = h->line;
}

void
config_tracker_free(struct tracker_config *t)
{
	free(t->name);
	free(t->uri);
	free(t->host);
}

void
config_tracker_copy(struct tracker_config *dst, const struct tracker_config *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->uri = src->uri ? xstrdup(src->uri) : NULL;
	dst->host = src->host ? xstrdup(src->host) : NULL;
}

void
config_settings_defaults(struct settings *s)
{
	s->failed_category = xstrdup("failed");
	s->recheck_category = xstrdup("recheck");
	s->ignore_younger_than = 180;
	s->http_timeout = 30;
	s->import_delay = 60;
	s->free_space = -1;
	s->max_deletions = 50;
	/* ~60,000 torrents of qBittorrent's torrents/info, and well under 256 MB of memory. */
	s->max_response = INT64_C(64) << 20;
	/* Sized for a busy year: 5 x 10,000 torrents, 5 % new a day, < 50 MB (README). */
	s->history_days = 30;
	s->gone_row_days = 7;
	s->auto_pause_resume = true;
}

static void
instance_defaults(struct instance_config *ic, const struct header *h)
{
	ic->name = xstrdup(h->name);
	ic->port = 8080;
	ic->free_space = -1;
	ic->max_deletions = -1;
	ic->line = h->line;
}

static void
arr_defaults(struct arr_config *ac, const struct header *h, enum arr_kind kind)
{
	struct torrent_config *t = &ac->torrent;

	ac->name = xstrdup(h->name);
	ac->kind = kind;
	ac->managed = true;
	ac->research = false;
	ac->import_mode = xstrdup("Auto");
	ac->line = h->line;
	/*
	 * Absent keys mean what they mean to qBitrr (its code's fallbacks,
	 * not its generated template): no file filters, no import error
	 * list, no re-search, MaximumETA one day, slow ones removed.
	 */
	t->ignore_younger_than = -1;
	t->maximum_eta = 86400;
	t->max_deletable_pct = 0.95;
	t->do_not_remove_slow = false;
	t->stalled_delay = 15;
	t->seeding.download_limit = -1;
	t->seeding.upload_limit = -1;
	t->seeding.max_ratio = -1;
	t->seeding.max_seeding_time = -1;
	t->seeding.remove_torrent = -1;
}

/* Classify every header and create the instances and Arrs they name. */
void
config_build_sections(struct parser *p, struct config *cfg)
{
	enum arr_kind *kinds;
	size_t i, j, nq = 0, na = 0;

	kinds = xcalloc(p->n_hdrs, sizeof(*kinds));
	for (i = 0; i < p->n_hdrs; i++) {
		if (p->hdrs[i].dup) {
			p->hdrs[i].kind = SK_BAD;
			continue;
		}
		header_classify(p, &p->hdrs[i], &kinds[i]);
		for (j = 0; j < i && p->hdrs[i].kind == SK_QBIT; j++)
			if (p->hdrs[j].kind == SK_QBIT &&
			    strcmp(p->hdrs[j].name, p->hdrs[i].name) == 0) {
				config_perr(p, p->hdrs[i].line, "[%s]: duplicate section "
				    "(first at line %d)", p->hdrs[i].name,
				    p->hdrs[j].line);
				p->hdrs[i].kind = SK_BAD;
				p->hdrs[i].dup = true;
			}
		if (p->hdrs[i].kind == SK_QBIT)
			nq++;
		else if (p->hdrs[i].kind == SK_ARR)
			na++;
	}
	cfg->instances = xcalloc(nq, sizeof(*cfg->instances));
	cfg->arrs = xcalloc(na, sizeof(*cfg->arrs));
	p->qstage = xcalloc(nq, sizeof(*p->qstage));
	p->astage = xcalloc(na, sizeof(*p->astage));
	for (i = 0; i < p->n_hdrs; i++)
		if (p->hdrs[i].kind == SK_TRACKER)
			p->n_trackers++;
	p->trackers = xcalloc(p->n_trackers, sizeof(*p->trackers));
	p->tr_owner = xcalloc(p->n_trackers, sizeof(*p->tr_owner));
	p->tstage = xcalloc(p->n_trackers, sizeof(*p->tstage));
	for (i = 0, j = 0; i < p->n_hdrs; i++) {
		struct header *h = &p->hdrs[i];

		if (h->kind == SK_TRACKER) {
			h->obj = j++;
			tracker_defaults(&p->trackers[h->obj], h);
			p->tr_owner[h->obj] = -1;
			continue;
		}
		if (h->kind == SK_QBIT) {
			h->obj = cfg->n_instances++;
			instance_defaults(&cfg->instances[h->obj], h);
		} else if (h->kind == SK_ARR) {
			h->obj = cfg->n_arrs++;
			arr_defaults(&cfg->arrs[h->obj], h, kinds[i]);
		}
	}
	/* Subsections may come before or after their parent. */
	for (i = 0; i < p->n_hdrs; i++) {
		struct header *h = &p->hdrs[i];
		size_t blen;

		if (h->kind != SK_TORRENT && h->kind != SK_SEEDING &&
		    !(h->kind == SK_TRACKER && strncmp(h->name, "qBit.", 5) != 0))
			continue;
		blen = (size_t)(strchr(h->name, '.') - h->name);
		for (j = 0; j < p->n_hdrs; j++)
			if (p->hdrs[j].kind == SK_ARR &&
			    strlen(p->hdrs[j].name) == blen &&
			    strncmp(p->hdrs[j].name, h->name, blen) == 0)
				break;
		if (j == p->n_hdrs) {
			config_perr(p, h->line, "[%s]: no [%.*s] section for it",
			    h->name, (int)blen, h->name);
			h->kind = SK_BAD;
		} else if (h->kind == SK_TRACKER)
			p->tr_owner[h->obj] = (long)p->hdrs[j].obj;
		else
			h->obj = p->hdrs[j].obj;
	}
	free(kinds);
}

/* Interpreting: values. */

/* Report a rejected value, echoing it unless the key holds a secret. */
static void
bad_value(struct parser *p, struct entry *e, const struct keydef *kd,
    const char *v, const char *reason)
{
	char shown[160];

	if (kd->flags & KF_SECRET)
		config_kerr(p, e, "bad value: %s", reason);
	else
		config_kerr(p, e, "\"%s\" %s", log_sanitize(v, shown, sizeof(shown)),
		    reason);
}

static void
range_error(struct parser *p, struct entry *e, const struct keydef *kd,
    const char *v, int64_t min, int64_t max)
{
	char *why;

	if (max == INT64_MAX || (kd->type == T_INT && max == INT_MAX))
		why = xasprintf("is out of range (must be >= %" PRId64 ")", min);
	else
		why = xasprintf("is out of range (%" PRId64 "..%" PRId64 ")",
		    min, max);
	bad_value(p, e, kd, v, why);
	free(why);
}

/* Parse "remote=local" entries into the mappings of ic. */
static void
apply_path_map(struct parser *p, struct entry *e,
    const struct keydef *kd, struct instance_config *ic,
    const struct strlist *l)
{
	size_t i, j, n;
	char *eq;

	for (i = 0; i < ic->n_mappings; i++) {
		free(ic->mappings[i].remote);
		free(ic->mappings[i].local);
	}
	free(ic->mappings);
	ic->mappings = xcalloc(l->n, sizeof(*ic->mappings));
	ic->n_mappings = 0;
	for (i = 0; i < l->n; i++) {
		struct path_mapping *m;

		eq = strchr(l->items[i], '=');
		if (eq == NULL) {
			bad_value(p, e, kd, l->items[i],
			    "has no '=' (expected \"remote=local\")");
			continue;
		}
		m = &ic->mappings[ic->n_mappings];
		m->remote = config_trim_dup(l->items[i], (size_t)(eq - l->items[i]));
		m->local = config_trim_dup(eq + 1, strlen(eq + 1));
		if (*m->remote == '\0' || *m->local == '\0') {
			bad_value(p, e, kd, l->items[i],
			    "needs a path on both sides of '='");
			free(m->remote);
			free(m->local);
			continue;
		}
		/* Trailing slashes carry no meaning, except in "/". */
		for (n = strlen(m->remote); n > 1 && m->remote[n - 1] == '/'; n--)
			m->remote[n - 1] = '\0';
		for (n = strlen(m->local); n > 1 && m->local[n - 1] == '/'; n--)
			m->local[n - 1] = '\0';
		for (j = 0; j < ic->n_mappings; j++)
			if (strcmp(ic->mappings[j].remote, m->remote) == 0)
				break;
		if (j < ic->n_mappings) {
			bad_value(p, e, kd, l->items[i],
			    "maps a remote path that is already mapped");
			free(m->remote);
			free(m->local);
			continue;
		}
		ic->n_mappings++;
	}
}

/* Interpret one entry of a known key into the object at base. */
static void
apply(struct parser *p, struct entry *e, const struct keydef *kd, void *base)
{
	void *field = (char *)base + kd->off;
	struct strlist l = { NULL, 0 };
	const char *why = NULL;
	char *v = NULL;
	int64_t i64;
	double d;
	char *end;
	bool b;

	if (kd->type == T_LIST || kd->type == T_REGEX ||
	    kd->type == T_PATH_MAP) {
		if (config_value_list(e->v, &l, &why) == -1) {
			config_kerr(p, e, "%s", why);
			return;
		}
		switch (kd->type) {
		case T_LIST:
			config_strlist_free(field);
			*(struct strlist *)field = l;
			return;
		case T_REGEX:
			config_regexlist_set(field, l.items, l.n);
			break;
		default:
			apply_path_map(p, e, kd, base, &l);
			break;
		}
		config_strlist_free(&l);
		return;
	}

	if ((v = (char *)config_value_scalar(e->v, &why)) == NULL) {
		config_kerr(p, e, "%s", why);
		return;
	}
	v = xstrdup(v);
	switch (kd->type) {
	case T_STR:
		if (*v == '\0' && (kd->flags & KF_NONEMPTY)) {
			config_kerr(p, e, "must not be empty");
			break;
		}
		free(*(char **)field);
		*(char **)field = NULL;
		if (*v == '\0' && (kd->flags & KF_OPTIONAL))
			break;
		*(char **)field = v;
		v = NULL;
		break;
	case T_BOOL:
		if (config_parse_bool(v, &b) == -1)
			bad_value(p, e, kd, v, "is not a boolean "
			    "(true/false, yes/no, on/off, 1/0)");
		else
			*(bool *)field = b;
		break;
	case T_INT:
	case T_I64:
		if (config_parse_i64(v, &i64) == -1)
			bad_value(p, e, kd, v, "is not a whole number");
		else if (i64 < kd->min || i64 > kd->max)
			range_error(p, e, kd, v, kd->min, kd->max);
		else if (kd->type == T_INT)
			*(int *)field = (int)i64;
		else
			*(int64_t *)field = i64;
		break;
	case T_DURATION:
		if (kd->flags & KF_MINUTES) {
			if (config_parse_duration(v, 60, &i64) == -1)
				bad_value(p, e, kd, v, "is not a duration "
				    "(minutes, or a number with s/m/h/d/w)");
			else if (i64 % 60 != 0)
				bad_value(p, e, kd, v,
				    "is not a whole number of minutes");
			else if (i64 / 60 < kd->min || i64 / 60 > kd->max)
				range_error(p, e, kd, v, kd->min, kd->max);
			else
				*(int64_t *)field = i64 / 60;
			break;
		}
		if (config_parse_duration(v, 1, &i64) == -1)
			bad_value(p, e, kd, v, "is not a duration "
			    "(seconds, or a number with s/m/h/d/w)");
		else if (i64 < kd->min || i64 > kd->max)
			range_error(p, e, kd, v, kd->min, kd->max);
		else
			*(int64_t *)field = i64;
		break;
	case T_SIZE:
		if (config_parse_size(v, &i64) == -1)
			bad_value(p, e, kd, v, "is not a size "
			    "(bytes, or a number with K/M/G/T; -1 off)");
		else if ((kd->min != 0 || kd->max != 0) && (i64 < kd->min || i64 > kd->max))
			range_error(p, e, kd, v, kd->min, kd->max);
		else
			*(int64_t *)field = i64;
		break;
	case T_DOUBLE:
	case T_FRACTION:
		errno = 0;
		d = strtod(v, &end);
		if (*v == '\0' || errno != 0 || *config_skip_space(end) != '\0' ||
		    !isfinite(d))
			bad_value(p, e, kd, v, "is not a number");
		else if (kd->type == T_FRACTION && (d < 0 || d > 1))
			bad_value(p, e, kd, v, "is out of range "
			    "(0..1, where 0.99 means 99%)");
		else
			*(double *)field = d;
		break;
	case T_REMOVE:
		if (config_parse_i64(v, &i64) == -1 || (i64 != -1 &&
		    (i64 < 1 || i64 > 4)))
			bad_value(p, e, kd, v, "is not a removal mode "
			    "(-1 never, 1 ratio, 2 time, 3 either, 4 both)");
		else
			*(int *)field = (int)i64;
		break;
	case T_HNR:
		if (strcasecmp(v, "and") == 0 || strcasecmp(v, "true") == 0)
			*(enum hnr_mode *)field = HNR_AND;
		else if (strcasecmp(v, "or") == 0)
			*(enum hnr_mode *)field = HNR_OR;
		else if (strcasecmp(v, "disabled") == 0 ||
		    strcasecmp(v, "false") == 0)
			*(enum hnr_mode *)field = HNR_DISABLED;
		else
			bad_value(p, e, kd, v, "is not a Hit-and-Run mode "
			    "(and, or, disabled)");
		break;
	case T_IMPORT_MODE: {
		static const char *const modes[] = { "Auto", "Move", "Copy" };
		size_t i;

		for (i = 0; i < NELEM(modes); i++)
			if (strcasecmp(v, modes[i]) == 0)
				break;
		if (i == NELEM(modes) && strcasecmp(v, "Hardlink") == 0) {
			config_pinfo(p, e->line, "[%s] %s: \"Hardlink\" is taken as "
			    "\"Auto\"", config_entry_section(p, e), e->key);
			i = 0;
		}
		if (i == NELEM(modes)) {
			bad_value(p, e, kd, v,
			    "is not an import mode (Auto, Move, Copy)");
			break;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(modes[i]);
		break;
	}
	default:
		break;
	}
	free(v);
}

/* Find the definition of key in a section of kind sect. */
static const struct keydef *
keydef_find(enum skind sect, const char *key, enum keyid *id)
{
	size_t i;

	for (i = 0; i < K__COUNT; i++) {
		if (keydefs[i].sect == sect &&
		    strcasecmp(keydefs[i].name, key) == 0) {
			*id = (enum keyid)i;
			return &keydefs[i];
		}
	}
	return NULL;
}

/* Interpret every entry, in file order. */
void
config_apply_entries(struct parser *p, struct config *cfg)
{
	const struct keydef *kd;
	struct stage *st;
	enum keyid id;
	size_t i;
	void *base;

	for (i = 0; i < p->n_ents; i++) {
		struct entry *e = &p->ents[i];
		struct header *h = e->hdr >= 0 ? &p->hdrs[e->hdr] : NULL;
		enum skind kind = h ? h->kind : SK_NONE;

		if (h != NULL && h->dup)
			continue;
		switch (kind) {
		case SK_NONE:
			config_pwarn(p, e->line, "%s: key outside any section, "
			    "ignored", e->key);
			continue;
		case SK_UNUSED:
		case SK_UNKNOWN:
		case SK_BAD:
			continue;
		case SK_SETTINGS:
			st = &p->settings_stage;
			base = &cfg->settings;
			break;
		case SK_QBIT:
			st = &p->qstage[h->obj];
			base = &cfg->instances[h->obj];
			break;
		case SK_TRACKER:
			st = &p->tstage[h->obj];
			base = &p->trackers[h->obj];
			break;
		default:
			st = &p->astage[h->obj];
			base = &cfg->arrs[h->obj];
			break;
		}
		if ((kd = keydef_find(kind, e->key, &id)) == NULL) {
			if (key_unused(kind, e->key))
				config_pinfo(p, e->line, "[%s] %s: not used by "
				    "qbitrr-sweep, ignored", h->name, e->key);
			else
				config_pwarn(p, e->line, "[%s] %s: unknown key",
				    h->name, e->key);
			continue;
		}
		/* Password, APIKey, and a WebhookURL, which may carry a token. */
		if (keydefs[id].flags & KF_SECRET) {
			if (e->v->text != NULL && *e->v->text != '\0')
				p->has_secret = true;
		}
		if (st->set[id] != NULL) {
			config_kerr(p, e, "duplicate key (first at line %d)",
			    st->set[id]->line);
			continue;
		}
		st->set[id] = e;
		if (e->bad)
			continue;
		apply(p, e, kd, base);
	}
}

/*
 * qBitrr features this tool does not implement, set to a value with which
 * qBitrr would delete or keep something: a warning at the default
 * verbosity, so that nobody moving from qBitrr is surprised.
 */
enum unsup_when { UW_TRUE, UW_LIST, UW_ANY };

static const struct unsupported {
	const char	*section;	/* fnmatch(3) pattern */
	const char	*key;
	enum unsup_when	 when;
	const char	*what;		/* what qBitrr does with it */
} unsupported[] = {
	{ "qBit", "ManagedCategories", UW_LIST, "qBitrr manages these "
	    "categories itself by [qBit.CategorySeeding] (seeding limits, "
	    "removal, Hit-and-Run); here their torrents are left alone" },
	{ "qBit-*", "ManagedCategories", UW_LIST, "qBitrr manages these "
	    "categories itself by the instance's CategorySeeding (seeding "
	    "limits, removal, Hit-and-Run); here their torrents are left alone" },
	{ "*.Torrent", "AutoDelete", UW_TRUE, "qBitrr deletes the files of "
	    "completed downloads that are not playable; not done here" },
	{ "*.Torrent.SeedingMode", "RemoveDeadTrackers", UW_TRUE, "qBitrr "
	    "removes trackers whose message is in RemoveTrackerWithMessage "
	    "from the torrents; not done here" },
	{ "*.EntrySearch", "CustomFormatUnmetSearch", UW_TRUE, "qBitrr "
	    "removes downloads whose custom format score is below the "
	    "existing file's; not done here" },
	{ "Readarr", "Managed", UW_TRUE, "qBitrr manages Readarr's downloads "
	    "(stalled, slow, unwanted files, seeding goals); Readarr is not "
	    "supported here and its torrents are left alone" },
	{ "Readarr-*", "Managed", UW_TRUE, "qBitrr manages Readarr's downloads "
	    "(stalled, slow, unwanted files, seeding goals); Readarr is not "
	    "supported here and its torrents are left alone" },
	{ "*.Trackers", "AddTrackerIfMissing", UW_TRUE, "qBitrr adds this "
	    "tracker to the torrents; not done here" },
	{ "*.Trackers", "RemoveIfExists", UW_TRUE, "qBitrr removes this "
	    "tracker from the torrents; here, as there, its rules do not "
	    "apply, but the tracker stays" },
	{ "*.Trackers", "SuperSeedMode", UW_TRUE, "qBitrr turns super-seeding "
	    "on and never removes such torrents for their seeding goal; here "
	    "they are kept too, but super-seeding is not turned on" },
	{ "qBit-*.Trackers", "URI", UW_ANY, "qBitrr applies the trackers of "
	    "[qBit] only; this one is ignored, there and here" },
};

static bool
value_true(const struct cr_value *v)
{
	bool b;

	return v->type != CR_ARRAY && v->type != CR_TABLE &&
	    config_parse_bool(v->text, &b) == 0 && b;
}

void
config_warn_unsupported(struct parser *p)
{
	size_t i, k;

	for (i = 0; i < p->n_ents; i++) {
		const struct entry *e = &p->ents[i];
		const struct header *h;
		bool on;

		if (e->hdr < 0 || e->bad || p->hdrs[e->hdr].dup)
			continue;
		h = &p->hdrs[e->hdr];
		/* Inline tracker tables would be dropped: refuse them. */
		if (strcasecmp(e->key, "Trackers") == 0 && e->v->type == CR_ARRAY &&
		    e->v->n > 0 && (h->kind == SK_QBIT || h->kind == SK_TORRENT)) {
			config_kerr(p, (struct entry *)e, "trackers written inline are "
			    "not read; write each as a [[%s.Trackers]] table",
			    h->name);
			continue;
		}
		for (k = 0; k < NELEM(unsupported); k++) {
			const struct unsupported *u = &unsupported[k];

			if (strcasecmp(u->key, e->key) != 0 ||
			    fnmatch(u->section, h->name, 0) != 0)
				continue;
			on = u->when == UW_ANY ||
			    (u->when == UW_TRUE && value_true(e->v)) ||
			    (u->when == UW_LIST && e->v->type == CR_ARRAY &&
			    e->v->n > 0);
			if (on)
				config_pwarn(p, e->line, "[%s] %s: %s", h->name, e->key,
				    u->what);
			break;
		}
	}
}

const char *
config_arr_kind_name(enum arr_kind kind)
{
	if ((size_t)kind < NELEM(arr_prefix))
		return arr_prefix[kind];
	return "Arr";
}
