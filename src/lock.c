/* lock.c -- flock(2) on a lock file, the holder's pid written in it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileid.h"
#include "inputs.h"
#include "lock.h"
#include "log.h"

/* How often a waiting run tries the lock again. */
#define RETRY_NS (50 * 1000 * 1000L)

/* The lock this process holds, for lock_drop_inherited in a worker. */
static int held_fd = -1;

/* DIR/.memc_load.lock, for the one directory DIR of every input. */
static int default_path(const struct config *cfg, char *out, size_t outlen)
{
	char dir[4096];
	int rc = inputs_dir(cfg, dir, sizeof(dir));
	int n;

	if (rc <= 0)
		return rc;
	n = snprintf(out, outlen, "%s%s", dir, DEFAULT_LOCK_NAME);
	return n < 0 || (size_t)n >= outlen ? -1 : 1;
}

int lock_path(const struct config *cfg, char *out, size_t outlen)
{
	int n;

	if (cfg->no_lock)
		return 0;
	if (cfg->lock_path == NULL)
		/* --dry renames nothing, so it cannot race with a real run. */
		return cfg->dry ? 0 : default_path(cfg, out, outlen);
	n = snprintf(out, outlen, "%s", cfg->lock_path);
	return n < 0 || (size_t)n >= outlen ? -1 : 1;
}

/* The pid the holder wrote into the lock file, or 0. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && *end == '\n' && pid > 0 ? pid : 0;
}

/* Whether the open file FD may serve as a lock file: a regular file, empty
 * or holding a pid line, nothing else (--lock some.conf must not have its
 * content replaced). 0, or -1 with ERR saying why. */
static int is_lock_file(int fd, const char *path, char *err, size_t errlen)
{
	char buf[32];
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "Cannot use %s as the lock file: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "Cannot use %s as the lock file: it is %s, not a regular file",
			 path, file_type_name(sb.st_mode));
		return -1;
	}
	if (sb.st_size == 0)
		return 0;
	n = sb.st_size < (off_t)sizeof(buf) ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n > 1 && buf[n - 1] == '\n' && strspn(buf, "0123456789") == (size_t)n - 1)
		return 0;
	snprintf(err, errlen, "Cannot use %s as the lock file: it holds something else than the "
		 "pid line of a lock file", path);
	return -1;
}

/* Our pid, for the message of a run that finds the lock held. Written
 * before the file is cut to length, so a reader never sees it empty. Best
 * effort: a lock file we may only read still locks. */
static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return ftruncate(fd, n);
}

static void held_message(int fd, const char *path, int waited, char *err, size_t errlen)
{
	long pid = holder_pid(fd);
	char who[32] = "", after[48] = "";

	if (pid > 0)
		snprintf(who, sizeof(who), " (pid %ld)", pid);
	if (waited > 0)
		snprintf(after, sizeof(after), " after %d s of waiting", waited);
	snprintf(err, errlen, "Another run holds the lock %s%s%s", path, who, after);
}

int lock_take(const char *path, int wait_seconds, char *err, size_t errlen)
{
	const struct timespec retry = {0, RETRY_NS};
	double deadline = clock_seconds() + wait_seconds;
	struct stat sb;
	int fd, e, said_waiting = 0;

	/* A device is never opened (opening one can act on it), nor a FIFO,
	 * on which the open would wait; nor a symbolic link, which could make
	 * a run as root create or lock a file it names anywhere. */
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		snprintf(err, errlen, "Cannot use %s as the lock file: it is a symbolic link, not a "
			 "regular file", path);
		errno = EINVAL;
		return -1;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "Cannot use %s as the lock file: it is %s, not a regular file",
			 path, file_type_name(sb.st_mode));
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == EACCES) {
		/* Someone else's lock file: flock needs no write access. */
		e = errno;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
		if (fd < 0)
			errno = e;
	}
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "Cannot open the lock file %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		if (e == EINTR)
			continue;
		if (e != EWOULDBLOCK) {
			snprintf(err, errlen, "Cannot lock %s: %s", path, strerror(e));
			close(fd);
			errno = e;
			return -1;
		}
		if (clock_seconds() >= deadline) {
			held_message(fd, path, wait_seconds, err, errlen);
			close(fd);
			return LOCK_HELD;
		}
		if (!said_waiting) {
			held_message(fd, path, 0, err, errlen);
			log_info("%s; waiting up to %d s", err, wait_seconds);
			said_waiting = 1;
		}
		/* SIGINT and SIGTERM still have their default action here: a
		 * signal ends the run during the wait. */
		nanosleep(&retry, NULL);
	}
	/* Checked under the lock: the holder may be writing its pid. */
	if (is_lock_file(fd, path, err, errlen) < 0) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	(void)write_pid(fd);
	held_fd = fd;
	return fd;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	if (fd == held_fd)
		held_fd = -1;
	close(fd);
}

void lock_drop_inherited(void)
{
	/* close, never flock(LOCK_UN): the worker shares the supervisor's
	 * open file description, and unlocking it would unlock the run. */
	if (held_fd >= 0)
		close(held_fd);
	held_fd = -1;
}
