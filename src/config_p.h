/*
 * config_p.h: what the files of the config module share.  config_read.c
 * reads the syntax; config.c loads and checks whole sections;
 * config_keys.c knows every key and applies it; config_value.c parses
 * values; config_msg.c reports problems; config_print.c prints.  Not a public
 * interface: the rest of the program includes config.h.
 */
#ifndef QBITRR_CONFIG_P_H
#define QBITRR_CONFIG_P_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "config_read.h"
#include "log.h"

#define SECRET_MASK	"********"
#define SECRET_FILE_MAX	65536	/* bytes read from PasswordFile/APIKeyFile */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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

/* The parts of "scheme://host[:port][/path]". */
struct url {
	char	*scheme;	/* lower case */
	char	*host;		/* IPv6 in brackets */
	int	 port;		/* 0: none given */
	char	*path;		/* "" or "/base", no trailing '/' */
};

/* The built-in unregistered-tracker messages (config.c). */
extern const char *const config_builtin_unregistered[];
extern const size_t config_n_builtin_unregistered;

/* ---- config_msg.c: messages, "path:line: [section] key: reason" ------ */

void	config_perr(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	config_pwarn(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	config_pinfo(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	config_kerr(struct parser *, struct entry *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* A problem with key (or the section itself) of header hdr. */
void	config_herr(struct parser *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* Name of the section an entry belongs to, "" before any section. */
const char *config_entry_section(const struct parser *p, const struct entry *e);

/* ---- config_keys.c: the key table and applying entries ------------------ */

void	config_settings_defaults(struct settings *s);
void	config_build_sections(struct parser *p, struct config *cfg);
void	config_apply_entries(struct parser *p, struct config *cfg);
void	config_warn_unsupported(struct parser *p);
void	config_tracker_copy(struct tracker_config *dst, const struct tracker_config *src);
void	config_tracker_free(struct tracker_config *t);

/* ---- config_value.c: values ------------------------------------------- */

const char *config_skip_space(const char *s);
char	*config_trim_dup(const char *s, size_t n);
int	config_parse_i64(const char *s, int64_t *out);
void	config_strlist_add(struct strlist *l, const char *s);
void	config_strlist_free(struct strlist *l);
void	config_strlist_set(struct strlist *l, const char *const *v, size_t n);
void	config_regexlist_set(struct regexlist *rl, char *const *v, size_t n);
/* A scalar (bare or quoted) of the reader; NULL with *why when not one. */
const char *config_value_scalar(const struct cr_value *v, const char **why);
/* A list (or one scalar) into out; -1 with *why. */
int	config_value_list(const struct cr_value *v, struct strlist *out, const char **why);
int	config_url_parse(const char *s, struct url *u, const char **why, char **whybuf);
void	config_url_free(struct url *u);
/* The host of an http(s) URI, lower-cased; NULL if none. */
char	*config_uri_host(const char *uri);

#endif
