/*
 * libFuzzer harness: the bytes are an answer from qBittorrent, fed to every
 * JSON reader of src/qbit.h (torrents/info, torrents/categories,
 * torrents/files, torrents/trackers, sync/maindata); results are freed.
 *
 * Built and run by tests/fuzz/run.sh (make fuzz).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "qbit.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);	/* the readers log nothing; keep it quiet */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct qbit_torrent_list tl = { NULL, 0, 0 }, all = { NULL, 0, 0 };
	struct qbit_file_list fl = { NULL, 0 };
	struct qbit_tracker_list kl = { NULL, 0 };
	struct strlist cats = { NULL, 0 };
	char err[256], *s;
	size_t skipped, i;
	int64_t free_space;

	/* torrents/info, twice into one list (as pages of instances are). */
	if (qbit_parse_torrents(d, size, &tl, &skipped, err, sizeof(err)) == 0)
		(void)qbit_parse_torrents(d, size, &tl, NULL, err, sizeof(err));
	for (i = 0; i < tl.n; i++) {
		if (strlen(tl.items[i].hash) != 40)
			abort();
		(void)qbit_has_tag(tl.items[i].tags, "qbitrr-sweep");
	}
	qbit_torrent_list_move(&all, &tl);
	qbit_torrent_list_free(&tl);
	qbit_torrent_list_free(&all);

	if (qbit_parse_categories(d, size, &cats, err, sizeof(err)) == 0) {
		for (i = 0; i < cats.n; i++)
			free(cats.items[i]);
	}
	free(cats.items);

	if (qbit_parse_files(d, size, &fl, err, sizeof(err)) == 0)
		qbit_file_list_free(&fl);
	if (qbit_parse_trackers(d, size, &kl, err, sizeof(err)) == 0)
		qbit_tracker_list_free(&kl);
	(void)qbit_parse_free_space(d, size, &free_space, err, sizeof(err));

	/* The small string helpers, on the input as text. */
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)qbit_has_tag(s, "done");
	(void)qbit_has_tag("a, b,done ,  c", s);
	(void)qbit_api_is_v5(s);
	free(s);
	return 0;
}
