/* file: files written or locked without following links (see file.h). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "util.h"

int
write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	struct stat sb;
	int fd, rc = -1;
	size_t off = 0;

	/* A link at the target is refused: rename would not follow it, but
	 * someone who can write the folder planted it, and that is worth a word. */
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		log_error("%s: is a symbolic link; refusing to write through it", path);
		goto out;
	}
	/* mkstemp: an unpredictable name made with O_EXCL, so a link planted
	 * in a folder others can write is never followed. */
	fd = mkstemp(tmp);
	if (fd == -1) {
		log_error("%s: cannot create a temporary file: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) == -1) {
		log_error("%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			log_error("%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		log_error("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_error("%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int
open_nofollow(const char *path, int flags, mode_t mode, const char *what)
{
	struct stat sb;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd == -1) {
		int e = errno;
		if (e == ELOOP)
			log_error("%s: %s is a symbolic link; refusing to follow it",
			    path, what);
		else if (e == EISDIR)
			log_error("%s: %s is not a regular file; refusing to use it",
			    path, what);
		else if (!(e == ENOENT && !(flags & O_CREAT)))
			log_error("%s: cannot open %s: %s", path, what, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		log_error("%s: %s: %s", path, what, strerror(errno));
		close(fd);
		errno = EIO;
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_error("%s: %s is not a regular file; refusing to use it", path, what);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* A hard link to a file elsewhere would be written through just the same. */
	if (sb.st_nlink != 1) {
		log_error("%s: %s has %lu hard links; refusing to use it", path, what,
		    (unsigned long)sb.st_nlink);
		close(fd);
		errno = EMLINK;
		return -1;
	}
	return fd;
}
