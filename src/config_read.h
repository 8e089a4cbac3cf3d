/*
 * config_read: the syntax of a configuration file, before any meaning.
 *
 * One reader for both dialects the tool accepts: its own INI files
 * (bare values, ';' comments, indented continuation lines) and the TOML
 * that qBitrr writes (quoted strings with escapes, '#' comments after
 * values, arrays over many lines, [[arrays.of.tables]], dotted keys,
 * inline tables, '_' in numbers).  Lines may be of any length.
 *
 * The result is a list of tables in file order (each header, and each
 * table a dotted key implies) and the key/value entries under them.
 * Syntax errors are reported through a callback with their line number;
 * reading goes on after one so that all of them are shown.
 */
#ifndef QBITRR_CONFIG_READ_H
#define QBITRR_CONFIG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cr_type {
	CR_BARE,	/* unquoted text: numbers, booleans, INI words */
	CR_STRING,	/* a quoted string, escapes resolved */
	CR_ARRAY,	/* [a, b, ...] */
	CR_TABLE	/* { key = value, ... } */
};

struct cr_value {
	enum cr_type	 type;
	char		*text;		/* CR_BARE, CR_STRING */
	struct cr_value	*items;		/* CR_ARRAY items, CR_TABLE values */
	char		**keys;		/* CR_TABLE keys */
	size_t		 n;
	char		*raw;		/* a one-line value of a key, as written */
};

struct cr_table {
	char	*name;		/* dotted path, "" for the keys before any header */
	int	 line;		/* of the header, or of the dotted key */
	bool	 array;		/* one element of a [[name]] */
	bool	 implicit;	/* made by a dotted key, not a header */
	bool	 dup;		/* repeats an earlier [name]: its keys are not used */
};

struct cr_entry {
	size_t		 table;	/* index into tables */
	char		*key;
	struct cr_value	 value;
	int		 line;	/* of the key */
	bool		 bad;	/* a syntax error was reported for it */
};

struct cr_file {
	struct cr_table	*tables;	/* tables[0] is the root, "" */
	size_t		 n_tables;
	struct cr_entry	*entries;
	size_t		 n_entries;
};

/* Called for each syntax error: line (0: the whole file) and message. */
typedef void (*cr_report_fn)(void *arg, int line, const char *msg);

#define CR_MAX_TABLES	1024		/* each Arr compiles regexes: bound memory */
#define CR_MAX_BYTES	(16 << 20)	/* a config file is far smaller */
#define CR_MAX_DEPTH	16		/* nested arrays and inline tables */

/*
 * Read the whole of fp into *out.  Returns the number of errors reported
 * (0 when the syntax is clean).  *out is always filled (possibly partly)
 * and freed with config_read_free().
 */
int	config_read(FILE *fp, struct cr_file *out, cr_report_fn report, void *arg);
int	config_read_mem(const char *data, size_t len, struct cr_file *out,
	    cr_report_fn report, void *arg);
void	config_read_free(struct cr_file *f);

#endif
