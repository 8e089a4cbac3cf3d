/*
 * qbit_info: the readers of the two large answers, one pass over the text
 * each: torrents/info into struct qbit_torrent records, and the free space
 * out of sync/maindata (qbit_parse_torrents, qbit_parse_free_space).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit.h"
#include "util.h"

/* A valid info hash (v1: 40 hex digits), copied lower-case into out. */
static int
copy_hash(const char *s, char out[41])
{
	size_t i;

	for (i = 0; i < 40; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	if (s[40] != '\0')
		return -1;
	out[40] = '\0';
	return 0;
}

/*
 * torrents/info is the one large document (about 1.2 KB per torrent, tens
 * of thousands of torrents on a seedbox).  A jansson tree costs about a
 * hundred allocations per torrent, so this reader walks the text once and
 * fills compact records directly, skipping the keys rules do not use.  It
 * accepts what jansson accepts (RFC 8259, UTF-8 checked, integers within
 * int64), only stricter about raw NUL bytes, so a broken answer is refused
 * whole.
 */
struct jp {
	const char	*start, *p, *end;
	char		*err;
	size_t		 errlen;
	bool		 failed;
};

static void
jp_fail(struct jp *j, const char *what)
{
	if (!j->failed)
		snprintf(j->err, j->errlen, "malformed JSON at byte %ld: %s",
		    (long)(j->p - j->start), what);
	j->failed = true;
}

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r'))
		j->p++;
}

static bool
jp_hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4) {
		jp_fail(j, "truncated \\u escape");
		return false;
	}
	for (int i = 0; i < 4; i++) {
		int h = hex_value((unsigned char)j->p[i]);
		if (h < 0) {
			jp_fail(j, "invalid \\u escape");
			return false;
		}
		v = v * 16 + (unsigned)h;
	}
	j->p += 4;
	*out = v;
	return true;
}

/*
 * A string at j->p (on its opening quote).  With out, its decoded text is
 * stored there (appended to a cleared buffer); *nul tells whether it held a
 * \u0000.  Returns false on malformed input.
 */
static bool
jp_string(struct jp *j, struct buf *out, bool *nul)
{
	const char *run;

	if (nul != NULL)
		*nul = false;
	if (out != NULL) {
		out->len = 0;
		buf_append(out, "", 0);
	}
	j->p++;		/* the quote */
	run = j->p;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			if (out != NULL)
				buf_append(out, run, (size_t)(j->p - run));
			j->p++;
			return true;
		}
		if (c < 0x20) {
			jp_fail(j, "control character in a string");
			return false;
		}
		if (c >= 0x80) {
			uint32_t cp8;
			size_t n = utf8_decode((const unsigned char *)j->p,
			    (size_t)(j->end - j->p), &cp8);
			if (n == 0) {
				jp_fail(j, "invalid UTF-8 in a string");
				return false;
			}
			j->p += n;
			continue;
		}
		if (c != '\\') {
			j->p++;
			continue;
		}
		if (out != NULL)
			buf_append(out, run, (size_t)(j->p - run));
		if (++j->p >= j->end)
			break;
		unsigned cp;
		switch (*j->p++) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (!jp_hex4(j, &cp))
				return false;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				jp_fail(j, "invalid Unicode \\u escape (lone low surrogate)");
				return false;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
					jp_fail(j, "invalid Unicode \\u escape (lone high surrogate)");
					return false;
				}
				j->p += 2;
				if (!jp_hex4(j, &lo))
					return false;
				if (lo < 0xdc00 || lo > 0xdfff) {
					jp_fail(j, "invalid Unicode \\u escape (bad low surrogate)");
					return false;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0 && nul != NULL)
				*nul = true;
			break;
		default:
			j->p--;
			jp_fail(j, "invalid escape in a string");
			return false;
		}
		if (out != NULL)
			buf_put_utf8(out, cp);
		run = j->p;
	}
	jp_fail(j, "unterminated string");
	return false;
}

/* One or more digits (a number's integer, fraction or exponent part). */
static bool
jp_digits(struct jp *j)
{
	const char *start = j->p;

	while (j->p < j->end && isdigit((unsigned char)*j->p))
		j->p++;
	if (j->p == start) {
		jp_fail(j, "invalid number");
		return false;
	}
	return true;
}

