/* outfile.c -- write a whole output file: atomically over a regular file,
 * in place into a FIFO or a device, through symbolic links. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "signals.h"

/* As the kernel's own limit on links followed in one lookup. */
#define MAX_LINKS 40

/* Follow NAME (PATH_MAX bytes, updated in place) through symbolic links
 * to the name at the end of the chain; *MODE is its type, or 0 when nothing
 * has that name. 0, or -1 with errno. */
static int follow_links(char *name, mode_t *mode)
{
	char target[PATH_MAX];
	struct stat sb;

	for (int links = 0;; links++) {
		if (lstat(name, &sb) < 0) {
			if (errno != ENOENT)
				return -1;
			*mode = 0;
			return 0;
		}
		if (!S_ISLNK(sb.st_mode)) {
			*mode = sb.st_mode & S_IFMT;
			return 0;
		}
		if (links == MAX_LINKS) {
			errno = ELOOP;
			return -1;
		}
		ssize_t n = readlink(name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		/* A relative target is relative to the link's directory. */
		const char *slash = strrchr(name, '/');
		size_t dirlen = target[0] == '/' || slash == NULL ? 0 : (size_t)(slash - name) + 1;
		if (dirlen + (size_t)n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name + dirlen, target, (size_t)n + 1);
	}
}

/* All LEN bytes of DATA to FD, through short writes and EINTR. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make a rename in DIR durable. Best effort: the file is complete and in
 * place either way, and some file systems refuse to fsync a directory. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Give the new file FD the mode a new file would get (mkostemp makes it
 * 0600), fill it, sync it and close it (also on failure). NULL, or the step
 * that failed with errno set. */
static const char *fill_and_close(int fd, const void *data, size_t len)
{
	const char *step = NULL;
	mode_t mask = umask(0);

	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		step = "chmod";
	else if (write_all(fd, data, len) < 0)
		step = "write";
	else if (fsync(fd) < 0)
		step = "fsync";
	if (step != NULL) {
		int e = errno;
		close(fd);
		errno = e;
	} else if (close(fd) < 0) {
		step = "close";
	}
	return step;
}

/* NAME is a regular file or nothing: replace it by a new file. */
static int replace(const char *name, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(name, '/');
	int dirlen = slash ? (int)(slash - name) + 1 : 0;
	const char *step;
	sigset_t ending, old;
	int fd, rc = -1;

	if (dirlen > 1)
		snprintf(dir, sizeof(dir), "%.*s", dirlen - 1, name);
	else
		snprintf(dir, sizeof(dir), "%s", dirlen ? "/" : ".");
	/* A dot name in the same directory: rename(2) is atomic only within one
	 * file system, and a dot file stays out of the way of globs. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, name, name + dirlen) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENAMETOOLONG));
		return -1;
	}
	signals_stop_set(&ending);
	sigprocmask(SIG_BLOCK, &ending, &old);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	step = fill_and_close(fd, data, len);
	if (step == NULL && rename(tmp, name) < 0)
		step = "rename";
	if (step == NULL) {
		sync_dir(dir);
		rc = 0;
	} else {
		int e = errno;
		unlink(tmp);
		snprintf(err, errlen, "%s %s: %s", step, tmp, strerror(e));
	}
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* NAME is a FIFO or a device: write into it, keep it. */
static int write_in_place(mode_t mode, const char *name, const void *data, size_t len, char *err,
			  size_t errlen)
{
	const char *step = "write";
	sigset_t ending, old;
	int fd, flags, rc;

	/* Non-blocking, so a FIFO without a reader fails (ENXIO) at once
	 * instead of waiting for one forever, and a terminal line does not
	 * wait for a carrier. */
	fd = open(name, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENXIO && S_ISFIFO(mode))
			snprintf(err, errlen, "it is a FIFO that no process has open for reading");
		else
			snprintf(err, errlen, "open: %s", strerror(errno));
		return -1;
	}
	/* Then blocking: a reader may be slower than the writes. */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	signals_stop_set(&ending);
	sigprocmask(SIG_UNBLOCK, &ending, &old);
	rc = write_all(fd, data, len);
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (close(fd) < 0 && rc == 0) {
		e = errno;
		step = "close";
		rc = -1;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", step, strerror(e));
	return rc;
}

int outfile_write(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char name[PATH_MAX], why[PATH_MAX + 128];
	struct stat sb;
	int exists = stat(path, &sb) == 0;
	mode_t mode;

	if (exists && (S_ISDIR(sb.st_mode) || S_ISSOCK(sb.st_mode))) {
		snprintf(err, errlen, "it is a %s", S_ISDIR(sb.st_mode) ? "directory" : "socket");
		return -1;
	}
	/* Opened through PATH itself: the kernel follows the links, even the
	 * ones readlink cannot name, as /dev/stdout's to a pipe. */
	if (exists && !S_ISREG(sb.st_mode))
		return write_in_place(sb.st_mode, path, data, len, err, errlen);

	/* A regular file or nothing: the new file goes where the links end. */
	if ((size_t)snprintf(name, sizeof(name), "%s", path) >= sizeof(name)) {
		snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
		return -1;
	}
	if (follow_links(name, &mode) < 0) {
		snprintf(err, errlen, "cannot follow %s: %s", name, strerror(errno));
		return -1;
	}
	if (exists && !S_ISREG(mode)) {
		/* Say, a link in /proc to a file since deleted. */
		snprintf(err, errlen, "cannot follow %s to the name of a file: it ends at %s", path,
			 name);
		return -1;
	}
	if (strcmp(name, path) == 0)
		return replace(name, data, len, err, errlen);
	if (replace(name, data, len, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "link to %s: %s", name, why);
	return -1;
}

int outfile_format(const char *path, outfile_format_fn *format, const void *arg, char *err,
		   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc = -1;

	if (out == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	int bad = format(out, arg) < 0;
	if (fclose(out) != 0 || bad)
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	else
		rc = outfile_write(path, text, len, err, errlen);
	free(text);
	return rc;
}
