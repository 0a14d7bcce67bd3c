"""Faults the other test files do not cover: a memcached killed in the middle
of a file and restarted on the same port, one that runs out of memory, a
directory or a damaged deflate stream given as a file, and, run as user
nobody because root ignores permissions, an unreadable file and a rename
that fails in a read-only directory.

Every test asserts the exit status, which files were renamed, that
processed + errors equals the parsed (non-blank) lines of each Finished
line, that every renamed file's keys are all stored (but for what a killed
memcached lost with its memory, which no client can prevent: see
test_server_killed_after_acknowledging_...), and (helpers.Run) that
no process is left behind; a run is killed and fails the test only after
attempts x timeout plus the backoff plus a generous margin."""

import gzip
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import tempfile
import time

import pytest

from helpers import (TYPES, Run, dot, kill_memcached, memcached_on, run, stop_when_holding,
                     write_gz)

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz",
         "20170929000300.tsv.gz"]


def esc(path):
    return re.escape(str(path))


def hang_bound(attempts, timeout_ms):
    """Seconds after which a run counts as hung: every attempt's timeout,
    every backoff pause (50 ms doubling, at most 1 s), and a margin."""
    pauses = sum(min(50 << i, 1000) for i in range(attempts))
    return attempts * timeout_ms / 1000.0 + pauses / 1000.0 + 30


def key_lines(dev_type, tag, n, apps="1,2,3"):
    """(lines, keys) of n valid lines with keys of their own, in file order."""
    keys = [("%s:%s-%d" % (dev_type, tag, i)).encode() for i in range(n)]
    lines = ["%s\t%s-%d\t1.5\t2.5\t%s" % (dev_type, tag, i, apps) for i in range(n)]
    return lines, keys


def check_counts(res, path):
    """The Finished line of path, checked: processed + errors == parsed lines."""
    f = res.finished(path)
    assert f is not None, "no Finished line for %s\n%r" % (path, res)
    assert f["processed"] + f["errors"] == f["lines"] - f["blank"], (path, f)
    return f


def assert_failed(res, path, reason=None):
    want = r"\] E %s failed: %s; not renamed$" % (esc(path), reason or ".+")
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert not dot(path).exists()


def assert_held_back(res, path, blocker):
    want = r"\] W Held back %s: earlier file %s was not " % (esc(path), esc(blocker))
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert path.exists() and not dot(path).exists(), "%s must not be renamed" % path


# -- a memcached killed in the middle of a file and restarted --------------


@pytest.mark.parametrize("mode", ["pipelined", "serial"])
def test_server_killed_before_it_answered_and_restarted_gets_every_record(
        mc, tmp_path, own_server, mode):
    """Deterministic: the idfa server is stopped (SIGSTOP) before the run, so
    it acknowledges nothing; it is killed with SIGKILL while the worker is in
    the middle of the file (gaid records done, idfa records in flight, the
    rest unread) and restarted on the same port. Nothing it acknowledged can
    have been lost, so the file must load completely, be renamed, and every
    key must be readable afterwards."""
    start, started = own_server
    idfa = start()
    gaid_lines, gaid_keys = key_lines("gaid", "before", 2000)
    idfa_lines, idfa_keys = key_lines("idfa", "killed", 3000)
    adid_lines, adid_keys = key_lines("adid", "after", 2000)
    path = write_gz(tmp_path / NAMES[0], gaid_lines + idfa_lines + adid_lines)

    os.kill(idfa.pid, signal.SIGSTOP)
    attempts, timeout = 10, 500
    if mode == "serial":  # its failed attempts are logged at debug level
        extra = ["--serial", "-v"]
        first_failure = r"\] D %s: attempt 1 of 10 failed" % re.escape(idfa.addr)
    else:
        extra = ["-w", "1"]
        # A new connection first asks the server who it is ("stats").
        first_failure = r"\] W %s: no reply (to stats )?within 500 ms \(attempt 1 of 10\)" % (
            re.escape(idfa.addr))
    r = Run(mc.opts(idfa=idfa.addr)
            + extra + ["-a", attempts, "--timeout", timeout, str(path)])
    restarted = None
    try:
        # The worker waited --timeout for a reply, gave up the connection
        # and is about to dial again: the server holds records, acked none.
        r.wait_for(first_failure)
        kill_memcached(idfa)
        started.remove(idfa.pid)
        restarted = memcached_on(idfa.port)
        started.append(restarted.pid)
        res = r.finish(hang_bound(attempts, timeout))
    finally:
        r.kill()

    assert res.rc == 0, res
    f = check_counts(res, path)
    assert (f["lines"], f["processed"], f["errors"]) == (7000, 7000, 0), res
    assert res.renamed() == [str(path)]
    assert dot(path).exists() and not path.exists()
    assert not res.grep(r"giving up"), res
    assert len(restarted.get_many(idfa_keys)) == len(idfa_keys)
    assert len(mc.get("gaid", gaid_keys)) == len(gaid_keys)
    assert len(mc.get("adid", adid_keys)) == len(adid_keys)


