"""Hostile and odd input: lines of 10 MiB, NUL bytes, CRLF, invalid UTF-8,
too many fields, app ids above 2^32-1, NaN / inf / 1e999 coordinates,
dev_ids with spaces, CR, LF or other control bytes, keys over 250 bytes,
attempts to smuggle a memcached command in a dev_id.

Never a crash, never a malformed command on the wire (StrictMemcached
records every byte sequence that is not exactly `set <key> 0 0 <len>\\r\\n
<len bytes>\\r\\n` with a valid key), and every line counted as the line rules
say (model.py, written from the rules independently of src/line/record.c)."""

import gzip
import socket

import pytest

import model
from checks import check_finished, check_store
from fakemc import StrictMemcached
from helpers import TYPES, dot, run

NAME = "20170929000000.tsv.gz"
TEN_MIB = 10 * 1024 * 1024


def hostile_lines():
    """(lines, last line without its newline). Each valid line has a key of
    its own. Lines are bytes; a b"\\n" inside one splits it, on purpose."""
    lines = [
        # 10 MiB lines: too_long, whatever they hold
        b"idfa\thuge-apps\t1\t2\t" + b"1," * (TEN_MIB // 2),
        b"gaid\t" + b"x" * TEN_MIB + b"\t1\t2\t3",
        b"\x00" * TEN_MIB,
        b"adid\thuge-crlf\t1\t2\t" + b"7" * TEN_MIB + b"\r",
        b"dvid\tafter-huge\t1\t2\t3",  # a short line right after them is intact
        # NUL bytes
        b"idfa\tnul\x00id\t1\t2\t3",
        b"\x00\x00\x00\x00",
        b"idfa\x00\tnul-type\t1\t2\t3",
        b"\x00idfa\tnul-type2\t1\t2\t3",
        b"gaid\tnul-apps\t1\t2\t1,\x00,2,\x003",
        b"adid\tnul-coords\t1\x00\t\x002\t3",
        b"\t\x00\t\t\t",
        # CRLF and stray CRs
        b"dvid\tcrlf-1\t1\t2\t3\r",
        b"dvid\tcrlf-2\t1\t2\t3\r\r",
        b"\r",
        b"\r\r",
        b"dvid\tcr\rin-id\t1\t2\t3",
        b"dvid\tcr-in-apps\t1\t2\t3\r4,5",
        b"dvid\tcr-in-coords\t1\r\t\r2\t6",
        # invalid UTF-8: allowed in a key, dropped as an app or coordinate
        b"idfa\t\xc3\x28\xa0\xa1\xff\xfe\xed\xa0\x80-bad-utf8\t1\t2\t3",
        b"gaid\t\xf0\x28\x8c\xbc-overlong-\xc0\xaf\t1\t2\t3",
        b"gaid\t" + bytes(range(0x80, 0x100)) + b"\t1\t2\t3",
        b"id\xfffa\tu8-type\t1\t2\t3",
        b"adid\tu8-fields\t\xff\t\xfe\t1,\xff,2,\xc3\xa9",
        # not five fields
        b"idfa\tsix\t1\t2\t3\t4",
        b"idfa\tseven\t1\t2\t3\t4\t5",
        b"idfa\tsix-empty\t1\t2\t3\t",  # five: strip() takes the last tab, as in the original
        b"\t" * 99,  # only tabs: blank
        b"x" + b"\t" * 99,
        b"gaid\t\t1\t2\t3",  # empty dev_id
        b"idfa\tfour\t1\t2",
        b"just-one-field",
        # app ids around and far above 2^32-1
        b"idfa\tbig-apps\t1\t2\t4294967295,4294967296,18446744073709551615,"
        b"18446744073709551616,99999999999999999999999999999999,00000000004294967295,"
        b"-1,+1,1e3,0x1,4294967295 , 7",
        b"idfa\tmany-apps\t1\t2\t" + b",".join([b"4294967295"] * 80000),
        # coordinates that are not finite decimal numbers
        b"gaid\tnan-1\tNaN\tnan\t1",
        b"gaid\tnan-2\t-nan\tnan(0x1)\t1",
        b"gaid\tinf-1\tinf\t-inf\t1",
        b"gaid\tinf-2\tInfinity\t-INF\t1",
        b"gaid\tbig-1\t1e999\t-1e999\t1",
        b"gaid\tbig-2\t1e309\t-2e308\t1",
        b"gaid\tmax\t1.7976931348623157e308\t-1.7976931348623157e308\t1",
        b"gaid\thex\t0x1p1\t0X10\t1",
        b"gaid\tspaces\t 1\t1 \t1",  # kept: whitespace around a number is ignored
        b"gaid\tspaces-in\t1 2\t- 1\t1",
        b"gaid\tlong-exp\t1e00000000000000000000000000002\t-0e-99999999999999999999\t1",
        # dev_ids with spaces and control bytes
        b"adid\tsp ace\t1\t2\t3",
        b"adid\t lead\t1\t2\t3",
        b"adid\ttrail \t1\t2\t3",
        b"adid\t \t1\t2\t3",
        b"dvid\t\x1b[31mred\t1\t2\t3",
        b"dvid\tdel\x7f\t1\t2\t3",
        b"dvid\tvt\x0bff\x0c\t1\t2\t3",
    ] + [
        b"dvid\tctl-%02x-%s\t1\t2\t3" % (c, bytes([c]))
        for c in range(0x01, 0x20) if c not in (0x09, 0x0A)
    ] + [
        # a LF ends the line: "a\nb" in a dev_id makes two lines
        b"idfa\tlf-a\nb\t1\t2\t3",
        b"idfa\tlf-x\nidfa\tlf-y\t1\t2\t3",  # the second half is a valid line
        # smuggling a command through a dev_id
        b"idfa\tx 0 0 1\r\nset evil 0 0 1\r\nz\t1\t2\t3",
        b"idfa\tinj\r\nflush_all\t1\t2\t3",
        b"idfa\tinj2 noreply\t1\t2\t3",
        b"gaid\tinj3\r\nget gaid:crlf\t1\t2\t3",
        # keys at and over memcached's 250 bytes
        b"gaid\t" + b"k" * 245 + b"\t1\t2\t3",
        b"gaid\t" + b"l" * 246 + b"\t1\t2\t3",
        b"dvid\t" + b"\xff" * 245 + b"\t1\t2\t3",
        b"dvid\t" + b"\xfe" * 246 + b"\t1\t2\t3",
        b"adid\t" + b"m" * 10000 + b"\t1\t2\t3",
        # printable punctuation is fine in a key
        b"idfa\t%00:/?#[]@!$&'()*+,;=\"<>\\^`{|}~\t1\t2\t3",
        # blank lines
        b"",
        b" \t \r",
        b"\t\t\t\t",
    ]
    # The last line: 10 MiB, and no newline after it.
    last = b"adid\tlast-huge\t1\t2\t" + b"9" * TEN_MIB
    return lines, last


@pytest.fixture(scope="module")
def hostile_data():
    lines, last = hostile_lines()
    data = b"\n".join(lines) + b"\n" + last
    m = model.model_content(data)
    assert m.lines == len(lines) + 1 + sum(line.count(b"\n") for line in lines)
    kinds = {k for k, v in m.errors.items() if v}
    assert kinds == {"fields", "dev_type", "dev_id", "key", "too_long"}, kinds
    return gzip.compress(data, 1), m


def by_type(m):
    out = {t: {} for t in TYPES}
    for rec in m.records:
        out[rec.dev_type][rec.key] = rec
    return out


@pytest.mark.parametrize("mode, meta", [(["-w", "1"], True), (["-w", "1"], False),
                                        (["--serial"], False)],
                         ids=["pipelined-meta", "pipelined-text", "serial"])
def test_nothing_malformed_reaches_the_wire(tmp_path, hostile_data, decode, mode, meta):
    """Servers that speak meta get ms and mn (--protocol auto), the others
    plain sets after one mn answered ERROR; every byte is checked."""
    blob, m = hostile_data
    path = tmp_path / NAME
    path.write_bytes(blob)
    servers = {t: StrictMemcached(meta=meta) for t in TYPES}
    try:
        opts = []
        for t in TYPES:
            opts += ["--" + t, servers[t].addr]
        res = run(opts + mode + ["--max-error-rate", "1", str(path)])
    finally:
        for s in servers.values():
            s.close()

    for t, s in servers.items():
        assert s.violations == [], "%s server saw protocol violations: %r" % (t, s.violations[:5])
    assert res.rc == 0, res
    check_finished(res, path, m)
    assert res.renamed() == [str(path)] and dot(path).exists()
    want = by_type(m)
    for t, s in servers.items():
        assert set(s.store) == set(want[t]), "%s: missing %r, unexpected %r" % (
            t, sorted(set(want[t]) - set(s.store))[:5], sorted(set(s.store) - set(want[t]))[:5])
        assert s.sets == len(want[t]), "%s: %d sets for %d records" % (t, s.sets, len(want[t]))
        if mode != ["--serial"]:  # asked once per connection of the sets
            assert (s.probes == 0) if meta else (1 <= s.probes <= s.connections), (t, s.probes)
        for key, rec in want[t].items():
            assert decode(s.store[key]) == (rec.apps, rec.lat, rec.lon), key[:60]


def test_hostile_file_against_real_memcached(mc, tmp_path, hostile_data, decode):
    blob, m = hostile_data
    path = tmp_path / NAME
    path.write_bytes(blob)

    res = run(mc.opts() + ["-w", "2", "--max-error-rate", "1", str(path)])

    assert res.rc == 0, res
    check_finished(res, path, m)
    check_store(mc, decode, [m])
    assert res.renamed() == [str(path)] and dot(path).exists()
    # Nothing smuggled in: no stray key, and flush_all did not run.
    assert mc.keys()["idfa"] >= {b"idfa:lf-y"}
    assert b"evil" not in b"".join(k for keys in mc.keys().values() for k in keys)


def test_lf_in_a_dev_id_makes_two_lines(mc, tmp_path):
    """Stated literally, not through the model: LF ends a line by definition,
    so "idfa TAB lf-x LF idfa TAB lf-y TAB 1 TAB 2 TAB 3" is the line "idfa TAB
    lf-x" (a fields error) and a valid line for idfa:lf-y; "a LF b" splits
    into two fields errors."""
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(
        b"idfa\tlf-x\nidfa\tlf-y\t1\t2\t3\n"
        b"gaid\ta\nb\t1\t2\t3\n"))

    res = run(mc.opts() + ["--max-error-rate", "1", str(path)])

    assert res.rc == 0, res
    f = res.finished(path)
    assert f is not None, res
    assert (f["lines"], f["blank"], f["processed"], f["errors"], f["kinds"]) == (
        4, 0, 1, 3, {"fields": 3}), res
    keys = mc.keys()
    assert keys["idfa"] == {b"idfa:lf-y"} and keys["gaid"] == set(), keys


