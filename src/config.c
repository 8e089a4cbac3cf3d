/*
 * config: load qbitrr.ini (see config.h and qbitrr.ini.sample).
 *
 * Loading takes two passes.  First config_read splits the file into
 * tables and raw entries (key, value and line), reporting syntax errors;
 * it reads both this tool's INI dialect and the TOML qBitrr writes.  Then every
 * entry is interpreted against one table of known keys, and each section is
 * checked as a whole: Host, secrets files, regular expressions, seeding
 * limits, shared categories.  Every problem is reported as
 * "file:line: [section] key: reason" and loading goes on, so that one run
 * shows all of them.
 */
#include <sys/stat.h>

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

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config.h"
#include "config_read.h"
#include "log.h"
#include "util.h"

#define SECRET_MASK	"********"
#define SECRET_FILE_MAX	65536	/* bytes read from PasswordFile/APIKeyFile */

/* What a section header names. */
enum skind {
	SK_NONE,	/* keys before the first section */
	SK_SETTINGS,
	SK_QBIT,
	SK_ARR,
	SK_TORRENT,	/* <Arr>.Torrent */
	SK_SEEDING,	/* <Arr>.Torrent.SeedingMode */
	SK_TRACKER,	/* [[qBit.Trackers]], [[<Arr>.Torrent.Trackers]] */
	SK_UNUSED,	/* a qBitrr section we do not use: keys ignored */
	SK_UNKNOWN,	/* warned about once; keys ignored */
	SK_BAD		/* an error was reported for the header; keys ignored */
};

/* Every key we know, as an index into keydefs[]. */
enum keyid {
	K_STATE_FILE, K_FAILED_CAT, K_RECHECK_CAT, K_S_IGNORE_YOUNGER,
	K_HTTP_TIMEOUT, K_IMPORT_DELAY, K_S_FREE_SPACE, K_S_MAX_DELETIONS,
	K_STATUS_PAGE, K_METRICS_FILE, K_NOTIFY_COMMAND, K_WEBHOOK_URL,
	K_MAX_RESPONSE,
	K_HISTORY_DAYS,
	K_GONE_ROW_DAYS,
	K_AUTO_PAUSE_RESUME,

	K_HOST, K_PORT, K_USERNAME, K_PASSWORD, K_PASSWORD_FILE, K_DISABLED,
	K_Q_SKIP_TLS, K_PATH_MAPPING, K_Q_FREE_SPACE, K_Q_MAX_DELETIONS,

	K_URI, K_APIKEY, K_APIKEY_FILE, K_CATEGORY, K_MANAGED, K_RESEARCH,
	K_IMPORT_MODE, K_A_SKIP_TLS, K_VERIFY_IMPORT, K_ERROR_CODES, K_MATCH_SUBCATS,

	K_CASE_SENSITIVE, K_FOLDER_RE, K_FILENAME_RE, K_EXT_ALLOW,
	K_T_IGNORE_YOUNGER, K_MAX_ETA, K_MAX_DELETABLE, K_NOT_REMOVE_SLOW,
	K_STALLED_DELAY, K_RESEARCH_STALLED, K_REMOVE_UNREG, K_UNREG_MSGS,

	K_DL_LIMIT, K_UL_LIMIT, K_MAX_RATIO, K_MAX_SEED_TIME, K_REMOVE_TORRENT,

	K_TR_NAME, K_TR_URI, K_TR_PRIORITY, K_TR_MAX_ETA, K_TR_DL_LIMIT,
	K_TR_UL_LIMIT, K_TR_MAX_RATIO, K_TR_MAX_SEED_TIME, K_TR_REMOVE,
	K_TR_HNR, K_TR_MIN_RATIO, K_TR_MIN_DAYS, K_TR_MIN_DL_PCT,
	K_TR_PARTIAL_RATIO, K_TR_BUFFER, K_TR_SUPER_SEED,

	K__COUNT
};

/* How a value is read. */
enum vtype {
	T_STR,		/* char * */
	T_BOOL,		/* bool */
	T_INT,		/* int, range min..max */
	T_I64,		/* int64_t, range min..max */
	T_DURATION,	/* int64_t seconds (minutes with KF_MINUTES) */
	T_SIZE,		/* int64_t bytes, -1 off */
	T_DOUBLE,	/* double, any finite value */
	T_FRACTION,	/* double, 0..1 */
	T_REMOVE,	/* int: -1, 1, 2, 3, 4 */
	T_IMPORT_MODE,	/* char *: Auto, Move, Copy */
	T_LIST,		/* struct strlist */
	T_REGEX,	/* struct regexlist, compiled later */
	T_PATH_MAP,	/* instance_config mappings */
	T_HNR		/* enum hnr_mode: and, or, disabled (or a boolean) */
};

#define KF_SECRET	0x01	/* never echo the value */
#define KF_NONEMPTY	0x02	/* an empty string is an error */
#define KF_OPTIONAL	0x04	/* an empty string means unset (NULL) */
#define KF_MINUTES	0x08	/* duration stored in minutes */

struct keydef {
	enum skind	 sect;
	const char	*name;
	enum vtype	 type;
	size_t		 off;	/* into struct settings, instance_config or arr_config */
	int64_t		 min, max;
	unsigned	 flags;
};

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

