/* unit: helpers shared by the unit tests (see unit.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"
#include "util.h"

char *
unit_repo_path(const char *rel)
{
	const char *me = __FILE__, *cut = strstr(me, "tests/unit/unit.c");

	return xasprintf("%.*s%s", (int)(cut ? cut - me : 0), me, rel);
}

static char *
read_rest(FILE *fp, size_t *len)
{
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (len != NULL)
		*len = b.len;
	return b.data;
}

char *
unit_read_data(const char *name, size_t *len)
{
	char *rel = xasprintf("tests/data/json/%s", name);
	char *path = unit_repo_path(rel);
	FILE *fp = fopen(path, "rb");
	char *data;

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	data = read_rest(fp, len);
	fclose(fp);
	free(rel);
	free(path);
	return data;
}

void
capture_start(struct capture *c, int fd)
{
	fflush(stdout);
	fflush(stderr);
	c->fd = fd;
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), fd) >= 0);
}

char *
capture_end(struct capture *c)
{
	char *out;

	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(c->saved, c->fd) >= 0);
	close(c->saved);
	rewind(c->tmp);
	out = read_rest(c->tmp, NULL);
	fclose(c->tmp);
	return out;
}
