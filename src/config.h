/*
 * config: the parsed qbitrr.ini.  This is the program's only global state;
 * it is read-only once config_load() has returned.
 */
#ifndef QBITRR_CONFIG_H
#define QBITRR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum arr_kind { ARR_RADARR, ARR_SONARR, ARR_LIDARR };

/* A list of strings as written in the file ("[\"a\", \"b\"]"). */
struct strlist {
	char	**items;
	size_t	  n;
};

/*
 * A list of regular expressions as Python's re module reads them (qBitrr's
 * config is read by Python), compiled with PCRE2.
 */
struct regexlist {
	char	**patterns;	/* source text, as written */
	void	**compiled;	/* pcre2_code *, NULL until compiled */
	size_t	  n;
};

/* One "remote=local" entry of [qBit*] PathMapping. */
struct path_mapping {
	char	*remote;
	char	*local;
};

/* [qBit] or [qBit-NAME]; all instances are equal. */
struct instance_config {
	char	*name;		/* section name: "qBit", "qBit-Seedbox" */
	char	*base_url;	/* scheme://host:port[/base], no trailing '/' */
	char	*host;		/* Host as written */
	int	 port;		/* effective port */
	char	*username;	/* may be NULL */
	char	*password;	/* secret; may be NULL; from Password or PasswordFile */
	char	*password_file;	/* PasswordFile as written, or NULL */
	bool	 disabled;
	bool	 skip_tls_verify;
	struct path_mapping *mappings;	/* sorted longest remote prefix first */
	size_t	 n_mappings;
	int64_t	 free_space;	/* bytes; -1 = fall back to [Settings] */
	int	 max_deletions;	/* -1 = fall back to [Settings] */
	int	 line;		/* line of the section header, for messages */
};

enum hnr_mode { HNR_DISABLED, HNR_AND, HNR_OR };

#define TRACKER_UNSET	INT64_MIN	/* a tracker limit not given: the Arr's applies */

/*
 * One [[qBit.Trackers]] or [[<Arr>.Torrent.Trackers]] entry, as qBitrr
 * defines it.  An Arr's list is [qBit]'s, overridden by its own entries of
 * the same URI; a torrent is ruled by its matching tracker (by host, or a
 * subdomain of it) of the highest Priority.
 */
struct tracker_config {
	char	*name;
	char	*uri;		/* as written, no trailing '/'; NULL: ignored */
	char	*host;		/* of uri, lower case */
	int64_t	 priority;
	int64_t	 maximum_eta;		/* seconds; > 0 wins over the Arr's */
	double	 max_ratio;		/* > 0 wins over the Arr's */
	int64_t	 max_seeding_time;	/* seconds; > 0 wins over the Arr's */
	int64_t	 dl_limit;		/* bytes/s; TRACKER_UNSET: the Arr's */
	int64_t	 up_limit;
	bool	 remove_if_exists;	/* qBitrr removes this tracker: no rules */
	bool	 super_seed;		/* SuperSeedMode: never removed for seeding */
	enum hnr_mode hnr;		/* HitAndRunMode */
	double	 hnr_min_ratio;		/* MinSeedRatio, 1.0 */
	double	 hnr_min_days;		/* MinSeedingTimeDays, 0 */
	double	 hnr_min_dl_pct;	/* HitAndRunMinimumDownloadPercent, 10 */
	double	 hnr_partial_ratio;	/* HitAndRunPartialSeedRatio, 1.0 */
	int64_t	 hnr_buffer;		/* TrackerUpdateBuffer, seconds */
	int	 line;
};

/* [<Arr>.Torrent.SeedingMode] */
struct seeding_config {
	int64_t	 download_limit;	/* bytes/s (qBitrr), -1 unlimited, 0 left alone */
	int64_t	 upload_limit;		/* bytes/s (qBitrr), -1 unlimited, 0 left alone */
	double	 max_ratio;		/* <= 0 unset */
	int64_t	 max_seeding_time;	/* seconds, <= 0 unset */
	int	 remove_torrent;	/* -1 never, 1 ratio, 2 time, 3 either, 4 both */
};

/* [<Arr>.Torrent] */
struct torrent_config {
	bool	 case_sensitive;
	struct regexlist folder_exclusion;
	struct regexlist filename_exclusion;
	struct regexlist extension_allowlist;	/* qBitrr: regexes searched in the suffix */
	int64_t	 ignore_younger_than;	/* seconds; -1 = use [Settings] */
	int64_t	 maximum_eta;		/* seconds; <= 0 off */
	double	 max_deletable_pct;	/* 0..1 (0.99 = 99 %) */
	bool	 do_not_remove_slow;
	int64_t	 stalled_delay;		/* minutes; 0 never, -1 no grace (qBitrr) */
	bool	 research_stalled;
	bool	 remove_unregistered;
	struct strlist unregistered_messages;	/* built-ins plus extras, lower-case */
	struct seeding_config seeding;
};

