"""Overlapping runs: two memc_load over the same directory at once (cron
starting a run while a slow one is still loading) must not both load and
rename the same files. The first run is made slow, deterministically, by
stopping (SIGSTOP) the memcached its records go to; the second starts once
the first has logged a Started line, so the first surely holds its lock.
Also: --lock-wait, --lock across directories, --no-lock, the default lock
file, a killed supervisor whose worker lives on, and lock files that cannot
be created."""

import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from helpers import MEMC_LOAD, RUN_TIMEOUT, Run, dot, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz"]
LOCK_NAME = ".memc_load.lock"
EX_TEMPFAIL = 75


def lines(tag, n, dev_type="idfa"):
    return ["%s\t%s-%d\t1.5\t2.5\t1,2,3" % (dev_type, tag, i) for i in range(n)]


def files(directory, names=NAMES, tag="f", count=50):
    return [write_gz(directory / name, lines("%s%d" % (tag, i), count))
            for i, name in enumerate(names)]


def esc(path):
    return re.escape(str(path))


def start_slow_run(mc, args):
    """A run whose idfa records wait on a stopped server until
    mc.resume_server("idfa"); returned once it has started a worker."""
    mc.stop_server("idfa")
    first = Run(mc.opts() + ["-w", "1", "--timeout", "60000"] + args)
    first.wait_for(r"\] I Started ")
    return first


def assert_untouched(paths):
    for p in paths:
        assert p.exists() and not dot(p).exists(), p


def assert_refused(res, lock, holder):
    """The second run loaded nothing, renamed nothing, and said why."""
    assert res.rc == EX_TEMPFAIL, res
    assert res.grep(r"\] I Started ") == [], res
    assert res.renamed() == [], res
    want = r"\] E Another run holds the lock %s \(pid %d\); not loading$" % (esc(lock), holder)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)


def test_second_run_over_the_same_directory_exits_at_once(mc, tmp_path):
    paths = files(tmp_path)
    pattern = str(tmp_path / "*.tsv.gz")
    first = start_slow_run(mc, ["-p", pattern])
    try:
        # Without the lock this run loads the same files too (and, its
        # records undelivered to the stopped server, fails them).
        second = run(mc.opts() + ["--timeout", "1000", "-a", "1", "-p", pattern])
        assert_refused(second, tmp_path / LOCK_NAME, first.memc_load_pid())
        assert_untouched(paths)
    finally:
        mc.resume_server("idfa")
    res = first.finish()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths]
    for p in paths:
        assert dot(p).exists() and not p.exists()
    assert len(mc.keys()["idfa"]) == 3 * 50


def test_a_waiting_run_loads_only_what_the_first_left(mc, tmp_path):
    paths = files(tmp_path)
    pattern = str(tmp_path / "*.tsv.gz")
    lock = tmp_path / LOCK_NAME
    first = start_slow_run(mc, ["-p", pattern])
    try:
        second = Run(mc.opts() + ["--lock-wait", "120", "-p", pattern])
        second.wait_for(r"\] I Another run holds the lock %s \(pid %d\); waiting up to 120 s$"
                        % (esc(lock), first.memc_load_pid()))
        # Arrives while the second run waits: the first has collected its
        # inputs already, the second has not.
        late = write_gz(tmp_path / "20170929000300.tsv.gz", lines("late", 20, "gaid"))
    finally:
        mc.resume_server("idfa")
    res = first.finish()
    again = second.finish()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths]
    assert again.rc == 0, again
    assert again.grep(r"\] I Started ") and all(str(late) in x for x in again.grep(r"\] I Started "))
    assert again.renamed() == [str(late)]
    assert dot(late).exists()
    assert len(mc.keys()["gaid"]) == 20


def test_an_explicit_lock_keeps_runs_over_two_directories_apart(mc, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first_paths = files(one, tag="one")
    second_paths = files(two, tag="two")
    lock = tmp_path / "run.lock"
    first = start_slow_run(mc, ["--lock", str(lock), "-p", str(one / "*.tsv.gz")])
    try:
        second = run(mc.opts() + ["--lock", str(lock), "-p", str(two / "*.tsv.gz")])
        assert_refused(second, lock, first.memc_load_pid())
        assert_untouched(second_paths)
    finally:
        mc.resume_server("idfa")
    res = first.finish()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in first_paths]
    # --lock replaces the default lock.
    assert not (one / LOCK_NAME).exists() and not (two / LOCK_NAME).exists()
    assert lock.read_text() == "%d\n" % res.pid


def test_no_lock_lets_a_run_overlap(mc, tmp_path):
    paths = files(tmp_path)
    first = start_slow_run(mc, ["-p", str(tmp_path / "*.tsv.gz")])
    try:
        own = write_gz(tmp_path / "20170929000300.tsv.gz", lines("own", 20, "gaid"))
        # FILE operands in that one directory: the same default lock.
        refused = run(mc.opts() + [str(own)])
        assert_refused(refused, tmp_path / LOCK_NAME, first.memc_load_pid())
        assert_untouched([own])
        res = run(mc.opts() + ["--no-lock", str(own)])
        assert res.rc == 0, res
        assert res.renamed() == [str(own)]
        assert_untouched(paths)
    finally:
        mc.resume_server("idfa")
    assert first.finish().rc == 0
    assert len(mc.keys()["gaid"]) == 20