def recv_all(sock):
    """Everything the peer sends until it closes."""
    got = b""
    while chunk := sock.recv(4096):
        got += chunk
    return got


def test_the_strict_server_catches_malformed_commands():
    """The guard of the tests above: what it must flag, and what it accepts."""
    bad = [
        b"set  a 0 0 1\r\nx\r\n",  # two spaces
        b"set a 0 0 1 noreply\r\nx\r\n",  # extra word
        b"set a\x01b 0 0 1\r\nx\r\n",  # control byte in the key
        b"set a\nb 0 0 1\r\nx\r\n",  # LF in the key
        b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n",  # key too long
        b"set a 1 0 1\r\nx\r\n",  # flags
        b"set a 0 0 01\r\nx\r\n",  # length with a leading zero
        b"set a 0 0 2\r\nxyz\r\n",  # data longer than announced
        b"set a 0 0 1\nx\r\n",  # bare LF ends the command
        b"flush_all\r\n",
        b"ms a 1\r\nx\r\n",  # no opaque token
        b"ms a 1 q\r\nx\r\n",
        b"ms a 1 O1 q k\r\nx\r\n",  # a flag the loader never sends
        b"ms a 1 q O1\r\nx\r\n",  # flags in another order
        b"ms a 01 O1\r\nx\r\n",
        b"ms a 1 O01\r\nx\r\n",
        b"ms  a 1 O1\r\nx\r\n",
        b"mn \r\n",
    ]
    server = StrictMemcached()
    port = int(server.addr.rsplit(":", 1)[1])
    try:
        for cmd in bad:
            before = len(server.violations)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(cmd)
                # Half-close and read to the end: the server has then judged
                # every byte of this command, so no late violation of it can
                # land in the next command's count.
                s.shutdown(socket.SHUT_WR)
                assert recv_all(s).startswith(b"ERROR\r\n"), cmd
            assert len(server.violations) > before, cmd
        before = len(server.violations)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"set ok\xff 0 0 3\r\nabc\r\nset e 0 0 0\r\n\r\n"
                      b"ms q 2 O7 q\r\nxy\r\nms l 1 O8\r\nz\r\nmn\r\nquit\r\n")
            got = recv_all(s)
    finally:
        server.close()
    assert got == b"STORED\r\nSTORED\r\nHD O8\r\nMN\r\n"
    assert len(server.violations) == before
    assert server.store == {b"ok\xff": b"abc", b"e": b"", b"q": b"xy", b"l": b"z"}
    assert server.quits == 1
