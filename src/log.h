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
int	log_get_level(void);
int	log_enabled(enum log_level level);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy s into buf (size n) with control characters escaped as \xNN and
 * backslash doubled, so a hostile torrent name cannot forge log lines.
 * Returns buf.
 */
char	*log_sanitize(const char *s, char *buf, size_t n);

#endif
