/*
 * test_config: unit tests of the config module (cmocka).
 *
 * Most tests are tables: a config snippet is written to a temporary file,
 * loaded with stderr captured, and the result (return value, messages,
 * parsed values) is compared with the expectation.  In expected messages
 * '@' stands for the path of the temporary file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "util.h"
#include "unit.h"


static char tmpdir[] = "/tmp/test_config.XXXXXX";
static int file_seq;

/* Write text to a new file in tmpdir with the given mode; caller frees. */
static char *
write_file_mode(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static char *
write_tmp(const char *text)
{
	char name[32];

	snprintf(name, sizeof(name), "c%03d.ini", ++file_seq);
	return write_file_mode(name, text, 0600);
}

/* config_load(path) with stderr captured into *msgs. */
static int
load_capture(const char *path, struct config *cfg, char **msgs)
{
	struct capture c;
	int rc;

	capture_start(&c, 2);
	rc = config_load(path, cfg);
	*msgs = capture_end(&c);
	return rc;
}

static int
count_substr(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Replace each '@' of pattern by path. */
static char *
expand(const char *pattern, const char *path)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "");
	for (; *pattern != '\0'; pattern++) {
		if (*pattern == '@')
			buf_puts(&b, path);
		else
			buf_append(&b, pattern, 1);
	}
	return b.data;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("did not expect \"%s\" in:\n%s", needle, hay);
}

/* A table of whole-file cases. */

#define QBIT	"[qBit]\nHost = localhost\n"			/* 2 lines */
#define RADARR	"[Radarr-Movies]\nCategory = \"radarr\"\n"	/* 2 lines */
#define X10	"xxxxxxxxxx"
#define X100	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

struct load_case {
	const char *name;
	const char *ini;
	int	 rc;
	int	 errors;		/* error lines expected; -1 any */
	int	 warnings;		/* warning lines expected; -1 any */
	const char *want[4];		/* substrings of the messages */
	const char *unwanted[3];	/* must not appear */
	void	(*check)(const struct config *);
};

static void
check_defaults(const struct config *c)
{
	const struct settings *s = &c->settings;
	const struct instance_config *ic;
	const struct arr_config *ac;
	const struct torrent_config *t;
	size_t i;

	assert_null(s->state_file);
	assert_string_equal(s->failed_category, "failed");
	assert_string_equal(s->recheck_category, "recheck");
	assert_int_equal(s->ignore_younger_than, 180);
	assert_int_equal(s->http_timeout, 30);
	assert_int_equal(s->import_delay, 60);
	assert_int_equal(s->free_space, -1);
	assert_int_equal(s->max_deletions, 50);
	assert_null(s->status_page);
	assert_null(s->metrics_file);
	assert_null(s->notify_command);
	assert_null(s->webhook_url);

	assert_int_equal(c->n_instances, 1);
	ic = &c->instances[0];
	assert_string_equal(ic->name, "qBit");
	assert_string_equal(ic->host, "localhost");
	assert_string_equal(ic->base_url, "http://localhost:8080");
	assert_int_equal(ic->port, 8080);
	assert_null(ic->username);
	assert_null(ic->password);
	assert_false(ic->disabled);
	assert_false(ic->skip_tls_verify);
	assert_int_equal(ic->n_mappings, 0);
	assert_int_equal(ic->free_space, -1);
	assert_int_equal(ic->max_deletions, -1);
	assert_int_equal(ic->line, 1);
	assert_int_equal(config_instance_max_deletions(c, ic), 50);
	assert_int_equal(config_instance_free_space(c, ic), -1);

	assert_int_equal(c->n_arrs, 1);
	ac = &c->arrs[0];
	t = &ac->torrent;
	assert_string_equal(ac->name, "Radarr-Movies");
	assert_int_equal(ac->kind, ARR_RADARR);
	assert_null(ac->uri);
	assert_null(ac->api_key);
	assert_string_equal(ac->category, "radarr");
	assert_true(ac->managed);
	/* Absent keys mean what qBitrr's code makes of them. */
	assert_false(ac->research);
	assert_string_equal(ac->import_mode, "Auto");
	assert_false(ac->skip_tls_verify);
	assert_false(ac->verify_import);
	assert_int_equal(ac->line, 3);
	assert_int_equal(ac->error_codes_to_blocklist.n, 0);
	assert_false(t->case_sensitive);
	assert_int_equal(t->folder_exclusion.n, 0);
	assert_int_equal(t->filename_exclusion.n, 0);
	assert_int_equal(t->extension_allowlist.n, 0);
	assert_int_equal(t->ignore_younger_than, -1);
	assert_int_equal(config_arr_ignore_younger(c, ac), 180);
	assert_int_equal(t->maximum_eta, 86400);
	assert_true(t->max_deletable_pct > 0.949 && t->max_deletable_pct < 0.951);
	assert_false(t->do_not_remove_slow);
	assert_int_equal(t->stalled_delay, 15);
	assert_false(t->research_stalled);
	assert_false(t->remove_unregistered);
	assert_int_equal(t->unregistered_messages.n, 7);
	for (i = 0; i < t->unregistered_messages.n; i++)
		assert_non_null(t->unregistered_messages.items[i]);
	assert_string_equal(t->unregistered_messages.items[0], "unregistered");
	assert_int_equal(t->seeding.download_limit, -1);
	assert_int_equal(t->seeding.upload_limit, -1);
	assert_true(t->seeding.max_ratio < 0);
	assert_int_equal(t->seeding.max_seeding_time, -1);
	assert_int_equal(t->seeding.remove_torrent, -1);
	assert_ptr_equal(config_arr_for_category(c, "radarr"), ac);
	assert_null(config_arr_for_category(c, "Radarr"));
	assert_string_equal(config_arr_kind_name(ac->kind), "Radarr");
}

static void
check_kinds(const struct config *c)
{
	assert_int_equal(c->n_arrs, 3);
	assert_int_equal(c->arrs[0].kind, ARR_SONARR);
	assert_int_equal(c->arrs[1].kind, ARR_LIDARR);
	assert_int_equal(c->arrs[1].torrent.extension_allowlist.n, 0);
	assert_int_equal(c->arrs[2].kind, ARR_RADARR);
	assert_string_equal(c->arrs[2].name, "Radarr");
	assert_string_equal(config_arr_kind_name(ARR_LIDARR), "Lidarr");
}

static void
check_quoting(const struct config *c)
{
	const struct instance_config *ic = &c->instances[0];

	assert_string_equal(ic->host, "localhost");
	assert_string_equal(ic->username, "a b");
	assert_string_equal(ic->password, "pa\"ss\\w;rd#1");
	assert_string_equal(c->arrs[0].category, "radarr");
	assert_string_equal(c->arrs[0].import_mode, "Copy");
	assert_string_equal(c->settings.failed_category, "bad\\b'");
	assert_string_equal(c->settings.notify_command, "a#b --flag");
}

static void
check_multiline(const struct config *c)
{
	const struct torrent_config *t = &c->arrs[0].torrent;

	/* As written: qBitrr's regexes, not rewritten. */
	assert_int_equal(t->extension_allowlist.n, 4);
	assert_string_equal(t->extension_allowlist.patterns[0], ".mkv");
	assert_string_equal(t->extension_allowlist.patterns[1], ".MP4");
	assert_string_equal(t->extension_allowlist.patterns[2], "avi");
	assert_string_equal(t->extension_allowlist.patterns[3], "srt");
	assert_int_equal(t->folder_exclusion.n, 2);
	assert_string_equal(t->folder_exclusion.patterns[0], "\\bextras?\\b");
	assert_string_equal(t->folder_exclusion.patterns[1], "a b");
	assert_int_equal(t->filename_exclusion.n, 0);
	assert_int_equal(c->arrs[0].error_codes_to_blocklist.n, 1);
	assert_string_equal(c->arrs[0].error_codes_to_blocklist.items[0],
	    "x");
}

