/*
 * config_read: the syntax of qbitrr.ini and of qBitrr's config.toml (see
 * config_read.h).  The file is read whole, then walked once with a cursor
 * that counts lines; values that span lines (arrays, multi-line strings)
 * keep the line of their key for messages.
 *
 * Where the two dialects disagree, the rules are:
 *   - '#' starts a comment anywhere outside a string, except inside a
 *     bare (unquoted) value where it must follow white space ("a#b" stays
 *     a bare word, as it was in the INI dialect); ';' after white space
 *     ends a bare value too (INI).
 *   - In a double-quoted string the TOML escapes are resolved (\\ \" \t
 *     \n \r \f \e \uXXXX \UXXXXXXXX); any other backslash, \b included,
 *     is kept as written, so a regex written "\bextras?\b" (INI) and
 *     "\\bextras?\\b" (TOML) mean the same.  (TOML's \b, a backspace, has
 *     no use in this file.)
 *   - An indented line right after a bare value continues it, as in INI,
 *     unless it holds a '=' (then it is the next key).
 *   - "Key: value" is "Key = value" (INI).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "util.h"

struct rd {
	const char	*s;		/* cursor, NUL-terminated buffer */
	const char	*base;		/* start of the buffer */
	int		 line;
	int		 errors;
	bool		 stop;		/* too many tables: the rest is not read */
	cr_report_fn	 report;
	void		*arg;
	struct cr_file	*f;
	size_t		 cur;		/* current table */
	const char	*why;		/* value error, static text */
	const char	*resume;	/* where to go on after a value error */
	int		 resume_line;
};

static void rerr(struct rd *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

static void
rerr(struct rd *r, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->errors++;
	if (r->report != NULL)
		r->report(r->arg, line, msg);
}

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
skip_ws(struct rd *r)
{
	while (is_ws((unsigned char)*r->s))
		r->s++;
}

static bool
at_eol(const struct rd *r)
{
	return *r->s == '\n' || *r->s == '\0';
}

static void
skip_to_eol(struct rd *r)
{
	while (!at_eol(r))
		r->s++;
}

static void
newline(struct rd *r)
{
	if (*r->s == '\n') {
		r->s++;
		r->line++;
	}
}

/* White space, newlines and '#' comments, as between array items. */
static void
skip_ws_nl(struct rd *r)
{
	for (;;) {
		skip_ws(r);
		if (*r->s == '#')
			skip_to_eol(r);
		if (*r->s != '\n')
			return;
		newline(r);
	}
}

static void
value_free(struct cr_value *v)
{
	size_t i;

	free(v->text);
	free(v->raw);
	for (i = 0; i < v->n; i++) {
		value_free(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	memset(v, 0, sizeof(*v));
}

void
config_read_free(struct cr_file *f)
{
	size_t i;

	for (i = 0; i < f->n_tables; i++)
		free(f->tables[i].name);
	free(f->tables);
	for (i = 0; i < f->n_entries; i++) {
		free(f->entries[i].key);
		value_free(&f->entries[i].value);
	}
	free(f->entries);
	memset(f, 0, sizeof(*f));
}

/* Strings. */

/* One escape at r->s (on the backslash) of a double-quoted string. */
static int
escape(struct rd *r, struct buf *b)
{
	const char *s = r->s + 1;
	uint32_t c = 0;
	int i, n, h;

	switch (*s) {
	case '\\': buf_append(b, "\\", 1); break;
	case '"': buf_append(b, "\"", 1); break;
	case 't': buf_append(b, "\t", 1); break;
	case 'n': buf_append(b, "\n", 1); break;
	case 'r': buf_append(b, "\r", 1); break;
	case 'f': buf_append(b, "\f", 1); break;
	case 'e': buf_append(b, "\x1b", 1); break;
	case 'u':
	case 'U':
		n = *s == 'u' ? 4 : 8;
		for (i = 1; i <= n; i++) {
			if ((h = hex_value((unsigned char)s[i])) < 0)
				break;
			c = c * 16 + (uint32_t)h;
		}
		if (i <= n) {
			/* Not a TOML escape: kept as written (INI). */
			buf_append(b, r->s, 2);
			break;
		}
		if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
			r->why = "escape is not a valid character (or is NUL)";
			return -1;
		}
		buf_put_utf8(b, c);
		r->s = s + n + 1;
		return 0;
	case '\0':
	case '\n':
		r->why = "unterminated quote";
		return -1;
	default:
		/* \b, \d, \. ...: kept for the regular expression. */
		buf_append(b, r->s, 2);
		break;
	}
	r->s = s + 1;
	return 0;
}

/* A string at r->s (on its first quote) into b. */
static int
read_string(struct rd *r, struct buf *b)
{
	char q = *r->s;
	bool multi = r->s[1] == q && r->s[2] == q;

	buf_puts(b, "");
	r->s += multi ? 3 : 1;
	if (multi) {
		/* A newline right after the opening quotes is not content. */
		if (*r->s == '\r' && r->s[1] == '\n')
			r->s++;
		newline(r);
	}
	for (;;) {
		char c = *r->s;

		if (c == '\0' || (c == '\n' && !multi)) {
			r->why = "unterminated quote";
			return -1;
		}
		if (c == q && (!multi || (r->s[1] == q && r->s[2] == q))) {
			if (!multi) {
				r->s++;
				return 0;
			}
			r->s += 3;
			/* Up to two more quotes belong to the content. */
			for (int k = 0; k < 2 && *r->s == q; k++, r->s++)
				buf_append(b, &q, 1);
			return 0;
		}
		if (c == '\\' && q == '"') {
			if (multi) {
				/* A backslash ending a line joins the next one. */
				const char *t = r->s + 1;

				while (is_ws((unsigned char)*t))
					t++;
				if (*t == '\n') {
					r->s = t;
					while (is_ws((unsigned char)*r->s) ||
					    *r->s == '\n') {
						if (*r->s == '\n')
							r->line++;
						r->s++;
					}
					continue;
				}
			}
			if (escape(r, b) == -1)
				return -1;
			continue;
		}
		if (c == '\n')
			r->line++;
		buf_append(b, &c, 1);
		r->s++;
	}
}

/* "1_000" -> "1000": TOML digit separators in a bare number. */
static void
strip_digit_separators(char *t)
{
	size_t i, j;
	const char *p;

	if (strchr(t, '_') == NULL)
		return;
	for (p = t; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && strchr("_+-.eE", *p) == NULL)
			return;
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] == '_' && (i == 0 || !isdigit((unsigned char)t[i - 1]) ||
		    !isdigit((unsigned char)t[i + 1])))
			return;
	for (i = j = 0; t[i] != '\0'; i++)
		if (t[i] != '_')
			t[j++] = t[i];
	t[j] = '\0';
}

