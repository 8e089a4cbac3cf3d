/*
 * libFuzzer harness: the bytes are a qbitrr.ini.  Each input is written to
 * one temporary file (created once per process), loaded with config_load(),
 * printed with config_print() (stdout goes to /dev/null) and freed.  The
 * value parsers (config_value.c) get a NUL-terminated copy directly.
 *
 * Built and run by tests/fuzz/run.sh (make fuzz).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_p.h"
#include "config_read.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
static void	ignore_error(void *arg, int line, const char *msg);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[64];

static void
ignore_error(void *arg, int line, const char *msg)
{
	(void)arg;
	(void)line;
	(void)msg;
}

static void
remove_tmp(void)
{
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *devnull;
	int fd;

	(void)argc;
	(void)argv;
	/*
	 * The config module reports every problem on stderr.  Send the
	 * program's stderr stream to /dev/null so that fuzzing is fast; the
	 * stream, not descriptor 2, so that libFuzzer's status lines (it
	 * keeps its own copy of the original stream) and the sanitizer
	 * reports (written to descriptor 2) still show.
	 */
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz_config: /dev/null");
		exit(1);
	}
	stderr = devnull;
	if (freopen("/dev/null", "w", stdout) == NULL) {
		perror("fuzz_config: stdout");
		exit(1);
	}
	/* A PasswordFile = /dev/stdin must not wait for a terminal. */
	if (freopen("/dev/null", "r", stdin) == NULL) {
		perror("fuzz_config: stdin");
		exit(1);
	}
	log_set_level(LOG_TRACE);	/* exercise every message */

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/fuzz_config.%ld.XXXXXX",
	    (long)getpid());
	if ((fd = mkstemp(tmp_path)) == -1) {
		perror("fuzz_config: mkstemp");
		exit(1);
	}
	close(fd);
	atexit(remove_tmp);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	int64_t i64;
	bool b;
	char *s;
	FILE *fp;

	if ((fp = fopen(tmp_path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp) != 0)
		abort();

	if (config_load(tmp_path, &cfg) == 0) {
		config_print(&cfg);
		config_free(&cfg);
	}

	/* The reader alone, straight from memory. */
	{
		struct cr_file f;

		(void)config_read_mem((const char *)data, size, &f, ignore_error, NULL);
		config_read_free(&f);
	}

	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)config_parse_duration(s, 1, &i64);
	(void)config_parse_duration(s, 60, &i64);
	(void)config_parse_size(s, &i64);
	(void)config_parse_bool(s, &b);
	(void)config_parse_i64(s, &i64);
	{
		struct url u;
		const char *why = NULL;
		char *whybuf = NULL;

		memset(&u, 0, sizeof(u));
		if (config_url_parse(s, &u, &why, &whybuf) == 0)
			config_url_free(&u);
		free(whybuf);
		free(config_uri_host(s));
		free(config_trim_dup(s, size));
	}
	free(s);
	return 0;
}
