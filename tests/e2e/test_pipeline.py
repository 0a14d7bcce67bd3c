"""Pipelined delivery against servers that misbehave on cue (fakemc.py):
counts stay exact, lost connections are redialled and the unacknowledged
records sent again; each test runs against a server that speaks the meta
protocol (quiet ms in batches) and one that does not (plain set)."""

import pytest

from fakemc import FakeMemcached
from helpers import dot, run, write_gz

NAME = "20170929000000.tsv.gz"


def idfa_lines(n):
    return ["idfa\t%032x\t1.5\t2.5\t%d,%d" % (i, i, i + 1) for i in range(n)]


# What the fake server does with "mn": speak meta, or answer ERROR as a
# memcached before 1.6 does.
META = pytest.mark.parametrize("meta", ["meta", "error"])


def load(mc, tmp_path, server, n, *extra):
    path = write_gz(tmp_path / NAME, idfa_lines(n))
    res = run(mc.opts(idfa=server.addr) + ["--timeout", "500", "-a", "3"] + list(extra) + [str(path)])
    return path, res


@META
def test_dropped_connection_is_redialled_and_nothing_is_lost(mc, tmp_path, meta):
    # The first connection dies after 700 replies, with more sets in flight.
    server = FakeMemcached(lambda conn, seq, key: "DROP" if conn == 1 and seq == 701 else "STORED",
                           meta=meta)
    try:
        path, res = load(mc, tmp_path, server, 3000, "-w", "1")
    finally:
        server.close()
    assert res.rc == 0, res
    assert server.connections == 2, res
    # "connection closed" or "reset", as the timing of the drop has it
    assert res.grep(r"\] W 127\.0\.0\.1:\d+: .* \(attempt 1 of 3\); retrying \d+ records"), res
    f = res.finished(path)
    assert (f["processed"], f["errors"]) == (3000, 0), res
    assert len(server.store) == 3000
    assert set(server.sets_as) == ({"ms q"} if meta == "meta" else {"set"}), server.sets_as
    assert dot(path).exists()


@META
def test_rejections_are_counted_exactly(mc, tmp_path, meta):
    def policy(conn, seq, key):
        # By key: in the meta protocol a batch with a SERVER_ERROR is sent again.
        i = int(key.split(b":")[1], 16)
        return "SERVER_ERROR out of memory storing object" if i % 7 == 0 else "STORED"

    server = FakeMemcached(policy, meta=meta)
    try:
        path, res = load(mc, tmp_path, server, 2000, "-w", "1", "--max-error-rate", "1", "-v")
    finally:
        server.close()
    rejected = len(range(0, 2000, 7))
    f = res.finished(path)
    assert f["processed"] == 2000 - rejected == len(server.store), res
    if meta == "error":  # each record answered once
        assert server.replies["STORED"] == 2000 - rejected
    assert f["kinds"] == {"rejected": rejected}, res
    # The first five keys are warnings, the rest debug lines (-v), then a count.
    assert len(res.grep(r"\] W 127\.0\.0\.1:\d+ rejected idfa:[0-9a-f]{32}: SERVER_ERROR")) == 5
    assert len(res.grep(r"\] [WD] 127\.0\.0\.1:\d+ rejected idfa:[0-9a-f]{32}: SERVER_ERROR")) == \
        rejected
    assert res.grep(r"\] W 127\.0\.0\.1:\d+ rejected %d records of this file in all" % rejected)
    # A rejected record was not stored: the file must load again next run.
    assert res.rc == 1 and path.exists() and not dot(path).exists(), res


@META
def test_garbage_replies_fail_the_records_after_the_attempts(mc, tmp_path, meta):
    server = FakeMemcached(lambda conn, seq, key: "HELLO THERE", meta=meta)
    try:
        path, res = load(mc, tmp_path, server, 500, "-w", "1", "-a", "2")
    finally:
        server.close()
    assert res.rc == 1, res
    assert server.connections == 2, res
    f = res.finished(path)
    assert (f["processed"], f["kinds"]) == (0, {"undelivered": 500}), res
    assert res.grep(r"giving up after 2 attempts: unexpected reply 'HELLO THERE'"), res
    assert path.exists()


@META
def test_every_record_counted_once_across_many_drops(mc, tmp_path, meta):
    # Each connection dies after a different number of replies.
    server = FakeMemcached(lambda conn, seq, key: "DROP" if conn <= 4 and seq == 300 * conn else "STORED",
                           meta=meta)
    try:
        path, res = load(mc, tmp_path, server, 5000, "-w", "1", "-a", "2")
    finally:
        server.close()
    f = res.finished(path)
    assert f["processed"] + f["errors"] == 5000, res
    assert f["processed"] == len(server.store) == 5000, res
    assert res.rc == 0, res
