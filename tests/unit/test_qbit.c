/*
 * test_qbit: unit tests of the pure parts of the qBittorrent client
 * (cmocka).  JSON documents live in tests/data/json/; each expectation is
 * a table row compared field by field with what the parser produced.
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

#include "qbit.h"
#include "util.h"
#include "unit.h"

#define ETA_INFINITE	8640000

/* Printable ASCII form of a test input, for progress messages. */
static const char *
show(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- torrents/info ---------------------------------------------------- */

/* One expected torrent; NULL strings are not checked. */
struct want_torrent {
	const char *hash, *name, *category, *tags, *state, *content_path, *save_path,
	    *tracker;
	double	 progress, ratio, availability;
	int64_t	 size, amount_left, added_on, completion_on, last_activity,
	    seeding_time, eta, dl_limit, up_limit;
	bool	 force_start;
};

static void
check_torrent(const struct qbit_torrent *t, const struct want_torrent *w)
{
	assert_string_equal(t->hash, w->hash);
	assert_string_equal(t->name, w->name);
	assert_string_equal(t->category, w->category);
	assert_string_equal(t->tags, w->tags);
	assert_string_equal(t->state, w->state);
	assert_string_equal(t->content_path, w->content_path);
	assert_string_equal(t->save_path, w->save_path);
	assert_string_equal(t->tracker, w->tracker);
	assert_true(t->progress == w->progress);
	assert_true(t->ratio == w->ratio);
	assert_true(t->availability == w->availability);
	assert_int_equal(t->size, w->size);
	assert_int_equal(t->amount_left, w->amount_left);
	assert_int_equal(t->added_on, w->added_on);
	assert_int_equal(t->completion_on, w->completion_on);
	assert_int_equal(t->last_activity, w->last_activity);
	assert_int_equal(t->seeding_time, w->seeding_time);
	assert_int_equal(t->eta, w->eta);
	assert_int_equal(t->dl_limit, w->dl_limit);
	assert_int_equal(t->up_limit, w->up_limit);
	assert_int_equal(t->force_start, w->force_start);
}

struct torrents_case {
	const char *file;
	size_t	 skipped;
	const struct want_torrent *want;
	size_t	 n;
};

static const struct want_torrent want_452[] = {
	{ "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", "Movie.One.2020", "radarr",
	  "movie, test", "stalledUP", "/srv/lab/data/Movie.One.2020", "/srv/lab/data", "",
	  1, 0, -1, 3001000, 0, 1795651843, 1795651844, 1795651843, 1, ETA_INFINITE, 0, 0,
	  false },
	{ "14a7c2e1b7d04c4d9a51a3c5b0f2e6d8c9a0b1c2", "Show.S01.1080p", "tv-sonarr", "",
	  "forcedDL", "/srv/lab/data/Show.S01.1080p", "/srv/lab/data",
	  "http://127.0.0.1:18090/announce", 0.29333333333333333, 0.125, 0.875, 300000000,
	  212000000, 1795652000, -1, 1795652100, 0, 98, 1048576, -1, true },
	{ "e97c4a1dd1ff0cd3cd3a1a1b2e0f0e0d1c2b3a49", "Artist - Album (2019) [FLAC]", "lidarr",
	  "qBitrr-ignored", "pausedUP", "/srv/lab/data/Artist - Album (2019) [FLAC]",
	  "/srv/lab/data", "", 1, 2.5, -1, 52428800, 0, 1795650000, 1795650600, 1795650700,
	  86400, ETA_INFINITE, 0, 0, false },
};

static const struct want_torrent want_5x[] = {
	{ "0123456789abcdef0123456789abcdef01234567", "Film.2021.2160p", "radarr", "",
	  "stoppedUP", "/downloads/radarr/Film.2021.2160p/film.mkv", "/downloads/radarr", "",
	  1, 1.0421, -1, 700000000, 0, 1795700000, 1795700900, 1795701000, 7200,
	  ETA_INFINITE, 0, 0, false },
	{ "89abcdef0123456789abcdef0123456789abcdef", "Show.S02E01", "tv-sonarr",
	  "qBitrr-allowed_stalled, qBitrr-free_space_paused", "stoppedDL",
	  "/downloads/tv/Show.S02E01.mkv", "/downloads/tv", "", 0, 0, 0, 1000000, 1000000,
	  1795702000, -1, 0, 0, ETA_INFINITE, 0, 0, false },
};

/* Every string field missing: "", numbers get the documented defaults. */
#define DEFAULTS(h, nm) { h, nm, "", "", "", "", "", "", 0, 0, -1, 0, -1, 0, 0, 0, 0, \
	ETA_INFINITE, 0, 0, false }

