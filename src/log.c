/* log: leveled messages on stderr (see log.h). */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static char *text_escape(const char *s, char *buf, size_t n, bool backslash);

static int log_level = LOG_NOTICE;	/* set once from the command line */

void
log_set_level(int level)
{
	if (level < LOG_ERROR)
		level = LOG_ERROR;
	if (level > LOG_TRACE)
		level = LOG_TRACE;
	log_level = level;
}

static int
log_enabled(enum log_level level)
{
	return (int)level <= log_level;
}

/*
 * systemd sets JOURNAL_STREAM=dev:inode of the stream it connected; only
 * when that is our stderr (not a redirect inside the service) are the
 * lines the journal's, and then they carry sd-daemon priorities.
 */
static bool
stderr_is_journal(void)
{
	static int known = -1;
	const char *js;
	unsigned long long dev, ino;
	struct stat sb;

	if (known >= 0)
		return known;
	known = 0;
	js = getenv("JOURNAL_STREAM");
	if (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &sb) == 0 &&
	    (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino)
		known = 1;
	return known;
}

/* sd-daemon priorities: err 3, warning 4, notice 5, info 6, debug 7. */
static const int journal_priority[] = { 3, 4, 5, 6, 7, 7 };

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	char raw[4096], line[8192];
	const char *prefix = "";

	if (!log_enabled(level))
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* Whatever a server slipped into the message, one event stays one line. */
	text_escape(raw, line, sizeof(line), false);
	if (level == LOG_ERROR)
		prefix = "error: ";
	else if (level == LOG_WARN)
		prefix = "warning: ";
	if (stderr_is_journal())
		fprintf(stderr, "<%d>%s%s\n", journal_priority[level], prefix, line);
	else
		fprintf(stderr, "qbitrr-sweep: %s%s\n", prefix, line);
}

#define LOG_FN(fn, lvl)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_emit(lvl, fmt, ap);					\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_ERROR)
LOG_FN(log_warn, LOG_WARN)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_trace, LOG_TRACE)

/*
 * What a terminal, a log reader or a mail client may act on: C0 and C1
 * controls (CSI is U+009B), DEL, the line and paragraph separators and the
 * bidirectional embeddings, overrides and isolates.
 */
static bool
unsafe_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t
log_escape_seq(const unsigned char *p, size_t *len, char e[16])
{
	uint32_t cp = 0;

	*len = utf8_seq_len(p, &cp);
	if (*len == 0) {	/* not UTF-8: the byte, escaped */
		*len = 1;
		return (size_t)snprintf(e, 16, "\\x%02x", *p);
	}
	if (!unsafe_cp(cp))
		return 0;
	return (size_t)snprintf(e, 16, cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
}

/* The escaping of log_sanitize; backslashes doubled only when asked. */
static char *
text_escape(const char *s, char *buf, size_t n, bool backslash)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	if (n == 0)
		return buf;
	while (*p != '\0') {
		size_t len;
		char e[16];
		size_t elen = log_escape_seq(p, &len, e);

		if (elen == 0 && *p == '\\' && backslash)
			elen = (size_t)snprintf(e, sizeof(e), "\\\\");
		if (elen > 0) {
			if (o + elen + 1 > n)
				break;
			memcpy(buf + o, e, elen);
			o += elen;
		} else {
			if (o + len + 1 > n)
				break;
			memcpy(buf + o, p, len);
			o += len;
		}
		p += len;
	}
	buf[o] = '\0';
	return buf;
}

char *
log_sanitize(const char *s, char *buf, size_t n)
{
	return text_escape(s, buf, n, true);
}

const char *
log_safe(const char *s)
{
	static char ring[8][1024];
	static unsigned next;

	return log_sanitize(s, ring[next++ % 8], sizeof(ring[0]));
}