static void
check_case_sensitive(const struct config *c)
{
	const struct torrent_config *t = &c->arrs[0].torrent;

	assert_true(t->case_sensitive);
	assert_string_equal(t->extension_allowlist.patterns[0], ".MKV");
	assert_int_equal(config_regexlist_search(&t->extension_allowlist,
	    ".mkv"), 0);
	assert_int_equal(config_regexlist_search(&t->extension_allowlist,
	    ".MKV"), 1);
	assert_int_equal(config_regexlist_search(&t->folder_exclusion,
	    "Extras"), 0);
	assert_int_equal(config_regexlist_search(&t->folder_exclusion,
	    "extras"), 1);
}

static void
check_icase(const struct config *c)
{
	const struct torrent_config *t = &c->arrs[0].torrent;

	assert_false(t->case_sensitive);
	assert_int_equal(config_regexlist_search(&t->folder_exclusion,
	    "Movie EXTRAS"), 1);
	assert_int_equal(config_regexlist_search(&t->folder_exclusion,
	    "Extrasensory"), 0);
	/* Python's \d, (?i), \Z; Unicode case folding. */
	assert_int_equal(config_regexlist_search(&t->filename_exclusion,
	    "Show.NCOP12.mkv"), 1);
	assert_int_equal(config_regexlist_search(&t->filename_exclusion,
	    "SAMPLE"), 1);
	assert_int_equal(config_regexlist_search(&t->filename_exclusion,
	    "\xc3\x89T\xc3\x89"), 1);
	assert_int_equal(config_regexlist_search(&t->filename_exclusion,
	    "sample\n"), 0);
	/* The allowlist: ".mkv" is \.mkv, searched. */
	assert_int_equal(config_regexlist_search(&t->extension_allowlist,
	    ".MKV"), 1);
	assert_int_equal(config_regexlist_search(&t->extension_allowlist,
	    "xmkv"), 0);
}

static void
check_values(const struct config *c)
{
	const struct settings *s = &c->settings;
	const struct instance_config *ic = &c->instances[0];
	const struct arr_config *ac = &c->arrs[0];
	const struct torrent_config *t = &ac->torrent;

	assert_string_equal(s->state_file, "/var/lib/q.db");
	assert_int_equal(s->ignore_younger_than, 600);
	assert_int_equal(s->http_timeout, 5);
	assert_int_equal(s->import_delay, 0);
	assert_int_equal(s->free_space, INT64_C(100) << 30);
	assert_int_equal(s->max_deletions, 0);
	assert_string_equal(s->webhook_url, "https://h.example/x?token=T0K");
	assert_true(ic->disabled == false);
	assert_true(ic->skip_tls_verify);
	assert_int_equal(ic->free_space, INT64_C(512) << 20);
	assert_int_equal(config_instance_free_space(c, ic), INT64_C(512) << 20);
	assert_int_equal(ic->max_deletions, 7);
	assert_int_equal(config_instance_max_deletions(c, ic), 7);
	assert_string_equal(ac->uri, "http://radarr:7878/base");
	assert_string_equal(ac->api_key, "k");
	assert_false(ac->managed);
	assert_false(ac->research);
	assert_string_equal(ac->import_mode, "Move");
	assert_true(ac->verify_import);
	assert_null(config_arr_for_category(c, "radarr"));
	assert_int_equal(t->ignore_younger_than, 0);
	assert_int_equal(config_arr_ignore_younger(c, ac), 0);
	assert_int_equal(t->maximum_eta, 7 * 86400);
	assert_true(t->max_deletable_pct == 0.5);
	assert_false(t->do_not_remove_slow);
	assert_int_equal(t->stalled_delay, 60);
	assert_true(t->research_stalled);
	assert_true(t->remove_unregistered);
	assert_int_equal(t->unregistered_messages.n, 9);
	assert_string_equal(t->unregistered_messages.items[7], "gone");
	assert_string_equal(t->unregistered_messages.items[8], "dupe torrent");
	assert_int_equal(t->seeding.download_limit, 100);
	assert_int_equal(t->seeding.upload_limit, 0);
	assert_true(t->seeding.max_ratio == 2.5);
	assert_int_equal(t->seeding.max_seeding_time, 14 * 86400);
	assert_int_equal(t->seeding.remove_torrent, 3);
}

static void
check_sub_before_parent(const struct config *c)
{
	assert_int_equal(c->n_arrs, 1);
	assert_int_equal(c->arrs[0].torrent.stalled_delay, 30);
	assert_int_equal(c->arrs[0].torrent.seeding.remove_torrent, 4);
	assert_int_equal(c->arrs[0].kind, ARR_SONARR);
}

static void
check_disabled(const struct config *c)
{
	assert_int_equal(c->n_instances, 2);
	assert_true(c->instances[0].disabled);
	assert_false(c->instances[1].disabled);
	assert_string_equal(c->instances[1].name, "qBit-B");
}

static void
check_hardlink(const struct config *c)
{
	assert_string_equal(c->arrs[0].import_mode, "Auto");
}

static void
check_toml(const struct config *c)
{
	const struct arr_config *ac = &c->arrs[0];

	assert_string_equal(c->settings.failed_category, "failed2");
	assert_int_equal(c->settings.free_space, INT64_C(3) << 29);
	assert_int_equal(c->n_instances, 1);
	assert_string_equal(c->instances[0].name, "qBit");
	assert_int_equal(c->instances[0].port, 8080);
	assert_int_equal(ac->torrent.seeding.max_seeding_time, 30 * 86400);
	assert_int_equal(ac->error_codes_to_blocklist.n, 2);
	assert_string_equal(ac->error_codes_to_blocklist.items[1], "b\tc\\d");
	assert_int_equal(ac->torrent.maximum_eta, 3600);
	assert_string_equal(ac->torrent.folder_exclusion.patterns[0],
	    "\\bx\\b");
}

static void
check_trackers(const struct config *c)
{
	const struct arr_config *ac = &c->arrs[0];

	assert_int_equal(ac->n_trackers, 2);
	/* The Arr's A2 replaced [qBit]'s A (same URI): its own defaults apply. */
	assert_string_equal(ac->trackers[0].name, "A2");
	assert_string_equal(ac->trackers[0].uri, "https://a.example/ann");
	assert_string_equal(ac->trackers[0].host, "a.example");
	assert_int_equal(ac->trackers[0].priority, 5);
	assert_int_equal(ac->trackers[0].hnr, HNR_DISABLED);
	assert_true(ac->trackers[0].max_ratio < 0);
	assert_int_equal(ac->trackers[0].up_limit, TRACKER_UNSET);
	assert_string_equal(ac->trackers[1].name, "B");
	assert_string_equal(ac->trackers[1].host, "b.example");
	assert_int_equal(ac->trackers[1].up_limit, 1000);
	assert_true(ac->trackers[1].super_seed);
	assert_true(ac->trackers[1].hnr_min_ratio == 1.0);
	assert_true(ac->trackers[1].hnr_min_dl_pct == 10);
}

static void
check_long_list(const struct config *c)
{
	const struct torrent_config *t = &c->arrs[0].torrent;

	assert_int_equal(t->folder_exclusion.n, 4);
	assert_int_equal(strlen(t->folder_exclusion.patterns[1]), 100);
	assert_string_equal(t->folder_exclusion.patterns[3], "and more");
	assert_int_equal(t->stalled_delay, 5);
}

static void
check_hash_comment(const struct config *c)
{
	assert_int_equal(c->instances[0].port, 8080);
	assert_string_equal(c->instances[0].username, "a#b");
}

static void
check_semicolon_quoted(const struct config *c)
{
	assert_string_equal(c->instances[0].password, "SECRET5 ;SECRET6");
}

static void
check_long_comment(const struct config *c)
{
	assert_string_equal(c->arrs[0].category, "radarr");
}