static const struct want_torrent want_edge[] = {
	{ "fc329d74692a2bc1fb5f163a81ab437917a3d3cf", "Upper.Case.Hash", "radarr", "",
	  "stalledUP", "", "", "", 1, 0, -1, 10, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
	DEFAULTS("0000000000000000000000000000000000000000", ""),
	/* Huge values: int64 extremes kept, out-of-range reals fall back. */
	{ "1111111111111111111111111111111111111111", "huge numbers", "", "", "", "", "", "",
	  1.0000000001, 1e308, 1.7976931348623157e308, INT64_MAX, INT64_MIN, 4102444800LL,
	  -1, 1500000000, 15000000000LL, ETA_INFINITE, -1, 2147483648LL, false },
	/* Wrong types: defaults, never a crash or a half-read value (a real
	 * where an integer is expected is still a number). */
	{ "2222222222222222222222222222222222222222", "", "", "", "", "", "", "",
	  0, 0, -1, 0, -1, 0, 0, 0, 0, ETA_INFINITE, 1, -1, false },
	/* Booleans count as numbers for progress/ratio; a real size is truncated. */
	{ "3333333333333333333333333333333333333333", "", "", "", "", "", "", "",
	  1, 0, -1, 3001000, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, true },
	DEFAULTS("abcdef0123456789abcdef0123456789abcdef01", "mixed case"),
};

static const struct want_torrent want_hostile[] = {
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "He said \"hi\"; rm -rf / \\ 'quoted'",
	  "radarr", "a\"b, c\\d", "stalledUP", "/data/\"odd\" dir/file \\ name.mkv",
	  "/data/\"odd\" dir", "", 1, 0, -1, 1, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2",
	  "line one\nqbitrr-sweep: error: forged line\r\n\ttab", "radarr", "", "stalledUP",
	  "/data/new\nline", "/data", "", 1, 0, -1, 2, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0,
	  false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3",
	  "\xc3\x9cn\xc3\xaf""c\xc3\xb6""d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
	  "\xf0\x9f\x8e\xac Am\xc3\xa9lie (2001)", "t\xc3\xa9n\xc3\xa8""bres",
	  "\xc3\xa9t\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac", "uploading",
	  "/data/\xc3\x9cn\xc3\xaf""c\xc3\xb6""d\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.mkv",
	  "/data/\xc3\x9cn\xc3\xaf""c\xc3\xb6""d\xc3\xa9", "udp://tracker.example.org:1337/announce",
	  1, 0, -1, 3, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4",
	  "ctl\x01\x07\x1b[31mred\x1b[0m\x7f\xe2\x80\xae""evil\xe2\x80\x8b", "radarr", "",
	  "error", "\x01", "/", "", 0, 0, -1, 4, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5", "", "", "", "", "", "", "", 0, 0, -1, 0,
	  -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6", "../../../../etc/passwd", "../radarr",
	  ", ,,", "missingFiles", "../../../../etc/passwd", "/data/../../etc", "", 0.5, 0,
	  -1, 6, -1, 0, 0, 0, 0, ETA_INFINITE, 0, 0, false },
};

static const struct torrents_case torrents_cases[] = {
	{ "qbit-torrents-4.5.2.json", 0, want_452, NELEM(want_452) },
	{ "qbit-torrents-5.x.json", 0, want_5x, NELEM(want_5x) },
	{ "qbit-torrents-edge.json", 13, want_edge, NELEM(want_edge) },
	{ "qbit-torrents-hostile.json", 0, want_hostile, NELEM(want_hostile) },
};

