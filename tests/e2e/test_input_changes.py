"""Input that changes under the loader: a file replaced (rsync style) or
appended to while it loads or waits for its rename, a FIFO or other
non-regular file among the inputs, the same file given twice, a file
deleted during the run. A renamed file must be the very file whose records
were stored, and every message must say what really happened."""

import gzip
import os
import re
import time

from helpers import Run, dot, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz"]


def lines(dev_type, tag, n):
    return ["%s\t%s-%d\t1.5\t2.5\t1,2,3" % (dev_type, tag, i) for i in range(n)]


def esc(path):
    return re.escape(str(path))


def wait_open(pid, path, timeout=30):
    """Wait until process PID has PATH open: from then on it reads that inode."""
    want = os.path.realpath(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == want:
                        return
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("worker %d never opened %s" % (pid, path))


def test_file_replaced_during_its_load_is_not_renamed(mc, tmp_path):
    """rsync writes A.tmp and renames it over A: the worker goes on reading
    the old inode, so the new A was never loaded and must not be renamed."""
    path = write_gz(tmp_path / NAMES[0], lines("idfa", "old", 200))
    mc.stop_server("idfa")  # the worker waits on it, with the old file open
    r = Run(mc.opts() + ["-w", "1", "--timeout", "30000", str(path)])
    try:
        pid = int(r.wait_for(r"\] I Started %s \(worker pid (\d+)\)" % esc(path)).group(1))
        wait_open(pid, path)
        tmp = write_gz(tmp_path / (NAMES[0] + ".tmp"), lines("gaid", "new", 50))
        os.rename(tmp, path)
    finally:
        mc.resume_server("idfa")
    res = r.finish()

    assert res.rc == 1, res
    assert res.renamed() == [], res
    assert path.exists() and not dot(path).exists()
    assert gz_lines(path) == lines("gaid", "new", 50), "the new file is left as it is"
    assert res.grep(r"\] E %s changed during the load .*; not renamed, it loads again next run"
                    % esc(path)), res
    assert mc.keys()["gaid"] == set(), "the new content was never loaded"


def test_file_appended_while_waiting_for_its_rename_is_not_renamed(mc, tmp_path):
    """The second file finishes first and waits for the first one; a gzip
    member appended to it meanwhile was never loaded: no rename."""
    first = write_gz(tmp_path / NAMES[0], lines("idfa", "first", 20))
    second = write_gz(tmp_path / NAMES[1], lines("gaid", "second", 20))
    mc.stop_server("idfa")
    r = Run(mc.opts() + ["-w", "2", "--timeout", "30000", str(first), str(second)])
    try:
        r.wait_for(r"\] I Finished %s:" % esc(second))
        with open(second, "ab") as f:
            f.write(gzip.compress(b"adid\tappended\t1\t2\t3\n"))
    finally:
        mc.resume_server("idfa")
    res = r.finish()

    assert res.rc == 1, res
    assert res.renamed() == [str(first)], res
    assert second.exists() and not dot(second).exists()
    assert res.grep(r"\] E %s changed during the load .*; not renamed" % esc(second)), res
    assert mc.keys()["adid"] == set()


def gz_lines(path):
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()


def test_fifo_among_the_inputs_is_refused_without_hanging(mc, tmp_path):
    """open() of a FIFO with no writer blocks for ever: the loader must not
    wait for one, and must say the FIFO is not a regular file."""
    first = write_gz(tmp_path / NAMES[0], lines("idfa", "one", 10))
    fifo = tmp_path / NAMES[1]
    os.mkfifo(fifo)
    third = write_gz(tmp_path / NAMES[2], lines("adid", "three", 10))

    for mode in (["-w", "2"], ["--serial"]):
        for p in (first, third):
            if dot(p).exists():
                os.rename(dot(p), p)
        res = run(mc.opts() + mode + [str(first), str(fifo), str(third)], timeout=30)

        assert res.rc == 1, res
        assert res.renamed() == [str(first)], res
        assert res.grep(r"\] E %s failed: not a regular file \(a FIFO\); not renamed"
                        % esc(fifo)), res
        assert res.grep(r"\] W Held back %s: earlier file %s" % (esc(third), esc(fifo))), res
        assert len(mc.keys()["adid"]) == 10


def test_same_file_given_twice_is_loaded_once(mc, tmp_path):
    """The same file twice (also by another name for it) is loaded and
    renamed once; the log says it was given twice, not that it failed."""
    path = write_gz(tmp_path / NAMES[0], lines("idfa", "twice", 10))
    other = tmp_path / "." / NAMES[0]

    res = run(mc.opts() + ["-w", "2", str(path), str(other), str(path)])

    assert res.rc == 0, res
    assert res.renamed() == [str(path)], res
    assert len(res.grep(r"\] I Started ")) == 1, res
    assert res.grep(r"\] W Skipping %s: the same file as %s, given before" % (esc(other), esc(path))), res
    assert not [m for m in res.messages() if "load again next run" in m[1]], res
    assert res.finished(path)["processed"] == 10


def test_file_deleted_during_the_run_is_said_to_be_gone(mc, tmp_path):
    """A file deleted while it loads cannot be renamed, and it will not
    'load again next run' either: the message says it is gone."""
    first = write_gz(tmp_path / NAMES[0], lines("idfa", "gone", 20))
    second = write_gz(tmp_path / NAMES[1], lines("gaid", "after", 20))
    mc.stop_server("idfa")
    r = Run(mc.opts() + ["-w", "1", "--timeout", "30000", str(first), str(second)])
    try:
        pid = int(r.wait_for(r"\] I Started %s \(worker pid (\d+)\)" % esc(first)).group(1))
        wait_open(pid, first)
        os.unlink(first)
    finally:
        mc.resume_server("idfa")
    res = r.finish()

    assert res.rc == 1, res
    assert res.renamed() == [], res
    assert res.grep(r"\] E %s was deleted during the load; not renamed" % esc(first)), res
    bad = [m for m in res.messages() if str(first) in m[1] and "load again next run" in m[1]
           and "the files after it" not in m[1]]
    assert not bad, res
    assert res.grep(r"\] W Held back %s: earlier file %s was not renamed; it loads again next run"
                    % (esc(second), esc(first))), res