static const struct load_case load_cases[] = {
	{ "defaults", QBIT RADARR, 0, 0, 0, { NULL }, { NULL },
	    check_defaults },
	{ "arr kinds", QBIT "[Sonarr-TV]\nCategory = tv\n"
	    "[Lidarr-Music]\nCategory = music\n[Radarr]\nCategory = m\n",
	    0, 0, 0, { NULL }, { NULL }, check_kinds },
	{ "quoted and bare values", "[Settings]\n"
	    "FailedCategory = \"bad\\\\b'\"\n"
	    "NotifyCommand = a#b\n"
	    "    --flag\n"
	    "[qBit]\nHost = \"localhost\"\nUserName = \"a b\"\n"
	    "Password = \"pa\\\"ss\\\\w;rd#1\" ; a comment\n"
	    "[Radarr-Movies]\nCategory = 'radarr'\nimportMode = copy\n",
	    0, 0, -1, { NULL }, { NULL }, check_quoting },
	{ "list value must be bracketed", QBIT "[Radarr-Movies]\n"
	    "Category = radarr\nArrErrorCodesToBlocklist = x\n", -1, 1, 0,
	    { "@:5: [Radarr-Movies] ArrErrorCodesToBlocklist: expected a list" },
	    { NULL }, NULL },
	{ "multi-line lists, parsed", QBIT "[Radarr-Movies]\n"
	    "Category = radarr\nArrErrorCodesToBlocklist = [x]\n"
	    "[Radarr-Movies.Torrent]\n"
	    "FileExtensionAllowlist = [\".mkv\",\n"
	    "    \".MP4\",\n"
	    "\n"
	    "    # a comment between continuation lines\n"
	    "\t'avi', srt,\n"
	    "    ]\n"
	    "FolderExclusionRegex =\n"
	    "    [\"\\\\bextras?\\\\b\", \"a b\"]\n"
	    "FileNameExclusionRegex = []\n", 0, 0, 2,
	    { "@:7: [Radarr-Movies.Torrent] FileExtensionAllowlist: \"avi\" is "
	    "read as qBitrr reads it, the regular expression \\avi" }, { NULL },
	    check_multiline },
	{ "case-sensitive matching", QBIT RADARR
	    "[Radarr-Movies.Torrent]\nFileExtensionAllowlist = [\".MKV\"]\n"
	    "FolderExclusionRegex = [\"\\\\bextras?\\\\b\"]\n"
	    "CaseSensitiveMatches = yes\n", 0, 0, 0, { NULL }, { NULL },
	    check_case_sensitive },
	{ "case-insensitive regexes, read as Python reads them", QBIT RADARR
	    "[Radarr-Movies.Torrent]\nFileExtensionAllowlist = [\".mkv\"]\n"
	    "FolderExclusionRegex = [\"\\\\bextras?\\\\b\"]\n"
	    "FileNameExclusionRegex = [\"\\\\bncop\\\\d+\\\\b\", "
	    "\"(?i)^sample\\\\Z\", \"\\u00e9t\\u00e9\"]\n",
	    0, 0, 0, { NULL }, { NULL }, check_icase },
	{ "every value", "[Settings]\n"
	    "StateFile = /var/lib/q.db\n"
	    "IgnoreTorrentsYoungerThan = 10m\n"
	    "HttpTimeout = \"5s\"\n"
	    "ImportDelay = 0\n"
	    "FreeSpace = 100G\n"
	    "MaxDeletionsPerRun = 0\n"
	    "WebhookURL = \"https://h.example/x?token=T0K\"\n"
	    "[qBit]\nhost = localhost\nSKIPTLSVERIFY = on\nFreeSpace = 512MiB\n"
	    "MaxDeletionsPerRun = 7\nDisabled = No\n"
	    "[Radarr-Movies]\nCategory = radarr\nURI = http://radarr:7878/base/\n"
	    "APIKey = k\nManaged = false\nReSearch = 0\nimportMode = MOVE\n"
	    "VerifyImport = TRUE\n"
	    "[Radarr-Movies.Torrent]\nIgnoreTorrentsYoungerThan = 0\n"
	    "MaximumETA = 1w\nMaximumDeletablePercentage = 0.5\n"
	    "DoNotRemoveSlow = off\nStalledDelay = 1h\nReSearchStalled = 1\n"
	    "RemoveUnregistered = true\n"
	    "UnregisteredMessages = [\"Gone\", \"Dupe Torrent\"]\n"
	    "[Radarr-Movies.Torrent.SeedingMode]\n"
	    "DownloadRateLimitPerTorrent = 100\nUploadRateLimitPerTorrent = 0\n"
	    "MaxUploadRatio = 2.5\nMaxSeedingTime = 14d\nRemoveTorrent = 3\n",
	    0, 0, 0, { NULL }, { NULL }, check_values },
	{ "subsections before their parent", QBIT
	    "[Sonarr-TV.Torrent.SeedingMode]\nRemoveTorrent = 4\n"
	    "MaxUploadRatio = 1\nMaxSeedingTime = 1d\n"
	    "[Sonarr-TV.Torrent]\nStalledDelay = 30\n"
	    "[Sonarr-TV]\nCategory = sonarr\n", 0, 0, 0, { NULL }, { NULL },
	    check_sub_before_parent },
	{ "subsection without parent", QBIT RADARR
	    "[Sonarr-TV.Torrent]\nStalledDelay = 30\n", -1, 1, 0,
	    { "@:5: [Sonarr-TV.Torrent]: no [Sonarr-TV] section" }, { NULL },
	    NULL },
	{ "long lines are read whole", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "FolderExclusionRegex = [\"" X100 "\", \"" X100 "\",\n"
	    "    \"more\",\n"
	    "    \"and more\"]\n"
	    "StalledDelay = 5\n", 0, 0, 0, { NULL }, { NULL },
	    check_long_list },
	{ "the TOML qBitrr writes", "# qBitrr\n[Settings]\n"
	    "FailedCategory = \"fail\\u0065d2\" # a comment\n"
	    "FreeSpace = \"1.5G\"\n"
	    "[QBit]\nHost = 'localhost'\nPort = 8_080\n"
	    "[[qBit.Trackers]]\nName = \"a\"\nURI = \"https://a.example\"\n"
	    "[[qBit.Trackers]]\nName = \"b\"\n"
	    "[Radarr-Movies]\nCategory = \"radarr\"\n"
	    "Torrent.SeedingMode.MaxSeedingTime = \"1M\"\n"
	    "ArrErrorCodesToBlocklist = [\n    \"a\", # one\n"
	    "    \"b\\tc\\\\d\",\n]\n"
	    "QualityProfileMappings = {\"HD\" = \"SD\", x = [1, 2]}\n"
	    "[Radarr-Movies.Torrent]\nMaximumETA = \"\"\"3600\"\"\"\n"
	    "FolderExclusionRegex = ['\\bx\\b']\n", 0, 0, -1, { NULL },
	    { "error" }, check_toml },
	{ "a table and an array of tables of one name", QBIT RADARR
	    "[Radarr-Movies.Torrent.Trackers]\n[[Radarr-Movies.Torrent.Trackers]]\n",
	    -1, 1, -1, { "@:6: [Radarr-Movies.Torrent.Trackers]: mixes" },
	    { NULL }, NULL },
	{ "[QBit] and [qBit]", "[QBit]\n" QBIT RADARR, -1, 1, 0,
	    { "@:2: [qBit]: duplicate section (first at line 1)" }, { NULL },
	    NULL },
	{ "long comment lines are harmless", QBIT RADARR
	    "# " X100 X100 "\n", 0, 0, 0, { NULL }, { NULL },
	    check_long_comment },
	{ "duplicate section", QBIT "Port = 1\n" RADARR "[qBit]\nPort = x\n",
	    -1, 1, 0, { "@:6: [qBit]: duplicate section (first at line 1)" },
	    { "duplicate key", "@:7" }, NULL },
	{ "duplicate key", QBIT "Port = 1\nport = 2\n" RADARR, -1, 1, 0,
	    { "@:4: [qBit] port: duplicate key (first at line 3)" }, { NULL },
	    NULL },
	{ "unknown key is a warning", QBIT "Colour = blue\n" RADARR, 0, 0, 1,
	    { "@:3: [qBit] Colour: unknown key" }, { "blue" }, NULL },
	{ "unknown section is a warning", QBIT RADARR "[Whatever]\nx = 1\n",
	    0, 0, 1, { "@:5: [Whatever]: unknown section" }, { NULL }, NULL },
	{ "section names are case-sensitive", QBIT RADARR "[qbit-x]\n",
	    0, 0, 1, { "@:5: [qbit-x]: unknown section (section names are "
	    "case-sensitive" }, { NULL }, NULL },
	{ "key outside any section", "Port = 1\n" QBIT RADARR, 0, 0, 1,
	    { "@:1: Port: key outside any section" }, { NULL }, NULL },
	{ "qBitrr keys we do not use", "[Settings]\nConsoleLevel = INFO\n"
	    "AutoUpdateCron = \"0 3 * * 0\"\nProcessRestartDelay = 5\n"
	    "[WebUI]\nPort = 6969\n" QBIT "ManagedCategories = []\n"
	    RADARR "RssSyncTimer = 1\n[Radarr-Movies.EntrySearch]\n"
	    "SearchLimit = x\n[Radarr-Movies.Torrent]\nAutoDelete = false\n"
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveDeadTrackers = 0\n"
	    "[qBit.CategorySeeding]\nRemoveTorrent = 99\n"
	    "[Readarr-Books]\nCategory = books\n", 0, 0, 0,
	    { "@:2: [Settings] ConsoleLevel: not used by qbitrr-sweep, ignored",
	    "@:3: [Settings] AutoUpdateCron: not used",
	    "@:5: [WebUI]: not used by qbitrr-sweep, ignored",
	    "@:13: [Radarr-Movies.EntrySearch]: not used" }, { NULL }, NULL },
	{ "qBitrr features not done here, set to delete or keep: warnings",
	    QBIT "ManagedCategories = [\"seed\"]\n" RADARR
	    "[Radarr-Movies.Torrent]\nAutoDelete = true\n"
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveDeadTrackers = 1\n"
	    "[Radarr-Movies.EntrySearch]\nCustomFormatUnmetSearch = true\n"
	    "[Readarr-Books]\nManaged = true\n", 0, 0, 5,
	    { "@:3: [qBit] ManagedCategories: qBitrr manages these categories",
	    "@:7: [Radarr-Movies.Torrent] AutoDelete: qBitrr deletes",
	    "@:9: [Radarr-Movies.Torrent.SeedingMode] RemoveDeadTrackers: qBitrr removes",
	    "@:13: [Readarr-Books] Managed: qBitrr manages Readarr" }, { NULL }, NULL },
	{ "inline trackers are refused", QBIT "Trackers = [{URI = \"https://t.example\"}]\n"
	    RADARR, -1, 1, 0, { "@:3: [qBit] Trackers: trackers written inline are not "
	    "read; write each as a [[qBit.Trackers]] table" }, { NULL }, NULL },
	{ "tracker tables: [qBit]'s, overridden by the Arr's of the same URI",
	    QBIT RADARR "[[qBit.Trackers]]\nName = \"A\"\nURI = \"https://a.example/ann/\"\n"
	    "Priority = 1\nMaxUploadRatio = 2\nHitAndRunMode = \"and\"\n"
	    "MinSeedingTimeDays = 1.5\nTrackerUpdateBuffer = \"1h\"\n"
	    "[[qBit.Trackers]]\nName = \"B\"\nURI = \"udp://B.example:1337\"\n"
	    "UploadRateLimit = 1000\nSuperSeedMode = true\n"
	    "[[Radarr-Movies.Torrent.Trackers]]\nName = \"A2\"\n"
	    "URI = \"https://a.example/ann\"\nPriority = 5\n"
	    "[[qBit-X.Trackers]]\nURI = \"https://x.example\"\n"
	    "[[Radarr-Movies.Torrent.Trackers]]\nName = \"no uri\"\n", 0, 0, 3,
	    { "[qBit-X.Trackers] URI: qBitrr applies the trackers of [qBit] only",
	    "tracker \"no uri\": no URI with a host: ignored",
	    "@:17: [qBit.Trackers] SuperSeedMode: qBitrr turns super-seeding on" },
	    { NULL }, check_trackers },
	{ "bad port: not a number", QBIT "Port = http\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit] Port: \"http\" is not a whole number" }, { NULL },
	    NULL },
	{ "bad port: zero", QBIT "Port = 0\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit] Port: \"0\" is out of range (1..65535)" }, { NULL },
	    NULL },
	{ "bad port: too big", QBIT "Port = \"65536\"\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit] Port:", "out of range" }, { NULL }, NULL },
	{ "'#' after a value is a comment", QBIT "Port = 8080 # web ui\n"
	    "UserName = \"a#b\" # the user\n" RADARR,
	    0, 0, 0, { NULL }, { NULL }, check_hash_comment },
	{ "bad bool", QBIT "Disabled = maybe\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit] Disabled: \"maybe\" is not a boolean" }, { NULL },
	    NULL },
	{ "bad RemoveTorrent", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 5\n",
	    -1, 1, 0, { "@:6: [Radarr-Movies.Torrent.SeedingMode] "
	    "RemoveTorrent: \"5\" is not a removal mode" }, { NULL }, NULL },
	{ "RemoveTorrent 0", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 0\n",
	    -1, 1, 0, { "RemoveTorrent: \"0\" is not a removal mode" },
	    { NULL }, NULL },
	{ "RemoveTorrent 1 without ratio", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 1\n"
	    "MaxSeedingTime = 1d\n", -1, 1, 0,
	    { "@:6: [Radarr-Movies.Torrent.SeedingMode] RemoveTorrent: "
	    "mode 1 needs MaxUploadRatio > 0" }, { "MaxSeedingTime >" }, NULL },
	{ "RemoveTorrent 2 without time", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nMaxUploadRatio = 2\n"
	    "RemoveTorrent = 2\n", -1, 1, 0,
	    { "@:7: [Radarr-Movies.Torrent.SeedingMode] RemoveTorrent: "
	    "mode 2 needs MaxSeedingTime > 0" }, { "MaxUploadRatio >" }, NULL },
	{ "RemoveTorrent 3 needs both", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nMaxUploadRatio = 2\n"
	    "RemoveTorrent = 3\n", -1, 1, 0,
	    { "mode 3 needs MaxSeedingTime > 0" }, { NULL }, NULL },
	{ "RemoveTorrent 4 with neither", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 4\n",
	    -1, 1, 0, { "mode 4 needs MaxUploadRatio > 0 and MaxSeedingTime > 0" },
	    { NULL }, NULL },
	{ "RemoveTorrent 4 with both", QBIT RADARR
	    "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 4\n"
	    "MaxUploadRatio = 1.5\nMaxSeedingTime = 3600\n", 0, 0, 0,
	    { NULL }, { NULL }, NULL },
	{ "bad regex", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "FileNameExclusionRegex = [\"ok\", \"(unclosed\"]\n", -1, 1, 0,
	    { "@:6: [Radarr-Movies.Torrent] FileNameExclusionRegex: bad "
	    "regular expression \"(unclosed\"" }, { NULL }, NULL },
	{ "shared category", QBIT RADARR "[Radarr-4K]\nCategory = radarr\n",
	    -1, 1, 0, { "@:6: [Radarr-4K] Category: \"radarr\" is already the "
	    "Category of [Radarr-Movies] (line 3)" }, { NULL }, NULL },
	{ "categories differ in case", QBIT RADARR
	    "[Radarr-4K]\nCategory = Radarr\n", 0, 0, 0, { NULL }, { NULL },
	    NULL },
	{ "category is the failed category", QBIT
	    "[Radarr-Movies]\nCategory = failed\n", -1, 1, 0,
	    { "@:4: [Radarr-Movies] Category: \"failed\" is the FailedCategory" },
	    { NULL }, NULL },
	{ "missing category", QBIT "[Radarr-Movies]\nURI = http://r:7878\n",
	    -1, 1, 0, { "@:3: [Radarr-Movies] Category: missing" }, { NULL },
	    NULL },
	{ "empty category", QBIT "[Radarr-Movies]\nCategory = \"\"\n",
	    -1, 1, 0, { "@:4: [Radarr-Movies] Category: must not be empty" },
	    { "missing" }, NULL },
	{ "importMode Hardlink", QBIT RADARR "importMode = Hardlink\n",
	    0, 0, 0, { NULL }, { NULL }, check_hardlink },
	{ "bad importMode", QBIT RADARR "importMode = Symlink\n", -1, 1, 0,
	    { "@:5: [Radarr-Movies] importMode: \"Symlink\" is not an import "
	    "mode" }, { NULL }, NULL },
	{ "bad URI", QBIT RADARR "URI = CHANGE_ME\n", -1, 1, 0,
	    { "@:5: [Radarr-Movies] URI: not an http:// or https:// URL" },
	    { NULL }, NULL },
	{ "bad URI of an unmanaged Arr", QBIT RADARR
	    "URI = CHANGE_ME\nManaged = false\n", 0, 0, 0, { NULL }, { NULL },
	    NULL },
	{ "bad PathMapping", QBIT "PathMapping = [\"/a=/b\", \"/nothing\"]\n"
	    RADARR, -1, 1, 0, { "@:3: [qBit] PathMapping: \"/nothing\" has no "
	    "'='" }, { NULL }, NULL },
	{ "unterminated quote", QBIT "UserName = \"admin\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit] UserName: unterminated quote" }, { "a ';'" }, NULL },
	{ "';' inside quotes is text", QBIT "Password = \"SECRET5 ;SECRET6\"\n"
	    RADARR, 0, 0, -1, { NULL }, { "SECRET5", "SECRET6" },
	    check_semicolon_quoted },
	{ "unterminated list", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "FileExtensionAllowlist = [\".mkv\",\n  \".mp4\"\n"
	    "StalledDelay = 1\n", -1, 1, 0,
	    { "@:6: [Radarr-Movies.Torrent] FileExtensionAllowlist: "
	    "unterminated list" }, { NULL }, NULL },
	{ "text after the list", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "FileExtensionAllowlist = [\".mkv\"] x\n", -1, 1, 0,
	    { "unexpected text after the closing ']'" }, { NULL }, NULL },
	{ "percentage out of range", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "MaximumDeletablePercentage = 99\n", -1, 1, 0,
	    { "@:6: [Radarr-Movies.Torrent] MaximumDeletablePercentage: \"99\" "
	    "is out of range" }, { NULL }, NULL },
	{ "StalledDelay in whole minutes", QBIT RADARR
	    "[Radarr-Movies.Torrent]\nStalledDelay = 90s\n", -1, 1, 0,
	    { "StalledDelay: \"90s\" is not a whole number of minutes" },
	    { NULL }, NULL },
	{ "HttpTimeout must be positive", "[Settings]\nHttpTimeout = 0\n"
	    QBIT RADARR, -1, 1, 0, { "@:2: [Settings] HttpTimeout:" },
	    { NULL }, NULL },
	{ "bad size", "[Settings]\nFreeSpace = 10X\n" QBIT RADARR, -1, 1, 0,
	    { "@:2: [Settings] FreeSpace: \"10X\" is not a size" }, { NULL },
	    NULL },
	{ "bad duration", QBIT RADARR "[Radarr-Movies.Torrent]\n"
	    "MaximumETA = 2Y\n", -1, 1, 0,
	    { "@:6: [Radarr-Movies.Torrent] MaximumETA: \"2Y\" is not a "
	    "duration" }, { NULL }, NULL },
	{ "webhook URL is never echoed", "[Settings]\n"
	    "WebhookURL = \"ftp://x/?token=SECRET1\"\n" QBIT RADARR, -1, 1, 0,
	    { "@:2: [Settings] WebhookURL: not an http" }, { "SECRET1" },
	    NULL },
	{ "line without '='", QBIT "Port\n" RADARR, -1, 1, 0,
	    { "@:3: expected KEY = VALUE" }, { NULL }, NULL },
	{ "unterminated section header", QBIT "[Radarr-Movies\n"
	    "Category = radarr\n", -1, 1, 1,
	    { "@:3: unterminated section header" }, { NULL }, NULL },
	{ "empty instance name", QBIT "[qBit-]\nPort = 1\n" RADARR, -1, 1, 0,
	    { "@:3: [qBit-]: empty instance name" }, { NULL }, NULL },
	{ "no instance", RADARR, -1, 1, 0,
	    { "@: no [qBit] instance configured" }, { NULL }, NULL },
	{ "only disabled instances", QBIT "Disabled = true\n" RADARR, -1, 1,
	    0, { "@: no [qBit] instance configured" }, { NULL }, NULL },
	{ "one disabled instance", QBIT "Disabled = true\n[qBit-B]\n" RADARR,
	    0, 0, 0, { NULL }, { NULL }, check_disabled },
	{ "bad Host scheme", "[qBit]\nHost = ftp://files\n" RADARR, -1, 1, 0,
	    { "@:2: [qBit] Host: unsupported scheme \"ftp\"" }, { NULL }, NULL },
	{ "empty Host", "[qBit]\nHost = \"\"\n" RADARR, -1, 1, 0,
	    { "@:2: [qBit] Host: must not be empty" }, { NULL }, NULL },
	{ "credentials in Host", "[qBit]\nHost = http://u:SECRET2@h\n" RADARR,
	    -1, 1, 0, { "@:2: [qBit] Host: a user name or password" },
	    { "SECRET2" }, NULL },
	{ "Password and PasswordFile", QBIT "Password = SECRET3\n"
	    "PasswordFile = /nonexistent\n" RADARR, -1, 1, 0,
	    { "@:4: [qBit] PasswordFile: Password (line 3) and PasswordFile "
	    "are both set" }, { "SECRET3" }, NULL },
	{ "missing PasswordFile", QBIT "PasswordFile = no-such-file\n" RADARR,
	    -1, 1, 0, { "@:3: [qBit] PasswordFile: cannot read ",
	    "no-such-file: No such file or directory" }, { NULL }, NULL },
	{ "three errors, all reported", QBIT "Port = x\n" RADARR
	    "Managed = perhaps\n[Radarr-Movies.Torrent.SeedingMode]\n"
	    "RemoveTorrent = 9\n", -1, 3, 0,
	    { "@:3: [qBit] Port:", "@:6: [Radarr-Movies] Managed:",
	    "@:8: [Radarr-Movies.Torrent.SeedingMode] RemoveTorrent:" },
	    { NULL }, NULL },
};

