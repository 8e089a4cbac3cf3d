/*
 * util: allocation that never returns NULL (it aborts on exhaustion, as
 * isync and tmux do), a growable string buffer and small string helpers.
 *
 * Ownership, the rule every module follows:
 * - A struct that owns memory comes with foo_free() beside its constructor
 *   when the struct itself was allocated (foo_free frees it too), or with
 *   foo_clear() when it lives in the caller's storage (foo_clear frees what
 *   it points to and zeroes it, so clearing twice is safe).
 * - A function that returns char * or fills an out-pointer hands ownership
 *   to the caller unless its header comment says "borrowed" or the type is
 *   const: const pointers point into something else's memory and are never
 *   freed by the receiver.
 */
#ifndef QBITRR_UTIL_H
#define QBITRR_UTIL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *b);
void	buf_append(struct buf *b, const void *p, size_t n);
void	buf_puts(struct buf *b, const char *s);
void	buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	buf_free(struct buf *b);

/* Percent-encode s for a URL query or form body; appended to b. */
void	buf_urlencode(struct buf *b, const char *s);

/* Equal strings, or both NULL. */
bool	str_same(const char *a, const char *b);

/* ASCII case-insensitive substring search; NULL when absent. */
const char *str_casestr(const char *hay, const char *needle);

/*
 * Length (1-4) of the well-formed UTF-8 sequence at s, reading at most
 * avail bytes, and its code point; 0 if none (overlong, surrogate, cut).
 */
size_t	utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);
/* The same for a NUL-terminated s. */
size_t	utf8_seq_len(const unsigned char *s, uint32_t *cp);

/* Append code point c (at most U+10FFFF) to b as UTF-8. */
void	buf_put_utf8(struct buf *b, uint32_t c);

/* The value of the hex digit c, or -1. */
int	hex_value(int c);

/* A copy of s with every byte that is not well-formed UTF-8 replaced by U+FFFD. */
char	*str_utf8_clean(const char *s);

/* Lower-case an ASCII string in place; returns s. */
char	*str_lower(char *s);

/* ISO-8601 UTC ("2026-11-26T02:47:38Z") into buf of at least 21 bytes. */
char	*time_iso8601(time_t t, char *buf, size_t n);

/*
 * Wall clock in seconds.  In the test builds only (-DQBITRR_TEST_HOOKS:
 * the sanitizer build and build/hooks, never the installed binary),
 * QBITRR_TEST_NOW (epoch seconds) overrides it.
 */
time_t	now_seconds(void);

/* Monotonic milliseconds, for durations. */
int64_t	monotonic_ms(void);

/*
 * Test-only crash injection: when QBITRR_TEST_KILL_AT names this point
 * ("discover", "intents", "send", "act", "commit"), the process SIGKILLs
 * itself there; "point:N" at its Nth pass, "any:N" at the Nth pass of any
 * point.  A no-op unless built with -DQBITRR_TEST_HOOKS.
 */
void	test_kill_point(const char *point);
#endif
