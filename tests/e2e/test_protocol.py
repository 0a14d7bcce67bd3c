"""--protocol: memcached's meta protocol where a server speaks it, plain
set where it does not; every record counted exactly as with plain set.

Real memcached (1.6) speaks both; fakemc.py stands in for a server before
1.6 (it answers "mn" with ERROR), for a proxy that closes the connection on
"mn", and for a meta server that rejects or hangs up on cue."""

import gzip
import re

import pytest

import model
from checks import check_finished, check_store
from fakemc import FakeMemcached
from helpers import TYPES, dot, run, write_gz
from inputs import mixed_lines, random_lines

NAME = "20170929000000.tsv.gz"


def idfa_lines(n):
    return ["idfa\t%032x\t1.5\t2.5\t%d,%d" % (i, i, i + 1) for i in range(n)]


def idfa_key(i):
    return b"idfa:%032x" % i


def load(mc, tmp_path, server, n, *extra):
    path = write_gz(tmp_path / NAME, idfa_lines(n))
    res = run(mc.opts(idfa=server.addr) + ["--timeout", "500", "-a", "3", "-w", "1"]
              + list(extra) + [str(path)])
    return path, res


def protocol_lines(res, addr):
    """What -v says each connection to ADDR speaks."""
    return [m.group(1) for m in map(
        re.compile(r"\] D %s: (.*protocol.*)$" % re.escape(addr)).search, res.lines) if m]


@pytest.mark.parametrize("protocol, said", [("auto", "meta protocol"), ("meta", "meta protocol"),
                                            ("text", "text protocol (--protocol text)")])
def test_real_memcached_stores_every_record_in_either_protocol(mc, decode, tmp_path, protocol,
                                                               said):
    inputs = {
        "20170929000000.tsv.gz": mixed_lines("proto"),
        "20170929000100.tsv.gz": random_lines("proto-rand", 3000, seed=10),
    }
    models = {}
    for name, lines in inputs.items():
        path = write_gz(tmp_path / name, lines)
        models[path] = model.model_content(gzip.open(path).read())

    res = run(mc.opts() + ["-w", "2", "-v", "--max-error-rate", "1", "--protocol", protocol]
              + [str(p) for p in models])

    assert res.rc == 0, res
    check_store(mc, decode, models.values())
    for path, m in models.items():
        check_finished(res, path, m)
        assert dot(path).exists()
    # Each worker's connection to each server, one line each.
    for t in TYPES:
        assert protocol_lines(res, mc.addr(t)) == [said] * len(models), res


@pytest.mark.parametrize("meta, said, connections", [
    ("error", "text protocol (the server does not speak meta: ERROR)", 1),
    ("close", "text protocol (no meta protocol: it closed the connection on mn)", 2),
    ("mn twice", "text protocol (no meta protocol: it answered 'MN' to mn and then 'MN')", 2),
])
def test_a_server_without_meta_gets_plain_sets(mc, tmp_path, meta, said, connections):
    """memcached before 1.6 answers "mn" with ERROR: plain sets on the same
    connection. twemproxy closes the connection: plain sets on a new one,
    which is not asked again, and no attempt is spent (-a 1)."""
    server = FakeMemcached(lambda conn, seq, key: "STORED", meta=meta)
    try:
        path, res = load(mc, tmp_path, server, 3000, "-a", "1", "-v")
    finally:
        server.close()
    assert res.rc == 0, res
    assert res.finished(path)["processed"] == 3000, res
    assert len(server.store) == 3000
    assert server.sets_as == {"set": 3000}
    assert server.connections == connections
    assert protocol_lines(res, server.addr)[-1] == said, res
    assert not res.grep(r"\] [WE] "), res


def test_meta_forced_against_a_server_without_it_fails_its_records(mc, tmp_path):
    server = FakeMemcached(lambda conn, seq, key: "STORED", meta="error")
    try:
        path, res = load(mc, tmp_path, server, 500, "-a", "2", "--protocol", "meta")
    finally:
        server.close()
    assert res.rc == 1, res
    f = res.finished(path)
    assert (f["processed"], f["kinds"]) == (0, {"undelivered": 500}), res
    assert server.store == {}
    assert len(res.grep(r"\] E %s: the server does not speak the meta protocol \(ERROR\), and "
                        r"--protocol meta is given$" % re.escape(server.addr))) == 2, res
    assert res.grep(r"\] E %s: giving up after 2 attempts: the server does not speak the meta"
                    % re.escape(server.addr)), res
    assert path.exists() and not dot(path).exists()


