/* main: the command line of qbitrr-sweep. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "sweep.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char usage_text[] =
"usage: qbitrr-sweep [options] [sweep | status | check-config | explain [QUERY] |\n"
"                    history [HASH-PREFIX]]\n"
"\n"
"Commands:\n"
"  sweep            check every instance once and act (default)\n"
"  status           show every instance and the tracked torrents\n"
"  check-config     validate the config and print it with secrets masked\n"
"  explain [QUERY]  show the rule chain for torrents matching a hash prefix\n"
"                   or name substring, and their history\n"
"  history [PREFIX] show the audit log, newest first\n"
"\n"
"Options:\n"
"  -c, --config FILE    config file (default $QBITRR_CONFIG, else /etc/qbitrr/qbitrr.ini)\n"
"  -s, --state FILE     state file (default [Settings] StateFile, else qbitrr.db\n"
"                       beside the config file)\n"
"  -n, --dry-run        plan only: no change on any server, no state-file write\n"
"      --json           print one JSON document on stdout\n"
"      --html FILE      status: also write a self-contained HTML status page\n"
"      --since DURATION history: only entries newer than DURATION (e.g. 2d)\n"
"      --instance NAME  history: only entries of this instance\n"
"  -v, --verbose        more detail on stderr (repeat for more)\n"
"  -q, --quiet          only warnings and errors\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Exit status: 0 done, 1 partial failure, 64 bad command line, 74 state file\n"
"error, 75 another run holds the lock, 78 configuration error.\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

enum { OPT_JSON = 256, OPT_HTML, OPT_SINCE, OPT_INSTANCE };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "instance", required_argument, NULL, OPT_INSTANCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sweep_options opt;
	struct config cfg;
	const char *config_path = getenv("QBITRR_CONFIG");
	const char *command = "sweep";
	int ch, level = LOG_NOTICE, rc;
	struct sigaction sa;

	memset(&opt, 0, sizeof(opt));
	if (config_path == NULL || *config_path == '\0')
		config_path = "/etc/qbitrr/qbitrr.ini";
	while ((ch = getopt_long(argc, argv, "c:s:nvqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			opt.state_path = optarg;
			break;
		case 'n':
			opt.dry_run = true;
			break;
		case OPT_JSON:
			opt.json = true;
			break;
		case OPT_HTML:
			opt.html_path = optarg;
			break;
		case OPT_SINCE:
			if (config_parse_duration(optarg, 1, &opt.since) == -1 || opt.since <= 0) {
				fprintf(stderr, "qbitrr-sweep: --since: bad duration \"%s\" "
				    "(e.g. 90m, 12h, 7d)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_INSTANCE:
			opt.instance = optarg;
			break;
		case 'v':
			level++;
			break;
		case 'q':
			level = LOG_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("qbitrr-sweep %s\n", QBITRR_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	log_set_level(level);
	if (optind < argc)
		command = argv[optind++];
	if (strcmp(command, "explain") == 0 || strcmp(command, "history") == 0) {
		if (optind < argc)
			opt.query = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "qbitrr-sweep: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(command, "sweep") != 0 && strcmp(command, "status") != 0 &&
	    strcmp(command, "check-config") != 0 && strcmp(command, "explain") != 0 &&
	    strcmp(command, "history") != 0) {
		fprintf(stderr, "qbitrr-sweep: unknown command \"%s\"\n", command);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opt.html_path != NULL && strcmp(command, "status") != 0) {
		fprintf(stderr, "qbitrr-sweep: --html is for the status command\n");
		return EXIT_USAGE;
	}

	if (config_load(config_path, &cfg) == -1)
		return EXIT_CONFIG;
	if (strcmp(command, "check-config") == 0) {
		config_print(&cfg);
		config_free(&cfg);
		return 0;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(command, "status") == 0)
		rc = sweep_status(&cfg, &opt, &stop_requested);
	else if (strcmp(command, "explain") == 0)
		rc = sweep_explain(&cfg, &opt, &stop_requested);
	else if (strcmp(command, "history") == 0)
		rc = sweep_history(&cfg, &opt);
	else
		rc = sweep_run(&cfg, &opt, &stop_requested);
	config_free(&cfg);
	return rc;
}
