/*
 * config_value: values, as the reader gave them, parsed into what the
 * config holds: scalars and lists, durations, sizes, booleans, URLs and
 * regular expressions (PCRE2, read as Python's re reads them).  No parser
 * state: the fuzz target calls these directly.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config_p.h"
#include "util.h"

/* Small string and list helpers. */

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

const char *
config_skip_space(const char *s)
{
	while (is_space((unsigned char)*s))
		s++;
	return s;
}

/* Copy s without leading and trailing white space. */
char *
config_trim_dup(const char *s, size_t n)
{
	while (n > 0 && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

void
config_strlist_add(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = xstrdup(s);
}

void
config_strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
config_strlist_set(struct strlist *l, const char *const *v, size_t n)
{
	size_t i;

	config_strlist_free(l);
	for (i = 0; i < n; i++)
		config_strlist_add(l, v[i]);
}

void
config_regexlist_free(struct regexlist *rl)
{
	size_t i;

	if (rl->compiled != NULL)
		for (i = 0; i < rl->n; i++)
			pcre2_code_free(rl->compiled[i]);
	for (i = 0; i < rl->n; i++)
		free(rl->patterns[i]);
	free(rl->patterns);
	free(rl->compiled);
	memset(rl, 0, sizeof(*rl));
}

/* Replace the patterns of rl (not yet compiled) by the n strings of v. */
void
config_regexlist_set(struct regexlist *rl, char *const *v, size_t n)
{
	size_t i;

	config_regexlist_free(rl);
	rl->patterns = xcalloc(n, sizeof(*rl->patterns));
	for (i = 0; i < n; i++)
		rl->patterns[i] = xstrdup(v[i]);
	rl->n = n;
}

/*
 * Values, as the reader gave them: a scalar (bare or quoted) or a list of
 * scalars.  An empty bare value ("Key =") is an empty list.
 */

/* The text of a scalar value; NULL and *why for a list or table. */
const char *
config_value_scalar(const struct cr_value *v, const char **why)
{
	if (v->type == CR_ARRAY && v->raw != NULL && v->n == 1 &&
	    v->items[0].type == CR_BARE)
		return v->raw;	/* INI: Host = [::1] */
	if (v->type == CR_ARRAY) {
		*why = "expected a single value, not a list";
		return NULL;
	}
	if (v->type == CR_TABLE) {
		*why = "expected a single value, not a table";
		return NULL;
	}
	return v->text;
}

/* A list value into out (emptied first); -1 and *why on error. */
int
config_value_list(const struct cr_value *v, struct strlist *out, const char **why)
{
	size_t i;

	config_strlist_free(out);
	if (v->type == CR_BARE && *v->text == '\0')
		return 0;
	if (v->type != CR_ARRAY) {
		*why = "expected a list like [\"a\", \"b\"]";
		return -1;
	}
	for (i = 0; i < v->n; i++) {
		if (v->items[i].type == CR_ARRAY || v->items[i].type == CR_TABLE) {
			*why = "nested lists are not supported";
			config_strlist_free(out);
			return -1;
		}
		config_strlist_add(out, v->items[i].text);
	}
	return 0;
}

/* Parse a decimal integer with optional sign and white space. */
int
config_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	s = config_skip_space(s);
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *config_skip_space(end) != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
config_parse_duration(const char *s, int64_t unit_s, int64_t *out)
{
	bool neg = false;
	int64_t n = 0, mult;

	if (s == NULL || unit_s <= 0)
		return -1;
	s = config_skip_space(s);
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	s = config_skip_space(s);
	switch (*s) {
	case '\0':
		mult = unit_s;
		break;
	case 's': case 'S':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'M':		/* qBitrr: a month of 30 days */
		mult = 30 * 86400;
		break;
	case 'h': case 'H':
		mult = 3600;
		break;
	case 'd': case 'D':
		mult = 86400;
		break;
	case 'w': case 'W':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*s != '\0')
		s++;
	if (*config_skip_space(s) != '\0')
		return -1;
	if (n > INT64_MAX / mult)
		return -1;
	*out = neg ? -(n * mult) : n * mult;
	return 0;
}

int
config_parse_size(const char *s, int64_t *out)
{
	int64_t n = 0, mult = 1, frac = 0, fscale = 1;
	int fdigits = 0;

	if (s == NULL)
		return -1;
	s = config_skip_space(s);
	if (s[0] == '-' && s[1] == '1' && *config_skip_space(s + 2) == '\0') {
		*out = -1;
		return 0;
	}
	if (*s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (*s == '.') {
		/* qBitrr takes "1.5G": a decimal fraction of the unit. */
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++)
			if (fdigits < 9) {
				frac = frac * 10 + (*s - '0');
				fscale *= 10;
				fdigits++;
			}
	}
	s = config_skip_space(s);
	switch (*s) {
	case 'k': case 'K':
		mult = INT64_C(1) << 10;
		break;
	case 'm': case 'M':
		mult = INT64_C(1) << 20;
		break;
	case 'g': case 'G':
		mult = INT64_C(1) << 30;
		break;
	case 't': case 'T':
		mult = INT64_C(1) << 40;
		break;
	default:
		break;
	}
	if (mult != 1) {
		s++;
		if (*s == 'i')
			s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*config_skip_space(s) != '\0')
		return -1;
	if (n > INT64_MAX / mult - 1)
		return -1;
	*out = n * mult + (int64_t)((double)frac / (double)fscale * (double)mult);
	return 0;
}

int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

void
config_url_free(struct url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

/*
 * Split s; a bare host (no "scheme://") is taken as http.  Returns 0, or
 * -1 with *why set (a static string or one stored in *whybuf).
 */
int
config_url_parse(const char *s, struct url *u, const char **why, char **whybuf)
{
	const char *sep, *auth, *aend, *colon = NULL;
	size_t alen, i, ncolon = 0;
	int64_t port;
	char *portstr;

	memset(u, 0, sizeof(*u));
	if ((sep = strstr(s, "://")) != NULL) {
		u->scheme = str_lower(xstrndup(s, (size_t)(sep - s)));
		if (strcmp(u->scheme, "http") != 0 &&
		    strcmp(u->scheme, "https") != 0) {
			*whybuf = xasprintf("unsupported scheme \"%.20s\" "
			    "(use http:// or https://)", u->scheme);
			*why = *whybuf;
			goto fail;
		}
		auth = sep + 3;
	} else {
		u->scheme = xstrdup("http");
		auth = s;
	}
	aend = auth + strcspn(auth, "/?#");
	if (strpbrk(auth, "?#") != NULL) {
		*why = "a query or fragment is not allowed";
		goto fail;
	}
	alen = (size_t)(aend - auth);
	for (i = 0; i < alen; i++) {
		if (auth[i] == '@') {
			*why = "a user name or password in the URL is not "
			    "supported (use UserName and Password)";
			goto fail;
		}
		if (is_space((unsigned char)auth[i]) ||
		    iscntrl((unsigned char)auth[i])) {
			*why = "white space in the host name";
			goto fail;
		}
		if (auth[i] == ':')
			ncolon++;
	}
	if (alen > 0 && auth[0] == '[') {
		const char *rb = memchr(auth, ']', alen);

		if (rb == NULL) {
			*why = "missing ']' after an IPv6 address";
			goto fail;
		}
		u->host = xstrndup(auth, (size_t)(rb - auth) + 1);
		if (rb + 1 < aend) {
			if (rb[1] != ':') {
				*why = "unexpected text after ']'";
				goto fail;
			}
			colon = rb + 1;
		}
	} else if (ncolon > 1 && sep == NULL && *aend == '\0') {
		/* A bare IPv6 address. */
		u->host = xasprintf("[%.*s]", (int)alen, auth);
	} else if (ncolon > 1) {
		*why = "an IPv6 address needs brackets: [address]";
		goto fail;
	} else {
		colon = memchr(auth, ':', alen);
		u->host = xstrndup(auth, colon ? (size_t)(colon - auth) : alen);
	}
	if (*u->host == '\0' || strcmp(u->host, "[]") == 0) {
		*why = "no host name";
		goto fail;
	}
	if (colon != NULL) {
		portstr = xstrndup(colon + 1, (size_t)(aend - colon - 1));
		if (strspn(portstr, "0123456789") != strlen(portstr) ||
		    config_parse_i64(portstr, &port) == -1 || port < 1 ||
		    port > 65535) {
			free(portstr);
			*why = "bad port in the URL (1-65535)";
			goto fail;
		}
		free(portstr);
		u->port = (int)port;
	}
	u->path = xstrdup(aend);
	for (i = strlen(u->path); i > 0 && u->path[i - 1] == '/'; i--)
		u->path[i - 1] = '\0';
	return 0;
fail:
	config_url_free(u);
	return -1;
}

/*
 * Regular expressions, as Python's re reads them: PCRE2 in UTF mode with
 * Unicode properties (Python's \w, \d, \b and IGNORECASE are Unicode),
 * DOTALL as qBitrr compiles them.  Python's \Z is PCRE2's \z; \uXXXX is
 * understood (ALT_BSUX).  What PCRE2 cannot read the Python way, such as the
 * (?a) or (?L) flags, is refused at load time.  Matching is bounded by match
 * and depth limits, since subjects are names from outside.
 */
#define RE_MAX_PATTERN	4096		/* bytes of one pattern */
#define RE_MAX_NEST	64		/* nested parentheses */
#define RE_MATCH_LIMIT	200000		/* backtracking steps per search */
#define RE_DEPTH_LIMIT	5000
#define RE_HEAP_LIMIT	4096		

/* KiB */

static char *
python_pattern(const char *pat, bool allowlist)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	buf_puts(&b, "");
	/* qBitrr: rf"\{ext}" for an entry not starting with a backslash. */
	if (allowlist && pat[0] != '\\')
		buf_puts(&b, "\\");
	for (s = pat; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			buf_puts(&b, s[1] == 'Z' ? "\\z" : (char[]){ '\\', s[1], 0 });
			s++;
		} else
			buf_append(&b, s, 1);
	}
	return b.data;
}

int
config_regexlist_compile(struct regexlist *rl, bool case_sensitive,
    bool allowlist, size_t *bad, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
	    PCRE2_DOTALL | PCRE2_ALT_BSUX | (case_sensitive ? 0 : PCRE2_CASELESS);
	pcre2_compile_context *cc;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	size_t i, j;
	char *src;
	int ec;

	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		abort();
	pcre2_set_max_pattern_length(cc, RE_MAX_PATTERN);
	pcre2_set_parens_nest_limit(cc, RE_MAX_NEST);
	rl->compiled = xcalloc(rl->n ? rl->n : 1, sizeof(*rl->compiled));
	for (i = 0; i < rl->n; i++) {
		src = python_pattern(rl->patterns[i], allowlist);
		rl->compiled[i] = pcre2_compile((PCRE2_SPTR)src,
		    PCRE2_ZERO_TERMINATED, opts, &ec, &off, cc);
		free(src);
		if (rl->compiled[i] != NULL)
			continue;
		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ec);
		snprintf(err, errlen, "%s (at offset %zu)", (char *)msg,
		    (size_t)off);
		*bad = i;
		for (j = 0; j < i; j++)
			pcre2_code_free(rl->compiled[j]);
		free(rl->compiled);
		rl->compiled = NULL;
		pcre2_compile_context_free(cc);
		return -1;
	}
	pcre2_compile_context_free(cc);
	return 0;
}

