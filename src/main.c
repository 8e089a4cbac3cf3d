/* main: the command line of qbitrr-sweep. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
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

/* Options only some commands take; -c, -v, -q, -h and -V go with every one. */
enum {
	TAKES_STATE = 1 << 0,
	TAKES_DRY_RUN = 1 << 1,
	TAKES_JSON = 1 << 2,
	TAKES_HTML = 1 << 3,
	TAKES_SINCE = 1 << 4,
	TAKES_INSTANCE = 1 << 5,
};

static const struct {
	unsigned bit;
	const char *name;
} option_names[] = {
	{ TAKES_STATE, "--state" },
	{ TAKES_DRY_RUN, "--dry-run" },
	{ TAKES_JSON, "--json" },
	{ TAKES_HTML, "--html" },
	{ TAKES_SINCE, "--since" },
	{ TAKES_INSTANCE, "--instance" },
};

static int
run_check_config(const struct config *cfg, const struct sweep_options *opt,
    volatile sig_atomic_t *stop)
{
	(void)opt;
	(void)stop;
	config_print(cfg);
	return 0;
}

static int
run_history(const struct config *cfg, const struct sweep_options *opt,
    volatile sig_atomic_t *stop)
{
	(void)stop;
	return sweep_history(cfg, opt);
}

/* The one list of commands: its name, the options it takes, whether it takes
 * an argument (a query), and what runs it. */
static const struct command {
	const char *name;
	unsigned takes;
	bool takes_query;
	int (*run)(const struct config *, const struct sweep_options *,
	    volatile sig_atomic_t *);
} commands[] = {
	{ "sweep", TAKES_STATE | TAKES_DRY_RUN | TAKES_JSON, false, sweep_run },
	{ "status", TAKES_STATE | TAKES_JSON | TAKES_HTML, false, sweep_status },
	{ "check-config", 0, false, run_check_config },
	{ "explain", TAKES_STATE | TAKES_JSON, true, sweep_explain },
	{ "history", TAKES_STATE | TAKES_JSON | TAKES_SINCE | TAKES_INSTANCE, true,
	    run_history },
};

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

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
	const char *name = "sweep";
	const struct command *command;
	unsigned given = 0;
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
			given |= TAKES_STATE;
			break;
		case 'n':
			opt.dry_run = true;
			given |= TAKES_DRY_RUN;
			break;
		case OPT_JSON:
			opt.json = true;
			given |= TAKES_JSON;
			break;
		case OPT_HTML:
			opt.html_path = optarg;
			given |= TAKES_HTML;
			break;
		case OPT_SINCE:
			if (config_parse_duration(optarg, 1, &opt.since) == -1 || opt.since <= 0) {
				fprintf(stderr, "qbitrr-sweep: --since: bad duration \"%s\" "
				    "(e.g. 90m, 12h, 7d)\n", optarg);
				return EXIT_USAGE;
			}
			given |= TAKES_SINCE;
			break;
		case OPT_INSTANCE:
			opt.instance = optarg;
			given |= TAKES_INSTANCE;
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
		name = argv[optind++];
	if ((command = command_find(name)) == NULL) {
		fprintf(stderr, "qbitrr-sweep: unknown command \"%s\"\n", name);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (command->takes_query && optind < argc)
		opt.query = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "qbitrr-sweep: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++)
		if ((given & option_names[i].bit) && !(command->takes & option_names[i].bit)) {
			fprintf(stderr, "qbitrr-sweep: %s: the %s command does not take "
			    "this option\n", option_names[i].name, command->name);
			return EXIT_USAGE;
		}

	if (config_load(config_path, &cfg) == -1)
		return EXIT_CONFIG;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = command->run(&cfg, &opt, &stop_requested);
	config_free(&cfg);
	return rc;
}