def test_a_server_that_says_more_than_mn_is_named_for_what_it_said(mc, tmp_path):
    """Bytes after the MN: the message says so (measured before: "it
    answered 'MN' to mn", which reads as if MN were wrong)."""
    server = FakeMemcached(lambda conn, seq, key: "STORED", meta="mn twice")
    try:
        path, res = load(mc, tmp_path, server, 10, "-a", "1", "--protocol", "meta")
    finally:
        server.close()
    assert res.rc == 1, res
    assert res.grep(r"\] E %s: the server does not speak the meta protocol \(it answered 'MN' "
                    r"to mn and then 'MN'\), and --protocol meta is given$"
                    % re.escape(server.addr)), res


def test_serial_does_not_take_protocol_meta(tmp_path):
    res = run(["--serial", "--protocol", "meta", str(tmp_path / NAME)])
    assert res.rc == 2, res
    assert "--protocol meta does not apply to --serial" in res.err, res


def rejected_policy(conn, seq, key):
    """Every seventh key, whichever connection or order it comes in."""
    return "NOT_STORED" if int(key.split(b":")[1], 16) % 7 == 0 else "STORED"


def test_meta_rejections_name_their_records(mc, tmp_path):
    """NS in a quiet batch names its record by the opaque token: each
    rejected key is logged (-v), and only those are counted rejected."""
    server = FakeMemcached(rejected_policy, meta="meta")
    try:
        path, res = load(mc, tmp_path, server, 3000, "-v", "--max-error-rate", "1")
    finally:
        server.close()
    want = {idfa_key(i) for i in range(3000) if i % 7 == 0}
    f = res.finished(path)
    assert (f["processed"], f["kinds"]) == (3000 - len(want), {"rejected": len(want)}), res
    assert len(server.store) == 3000 - len(want)
    assert server.sets_as == {"ms q": 3000}, server.sets_as
    logged = [m.group(1).encode() for m in map(re.compile(
        r"\] [WD] %s rejected (\S+): NS O\d+$" % re.escape(server.addr)).search, res.lines) if m]
    assert sorted(logged) == sorted(want), res
    assert res.rc == 1 and path.exists(), res


def test_server_error_in_a_quiet_batch_resends_it_answered(mc, tmp_path):
    """SERVER_ERROR carries no token: the batch it came in is sent again,
    each record answered, and the one refused is the one counted."""
    def policy(conn, seq, key):
        return "SERVER_ERROR out of memory storing object" if key == idfa_key(1234) else "STORED"

    server = FakeMemcached(policy, meta="meta")
    try:
        path, res = load(mc, tmp_path, server, 3000, "-v", "--max-error-rate", "1")
    finally:
        server.close()
    f = res.finished(path)
    assert (f["processed"], f["kinds"]) == (2999, {"rejected": 1}), res
    assert set(server.store) == {idfa_key(i) for i in range(3000)} - {idfa_key(1234)}
    assert server.sets_as.get("ms", 0) > 0, server.sets_as
    assert res.grep(r"\] W %s rejected %s: SERVER_ERROR out of memory" % (
        re.escape(server.addr), idfa_key(1234).decode())), res
    assert len(res.grep(r" rejected idfa:")) == 1, res


def test_server_restarted_as_an_older_version_gets_the_rest_as_plain_sets(mc, tmp_path):
    """The first connection speaks meta and dies mid-load; the server behind
    the address now answers "mn" with ERROR: what was not acknowledged is
    sent again as plain sets, every record counted once."""
    def policy(conn, seq, key):
        return "DROP" if conn == 1 and seq == 1500 else "STORED"

    server = FakeMemcached(policy, meta=lambda conn: "meta" if conn == 1 else "error")
    try:
        path, res = load(mc, tmp_path, server, 4000, "-v")
    finally:
        server.close()
    assert res.rc == 0, res
    assert res.finished(path)["processed"] == 4000, res
    assert len(server.store) == 4000
    assert server.sets_as.get("ms q", 0) >= 1499 and server.sets_as.get("set", 0) > 0
    said = protocol_lines(res, server.addr)
    assert said[0] == "meta protocol" and said[1].startswith("text protocol"), res