static void
test_load_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(load_cases); i++) {
		const struct load_case *lc = &load_cases[i];
		struct config cfg;
		char *path = write_tmp(lc->ini), *msgs, *s;
		int rc;

		print_message("case: %s\n", lc->name);
		rc = load_capture(path, &cfg, &msgs);
		if (rc != lc->rc)
			fail_msg("%s: rc %d, expected %d; messages:\n%s",
			    lc->name, rc, lc->rc, msgs);
		if (lc->errors >= 0 &&
		    count_substr(msgs, "error: ") != lc->errors)
			fail_msg("%s: expected %d errors in:\n%s", lc->name,
			    lc->errors, msgs);
		if (lc->warnings >= 0 &&
		    count_substr(msgs, "warning: ") != lc->warnings)
			fail_msg("%s: expected %d warnings in:\n%s", lc->name,
			    lc->warnings, msgs);
		for (j = 0; j < NELEM(lc->want) && lc->want[j] != NULL; j++) {
			s = expand(lc->want[j], path);
			assert_contains(msgs, s);
			free(s);
		}
		for (j = 0; j < NELEM(lc->unwanted) && lc->unwanted[j] != NULL;
		    j++) {
			s = expand(lc->unwanted[j], path);
			assert_lacks(msgs, s);
			free(s);
		}
		if (rc == 0 && lc->check != NULL)
			lc->check(&cfg);
		if (rc != 0) {
			/* A failed load leaves a zeroed config. */
			assert_null(cfg.path);
			assert_int_equal(cfg.n_instances, 0);
		}
		config_free(&cfg);
		free(msgs);
		free(path);
	}
}