int
config_regexlist_search(const struct regexlist *rl, const char *s)
{
	pcre2_match_context *mc;
	pcre2_match_data *md;
	int result = 0, rc;
	size_t i;

	if (rl->n == 0)
		return 0;
	if (rl->compiled == NULL)
		return -1;
	if ((mc = pcre2_match_context_create(NULL)) == NULL)
		abort();
	pcre2_set_match_limit(mc, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(mc, RE_HEAP_LIMIT);
	for (i = 0; i < rl->n && result != 1; i++) {
		if ((md = pcre2_match_data_create_from_pattern(rl->compiled[i],
		    NULL)) == NULL)
			abort();
		rc = pcre2_match(rl->compiled[i], (PCRE2_SPTR)s, strlen(s), 0, 0,
		    md, mc);
		if (rc >= 0)
			result = 1;
		else if (rc != PCRE2_ERROR_NOMATCH)
			result = -1;	/* a later pattern may still match */
		pcre2_match_data_free(md);
	}
	pcre2_match_context_free(mc);
	return result;
}

/* The host of a tracker URI, lower-cased, as qBitrr matches them ("" if none). */
char *
config_uri_host(const char *uri)
{
	const char *s = strstr(uri, "://"), *end;
	char *host;

	s = s ? s + 3 : uri;
	end = s + strcspn(s, "/?#");
	for (const char *at = s; at < end; at++)
		if (*at == '@')
			s = at + 1;
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));
		host = xstrndup(s + 1, rb ? (size_t)(rb - s - 1) : 0);
	} else
		host = xstrndup(s, strcspn(s, ":/?#"));
	return str_lower(host);
}
