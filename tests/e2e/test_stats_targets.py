"""--stats-json FILE when FILE is not a plain file: a symlink is followed
and stays a link; a FIFO or a device is written in place and stays what it
was; a write error there (/dev/full), a FIFO nobody reads and a directory
are errors with exit status 1.

The device tests write to a twin of /dev/full or /dev/null made in the
test's own directory first, and touch the real one only if the twin is
still a device afterwards: a memc_load that replaces what FILE points at
must never get to replace a node in /dev."""

import glob
import json
import os
import re
import stat
import threading
import time

import pytest

from helpers import dot, run, write_gz

# The default lock file of a run over tmp_path (see test_lock.py).
LOCK = ".memc_load.lock"
NAME = "20170929000000.tsv.gz"


def loadable(tmp_path):
    return write_gz(tmp_path / NAME, ["idfa\tlink-%d\t1.5\t2.5\t1,2,3" % i for i in range(5)])


def report_of(text):
    report = json.loads(text)
    assert report["version"] == 1 and report["files"][0]["status"] == "renamed", report
    return report


def cannot_write(res, stats, reason):
    """The one error line for the report, naming stats and the reason."""
    want = r"\] E Cannot write statistics to %s: .*%s" % (re.escape(str(stats)), reason)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)


def test_symlink_to_a_regular_file(mc, tmp_path):
    path = loadable(tmp_path)
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "stats.json"
    target.write_text("an older report\n")
    link = tmp_path / "stats.json"
    link.symlink_to("reports/stats.json")

    res = run(mc.opts() + ["--stats-json", link, str(path)])

    assert res.rc == 0, res
    assert link.is_symlink() and os.readlink(link) == "reports/stats.json"
    assert stat.S_ISREG(os.lstat(target).st_mode)
    assert report_of(target.read_text())["exit_status"] == 0
    # The temporary file was made next to the target, and is gone.
    assert sorted(os.listdir(tmp_path / "reports")) == ["stats.json"]
    assert sorted(os.listdir(tmp_path)) == sorted(["." + NAME, LOCK, "reports", "stats.json"])


def test_chain_of_symlinks_to_a_dangling_target(mc, tmp_path):
    """A link to a link to a name that does not exist yet: the report is a
    new regular file at the end of the chain, both links stay."""
    path = loadable(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "stats.json"
    second = tmp_path / "b" / "latest.json"
    first.symlink_to(second)  # absolute
    second.symlink_to("../out.json")  # relative to b/, not to a/ or the cwd
    target = tmp_path / "out.json"

    res = run(mc.opts() + ["--stats-json", first, str(path)])

    assert res.rc == 0, res
    assert first.is_symlink() and second.is_symlink()
    assert stat.S_ISREG(os.lstat(target).st_mode)
    report_of(target.read_text())
    assert not (tmp_path / "a" / "out.json").exists()
    assert sorted(os.listdir(tmp_path)) == sorted(["." + NAME, LOCK, "a", "b", "out.json"])


def test_symlink_loop_is_an_error(mc, tmp_path):
    path = loadable(tmp_path)
    link = tmp_path / "stats.json"
    link.symlink_to("stats.json")

    res = run(mc.opts() + ["--stats-json", link, str(path)])

    assert res.rc == 1, res
    assert dot(path).exists()
    cannot_write(res, link, "Too many levels of symbolic links")
    assert link.is_symlink() and os.readlink(link) == "stats.json"


def test_fifo_with_a_reader_gets_the_report(mc, tmp_path):
    path = loadable(tmp_path)
    fifo = tmp_path / "stats.fifo"
    os.mkfifo(fifo)
    # Opened before memc_load runs, so it finds a reader; the report is far
    # smaller than a pipe's buffer, so it need not wait for the reads.
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        res = run(mc.opts() + ["--stats-json", fifo, str(path)])
        os.set_blocking(rfd, True)
        chunks = []
        while True:
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)

    assert res.rc == 0, res
    assert report_of(b"".join(chunks).decode())["exit_status"] == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == sorted(["." + NAME, LOCK, "stats.fifo"])


