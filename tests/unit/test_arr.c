/*
 * test_arr: unit tests of the pure parts of the Arr client (cmocka):
 * queue pages merged by downloadId, record lookup, command bodies (parsed
 * back with jansson) and command answers.  Queue pages live in
 * tests/data/json/.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "arr.h"
#include "util.h"
#include "unit.h"


static void
free_records(struct queue_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_record_clear(&recs[i]);
	free(recs);
}

/* Parse tests/data/json/FILE into recs/n; asserts success. */
static int64_t
parse_file(const char *file, enum arr_kind kind, struct queue_record **recs, size_t *n)
{
	size_t len;
	int64_t total = -99;
	char err[256] = "", *doc = unit_read_data(file, &len);

	if (arr_parse_queue_page(doc, len, kind, recs, n, &total, err, sizeof(err)) != 0)
		fail_msg("%s: %s", file, err);
	assert_string_equal(err, "");
	free(doc);
	return total;
}

/* ---- queue pages -------------------------------------------------------- */

/* An expected merged record; lists end at 0 / NULL. */
struct want_record {
	const char *download_id;
	int64_t	 ids[4];
	int64_t	 media[4];
	const char *status, *tracked_state, *tracked_status;
	const char *messages[6];
};

static size_t
count_ids(const int64_t *v)
{
	size_t n = 0;

	while (n < 4 && v[n] != 0)
		n++;
	return n;
}

static void
check_record(const struct queue_record *r, const struct want_record *w)
{
	size_t nm = 0;

	assert_string_equal(r->download_id, w->download_id);
	assert_int_equal(r->n_ids, count_ids(w->ids));
	for (size_t i = 0; i < r->n_ids; i++)
		assert_int_equal(r->ids[i], w->ids[i]);
	assert_int_equal(r->n_media_ids, count_ids(w->media));
	for (size_t i = 0; i < r->n_media_ids; i++)
		assert_int_equal(r->media_ids[i], w->media[i]);
	if (w->status == NULL)
		assert_null(r->status);
	else
		assert_string_equal(r->status, w->status);
	assert_string_equal(r->tracked_state, w->tracked_state);
	assert_string_equal(r->tracked_status, w->tracked_status);
	while (nm < NELEM(w->messages) && w->messages[nm] != NULL)
		nm++;
	assert_int_equal(r->n_messages, nm);
	for (size_t i = 0; i < nm; i++)
		assert_string_equal(r->messages[i], w->messages[i]);
}

#define SEASON_PACK	"14A7C2E1B7D04C4D9A51A3C5B0F2E6D8C9A0B1C2"
#define MOVIE_ONE	"FC329D74692A2BC1FB5F163A81AB437917A3D3CF"

static void
test_queue_sonarr_one_page(void **state)
{
	static const struct want_record want[] = {
		{ SEASON_PACK, { 1739261311, 88140021 }, { 1201, 1202 }, "completed",
		  "importPending", "warning",
		  { "Episode file already imported",
		    "Not an upgrade for existing episode file(s)",
		    "No files found are eligible for import in /srv/lab/data/Show.S01.1080p",
		    "Sample" } },
		/* Any download id is upper-cased, usenet ones too. */
		{ "SABNZBD_NZO_K3J2H1G0", { 220011 }, { 3101 }, "downloading", "downloading",
		  "ok", { NULL } },
	};
	struct queue_record *recs = NULL;
	size_t n = 0;

	(void)state;
	/* The pending "delay" record (no downloadId) is skipped. */
	assert_int_equal(parse_file("sonarr-queue-page1.json", ARR_SONARR, &recs, &n), 7);
	assert_int_equal(n, NELEM(want));
	for (size_t i = 0; i < n; i++)
		check_record(&recs[i], &want[i]);
	free_records(recs, n);
}

