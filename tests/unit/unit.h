/*
 * unit: what the cmocka unit tests share: test data files, stderr or
 * stdout captured into a string, NELEM.  Compiled into every test program.
 */
#ifndef QBITRR_UNIT_H
#define QBITRR_UNIT_H

#include <stddef.h>
#include <stdio.h>

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* rel (e.g. "tests/data/json/x.json") under the repository root. */
char	*unit_repo_path(const char *rel);

/* The bytes of tests/data/json/NAME, NUL-terminated; the caller frees. */
char	*unit_read_data(const char *name, size_t *len);

/* fd (1 or 2) redirected into a temporary file until capture_end(). */
struct capture {
	int	 fd;
	int	 saved;
	FILE	*tmp;
};

void	 capture_start(struct capture *c, int fd);
/* Restore the fd and return what was written to it; the caller frees. */
char	*capture_end(struct capture *c);

#endif