/* Lines have no length limit (qBitrr 5.14.1 writes 250 characters). */
static void
test_line_limit(void **state)
{
	static const size_t lens[] = { 199, 200, 250, 70000 };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(lens); i++) {
		struct config cfg;
		struct buf b;
		char *path, *msgs;

		buf_init(&b);
		buf_puts(&b, QBIT "[Radarr-Movies]\nCategory = \"");
		while (b.len - strlen(QBIT "[Radarr-Movies]\n") < lens[i] - 1)
			buf_puts(&b, "c");
		buf_puts(&b, "\"\n");
		path = write_tmp(b.data);
		assert_int_equal(load_capture(path, &cfg, &msgs), 0);
		assert_int_equal(strlen(cfg.arrs[0].category), lens[i] - 13);
		config_free(&cfg);
		free(msgs);
		free(path);
		buf_free(&b);
	}
}

/* The design notes' examples and the shipped files must load cleanly. */

struct file_case {
	const char *file;
	size_t	 n_instances;
	size_t	 n_arrs;
	const char *urls[4];
	const char *cats[3];
};

static const struct file_case file_cases[] = {
	{ "tests/data/configs/design-single.ini", 1, 1,
	    { "http://localhost:8080" }, { "radarr" } },
	{ "tests/data/configs/design-multi.ini", 3, 2,
	    { "http://localhost:8080", "http://seedbox.example.com:8080",
	    "http://192.168.1.100:8090" }, { "radarr", "sonarr" } },
	{ "tests/data/configs/design-ha.ini", 2, 1,
	    { "http://localhost:8080", "http://192.168.1.100:8080" },
	    { "radarr" } },
	{ "tests/data/configs/design-load.ini", 3, 1,
	    { "http://192.168.1.10:8080", "http://192.168.1.20:8080",
	    "http://192.168.1.30:8080" }, { "sonarr" } },
	{ "tests/data/configs/design-content.ini", 2, 2,
	    { "http://localhost:8080", "http://seedbox.example.com:8080" },
	    { "radarr", "radarr-4k" } },
	{ "tests/data/configs/design-v4.ini", 2, 1,
	    { "http://localhost:8080", "http://seedbox.example.com:8080" },
	    { "radarr" } },
	{ "tests/data/configs/design-migrate.ini", 1, 0,
	    { "http://seedbox.example.com:8080" }, { NULL } },
	{ "tests/data/configs/qbitrr-compat.ini", 1, 1,
	    { "http://localhost:8080" }, { "radarr-1080" } },
	{ "tests/data/configs/long-line.ini", 1, 1, { "http://localhost:8080" },
	    { "sonarr" } },
	{ "qbitrr.ini.sample", 1, 1, { "http://localhost:8080" },
	    { "radarr" } },
};