def test_fifo_with_a_slow_reader_gets_the_whole_report(mc, tmp_path):
    """A report larger than the pipe's buffer: memc_load waits for the
    reader instead of failing with EAGAIN."""
    paths = [write_gz(tmp_path / ("2017092900%02d00.tsv.gz" % i), ["dvid\tf%d\t1\t2\t3" % i])
             for i in range(200)]
    fifo = tmp_path / "stats.fifo"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got = []

    def read_all():
        # Before memc_load opens the FIFO a read finds no writer and returns
        # b"" at once, as at the end: only b"" after some data is the end.
        os.set_blocking(rfd, True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            chunk = os.read(rfd, 4096)
            if chunk:
                got.append(chunk)
            elif got:
                return
            else:
                time.sleep(0.05)

    reader = threading.Timer(1.0, read_all)
    reader.start()
    try:
        res = run(mc.opts() + ["-w", "4", "--stats-json", fifo] + [str(p) for p in paths])
    finally:
        reader.join(30)
        os.close(rfd)

    assert res.rc == 0, res
    text = b"".join(got)
    assert len(text) > 65536
    assert len(json.loads(text)["files"]) == 200


def test_fifo_without_a_reader_is_an_error_not_a_hang(mc, tmp_path):
    path = loadable(tmp_path)
    fifo = tmp_path / "stats.fifo"
    os.mkfifo(fifo)

    res = run(mc.opts() + ["--stats-json", fifo, str(path)], timeout=30)

    assert res.rc == 1, res
    assert dot(path).exists()
    cannot_write(res, fifo, "is a FIFO that no process has open for reading")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_directory_is_an_error(mc, tmp_path):
    path = loadable(tmp_path)
    out = tmp_path / "stats.json"
    out.mkdir()

    res = run(mc.opts() + ["--stats-json", out, str(path)])

    assert res.rc == 1, res
    cannot_write(res, out, "is a directory")
    assert os.listdir(out) == []
    assert sorted(os.listdir(tmp_path)) == sorted(["." + NAME, LOCK, "stats.json"])


def _twin(tmp_path, device):
    """A character device node with DEVICE's numbers in tmp_path, or None
    when this process may not make one (not root)."""
    twin = tmp_path / ("twin-" + os.path.basename(device))
    try:
        os.mknod(twin, stat.S_IFCHR | 0o666, os.stat(device).st_rdev)
    except PermissionError:
        return None
    return twin


def not_ours(directory):
    """Files in directory that are neither inputs, device twins nor the lock."""
    return [n for n in os.listdir(directory)
            if not n.endswith(".tsv.gz") and not n.startswith("twin-") and n != LOCK]


def _still_a_device(path, rdev):
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == rdev


def test_dev_full_is_written_in_place_and_fails(mc, tmp_path):
    rdev = os.stat("/dev/full").st_rdev
    twin = _twin(tmp_path, "/dev/full")
    targets = ([twin] if twin else []) + ["/dev/full"]
    for n, target in enumerate(targets):
        path = write_gz(tmp_path / ("2017092900%02d00.tsv.gz" % n), ["adid\tfull-%d\t1\t2\t3" % n])

        res = run(mc.opts() + ["--stats-json", target, str(path)])

        assert _still_a_device(target, rdev), "%s is no longer a device: %r" % (target, res)
        assert res.rc == 1, res
        assert dot(path).exists()
        cannot_write(res, target, "No space left on device")
        assert not_ours(tmp_path) == [] and glob.glob("/dev/.full.*") == [], res


def test_dev_null_is_written_in_place(mc, tmp_path):
    rdev = os.stat("/dev/null").st_rdev
    twin = _twin(tmp_path, "/dev/null")
    for n, target in enumerate(([twin] if twin else []) + ["/dev/null"]):
        path = write_gz(tmp_path / ("2017092900%02d00.tsv.gz" % n), ["adid\tnull-%d\t1\t2\t3" % n])

        res = run(mc.opts() + ["--stats-json", target, str(path)])

        assert _still_a_device(target, rdev), "%s is no longer a device: %r" % (target, res)
        assert res.rc == 0, res
        assert dot(path).exists()
        assert not res.grep(r"\] E "), res
        assert not_ours(tmp_path) == [] and glob.glob("/dev/.null.*") == [], res


def test_symlink_to_a_device(mc, tmp_path):
    """A link to a device: the device is written, the link stays."""
    rdev = os.stat("/dev/full").st_rdev
    path = loadable(tmp_path)
    twin = _twin(tmp_path, "/dev/full")
    if twin is None:
        pytest.skip("needs root, to make a device node")
    link = tmp_path / "stats.json"
    link.symlink_to(twin.name)

    res = run(mc.opts() + ["--stats-json", link, str(path)])

    assert res.rc == 1, res
    assert link.is_symlink() and _still_a_device(twin, rdev)
    cannot_write(res, link, "No space left on device")


def test_dev_stdout_a_pipe(mc, tmp_path):
    """/dev/stdout is a link, through /proc, to a pipe that readlink cannot
    name: the report goes down the pipe. A link of our own to the same
    place goes first, so a memc_load that replaces links never gets to
    replace the one in /dev."""
    own = tmp_path / "stdout"
    own.symlink_to("/proc/self/fd/1")
    for n, target in enumerate([own, "/dev/stdout"]):
        path = write_gz(tmp_path / ("2017092900%02d00.tsv.gz" % n), ["gaid\tout-%d\t1\t2\t3" % n])

        res = run(mc.opts() + ["--stats-json", target, str(path)])

        assert os.path.islink(target), "%s is no longer a link: %r" % (target, res)
        assert res.rc == 0, res
        assert report_of(res.out)["exit_status"] == 0
        assert not_ours(tmp_path) == ["stdout"] and glob.glob("/dev/.stdout.*") == [], res
