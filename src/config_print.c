/* config_print: check-config's output, the normalised config with secrets masked. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_p.h"
#include "util.h"

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
		nextra = t->unregistered_messages.n > config_n_builtin_unregistered ?
		    t->unregistered_messages.n - config_n_builtin_unregistered : 0;
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
