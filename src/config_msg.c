/*
 * config_msg: every problem found while loading is reported through here,
 * as "path:line: [section] key: reason" (see config_p.h), and counted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_p.h"
#include "log.h"
#include "util.h"

static void report(struct parser *, enum log_level, int, const char *, va_list)
	    __attribute__((format(printf, 4, 0)));

/* Emit "path:line: message" (line 0: "path: message") at level lvl. */
static void
report(struct parser *p, enum log_level lvl, int line, const char *fmt,
    va_list ap)
{
	va_list aq;
	char *msg;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	switch (lvl) {
	case LOG_ERROR:
		p->errors++;
		if (line > 0)
			log_error("%s:%d: %s", p->path, line, msg);
		else
			log_error("%s: %s", p->path, msg);
		break;
	case LOG_WARN:
		if (line > 0)
			log_warn("%s:%d: %s", p->path, line, msg);
		else
			log_warn("%s: %s", p->path, msg);
		break;
	default:
		if (line > 0)
			log_info("%s:%d: %s", p->path, line, msg);
		else
			log_info("%s: %s", p->path, msg);
		break;
	}
	free(msg);
}

void
config_perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_ERROR, line, fmt, ap);
	va_end(ap);
}

void
config_pwarn(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_WARN, line, fmt, ap);
	va_end(ap);
}

void
config_pinfo(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, LOG_INFO, line, fmt, ap);
	va_end(ap);
}

/* Name of the section an entry belongs to, "" before any section. */
const char *
config_entry_section(const struct parser *p, const struct entry *e)
{
	return e->hdr < 0 ? "" : p->hdrs[e->hdr].name;
}

/* "path:line: [section] key: message" for an entry; marks it failed. */
void
config_kerr(struct parser *p, struct entry *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	e->failed = true;
	config_perr(p, e->line, "[%s] %s: %s", config_entry_section(p, e), e->key, msg);
	free(msg);
}

/* "path:line: [section] key: message" for a key that has no entry. */
void
config_herr(struct parser *p, int hdr, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	config_perr(p, p->hdrs[hdr].line, "[%s] %s: %s", p->hdrs[hdr].name, key, msg);
	free(msg);
}
