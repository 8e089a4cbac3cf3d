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

#include "config_p.h"
#include "util.h"

const char *const config_builtin_unregistered[] = {
	"unregistered", "torrent not found", "not registered",
	"not authorized", "infohash not found", "trumped", "nuked",
};

const size_t config_n_builtin_unregistered = NELEM(config_builtin_unregistered);

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
		config_kerr(p, e, "cannot read %s: %s", full, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & 044) != 0)
		config_pwarn(p, e->line, "%s holds a secret but is readable by "
		    "group/others (chmod 600 %s)", full, full);
	data = xmalloc(SECRET_FILE_MAX + 1);
	n = fread(data, 1, SECRET_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		config_kerr(p, e, "cannot read %s: %s", full, strerror(errno));
		goto fail;
	}
	if (n > SECRET_FILE_MAX) {
		config_kerr(p, e, "%s is larger than %d bytes", full, SECRET_FILE_MAX);
		goto fail;
	}
	data[n] = '\0';
	if (strlen(data) != n) {
		config_kerr(p, e, "%s contains a NUL byte", full);
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

static void
finish_settings(struct parser *p, struct config *cfg)
{
	struct entry *e = p->settings_stage.set[K_WEBHOOK_URL];
	const char *w = cfg->settings.webhook_url;

	if (w != NULL && strncasecmp(w, "http://", 7) != 0 &&
	    strncasecmp(w, "https://", 8) != 0)
		config_kerr(p, e, "not an http:// or https:// URL");
	e = p->settings_stage.set[K_S_FREE_SPACE];
	if (!cfg->settings.auto_pause_resume && e != NULL &&
	    cfg->settings.free_space >= 0)
		config_pinfo(p, e->line, "[Settings] FreeSpace: ignored, as qBitrr does, "
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
		if (config_url_parse(ic->host, &u, &why, &whybuf) == -1) {
			if (he != NULL)
				config_kerr(p, he, "%s", why);
			else
				config_herr(p, hdr, "Host", "%s", why);
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
			config_url_free(&u);
		}
		free(whybuf);
	}
	if (ic->password != NULL && ic->password_file != NULL)
		config_kerr(p, pf, "Password (line %d) and PasswordFile are both set",
		    pw->line);
	else if (ic->password_file != NULL)
		ic->password = read_secret_file(p, pf, ic->password_file);
	if (ic->n_mappings > 1)
		qsort(ic->mappings, ic->n_mappings, sizeof(*ic->mappings),
		    mapping_cmp);
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
		config_kerr(p, e, "bad regular expression \"%s\": %s", shown, msg);
	else
		config_herr(p, hdr, key, "bad regular expression \"%s\": %s", shown,
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
		config_herr(p, hdr, "Category", "missing (every Arr section needs one)");

	if (ac->uri != NULL) {
		e = st->set[K_URI];
		if (strstr(ac->uri, "://") == NULL ||
		    config_url_parse(ac->uri, &u, &why, &whybuf) == -1) {
			if (ac->managed)
				config_kerr(p, e, "not an http:// or https:// URL%s%s",
				    why ? ": " : "", why ? why : "");
			else
				config_pinfo(p, e->line, "[%s] URI: not a URL, "
				    "ignored (Managed = false)", ac->name);
			free(ac->uri);
			ac->uri = NULL;
		} else {
			config_url_free(&u);
			for (i = strlen(ac->uri); i > 0 && ac->uri[i - 1] == '/'; i--)
				ac->uri[i - 1] = '\0';
		}
		free(whybuf);
	}
	if (ac->api_key != NULL && ac->api_key_file != NULL)
		config_kerr(p, st->set[K_APIKEY_FILE], "APIKey (line %d) and "
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
		config_pwarn(p, st->set[K_EXT_ALLOW]->line, "[%s.Torrent] "
		    "FileExtensionAllowlist: \"%s\" is read as qBitrr reads it, "
		    "the regular expression \\%s, which no \".%s\" file matches; "
		    "write \".%s\"", ac->name, shown, shown, shown, shown);
	}

	config_strlist_set(&msgs, config_builtin_unregistered, config_n_builtin_unregistered);
	for (i = 0; i < t->unregistered_messages.n; i++)
		config_strlist_add(&msgs, str_lower(t->unregistered_messages.items[i]));
	config_strlist_free(&t->unregistered_messages);
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
			config_kerr(p, e, "mode %d needs %s%s%s", sd->remove_torrent,
			    no_ratio ? "MaxUploadRatio > 0" : "",
			    no_ratio && no_time ? " and " : "",
			    no_time ? "MaxSeedingTime > 0" : "");
	}
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
			t->host = config_uri_host(t->uri);
		}
		if (t->uri == NULL || *t->host == '\0') {
			config_pwarn(p, t->line, "tracker %s%s%s: no URI with a host: "
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
					config_tracker_free(&ac->trackers[j]);
				config_tracker_copy(&ac->trackers[j], t);
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
				config_kerr(p, e, "\"%s\" is already the Category of "
				    "[%s] (line %d)", a->category,
				    cfg->arrs[j].name, cfg->arrs[j].line);
				break;
			}
		}
		if (strcmp(a->category, cfg->settings.failed_category) == 0 ||
		    strcmp(a->category, cfg->settings.recheck_category) == 0)
			config_kerr(p, e, "\"%s\" is the FailedCategory or "
			    "RecheckCategory of [Settings]", a->category);
	}
	for (i = 0; i < cfg->n_instances; i++)
		if (!cfg->instances[i].disabled)
			enabled++;
	if (enabled == 0)
		config_perr(p, 0, "no [qBit] instance configured");
}

/* A syntax error from the reader. */
static void
read_error(void *arg, int line, const char *msg)
{
	config_perr(arg, line, "%s", msg);
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
		config_tracker_free(&p->trackers[i]);
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
	config_settings_defaults(&cfg->settings);

	if ((p.fp = fopen(path, "r")) == NULL) {
		config_perr(&p, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fileno(p.fp), &sb) == -1) {
		config_perr(&p, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		config_perr(&p, 0, "cannot open: %s", strerror(EISDIR));
		goto out;
	}
	config_read(p.fp, &p.file, read_error, &p);
	take_file(&p);

	config_build_sections(&p, cfg);
	config_apply_entries(&p, cfg);
	finish_settings(&p, cfg);
	for (i = 0; i < p.n_hdrs; i++) {
		if (p.hdrs[i].kind == SK_QBIT)
			finish_instance(&p, &cfg->instances[p.hdrs[i].obj],
			    &p.qstage[p.hdrs[i].obj], (int)i);
		else if (p.hdrs[i].kind == SK_ARR)
			finish_arr(&p, cfg, p.hdrs[i].obj, (int)i);
	}
	finish_trackers(&p, cfg);
	config_warn_unsupported(&p);
	finish_config(&p, cfg);
	config_list_managed_categories(cfg);
	if (p.has_secret && (sb.st_mode & 044) != 0)
		config_pwarn(&p, 0, "contains secrets but is readable by "
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
		config_strlist_free(&ac->error_codes_to_blocklist);
		config_regexlist_free(&ac->torrent.folder_exclusion);
		config_regexlist_free(&ac->torrent.filename_exclusion);
		config_regexlist_free(&ac->torrent.extension_allowlist);
		for (j = 0; j < ac->n_trackers; j++)
			config_tracker_free(&ac->trackers[j]);
		free(ac->trackers);
		config_strlist_free(&ac->torrent.unregistered_messages);
	}
	free(cfg->arrs);
	memset(cfg, 0, sizeof(*cfg));
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