/* Two pages merged by calling twice: a download split across pages is one record. */
static void
test_queue_sonarr_two_pages(void **state)
{
	static const struct want_record want[] = {
		/* sorted: '1' < 'F' < 'S', then by client: one record per client */
		{ SEASON_PACK, { 1739261311, 88140021 }, { 1201, 1202 },
		  "completed", "importPending", "warning",
		  { "Episode file already imported",
		    "Not an upgrade for existing episode file(s)",
		    "No files found are eligible for import in /srv/lab/data/Show.S01.1080p",
		    "Sample" } },
		{ SEASON_PACK, { 401772293 }, { 1203 }, "completed", "importPending", "ok",
		  { NULL } },
		{ MOVIE_ONE, { 77 }, { 4001 }, "downloading", "downloading", "warning",
		  /* a status message with no messages is a whole-release
		   * rejection (Lidarr): its title counts */
		  { "Unknown Series", "no messages key", "bad" } },
		{ "SABNZBD_NZO_K3J2H1G0", { 220011 }, { 3101 }, "downloading", "downloading",
		  "ok", { NULL } },
	};
	struct queue_record *recs = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(parse_file("sonarr-queue-page1.json", ARR_SONARR, &recs, &n), 7);
	assert_int_equal(parse_file("sonarr-queue-page2.json", ARR_SONARR, &recs, &n), 7);
	assert_int_equal(n, 4);
	arr_sort_records(recs, n);
	for (size_t i = 0; i < n; i++)
		check_record(&recs[i], &want[i]);
	assert_string_equal(recs[0].client, "qBit");
	assert_string_equal(recs[1].client, "qBit-Seedbox");
	free_records(recs, n);
}

struct queue_file_case {
	const char *file;
	enum arr_kind kind;
	int64_t	 total;
	const struct want_record *want;
	size_t	 n;
};

static const struct want_record want_radarr[] = {
	{ MOVIE_ONE, { 1234567 }, { 101 }, "completed", "importPending", "ok", { NULL } },
	{ "0123456789ABCDEF0123456789ABCDEF01234567", { 7654321 }, { 102 }, "failed",
	  "failedPending", "error",
	  { "Movie title mismatch, automatic import is not possible. Check the release "
	    "for more details." } },
};
static const struct want_record want_lidarr[] = {
	{ "E97C4A1DD1FF0CD3CD3A1A1B2E0F0E0D1C2B3A49", { 31, 32 }, { 501, 502 }, "completed",
	  "importPending", "ok", { NULL } },
};
/* Read with the wrong kind: no movieId in Sonarr records, so no media ids. */
static const struct want_record want_sonarr_as_radarr[] = {
	{ SEASON_PACK, { 1739261311, 88140021 }, { 0 }, "completed", "importPending",
	  "warning",
	  { "Episode file already imported", "Not an upgrade for existing episode file(s)",
	    "No files found are eligible for import in /srv/lab/data/Show.S01.1080p",
	    "Sample" } },
	{ "SABNZBD_NZO_K3J2H1G0", { 220011 }, { 0 }, "downloading", "downloading", "ok",
	  { NULL } },
};

static const struct queue_file_case queue_files[] = {
	{ "radarr-queue.json", ARR_RADARR, 3, want_radarr, NELEM(want_radarr) },
	{ "lidarr-queue.json", ARR_LIDARR, 2, want_lidarr, NELEM(want_lidarr) },
	{ "arr-queue-empty.json", ARR_RADARR, 0, NULL, 0 },
	{ "sonarr-queue-page1.json", ARR_RADARR, 7, want_sonarr_as_radarr,
	  NELEM(want_sonarr_as_radarr) },
};

static void
test_queue_kinds(void **state)
{
	(void)state;
	for (size_t c = 0; c < NELEM(queue_files); c++) {
		const struct queue_file_case *qc = &queue_files[c];
		struct queue_record *recs = NULL;
		size_t n = 0;

		print_message("# %s\n", qc->file);
		assert_int_equal(parse_file(qc->file, qc->kind, &recs, &n), qc->total);
		assert_int_equal(n, qc->n);
		for (size_t i = 0; i < n; i++)
			check_record(&recs[i], &qc->want[i]);
		free_records(recs, n);
	}
}

