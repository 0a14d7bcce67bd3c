/* fileid.h -- which file a worker read, and whether its path still names it. */
#ifndef MEMC_LOAD_FILEID_H
#define MEMC_LOAD_FILEID_H

#include <stdint.h>

#include <sys/stat.h>

/* Which file a worker read, and what it looked like when opened: a file is
 * renamed only if its path still names exactly this. */
struct file_id {
	uint64_t dev, ino;
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
};

/* "a FIFO", "a directory", ...: what a file of MODE is, for messages. */
const char *file_type_name(mode_t mode);

/* Describe the file SB was taken of. */
void file_id_of(const struct stat *sb, struct file_id *id);

/* Whether A and B describe the same file, unchanged. */
int file_id_equal(const struct file_id *a, const struct file_id *b);

/* 0 when PATH still names the file OPENED describes, with the same size and
 * modification time; else -1 with what became of it in WHY: "was deleted
 * during the load", "was renamed to .NAME by another run", "changed during
 * the load (...)". */
int file_id_check(const char *path, const struct file_id *opened, char *why, size_t whylen);

/* Whether the file OPENED describes was last changed SETTLE seconds or more
 * before NOW (unix time): a writer would have touched it since. */
int file_id_settled(const struct file_id *opened, int settle, double now);

#endif
