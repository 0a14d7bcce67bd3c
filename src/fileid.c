/* fileid.c -- which file was read, and whether a path still names it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileid.h"
#include "inputs.h"

const char *file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "of an unknown type";
}

void file_id_of(const struct stat *sb, struct file_id *id)
{
	id->dev = (uint64_t)sb->st_dev;
	id->ino = (uint64_t)sb->st_ino;
	id->size = (uint64_t)sb->st_size;
	id->mtime_sec = (int64_t)sb->st_mtim.tv_sec;
	id->mtime_nsec = sb->st_mtim.tv_nsec;
}

int file_id_check(const char *path, const struct file_id *opened, char *why, size_t whylen)
{
	struct stat sb;
	struct file_id now;

	if (stat(path, &sb) < 0) {
		char done[4096];

		if (errno != ENOENT)
			snprintf(why, whylen, "cannot be checked: %s", strerror(errno));
		else if (inputs_done_name(path, done, sizeof(done)) == 0 && access(done, F_OK) == 0)
			snprintf(why, whylen, "was renamed to %s by another run", done);
		else
			snprintf(why, whylen, "was deleted during the load");
		return -1;
	}
	file_id_of(&sb, &now);
	if (now.dev != opened->dev || now.ino != opened->ino)
		snprintf(why, whylen, "changed during the load (replaced by another file)");
	else if (now.size != opened->size)
		snprintf(why, whylen, "changed during the load (%llu bytes when opened, now %llu)",
			 (unsigned long long)opened->size, (unsigned long long)now.size);
	else if (now.mtime_sec != opened->mtime_sec || now.mtime_nsec != opened->mtime_nsec)
		snprintf(why, whylen, "changed during the load (modified since it was opened)");
	else
		return 0;
	return -1;
}

int file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

int file_id_settled(const struct file_id *opened, int settle, double now)
{
	double mtime = (double)opened->mtime_sec + (double)opened->mtime_nsec / 1e9;

	return now - mtime >= (double)settle;
}