static void
test_files(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(file_cases); i++) {
		const struct file_case *fc = &file_cases[i];
		char *path = unit_repo_path(fc->file), *msgs;
		struct config cfg;
		int rc;

		print_message("file: %s\n", fc->file);
		rc = load_capture(path, &cfg, &msgs);
		if (rc != 0 || count_substr(msgs, "error: ") != 0)
			fail_msg("%s: rc %d:\n%s", path, rc, msgs);
		/* Only the secrets permission warning is acceptable. */
		if (count_substr(msgs, "warning: ") !=
		    count_substr(msgs, "contains secrets"))
			fail_msg("%s: unexpected warning:\n%s", path, msgs);
		assert_int_equal(cfg.n_instances, fc->n_instances);
		assert_int_equal(cfg.n_arrs, fc->n_arrs);
		for (j = 0; j < fc->n_instances && j < NELEM(fc->urls); j++)
			assert_string_equal(cfg.instances[j].base_url,
			    fc->urls[j]);
		for (j = 0; j < fc->n_arrs && j < NELEM(fc->cats); j++)
			assert_string_equal(cfg.arrs[j].category, fc->cats[j]);
		config_free(&cfg);
		free(msgs);
		free(path);
	}
}

static void
test_bad_files(void **state)
{
	struct config cfg;
	char *path, *msgs, *want;

	(void)state;
	path = unit_repo_path("tests/data/configs/bad-three-errors.ini");
	assert_int_equal(load_capture(path, &cfg, &msgs), -1);
	assert_int_equal(count_substr(msgs, "error: "), 3);
	want = xasprintf("%s:4: [qBit] Port:", path);
	assert_contains(msgs, want);
	free(want);
	want = xasprintf("%s:8: [Radarr-Movies] ReSearch:", path);
	assert_contains(msgs, want);
	free(want);
	want = xasprintf("%s:11: [Radarr-Movies.Torrent.SeedingMode] "
	    "RemoveTorrent:", path);
	assert_contains(msgs, want);
	free(want);
	free(msgs);
	free(path);

	path = xasprintf("%s/does-not-exist.ini", tmpdir);
	assert_int_equal(load_capture(path, &cfg, &msgs), -1);
	want = xasprintf("%s: cannot open: No such file or directory", path);
	assert_contains(msgs, want);
	free(want);
	free(msgs);
	free(path);

	assert_int_equal(load_capture(tmpdir, &cfg, &msgs), -1);
	assert_contains(msgs, "cannot open: Is a directory");
	free(msgs);
}

/* Host forms. */

struct host_case {
	const char *host;	/* NULL: no Host key */
	const char *port;	/* NULL: no Port key */
	const char *base_url;	/* NULL: an error is expected */
	int	 eff_port;
};

static const struct host_case host_cases[] = {
	{ NULL, NULL, "http://localhost:8080", 8080 },
	{ "localhost", "9000", "http://localhost:9000", 9000 },
	{ "\"192.168.1.100\"", "8090", "http://192.168.1.100:8090", 8090 },
	{ "seedbox.example.com", NULL, "http://seedbox.example.com:8080", 8080 },
	{ "[::1]", NULL, "http://[::1]:8080", 8080 },
	{ "::1", "81", "http://[::1]:81", 81 },
	{ "http://h:9090", "8080", "http://h:9090", 9090 },
	{ "http://h", "8081", "http://h:8081", 8081 },
	{ "https://seed.example.com/qbt/", "443",
	    "https://seed.example.com/qbt", 443 },
	/* A URL without a port: its scheme's, not 8080 (Port unset). */
	{ "https://seedbox.example.com/qbt", NULL, "https://seedbox.example.com/qbt", 443 },
	{ "http://nas.lan", NULL, "http://nas.lan", 80 },
	{ "https://h/x", "8443", "https://h:8443/x", 8443 },
	{ "HTTPS://h:8443/a/b", NULL, "https://h:8443/a/b", 8443 },
	{ "https://[fe80::1]:9443/", NULL, "https://[fe80::1]:9443", 9443 },
	{ "h:7000", NULL, "http://h:7000", 7000 },
	{ "ftp://h", NULL, NULL, 0 },
	{ "http://", NULL, NULL, 0 },
	{ "http://h:0", NULL, NULL, 0 },
	{ "http://h:99999", NULL, NULL, 0 },
	{ "http://h:80x", NULL, NULL, 0 },
	{ "http://h/?q=1", NULL, NULL, 0 },
	{ "http://fe80::1/", NULL, NULL, 0 },
	{ "\"\"", NULL, NULL, 0 },
	{ "localhost", "abc", NULL, 0 },
};