/* Inline pages: records kept, totalRecords, and refusals. */
static void
test_queue_inline(void **state)
{
	static const struct {
		const char *doc;
		int	 rc;
		size_t	 n;
		int64_t	 total;
		const char *err;
	} cases[] = {
		{ "{\"records\":[]}", 0, 0, 0, NULL },
		{ "{\"totalRecords\":12345,\"records\":[]}", 0, 0, 12345, NULL },
		{ "{\"totalRecords\":\"3\",\"records\":[]}", 0, 0, 0, NULL },
		/* downloadId without an integer id, id without downloadId: skipped */
		{ "{\"totalRecords\":3,\"records\":[{\"downloadId\":\"AB\"},"
		  "{\"id\":\"5\",\"downloadId\":\"CD\"},{\"id\":5},{\"id\":6,\"downloadId\":7},"
		  "null,42,{\"id\":8,\"downloadId\":\"ef\"}]}", 0, 1, 3, NULL },
		/* status fields absent: NULL */
		{ "{\"records\":[{\"id\":1,\"downloadId\":\"x\"}]}", 0, 1, 0, NULL },
		{ "[]", -1, 0, 0, "expected a queue page with records" },
		{ "[{\"id\":1,\"downloadId\":\"AB\"}]", -1, 0, 0,
		  "expected a queue page with records" },
		{ "{\"page\":1,\"totalRecords\":0}", -1, 0, 0, "expected a queue page with records" },
		{ "{\"records\":{}}", -1, 0, 0, "expected a queue page with records" },
		{ "{\"records\":null}", -1, 0, 0, "expected a queue page with records" },
		{ "", -1, 0, 0, "malformed JSON" },
		{ "{\"records\":[{\"id\":1,\"downloadId\":\"AB\"}", -1, 0, 0, "malformed JSON" },
		{ "<html>503 Service Unavailable</html>", -1, 0, 0, "malformed JSON" },
	};

	(void)state;
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct queue_record *recs = NULL;
		size_t n = 0;
		int64_t total = -99;
		char err[256] = "";
		int rc = arr_parse_queue_page(cases[c].doc, strlen(cases[c].doc), ARR_SONARR,
		    &recs, &n, &total, err, sizeof(err));

		print_message("# case %zu: %s\n", c, cases[c].doc);
		assert_int_equal(rc, cases[c].rc);
		assert_int_equal(n, cases[c].n);
		if (rc == 0)
			assert_int_equal(total, cases[c].total);
		else
			assert_non_null(strstr(err, cases[c].err));
		free_records(recs, n);
	}

	/* The one kept record of case 3 and the absent status fields of case 4. */
	{
		struct queue_record *recs = NULL;
		size_t n = 0;
		int64_t total;
		char err[256];

		assert_int_equal(arr_parse_queue_page(cases[3].doc, strlen(cases[3].doc),
		    ARR_SONARR, &recs, &n, &total, err, sizeof(err)), 0);
		assert_int_equal(arr_parse_queue_page(cases[4].doc, strlen(cases[4].doc),
		    ARR_SONARR, &recs, &n, &total, err, sizeof(err)), 0);
		assert_int_equal(n, 2);
		assert_string_equal(recs[0].download_id, "EF");
		assert_int_equal(recs[0].n_ids, 1);
		assert_int_equal(recs[0].ids[0], 8);
		assert_int_equal(recs[0].n_media_ids, 0);
		assert_string_equal(recs[1].download_id, "X");
		assert_null(recs[1].status);
		assert_null(recs[1].tracked_state);
		assert_null(recs[1].tracked_status);
		assert_int_equal(recs[1].n_messages, 0);
		free_records(recs, n);
	}
}