/* A number: *is_int with *iv, else *dv.  False on malformed or out of range. */
static bool
jp_number(struct jp *j, bool *is_int, int64_t *iv, double *dv)
{
	const char *s = j->p;
	char tmp[400];
	size_t n;

	*is_int = true;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p >= j->end || *j->p < '1' || *j->p > '9' || !jp_digits(j)) {
		jp_fail(j, "invalid number");
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		*is_int = false;
		j->p++;
		if (!jp_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		*is_int = false;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jp_digits(j))
			return false;
	}
	n = (size_t)(j->p - s);
	/* Most numbers are short integers: no copy, no strtoll, no overflow. */
	if (*is_int && n - (*s == '-') <= 18) {
		int64_t v = 0;
		for (const char *d = s + (*s == '-'); d < j->p; d++)
			v = v * 10 + (*d - '0');
		*iv = *s == '-' ? -v : v;
		return true;
	}
	if (n >= sizeof(tmp)) {
		jp_fail(j, "number too long");
		return false;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	if (*is_int) {
		long long v = strtoll(tmp, NULL, 10);
		if (errno == ERANGE) {
			jp_fail(j, "too big integer");
			return false;
		}
		*iv = v;
	} else {
		double d = strtod(tmp, NULL);
		if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
			jp_fail(j, "real number overflow");
			return false;
		}
		*dv = d;
	}
	return true;
}

static bool
jp_literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) {
		jp_fail(j, "invalid token");
		return false;
	}
	j->p += n;
	return true;
}

/* An object key and its ':' (j->p on the key, after white space). */
static bool
jp_key(struct jp *j, struct buf *key, bool *nul, const char *expected)
{
	if (j->p >= j->end || *j->p != '"') {
		jp_fail(j, expected);
		return false;
	}
	if (!jp_string(j, key, nul))
		return false;
	jp_ws(j);
	if (j->p >= j->end || *j->p != ':') {
		jp_fail(j, "':' expected");
		return false;
	}
	j->p++;
	return true;
}

/* Skip any value, nested ones included, without recursion. */
static bool
jp_skip(struct jp *j)
{
	char stack[2048];
	int depth = 0;
	bool is_int;
	int64_t iv;
	double dv;

	for (;;) {
		jp_ws(j);
		if (j->p >= j->end) {
			jp_fail(j, "unexpected end of input");
			return false;
		}
		char c = *j->p;
		if (c == '{' || c == '[') {
			if (depth == (int)sizeof(stack)) {
				jp_fail(j, "maximum nesting depth reached");
				return false;
			}
			stack[depth++] = c == '{' ? '}' : ']';
			j->p++;
			jp_ws(j);
			if (j->p < j->end && *j->p == stack[depth - 1]) {
				j->p++;
				depth--;
				goto after_value;
			}
			if (c == '{' && !jp_key(j, NULL, NULL, "string or '}' expected"))
				return false;
			continue;
		}
		if (c == '"') {
			if (!jp_string(j, NULL, NULL))
				return false;
		} else if (c == 't') {
			if (!jp_literal(j, "true"))
				return false;
		} else if (c == 'f') {
			if (!jp_literal(j, "false"))
				return false;
		} else if (c == 'n') {
			if (!jp_literal(j, "null"))
				return false;
		} else if (!jp_number(j, &is_int, &iv, &dv)) {
			return false;
		}
after_value:
		for (;;) {
			if (depth == 0)
				return true;
			jp_ws(j);
			if (j->p >= j->end) {
				jp_fail(j, "unexpected end of input");
				return false;
			}
			if (*j->p == stack[depth - 1]) {
				j->p++;
				depth--;
				continue;
			}
			if (*j->p != ',') {
				jp_fail(j, "',' or end of container expected");
				return false;
			}
			j->p++;
			jp_ws(j);
			if (stack[depth - 1] == '}' && !jp_key(j, NULL, NULL, "string expected"))
				return false;
			break;
		}
	}
}