@pytest.mark.parametrize("mode", ["pipelined", "serial", "two-workers"])
def test_server_restarted_after_acknowledging_gets_the_records_again(mc, tmp_path, own_server,
                                                                     mode):
    """The realistic crash: the server has acknowledged (and stored) part of
    the file when it is killed and started again on the same port; the
    restarted memcached starts empty. The loader asks each server who it is
    (pid, start time) on every connection and after the last record, sees
    the new process, and sends the file's records for that server again in
    the same run: the file is renamed and every key is there.

    Measured before: exit 0, the file renamed, the records the old process
    had acknowledged missing (with --serial not even a log line); then the
    file failed and loaded again only next run."""
    start, started = own_server
    idfa = start()
    n = 20000
    lines, keys = key_lines("idfa", "crash", n)
    path = write_gz(tmp_path / NAMES[0], lines)
    other = write_gz(tmp_path / NAMES[1], key_lines("gaid", "other", 10)[0])
    stats = tmp_path / "stats.json"
    attempts, timeout = 10, 500
    extra = {"pipelined": ["-w", "1"], "serial": ["--serial"], "two-workers": ["-w", "2"]}[mode]
    args = mc.opts(idfa=idfa.addr) + extra + ["-a", attempts, "--timeout", timeout,
                                              "--stats-json", stats, str(path), str(other)]
    r = Run(args)
    try:
        stop_when_holding(r, idfa, 1000)
        old_pid = idfa.pid
        kill_memcached(idfa)
        started.remove(idfa.pid)
        restarted = memcached_on(idfa.port)
        started.append(restarted.pid)
        res = r.finish(hang_bound(attempts, timeout))
    finally:
        r.kill()

    assert res.rc == 0, res
    assert res.renamed() == [str(path), str(other)], res
    assert res.grep(r"\] W %s restarted during the load \(pid %d, now pid %d\)"
                    % (re.escape(idfa.addr), old_pid, restarted.pid)), res
    assert res.grep(r"\] I Re-sending %s's records" % esc(path)), res
    check_counts(res, path)
    assert len(restarted.get_many(keys)) == n
    report = json.loads(stats.read_text())
    f = {x["name"]: x for x in report["files"]}
    # The idfa records, every one, once more; nothing of the other server.
    assert f[str(path)]["repair"]["resent"] == n, f[str(path)]
    assert f[str(path)]["processed"] == n, f[str(path)]
    assert report["exit_status"] == 0


