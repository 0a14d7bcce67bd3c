/* test_outfile.c -- writing a whole output file: links followed, a regular
 * file replaced, a FIFO written in place, the rest refused; and the
 * caller's signal mask as it was. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

static const char text[] = "{\"version\": 1}\n";

struct dir {
	char path[64];
};

static void make_dir(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/test_outfile.XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

/* DIR/NAME into BUF. */
static const char *in(const struct dir *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->path, name);
	return buf;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_dir(const struct dir *d)
{
	assert_int_equal(nftw(d->path, remove_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* The content of PATH, which must be TEXT. */
static void assert_holds_text(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(text));
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static int write_text(const char *path, char *err, size_t errlen)
{
	return outfile_write(path, text, strlen(text), err, errlen);
}

static void relative_link_chain_to_a_new_file(void **state)
{
	struct dir d;
	char a[128], b[128], link1[128], link2[128], target[128], err[512];
	struct stat sb;

	(void)state;
	make_dir(&d);
	assert_int_equal(mkdir(in(&d, "a", a, sizeof(a)), 0700), 0);
	assert_int_equal(mkdir(in(&d, "b", b, sizeof(b)), 0700), 0);
	/* a/stats -> ../b/next, b/next -> out: relative to b/, not to a/. */
	assert_int_equal(symlink("../b/next", in(&d, "a/stats", link1, sizeof(link1))), 0);
	assert_int_equal(symlink("out", in(&d, "b/next", link2, sizeof(link2))), 0);

	assert_int_equal(write_text(link1, err, sizeof(err)), 0);
	assert_int_equal(lstat(link1, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(lstat(link2, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(lstat(in(&d, "b/out", target, sizeof(target)), &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_holds_text(target);
	remove_dir(&d);
}

static void link_loop_and_refused_kinds(void **state)
{
	struct dir d;
	char loop[128], sock_path[128], err[512];
	struct sockaddr_un sa;
	int s;

	(void)state;
	make_dir(&d);
	assert_int_equal(symlink("loop", in(&d, "loop", loop, sizeof(loop))), 0);
	assert_int_equal(write_text(loop, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ELOOP)));

	assert_int_equal(write_text(d.path, err, sizeof(err)), -1);
	assert_string_equal(err, "it is a directory");

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	in(&d, "sock", sock_path, sizeof(sock_path));
	assert_true(strlen(sock_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write_text(sock_path, err, sizeof(err)), -1);
	assert_string_equal(err, "it is a socket");
	close(s);
	remove_dir(&d);
}

static void fifo_in_place(void **state)
{
	struct dir d;
	char fifo[128], link[128], err[512], buf[256];
	struct stat sb;
	int r;

	(void)state;
	make_dir(&d);
	assert_int_equal(mkfifo(in(&d, "fifo", fifo, sizeof(fifo)), 0600), 0);
	assert_int_equal(symlink("fifo", in(&d, "link", link, sizeof(link))), 0);

	/* Nobody reads: an error at once, through the link too. */
	assert_int_equal(write_text(fifo, err, sizeof(err)), -1);
	assert_string_equal(err, "it is a FIFO that no process has open for reading");
	assert_int_equal(write_text(link, err, sizeof(err)), -1);
	assert_string_equal(err, "it is a FIFO that no process has open for reading");

	/* A reader gets it, and the FIFO stays one. */
	r = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(r >= 0);
	assert_int_equal(write_text(link, err, sizeof(err)), 0);
	assert_int_equal(read(r, buf, sizeof(buf)), (ssize_t)strlen(text));
	close(r);
	assert_int_equal(lstat(fifo, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	remove_dir(&d);
}

/* Whatever it does with the signals on the way, the caller's mask is as
 * it was, blocked or not. */
static void signal_mask_restored(void **state)
{
	struct dir d;
	char file[128], fifo[128], err[512];
	sigset_t block, before, after;
	int r;

	(void)state;
	make_dir(&d);
	assert_int_equal(mkfifo(in(&d, "fifo", fifo, sizeof(fifo)), 0600), 0);
	r = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(r >= 0);
	in(&d, "file", file, sizeof(file));
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	for (int blocked = 0; blocked < 2; blocked++) {
		sigprocmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &block, NULL);
		sigprocmask(SIG_SETMASK, NULL, &before);
		assert_int_equal(write_text(file, err, sizeof(err)), 0);
		sigprocmask(SIG_SETMASK, NULL, &after);
		assert_int_equal(sigismember(&after, SIGINT), sigismember(&before, SIGINT));
		assert_int_equal(write_text(fifo, err, sizeof(err)), 0);
		sigprocmask(SIG_SETMASK, NULL, &after);
		assert_int_equal(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
	}
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	close(r);
	assert_holds_text(file);
	remove_dir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(relative_link_chain_to_a_new_file),
	    cmocka_unit_test(link_loop_and_refused_kinds),
	    cmocka_unit_test(fifo_in_place),
	    cmocka_unit_test(signal_mask_restored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