/*
 * The members of the object at j->p, one by one: each key into key, then
 * visit is called with j->p on the value (after white space) and must
 * consume it.  Shared by the torrents/info entries and sync/maindata.
 */
static bool
jp_object(struct jp *j, struct buf *key,
    bool (*visit)(struct jp *, const struct buf *, void *), void *arg)
{
	bool nul;

	j->p++;		/* the brace */
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		jp_ws(j);
		if (!jp_key(j, key, &nul, "string or '}' expected"))
			return false;
		if (nul) {
			jp_fail(j, "NUL byte in object key not supported");
			return false;
		}
		jp_ws(j);
		if (!visit(j, key, arg))
			return false;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return true;
		}
		jp_fail(j, "',' or '}' expected");
		return false;
	}
}

enum field_type { F_STR, F_NUM, F_INT, F_BOOL, F_HASH };

struct torrent_field {
	const char	*name;
	size_t		 name_len;
	enum field_type	 type;
	size_t		 off;
	double		 dflt;
};

#define TF(n, t, m, d) { n, sizeof(n) - 1, t, offsetof(struct qbit_torrent, m), d }
static const struct torrent_field torrent_fields[] = {
	TF("hash", F_HASH, hash, 0),
	TF("name", F_STR, name, 0),
	TF("category", F_STR, category, 0),
	TF("tags", F_STR, tags, 0),
	TF("state", F_STR, state, 0),
	TF("content_path", F_STR, content_path, 0),
	TF("save_path", F_STR, save_path, 0),
	TF("tracker", F_STR, tracker, 0),
	TF("progress", F_NUM, progress, 0),
	TF("ratio", F_NUM, ratio, 0),
	TF("availability", F_NUM, availability, -1),
	TF("size", F_INT, size, 0),
	TF("amount_left", F_INT, amount_left, -1),
	TF("added_on", F_INT, added_on, 0),
	TF("completion_on", F_INT, completion_on, 0),
	TF("last_activity", F_INT, last_activity, 0),
	TF("seeding_time", F_INT, seeding_time, 0),
	TF("eta", F_INT, eta, 8640000),
	TF("dl_limit", F_INT, dl_limit, 0),
	TF("up_limit", F_INT, up_limit, 0),
	TF("force_start", F_BOOL, force_start, 0),
};
#undef TF
#define N_TORRENT_FIELDS (sizeof(torrent_fields) / sizeof(torrent_fields[0]))

static void
torrent_defaults(struct qbit_torrent *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t f = 0; f < N_TORRENT_FIELDS; f++) {
		const struct torrent_field *tf = &torrent_fields[f];
		char *at = (char *)t + tf->off;
		if (tf->type == F_NUM)
			*(double *)(void *)at = tf->dflt;
		else if (tf->type == F_INT)
			*(int64_t *)(void *)at = (int64_t)tf->dflt;
	}
}

/* Put one field back to its default (a string to NULL, read later as ""). */
static void
field_reset(struct qbit_torrent *t, const struct torrent_field *tf)
{
	char *at = (char *)t + tf->off;

	switch (tf->type) {
	case F_STR:
		free(*(char **)(void *)at);
		*(char **)(void *)at = NULL;
		break;
	case F_NUM:
		*(double *)(void *)at = tf->dflt;
		break;
	case F_INT:
		*(int64_t *)(void *)at = (int64_t)tf->dflt;
		break;
	case F_BOOL:
		*(bool *)(void *)at = false;
		break;
	case F_HASH:
		break;
	}
}

/* What the members of one torrents/info entry fill in. */
struct torrent_ctx {
	struct qbit_torrent *t;
	struct buf	*val;
	bool		 hash_ok;
	bool		 nul_in[N_TORRENT_FIELDS];
};