def test_server_restarted_between_files_gets_the_renamed_files_records(mc, decode, tmp_path,
                                                                       own_server):
    """A restart between two files of a run: the first file was renamed with
    its records on the old process; a later file meets the new one. The run
    sends the renamed file's records for that server again, then the later
    file's (its keys are newer), and exits 0 with every file renamed and
    every key holding the newest value.

    Measured before: exit 1, and the renamed file's records lost until a
    person renamed its .NAME back."""
    start, started = own_server
    idfa = start()
    first_lines, first_keys = key_lines("idfa", "first", 10)
    # The last file has the same keys: its values must win.
    last_lines = [ln.replace("\t1,2,3", "\t7,8,9") for ln in first_lines]
    assert last_lines != first_lines
    middle = write_gz(tmp_path / NAMES[1], key_lines("gaid", "middle", 10)[0])
    only_first = key_lines("idfa", "only-first", 5)
    first = write_gz(tmp_path / NAMES[0], first_lines + only_first[0])
    last = write_gz(tmp_path / NAMES[2], last_lines)
    stats = tmp_path / "stats.json"
    mc.stop_server("gaid")  # the middle file waits on it while idfa restarts
    r = Run(mc.opts(idfa=idfa.addr) + ["-w", "1", "--timeout", "30000", "--stats-json", stats,
                                       str(first), str(middle), str(last)])
    try:
        r.wait_for(r"\] I Renamed %s " % esc(first))
        r.wait_for(r"\] I Started %s " % esc(middle))
        old_pid = idfa.pid
        kill_memcached(idfa)
        started.remove(idfa.pid)
        restarted = memcached_on(idfa.port)
        started.append(restarted.pid)
    finally:
        mc.resume_server("gaid")
    res = r.finish()

    assert res.rc == 0, res
    assert res.renamed() == [str(first), str(middle), str(last)], res
    assert res.grep(r"\] W %s restarted \(pid %d, now pid %d\)" % (re.escape(idfa.addr),
                                                                    old_pid, restarted.pid)), res
    assert res.grep(r"\] I Re-sending %s's records" % esc(first)), res
    got = restarted.get_many(first_keys + only_first[1])
    assert len(got) == len(first_keys) + len(only_first[1])
    assert {decode(got[k][1])[0] == [7, 8, 9] for k in first_keys} == {True}
    assert {decode(got[k][1])[0] == [1, 2, 3] for k in only_first[1]} == {True}
    report = json.loads(stats.read_text())
    f = {x["name"]: x for x in report["files"]}
    assert f[str(first)]["servers"] == []  # nothing lost in the end
    assert f[str(first)]["repair"]["resent"] == 15
    assert report["exit_status"] == 0


@pytest.mark.parametrize("mode", ["pipelined", "serial"])
def test_evictions_during_a_load_are_reported(mc, tmp_path, own_server, mode):
    """memcached -m 8 evicts what it acknowledged to make room (measured:
    300,000 lines, exit 0, renamed, 87,376 keys readable, nothing said).
    The loader reads each server's evictions counter when a file starts and
    ends, and says how many items were evicted, in the log and the JSON."""
    start, _ = own_server
    idfa = start(["-m", "8"])
    n = 15000  # of about 900 bytes each: twice what fits in 8 MB
    lines, keys = key_lines("idfa", "evict", n, apps=",".join(str(a) for a in range(1000, 1450)))
    path = write_gz(tmp_path / NAMES[0], lines)
    stats = tmp_path / "stats.json"
    extra = ["-w", "1"] if mode == "pipelined" else ["--serial"]

    # --verify 0: the eviction report alone (test_verify.py reads them back).
    res = run(mc.opts(idfa=idfa.addr) + extra + ["--verify", "0", "--stats-json", stats, str(path)])

    evicted = int(idfa.stats()["evictions"])
    assert evicted > 0, "the test needs a server that evicts"
    # A server this short of memory may also refuse a record now and then
    # (out of memory, rejected): that fails the file, and is not the point.
    f = check_counts(res, path)
    assert res.rc == (0 if f["errors"] == 0 else 1), res
    assert res.grep(r"\] W %s evicted %d items during the load: records of this file may be "
                    r"among them" % (re.escape(idfa.addr), evicted)), res
    [j] = json.loads(stats.read_text())["files"]
    assert j["evictions"] == evicted
    assert j["servers"] == [{"server": idfa.addr, "restarts": 0, "evictions": evicted,
                             "lost_after_rename": False}]
    assert len(idfa.get_many(keys)) == f["processed"] - evicted