static const char *const builtin_unregistered[] = {
	"unregistered", "torrent not found", "not registered",
	"not authorized", "infohash not found", "trumped", "nuked",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define N_BUILTIN_UNREG	NELEM(builtin_unregistered)

/* A "[section]" line (or a table a dotted key implies). */
struct header {
	char	*name;
	int	 line;
	bool	 dup;		/* repeats an earlier header: its keys are ignored */
	bool	 array;		/* one [[name]] */
	enum skind kind;
	size_t	 obj;		/* index into instances or arrs */
};

/* One "key = value", as read. */
struct entry {
	int	 hdr;		/* index into headers; -1 before any section */
	char	*key;
	const struct cr_value *v;	/* owned by the parser's file */
	int	 line;
	bool	 bad;		/* already reported while reading: not interpreted */
	bool	 failed;	/* the value was rejected */
};

/* Which entry set each key of one section object. */
struct stage {
	struct entry *set[K__COUNT];
};

struct parser {
	const char *path;
	FILE	*fp;
	int	 errors;
	bool	 has_secret;

	struct cr_file file;
	struct header *hdrs;
	size_t	 n_hdrs;
	struct entry *ents;
	size_t	 n_ents;

	struct config *cfg;
	struct stage settings_stage;
	struct stage *qstage;	/* per instance */
	struct stage *astage;	/* per Arr */

	/* Tracker tables as read; merged into each Arr at the end. */
	struct tracker_config *trackers;
	long	*tr_owner;	/* Arr index, or -1 for [[qBit.Trackers]] */
	struct stage *tstage;
	size_t	 n_trackers;
};

/* Messages. */

static void report(struct parser *, enum log_level, int, const char *, va_list)
	    __attribute__((format(printf, 4, 0)));
static void perr(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
static void pwarn(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
static void pinfo(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
static void kerr(struct parser *, struct entry *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
static void herr(struct parser *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

/* Emit "path:line: message" (line 0: "path: message") at level lvl. */
static void
report(struct parser *p, enum log_level lvl, int line, const char *fmt,
    va_list ap)
{
	va_list aq;
	char *msg;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	switch (lvl) {
	case LOG_ERROR:
		p->errors++;
		if (line > 0)
			log_error("%s:%d: %s", p->path, line, msg);
		else
			log_error("%s: %s", p->path, msg);
		break;
	case LOG_WARN:
		if (line > 0)
			log_warn("%s:%d: %s", p->path, line, msg);
		else
			log_warn("%s: %s", p->path, msg);
		break;
	default:
		if (line > 0)
			log_info("%s:%d: %s", p->path, line, msg);
		else
			log_info("%s: %s", p->path, msg);
		break;
	}
	free(msg);
}

static void
perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_ERROR, line, fmt, ap);
	va_end(ap);
}

static void
pwarn(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_WARN, line, fmt, ap);
	va_end(ap);
}

static void
pinfo(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_INFO, line, fmt, ap);
	va_end(ap);
}

/* Name of the section an entry belongs to, "" before any section. */
static const char *
entry_section(const struct parser *p, const struct entry *e)
{
	return e->hdr < 0 ? "" : p->hdrs[e->hdr].name;
}

/* "path:line: [section] key: message" for an entry; marks it failed. */
static void
kerr(struct parser *p, struct entry *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	e->failed = true;
	perr(p, e->line, "[%s] %s: %s", entry_section(p, e), e->key, msg);
	free(msg);
}

/* "path:line: [section] key: message" for a key that has no entry. */
static void
herr(struct parser *p, int hdr, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	perr(p, p->hdrs[hdr].line, "[%s] %s: %s", p->hdrs[hdr].name, key, msg);
	free(msg);
}

/* Small string and list helpers. */

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

static const char *
skip_space(const char *s)
{
	while (is_space((unsigned char)*s))
		s++;
	return s;
}

/* Copy s without leading and trailing white space. */
static char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void
strlist_add(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = xstrdup(s);
}

static void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void
strlist_set(struct strlist *l, const char *const *v, size_t n)
{
	size_t i;

	strlist_free(l);
	for (i = 0; i < n; i++)
		strlist_add(l, v[i]);
}

void
config_regexlist_free(struct regexlist *rl)
{
	size_t i;

	if (rl->compiled != NULL)
		for (i = 0; i < rl->n; i++)
			pcre2_code_free(rl->compiled[i]);
	for (i = 0; i < rl->n; i++)
		free(rl->patterns[i]);
	free(rl->patterns);
	free(rl->compiled);
	memset(rl, 0, sizeof(*rl));
}

/* Replace the patterns of rl (not yet compiled) by the n strings of v. */
static void
regexlist_set(struct regexlist *rl, char *const *v, size_t n)
{
	size_t i;

	config_regexlist_free(rl);
	rl->patterns = xcalloc(n, sizeof(*rl->patterns));
	for (i = 0; i < n; i++)
		rl->patterns[i] = xstrdup(v[i]);
	rl->n = n;
}

/*
 * Values, as the reader gave them: a scalar (bare or quoted) or a list of
 * scalars.  An empty bare value ("Key =") is an empty list.
 */

/* The text of a scalar value; NULL and *why for a list or table. */
static const char *
value_scalar(const struct cr_value *v, const char **why)
{
	if (v->type == CR_ARRAY && v->raw != NULL && v->n == 1 &&
	    v->items[0].type == CR_BARE)
		return v->raw;	/* INI: Host = [::1] */
	if (v->type == CR_ARRAY) {
		*why = "expected a single value, not a list";
		return NULL;
	}
	if (v->type == CR_TABLE) {
		*why = "expected a single value, not a table";
		return NULL;
	}
	return v->text;
}

/* A list value into out (emptied first); -1 and *why on error. */
static int
value_list(const struct cr_value *v, struct strlist *out, const char **why)
{
	size_t i;

	strlist_free(out);
	if (v->type == CR_BARE && *v->text == '\0')
		return 0;
	if (v->type != CR_ARRAY) {
		*why = "expected a list like [\"a\", \"b\"]";
		return -1;
	}
	for (i = 0; i < v->n; i++) {
		if (v->items[i].type == CR_ARRAY || v->items[i].type == CR_TABLE) {
			*why = "nested lists are not supported";
			strlist_free(out);
			return -1;
		}
		strlist_add(out, v->items[i].text);
	}
	return 0;
}

/* Parse a decimal integer with optional sign and white space. */
static int
parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	s = skip_space(s);
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *skip_space(end) != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
config_parse_duration(const char *s, int64_t unit_s, int64_t *out)
{
	bool neg = false;
	int64_t n = 0, mult;

	if (s == NULL || unit_s <= 0)
		return -1;
	s = skip_space(s);
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	s = skip_space(s);
	switch (*s) {
	case '\0':
		mult = unit_s;
		break;
	case 's': case 'S':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'M':		/* qBitrr: a month of 30 days */
		mult = 30 * 86400;
		break;
	case 'h': case 'H':
		mult = 3600;
		break;
	case 'd': case 'D':
		mult = 86400;
		break;
	case 'w': case 'W':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*s != '\0')
		s++;
	if (*skip_space(s) != '\0')
		return -1;
	if (n > INT64_MAX / mult)
		return -1;
	*out = neg ? -(n * mult) : n * mult;
	return 0;
}

int
config_parse_size(const char *s, int64_t *out)
{
	int64_t n = 0, mult = 1, frac = 0, fscale = 1;
	int fdigits = 0;

	if (s == NULL)
		return -1;
	s = skip_space(s);
	if (s[0] == '-' && s[1] == '1' && *skip_space(s + 2) == '\0') {
		*out = -1;
		return 0;
	}
	if (*s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (*s == '.') {
		/* qBitrr takes "1.5G": a decimal fraction of the unit. */
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++)
			if (fdigits < 9) {
				frac = frac * 10 + (*s - '0');
				fscale *= 10;
				fdigits++;
			}
	}
	s = skip_space(s);
	switch (*s) {
	case 'k': case 'K':
		mult = INT64_C(1) << 10;
		break;
	case 'm': case 'M':
		mult = INT64_C(1) << 20;
		break;
	case 'g': case 'G':
		mult = INT64_C(1) << 30;
		break;
	case 't': case 'T':
		mult = INT64_C(1) << 40;
		break;
	default:
		break;
	}
	if (mult != 1) {
		s++;
		if (*s == 'i')
			s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*skip_space(s) != '\0')
		return -1;
	if (n > INT64_MAX / mult - 1)
		return -1;
	*out = n * mult + (int64_t)((double)frac / (double)fscale * (double)mult);
	return 0;
}

int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

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

		pinfo(p, h->line, "[%s]: read as [%s] (qBitrr 3.2 spelling)",
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
		pinfo(p, h->line, "[%s]: not used by qbitrr-sweep, ignored",
		    h->name);
		return;
	}
	if ((r = prefixed(h->name, blen, "qBit")) != 0 && dot == NULL) {
		if (r < 0) {
			perr(p, h->line, "[%s]: empty instance name", h->name);
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
			perr(p, h->line, "[%s]: empty %s name", h->name,
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
			pwarn(p, h->line, "[%s]: unknown section (section "
			    "names are case-sensitive: %s)", h->name, known[i]);
			return;
		}
	}
	pwarn(p, h->line, "[%s]: unknown section", h->name);
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

static void
tracker_free(struct tracker_config *t)
{
	free(t->name);
	free(t->uri);
	free(t->host);
}

static void
tracker_copy(struct tracker_config *dst, const struct tracker_config *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->uri = src->uri ? xstrdup(src->uri) : NULL;
	dst->host = src->host ? xstrdup(src->host) : NULL;
}

static void
settings_defaults(struct settings *s)
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
	s->history_days = 90;
	s->gone_row_days = 30;
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
static void
build_sections(struct parser *p, struct config *cfg)
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
				perr(p, p->hdrs[i].line, "[%s]: duplicate section "
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
			perr(p, h->line, "[%s]: no [%.*s] section for it",
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
		kerr(p, e, "bad value: %s", reason);
	else
		kerr(p, e, "\"%s\" %s", log_sanitize(v, shown, sizeof(shown)),
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
		m->remote = trim_dup(l->items[i], (size_t)(eq - l->items[i]));
		m->local = trim_dup(eq + 1, strlen(eq + 1));
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
		if (value_list(e->v, &l, &why) == -1) {
			kerr(p, e, "%s", why);
			return;
		}
		switch (kd->type) {
		case T_LIST:
			strlist_free(field);
			*(struct strlist *)field = l;
			return;
		case T_REGEX:
			regexlist_set(field, l.items, l.n);
			break;
		default:
			apply_path_map(p, e, kd, base, &l);
			break;
		}
		strlist_free(&l);
		return;
	}

	if ((v = (char *)value_scalar(e->v, &why)) == NULL) {
		kerr(p, e, "%s", why);
		return;
	}
	v = xstrdup(v);
	switch (kd->type) {
	case T_STR:
		if (*v == '\0' && (kd->flags & KF_NONEMPTY)) {
			kerr(p, e, "must not be empty");
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
		if (parse_i64(v, &i64) == -1)
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
		if (*v == '\0' || errno != 0 || *skip_space(end) != '\0' ||
		    !isfinite(d))
			bad_value(p, e, kd, v, "is not a number");
		else if (kd->type == T_FRACTION && (d < 0 || d > 1))
			bad_value(p, e, kd, v, "is out of range "
			    "(0..1, where 0.99 means 99%)");
		else
			*(double *)field = d;
		break;
	case T_REMOVE:
		if (parse_i64(v, &i64) == -1 || (i64 != -1 &&
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
			pinfo(p, e->line, "[%s] %s: \"Hardlink\" is taken as "
			    "\"Auto\"", entry_section(p, e), e->key);
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
static void
apply_entries(struct parser *p, struct config *cfg)
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
			pwarn(p, e->line, "%s: key outside any section, "
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
				pinfo(p, e->line, "[%s] %s: not used by "
				    "qbitrr-sweep, ignored", h->name, e->key);
			else
				pwarn(p, e->line, "[%s] %s: unknown key",
				    h->name, e->key);
			continue;
		}
		/* Password, APIKey, and a WebhookURL, which may carry a token. */
		if (keydefs[id].flags & KF_SECRET) {
			if (e->v->text != NULL && *e->v->text != '\0')
				p->has_secret = true;
		}
		if (st->set[id] != NULL) {
			kerr(p, e, "duplicate key (first at line %d)",
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

static void
warn_unsupported(struct parser *p)
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
			kerr(p, (struct entry *)e, "trackers written inline are "
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
				pwarn(p, e->line, "[%s] %s: %s", h->name, e->key,
				    u->what);
			break;
		}
	}
}

/* Interpreting: whole sections. */

/* Resolve a secret file path against the config file's folder. */
static char *
resolve_path(const char *cfgpath, const char *path)
{
	const char *slash = strrchr(cfgpath, '/');

	if (path[0] == '/' || slash == NULL)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - cfgpath), cfgpath, path);
}

/*
 * Read a PasswordFile or APIKeyFile: its content less one trailing
 * newline.  NULL after reporting an error.
 */
static char *
read_secret_file(struct parser *p, struct entry *e, const char *path)
{
	char *full = resolve_path(p->path, path), *data = NULL;
	struct stat sb;
	size_t n;
	FILE *fp;

	if ((fp = fopen(full, "r")) == NULL) {
		kerr(p, e, "cannot read %s: %s", full, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & 044) != 0)
		pwarn(p, e->line, "%s holds a secret but is readable by "
		    "group/others (chmod 600 %s)", full, full);
	data = xmalloc(SECRET_FILE_MAX + 1);
	n = fread(data, 1, SECRET_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		kerr(p, e, "cannot read %s: %s", full, strerror(errno));
		goto fail;
	}
	if (n > SECRET_FILE_MAX) {
		kerr(p, e, "%s is larger than %d bytes", full, SECRET_FILE_MAX);
		goto fail;
	}
	data[n] = '\0';
	if (strlen(data) != n) {
		kerr(p, e, "%s contains a NUL byte", full);
		goto fail;
	}
	if (n > 0 && data[n - 1] == '\n') {
		data[--n] = '\0';
		if (n > 0 && data[n - 1] == '\r')
			data[--n] = '\0';
	}
	goto out;
fail:
	free(data);
	data = NULL;
out:
	if (fp != NULL)
		fclose(fp);
	free(full);
	return data;
}

/* The parts of "scheme://host[:port][/path]". */
struct url {
	char	*scheme;	/* lower case */
	char	*host;		/* IPv6 in brackets */
	int	 port;		/* 0: none given */
	char	*path;		/* "" or "/base", no trailing '/' */
};

static void
url_free(struct url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

/*
 * Split s; a bare host (no "scheme://") is taken as http.  Returns 0, or
 * -1 with *why set (a static string or one stored in *whybuf).
 */
static int
url_parse(const char *s, struct url *u, const char **why, char **whybuf)
{
	const char *sep, *auth, *aend, *colon = NULL;
	size_t alen, i, ncolon = 0;
	int64_t port;
	char *portstr;

	memset(u, 0, sizeof(*u));
	if ((sep = strstr(s, "://")) != NULL) {
		u->scheme = str_lower(xstrndup(s, (size_t)(sep - s)));
		if (strcmp(u->scheme, "http") != 0 &&
		    strcmp(u->scheme, "https") != 0) {
			*whybuf = xasprintf("unsupported scheme \"%.20s\" "
			    "(use http:// or https://)", u->scheme);
			*why = *whybuf;
			goto fail;
		}
		auth = sep + 3;
	} else {
		u->scheme = xstrdup("http");
		auth = s;
	}
	aend = auth + strcspn(auth, "/?#");
	if (strpbrk(auth, "?#") != NULL) {
		*why = "a query or fragment is not allowed";
		goto fail;
	}
	alen = (size_t)(aend - auth);
	for (i = 0; i < alen; i++) {
		if (auth[i] == '@') {
			*why = "a user name or password in the URL is not "
			    "supported (use UserName and Password)";
			goto fail;
		}
		if (is_space((unsigned char)auth[i]) ||
		    iscntrl((unsigned char)auth[i])) {
			*why = "white space in the host name";
			goto fail;
		}
		if (auth[i] == ':')
			ncolon++;
	}
	if (alen > 0 && auth[0] == '[') {
		const char *rb = memchr(auth, ']', alen);

		if (rb == NULL) {
			*why = "missing ']' after an IPv6 address";
			goto fail;
		}
		u->host = xstrndup(auth, (size_t)(rb - auth) + 1);
		if (rb + 1 < aend) {
			if (rb[1] != ':') {
				*why = "unexpected text after ']'";
				goto fail;
			}
			colon = rb + 1;
		}
	} else if (ncolon > 1 && sep == NULL && *aend == '\0') {
		/* A bare IPv6 address. */
		u->host = xasprintf("[%.*s]", (int)alen, auth);
	} else if (ncolon > 1) {
		*why = "an IPv6 address needs brackets: [address]";
		goto fail;
	} else {
		colon = memchr(auth, ':', alen);
		u->host = xstrndup(auth, colon ? (size_t)(colon - auth) : alen);
	}
	if (*u->host == '\0' || strcmp(u->host, "[]") == 0) {
		*why = "no host name";
		goto fail;
	}
	if (colon != NULL) {
		portstr = xstrndup(colon + 1, (size_t)(aend - colon - 1));
		if (strspn(portstr, "0123456789") != strlen(portstr) ||
		    parse_i64(portstr, &port) == -1 || port < 1 ||
		    port > 65535) {
			free(portstr);
			*why = "bad port in the URL (1-65535)";
			goto fail;
		}
		free(portstr);
		u->port = (int)port;
	}
	u->path = xstrdup(aend);
	for (i = strlen(u->path); i > 0 && u->path[i - 1] == '/'; i--)
		u->path[i - 1] = '\0';
	return 0;
fail:
	url_free(u);
	return -1;
}

static void
finish_settings(struct parser *p, struct config *cfg)
{
	struct entry *e = p->settings_stage.set[K_WEBHOOK_URL];
	const char *w = cfg->settings.webhook_url;

	if (w != NULL && strncasecmp(w, "http://", 7) != 0 &&
	    strncasecmp(w, "https://", 8) != 0)
		kerr(p, e, "not an http:// or https:// URL");
	e = p->settings_stage.set[K_S_FREE_SPACE];
	if (!cfg->settings.auto_pause_resume && e != NULL &&
	    cfg->settings.free_space >= 0)
		pinfo(p, e->line, "[Settings] FreeSpace: ignored, as qBitrr does, "
		    "because AutoPauseResume = false");
}

static int
mapping_cmp(const void *a, const void *b)
{
	const struct path_mapping *x = a, *y = b;
	size_t lx = strlen(x->remote), ly = strlen(y->remote);

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x->remote, y->remote);
}

static void
finish_instance(struct parser *p, struct instance_config *ic,
    struct stage *st, int hdr)
{
	struct entry *pw = st->set[K_PASSWORD], *pf = st->set[K_PASSWORD_FILE];
	struct entry *he = st->set[K_HOST];
	const char *why = NULL;
	char *whybuf = NULL;
	struct url u;

	if (ic->host == NULL && (he == NULL || !he->failed))
		ic->host = xstrdup("localhost");
	if (ic->host != NULL) {
		if (url_parse(ic->host, &u, &why, &whybuf) == -1) {
			if (he != NULL)
				kerr(p, he, "%s", why);
			else
				herr(p, hdr, "Host", "%s", why);
		} else {
			/*
			 * A Host given as a URL without a port ("https://seedbox/qbt",
			 * behind a proxy) means its scheme's port, not 8080, unless
			 * Port is set.
			 */
			if (u.port != 0)
				ic->port = u.port;
			else if (strstr(ic->host, "://") != NULL && st->set[K_PORT] == NULL)
				ic->port = strcmp(u.scheme, "https") == 0 ? 443 : 80;
			if (u.port == 0 && (ic->port == 443 || ic->port == 80) &&
			    strcmp(u.scheme, ic->port == 443 ? "https" : "http") == 0)
				ic->base_url = xasprintf("%s://%s%s", u.scheme, u.host, u.path);
			else
				ic->base_url = xasprintf("%s://%s:%d%s", u.scheme,
				    u.host, ic->port, u.path);
			url_free(&u);
		}
		free(whybuf);
	}
	if (ic->password != NULL && ic->password_file != NULL)
		kerr(p, pf, "Password (line %d) and PasswordFile are both set",
		    pw->line);
	else if (ic->password_file != NULL)
		ic->password = read_secret_file(p, pf, ic->password_file);
	if (ic->n_mappings > 1)
		qsort(ic->mappings, ic->n_mappings, sizeof(*ic->mappings),
		    mapping_cmp);
}

/*
 * Regular expressions, as Python's re reads them: PCRE2 in UTF mode with
 * Unicode properties (Python's \w, \d, \b and IGNORECASE are Unicode),
 * DOTALL as qBitrr compiles them.  Python's \Z is PCRE2's \z; \uXXXX is
 * understood (ALT_BSUX).  What PCRE2 cannot read the Python way, such as the
 * (?a) or (?L) flags, is refused at load time.  Matching is bounded by match
 * and depth limits, since subjects are names from outside.
 */
#define RE_MAX_PATTERN	4096		/* bytes of one pattern */
#define RE_MAX_NEST	64		/* nested parentheses */
#define RE_MATCH_LIMIT	200000		/* backtracking steps per search */
#define RE_DEPTH_LIMIT	5000
#define RE_HEAP_LIMIT	4096		/* KiB */

static char *
python_pattern(const char *pat, bool allowlist)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	buf_puts(&b, "");
	/* qBitrr: rf"\{ext}" for an entry not starting with a backslash. */
	if (allowlist && pat[0] != '\\')
		buf_puts(&b, "\\");
	for (s = pat; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			buf_puts(&b, s[1] == 'Z' ? "\\z" : (char[]){ '\\', s[1], 0 });
			s++;
		} else
			buf_append(&b, s, 1);
	}
	return b.data;
}

int
config_regexlist_compile(struct regexlist *rl, bool case_sensitive,
    bool allowlist, size_t *bad, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
	    PCRE2_DOTALL | PCRE2_ALT_BSUX | (case_sensitive ? 0 : PCRE2_CASELESS);
	pcre2_compile_context *cc;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	size_t i, j;
	char *src;
	int ec;

	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		abort();
	pcre2_set_max_pattern_length(cc, RE_MAX_PATTERN);
	pcre2_set_parens_nest_limit(cc, RE_MAX_NEST);
	rl->compiled = xcalloc(rl->n ? rl->n : 1, sizeof(*rl->compiled));
	for (i = 0; i < rl->n; i++) {
		src = python_pattern(rl->patterns[i], allowlist);
		rl->compiled[i] = pcre2_compile((PCRE2_SPTR)src,
		    PCRE2_ZERO_TERMINATED, opts, &ec, &off, cc);
		free(src);
		if (rl->compiled[i] != NULL)
			continue;
		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ec);
		snprintf(err, errlen, "%s (at offset %zu)", (char *)msg,
		    (size_t)off);
		*bad = i;
		for (j = 0; j < i; j++)
			pcre2_code_free(rl->compiled[j]);
		free(rl->compiled);
		rl->compiled = NULL;
		pcre2_compile_context_free(cc);
		return -1;
	}
	pcre2_compile_context_free(cc);
	return 0;
}

int
config_regexlist_search(const struct regexlist *rl, const char *s)
{
	pcre2_match_context *mc;
	pcre2_match_data *md;
	int result = 0, rc;
	size_t i;

	if (rl->n == 0)
		return 0;
	if (rl->compiled == NULL)
		return -1;
	if ((mc = pcre2_match_context_create(NULL)) == NULL)
		abort();
	pcre2_set_match_limit(mc, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(mc, RE_HEAP_LIMIT);
	for (i = 0; i < rl->n && result != 1; i++) {
		if ((md = pcre2_match_data_create_from_pattern(rl->compiled[i],
		    NULL)) == NULL)
			abort();
		rc = pcre2_match(rl->compiled[i], (PCRE2_SPTR)s, strlen(s), 0, 0,
		    md, mc);
		if (rc >= 0)
			result = 1;
		else if (rc != PCRE2_ERROR_NOMATCH)
			result = -1;	/* a later pattern may still match */
		pcre2_match_data_free(md);
	}
	pcre2_match_context_free(mc);
	return result;
}

/* Compile a regex list; report a bad pattern against its entry. */
static void
compile_regexes(struct parser *p, struct regexlist *rl, bool case_sensitive,
    bool allowlist, struct entry *e, int hdr, const char *key)
{
	char msg[256], shown[160];
	size_t bad = 0;

	if (config_regexlist_compile(rl, case_sensitive, allowlist, &bad, msg,
	    sizeof(msg)) == 0)
		return;
	log_sanitize(rl->patterns[bad], shown, sizeof(shown));
	if (e != NULL)
		kerr(p, e, "bad regular expression \"%s\": %s", shown, msg);
	else
		herr(p, hdr, key, "bad regular expression \"%s\": %s", shown,
		    msg);
}

static void
finish_arr(struct parser *p, struct config *cfg, size_t idx, int hdr)
{
	struct arr_config *ac = &cfg->arrs[idx];
	struct stage *st = &p->astage[idx];
	struct torrent_config *t = &ac->torrent;
	struct seeding_config *sd = &t->seeding;
	struct entry *e;
	struct strlist msgs = { NULL, 0 };
	const char *why = NULL;
	char *whybuf = NULL;
	struct url u;
	size_t i;

	if (st->set[K_CATEGORY] == NULL)
		herr(p, hdr, "Category", "missing (every Arr section needs one)");

	if (ac->uri != NULL) {
		e = st->set[K_URI];
		if (strstr(ac->uri, "://") == NULL ||
		    url_parse(ac->uri, &u, &why, &whybuf) == -1) {
			if (ac->managed)
				kerr(p, e, "not an http:// or https:// URL%s%s",
				    why ? ": " : "", why ? why : "");
			else
				pinfo(p, e->line, "[%s] URI: not a URL, "
				    "ignored (Managed = false)", ac->name);
			free(ac->uri);
			ac->uri = NULL;
		} else {
			url_free(&u);
			for (i = strlen(ac->uri); i > 0 && ac->uri[i - 1] == '/'; i--)
				ac->uri[i - 1] = '\0';
		}
		free(whybuf);
	}
	if (ac->api_key != NULL && ac->api_key_file != NULL)
		kerr(p, st->set[K_APIKEY_FILE], "APIKey (line %d) and "
		    "APIKeyFile are both set", st->set[K_APIKEY]->line);
	else if (ac->api_key_file != NULL)
		ac->api_key = read_secret_file(p, st->set[K_APIKEY_FILE],
		    ac->api_key_file);

	/* The regexes, once CaseSensitiveMatches is known. */
	compile_regexes(p, &t->folder_exclusion, t->case_sensitive, false,
	    st->set[K_FOLDER_RE], hdr, "FolderExclusionRegex");
	compile_regexes(p, &t->filename_exclusion, t->case_sensitive, false,
	    st->set[K_FILENAME_RE], hdr, "FileNameExclusionRegex");
	compile_regexes(p, &t->extension_allowlist, t->case_sensitive, true,
	    st->set[K_EXT_ALLOW], hdr, "FileExtensionAllowlist");
	for (i = 0; i < t->extension_allowlist.n && t->extension_allowlist.compiled; i++) {
		const char *x = t->extension_allowlist.patterns[i];
		char shown[80];

		/* Only a bare extension ("avi") is surely a mistake. */
		if (*x == '\0' || strspn(x, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(x))
			continue;
		log_sanitize(x, shown, sizeof(shown));
		pwarn(p, st->set[K_EXT_ALLOW]->line, "[%s.Torrent] "
		    "FileExtensionAllowlist: \"%s\" is read as qBitrr reads it, "
		    "the regular expression \\%s, which no \".%s\" file matches; "
		    "write \".%s\"", ac->name, shown, shown, shown, shown);
	}

	strlist_set(&msgs, builtin_unregistered, N_BUILTIN_UNREG);
	for (i = 0; i < t->unregistered_messages.n; i++)
		strlist_add(&msgs, str_lower(t->unregistered_messages.items[i]));
	strlist_free(&t->unregistered_messages);
	t->unregistered_messages = msgs;

	e = st->set[K_REMOVE_TORRENT];
	if (e != NULL && !e->failed && sd->remove_torrent > 0 &&
	    (st->set[K_MAX_RATIO] == NULL || !st->set[K_MAX_RATIO]->failed) &&
	    (st->set[K_MAX_SEED_TIME] == NULL ||
	    !st->set[K_MAX_SEED_TIME]->failed)) {
		bool need_ratio = sd->remove_torrent != 2;
		bool need_time = sd->remove_torrent != 1;
		bool no_ratio = need_ratio && !(sd->max_ratio > 0);
		bool no_time = need_time && sd->max_seeding_time <= 0;

		if (no_ratio || no_time)
			kerr(p, e, "mode %d needs %s%s%s", sd->remove_torrent,
			    no_ratio ? "MaxUploadRatio > 0" : "",
			    no_ratio && no_time ? " and " : "",
			    no_time ? "MaxSeedingTime > 0" : "");
	}
}

/* The host of a tracker URI, lower-cased, as qBitrr matches them ("" if none). */
static char *
uri_host(const char *uri)
{
	const char *s = strstr(uri, "://"), *end;
	char *host;

	s = s ? s + 3 : uri;
	end = s + strcspn(s, "/?#");
	for (const char *at = s; at < end; at++)
		if (*at == '@')
			s = at + 1;
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));
		host = xstrndup(s + 1, rb ? (size_t)(rb - s - 1) : 0);
	} else
		host = xstrndup(s, strcspn(s, ":/?#"));
	return str_lower(host);
}

/*
 * Trackers: clean up each entry, then give every Arr its list, qBitrr's
 * way: [[qBit.Trackers]] first, an Arr's own entry replacing one of the
 * same URI.
 */
static void
finish_trackers(struct parser *p, struct config *cfg)
{
	size_t i, j, k;

	for (i = 0; i < p->n_trackers; i++) {
		struct tracker_config *t = &p->trackers[i];
		size_t n;

		if (t->uri != NULL) {
			for (n = strlen(t->uri); n > 0 && t->uri[n - 1] == '/'; n--)
				t->uri[n - 1] = '\0';
			t->host = uri_host(t->uri);
		}
		if (t->uri == NULL || *t->host == '\0') {
			pwarn(p, t->line, "tracker %s%s%s: no URI with a host: "
			    "ignored, as qBitrr ignores it", t->name ? "\"" : "",
			    t->name ? t->name : "without a name", t->name ? "\"" : "");
			free(t->uri);
			t->uri = NULL;
		}
	}
	for (k = 0; k < cfg->n_arrs; k++) {
		struct arr_config *ac = &cfg->arrs[k];

		for (int pass = 0; pass < 2; pass++)
			for (i = 0; i < p->n_trackers; i++) {
				const struct tracker_config *t = &p->trackers[i];

				if (t->uri == NULL || p->tr_owner[i] !=
				    (pass == 0 ? -1 : (long)k))
					continue;
				for (j = 0; j < ac->n_trackers; j++)
					if (strcmp(ac->trackers[j].uri, t->uri) == 0)
						break;
				if (j == ac->n_trackers)
					ac->trackers = xreallocarray(ac->trackers,
					    ++ac->n_trackers, sizeof(*ac->trackers));
				else
					tracker_free(&ac->trackers[j]);
				tracker_copy(&ac->trackers[j], t);
			}
	}
}

/* Checks across sections. */
static void
finish_config(struct parser *p, struct config *cfg)
{
	size_t i, j, enabled = 0;

	for (i = 0; i < cfg->n_arrs; i++) {
		const struct arr_config *a = &cfg->arrs[i];
		struct entry *e = p->astage[i].set[K_CATEGORY];

		if (a->category == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (cfg->arrs[j].category != NULL &&
			    strcmp(cfg->arrs[j].category, a->category) == 0) {
				kerr(p, e, "\"%s\" is already the Category of "
				    "[%s] (line %d)", a->category,
				    cfg->arrs[j].name, cfg->arrs[j].line);
				break;
			}
		}
		if (strcmp(a->category, cfg->settings.failed_category) == 0 ||
		    strcmp(a->category, cfg->settings.recheck_category) == 0)
			kerr(p, e, "\"%s\" is the FailedCategory or "
			    "RecheckCategory of [Settings]", a->category);
	}
	for (i = 0; i < cfg->n_instances; i++)
		if (!cfg->instances[i].disabled)
			enabled++;
	if (enabled == 0)
		perr(p, 0, "no [qBit] instance configured");
}

/* A syntax error from the reader. */
static void
read_error(void *arg, int line, const char *msg)
{
	perr(arg, line, "%s", msg);
}

/*
 * Headers and entries from what the reader found: its root table (keys
 * before any header) becomes "no section".
 */
static void
take_file(struct parser *p)
{
	const struct cr_file *f = &p->file;
	size_t i;

	p->n_hdrs = f->n_tables > 0 ? f->n_tables - 1 : 0;
	p->hdrs = xcalloc(p->n_hdrs, sizeof(*p->hdrs));
	for (i = 0; i < p->n_hdrs; i++) {
		const struct cr_table *t = &f->tables[i + 1];

		p->hdrs[i].name = xstrdup(t->name);
		p->hdrs[i].line = t->line;
		p->hdrs[i].dup = t->dup;
		p->hdrs[i].array = t->array;
	}
	p->n_ents = f->n_entries;
	p->ents = xcalloc(p->n_ents, sizeof(*p->ents));
	for (i = 0; i < p->n_ents; i++) {
		const struct cr_entry *ce = &f->entries[i];
		struct entry *e = &p->ents[i];

		e->hdr = (int)ce->table - 1;
		e->key = ce->key;
		e->v = &ce->value;
		e->line = ce->line;
		e->bad = ce->bad;
	}
}

static void
parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->n_hdrs; i++)
		free(p->hdrs[i].name);
	free(p->hdrs);
	free(p->ents);
	free(p->qstage);
	free(p->astage);
	for (i = 0; i < p->n_trackers; i++)
		tracker_free(&p->trackers[i]);
	free(p->trackers);
	free(p->tr_owner);
	free(p->tstage);
	config_read_free(&p->file);
}

static void
add_category(struct config *cfg, const char *category)
{
	if (category == NULL)
		return;
	for (size_t k = 0; k < cfg->n_managed_categories; k++)
		if (strcmp(cfg->managed_categories[k], category) == 0)
			return;
	cfg->managed_categories[cfg->n_managed_categories++] = category;
}

void
config_list_managed_categories(struct config *cfg)
{
	free(cfg->managed_categories);
	cfg->n_managed_categories = 0;
	cfg->managed_categories = xreallocarray(NULL, cfg->n_arrs + 2,
	    sizeof(*cfg->managed_categories));
	for (size_t i = 0; i < cfg->n_arrs; i++)
		if (cfg->arrs[i].managed)
			add_category(cfg, cfg->arrs[i].category);
	add_category(cfg, cfg->settings.failed_category);
	add_category(cfg, cfg->settings.recheck_category);
}

int
config_load(const char *path, struct config *cfg)
{
	struct parser p;
	struct stat sb;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cfg = cfg;
	cfg->path = xstrdup(path);
	settings_defaults(&cfg->settings);

	if ((p.fp = fopen(path, "r")) == NULL) {
		perr(&p, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fileno(p.fp), &sb) == -1) {
		perr(&p, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		perr(&p, 0, "cannot open: %s", strerror(EISDIR));
		goto out;
	}
	config_read(p.fp, &p.file, read_error, &p);
	take_file(&p);

	build_sections(&p, cfg);
	apply_entries(&p, cfg);
	finish_settings(&p, cfg);
	for (i = 0; i < p.n_hdrs; i++) {
		if (p.hdrs[i].kind == SK_QBIT)
			finish_instance(&p, &cfg->instances[p.hdrs[i].obj],
			    &p.qstage[p.hdrs[i].obj], (int)i);
		else if (p.hdrs[i].kind == SK_ARR)
			finish_arr(&p, cfg, p.hdrs[i].obj, (int)i);
	}
	finish_trackers(&p, cfg);
	warn_unsupported(&p);
	finish_config(&p, cfg);
	config_list_managed_categories(cfg);
	if (p.has_secret && (sb.st_mode & 044) != 0)
		pwarn(&p, 0, "contains secrets but is readable by "
		    "group/others (chmod 600 %s)", path);
out:
	if (p.fp != NULL)
		fclose(p.fp);
	parser_free(&p);
	if (p.errors > 0) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void
config_free(struct config *cfg)
{
	struct settings *s = &cfg->settings;
	size_t i, j;

	free(cfg->managed_categories);
	free(cfg->path);
	free(s->state_file);
	free(s->failed_category);
	free(s->recheck_category);
	free(s->status_page);
	free(s->metrics_file);
	free(s->notify_command);
	free(s->webhook_url);
	for (i = 0; i < cfg->n_instances; i++) {
		struct instance_config *ic = &cfg->instances[i];

		free(ic->name);
		free(ic->base_url);
		free(ic->host);
		free(ic->username);
		free(ic->password);
		free(ic->password_file);
		for (j = 0; j < ic->n_mappings; j++) {
			free(ic->mappings[j].remote);
			free(ic->mappings[j].local);
		}
		free(ic->mappings);
	}
	free(cfg->instances);
	for (i = 0; i < cfg->n_arrs; i++) {
		struct arr_config *ac = &cfg->arrs[i];

		free(ac->name);
		free(ac->uri);
		free(ac->api_key);
		free(ac->api_key_file);
		free(ac->category);
		free(ac->import_mode);
		strlist_free(&ac->error_codes_to_blocklist);
		config_regexlist_free(&ac->torrent.folder_exclusion);
		config_regexlist_free(&ac->torrent.filename_exclusion);
		config_regexlist_free(&ac->torrent.extension_allowlist);
		for (j = 0; j < ac->n_trackers; j++)
			tracker_free(&ac->trackers[j]);
		free(ac->trackers);
		strlist_free(&ac->torrent.unregistered_messages);
	}
	free(cfg->arrs);
	memset(cfg, 0, sizeof(*cfg));
}

/* Printing. */

static void
print_quoted(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
print_str(const char *key, const char *v)
{
	printf("%s = ", key);
	print_quoted(v != NULL ? v : "");
	putchar('\n');
}

static void
print_secret(const char *key, const char *v)
{
	printf("%s = \"%s\"\n", key, v != NULL ? SECRET_MASK : "");
}

static void
print_bool(const char *key, bool v)
{
	printf("%s = %s\n", key, v ? "true" : "false");
}

/* A list on one line, or one item per indented line when long. */
static void
print_list(const char *key, char *const *items, size_t n)
{
	size_t i, width = strlen(key) + 5;

	for (i = 0; i < n; i++)
		width += strlen(items[i]) + 4;
	printf("%s = [", key);
	for (i = 0; i < n; i++) {
		if (width > 100)
			printf("\n\t");
		else if (i > 0)
			printf(", ");
		print_quoted(items[i]);
		if (width > 100)
			putchar(',');
	}
	printf(width > 100 ? "\n\t]\n" : "]\n");
}

/* One tracker of an Arr's merged list, as an array-of-tables element. */
static void
print_tracker(const char *arr, const struct tracker_config *t)
{
	static const char *const modes[] = { "disabled", "and", "or" };

	printf("\n[[%s.Torrent.Trackers]]\n", arr);
	print_str("Name", t->name);
	print_str("URI", t->uri);
	printf("Priority = %" PRId64 "\n", t->priority);
	printf("MaximumETA = %" PRId64 "\n", t->maximum_eta);
	if (t->dl_limit != TRACKER_UNSET)
		printf("DownloadRateLimit = %" PRId64 "\n", t->dl_limit);
	if (t->up_limit != TRACKER_UNSET)
		printf("UploadRateLimit = %" PRId64 "\n", t->up_limit);
	printf("MaxUploadRatio = %.15g\n", t->max_ratio);
	printf("MaxSeedingTime = %" PRId64 "\n", t->max_seeding_time);
	print_bool("RemoveIfExists", t->remove_if_exists);
	print_bool("SuperSeedMode", t->super_seed);
	print_str("HitAndRunMode", modes[t->hnr]);
	printf("MinSeedRatio = %.15g\n", t->hnr_min_ratio);
	printf("MinSeedingTimeDays = %.15g\n", t->hnr_min_days);
	printf("HitAndRunMinimumDownloadPercent = %.15g\n", t->hnr_min_dl_pct);
	printf("HitAndRunPartialSeedRatio = %.15g\n", t->hnr_partial_ratio);
	printf("TrackerUpdateBuffer = %" PRId64 "\n", t->hnr_buffer);
}

void
config_print(const struct config *cfg)
{
	const struct settings *s = &cfg->settings;
	size_t i, j;

	printf("# qbitrr-sweep configuration, normalised from %s\n",
	    cfg->path != NULL ? cfg->path : "(none)");
	printf("\n[Settings]\n");
	print_str("StateFile", s->state_file);
	print_str("FailedCategory", s->failed_category);
	print_str("RecheckCategory", s->recheck_category);
	printf("IgnoreTorrentsYoungerThan = %" PRId64 "\n",
	    s->ignore_younger_than);
	printf("HttpTimeout = %" PRId64 "\n", s->http_timeout);
	printf("ImportDelay = %" PRId64 "\n", s->import_delay);
	printf("FreeSpace = %" PRId64 "\n", s->free_space);
	printf("MaxDeletionsPerRun = %d\n", s->max_deletions);
	print_bool("AutoPauseResume", s->auto_pause_resume);
	print_str("StatusPage", s->status_page);
	print_str("MetricsFile", s->metrics_file);
	print_str("NotifyCommand", s->notify_command);
	print_secret("WebhookURL", s->webhook_url);
	printf("MaxResponseSize = %" PRId64 "\n", s->max_response);
	printf("HistoryDays = %d\n", s->history_days);
	printf("GoneRowDays = %d\n", s->gone_row_days);

	for (i = 0; i < cfg->n_instances; i++) {
		const struct instance_config *ic = &cfg->instances[i];
		char **maps = xcalloc(ic->n_mappings, sizeof(*maps));

		printf("\n[%s]\n", ic->name);
		if (ic->base_url != NULL)
			printf("# base URL: %s\n", ic->base_url);
		print_str("Host", ic->host);
		printf("Port = %d\n", ic->port);
		print_str("UserName", ic->username);
		if (ic->password_file != NULL)
			print_str("PasswordFile", ic->password_file);
		else
			print_secret("Password", ic->password);
		print_bool("Disabled", ic->disabled);
		print_bool("SkipTLSVerify", ic->skip_tls_verify);
		for (j = 0; j < ic->n_mappings; j++)
			maps[j] = xasprintf("%s=%s", ic->mappings[j].remote,
			    ic->mappings[j].local);
		print_list("PathMapping", maps, ic->n_mappings);
		for (j = 0; j < ic->n_mappings; j++)
			free(maps[j]);
		free(maps);
		printf("FreeSpace = %" PRId64 "\n", ic->free_space);
		printf("MaxDeletionsPerRun = %d\n", ic->max_deletions);
	}

	for (i = 0; i < cfg->n_arrs; i++) {
		const struct arr_config *ac = &cfg->arrs[i];
		const struct torrent_config *t = &ac->torrent;
		const struct seeding_config *sd = &t->seeding;
		size_t nextra;

		printf("\n[%s]\n", ac->name);
		print_str("URI", ac->uri);
		if (ac->api_key_file != NULL)
			print_str("APIKeyFile", ac->api_key_file);
		else
			print_secret("APIKey", ac->api_key);
		print_str("Category", ac->category);
		print_bool("Managed", ac->managed);
		print_bool("ReSearch", ac->research);
		print_str("importMode", ac->import_mode);
		print_bool("SkipTLSVerify", ac->skip_tls_verify);
		print_bool("VerifyImport", ac->verify_import);
		print_bool("MatchSubcategories", ac->match_subcategories);
		print_list("ArrErrorCodesToBlocklist",
		    ac->error_codes_to_blocklist.items,
		    ac->error_codes_to_blocklist.n);

		printf("\n[%s.Torrent]\n", ac->name);
		print_bool("CaseSensitiveMatches", t->case_sensitive);
		print_list("FolderExclusionRegex", t->folder_exclusion.patterns,
		    t->folder_exclusion.n);
		print_list("FileNameExclusionRegex",
		    t->filename_exclusion.patterns, t->filename_exclusion.n);
		print_list("FileExtensionAllowlist",
		    t->extension_allowlist.patterns, t->extension_allowlist.n);
		printf("IgnoreTorrentsYoungerThan = %" PRId64 "\n",
		    t->ignore_younger_than);
		printf("MaximumETA = %" PRId64 "\n", t->maximum_eta);
		printf("MaximumDeletablePercentage = %.15g\n",
		    t->max_deletable_pct);
		print_bool("DoNotRemoveSlow", t->do_not_remove_slow);
		printf("StalledDelay = %" PRId64 "\n", t->stalled_delay);
		print_bool("ReSearchStalled", t->research_stalled);
		print_bool("RemoveUnregistered", t->remove_unregistered);
		/* The built-in messages come first and are not repeated. */
		nextra = t->unregistered_messages.n > N_BUILTIN_UNREG ?
		    t->unregistered_messages.n - N_BUILTIN_UNREG : 0;
		print_list("UnregisteredMessages",
		    t->unregistered_messages.items + (t->unregistered_messages.n -
		    nextra), nextra);

		printf("\n[%s.Torrent.SeedingMode]\n", ac->name);
		printf("DownloadRateLimitPerTorrent = %" PRId64 "\n",
		    sd->download_limit);
		printf("UploadRateLimitPerTorrent = %" PRId64 "\n",
		    sd->upload_limit);
		printf("MaxUploadRatio = %.15g\n", sd->max_ratio);
		printf("MaxSeedingTime = %" PRId64 "\n", sd->max_seeding_time);
		printf("RemoveTorrent = %d\n", sd->remove_torrent);
		for (j = 0; j < ac->n_trackers; j++)
			print_tracker(ac->name, &ac->trackers[j]);
	}
	fflush(stdout);
}

/* Queries. */

const struct arr_config *
config_arr_for_category(const struct config *cfg, const char *cat)
{
	const struct arr_config *best = NULL;
	size_t i, best_len = 0;

	if (cat == NULL)
		return NULL;
	for (i = 0; i < cfg->n_arrs; i++)
		if (cfg->arrs[i].managed && cfg->arrs[i].category != NULL &&
		    strcmp(cfg->arrs[i].category, cat) == 0)
			return &cfg->arrs[i];
	/* MatchSubcategories: "radarr" also owns "radarr/4k"; the longest prefix wins. */
	for (i = 0; i < cfg->n_arrs; i++) {
		const struct arr_config *ac = &cfg->arrs[i];
		size_t n = ac->category ? strlen(ac->category) : 0;
		if (ac->managed && ac->match_subcategories && n > best_len &&
		    strncmp(ac->category, cat, n) == 0 && cat[n] == '/') {
			best = ac;
			best_len = n;
		}
	}
	return best;
}

const char *
config_arr_kind_name(enum arr_kind kind)
{
	if ((size_t)kind < NELEM(arr_prefix))
		return arr_prefix[kind];
	return "Arr";
}

char *
config_map_path(const struct instance_config *ic, const char *path)
{
	const struct path_mapping *m;
	const char *rest;
	size_t i, n;

	for (i = 0; i < ic->n_mappings; i++) {
		m = &ic->mappings[i];
		n = strlen(m->remote);
		if (strcmp(m->remote, "/") == 0) {
			if (path[0] != '/')
				continue;
			rest = path;
		} else {
			if (strncmp(path, m->remote, n) != 0 ||
			    (path[n] != '\0' && path[n] != '/'))
				continue;
			rest = path + n;
		}
		if (strcmp(m->local, "/") == 0)
			return xstrdup(*rest != '\0' ? rest : "/");
		return xasprintf("%s%s", m->local, strcmp(rest, "/") == 0 ?
		    "" : rest);
	}
	return xstrdup(path);
}

int64_t
config_instance_free_space(const struct config *cfg,
    const struct instance_config *ic)
{
	/* qBitrr: AutoPauseResume = false turns every pause and resume off. */
	if (!cfg->settings.auto_pause_resume)
		return -1;
	return ic->free_space >= 0 ? ic->free_space : cfg->settings.free_space;
}

int
config_instance_max_deletions(const struct config *cfg,
    const struct instance_config *ic)
{
	return ic->max_deletions >= 0 ? ic->max_deletions :
	    cfg->settings.max_deletions;
}

int64_t
config_arr_ignore_younger(const struct config *cfg,
    const struct arr_config *ac)
{
	return ac->torrent.ignore_younger_than >= 0 ?
	    ac->torrent.ignore_younger_than : cfg->settings.ignore_younger_than;
}
