/* test_lock.c -- the lock file's path, and the lock: free, held by another
 * process, released while we wait, and not kept by a worker. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "lock.h"

/* A child that waits for its end never outlives a hung test by more. */
#define GUARD_SECONDS 30

static char dir[64];
static char path[128];
static char err[512];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_lock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/run.lock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* What a child does once it has forked. */
enum child_does {
	TAKE_AND_HOLD,    /* take the lock, say so, wait to be killed */
	TAKE_AND_RELEASE, /* take the lock, say so, wait a moment, exit */
	DROP_AND_HOLD,    /* drop the inherited lock (a worker), say so, wait */
};

/* Fork a child doing WHAT; return once it has done the first part. */
static pid_t start_child(enum child_does what)
{
	int p[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(GUARD_SECONDS);
		close(p[0]);
		if (what == DROP_AND_HOLD)
			lock_drop_inherited();
		else if (lock_take(path, 0, err, sizeof(err)) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		if (what == TAKE_AND_RELEASE) {
			usleep(200 * 1000);
			_exit(0);
		}
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The file's content, as a pid. */
static long pid_in_file(void)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	return strtol(buf, NULL, 10);
}

static void free_lock_is_taken(void **state)
{
	struct stat st;
	mode_t old = umask(022);
	int fd;

	(void)state;
	fd = lock_take(path, 0, err, sizeof(err));
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(pid_in_file(), (long)getpid());
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	lock_release(fd);
	/* Released, and the file is left in place. */
	assert_int_equal(access(path, F_OK), 0);
	fd = lock_take(path, 0, err, sizeof(err));
	assert_true(fd >= 0);
	lock_release(fd);
}

static void held_lock_names_its_holder(void **state)
{
	char want[256];
	pid_t holder;
	int fd;

	(void)state;
	holder = start_child(TAKE_AND_HOLD);
	assert_int_equal(lock_take(path, 0, err, sizeof(err)), LOCK_HELD);
	snprintf(want, sizeof(want), "Another run holds the lock %s (pid %ld)", path, (long)holder);
	assert_string_equal(err, want);
	/* Still held after a wait that runs out. */
	assert_int_equal(lock_take(path, 1, err, sizeof(err)), LOCK_HELD);
	assert_non_null(strstr(err, " after 1 s of waiting"));
	end_child(holder);
	fd = lock_take(path, 0, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(pid_in_file(), (long)getpid());
	lock_release(fd);
}

static void waiting_ends_when_released(void **state)
{
	pid_t holder;
	int fd, status;

	(void)state;
	holder = start_child(TAKE_AND_RELEASE);
	fd = lock_take(path, GUARD_SECONDS, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(waitpid(holder, &status, 0), holder);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lock_release(fd);
}

/* A worker forked while the lock is held shares its open file description;
 * once it has dropped its copy, the supervisor's end releases the lock. */
static void worker_does_not_keep_the_lock(void **state)
{
	pid_t worker;
	int fd;

	(void)state;
	fd = lock_take(path, 0, err, sizeof(err));
	assert_true(fd >= 0);
	worker = start_child(DROP_AND_HOLD);
	/* Dropping did not unlock it for the supervisor. */
	assert_int_equal(lock_take(path, 0, err, sizeof(err)), LOCK_HELD);
	lock_release(fd); /* as when the supervisor dies */
	fd = lock_take(path, 0, err, sizeof(err));
	end_child(worker);
	assert_true(fd >= 0);
	lock_release(fd);
}

static void unopenable_lock_is_an_error(void **state)
{
	char missing[160];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no/such/dir/x.lock", dir);
	errno = 0;
	assert_int_equal(lock_take(missing, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "Cannot open the lock file"));
	assert_non_null(strstr(err, missing));
}

/* lock_path for the arguments ARGS (NULL-terminated): its result, and the
 * path in OUT. */
static int path_for(const char **args, char *out, size_t outlen)
{
	char *argv[16];
	int argc = 0;
	struct config cfg;

	argv[argc++] = (char *)"memc_load";
	for (; *args && argc < 15; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	assert_int_equal(cli_parse(argc, argv, &cfg, err, sizeof(err)), CLI_RUN);
	out[0] = '\0';
	return lock_path(&cfg, out, outlen);
}

#define PATH_FOR(out, ...) path_for((const char *[]){__VA_ARGS__, NULL}, (out), sizeof(out))

static void lock_file_paths(void **state)
{
	char out[256], a[160], b[160];

	(void)state;
	assert_int_equal(path_for((const char *[]){NULL}, out, sizeof(out)), 1);
	assert_string_equal(out, "/data/appsinstalled/.memc_load.lock");
	assert_int_equal(PATH_FOR(out, "-p", "in/*.tsv.gz"), 1);
	assert_string_equal(out, "in/.memc_load.lock");
	assert_int_equal(PATH_FOR(out, "-p", "*.tsv.gz"), 1);
	assert_string_equal(out, ".memc_load.lock");
	assert_int_equal(PATH_FOR(out, "-p", "/x.gz"), 1);
	assert_string_equal(out, "/.memc_load.lock");
	/* A wildcard in the directory: the matches may be anywhere. */
	assert_int_equal(PATH_FOR(out, "-p", "/data/*/x.gz"), 0);
	assert_int_equal(PATH_FOR(out, "-p", "/data/[ab]/x.gz"), 0);
	/* --lock, --no-lock, --dry. */
	assert_int_equal(PATH_FOR(out, "--lock", "/run/l"), 1);
	assert_string_equal(out, "/run/l");
	assert_int_equal(PATH_FOR(out, "--no-lock"), 0);
	assert_int_equal(PATH_FOR(out, "--lock", "/run/l", "--no-lock"), 0);
	assert_int_equal(PATH_FOR(out, "--no-lock", "--lock", "/run/l"), 1);
	assert_int_equal(PATH_FOR(out, "--dry"), 0);
	assert_int_equal(PATH_FOR(out, "--dry", "--lock", "/run/l"), 1);
	assert_int_equal(PATH_FOR(out, "-p", "/data/*/x.gz", "--lock", "/run/l"), 1);
	/* Operands: one directory, several, dot names left out. */
	assert_int_equal(PATH_FOR(out, "d/1.gz", "d/2.gz"), 1);
	assert_string_equal(out, "d/.memc_load.lock");
	assert_int_equal(PATH_FOR(out, "1.gz", "2.gz"), 1);
	assert_string_equal(out, ".memc_load.lock");
	assert_int_equal(PATH_FOR(out, "/no/such/a/1.gz", "/no/such/b/2.gz"), 0);
	assert_int_equal(PATH_FOR(out, "/no/such/a/1.gz", "/no/such/b/.2.gz"), 1);
	assert_string_equal(out, "/no/such/a/.memc_load.lock");
	assert_int_equal(PATH_FOR(out, "/no/such/b/.2.gz"), 0);
	/* One directory written two ways. */
	snprintf(a, sizeof(a), "%s/1.gz", dir);
	snprintf(b, sizeof(b), "%s/./2.gz", dir);
	assert_int_equal(PATH_FOR(out, a, b), 1);
	snprintf(a, sizeof(a), "%s/.memc_load.lock", dir);
	assert_string_equal(out, a);
	/* Too long for OUT. */
	assert_int_equal(path_for((const char *[]){"--lock", "/run/l", NULL}, out, 6), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(free_lock_is_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(held_lock_names_its_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(waiting_ends_when_released, setup, teardown),
		cmocka_unit_test_setup_teardown(worker_does_not_keep_the_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(unopenable_lock_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(lock_file_paths, setup, teardown),
	};
	return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}