# -- a memcached that rejects writes ----------------------------------------


@pytest.mark.parametrize("mode", [["-w", "2"], ["-w", "2", "--protocol", "text"], ["--serial"]],
                         ids=["w2-meta", "w2-text", "serial"])
def test_server_out_of_memory_rejections_are_counted_exactly(mc, tmp_path, own_server, mode):
    """-M -m 2: memcached refuses new items once its 2 MB are used instead of
    evicting (SERVER_ERROR out of memory). Each refused record is a
    `rejected` error, never retried; `processed` is exactly what can be read
    back; the file is not renamed and the later one is held back."""
    start, _ = own_server
    full = start(["-M", "-m", "2"])
    big = ",".join(["4000000000"] * 600)  # about 3 KB packed
    idfa_lines, idfa_keys = key_lines("idfa", "oom", 2000, apps=big)
    gaid_lines, gaid_keys = key_lines("gaid", "fine", 500)
    first = write_gz(tmp_path / NAMES[0], idfa_lines + gaid_lines)
    later_lines, later_keys = key_lines("adid", "later", 50)
    later = write_gz(tmp_path / NAMES[1], later_lines)

    attempts, timeout = 3, 2000
    # -v: every rejected key is logged (the first few as warnings).
    res = run(mc.opts(idfa=full.addr) + mode + ["-a", attempts, "--timeout", timeout, "-v",
                                         "--max-error-rate", "1", str(first), str(later)],
              timeout=hang_bound(attempts, timeout))

    assert res.rc == 1, res
    readable = set(full.get_many(idfa_keys))
    rejected = len(idfa_keys) - len(readable)
    assert 0 < len(readable) and rejected > 0, "the server was meant to fill up"
    f = check_counts(res, first)
    assert f["kinds"] == {"rejected": rejected}, res
    assert f["processed"] == len(readable) + len(gaid_keys), res
    assert len(mc.get("gaid", gaid_keys)) == len(gaid_keys)
    logged = {m.group(1).encode() for m in map(
        re.compile(r"\] [WD] %s rejected (\S+): " % re.escape(full.addr)).search,
        res.lines) if m}
    assert logged == set(idfa_keys) - readable, "the rejected keys logged are not those missing"
    assert_failed(res, first, r"%d records rejected, 0 undelivered" % rejected)
    assert first.exists()
    assert res.renamed() == []
    check_counts(res, later)
    assert_held_back(res, later, first)
    assert len(mc.get("adid", later_keys)) == len(later_keys)


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
def test_server_at_its_connection_limit_is_retried_not_rejected(mc, tmp_path, own_server,
                                                                 mode):
    """memcached -c 30 takes 5 clients here; the sixth gets "ERROR Too many
    open connections" and is closed. That is a refused connection, to back
    off from and retry under --attempts, not a rejected record (measured
    before: counted `rejected`, logged per record, the file failed)."""
    start, _ = own_server
    small = start(["-c", "30"])
    held = []
    while True:  # take every connection the server allows
        s = socket.create_connection(("127.0.0.1", small.port))
        s.sendall(b"version\r\n")
        if not s.recv(100).startswith(b"VERSION"):
            s.close()
            break
        held.append(s)
    lines, keys = key_lines("idfa", "busy", 3000)
    path = write_gz(tmp_path / NAMES[0], lines)
    attempts, timeout = 8, 1000
    r = Run(mc.opts(idfa=small.addr) + mode + ["-a", attempts, "--timeout", timeout, "-v",
                                               str(path)])
    try:
        r.wait_for(r"\] [WD] %s: .*connection limit.*\(attempt 1 of 8\)|"
                   r"\] D %s: attempt 1 of 8 failed" % (re.escape(small.addr),
                                                        re.escape(small.addr)))
    finally:
        for s in held:
            s.close()
    res = r.finish(hang_bound(attempts, timeout))

    assert res.rc == 0, res
    assert res.renamed() == [str(path)]
    f = check_counts(res, path)
    assert (f["processed"], f["errors"]) == (3000, 0), res
    assert not res.grep(r"rejected"), res
    assert len(small.get_many(keys)) == 3000


