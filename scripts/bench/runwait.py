"""runwait.py -- timing one command: wall time, CPU and peak RSS.

The measured command is started by a small C program rather than by
Python directly. A process's peak RSS (ru_maxrss) survives exec: a child
forked from this Python process starts its count at Python's own size
(tens to hundreds of MB with the key lists loaded), which would hide the
loader's real figure. Forked from a 1 MB program, the count starts near 0.
The helper waits for the command with wait4 and writes its wait status,
user and system CPU, peak RSS and wall time to the file named first.
"""

import os
import signal
import subprocess
import threading

RUNWAIT_C = r"""
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: runwait OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("runwait: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("runwait: wait4");
			return 125;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror(argv[1]);
		return 125;
	}
	fprintf(out, "%d %ld.%06ld %ld.%06ld %ld %.9f\n", status,
	        (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
	        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return fclose(out) == 0 ? 0 : 125;
}
"""


def build(directory):
    """Compile the helper in directory ($CC, else cc); its path."""
    src = os.path.join(directory, "runwait.c")
    exe = os.path.join(directory, "runwait")
    with open(src, "w") as f:
        f.write(RUNWAIT_C)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-Wall", "-o", exe, src], check=True)
    return exe


def _wait(proc, timeout):
    """Wait for proc, killing its process group after timeout seconds or
    when the wait is interrupted; whether the timeout killed it."""
    killed = []

    def kill():
        killed.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        proc.wait()
    except BaseException:
        kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
    return bool(killed)


def timed(ctx, argv, env, log_path, stdout=None):
    """Run argv (a list) through runwait in a new session and process group;
    return (exit status or "timeout", wall s, user s, sys s, peak RSS KiB,
    whether processes of its group outlived it). The CPU and RSS cover the
    command and every process it reaped."""
    result = os.path.join(ctx.private, "runwait.out")
    if os.path.exists(result):
        os.unlink(result)
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen([ctx.runwait, result] + argv, env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout or logf,
                                stderr=logf, start_new_session=True)
        killed = _wait(proc, ctx.args.run_timeout)
    # Workers outliving the loader would go on using the machine.
    stray = False
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        stray = True
    except ProcessLookupError:
        pass
    if killed:
        return "timeout", ctx.args.run_timeout, 0.0, 0.0, 0, stray
    if proc.returncode != 0:
        raise RuntimeError("runwait failed with status %d (see %s)" % (proc.returncode,
                                                                      log_path))
    with open(result) as f:
        status, user, sys_, rss, wall = f.read().split()
    rc = os.waitstatus_to_exitcode(int(status))
    return rc, float(wall), float(user), float(sys_), int(rss), stray