/* A failed page leaves what earlier pages gave untouched. */
static void
test_queue_failure_keeps_records(void **state)
{
	struct queue_record *recs = NULL;
	size_t n = 0, len;
	int64_t total = 5;
	char err[256] = "", *doc;

	(void)state;
	parse_file("radarr-queue.json", ARR_RADARR, &recs, &n);
	assert_int_equal(n, 2);
	doc = unit_read_data("qbit-torrents-truncated.json", &len);
	assert_int_equal(arr_parse_queue_page(doc, len, ARR_RADARR, &recs, &n, &total, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed JSON at byte"));
	free(doc);
	doc = unit_read_data("arr-error-500.json", &len);
	assert_int_equal(arr_parse_queue_page(doc, len, ARR_RADARR, &recs, &n, &total, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "expected a queue page with records");
	free(doc);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].download_id, MOVIE_ONE);
	free_records(recs, n);
}

/* Every proper prefix of a real page is refused without leaking. */
static void
test_queue_every_truncation(void **state)
{
	size_t len, end;
	char *doc = unit_read_data("sonarr-queue-page1.json", &len);

	(void)state;
	end = (size_t)(strrchr(doc, '}') - doc) + 1;
	for (size_t cut = 0; cut < end; cut++) {
		struct queue_record *recs = NULL;
		size_t n = 0;
		int64_t total = 0;
		char err[256] = "";

		if (arr_parse_queue_page(doc, cut, ARR_SONARR, &recs, &n, &total, err,
		    sizeof(err)) != -1 || n != 0 || err[0] == '\0')
			fail_msg("prefix of %zu bytes: accepted or no message", cut);
		free_records(recs, n);
	}
	free(doc);
}

/* ---- lookup ------------------------------------------------------------- */

static void
test_find_record(void **state)
{
	static const struct {
		const char *hash, *want;
	} cases[] = {
		{ "14a7c2e1b7d04c4d9a51a3c5b0f2e6d8c9a0b1c2", SEASON_PACK },
		{ SEASON_PACK, SEASON_PACK },
		{ "14a7C2E1b7d04c4d9A51a3c5b0f2e6d8c9a0b1C2", SEASON_PACK },
		{ "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", MOVIE_ONE },
		{ "sabnzbd_nzo_k3j2h1g0", "SABNZBD_NZO_K3J2H1G0" },
		{ "0000000000000000000000000000000000000000", NULL },
		{ "14a7c2e1b7d04c4d9a51a3c5b0f2e6d8c9a0b1c", NULL },	/* prefix only */
		{ "", NULL },
	};
	struct arr_client c;
	size_t n = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_null(arr_find_record(&c, "14a7c2e1b7d04c4d9a51a3c5b0f2e6d8c9a0b1c2"));
	/* Page 2 first: the unsorted order differs from the sorted one. */
	parse_file("sonarr-queue-page2.json", ARR_SONARR, &c.records, &n);
	parse_file("sonarr-queue-page1.json", ARR_SONARR, &c.records, &n);
	c.n_records = n;
	assert_int_equal(n, 4);
	arr_sort_records(c.records, c.n_records);
	/* The season pack is on two clients: two records, found from the first. */
	assert_int_equal(arr_count_records(&c, arr_find_record(&c, SEASON_PACK)), 2);
	assert_string_equal(arr_find_record(&c, SEASON_PACK)->client, "qBit");
	assert_int_equal(arr_count_records(&c, arr_find_record(&c, MOVIE_ONE)), 1);
	assert_int_equal(arr_count_records(&c, NULL), 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct queue_record *r = arr_find_record(&c, cases[i].hash);

		print_message("# %s\n", cases[i].hash);
		if (cases[i].want == NULL) {
			assert_null(r);
		} else {
			assert_non_null(r);
			assert_string_equal(r->download_id, cases[i].want);
		}
	}
	/* arr_client_free releases the records. */
	c.ac = NULL;
	arr_client_free(&c);
	assert_null(c.records);
	assert_int_equal(c.n_records, 0);
}

static void
test_record_clear(void **state)
{
	struct queue_record *recs = NULL;
	size_t n = 0;

	(void)state;
	parse_file("sonarr-queue-page1.json", ARR_SONARR, &recs, &n);
	queue_record_clear(&recs[0]);
	assert_null(recs[0].download_id);
	assert_null(recs[0].ids);
	assert_null(recs[0].messages);
	assert_int_equal(recs[0].n_messages, 0);
	queue_record_clear(&recs[0]);	/* twice is harmless */
	free_records(recs, n);
}

/* ---- command bodies ----------------------------------------------------- */

static json_t *
parse_body(const char *s)
{
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);

	if (o == NULL)
		fail_msg("body is not JSON (%s): %s", e.text, s);
	assert_true(json_is_object(o));
	return o;
}

