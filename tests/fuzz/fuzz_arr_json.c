/*
 * libFuzzer harness: the bytes are an answer from Radarr, Sonarr or Lidarr,
 * fed to the JSON readers of src/arr.h (a queue page for each kind, a
 * command answer); the input as a string is also the path, hash and import
 * mode of the JSON bodies the client writes.  Results are freed.
 *
 * Built and run by tests/fuzz/run.sh (make fuzz).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arr.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	return 0;
}

/* A body must be one valid JSON object. */
static void
check_body(char *body)
{
	json_error_t e;
	json_t *doc;

	if (body == NULL)
		abort();
	if ((doc = json_loads(body, 0, &e)) == NULL || !json_is_object(doc))
		abort();
	json_decref(doc);
	free(body);
}

static void
free_records(struct queue_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_record_clear(&recs[i]);
	free(recs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum arr_kind kinds[] = { ARR_RADARR, ARR_SONARR, ARR_LIDARR };
	const char *d = (const char *)data;
	struct arr_client c;
	char err[256], status[32], *s;
	int64_t total, id, ids[16];
	size_t k, nids;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct queue_record *recs = NULL;
		size_t n = 0;

		/* A page, then the same page again: records merge by downloadId. */
		if (arr_parse_queue_page(d, size, kinds[k], &recs, &n, &total,
		    err, sizeof(err)) == 0)
			(void)arr_parse_queue_page(d, size, kinds[k], &recs, &n,
			    &total, err, sizeof(err));
		arr_sort_records(recs, n);
		memset(&c, 0, sizeof(c));
		c.records = recs;
		c.n_records = n;
		(void)arr_find_record(&c, s);
		if (n > 0) {
			if (arr_find_record(&c, recs[0].download_id) == NULL)
				abort();
			check_body(arr_search_body(kinds[k], recs[0].media_ids,
			    recs[0].n_media_ids));
		}
		free_records(recs, n);

		check_body(arr_scan_body(kinds[k], s, s, s));
		check_body(arr_scan_body(kinds[k], s, s, NULL));
	}

	(void)arr_parse_command(d, size, &id, status, sizeof(status), err,
	    sizeof(err));
	(void)arr_parse_command(d, size, &id, status, 1, err, 1);

	nids = size / sizeof(int64_t);
	if (nids > sizeof(ids) / sizeof(ids[0]))
		nids = sizeof(ids) / sizeof(ids[0]);
	if (nids > 0)
		memcpy(ids, data, nids * sizeof(int64_t));
	check_body(arr_search_body(kinds[size % 3], ids, nids));
	check_body(arr_bulk_body(ids, nids));

	free(s);
	return 0;
}