static void
test_torrents_mapping(void **state)
{
	(void)state;
	for (size_t c = 0; c < NELEM(torrents_cases); c++) {
		const struct torrents_case *tc = &torrents_cases[c];
		struct qbit_torrent_list l = { 0 };
		size_t len, skipped = 99;
		char err[256] = "", *doc = unit_read_data(tc->file, &len);

		print_message("# %s\n", tc->file);
		assert_int_equal(qbit_parse_torrents(doc, len, &l, &skipped, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(skipped, tc->skipped);
		assert_int_equal(l.n, tc->n);
		for (size_t i = 0; i < tc->n; i++)
			check_torrent(&l.items[i], &tc->want[i]);
		qbit_torrent_list_free(&l);
		assert_null(l.items);
		assert_int_equal(l.n, 0);
		free(doc);
	}
}

/* Hostile strings are kept byte for byte: lengths too, not just prefixes. */
static void
test_torrents_hostile_lengths(void **state)
{
	struct qbit_torrent_list l = { 0 };
	size_t len, skipped;
	char err[256], *doc = unit_read_data("qbit-torrents-hostile.json", &len);

	(void)state;
	assert_int_equal(qbit_parse_torrents(doc, len, &l, &skipped, err, sizeof(err)), 0);
	assert_int_equal(l.n, NELEM(want_hostile));
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(strlen(l.items[i].name), strlen(want_hostile[i].name));
		assert_memory_equal(l.items[i].name, want_hostile[i].name,
		    strlen(want_hostile[i].name) + 1);
	}
	/* 4-byte UTF-8 from a surrogate pair, ESC and DEL survive. */
	assert_non_null(strstr(l.items[2].name, "\xf0\x9f\x8e\xac"));
	assert_non_null(strchr(l.items[3].name, 0x1b));
	assert_non_null(strchr(l.items[3].name, 0x7f));
	qbit_torrent_list_free(&l);
	free(doc);
}

/* Inline documents: return value, entries, skipped count, message. */
struct inline_case {
	const char *doc;
	int	 rc;
	size_t	 n, skipped;
	const char *err;	/* substring of the message; NULL when rc == 0 */
};

static const struct inline_case inline_cases[] = {
	{ "[]", 0, 0, 0, NULL },
	{ " \n[ ]\n", 0, 0, 0, NULL },
	{ "[{}]", 0, 0, 1, NULL },
	{ "[null, 1, \"x\", [], {}]", 0, 0, 5, NULL },
	{ "[{\"hash\":\"ffffffffffffffffffffffffffffffffffffffff\"}]", 0, 1, 0, NULL },
	{ "", -1, 0, 0, "malformed JSON" },
	{ "   ", -1, 0, 0, "malformed JSON" },
	{ "Forbidden", -1, 0, 0, "malformed JSON" },
	{ "Fails.", -1, 0, 0, "malformed JSON" },
	{ "{}", -1, 0, 0, "expected a JSON array" },
	{ "{\"hash\":\"ffffffffffffffffffffffffffffffffffffffff\"}", -1, 0, 0,
	  "expected a JSON array" },
	{ "[", -1, 0, 0, "malformed JSON" },
	{ "[{\"hash\":\"ff", -1, 0, 0, "malformed JSON" },
	{ "[{\"hash\":\"ffffffffffffffffffffffffffffffffffffffff\"}", -1, 0, 0, "malformed JSON" },
	{ "[{\"hash\":\"ffffffffffffffffffffffffffffffffffffffff\"}] trailing", -1, 0, 0,
	  "malformed JSON" },
	{ "[{\"hash\":\"ffffffffffffffffffffffffffffffffffffffff\"}][]", -1, 0, 0,
	  "malformed JSON" },
	{ "[1,]", -1, 0, 0, "malformed JSON" },
	/* Beyond int64 (qBittorrent's qlonglong never is): refused, not wrapped. */
	{ "[{\"size\":99999999999999999999999}]", -1, 0, 0, "malformed JSON" },
	{ "[{\"name\":\"\xff\xfe invalid UTF-8\"}]", -1, 0, 0, "malformed JSON" },
	{ "[{\"name\":\"bad escape \\x41\"}]", -1, 0, 0, "malformed JSON" },
	{ "[{\"name\":\"lone surrogate \\ud83c\"}]", -1, 0, 0, "malformed JSON" },
};

static void
test_torrents_inline(void **state)
{
	(void)state;
	for (size_t c = 0; c < NELEM(inline_cases); c++) {
		const struct inline_case *ic = &inline_cases[c];
		struct qbit_torrent_list l = { 0 };
		size_t skipped = 99;
		char err[256] = "";
		int rc = qbit_parse_torrents(ic->doc, strlen(ic->doc), &l, &skipped, err,
		    sizeof(err));

		char shown[256];

		print_message("# case %zu: %s\n", c, show(ic->doc, shown, sizeof(shown)));
		assert_int_equal(rc, ic->rc);
		assert_int_equal(l.n, ic->n);
		if (rc == 0) {
			assert_int_equal(skipped, ic->skipped);
			assert_string_equal(err, "");
		} else {
			assert_non_null(strstr(err, ic->err));
		}
		qbit_torrent_list_free(&l);
	}
}

/* The file of malformed documents: every one is -1 with a message. */
static void
test_torrents_malformed_files(void **state)
{
	static const struct {
		const char *file, *err;
	} files[] = {
		{ "qbit-torrents-truncated.json", "malformed JSON at byte" },
		{ "qbit-garbage-forbidden.txt", "malformed JSON at byte" },
		{ "qbit-torrents-html.txt", "malformed JSON at byte" },
		{ "qbit-torrents-trailing-comma.json", "malformed JSON at byte" },
		{ "qbit-maindata-full.json", "expected a JSON array of torrents" },
		{ "qbit-categories.json", "expected a JSON array of torrents" },
	};

	(void)state;
	for (size_t c = 0; c < NELEM(files); c++) {
		struct qbit_torrent_list l = { 0 };
		size_t len, skipped = 99;
		char err[256] = "", *doc = unit_read_data(files[c].file, &len);

		print_message("# %s\n", files[c].file);
		assert_int_equal(qbit_parse_torrents(doc, len, &l, &skipped, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, files[c].err));
		assert_int_equal(l.n, 0);
		qbit_torrent_list_free(&l);
		free(doc);
	}
}

/* Every proper prefix of a real answer is refused; nothing leaks. */
static void
test_torrents_every_truncation(void **state)
{
	size_t len, end;
	char *doc = unit_read_data("qbit-torrents-4.5.2.json", &len);

	(void)state;
	end = (size_t)(strrchr(doc, ']') - doc) + 1;
	for (size_t cut = 0; cut < end; cut++) {
		struct qbit_torrent_list l = { 0 };
		size_t skipped;
		char err[256] = "";

		if (qbit_parse_torrents(doc, cut, &l, &skipped, err, sizeof(err)) != -1)
			fail_msg("prefix of %zu bytes accepted", cut);
		if (l.n != 0 || err[0] == '\0')
			fail_msg("prefix of %zu bytes: n=%zu err=\"%s\"", cut, l.n, err);
		qbit_torrent_list_free(&l);
	}
	/* len is honoured: the bytes after it are never read. */
	{
		struct qbit_torrent_list l = { 0 };
		size_t skipped;
		char err[256];
		char *copy = xmalloc(end + 8);

		memcpy(copy, doc, end);
		memcpy(copy + end, "garbage", 8);
		assert_int_equal(qbit_parse_torrents(copy, end, &l, &skipped, err,
		    sizeof(err)), 0);
		assert_int_equal(l.n, 3);
		qbit_torrent_list_free(&l);
		free(copy);
	}
	free(doc);
}

/* A second answer appends to the list; a failed one leaves it alone. */
static void
test_torrents_append_and_move(void **state)
{
	struct qbit_torrent_list a = { 0 }, b = { 0 }, all = { 0 };
	size_t len1, len2, skipped;
	char err[256], *d1 = unit_read_data("qbit-torrents-4.5.2.json", &len1),
	    *d2 = unit_read_data("qbit-torrents-5.x.json", &len2);

	(void)state;
	assert_int_equal(qbit_parse_torrents(d1, len1, &a, &skipped, err, sizeof(err)), 0);
	assert_int_equal(qbit_parse_torrents(d2, len2, &a, &skipped, err, sizeof(err)), 0);
	assert_int_equal(a.n, 5);
	assert_string_equal(a.items[0].name, "Movie.One.2020");
	assert_string_equal(a.items[3].name, "Film.2021.2160p");
	assert_int_equal(qbit_parse_torrents("[", 1, &a, &skipped, err, sizeof(err)), -1);
	assert_int_equal(a.n, 5);
	/* skipped may be NULL. */
	assert_int_equal(qbit_parse_torrents("[{}]", 4, &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(qbit_parse_torrents(d2, len2, &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(b.n, 2);

	qbit_torrent_list_move(&all, &a);
	assert_int_equal(all.n, 5);
	assert_int_equal(a.n, 0);
	assert_null(a.items);
	qbit_torrent_list_move(&all, &b);
	assert_int_equal(all.n, 7);
	assert_string_equal(all.items[5].hash, "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(all.items[6].state, "stoppedDL");
	qbit_torrent_list_move(&all, &b);	/* empty source */
	assert_int_equal(all.n, 7);
	qbit_torrent_list_free(&all);
	qbit_torrent_list_free(&a);
	qbit_torrent_list_free(&b);
	free(d1);
	free(d2);
}

/* ---- categories ------------------------------------------------------- */

static void
free_strlist(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static bool
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

static void
test_categories(void **state)
{
	struct strlist l = { 0 };
	size_t len;
	char err[256] = "", *doc = unit_read_data("qbit-categories.json", &len);

	(void)state;
	assert_int_equal(qbit_parse_categories(doc, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 4);
	assert_true(strlist_has(&l, "radarr"));
	assert_true(strlist_has(&l, "tv-sonarr"));
	assert_true(strlist_has(&l, "failed"));
	assert_true(strlist_has(&l, "t\xc3\xa9n\xc3\xa8""bres \"q\""));
	free(doc);

	/* Appends to what is there. */
	assert_int_equal(qbit_parse_categories("{\"x\":{}}", 8, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 5);
	assert_true(strlist_has(&l, "x"));
	free_strlist(&l);

	assert_int_equal(qbit_parse_categories("{}", 2, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);

	static const struct {
		const char *doc, *err;
	} bad[] = {
		{ "[]", "expected a JSON object of categories" },
		{ "[\"radarr\"]", "expected a JSON object of categories" },
		{ "{\"radarr\":{\"name\":\"radarr\"", "malformed JSON" },
		{ "Forbidden", "malformed JSON" },
		{ "", "malformed JSON" },
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		assert_int_equal(qbit_parse_categories(bad[i].doc, strlen(bad[i].doc), &l, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i].err));
		assert_int_equal(l.n, 0);
	}
	free_strlist(&l);
}

/* ---- files -------------------------------------------------------------- */

static void
test_files(void **state)
{
	static const struct {
		int	 index;
		const char *name;
		int	 priority;
		double	 progress;
		int64_t	 size;
	} want[] = {
		{ 0, "Movie.One.2020/movie.one.mkv", 1, 1, 3000000 },
		{ 1, "Movie.One.2020/sample.nfo", 1, 1, 1000 },
		{ 2, "Movie.One.2020/Sample/sample.mkv", 0, 0.5, 20000 },	/* no index: position */
		{ 7, "Movie.One.2020/RARBG.txt", 6, 0, 31 },
		/* entry 4 has no name, entry 5 is not an object: both dropped */
		{ 6, "Movie.One.2020/Subs/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \"forced\".srt", 1, 0,
		  4096 },
	};
	struct qbit_file_list l = { 0 };
	size_t len;
	char err[256] = "", *doc = unit_read_data("qbit-files.json", &len);

	(void)state;
	assert_int_equal(qbit_parse_files(doc, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_int_equal(l.items[i].index, want[i].index);
		assert_string_equal(l.items[i].name, want[i].name);
		assert_int_equal(l.items[i].priority, want[i].priority);
		assert_true(l.items[i].progress == want[i].progress);
		assert_int_equal(l.items[i].size, want[i].size);
	}
	qbit_file_list_free(&l);
	assert_null(l.items);
	free(doc);

	/* A magnet without metadata lists no files. */
	assert_int_equal(qbit_parse_files("[]", 2, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	qbit_file_list_free(&l);

	static const struct {
		const char *doc, *err;
	} bad[] = {
		{ "{}", "expected a JSON array of files" },
		{ "Not Found", "malformed JSON" },
		{ "[{\"index\":0,\"name\":\"a\"", "malformed JSON" },
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		assert_int_equal(qbit_parse_files(bad[i].doc, strlen(bad[i].doc), &l, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i].err));
		qbit_file_list_free(&l);
	}
}

/* ---- trackers ----------------------------------------------------------- */

static void
test_trackers(void **state)
{
	static const struct {
		const char *url, *msg;
		int	 status;
	} want[] = {
		{ "http://127.0.0.1:9/announce", "Connection refused", 4 },
		{ "udp://127.0.0.1:9/announce", "", 3 },
		{ "http://127.0.0.1:18090/announce", "", 2 },
		{ "https://tracker.example.org/a/0123456789abcdef/announce", "", 1 },
		{ "http://127.0.0.1:9/foo?x=1", "Unregistered torrent", 4 },
	};
	struct qbit_tracker_list l = { 0 };
	size_t len;
	char err[256] = "", *doc = unit_read_data("qbit-trackers.json", &len);

	(void)state;
	assert_int_equal(qbit_parse_trackers(doc, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_string_equal(l.items[i].url, want[i].url);
		assert_string_equal(l.items[i].msg, want[i].msg);
		assert_int_equal(l.items[i].status, want[i].status);
		assert_null(strstr(l.items[i].url, "** ["));
	}
	qbit_tracker_list_free(&l);
	free(doc);

	/* Only the pseudo-trackers: nothing left. */
	static const char only_pseudo[] =
	    "[{\"msg\":\"\",\"status\":2,\"tier\":-1,\"url\":\"** [DHT] **\"},"
	    "{\"msg\":\"\",\"status\":2,\"tier\":-1,\"url\":\"** [PeX] **\"},"
	    "{\"msg\":\"\",\"status\":2,\"tier\":-1,\"url\":\"** [LSD] **\"}]";
	assert_int_equal(qbit_parse_trackers(only_pseudo, strlen(only_pseudo), &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	qbit_tracker_list_free(&l);

	static const struct {
		const char *doc, *err;
	} bad[] = {
		{ "{\"url\":\"http://x\"}", "expected a JSON array of trackers" },
		{ "Not Found", "malformed JSON" },
		{ "[{\"url\":\"http://x\",", "malformed JSON" },
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		assert_int_equal(qbit_parse_trackers(bad[i].doc, strlen(bad[i].doc), &l, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i].err));
		qbit_tracker_list_free(&l);
	}
}

/* ---- free space --------------------------------------------------------- */

static void
test_free_space(void **state)
{
	static const struct {
		const char *file;
		int	 rc;
		int64_t	 space;
		const char *err;
	} files[] = {
		{ "qbit-maindata-full.json", 0, 83499315200LL, NULL },
		{ "qbit-maindata-incremental.json", 0, 83499315200LL, NULL },
		{ "qbit-maindata-no-server-state.json", 0, -1, NULL },
		{ "qbit-torrents-4.5.2.json", -1, -1, "expected a JSON object" },
		{ "qbit-torrents-truncated.json", -1, -1, "malformed JSON" },
		{ "qbit-garbage-forbidden.txt", -1, -1, "malformed JSON" },
	};
	static const struct {
		const char *doc;
		int	 rc;
		int64_t	 space;
	} inl[] = {
		{ "{\"server_state\":{}}", 0, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":0}}", 0, 0 },
		{ "{\"server_state\":{\"free_space_on_disk\":\"lots\"}}", 0, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":9223372036854775807}}", 0, INT64_MAX },
		{ "{\"server_state\":{\"free_space_on_disk\":1.5e12}}", 0, 1500000000000LL },
		{ "{\"server_state\":[1,2]}", 0, -1 },
		{ "{\"free_space_on_disk\":5}", 0, -1 },	/* must be inside server_state */
		{ "{\"server_state\":{\"free_space_on_disk\":5}", -1, -1 },
		/* What a tree does with repeated keys: the last one counts. */
		{ "{\"server_state\":{\"free_space_on_disk\":5,\"free_space_on_disk\":7}}", 0, 7 },
		{ "{\"server_state\":{\"free_space_on_disk\":5},\"server_state\":{}}", 0, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":5},\"server_state\":3}", 0, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":-3}}", 0, -3 },
		{ "{\"server_state\":{\"free_space_on_disk\":1e300}}", 0, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":1e400}}", -1, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":99999999999999999999}}", -1, -1 },
		{ "{\"t\":{\"n\":\"a\\u0000b\"},\"server_state\":{\"free_space_on_disk\":5}}", 0, 5 },
		{ "{\"server_\\u0073tate\":{\"free_space_on_disk\":5}}", 0, 5 },
		{ "{\"server_state\\u0000\":{\"free_space_on_disk\":5}}", -1, -1 },
		{ "{\"torrents\":{\"x\":[1,{\"a\":[]}]},\"server_state\":{\"free_space_on_disk\":9}}", 0, 9 },
		{ "{\"server_state\":{\"free_space_on_disk\":5}} x", -1, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":5},}", -1, -1 },
		{ "{\"server_state\":{\"free_space_on_disk\":05}}", -1, -1 },
		{ "[]", -1, -1 },
		{ "", -1, -1 },
		{ "{}", 0, -1 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(files); i++) {
		int64_t v = 12345;
		size_t len;
		char err[256] = "", *doc = unit_read_data(files[i].file, &len);

		print_message("# %s\n", files[i].file);
		assert_int_equal(qbit_parse_free_space(doc, len, &v, err, sizeof(err)),
		    files[i].rc);
		assert_int_equal(v, files[i].space);
		if (files[i].err != NULL)
			assert_non_null(strstr(err, files[i].err));
		free(doc);
	}
	for (size_t i = 0; i < NELEM(inl); i++) {
		int64_t v = 12345;
		char err[256] = "";

		print_message("# %s\n", inl[i].doc);
		assert_int_equal(qbit_parse_free_space(inl[i].doc, strlen(inl[i].doc), &v, err,
		    sizeof(err)), inl[i].rc);
		assert_int_equal(v, inl[i].space);
	}
}

/* Every proper prefix of a real sync/maindata answer is refused. */
static void
test_free_space_every_truncation(void **state)
{
	size_t len, end;
	char *doc = unit_read_data("qbit-maindata-full.json", &len);

	(void)state;
	end = (size_t)(strrchr(doc, '}') - doc) + 1;
	for (size_t cut = 0; cut < end; cut++) {
		int64_t v = 12345;
		char err[256] = "";

		if (qbit_parse_free_space(doc, cut, &v, err, sizeof(err)) != -1)
			fail_msg("prefix of %zu bytes accepted", cut);
		if (v != -1 || err[0] == '\0')
			fail_msg("prefix of %zu bytes: v=%lld err=\"%s\"", cut, (long long)v, err);
	}
	free(doc);
}

/* ---- tags and versions ------------------------------------------------ */

static void
test_has_tag(void **state)
{
	static const struct {
		const char *tags, *tag;
		bool	 want;
	} cases[] = {
		{ "a, qBitrr-ignored", "qBitrr-ignored", true },
		{ "qBitrr-ignored", "qBitrr-ignored", true },
		{ "qBitrr-ignored, zeta", "qBitrr-ignored", true },
		{ "a, qBitrr-ignored, z", "qBitrr-ignored", true },
		{ "a,qBitrr-ignored", "qBitrr-ignored", true },
		{ "  qBitrr-ignored  ", "qBitrr-ignored", true },
		{ "qBitrr-ignored-not", "qBitrr-ignored", false },
		{ "not-qBitrr-ignored", "qBitrr-ignored", false },
		{ "a, qBitrr-ignored-not", "qBitrr-ignored", false },
		{ "qBitrr-ignore", "qBitrr-ignored", false },
		{ "qbitrr-ignored", "qBitrr-ignored", false },	/* tags are case-sensitive */
		{ "QBITRR-IGNORED", "qBitrr-ignored", false },
		{ "", "qBitrr-ignored", false },
		{ ", , ,", "qBitrr-ignored", false },
		{ NULL, "qBitrr-ignored", false },
		{ "a, b", "", false },
		{ "movie, test", "test", true },
		{ "movie, test", "movie", true },
		{ "movie, test", "movie, test", false },
		{ "movie, test", "mov", false },
		{ "my tag, other", "my tag", true },
		{ "my tag, other", "tag", false },
		{ "\xc3\xa9t\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac", true },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		bool got = qbit_has_tag(cases[i].tags, cases[i].tag);

		if (got != cases[i].want)
			fail_msg("qbit_has_tag(\"%s\", \"%s\") = %d, want %d",
			    cases[i].tags ? cases[i].tags : "(null)", cases[i].tag, got,
			    cases[i].want);
	}
}

static void
test_api_is_v5(void **state)
{
	static const struct {
		const char *v;
		bool	 want;
	} cases[] = {
		{ "2.8.2", false },	/* 4.3.9 */
		{ "2.8.5", false },	/* 4.4.5 */
		{ "2.8.19", false },	/* 4.5.x */
		{ "2.9.2", false },	/* 4.6.0 */
		{ "2.9.3", false },	/* 4.6.7 */
		{ "2.10.99", false },
		{ "2.11.0", true },	/* the break */
		{ "2.11.2", true },	/* 5.0.x */
		{ "2.11.4", true },	/* 5.1.x */
		{ "2.15.1", true },	/* 5.2.x */
		{ "2.16.1", true },	/* master */
		{ "3.0.0", true },
		{ "2.11", true },
		{ "2.11.2\n", true },
		{ "1.99.0", false },
		{ "", false },
		{ "garbage", false },
		{ "v2.11.2", false },
		{ "2", false },
		{ "2.", false },
		{ ".11.2", false },
		{ "Forbidden", false },
		{ NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		bool got = qbit_api_is_v5(cases[i].v);

		if (got != cases[i].want)
			fail_msg("qbit_api_is_v5(\"%s\") = %d, want %d",
			    cases[i].v ? cases[i].v : "(null)", got, cases[i].want);
	}
}

/* The endpoint names follow the API version. */
static void
test_pause_endpoints(void **state)
{
	static const struct {
		const char *api, *pause, *resume;
	} cases[] = {
		{ "2.8.19", "torrents/pause", "torrents/resume" },
		{ "2.9.2", "torrents/pause", "torrents/resume" },
		{ "2.11.2", "torrents/stop", "torrents/start" },
		{ "2.15.1", "torrents/stop", "torrents/start" },
		{ NULL, "torrents/pause", "torrents/resume" },
	};
	struct qbit_client qc;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		memset(&qc, 0, sizeof(qc));
		qc.api_version = (char *)(uintptr_t)cases[i].api;
		assert_string_equal(qbit_pause_endpoint(&qc), cases[i].pause);
		assert_string_equal(qbit_resume_endpoint(&qc), cases[i].resume);
	}
}

/* app/version strings: "v4.5.2", forks' 4-part versions, no-v, garbage. */
static void
test_parse_version(void **state)
{
	static const struct {
		const char *v;
		int	 rc, a, b, c;
	} cases[] = {
		{ "v4.5.2", 0, 4, 5, 2 },
		{ "v5.3.0", 0, 5, 3, 0 },
		{ "4.3.1", 0, 4, 3, 1 },
		{ "v4.5.2.10", 0, 4, 5, 2 },	/* Enhanced Edition */
		{ "v5.0.0beta1", 0, 5, 0, 0 },
		{ "v4.6", 0, 4, 6, 0 },
		{ "v4", -1, 0, 0, 0 },
		{ "", -1, 0, 0, 0 },
		{ "Forbidden", -1, 0, 0, 0 },
		{ "v.4.5", -1, 0, 0, 0 },
		{ "v99999999999999999999.1", -1, 0, 0, 0 },
		{ NULL, -1, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		int v[3] = { -1, -1, -1 };
		int rc = qbit_parse_version(cases[i].v, v);

		if (rc != cases[i].rc || (rc == 0 && (v[0] != cases[i].a ||
		    v[1] != cases[i].b || v[2] != cases[i].c)))
			fail_msg("qbit_parse_version(\"%s\") = %d %d.%d.%d", cases[i].v ?
			    cases[i].v : "(null)", rc, v[0], v[1], v[2]);
	}
}

/* The oldest swept is 4.3.1; older or unreadable versions are refused with a reason. */
static void
test_version_floor(void **state)
{
	static const struct {
		const char *v;
		int	 rc;
		const char *why;
	} cases[] = {
		{ "v4.3.1", 0, NULL },
		{ "v4.5.2", 0, NULL },
		{ "v5.3.0", 0, NULL },
		{ "v10.0.0", 0, NULL },
		{ "v4.3.0", -1, "app/version: qBittorrent 4.3.0 is older than 4.3.1" },
		{ "v4.2.5", -1, "older than 4.3.1" },
		{ "v3.3.16", -1, "older than 4.3.1" },
		{ "nonsense\n", -1, "unrecognised version \"nonsense\\x0a\"" },
	};
	struct instance_config ic;
	struct qbit_client qc;

	(void)state;
	memset(&ic, 0, sizeof(ic));
	ic.name = (char *)(uintptr_t)"qBit";
	for (size_t i = 0; i < NELEM(cases); i++) {
		qbit_client_init(&qc, &ic, 5);
		qc.version = strdup(cases[i].v);
		int rc = qbit_version_check(&qc);
		if (rc != cases[i].rc)
			fail_msg("version %s: rc %d", cases[i].v, rc);
		if (cases[i].why != NULL && (qc.error == NULL ||
		    strstr(qc.error, cases[i].why) == NULL))
			fail_msg("version %s: error \"%s\"", cases[i].v,
			    qc.error ? qc.error : "(none)");
		if (rc == 0)
			assert_null(qc.error);
		qbit_client_free(&qc);
	}
}

/* auth/login answers of 4.x, 5.1 and 5.2+ (qbittorrent-lab.md section 10). */
static void
test_login_answers(void **state)
{
	static const struct {
		long	 status;
		const char *body;
		const char *set_cookie;
		int	 rc;
		const char *why;	/* in qc.error */
		const char *cookie;	/* kept after success */
	} cases[] = {
		{ 200, "Ok.", "SID=abc", 0, NULL, "SID=abc" },
		{ 204, "", "QBT_SID_8080=xyz", 0, NULL, "QBT_SID_8080=xyz" },
		{ 204, "", "proxy=1; QBT_SID_8080=xyz", 0, NULL, "proxy=1; QBT_SID_8080=xyz" },
		{ 200, "Ok.", "MYSID=renamed", 0, NULL, "MYSID=renamed" },
		{ 200, "Fails.", NULL, -1, "wrong UserName or Password", NULL },
		{ 401, "Unauthorized", NULL, -1, "Host header validation or CSRF", NULL },
		{ 403, "Your IP address has been banned after too many failed "
		    "authentication attempts.", NULL, -1, "banned", NULL },
		{ 204, "Ok.", "SID=odd", -1, "unexpected answer (HTTP 204)", NULL },
		{ 200, "<html>login</html>", "SID=x", -1, "unexpected answer (HTTP 200)", NULL },
		{ 200, "", "SID=x", -1, "unexpected answer (HTTP 200)", NULL },
		{ 500, "", NULL, -1, "unexpected answer (HTTP 500)", NULL },
	};
	struct instance_config ic;
	struct qbit_client qc;
	struct http_request req;

	(void)state;
	memset(&ic, 0, sizeof(ic));
	ic.name = (char *)(uintptr_t)"qBit";
	for (size_t i = 0; i < NELEM(cases); i++) {
		qbit_client_init(&qc, &ic, 5);
		memset(&req, 0, sizeof(req));
		req.status = cases[i].status;
		buf_init(&req.response);
		buf_puts(&req.response, cases[i].body);
		req.set_cookie = (char *)(uintptr_t)cases[i].set_cookie;
		int rc = qbit_login_result(&qc, &req);
		if (rc != cases[i].rc)
			fail_msg("login %ld \"%s\": rc %d", cases[i].status, cases[i].body, rc);
		if (cases[i].why != NULL && (qc.error == NULL ||
		    strstr(qc.error, cases[i].why) == NULL))
			fail_msg("login %ld \"%s\": error \"%s\"", cases[i].status,
			    cases[i].body, qc.error ? qc.error : "(none)");
		if (cases[i].cookie != NULL)
			assert_string_equal(qc.cookie, cases[i].cookie);
		else
			assert_null(qc.cookie);
		buf_free(&req.response);
		qbit_client_free(&qc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torrents_mapping),
		cmocka_unit_test(test_torrents_hostile_lengths),
		cmocka_unit_test(test_torrents_inline),
		cmocka_unit_test(test_torrents_malformed_files),
		cmocka_unit_test(test_torrents_every_truncation),
		cmocka_unit_test(test_torrents_append_and_move),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_trackers),
		cmocka_unit_test(test_free_space),
		cmocka_unit_test(test_free_space_every_truncation),
		cmocka_unit_test(test_has_tag),
		cmocka_unit_test(test_api_is_v5),
		cmocka_unit_test(test_pause_endpoints),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_version_floor),
		cmocka_unit_test(test_login_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