static void
test_hosts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(host_cases); i++) {
		const struct host_case *hc = &host_cases[i];
		struct buf b;
		struct config cfg;
		char *path, *msgs;
		int rc;

		buf_init(&b);
		buf_puts(&b, "[qBit]\n");
		if (hc->host != NULL)
			buf_printf(&b, "Host = %s\n", hc->host);
		if (hc->port != NULL)
			buf_printf(&b, "Port = %s\n", hc->port);
		buf_puts(&b, RADARR);
		path = write_tmp(b.data);
		rc = load_capture(path, &cfg, &msgs);
		print_message("host %s port %s: %s", hc->host ? hc->host : "-",
		    hc->port ? hc->port : "-", msgs[0] ? msgs : "ok\n");
		if (hc->base_url == NULL) {
			assert_int_equal(rc, -1);
			assert_int_equal(count_substr(msgs, "error: "), 1);
			assert_contains(msgs, "[qBit] ");
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(cfg.instances[0].base_url,
			    hc->base_url);
			assert_int_equal(cfg.instances[0].port, hc->eff_port);
		}
		config_free(&cfg);
		free(msgs);
		free(path);
		buf_free(&b);
	}
}

/* Value parsers. */

struct dur_case {
	const char *s;
	int64_t	 unit;
	int	 rc;
	int64_t	 want;
};

static const struct dur_case dur_cases[] = {
	{ "90", 1, 0, 90 },
	{ "90", 60, 0, 5400 },
	{ "0", 1, 0, 0 },
	{ "-1", 1, 0, -1 },
	{ "-1", 60, 0, -60 },
	{ "90s", 60, 0, 90 },
	{ "15m", 1, 0, 900 },
	{ "2h", 1, 0, 7200 },
	{ "2H", 1, 0, 7200 },
	{ "1d", 1, 0, 86400 },
	{ "1w", 1, 0, 604800 },
	{ " 3 m ", 1, 0, 180 },
	{ "+5", 1, 0, 5 },
	{ "", 1, -1, 0 },
	{ "m", 1, -1, 0 },
	{ "1M", 1, 0, 30 * 86400 },
	{ "2M", 60, 0, 60 * 86400 },
	{ "1.5h", 1, -1, 0 },
	{ "1hh", 1, -1, 0 },
	{ "1 h x", 1, -1, 0 },
	{ "ten", 1, -1, 0 },
	{ "- 1", 1, -1, 0 },
	{ "99999999999999999999", 1, -1, 0 },
	{ "9223372036854775807", 1, 0, INT64_MAX },
	{ "9223372036854775807", 60, -1, 0 },
	{ "1", 0, -1, 0 },
};

struct size_case {
	const char *s;
	int	 rc;
	int64_t	 want;
};

static const struct size_case size_cases[] = {
	{ "-1", 0, -1 },
	{ "0", 0, 0 },
	{ "1234", 0, 1234 },
	{ "10K", 0, 10240 },
	{ "10k", 0, 10240 },
	{ "512M", 0, INT64_C(512) << 20 },
	{ "100G", 0, INT64_C(100) << 30 },
	{ "100 GB", 0, INT64_C(100) << 30 },
	{ "100GiB", 0, INT64_C(100) << 30 },
	{ "1T", 0, INT64_C(1) << 40 },
	{ "7B", 0, 7 },
	{ "-2", -1, 0 },
	{ "-1G", -1, 0 },
	{ "", -1, 0 },
	{ "G", -1, 0 },
	{ "1.5G", 0, INT64_C(3) << 29 },
	{ "0.5K", 0, 512 },
	{ "1.", -1, 0 },
	{ ".5G", -1, 0 },
	{ "10X", -1, 0 },
	{ "10 K B x", -1, 0 },
	{ "99999999999T", -1, 0 },
};

struct bool_case {
	const char *s;
	int	 rc;
	bool	 want;
};

static const struct bool_case bool_cases[] = {
	{ "true", 0, true }, { "TRUE", 0, true }, { "yes", 0, true },
	{ "On", 0, true }, { "1", 0, true }, { "false", 0, false },
	{ "No", 0, false }, { "off", 0, false }, { "0", 0, false },
	{ "", -1, false }, { "2", -1, false }, { "maybe", -1, false },
	{ "truee", -1, false }, { " true", -1, false },
};

static void
test_parsers(void **state)
{
	size_t i;
	int64_t v;
	bool b;

	(void)state;
	for (i = 0; i < NELEM(dur_cases); i++) {
		v = 12345;
		if (config_parse_duration(dur_cases[i].s, dur_cases[i].unit,
		    &v) != dur_cases[i].rc)
			fail_msg("duration \"%s\": wrong rc", dur_cases[i].s);
		if (dur_cases[i].rc == 0 && v != dur_cases[i].want)
			fail_msg("duration \"%s\": %lld", dur_cases[i].s,
			    (long long)v);
	}
	for (i = 0; i < NELEM(size_cases); i++) {
		v = 12345;
		if (config_parse_size(size_cases[i].s, &v) != size_cases[i].rc)
			fail_msg("size \"%s\": wrong rc", size_cases[i].s);
		if (size_cases[i].rc == 0 && v != size_cases[i].want)
			fail_msg("size \"%s\": %lld", size_cases[i].s,
			    (long long)v);
	}
	for (i = 0; i < NELEM(bool_cases); i++) {
		b = !bool_cases[i].want;
		if (config_parse_bool(bool_cases[i].s, &b) != bool_cases[i].rc)
			fail_msg("bool \"%s\": wrong rc", bool_cases[i].s);
		if (bool_cases[i].rc == 0 && b != bool_cases[i].want)
			fail_msg("bool \"%s\": wrong value", bool_cases[i].s);
	}
	assert_int_equal(config_parse_duration(NULL, 1, &v), -1);
	assert_int_equal(config_parse_size(NULL, &v), -1);
	assert_int_equal(config_parse_bool(NULL, &b), -1);
}

/* PathMapping. */

struct map_case {
	const char *in;
	const char *out;
};

static const struct map_case map_cases[] = {
	{ "/data/movies/x.mkv", "/mnt/d/movies/x.mkv" },
	{ "/data", "/mnt/d" },
	{ "/data/", "/mnt/d" },
	{ "/database/x", "/database/x" },
	{ "/data/4k/y.mkv", "/fast/y.mkv" },
	{ "/data/4kx/y.mkv", "/mnt/d/4kx/y.mkv" },
	{ "/data/4k", "/fast" },
	{ "/downloads/a", "/a" },
	{ "/downloads", "/" },
	{ "/other/z", "/other/z" },
	{ "relative/x", "relative/x" },
	{ "", "" },
};

static void
test_path_mapping(void **state)
{
	struct config cfg;
	const struct instance_config *ic;
	char *path, *msgs, *out;
	size_t i;

	(void)state;
	path = write_tmp("[qBit]\n"
	    "PathMapping = [\"/data/=/mnt/d/\", \"/downloads=/\",\n"
	    "    \"/data/4k = /fast\"]\n" RADARR);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	ic = &cfg.instances[0];
	assert_int_equal(ic->n_mappings, 3);
	/* Longest remote first, trailing slashes gone. */
	assert_string_equal(ic->mappings[0].remote, "/downloads");
	assert_string_equal(ic->mappings[0].local, "/");
	assert_string_equal(ic->mappings[1].remote, "/data/4k");
	assert_string_equal(ic->mappings[1].local, "/fast");
	assert_string_equal(ic->mappings[2].remote, "/data");
	assert_string_equal(ic->mappings[2].local, "/mnt/d");
	for (i = 0; i < NELEM(map_cases); i++) {
		out = config_map_path(ic, map_cases[i].in);
		if (strcmp(out, map_cases[i].out) != 0)
			fail_msg("map \"%s\": \"%s\", expected \"%s\"",
			    map_cases[i].in, out, map_cases[i].out);
		free(out);
	}
	config_free(&cfg);
	free(msgs);
	free(path);

	/* A root mapping catches every absolute path. */
	path = write_tmp("[qBit]\nPathMapping = [\"/=/srv/remote\"]\n" RADARR);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	out = config_map_path(&cfg.instances[0], "/a/b");
	assert_string_equal(out, "/srv/remote/a/b");
	free(out);
	out = config_map_path(&cfg.instances[0], "/");
	assert_string_equal(out, "/srv/remote");
	free(out);
	config_free(&cfg);
	free(msgs);
	free(path);

	/* No mappings: a copy. */
	{
		struct instance_config none;

		memset(&none, 0, sizeof(none));
		out = config_map_path(&none, "/x");
		assert_string_equal(out, "/x");
		free(out);
	}
}