/* One member of an entry: a field rules use into the torrent, any other skipped. */
static bool
visit_torrent_field(struct jp *j, const struct buf *key, void *arg)
{
	struct torrent_ctx *tc = arg;
	struct qbit_torrent *t = tc->t;
	const struct torrent_field *tf = NULL;
	size_t fi = 0;
	bool nul;

	/* About fifty keys an entry, most of them unused: length first. */
	for (size_t f = 0; f < N_TORRENT_FIELDS; f++)
		if (key->len == torrent_fields[f].name_len &&
		    memcmp(key->data, torrent_fields[f].name, key->len) == 0) {
			tf = &torrent_fields[f];
			fi = f;
			break;
		}
	if (j->p >= j->end) {
		jp_fail(j, "unexpected end of input");
		return false;
	}
	char *at = tf ? (char *)t + tf->off : NULL;
	char c = *j->p;

	/* The last of duplicate keys wins, as in jansson: start from the default. */
	if (tf != NULL) {
		field_reset(t, tf);
		tc->nul_in[fi] = false;
	}
	if (c == '"') {
		if (!jp_string(j, tf ? tc->val : NULL, &nul))
			return false;
		/* A NUL would cut a name or path short in C: such a torrent is skipped. */
		if (tf != NULL)
			tc->nul_in[fi] = nul;
		if (tf != NULL && tf->type == F_STR) {
			*(char **)(void *)at = xstrndup(tc->val->data, tc->val->len);
		} else if (tf != NULL && tf->type == F_HASH) {
			tc->hash_ok = !nul && tc->val->len == 40 &&
			    copy_hash(tc->val->data, t->hash) == 0;
		}
	} else if (c == '-' || isdigit((unsigned char)c)) {
		bool is_int;
		int64_t iv = 0;
		double dv = 0;
		if (!jp_number(j, &is_int, &iv, &dv))
			return false;
		if (tf != NULL && tf->type == F_NUM)
			*(double *)(void *)at = is_int ? (double)iv : dv;
		else if (tf != NULL && tf->type == F_INT) {
			if (is_int)
				*(int64_t *)(void *)at = iv;
			else if (dv > -9.2e18 && dv < 9.2e18)
				*(int64_t *)(void *)at = (int64_t)dv;
		}
	} else if (c == 't' || c == 'f') {
		bool v = c == 't';
		if (!jp_literal(j, v ? "true" : "false"))
			return false;
		if (tf != NULL && tf->type == F_NUM)
			*(double *)(void *)at = v ? 1 : 0;
		else if (tf != NULL && tf->type == F_BOOL)
			*(bool *)(void *)at = v;
	} else if (!jp_skip(j)) {
		return false;
	}
	if (tf != NULL && tf->type == F_HASH && c != '"')
		tc->hash_ok = false;
	return true;
}

/*
 * One object of the array: its fields into t.  *ok is false when the entry
 * must be skipped (no valid hash, a NUL in a string).  Returns false on
 * malformed input.
 */
static bool
jp_torrent(struct jp *j, struct qbit_torrent *t, bool *ok, struct buf *key, struct buf *val)
{
	struct torrent_ctx tc;

	memset(&tc, 0, sizeof(tc));
	tc.t = t;
	tc.val = val;
	torrent_defaults(t);
	if (!jp_object(j, key, visit_torrent_field, &tc))
		return false;
	*ok = tc.hash_ok;
	for (size_t f = 0; f < N_TORRENT_FIELDS; f++)
		*ok = *ok && !tc.nul_in[f];
	if (*ok)
		for (size_t f = 0; f < N_TORRENT_FIELDS; f++) {
			char **s = (char **)(void *)((char *)t + torrent_fields[f].off);
			if (torrent_fields[f].type == F_STR && *s == NULL)
				*s = xstrdup("");
		}
	return true;
}