@pytest.mark.parametrize("mode", [["-w", "1"], ["-w", "1", "--protocol", "text"], ["--serial"]],
                         ids=["w1-meta", "w1-text", "serial"])
@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["normal", "quiet"])
def test_rejections_do_not_flood_the_log(mc, tmp_path, own_server, mode, quiet):
    """A server out of memory rejects most of a file (measured: 212,630
    warning lines for one 300,000-line file, even with -q). At most a few
    rejected keys are named per file and server, then one line counts them
    all; -v names every one (the test above)."""
    start, _ = own_server
    full = start(["-M", "-m", "2"])
    big = ",".join(["4000000000"] * 600)
    lines, keys = key_lines("idfa", "flood", 3000, apps=big)
    path = write_gz(tmp_path / NAMES[0], lines)

    res = run(mc.opts(idfa=full.addr) + mode + quiet + ["--max-error-rate", "1", str(path)])

    assert res.rc == 1, res
    rejected = len(keys) - len(full.get_many(keys))
    assert rejected > 100, "the server was meant to fill up"
    named = res.grep(r"\] W %s rejected \S+: " % re.escape(full.addr))
    assert len(named) == 5, res
    assert res.grep(r"\] W %s rejected %d records of this file in all; the first 5 are named "
                    r"above, -v names every one" % (re.escape(full.addr), rejected)), res
    assert len(res.lines) < 30, "the log is flooded: %d lines" % len(res.lines)


# -- file faults not covered by test_rename.py / test_cli.py ----------------


def test_directory_given_as_file_fails_it(mc, tmp_path):
    paths = [tmp_path / n for n in NAMES[:3]]
    write_gz(paths[0], ["idfa\tdir-one\t1\t2\t3"])
    paths[1].mkdir()
    write_gz(paths[2], ["adid\tdir-three\t1\t2\t3"])

    res = run(mc.opts() + ["-w", "2"] + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert_failed(res, paths[1], r"not a regular file \(a directory\)")
    assert paths[1].is_dir()
    assert_held_back(res, paths[2], paths[1])
    for p in (paths[0], paths[2]):
        check_counts(res, p)
    f = res.finished(paths[1])
    assert f is None or f["processed"] + f["errors"] == f["lines"] - f["blank"]
    assert mc.keys()["idfa"] == {b"idfa:dir-one"} and mc.keys()["adid"] == {b"adid:dir-three"}


def test_directory_matched_by_the_pattern_fails_it(mc, tmp_path):
    write_gz(tmp_path / NAMES[0], ["idfa\tpat-one\t1\t2\t3"])
    (tmp_path / NAMES[1]).mkdir()
    res = run(mc.opts() + ["-p", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 1, res
    assert res.renamed() == [str(tmp_path / NAMES[0])]
    assert_failed(res, tmp_path / NAMES[1], r"not a regular file \(a directory\)")


def corrupt_body(data):
    """Flip every bit of 64 bytes in the middle of the deflate stream."""
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 64]) + data[mid + 64:]


def bad_header(data):
    """A gzip magic number with an unknown compression method (not 8)."""
    return data[:2] + b"\x07" + data[3:]


@pytest.mark.parametrize("damage", [corrupt_body, bad_header], ids=["corrupt_body", "bad_header"])
@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]], ids=["w2", "serial"])
def test_damaged_gzip_fails_its_file(mc, tmp_path, damage, mode):
    paths = [tmp_path / n for n in NAMES[:3]]
    write_gz(paths[0], ["idfa\tdmg-one\t1\t2\t3"])
    text = "".join("gaid\tdmg-%d-%x\t1.5\t2.5\t%d,%d\n" % (i, i * 7919, i, i * 31)
                   for i in range(20000)).encode()
    paths[1].write_bytes(damage(gzip.compress(text, 6)))
    write_gz(paths[2], ["adid\tdmg-three\t1\t2\t3"])

    res = run(mc.opts() + mode + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert_failed(res, paths[1])
    assert paths[1].exists()
    f = res.finished(paths[1])
    assert f is None or f["processed"] + f["errors"] == f["lines"] - f["blank"], res
    assert_held_back(res, paths[2], paths[1])
    check_counts(res, paths[2])
    assert mc.keys()["adid"] == {b"adid:dmg-three"}


# -- permissions: run as user nobody ----------------------------------------

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def _nobody_can_run():
    if os.geteuid() != 0:
        return "not root: cannot switch to user nobody"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    return None


needs_nobody = pytest.mark.skipif(_nobody_can_run() is not None, reason=str(_nobody_can_run()))


@pytest.fixture
def open_dir():
    """A directory user nobody can reach and write (pytest's tmp_path is
    private to root); removed after the test."""
    d = tempfile.mkdtemp(prefix="memc_load-nobody.")
    os.chmod(d, 0o777)
    try:
        yield pathlib.Path(d)
    finally:
        for root, dirs, _ in os.walk(d):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o777)
        shutil.rmtree(d, ignore_errors=True)


