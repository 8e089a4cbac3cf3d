/*
 * file: the files the tool writes or locks (state, lock, status page,
 * metrics), opened so that nobody who can write their folder can redirect
 * them: never through a symbolic link, temporary names not guessable.
 */
#ifndef QBITRR_FILE_H
#define QBITRR_FILE_H

#include <sys/types.h>

#include <stddef.h>

/* Write data to path atomically (temp file in the same folder, fsync, rename). */
int	write_file_atomic(const char *path, const char *data, size_t len);

/*
 * Open path (flags as open(2)) without following a symbolic link, and
 * check with fstat that it is a regular file with a single link.  Errors
 * are logged naming path and what ("lock file"), except ENOENT without
 * O_CREAT.  Returns the descriptor (close-on-exec) or -1 with errno set
 * (ELOOP: a symbolic link).
 */
int	open_nofollow(const char *path, int flags, mode_t mode, const char *what);

#endif
