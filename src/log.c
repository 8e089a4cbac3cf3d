/* log: leveled messages on stderr (see log.h). */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

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

int
log_get_level(void)
{
	return log_level;
}

int
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
	char line[4096];
	const char *prefix = "";

	if (!log_enabled(level))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
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

char *
log_sanitize(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return buf;
	if (s == NULL)
		s = "";
	for (; *s != '\0' && o + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
		} else if (c == '\\') {
			buf[o++] = '\\';
			buf[o++] = '\\';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
	return buf;
}
