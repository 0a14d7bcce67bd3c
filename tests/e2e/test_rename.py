"""Renaming: loaded files are renamed to .NAME only as a chronological
prefix; a file that fails (bad gzip, undelivered records, dead worker) stays,
and every later file of the run is held back."""

import gzip
import os
import re
import signal

import pytest

from helpers import Run, Stalled, dot, free_port, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz",
         "20170929000300.tsv.gz"]


def lines(dev_type, tag, n):
    return ["%s\t%s-%d\t1.5\t2.5\t1,2,3" % (dev_type, tag, i) for i in range(n)]


def esc(path):
    return re.escape(str(path))


def assert_held_back(res, path, blocker):
    want = r"\] W Held back %s: earlier file %s was not " % (esc(path), esc(blocker))
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert path.exists() and not dot(path).exists(), "%s must not be renamed" % path


def assert_failed(res, path):
    want = r"\] E %s failed: .+; not renamed$" % esc(path)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert not dot(path).exists()


@pytest.mark.parametrize("workers", ["2", "4"])
def test_renames_wait_for_an_earlier_file_that_finishes_last(mc, tmp_path, workers):
    first = write_gz(tmp_path / NAMES[0], lines("idfa", "first", 50))
    later = [
        write_gz(tmp_path / name, lines(t, "later%d" % k, 20))
        for k, (name, t) in enumerate(zip(NAMES[1:], ["gaid", "adid", "dvid"]))
    ]
    # The first file's server hangs until the three later files are done, so
    # it finishes last whatever the speed of the machine.
    mc.stop_server("idfa")
    r = Run(mc.opts() + ["-w", workers, "--timeout", "30000", "-p", str(tmp_path / "*.tsv.gz")])
    try:
        for path in later:
            r.wait_for(r"\] I Finished %s:" % esc(path), timeout=30)
        assert "Renamed" not in r.err_text(), "renamed before the first file was done"
        assert all(p.exists() for p in [first] + later)
    finally:
        mc.resume_server("idfa")
    res = r.finish()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in [first] + later]
    for p in [first] + later:
        assert dot(p).exists() and not p.exists()
    finished_first = res.lines.index(res.grep(r"\] I Finished %s:" % esc(first))[0])
    renamed_later = res.lines.index(res.grep(r"\] I Renamed %s " % esc(later[0]))[0])
    assert finished_first < renamed_later
    assert mc.total_keys() == 50 + 3 * 20


def make_bad(kind, path):
    """Turn path into a broken input of the given kind (or remove it)."""
    data = gzip.compress("".join(l + "\n" for l in lines("gaid", "bad", 300)).encode())
    if kind == "not_gzip":
        path.write_bytes(b"gaid\tplain\t1\t2\t3\n" * 20)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "bad_crc":
        path.write_bytes(data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:])
    elif kind == "trailing_garbage":
        path.write_bytes(data + b"this is not gzip")
    elif kind == "missing":
        if path.exists():
            path.unlink()
    else:
        raise ValueError(kind)


BAD_KINDS = ["not_gzip", "empty", "truncated", "bad_crc", "trailing_garbage", "missing"]


