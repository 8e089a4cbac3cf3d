/*
 * Links policy with only what it may depend on: the records, config and
 * util (and log).  No libcurl, jansson or SQLite on the link line: if policy
 * ever reaches for a client or the state file, this program fails to link.
 */
#include "policy.h"

int
main(int argc, char **argv)
{
	(void)argv;
	/* A call the linker must resolve; never made. */
	if (argc < 0)
		policy_decide(NULL, NULL);
	return 0;
}
