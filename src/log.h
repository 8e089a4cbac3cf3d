/*
 * log: every human-readable message goes through here, to stderr.
 * Lines are "qbitrr-sweep: message" (or "<N>message" when stderr is the
 * systemd journal).  Messages must not contain secrets; log_sanitize()
 * makes untrusted text (torrent names) safe for one line.
 */
#ifndef QBITRR_LOG_H
#define QBITRR_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* Default NOTICE; -q gives WARN, each -v one level more. */
void	log_set_level(int level);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy s into buf (size n), cut at a character boundary, with what a
 * terminal or log reader might act on escaped: C0 controls, DEL and bytes
 * that are not UTF-8 as \xNN; C1 controls (U+0080-U+009F), U+2028/2029 and
 * the bidi overrides and isolates (U+202A-202E, U+2066-2069) as \uNNNN;
 * backslash doubled.  A hostile torrent name cannot forge log lines or
 * drive a terminal.  Returns buf.  Every log line is escaped the same way
 * (without the doubling), so one event is always one line.
 */
char	*log_sanitize(const char *s, char *buf, size_t n);

/*
 * How log_sanitize writes the UTF-8 sequence at p (NUL-terminated text):
 * its escape into e and the escape's length, or 0 when it stays as it is;
 * *len is the bytes it stands for.  The status page escapes the same way.
 */
size_t	log_escape_seq(const unsigned char *p, size_t *len, char e[16]);

/* log_sanitize into one of 8 rotating static buffers (1 KB), for printf arguments. */
const char *log_safe(const char *s);

#endif