@pytest.mark.parametrize(
    "kind, mode",
    [(k, ["-w", "4"]) for k in BAD_KINDS] + [("truncated", ["--serial"])],
    ids=BAD_KINDS + ["truncated-serial"],
)
def test_bad_gzip_fails_its_file_and_holds_back_later_ones(mc, tmp_path, kind, mode):
    paths = [tmp_path / n for n in NAMES]
    write_gz(paths[0], lines("idfa", "one", 10))
    make_bad(kind, paths[1])
    write_gz(paths[2], lines("adid", "three", 10))
    write_gz(paths[3], lines("dvid", "four", 10))

    res = run(mc.opts() + mode + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert dot(paths[0]).exists()
    assert_failed(res, paths[1])
    if kind != "missing":
        assert paths[1].exists()
    for p in paths[2:]:
        assert_held_back(res, p, paths[1])
    keys = mc.keys()
    # Held back files are still loaded; they load again (idempotently) next run.
    assert len(keys["adid"]) == 10 and len(keys["dvid"]) == 10, res
    assert len(res.grep(r"\] I Summary: files 4, .*failed 1, renamed 1, held back 2,")) == 1, res


@pytest.mark.parametrize("dead", ["refused", "stalled"])
def test_undelivered_records_fail_the_file(mc, tmp_path, dead):
    stalled = Stalled() if dead == "stalled" else None
    dvid = stalled.addr if stalled else "127.0.0.1:%d" % free_port()
    paths = [tmp_path / n for n in NAMES[:3]]
    write_gz(paths[0], lines("idfa", "one", 5))
    write_gz(paths[1], lines("gaid", "two", 4) + lines("dvid", "two", 3))
    write_gz(paths[2], lines("adid", "three", 5))
    try:
        res = run(mc.opts(dvid=dvid) + ["--timeout", "200", "-a", "2"] + [str(p) for p in paths])
    finally:
        if stalled:
            stalled.close()

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert_failed(res, paths[1])
    assert paths[1].exists()
    f = res.finished(paths[1])
    assert f is not None, res
    assert (f["processed"], f["errors"], f["kinds"]) == (4, 3, {"undelivered": 3}), res
    assert_held_back(res, paths[2], paths[1])
    keys = mc.keys()
    assert len(keys["gaid"]) == 4 and len(keys["adid"]) == 5


def test_killed_worker_fails_its_file(mc, tmp_path):
    stalled = Stalled()  # the first file's records hang here until the kill
    paths = [tmp_path / n for n in NAMES[:3]]
    write_gz(paths[0], lines("idfa", "one", 5))
    write_gz(paths[1], lines("gaid", "two", 5))
    write_gz(paths[2], lines("adid", "three", 5))
    try:
        args = ["--timeout", "60000", "-w", "2"] + [str(p) for p in paths]
        r = Run(mc.opts(idfa=stalled.addr) + args)
        worker = int(r.wait_for(r"\] I Started %s \(worker pid (\d+)\)" % esc(paths[0])).group(1))
        for p in paths[1:]:
            r.wait_for(r"\] I Finished %s:" % esc(p))
        assert "Finished %s:" % paths[0] not in r.err_text()
        with open("/proc/%d/stat" % worker) as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        assert ppid == r.memc_load_pid(), "worker pid %d is not memc_load's child" % worker
        os.kill(worker, signal.SIGKILL)
        res = r.finish()
    finally:
        stalled.close()

    assert res.rc == 1, res
    assert res.renamed() == []
    assert_failed(res, paths[0])
    assert paths[0].exists()
    for p in paths[1:]:
        assert_held_back(res, p, paths[0])


def test_inputs_sorted_by_base_name_dot_files_skipped(mc, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    early = write_gz(tmp_path / "b" / "20170101000000.tsv.gz", lines("idfa", "early", 3))
    late = write_gz(tmp_path / "a" / "20170102000000.tsv.gz", lines("gaid", "late", 3))
    done = write_gz(tmp_path / "a" / ".20161231000000.tsv.gz", lines("adid", "done", 3))

    res = run(mc.opts() + ["-w", "1", str(late), str(done), str(early)])

    assert res.rc == 0, res
    started = [m.group(1) for m in map(re.compile(r"\] I Started (\S+)").search, res.lines) if m]
    assert started == [str(early), str(late)]
    assert res.renamed() == [str(early), str(late)]
    assert done.exists(), "an already processed file is left alone"
    assert mc.keys()["adid"] == set()


@pytest.mark.parametrize("how", ["pattern", "bare_operand"])
def test_relative_names_are_renamed_in_their_own_directory(mc, tmp_path, how):
    (tmp_path / "in").mkdir()
    path = write_gz(tmp_path / "in" / NAMES[0], lines("idfa", "rel", 3))
    if how == "pattern":
        res = run(mc.opts() + ["-p", "in/*.tsv.gz"], cwd=str(tmp_path))
    else:
        res = run(mc.opts() + [NAMES[0]], cwd=str(tmp_path / "in"))
    assert res.rc == 0, res
    # The default lock file is in the inputs' directory too (test_lock.py).
    assert sorted(os.listdir(tmp_path / "in")) == ["." + NAMES[0], ".memc_load.lock"]
    assert os.listdir(tmp_path) == ["in"]
    assert dot(path).exists()
