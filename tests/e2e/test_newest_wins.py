"""Keys repeated across files: after a run, at any -w, every key holds the
value of its last line in the newest file that has it, as the serial
original leaves it (files loaded one by one in name order)."""

import gzip
import json
import os
import signal
import subprocess
import threading
import time

import pytest

import model
from checks import check_store
from fakemc import FakeMemcached
from helpers import (Run, dot, kill_memcached, memcached_on, run, stop_when_holding,
                     write_gz)

TYPES = ("idfa", "gaid", "adid", "dvid")


def line(i, version):
    """Key i's line in the file of that version: other apps in each file."""
    t = TYPES[i % 4]
    return b"%s\tdev-%06d\t%d.5\t-%d.25\t%d,%d,%d" % (
        t.encode(), i, i % 90, i % 180, version, i, 7000 + version)


def files_with_repeats(tmp_path, keys, shares):
    """An old, large file with every key; then newer, smaller files, each
    with the last SHARE of those keys again (so they finish first, while
    the old file still writes the same keys)."""
    names = []
    old = [line(i, 0) for i in range(keys)]
    names.append(write_gz(tmp_path / "20170929000000.tsv.gz", old))
    for n, share in enumerate(shares, start=1):
        first = keys - int(keys * share)
        lines = [line(i, n) for i in range(first, keys)]
        names.append(write_gz(tmp_path / ("20170929%02d0000.tsv.gz" % n), lines))
    return names


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("shares", [(0.5, 0.25, 0.1), (1.0, 1.0, 1.0)], ids=["some", "all"])
def test_newest_value_wins(mc, decode, tmp_path, workers, shares):
    paths = files_with_repeats(tmp_path, 60000, shares)
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    stats = tmp_path / "stats.json"
    res = run(mc.opts() + ["-w", str(workers), "--stats-json", str(stats),
                           "--pattern", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 0, res
    assert len(res.renamed()) == len(paths), res
    check_store(mc, decode, models)

    # What the repairs did: each key is once in each file here, so a
    # repaired file re-sent exactly one record per shared key, and no more
    # keys than it has; one worker overlaps nothing and repairs nothing.
    report = json.loads(stats.read_text())
    repairs = [f["repair"] for f in report["files"]]
    assert repairs[0] is None  # the oldest file has nothing older
    for f, rep in zip(report["files"], repairs):
        if rep is not None:
            assert rep["resent"] == rep["shared_keys"] <= f["processed"], f
    if workers == 1:
        assert repairs == [None] * len(paths)
    t = report["totals"]
    assert t["repaired"] == sum(r is not None for r in repairs)
    assert t["resent"] == sum(r["resent"] for r in repairs if r)
    assert t["shared_keys"] == sum(r["shared_keys"] for r in repairs if r)


def test_late_file_is_named(mc, tmp_path):
    """A file named older than one an earlier run renamed can only overwrite
    newer values: the run says so, names the file to load again, and
    counts it."""
    newer = write_gz(tmp_path / "20170929010000.tsv.gz", [line(i, 1) for i in range(40)])
    res = run(mc.opts() + ["--pattern", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 0 and len(res.renamed()) == 1, res
    late = write_gz(tmp_path / "20170929000000.tsv.gz", [line(i, 0) for i in range(40)])
    stats = tmp_path / "stats.json"
    res = run(mc.opts() + ["--stats-json", str(stats), "--pattern", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 0, res
    warned = [l for l in res.lines if " W %s is older than %s" % (late, str(newer)) in l]
    assert len(warned) == 1, res
    assert ("rename %s back to %s" % (tmp_path / ("." + newer.name), newer)) in warned[0]
    report = json.loads(stats.read_text())
    assert [f["late"] for f in report["files"]] == [True]
    assert report["totals"]["late"] == 1
    # A file newer than every renamed one is not late.
    write_gz(tmp_path / "20170929020000.tsv.gz", [line(i, 2) for i in range(40)])
    res = run(mc.opts() + ["--stats-json", str(stats), "--pattern", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 0 and not any(" is older than " in l for l in res.lines), res
    assert json.loads(stats.read_text())["totals"]["late"] == 0


class Servers:
    """The test's servers, one type's replaced by a restarted one: what
    check_store reads."""

    def __init__(self, mc, **by_type):
        self.by_type = dict(mc.by_type, **by_type)

    def keys(self):
        return {t: s.keys() for t, s in self.by_type.items()}

    def get(self, dev_type, keys):
        return self.by_type[dev_type].get_many(keys)


def restart(server, started):
    """Kill SERVER and start an empty memcached on its port: a crash."""
    kill_memcached(server)
    started.remove(server.pid)
    again = memcached_on(server.port)
    started.append(again.pid)
    return again


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_restart_in_the_middle_of_a_file(mc, decode, tmp_path, own_server, workers):
    """The idfa server is killed and started again, empty, while the old
    file is half loaded and newer files (some loaded already) hold the same
    keys: in the same run every file is renamed and every key holds its
    newest value, on the restarted server too."""
    start, started = own_server
    idfa = start()
    paths = files_with_repeats(tmp_path, 60000, (0.5, 0.25, 0.1))
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    stats = tmp_path / "stats.json"
    r = Run(mc.opts(idfa=idfa.addr) + ["-w", str(workers), "--timeout", "30000",
                                       "--stats-json", str(stats),
                                       "--pattern", str(tmp_path / "*.tsv.gz")])
    try:
        stop_when_holding(r, idfa, 3000)
        idfa = restart(idfa, started)
        res = r.finish()
    finally:
        r.kill()

    assert res.rc == 0, res
    assert len(res.renamed()) == len(paths), res
    check_store(Servers(mc, idfa=idfa), decode, models)
    report = json.loads(stats.read_text())
    assert report["totals"]["resent"] >= 3000, report["totals"]


@pytest.mark.parametrize("workers", [1, 2])
def test_restart_after_a_rename(mc, decode, tmp_path, own_server, workers):
    """The first file is renamed; then the idfa server restarts, empty,
    while the second file waits on a stopped gaid server; the third file has
    the first's idfa keys with newer values. The run sends the renamed
    file's records again, then the newer ones: every file renamed, every
    key newest, exit 0."""
    start, started = own_server
    idfa = start()
    old = [line(4 * i, 0) for i in range(500)]  # idfa keys
    middle = [line(4 * i + 1, 1) for i in range(50)] + [line(4 * i, 1) for i in range(500, 520)]
    new = [line(4 * i, 2) for i in range(250)]
    paths = [write_gz(tmp_path / ("20170929%02d0000.tsv.gz" % n), lines)
             for n, lines in enumerate((old, middle, new))]
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    mc.stop_server("gaid")  # the middle file waits on it while idfa restarts
    r = Run(mc.opts(idfa=idfa.addr) + ["-w", str(workers), "--timeout", "30000",
                                       "--pattern", str(tmp_path / "*.tsv.gz")])
    try:
        r.wait_for(r"\] I Renamed %s " % paths[0])
        r.wait_for(r"\] I Started %s " % paths[1])
        idfa = restart(idfa, started)
    finally:
        mc.resume_server("gaid")
    try:
        res = r.finish()
    finally:
        r.kill()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    assert res.grep(r"\] I Re-sending %s's records" % paths[0]), res
    check_store(Servers(mc, idfa=idfa), decode, models)


def test_supervisor_killed_during_a_repair(decode, tmp_path):
    """SIGKILL of the supervisor while a newer file re-sends its shared keys
    (the server holds the repair's first record unanswered): the older file
    was renamed, the newer one was not; the next run removes the killed
    run's key digests, loads the newer file again, and the server holds
    what the serial original leaves."""
    sets, third, release = {}, threading.Event(), threading.Event()

    def policy(conn, seq, key):
        # Each key is set once by each file's load: a third set is a repair.
        sets[key] = sets.get(key, 0) + 1
        if sets[key] == 3:
            third.set()
            release.wait(60)
        return "STORED"

    server = FakeMemcached(policy, meta="meta")
    old = [line(4 * i + 3, 0) for i in range(2000)]  # dvid keys only
    new = [line(4 * i + 3, 1) for i in range(1000)]
    paths = [write_gz(tmp_path / ("20170929%02d0000.tsv.gz" % n), lines)
             for n, lines in enumerate((old, new))]
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    args = ["--dvid", server.addr, "-w", "2", "--timeout", "30000",
            "--pattern", str(tmp_path / "*.tsv.gz")]
    try:
        r = Run(args, env=env)
        try:
            assert third.wait(60), "no repair began\n" + r.err_text()
            supervisor = r.memc_load_pid()
            os.kill(supervisor, signal.SIGKILL)
        finally:
            release.set()
            r.kill()  # the orphaned repair worker too
        assert dot(paths[0]).exists() and paths[1].exists()
        assert [d for d in os.listdir(tmp) if d.startswith("memc_load-keys.")], "no digests?"
        # Reaped by now, as a cron job's parent would: a zombie still counts as alive.
        deadline = time.monotonic() + 30
        while os.path.exists("/proc/%d" % supervisor) and time.monotonic() < deadline:
            time.sleep(0.01)

        res = run(args, env=env)
        with server.lock:
            held = dict(server.store)
    finally:
        server.close()

    assert res.rc == 0, res
    assert res.renamed() == [str(paths[1])], res
    assert res.grep(r"\] I Removing the key digests of a run that was stopped \(pid %d\)"
                    % supervisor), res
    assert os.listdir(tmp) == []
    want = {}
    for lines in (old, new):  # the serial original: file by file, line by line
        for ln in lines:
            rec = model.model_content(ln + b"\n").records[0]
            want[rec.key] = rec
    assert set(held) == set(want)
    for key, rec in want.items():
        apps, lat, lon = decode(held[key])
        assert (apps, lat, lon) == (rec.apps, rec.lat, rec.lon), key


@pytest.mark.parametrize("workers", [1, 2])
def test_restart_no_later_file_meets(mc, decode, tmp_path, own_server, workers):
    """The idfa server restarts after the first file was renamed, and no
    later file sends it anything: the run asks every server who it is
    before it ends, sees the restart, and sends the renamed file's idfa
    records again (measured before: exit 0, every idfa key missing, nothing
    said)."""
    start, started = own_server
    idfa = start()
    first = [line(i, 0) for i in range(400) if i % 4 != 1]  # all types but gaid
    later = [line(4 * i + 1, n) for n in (1, 2) for i in range(100)]  # gaid only
    paths = [write_gz(tmp_path / "20170929000000.tsv.gz", first),
             write_gz(tmp_path / "20170929010000.tsv.gz", later[:100]),
             write_gz(tmp_path / "20170929020000.tsv.gz", later[100:])]
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    mc.stop_server("gaid")  # the later files wait on it while idfa restarts
    r = Run(mc.opts(idfa=idfa.addr) + ["-w", str(workers), "--timeout", "30000",
                                       "--pattern", str(tmp_path / "*.tsv.gz")])
    try:
        try:
            r.wait_for(r"\] I Renamed %s " % paths[0])
            idfa = restart(idfa, started)
        finally:
            mc.resume_server("gaid")
        res = r.finish()
    finally:
        r.kill()

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    assert res.grep(r"\] W %s restarted \(pid \d+, now pid %d\)" % (idfa.addr, idfa.pid)), res
    check_store(Servers(mc, idfa=idfa), decode, models)


def test_no_room_for_digests_loads_one_at_a_time(mc, decode, tmp_path):
    """TMPDIR is a file: no digest directory can be made. The run says so
    and loads one file at a time, which needs none, so the newest values
    still win (measured before: exit 1, nothing loaded)."""
    paths = files_with_repeats(tmp_path, 20000, (1.0, 0.5))
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    not_a_dir = tmp_path / "tmpfile"
    not_a_dir.write_text("")
    res = run(mc.opts() + ["-w", "4", "--pattern", str(tmp_path / "*.tsv.gz")],
              env=dict(os.environ, TMPDIR=str(not_a_dir)))
    assert res.rc == 0, res
    assert len(res.renamed()) == len(paths), res
    assert res.grep(r"\] W Cannot make a directory for the key digests in %s .*loading one "
                    r"file at a time" % not_a_dir), res
    assert len(set(res.load_pids())) == len(paths)
    check_store(mc, decode, models)


def test_full_digest_disk_has_newer_files_resend_everything(mc, decode, tmp_path):
    """TMPDIR on a 4 KiB tmpfs: no digest fits. Each load says so and goes
    on; the files that loaded beside an older one re-send all their records,
    so the newest values win and every file is renamed (measured before:
    every file failed, older values over newer ones, on every run)."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        paths = files_with_repeats(tmp_path, 20000, (1.0, 0.5, 0.1))
        models = [model.model_content(gzip.open(p).read()) for p in paths]
        stats = tmp_path / "stats.json"
        res = run(mc.opts() + ["-w", "4", "--stats-json", str(stats),
                               "--pattern", str(tmp_path / "*.tsv.gz")],
                  env=dict(os.environ, TMPDIR=str(small)))
        left = os.listdir(small)
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert res.rc == 0, res
    assert len(res.renamed()) == len(paths), res
    assert res.grep(r"\] W .*: cannot write its key digest \(.*No space left"), res
    check_store(mc, decode, models)
    assert left == []
