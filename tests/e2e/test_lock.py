"""Overlapping runs: two memc_load over the same directory at once (cron
starting a run while a slow one is still loading) must not both load and
rename the same files. The first run is made slow, deterministically, by
stopping (SIGSTOP) the memcached its records go to; the second starts once
the first has logged a Started line, so the first surely holds its lock."""

import re

from helpers import Run, dot, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz"]
LOCK_NAME = ".memc_load.lock"
EX_TEMPFAIL = 75


def lines(tag, n):
    return ["idfa\t%s-%d\t1.5\t2.5\t1,2,3" % (tag, i) for i in range(n)]


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
        # Today this run would load the same files (and, its records
        # undelivered to the stopped server, fail them).
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