def readable(path):
    os.chmod(path, 0o644)
    return path


@needs_nobody
@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]], ids=["w2", "serial"])
def test_unreadable_file_fails_with_a_message_naming_it(mc, open_dir, mode):
    paths = [open_dir / n for n in NAMES[:3]]
    readable(write_gz(paths[0], ["idfa\tperm-one\t1\t2\t3"]))
    write_gz(paths[1], ["gaid\tperm-two\t1\t2\t3"])
    os.chmod(paths[1], 0)
    readable(write_gz(paths[2], ["adid\tperm-three\t1\t2\t3"]))

    res = run(mc.opts() + mode + [str(p) for p in paths], wrapper=NOBODY)

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert dot(paths[0]).exists()
    assert_failed(res, paths[1], r".*Permission denied")
    assert paths[1].exists()
    assert_held_back(res, paths[2], paths[1])
    check_counts(res, paths[0])
    check_counts(res, paths[2])
    keys = mc.keys()
    assert keys["idfa"] == {b"idfa:perm-one"} and keys["gaid"] == set(), res
    assert keys["adid"] == {b"adid:perm-three"}, "a held back file is still loaded"


@needs_nobody
@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]], ids=["w2", "serial"])
def test_rename_that_fails_holds_back_the_later_files(mc, open_dir, mode):
    """The second file is in a directory nobody may not write: it loads, but
    cannot be renamed, so it and every later file load again next run."""
    ro = open_dir / "ro"
    ro.mkdir()
    paths = [open_dir / NAMES[0], ro / NAMES[1], open_dir / NAMES[2], open_dir / NAMES[3]]
    for p, t in zip(paths, TYPES):
        readable(write_gz(p, ["%s\tren-%s-%d\t1\t2\t3" % (t, p.name[:14], i) for i in range(5)]))
    os.chmod(ro, 0o555)

    res = run(mc.opts() + mode + [str(p) for p in paths], wrapper=NOBODY)

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])]
    assert dot(paths[0]).exists() and not paths[0].exists()
    want = r"\] E Cannot rename %s: Permission denied; " % esc(paths[1])
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert paths[1].exists() and not dot(paths[1]).exists()
    for p in paths[2:]:
        assert_held_back(res, p, paths[1])
    for p in paths:
        f = check_counts(res, p)
        assert (f["processed"], f["errors"]) == (5, 0), res
    keys = mc.keys()
    assert all(len(keys[t]) == 5 for t in TYPES), "every file was loaded"
    assert len(res.grep(r"\] I Summary: files 4, .*renamed 1, held back 2,")) == 1, res