int
qbit_parse_torrents(const char *data, size_t len, struct qbit_torrent_list *out,
    size_t *skipped, char *err, size_t errlen)
{
	struct jp j = { data, data, data + len, err, errlen, false };
	size_t first = out->n;
	struct buf key, val;
	bool ok = true;

	if (skipped != NULL)
		*skipped = 0;
	buf_init(&key);
	buf_init(&val);
	jp_ws(&j);
	if (j.p >= j.end) {
		jp_fail(&j, "'[' or '{' expected near end of file");
		goto fail;
	}
	if (*j.p != '[') {
		/* Another JSON value is "not an array"; garbage is malformed. */
		if (!jp_skip(&j))
			goto fail;
		jp_ws(&j);
		if (j.p < j.end) {
			jp_fail(&j, "end of file expected");
			goto fail;
		}
		snprintf(err, errlen, "expected a JSON array of torrents");
		goto fail;
	}
	j.p++;
	jp_ws(&j);
	if (j.p < j.end && *j.p == ']') {
		j.p++;
	} else {
		for (;;) {
			jp_ws(&j);
			if (j.p >= j.end) {
				jp_fail(&j, "unexpected end of input");
				goto fail;
			}
			if (*j.p == '{') {
				struct qbit_torrent t;
				bool keep;
				if (!jp_torrent(&j, &t, &keep, &key, &val)) {
					qbit_torrent_clear(&t);
					goto fail;
				}
				if (keep) {
					if (out->n == out->cap) {
						out->cap = out->cap ? out->cap * 2 : 64;
						out->items = xreallocarray(out->items, out->cap,
						    sizeof(*out->items));
					}
					out->items[out->n++] = t;
				} else {
					qbit_torrent_clear(&t);
					if (skipped != NULL)
						(*skipped)++;
				}
			} else {
				if (!jp_skip(&j))
					goto fail;
				if (skipped != NULL)
					(*skipped)++;
			}
			jp_ws(&j);
			if (j.p < j.end && *j.p == ',') {
				j.p++;
				continue;
			}
			if (j.p < j.end && *j.p == ']') {
				j.p++;
				break;
			}
			jp_fail(&j, "',' or ']' expected");
			goto fail;
		}
	}
	jp_ws(&j);
	if (j.p < j.end) {
		jp_fail(&j, "end of file expected");
		goto fail;
	}
	goto out;
fail:
	ok = false;
	if (skipped != NULL)
		*skipped = 0;
	/* Refused whole: nothing of this document is kept. */
	for (size_t i = first; i < out->n; i++)
		qbit_torrent_clear(&out->items[i]);
	out->n = first;
out:
	buf_free(&key);
	buf_free(&val);
	return ok ? 0 : -1;
}

/* In server_state: free_space_on_disk, an integer or a real within int64. */
static bool
visit_server_state(struct jp *j, const struct buf *key, void *arg)
{
	int64_t *out = arg, iv;
	double dv;
	bool is_int;

	if (strcmp(key->data, "free_space_on_disk") != 0 || j->p >= j->end ||
	    (*j->p != '-' && !isdigit((unsigned char)*j->p)))
		return jp_skip(j);
	if (!jp_number(j, &is_int, &iv, &dv))
		return false;
	if (is_int)
		*out = iv;
	else
		*out = dv > -9.2e18 && dv < 9.2e18 ? (int64_t)dv : -1;
	return true;
}

struct maindata_ctx {
	struct buf	 key;
	int64_t		*out;
};

static bool
visit_maindata(struct jp *j, const struct buf *key, void *arg)
{
	struct maindata_ctx *m = arg;

	/* A later server_state replaces an earlier one, as in a tree. */
	if (strcmp(key->data, "server_state") == 0) {
		*m->out = -1;
		if (j->p < j->end && *j->p == '{')
			return jp_object(j, &m->key, visit_server_state, m->out);
	}
	return jp_skip(j);
}

/*
 * sync/maindata is as large as torrents/info (every torrent, every key):
 * the free space is read in the same single pass, without building the
 * rest.  Accepts and refuses what jansson does.
 */
int
qbit_parse_free_space(const char *data, size_t len, int64_t *out, char *err, size_t errlen)
{
	struct jp j = { data, data, data + len, err, errlen, false };
	struct buf top;
	struct maindata_ctx m;
	bool object;

	*out = -1;
	buf_init(&top);
	buf_init(&m.key);
	m.out = out;
	jp_ws(&j);
	object = j.p < j.end && *j.p == '{';
	if (object ? jp_object(&j, &top, visit_maindata, &m) : jp_skip(&j)) {
		jp_ws(&j);
		if (j.p < j.end)
			jp_fail(&j, "end of file expected");
	}
	buf_free(&top);
	buf_free(&m.key);
	if (!j.failed && !object)
		snprintf(err, errlen, "expected a JSON object");
	if (j.failed || !object) {
		*out = -1;
		return -1;
	}
	return 0;
}