/* Secrets. */

static void
test_password_file(void **state)
{
	struct config cfg;
	char *pw, *pw2, *path, *msgs, *text, *out;
	struct capture c;

	(void)state;
	pw = write_file_mode("qbit.pw", "s3cr3t-pw\n", 0600);
	pw2 = write_file_mode("arr.key", "KEY-FROM-FILE\r\n", 0600);
	text = xasprintf("[qBit]\nPasswordFile = qbit.pw\nUserName = u\n"
	    "[Radarr-Movies]\nCategory = radarr\nAPIKeyFile = %s\n", pw2);
	path = write_tmp(text);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	assert_string_equal(cfg.instances[0].password, "s3cr3t-pw");
	assert_string_equal(cfg.instances[0].password_file, "qbit.pw");
	assert_string_equal(cfg.arrs[0].api_key, "KEY-FROM-FILE");
	assert_string_equal(cfg.arrs[0].api_key_file, pw2);
	/* The files are printed as paths; their content never. */
	capture_start(&c, 1);
	config_print(&cfg);
	out = capture_end(&c);
	assert_contains(out, "PasswordFile = \"qbit.pw\"");
	assert_lacks(out, "s3cr3t-pw");
	assert_lacks(out, "KEY-FROM-FILE");
	free(out);
	config_free(&cfg);
	free(msgs);
	free(path);
	free(text);

	/* Only one trailing newline is stripped. */
	free(pw);
	pw = write_file_mode("two.pw", "a\n\n", 0600);
	path = write_tmp("[qBit]\nPasswordFile = two.pw\n" RADARR);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	assert_string_equal(cfg.instances[0].password, "a\n");
	config_free(&cfg);
	free(msgs);
	free(path);
	free(pw);
	free(pw2);
}

static void
test_secret_permissions(void **state)
{
	struct config cfg;
	char *path, *msgs;

	(void)state;
	path = write_file_mode("open.ini", "[qBit]\nPassword = SECRET4\n"
	    RADARR, 0644);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	assert_contains(msgs, "contains secrets but is readable by "
	    "group/others (chmod 600");
	assert_lacks(msgs, "SECRET4");
	config_free(&cfg);
	free(msgs);
	free(path);

	path = write_file_mode("closed.ini", "[qBit]\nPassword = SECRET4\n"
	    RADARR, 0600);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	assert_lacks(msgs, "contains secrets");
	config_free(&cfg);
	free(msgs);
	free(path);

	/* No secret inside: no warning even when world-readable. */
	path = write_file_mode("public.ini", "[qBit]\nPassword = \"\"\n"
	    RADARR, 0644);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	assert_lacks(msgs, "contains secrets");
	assert_null(cfg.instances[0].password);
	config_free(&cfg);
	free(msgs);
	free(path);
}

static const char print_ini[] =
	"[Settings]\n"
	"WebhookURL = \"https://hooks.example/x?token=WEBHOOKSECRET\"\n"
	"NotifyCommand = \"say \\\"done\\\"\"\n"
	"[qBit]\nHost = \"https://seed.example.com/qbt\"\nPort = 443\n"
	"UserName = admin\nPassword = QBITSECRET\n"
	"PathMapping = [\"/remote/a=/local/a\", \"/r=/l\"]\n"
	"[qBit-Two]\nHost = 10.0.0.2\n"
	"[Sonarr-TV]\nCategory = tv\nURI = \"http://sonarr:8989/\"\n"
	"APIKey = ARRSECRET\n"
	"[Sonarr-TV.Torrent]\nUnregisteredMessages = [\"Extra Msg\"]\n"
	"FileNameExclusionRegex = [\"\\\\bsample\\\\b\", \"[0-9]{3}p\"]\n"
	"[Sonarr-TV.Torrent.SeedingMode]\nMaxUploadRatio = 1.25\n"
	"MaxSeedingTime = 2h\nRemoveTorrent = 3\n";

static void
test_print(void **state)
{
	struct config cfg, again;
	struct capture c;
	char *path, *msgs, *out, *path2, *cut;
	const char *secrets[] = { "WEBHOOKSECRET", "QBITSECRET", "ARRSECRET" };
	size_t i;

	(void)state;
	path = write_tmp(print_ini);
	assert_int_equal(load_capture(path, &cfg, &msgs), 0);
	free(msgs);
	capture_start(&c, 1);
	config_print(&cfg);
	out = capture_end(&c);
	for (i = 0; i < NELEM(secrets); i++)
		assert_lacks(out, secrets[i]);
	assert_int_equal(count_substr(out, "\"********\""), 3);
	assert_contains(out, "Password = \"********\"");
	assert_contains(out, "APIKey = \"********\"");
	assert_contains(out, "WebhookURL = \"********\"");
	assert_contains(out, "[Sonarr-TV.Torrent.SeedingMode]");
	assert_contains(out, "# base URL: https://seed.example.com/qbt");
	assert_contains(out, "MaxSeedingTime = 7200");
	assert_contains(out, "URI = \"http://sonarr:8989\"");

	/*
	 * What is printed loads again to the same configuration (once the
	 * masked webhook, which is no URL any more, is taken out).
	 */
	cut = strstr(out, "WebhookURL = ");
	assert_non_null(cut);
	memset(cut, '#', 10);
	path2 = write_tmp(out);
	assert_int_equal(load_capture(path2, &again, &msgs), 0);
	assert_int_equal(count_substr(msgs, "warning: "), 0);
	assert_int_equal(again.n_instances, 2);
	assert_int_equal(again.n_arrs, 1);
	assert_string_equal(again.instances[0].base_url,
	    cfg.instances[0].base_url);
	assert_string_equal(again.instances[1].base_url,
	    "http://10.0.0.2:8080");
	assert_int_equal(again.instances[0].n_mappings, 2);
	assert_string_equal(again.instances[0].mappings[0].remote, "/remote/a");
	assert_string_equal(again.settings.notify_command, "say \"done\"");
	assert_string_equal(again.arrs[0].torrent.filename_exclusion.patterns[0],
	    "\\bsample\\b");
	assert_int_equal(again.arrs[0].torrent.unregistered_messages.n, 8);
	assert_string_equal(again.arrs[0].torrent.unregistered_messages.items[7],
	    "extra msg");
	assert_int_equal(again.arrs[0].torrent.extension_allowlist.n,
	    cfg.arrs[0].torrent.extension_allowlist.n);
	assert_int_equal(again.arrs[0].error_codes_to_blocklist.n,
	    cfg.arrs[0].error_codes_to_blocklist.n);
	assert_true(again.arrs[0].torrent.seeding.max_ratio == 1.25);
	assert_int_equal(again.arrs[0].torrent.seeding.remove_torrent, 3);
	assert_int_equal(again.settings.http_timeout, 30);
	config_free(&again);
	free(msgs);
	free(path2);
	free(out);
	config_free(&cfg);
	free(path);
}

static void
test_free_zeroed(void **state)
{
	struct config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	config_free(&cfg);
	config_free(&cfg);
	assert_null(cfg.path);
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_load_table),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_path_mapping),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_secret_permissions),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_free_zeroed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