def test_the_default_lock_file_is_left_in_the_inputs_directory(mc, tmp_path):
    paths = files(tmp_path, count=5)
    res = run(mc.opts() + ["-p", str(tmp_path / "*")])
    assert res.rc == 0, res
    lock = tmp_path / LOCK_NAME
    assert lock.read_text() == "%d\n" % res.pid
    assert sorted(os.listdir(tmp_path)) == sorted([LOCK_NAME] + [dot(p).name for p in paths])

    # Its dot name keeps it out of the inputs, even of a pattern '*'.
    again = run(mc.opts() + ["-p", str(tmp_path / "*")])
    assert again.rc == 0, again
    assert again.grep(r"\] I No input files match .*: nothing to load$"), again
    assert lock.exists()


def test_no_default_lock_with_dry_or_with_operands_in_two_directories(mc, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    a = files(one, names=NAMES[:1], tag="a")[0]
    b = files(two, names=NAMES[1:2], tag="b")[0]
    res = run(mc.opts() + ["--dry", "-q", "-p", str(one / "*.tsv.gz")])
    assert res.rc == 0, res
    assert os.listdir(one) == [a.name]
    res = run(mc.opts() + [str(a), str(b)])
    assert res.rc == 0, res
    assert os.listdir(one) == [dot(a).name] and os.listdir(two) == [dot(b).name]


def has_open(pid, path):
    """Has process pid a descriptor open on path?"""
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, fd)) == str(path):
                return True
        except OSError:
            pass
    return False


def wait_until(what, why):
    deadline = time.monotonic() + RUN_TIMEOUT
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(why)
        time.sleep(0.02)