/* [Radarr-NAME], [Sonarr-NAME], [Lidarr-NAME] */
struct arr_config {
	char	*name;		/* section name: "Radarr-Movies" */
	enum arr_kind kind;
	char	*uri;		/* NULL: discovery only, Arr-side actions skipped */
	char	*api_key;	/* secret; from APIKey or APIKeyFile */
	char	*api_key_file;	/* APIKeyFile as written, or NULL */
	char	*category;
	bool	 managed;
	bool	 research;
	char	*import_mode;	/* "Auto", "Move", "Copy" */
	bool	 skip_tls_verify;
	bool	 verify_import;
	bool	 match_subcategories;	/* also owns "Category/..." torrents */
	struct strlist error_codes_to_blocklist;
	struct torrent_config torrent;
	struct tracker_config *trackers;	/* merged: [qBit]'s, then its own */
	size_t	 n_trackers;
	int	 line;
};

/* [Settings] */
struct settings {
	char	*state_file;		/* NULL: qbitrr.db beside the config file */
	char	*failed_category;	/* "failed" */
	char	*recheck_category;	/* "recheck" */
	int64_t	 ignore_younger_than;	/* seconds, 180 */
	int64_t	 http_timeout;		/* seconds, 30 */
	int64_t	 import_delay;		/* seconds, 60 */
	int64_t	 free_space;		/* bytes, -1 off */
	int	 max_deletions;		/* 50 */
	bool	 auto_pause_resume;	/* true; false: FreeSpace off (qBitrr) */
	char	*status_page;		/* NULL: none */
	char	*metrics_file;		/* NULL: none */
	char	*notify_command;	/* NULL: none */
	char	*webhook_url;		/* NULL: none; may hold a secret token */
	int64_t	 max_response;		/* bytes of one decoded HTTP answer, 64 MiB */
	int	 history_days;		/* audit rows older are removed, 90; 0 keeps all */
	int	 gone_row_days;		/* gone torrent rows older are removed, 30; 0 keeps all */
};

struct config {
	char	*path;			/* as given */
	struct settings settings;
	struct instance_config *instances;	/* in file order */
	size_t	 n_instances;
	struct arr_config *arrs;		/* in file order */
	size_t	 n_arrs;
	/* Every category the tool lists and decides on, computed once at load:
	 * the managed Arrs' categories in file order, then FailedCategory and
	 * RecheckCategory; no duplicates. Points into the strings above. */
	const char **managed_categories;
	size_t	 n_managed_categories;
};

/*
 * Parse the file at path into *cfg.  Every problem is reported through the
 * log module as "file:line: key: reason" (warnings for unknown sections and
 * keys, errors for bad values); parsing goes on after an error so that all of
 * them are shown.  Returns 0 on success, -1 if any error was reported (then
 * *cfg is freed and zeroed).  The caller frees *cfg with config_free().
 */
int	config_load(const char *path, struct config *cfg);
void	config_free(struct config *cfg);
/* Fill cfg->managed_categories from the Arrs and [Settings]; config_load()
 * calls it, a config built by hand (a unit test) calls it once built. */
void	config_list_managed_categories(struct config *cfg);

/* Print the normalised configuration with every secret masked, to stdout. */
void	config_print(const struct config *cfg);

/*
 * Compile the patterns of rl as Python's re would read them (Unicode,
 * DOTALL, and IGNORECASE unless case_sensitive).  For an allowlist, an
 * entry not starting with a backslash gets one (".mkv" -> "\.mkv"), as
 * qBitrr does.  Returns 0, or -1 with *bad the index of the refused
 * pattern and the reason in err.
 */
int	config_regexlist_compile(struct regexlist *rl, bool case_sensitive,
	    bool allowlist, size_t *bad, char *err, size_t errlen);
void	config_regexlist_free(struct regexlist *rl);

/*
 * Search s for any pattern of rl (re.search), with bounded work: 1 a
 * pattern matched, 0 none did, -1 matching gave up (the match limit was
 * hit, or rl is not compiled): callers fail closed.
 */
int	config_regexlist_search(const struct regexlist *rl, const char *s);

/*
 * The managed Arr that owns a torrent in category cat: the one whose
 * Category is cat, else the one with MatchSubcategories whose Category is
 * the longest prefix of cat ending before a '/'; or NULL.
 */
const struct arr_config *config_arr_for_category(const struct config *cfg,
	    const char *cat);

/* Name of an Arr kind: "Radarr", "Sonarr", "Lidarr". */
const char *config_arr_kind_name(enum arr_kind kind);

/*
 * Translate a path reported by an instance through its PathMapping (longest
 * remote prefix wins, matched on whole path components).  Returns a new
 * string the caller frees.
 */
char	*config_map_path(const struct instance_config *ic, const char *path);

/* Effective limits for an instance, after falling back to [Settings]. */
int64_t	config_instance_free_space(const struct config *cfg,
	    const struct instance_config *ic);
int	config_instance_max_deletions(const struct config *cfg,
	    const struct instance_config *ic);

/* Effective IgnoreTorrentsYoungerThan for an Arr, in seconds. */
int64_t	config_arr_ignore_younger(const struct config *cfg,
	    const struct arr_config *ac);

/*
 * Value parsers shared with the command line; each returns 0 and stores the
 * result, or -1 on a malformed value.
 *   duration: "90", "90s", "15m", "2h", "1d", "1w", "1M" (30 days, as in
 *     qBitrr) -> seconds (bare = unit_s)
 *   size: "100G", "1.5G", "512M", "-1" -> bytes (-1 stays -1)
 */
int	config_parse_duration(const char *s, int64_t unit_s, int64_t *out);
int	config_parse_size(const char *s, int64_t *out);
int	config_parse_bool(const char *s, bool *out);

#endif
