/*
 * libFuzzer harness: the bytes are a string a server sent (a torrent name,
 * a version, a tracker message).  log_sanitize must give one line that is
 * well-formed UTF-8 with nothing a terminal acts on, cut within its
 * buffer, whatever the size of that buffer; str_utf8_clean must give a
 * string jansson takes.
 *
 * Built and run by tests/fuzz/run.sh (make fuzz).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_safe(const char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)out;
	json_t *j;

	if (strlen(out) >= cap)
		abort();
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_seq_len(p, &cp);
		if (n == 0)
			abort();	/* not UTF-8 */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			abort();	/* a control, a separator or a bidi override */
		p += n;
	}
	j = json_string(out);
	if (j == NULL)
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *clean;
	json_t *j;
	static const size_t caps[] = { 1, 2, 5, 6, 7, 64, 256, 4096 };

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';		/* a NUL inside ends the string, as in C */
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		char *buf = malloc(caps[i]);
		if (buf == NULL)
			break;
		check_safe(log_sanitize(s, buf, caps[i]), caps[i]);
		free(buf);
	}
	check_safe(log_safe(s), 1024);
	clean = str_utf8_clean(s);
	j = json_string(clean);
	if (j == NULL)
		abort();
	json_decref(j);
	free(clean);
	free(s);
	return 0;
}