def wait_for_line(path, pattern):
    """The first match of pattern in the file at path, waited for."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        m = rx.search(path.read_text() if path.exists() else "")
        if m:
            return m
        time.sleep(0.02)
    raise AssertionError("no line matching %r in %s" % (pattern, path))


def test_a_killed_supervisor_does_not_leave_the_lock_to_its_worker(mc, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    files(inputs, names=NAMES[:1])
    pattern = str(inputs / "*.tsv.gz")
    log = tmp_path / "first.log"
    mc.stop_server("idfa")
    # Not through helpers.Run: its reaper would kill the orphaned worker.
    first = subprocess.Popen([MEMC_LOAD] + mc.opts() + ["--timeout", "60000", "-l", str(log),
                                                        "-p", pattern],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    lock = inputs / LOCK_NAME
    try:
        worker = int(wait_for_line(log, r"\] I Started .*\(worker pid (\d+)\)$").group(1))
        assert has_open(first.pid, lock)
        # A forked worker starts with the supervisor's descriptor, and so
        # with its lock; it must let go of it at once.
        wait_until(lambda: not has_open(worker, lock), "the worker keeps the lock file open")
        first.kill()
        first.wait(RUN_TIMEOUT)
        # The worker dies with its supervisor too (PR_SET_PDEATHSIG); until
        # it has, the lock must already be free.
        res = run(["--dry", "-q", "--lock", str(lock), "-p", pattern])

        assert res.rc == 0, res
    finally:
        # The worker is in the first run's process group.
        try:
            os.killpg(first.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        first.wait(RUN_TIMEOUT)
        mc.resume_server("idfa")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_wait_for_the_lock(mc, tmp_path, sig):
    paths = files(tmp_path)
    pattern = str(tmp_path / "*.tsv.gz")
    first = start_slow_run(mc, ["-p", pattern])
    try:
        second = Run(mc.opts() + ["--lock-wait", "600", "-p", pattern])
        second.wait_for(r"\] I Another run holds the lock .*; waiting up to 600 s$")
        os.kill(second.memc_load_pid(), sig)
        res = second.finish()
        # Ended by the signal itself (a shell reports 128 + sig).
        assert res.rc == -sig, res
        assert res.grep(r"\] I Started ") == [] and res.renamed() == [], res
        assert_untouched(paths)
    finally:
        mc.resume_server("idfa")
    assert first.finish().rc == 0


def test_a_lock_file_that_cannot_be_created_is_an_error(mc, tmp_path):
    paths = files(tmp_path, names=NAMES[:1])
    lock = tmp_path / "no" / "such" / "dir" / "run.lock"
    res = run(mc.opts() + ["--lock", str(lock), "-p", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 1, res
    want = r"\] E Cannot open the lock file %s: No such file or directory$" % esc(lock)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert res.grep(r"\] I Started ") == [], res
    assert_untouched(paths)
    assert mc.total_keys() == 0


def test_no_default_lock_where_the_directory_does_not_exist(mc, tmp_path):
    missing = tmp_path / "missing"
    res = run(mc.opts() + ["-p", str(missing / "*.tsv.gz")])
    assert res.rc == 1, res
    assert res.grep(r"\] E No input files match %s: no such directory %s$"
                    % (esc(missing / "*.tsv.gz"), esc(missing))), res
    assert not missing.exists()


# -- permissions: run as user nobody (root ignores them) ---------------------

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]

needs_nobody = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                  reason="needs root and setpriv, to run as nobody")


@pytest.fixture
def read_only_inputs():
    """A directory user nobody can read but not write, with one input file
    nobody can read; removed after the test."""
    top = tempfile.mkdtemp(prefix="memc_load-lock.")
    ro = pathlib.Path(top) / "ro"
    try:
        os.chmod(top, 0o755)
        ro.mkdir()
        path = files(ro, names=NAMES[:1])[0]
        os.chmod(path, 0o644)
        os.chmod(ro, 0o555)
        yield ro, path
    finally:
        os.chmod(ro, 0o755)
        shutil.rmtree(top, ignore_errors=True)


@needs_nobody
def test_the_default_lock_in_a_directory_nobody_may_write(mc, read_only_inputs):
    ro, path = read_only_inputs
    lock = ro / LOCK_NAME
    res = run(mc.opts() + ["-p", str(ro / "*.tsv.gz")], wrapper=NOBODY)

    assert res.rc == 1, res
    want = (r"\] E Cannot open the lock file %s: Permission denied; give --lock FILE in a "
            r"writable directory, or --no-lock$" % esc(lock))
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert res.grep(r"\] I Started ") == [], res
    assert_untouched([path])
    assert mc.total_keys() == 0


@needs_nobody
def test_a_lock_file_nobody_may_only_read_still_locks(mc, read_only_inputs):
    ro, path = read_only_inputs
    lock = ro / LOCK_NAME
    os.chmod(ro, 0o755)
    lock.write_text("")
    os.chmod(lock, 0o644)
    os.chmod(ro, 0o555)
    res = run(mc.opts() + ["-p", str(ro / "*.tsv.gz")], wrapper=NOBODY)

    # Locked and loaded; the rename fails in the read-only directory.
    assert res.grep(r" the lock ") == [], res
    assert res.rc == 1, res
    assert res.finished(path)["processed"] == 50, res
    assert res.grep(r"\] E Cannot rename %s: Permission denied" % esc(path)), res
    assert lock.read_text() == ""


@pytest.mark.parametrize("what", ["config", "input", "device", "fifo", "directory", "symlink",
                                  "dangling"])
def test_only_a_lock_file_is_taken_as_the_lock(mc, tmp_path, what):
    """--lock given something that is not a lock file: refused, untouched,
    nothing loaded (measured before: --lock some.conf had its content
    replaced by a pid; devices and input files were opened and written)."""
    paths = files(tmp_path, names=NAMES[:1])
    if what == "config":
        lock = tmp_path / "some.conf"
        lock.write_text("servers = 10.0.0.1\n")
        why = "it holds something else than the pid line of a lock file"
    elif what == "input":
        lock = paths[0]
        why = "it holds something else than the pid line of a lock file"
    elif what == "device":
        lock = pathlib.Path("/dev/null")
        why = "it is a character device, not a regular file"
    elif what == "fifo":
        lock = tmp_path / "fifo"
        os.mkfifo(lock)
        why = "it is a FIFO, not a regular file"
    elif what in ("symlink", "dangling"):
        lock = tmp_path / "link.lock"
        target = tmp_path / ("target.lock" if what == "symlink" else "nowhere.lock")
        if what == "symlink":
            target.write_text("")
        lock.symlink_to(target)
        why = "it is a symbolic link, not a regular file"
    else:
        lock = tmp_path / "dir.lock"
        lock.mkdir()
        why = "it is a directory, not a regular file"
    before = lock.read_bytes() if lock.is_file() else None

    res = run(mc.opts() + ["--lock", str(lock), str(paths[0])])

    assert res.rc == 1, res
    want = r"\] E Cannot use %s as the lock file: %s$" % (esc(lock), re.escape(why))
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert res.grep(r"\] I Started ") == [], res
    if before is not None:
        assert lock.read_bytes() == before
    if what == "dangling":
        assert not (tmp_path / "nowhere.lock").exists()
    assert paths[0].exists() and not dot(paths[0]).exists()
    assert mc.total_keys() == 0


def test_a_lock_file_left_by_an_earlier_run_is_taken_again(mc, tmp_path):
    paths = files(tmp_path, names=NAMES[:1])
    lock = tmp_path / "run.lock"
    lock.write_text("4242\n")
    res = run(mc.opts() + ["--lock", str(lock), str(paths[0])])
    assert res.rc == 0, res
    assert lock.read_text() == "%d\n" % res.pid