static char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && is_ws((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ws((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Keys. */

struct path {
	char	**parts;
	size_t	  n;
};

static void
path_free(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->parts[i]);
	free(p->parts);
	memset(p, 0, sizeof(*p));
}

static char *
path_join(const char *prefix, const struct path *p, size_t n)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, prefix);
	for (size_t i = 0; i < n; i++) {
		if (b.len > 0)
			buf_puts(&b, ".");
		buf_puts(&b, p->parts[i]);
	}
	return b.data;
}

/*
 * A dotted key or table name: parts are bare (any run of characters but
 * . = : [ ] # , { } quotes and line ends; inner spaces kept, as INI allowed)
 * or quoted.  Returns 0, or -1 with r->why set.
 */
static int
read_path(struct rd *r, struct path *p)
{
	memset(p, 0, sizeof(*p));
	for (;;) {
		char *part;

		skip_ws(r);
		if (*r->s == '"' || *r->s == '\'') {
			struct buf b;

			if (r->s[1] == *r->s && r->s[2] == *r->s) {
				r->why = "a multi-line string cannot be a name";
				goto fail;
			}
			buf_init(&b);
			if (read_string(r, &b) == -1) {
				buf_free(&b);
				goto fail;
			}
			part = b.data;
		} else {
			const char *start = r->s;

			while (!at_eol(r) && strchr(".=:[]#,{}\"'", *r->s) == NULL)
				r->s++;
			part = trim_dup(start, (size_t)(r->s - start));
			if (*part == '\0') {
				free(part);
				r->why = "missing name";
				goto fail;
			}
		}
		p->parts = xreallocarray(p->parts, p->n + 1, sizeof(*p->parts));
		p->parts[p->n++] = part;
		skip_ws(r);
		if (*r->s != '.')
			return 0;
		r->s++;
	}
fail:
	path_free(p);
	return -1;
}

/* Values. */

enum ctx { CTX_TOP, CTX_ARRAY, CTX_TABLE };

static int read_value(struct rd *, struct cr_value *, enum ctx, int);

static int
read_array(struct rd *r, struct cr_value *v, int depth)
{
	const char *ls = NULL;
	int ls_line = 0;

	v->type = CR_ARRAY;
	r->s++;
	for (;;) {
		int before = r->line;

		skip_ws_nl(r);
		if (r->line != before) {
			/* Remember where this line starts, to resume there. */
			ls = r->s;
			while (ls > r->base && ls[-1] != '\n')
				ls--;
			ls_line = r->line;
		}
		if (*r->s == ']') {
			r->s++;
			return 0;
		}
		if (*r->s == '\0') {
			r->why = "unterminated list";
			return -1;
		}
		if (*r->s == ',') {
			r->why = "empty list item";
			return -1;
		}
		v->items = xreallocarray(v->items, v->n + 1, sizeof(*v->items));
		memset(&v->items[v->n], 0, sizeof(*v->items));
		v->n++;
		if (read_value(r, &v->items[v->n - 1], CTX_ARRAY, depth + 1) == -1)
			return -1;
		if (v->items[v->n - 1].type == CR_BARE &&
		    strchr(v->items[v->n - 1].text, '=') != NULL && ls != NULL) {
			/* "key = value" on a later line: the ']' is missing. */
			r->why = "unterminated list";
			r->resume = ls;
			r->resume_line = ls_line;
			return -1;
		}
		before = r->line;
		skip_ws_nl(r);
		if (*r->s == ',') {
			r->s++;
			continue;
		}
		if (*r->s == ']') {
			r->s++;
			return 0;
		}
		if (*r->s == '\0' || r->line != before) {
			/* The next line is no list item: the ']' is missing. */
			r->why = "unterminated list";
			if (*r->s != '\0') {
				for (r->resume = r->s; r->resume > r->base &&
				    r->resume[-1] != '\n'; r->resume--)
					;
				r->resume_line = r->line;
			}
			return -1;
		}
		r->why = "expected ',' or ']' between list items";
		return -1;
	}
}

static int
read_inline_table(struct rd *r, struct cr_value *v, int depth)
{
	struct path p;

	v->type = CR_TABLE;
	r->s++;
	for (;;) {
		skip_ws_nl(r);
		if (*r->s == '}') {
			r->s++;
			return 0;
		}
		if (*r->s == '\0') {
			r->why = "unterminated inline table";
			return -1;
		}
		if (read_path(r, &p) == -1)
			return -1;
		if (*r->s != '=') {
			path_free(&p);
			r->why = "expected '=' in an inline table";
			return -1;
		}
		r->s++;
		v->items = xreallocarray(v->items, v->n + 1, sizeof(*v->items));
		v->keys = xreallocarray(v->keys, v->n + 1, sizeof(*v->keys));
		memset(&v->items[v->n], 0, sizeof(*v->items));
		v->keys[v->n] = path_join("", &p, p.n);
		v->n++;
		path_free(&p);
		skip_ws(r);
		if (read_value(r, &v->items[v->n - 1], CTX_TABLE, depth + 1) == -1)
			return -1;
		skip_ws_nl(r);
		if (*r->s == ',') {
			r->s++;
			continue;
		}
		if (*r->s == '}') {
			r->s++;
			return 0;
		}
		r->why = "expected ',' or '}' in an inline table";
		return -1;
	}
}

/* Bare text up to the end of a top-level value: '#'/';' after white space end it. */
static char *
read_bare_top(struct rd *r)
{
	const char *start = r->s;

	while (!at_eol(r)) {
		if ((*r->s == '#' || *r->s == ';') && r->s > start &&
		    is_ws((unsigned char)r->s[-1]))
			break;
		r->s++;
	}
	return trim_dup(start, (size_t)(r->s - start));
}

/*
 * The next line, if it is indented and continues a bare value (INI):
 * not blank, not a comment, no '='.  Returns its start or NULL.
 */
static const char *
continuation(const struct rd *r)
{
	const char *t;

	if (*r->s != '\n' || !is_ws((unsigned char)r->s[1]))
		return NULL;
	t = r->s + 1;
	while (is_ws((unsigned char)*t))
		t++;
	if (*t == '\n' || *t == '\0' || *t == '#' || *t == ';' || *t == '[')
		return NULL;
	for (const char *u = t; *u != '\n' && *u != '\0'; u++)
		if (*u == '=')
			return NULL;
	return t;
}

/* After "Key =": the next line, if indented and starting a list, table or string. */
static const char *
indented_value(const struct rd *r)
{
	const char *t;

	if (*r->s != '\n' || !is_ws((unsigned char)r->s[1]))
		return NULL;
	for (t = r->s + 1; is_ws((unsigned char)*t); t++)
		;
	return strchr("[{\"'", *t) != NULL && *t != '\0' ? t : NULL;
}

static int
read_value(struct rd *r, struct cr_value *v, enum ctx ctx, int depth)
{
	struct buf b;

	if (depth > CR_MAX_DEPTH) {
		r->why = "lists nested too deeply";
		return -1;
	}
	skip_ws(r);
	switch (*r->s) {
	case '"':
	case '\'':
		v->type = CR_STRING;
		buf_init(&b);
		if (read_string(r, &b) == -1) {
			buf_free(&b);
			return -1;
		}
		v->text = b.data;
		return 0;
	case '[':
		return read_array(r, v, depth);
	case '{':
		return read_inline_table(r, v, depth);
	default:
		break;
	}
	v->type = CR_BARE;
	if (ctx == CTX_TOP) {
		const char *t;

		v->text = read_bare_top(r);
		if (*v->text == '\0' && (t = indented_value(r)) != NULL) {
			/* "Key =" with the value on the next, indented line. */
			free(v->text);
			v->text = NULL;
			newline(r);
			r->s = t;
			return read_value(r, v, ctx, depth);
		}
		while ((t = continuation(r)) != NULL) {
			char *more, *joined;

			newline(r);
			r->s = t;
			more = read_bare_top(r);
			joined = *v->text != '\0' ? xasprintf("%s %s", v->text,
			    more) : xstrdup(more);
			free(v->text);
			free(more);
			v->text = joined;
		}
	} else {
		const char *start = r->s;
		const char *stops = ctx == CTX_ARRAY ? ",]#" : ",}#";

		while (!at_eol(r) && strchr(stops, *r->s) == NULL)
			r->s++;
		v->text = trim_dup(start, (size_t)(r->s - start));
		if (*v->text == '\0') {
			r->why = ctx == CTX_ARRAY ? "unterminated list" :
			    "missing value in an inline table";
			return -1;
		}
	}
	strip_digit_separators(v->text);
	return 0;
}

/* Tables. */

static size_t
table_add(struct rd *r, char *name, int line, bool array, bool implicit)
{
	struct cr_file *f = r->f;
	struct cr_table *t;

	f->tables = xreallocarray(f->tables, f->n_tables + 1, sizeof(*f->tables));
	t = &f->tables[f->n_tables];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->line = line;
	t->array = array;
	t->implicit = implicit;
	return f->n_tables++;
}

/* The last table named name (not a duplicate), or (size_t)-1. */
static size_t
table_find(const struct rd *r, const char *name)
{
	for (size_t i = r->f->n_tables; i-- > 0; )
		if (!r->f->tables[i].dup && strcmp(r->f->tables[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

static bool
room_for_table(struct rd *r, int line)
{
	if (r->f->n_tables <= CR_MAX_TABLES)
		return true;
	rerr(r, line, "more than %d sections; the rest of the file is not read",
	    CR_MAX_TABLES);
	r->stop = true;
	return false;
}

static void
read_header(struct rd *r)
{
	int line = r->line;
	bool array = r->s[1] == '[';
	struct path p;
	char *name;
	size_t old;

	r->s += array ? 2 : 1;
	if (read_path(r, &p) == -1 || *r->s != ']' || (array && r->s[1] != ']')) {
		if (p.n > 0)
			path_free(&p);
		rerr(r, line, "unterminated section header (missing '%s')",
		    array ? "]]" : "]");
		skip_to_eol(r);
		return;		/* the keys that follow stay where they were */
	}
	r->s += array ? 2 : 1;
	skip_ws(r);
	if (*r->s == '#' || *r->s == ';')
		skip_to_eol(r);
	if (!at_eol(r)) {
		rerr(r, line, "unexpected text after the section header");
		skip_to_eol(r);
	}
	name = path_join("", &p, p.n);
	path_free(&p);
	if (!room_for_table(r, line)) {
		free(name);
		return;
	}
	old = table_find(r, name);
	if (old != (size_t)-1 && r->f->tables[old].implicit && !array) {
		/* [a.b] after a dotted key a.b = ...: the same table. */
		r->f->tables[old].implicit = false;
		r->cur = old;
		free(name);
		return;
	}
	r->cur = table_add(r, name, line, array, false);
	if (old == (size_t)-1 || (array && r->f->tables[old].array))
		return;
	if (array != r->f->tables[old].array)
		rerr(r, line, "[%s]: mixes [%s] and [[%s]] (first at line %d)",
		    name, name, name, r->f->tables[old].line);
	else
		rerr(r, line, "[%s]: duplicate section (first at line %d)",
		    name, r->f->tables[old].line);
	r->f->tables[r->cur].dup = true;
}

static void
read_entry(struct rd *r)
{
	int line = r->line;
	struct cr_entry *e;
	struct path p;
	size_t table = r->cur;
	const char *what, *start;

	r->why = NULL;
	r->resume = NULL;
	if (*r->s == '=') {
		rerr(r, line, "missing key name before '='");
		skip_to_eol(r);
		return;
	}
	if (read_path(r, &p) == -1 || (*r->s != '=' && *r->s != ':')) {
		if (p.n > 0)
			path_free(&p);
		rerr(r, line, "expected KEY = VALUE, a [section] or a comment");
		skip_to_eol(r);
		return;
	}
	r->s++;
	if (p.n > 1) {
		/* A dotted key a.b = 1 sets b in the table <current>.a. */
		char *name = path_join(r->f->tables[r->cur].name, &p, p.n - 1);

		table = table_find(r, name);
		if (table == (size_t)-1) {
			if (!room_for_table(r, line)) {
				free(name);
				path_free(&p);
				return;
			}
			table = table_add(r, name, line, false, true);
		} else
			free(name);
	}
	r->f->entries = xreallocarray(r->f->entries, r->f->n_entries + 1,
	    sizeof(*r->f->entries));
	e = &r->f->entries[r->f->n_entries++];
	memset(e, 0, sizeof(*e));
	e->table = table;
	e->key = xstrdup(p.parts[p.n - 1]);
	e->line = line;
	path_free(&p);

	skip_ws(r);
	start = r->s;
	if (read_value(r, &e->value, CTX_TOP, 0) == 0) {
		if (e->value.type == CR_ARRAY && memchr(start, '\n',
		    (size_t)(r->s - start)) == NULL)
			e->value.raw = trim_dup(start, (size_t)(r->s - start));
		skip_ws(r);
		if (*r->s == '#' || *r->s == ';')
			skip_to_eol(r);
		if (at_eol(r))
			return;
		what = e->value.type == CR_ARRAY ? "closing ']'" :
		    e->value.type == CR_STRING ? "closing quote" :
		    e->value.type == CR_TABLE ? "closing '}'" : "value";
		rerr(r, line, "[%s] %s: unexpected text after the %s",
		    r->f->tables[table].name, e->key, what);
	} else {
		rerr(r, line, "[%s] %s: %s", r->f->tables[table].name, e->key,
		    r->why);
	}
	e->bad = true;
	if (r->resume != NULL) {
		r->s = r->resume;
		r->line = r->resume_line;
	} else
		skip_to_eol(r);
}

int
config_read_mem(const char *data, size_t len, struct cr_file *out,
    cr_report_fn report, void *arg)
{
	struct rd r;
	char *copy;
	const char *nul;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.report = report;
	r.arg = arg;
	r.f = out;
	r.line = 1;
	table_add(&r, xstrdup(""), 0, false, false);
	if ((nul = memchr(data, '\0', len)) != NULL) {
		int line = 1;

		for (const char *s = data; s < nul; s++)
			line += *s == '\n';
		rerr(&r, line, "contains a NUL byte; the rest of the file is "
		    "not read");
		len = (size_t)(nul - data);
	}
	copy = xstrndup(data, len);
	r.s = r.base = copy;
	if (strncmp(r.s, "\xEF\xBB\xBF", 3) == 0)
		r.s += 3;
	while (!r.stop) {
		skip_ws(&r);
		if (*r.s == '\0')
			break;
		if (*r.s == '\n') {
			newline(&r);
			continue;
		}
		if (*r.s == '#' || *r.s == ';')
			skip_to_eol(&r);
		else if (*r.s == '[')
			read_header(&r);
		else
			read_entry(&r);
	}
	free(copy);
	return r.errors;
}

int
config_read(FILE *fp, struct cr_file *out, cr_report_fn report, void *arg)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	int errors;

	buf_init(&b);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > CR_MAX_BYTES) {
			memset(out, 0, sizeof(*out));
			if (report != NULL)
				report(arg, 0, "larger than 16 MiB: not a "
				    "configuration file");
			buf_free(&b);
			return 1;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(fp)) {
		char msg[160];

		memset(out, 0, sizeof(*out));
		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
		if (report != NULL)
			report(arg, 0, msg);
		buf_free(&b);
		return 1;
	}
	errors = config_read_mem(b.data, b.len, out, report, arg);
	buf_free(&b);
	return errors;
}