static void
test_scan_body(void **state)
{
	static const struct {
		enum arr_kind kind;
		const char *path, *hash, *mode;
		const char *want_name, *want_id, *want_mode;
	} cases[] = {
		{ ARR_RADARR, "/srv/lab/data/Movie.One.2020",
		  "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", "Auto", "DownloadedMoviesScan",
		  MOVIE_ONE, "Auto" },
		{ ARR_SONARR, "/srv/lab/data/Show.S01.1080p", SEASON_PACK, "Move",
		  "DownloadedEpisodesScan", SEASON_PACK, "Move" },
		{ ARR_LIDARR, "/srv/lab/data/Artist - Album (2019) [FLAC]",
		  "e97c4a1dd1ff0cd3cd3a1a1b2e0f0e0d1c2b3a49", "Copy", "DownloadedAlbumsScan",
		  "E97C4A1DD1FF0CD3CD3A1A1B2E0F0E0D1C2B3A49", "Copy" },
		{ ARR_RADARR, "/m", "aBcDeF0123456789aBcDeF0123456789aBcDeF01", NULL,
		  "DownloadedMoviesScan", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "Auto" },
		/* Hostile paths come back byte for byte. */
		{ ARR_SONARR, "/data/\"odd\" dir/new\nline\\back\ttab \x01 "
		  "\xc3\x9cn\xc3\xaf""c\xc3\xb6""d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xac",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "Auto", "DownloadedEpisodesScan",
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", "Auto" },
		{ ARR_RADARR, "", "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", "Auto",
		  "DownloadedMoviesScan", MOVIE_ONE, "Auto" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = arr_scan_body(cases[i].kind, cases[i].path, cases[i].hash,
		    cases[i].mode);
		json_t *o = parse_body(s);

		print_message("# case %zu\n", i);
		assert_int_equal(json_object_size(o), 4);
		assert_string_equal(json_string_value(json_object_get(o, "name")),
		    cases[i].want_name);
		assert_string_equal(json_string_value(json_object_get(o, "path")),
		    cases[i].path);
		assert_string_equal(json_string_value(json_object_get(o, "downloadClientId")),
		    cases[i].want_id);
		assert_string_equal(json_string_value(json_object_get(o, "importMode")),
		    cases[i].want_mode);
		/* Compact: one line, nothing a log line could be split on. */
		assert_null(strchr(s, '\n'));
		json_decref(o);
		free(s);
	}
}

/*
 * A path that is not UTF-8 (a Latin-1 PathMapping in the ini) cannot be
 * sent as JSON: the body must still be valid JSON, with each bad byte
 * replaced by U+FFFD, never an abort.
 */
static void
test_scan_body_not_utf8(void **state)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
		{ "/mnt/t\xe9l\xe9""chargements/Film",
		  "/mnt/t\xef\xbf\xbdl\xef\xbf\xbd""chargements/Film" },
		{ "\xff", "\xef\xbf\xbd" },
		{ "/a\xc3", "/a\xef\xbf\xbd" },			/* truncated sequence */
		{ "/a\xc0\xaf", "/a\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong '/' */
		{ "/a\xed\xa0\x80", "/a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "/a\xf4\x90\x80\x80", "/a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "/ok \xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\xac\xef\xbf\xbd",
		  "/ok \xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\xac\xef\xbf\xbd" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = arr_scan_body(ARR_RADARR, cases[i].path,
		    "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", "Copy\xff");
		json_t *o = parse_body(s);

		print_message("# case %zu\n", i);
		assert_string_equal(json_string_value(json_object_get(o, "path")),
		    cases[i].want);
		assert_string_equal(json_string_value(json_object_get(o, "importMode")),
		    "Copy\xef\xbf\xbd");
		assert_string_equal(json_string_value(json_object_get(o, "downloadClientId")),
		    MOVIE_ONE);
		json_decref(o);
		free(s);
	}
}

static void
test_search_body(void **state)
{
	static const int64_t ids[] = { 101, 1202, INT64_C(9007199254740993) };
	static const struct {
		enum arr_kind kind;
		const char *name, *key;
	} kinds[] = {
		{ ARR_RADARR, "MoviesSearch", "movieIds" },
		{ ARR_SONARR, "EpisodeSearch", "episodeIds" },
		{ ARR_LIDARR, "AlbumSearch", "albumIds" },
	};

	(void)state;
	for (size_t k = 0; k < NELEM(kinds); k++) {
		for (size_t n = 0; n <= NELEM(ids); n++) {
			char *s = arr_search_body(kinds[k].kind, ids, n);
			json_t *o = parse_body(s), *a;

			assert_int_equal(json_object_size(o), 2);
			assert_string_equal(json_string_value(json_object_get(o, "name")),
			    kinds[k].name);
			a = json_object_get(o, kinds[k].key);
			assert_true(json_is_array(a));
			assert_int_equal(json_array_size(a), n);
			for (size_t i = 0; i < n; i++) {
				assert_true(json_is_integer(json_array_get(a, i)));
				assert_int_equal(json_integer_value(json_array_get(a, i)), ids[i]);
			}
			json_decref(o);
			free(s);
		}
	}
}

static void
test_bulk_body(void **state)
{
	static const int64_t ids[] = { 1739261311, 88140021, 401772293, 1 };

	(void)state;
	for (size_t n = 0; n <= NELEM(ids); n++) {
		char *s = arr_bulk_body(ids, n);
		json_t *o = parse_body(s), *a = json_object_get(o, "ids");

		assert_int_equal(json_object_size(o), 1);
		assert_true(json_is_array(a));
		assert_int_equal(json_array_size(a), n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(json_integer_value(json_array_get(a, i)), ids[i]);
		json_decref(o);
		free(s);
	}
	{
		char *s = arr_bulk_body(ids, 2);
		assert_string_equal(s, "{\"ids\":[1739261311,88140021]}");
		free(s);
	}
}

static void
test_api_prefix(void **state)
{
	(void)state;
	assert_string_equal(arr_api_prefix(ARR_RADARR), "/api/v3");
	assert_string_equal(arr_api_prefix(ARR_SONARR), "/api/v3");
	assert_string_equal(arr_api_prefix(ARR_LIDARR), "/api/v1");
}

/* ---- command answers ---------------------------------------------------- */

static void
test_parse_command(void **state)
{
	static const struct {
		const char *doc;
		int	 rc;
		int64_t	 id;
		const char *status, *err;
	} cases[] = {
		{ "{\"id\":1,\"status\":\"started\"}", 0, 1, "started", NULL },
		{ "{\"id\":2147483648,\"status\":\"completed\"}", 0, 2147483648LL, "completed", NULL },
		{ "{\"id\":5,\"status\":\"completed\",\"result\":\"unsuccessful\"}", 0, 5,
		  "unsuccessful", NULL },
		{ "{\"id\":6,\"status\":\"completed\",\"result\":\"successful\"}", 0, 6,
		  "completed", NULL },
		{ "{\"id\":7,\"status\":\"orphaned\",\"result\":\"unknown\"}", 0, 7,
		  "orphaned", NULL },
		{ "{\"id\":7}", 0, 7, "unknown", NULL },
		{ "{\"id\":7,\"status\":null}", 0, 7, "unknown", NULL },
		{ "{\"id\":7,\"status\":3}", 0, 7, "unknown", NULL },
		{ "{\"name\":\"DownloadedMoviesScan\",\"status\":\"queued\"}", -1, 0, NULL,
		  "command answer without an id" },
		{ "{\"id\":\"1337\",\"status\":\"queued\"}", -1, 0, NULL,
		  "command answer without an id" },
		{ "{\"id\":13.5,\"status\":\"queued\"}", -1, 0, NULL,
		  "command answer without an id" },
		{ "{\"id\":null}", -1, 0, NULL, "command answer without an id" },
		{ "[{\"id\":1}]", -1, 0, NULL, "command answer without an id" },
		{ "", -1, 0, NULL, "malformed JSON" },
		{ "{\"id\":1,\"status\":\"queu", -1, 0, NULL, "malformed JSON" },
		{ "Created", -1, 0, NULL, "malformed JSON" },
	};
	int64_t id;
	char status[32], err[256];
	size_t len;
	char *doc;

	(void)state;
	/* A real 201 answer. */
	doc = unit_read_data("arr-command-201.json", &len);
	id = 0;
	assert_int_equal(arr_parse_command(doc, len, &id, status, sizeof(status), err,
	    sizeof(err)), 0);
	assert_int_equal(id, 1337);
	assert_string_equal(status, "queued");
	/* A short status buffer truncates, never overflows. */
	assert_int_equal(arr_parse_command(doc, len, &id, status, 4, err, sizeof(err)), 0);
	assert_string_equal(status, "que");
	free(doc);

	doc = unit_read_data("arr-error-500.json", &len);
	err[0] = '\0';
	assert_int_equal(arr_parse_command(doc, len, &id, status, sizeof(status), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "command answer without an id");
	free(doc);

	for (size_t i = 0; i < NELEM(cases); i++) {
		id = -5;
		err[0] = '\0';
		print_message("# %s\n", cases[i].doc);
		assert_int_equal(arr_parse_command(cases[i].doc, strlen(cases[i].doc), &id,
		    status, sizeof(status), err, sizeof(err)), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(id, cases[i].id);
			assert_string_equal(status, cases[i].status);
		} else {
			assert_int_equal(id, -5);	/* untouched */
			assert_non_null(strstr(err, cases[i].err));
		}
	}
}

/* history?downloadId=&eventType=1: the latest grab of that download only. */
static void
test_parse_grab(void **state)
{
	static const char hash[] = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
	static const struct {
		const char *json;
		int	 rc;
		int64_t	 id;
	} cases[] = {
		{ "{\"page\":1,\"totalRecords\":2,\"records\":["
		  "{\"id\":7,\"downloadId\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
		  "\"eventType\":\"grabbed\",\"movieId\":3},"
		  "{\"id\":12,\"downloadId\":\"abcdef0123456789abcdef0123456789abcdef01\","
		  "\"eventType\":\"grabbed\",\"movieId\":3,"
		  "\"data\":{\"downloadClientName\":\"qBit Seedbox\"}}]}", 0, 12 },
		/* A server that ignored the filters: other downloads, other events. */
		{ "{\"records\":[{\"id\":9,\"downloadId\":\"FFFF\",\"eventType\":\"grabbed\"},"
		  "{\"id\":10,\"downloadId\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
		  "\"eventType\":\"downloadFailed\"},"
		  "{\"id\":4,\"downloadId\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
		  "\"eventType\":1}]}", 0, 4 },
		{ "{\"records\":[]}", 0, 0 },
		{ "{\"records\":[{\"id\":-3,\"downloadId\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
		  "\"eventType\":\"grabbed\"},{\"id\":\"5\",\"downloadId\":"
		  "\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\",\"eventType\":\"grabbed\"}]}", 0, 0 },
		{ "[]", -1, 0 },
		{ "{\"records\":{}}", -1, 0 },
		{ "{\"records\":[", -1, 0 },
		{ "", -1, 0 },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t id = -1;
		char client[64];
		int rc = arr_parse_grab(cases[i].json, strlen(cases[i].json), hash, &id,
		    client, sizeof(client), err, sizeof(err));
		if (rc != cases[i].rc || (rc == 0 && id != cases[i].id))
			fail_msg("case %zu: rc %d id %lld", i, rc, (long long)id);
	}
}

/* GET downloadclient: name, host and port of the clients that have them. */
static void
test_parse_downloadclients(void **state)
{
	static const char doc[] = "[{\"id\":1,\"name\":\"qBit\",\"implementation\":"
	    "\"QBittorrent\",\"fields\":[{\"name\":\"host\",\"value\":\"127.0.0.1\"},"
	    "{\"name\":\"port\",\"value\":8080},{\"name\":\"movieCategory\",\"value\":"
	    "\"radarr\"}]},{\"id\":2,\"name\":\"Blackhole\",\"fields\":[{\"name\":"
	    "\"torrentFolder\",\"value\":\"/w\"}]},{\"id\":3,\"name\":\"Seedbox\","
	    "\"fields\":[{\"name\":\"port\",\"value\":443},{\"name\":\"host\",\"value\":"
	    "\"seedbox.example.com\"}]},{\"id\":4,\"name\":\"Bad port\",\"fields\":["
	    "{\"name\":\"host\",\"value\":\"x\"},{\"name\":\"port\",\"value\":70000}]},"
	    "{\"id\":5,\"fields\":[]}]";
	struct arr_client c;
	char err[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(arr_parse_downloadclients(doc, strlen(doc), &c.clients,
	    &c.n_clients, err, sizeof(err)), 0);
	assert_int_equal(c.n_clients, 2);
	assert_string_equal(c.clients[0].name, "qBit");
	assert_string_equal(c.clients[0].host, "127.0.0.1");
	assert_int_equal(c.clients[0].port, 8080);
	assert_string_equal(c.clients[1].name, "Seedbox");
	assert_string_equal(c.clients[1].host, "seedbox.example.com");
	assert_int_equal(c.clients[1].port, 443);
	arr_client_free(&c);
	assert_int_equal(arr_parse_downloadclients("{}", 2, &c.clients, &c.n_clients,
	    err, sizeof(err)), -1);
	assert_int_equal(arr_parse_downloadclients("[", 1, &c.clients, &c.n_clients,
	    err, sizeof(err)), -1);
	assert_null(c.clients);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_sonarr_one_page),
		cmocka_unit_test(test_queue_sonarr_two_pages),
		cmocka_unit_test(test_queue_kinds),
		cmocka_unit_test(test_queue_inline),
		cmocka_unit_test(test_queue_failure_keeps_records),
		cmocka_unit_test(test_queue_every_truncation),
		cmocka_unit_test(test_find_record),
		cmocka_unit_test(test_record_clear),
		cmocka_unit_test(test_scan_body),
		cmocka_unit_test(test_scan_body_not_utf8),
		cmocka_unit_test(test_search_body),
		cmocka_unit_test(test_bulk_body),
		cmocka_unit_test(test_api_prefix),
		cmocka_unit_test(test_parse_command),
		cmocka_unit_test(test_parse_grab),
		cmocka_unit_test(test_parse_downloadclients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
