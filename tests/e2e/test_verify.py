"""--verify FRACTION: after a file's records were all acknowledged, a random
share of them is read back and compared. A missing record fails the file;
a record found with other bytes is counted apart and does not. Checked
against real memcached: one that evicts (memcached -m 8, measured before:
300,000 lines, exit 0, renamed, 87,376 keys readable) and ordinary ones."""

import json
import re

import pytest

import subprocess

import helpers
from fakemc import FakeMemcached
from helpers import dot, run, write_gz

NAME = "20170929000000.tsv.gz"


def key_lines(dev_type, tag, n, apps="1,2,3"):
    keys = [("%s:%s-%d" % (dev_type, tag, i)).encode() for i in range(n)]
    lines = ["%s\t%s-%d\t1.5\t2.5\t%s" % (dev_type, tag, i, apps) for i in range(n)]
    return lines, keys


def verified(res, path):
    """The counts of the Verified log line of path."""
    rx = re.compile(r"\] I Verified " + re.escape(str(path)) +
                    r": sampled (\d+), equal (\d+), missing (\d+), different (\d+), "
                    r"unverified (\d+); missing share ([0-9.]+)% "
                    r"\(95% confidence ([0-9.]+)% to ([0-9.]+)%\)")
    m = [rx.search(line) for line in res.lines]
    m = [x for x in m if x]
    assert len(m) == 1, res
    g = m[0].groups()
    return dict(zip(["sampled", "equal", "missing", "different", "unverified"],
                    map(int, g[:5])), share=float(g[5]), low=float(g[6]), high=float(g[7]))


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
def test_every_record_read_back_from_a_good_server(mc, tmp_path, mode):
    lines, keys = key_lines("idfa", "all", 3000)
    path = write_gz(tmp_path / NAME, lines)
    stats = tmp_path / "stats.json"

    res = run(mc.opts() + mode + ["--verify", "1", "--stats-json", stats, str(path)])

    assert res.rc == 0, res
    assert res.renamed() == [str(path)]
    v = verified(res, path)
    assert (v["sampled"], v["equal"], v["missing"], v["different"], v["unverified"]) == \
        (3000, 3000, 0, 0, 0), res
    [f] = json.loads(stats.read_text())["files"]
    assert f["verify"]["sampled"] == 3000 and f["verify"]["missing"] == 0
    assert f["verify"]["missing_low"] == 0.0 and 0 < f["verify"]["missing_high"] < 0.002


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
def test_evicted_records_are_found_missing_and_fail_the_file(mc, tmp_path, own_server, mode):
    start, _ = own_server
    small = start(["-m", "8"])
    n = 15000  # about 900 bytes each: twice what fits
    lines, keys = key_lines("idfa", "evict", n, apps=",".join(str(a) for a in range(1000, 1450)))
    path = write_gz(tmp_path / NAME, lines)
    stats = tmp_path / "stats.json"

    res = run(mc.opts(idfa=small.addr) + mode + ["--verify", "1", "--max-error-rate", "1",
                                                 "--stats-json", stats, str(path)])

    readable = len(small.get_many(keys))
    assert readable < n, "the test needs a server that evicts"
    assert res.rc == 1, res
    assert res.renamed() == [], res
    assert path.exists() and not dot(path).exists()
    v = verified(res, path)
    processed = res.finished(path)["processed"]
    assert v["sampled"] == processed
    assert v["missing"] == processed - readable, (v, processed, readable)
    assert v["equal"] == readable and v["different"] == 0
    assert res.grep(r"\] E %s failed: %d of %d records read back are missing; not renamed"
                    % (re.escape(str(path)), v["missing"], v["sampled"])), res
    [f] = json.loads(stats.read_text())["files"]
    assert f["status"] == "failed"
    share = v["missing"] / v["sampled"]
    assert f["verify"]["missing_low"] <= share <= f["verify"]["missing_high"]


def test_a_fraction_reads_back_a_random_share(mc, tmp_path):
    """--verify 0.1 of 20,000 records: about 2,000, each key with the same
    chance (the bounds are 10 standard deviations wide: never flaky)."""
    lines, keys = key_lines("gaid", "share", 20000)
    path = write_gz(tmp_path / NAME, lines)

    first = run(mc.opts() + ["--verify", "0.1", str(path)])
    assert first.rc == 0, first
    v = verified(first, path)
    assert 1600 <= v["sampled"] <= 2400, v
    assert v["equal"] == v["sampled"]


def test_a_key_set_twice_in_a_file_reads_back_different_without_failing(mc, tmp_path):
    path = write_gz(tmp_path / NAME, ["adid\ttwice\t1\t2\t1,2", "adid\tonce\t1\t2\t5",
                                      "adid\ttwice\t1\t2\t3,4"])

    res = run(mc.opts() + ["--verify", "1", str(path)])

    assert res.rc == 0, res
    assert res.renamed() == [str(path)]
    v = verified(res, path)
    assert (v["sampled"], v["equal"], v["missing"], v["different"]) == (3, 2, 0, 1), res


def test_a_sample_too_large_to_keep_is_read_again_from_the_file(mc, tmp_path):
    """--verify 1 over about 25 MB of values: more than the 8 MB kept in
    memory, so the worker reads the file again; it stays small."""
    big = ",".join(str(a) for a in range(100000, 100400))  # about 1.2 KB packed
    lines, keys = key_lines("dvid", "stream", 20000, apps=big)
    path = write_gz(tmp_path / NAME, lines)

    res = run(mc.opts() + ["-w", "1", "--verify", "1", str(path)])

    assert res.rc == 0, res
    v = verified(res, path)
    assert (v["sampled"], v["equal"], v["missing"]) == (20000, 20000, 0), res
    # ASan's shadow memory and quarantine are not the loader's own.
    limit = 128 if "asan" in helpers.MEMC_LOAD else 32
    assert res.maxrss_kib < limit * 1024, "peak RSS %d KiB" % res.maxrss_kib


def test_verify_zero_reads_nothing_back(mc, tmp_path):
    path = write_gz(tmp_path / NAME, key_lines("idfa", "none", 100)[0])
    res = run(mc.opts() + ["--verify", "0", str(path)])
    assert res.rc == 0, res
    assert not res.grep(r"\] I Verified "), res


def test_the_default_reads_a_thousandth_back(mc, tmp_path):
    """Without --verify, 0.001 of the records are read back (helpers.Run
    turns that off for the other tests, so it is run directly here)."""
    path = write_gz(tmp_path / NAME, key_lines("gaid", "default", 50000)[0])
    proc = subprocess.run([helpers.MEMC_LOAD] + mc.opts() + [str(path)], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=helpers.RUN_TIMEOUT)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    m = re.search(r"\] I Verified \S+: sampled (\d+), equal (\d+), missing 0,", err)
    assert m, err
    # 50 expected; the bounds are 6 standard deviations wide.
    assert 10 <= int(m.group(1)) <= 95 and m.group(1) == m.group(2), err


@pytest.mark.parametrize("meta", ["meta", "error"], ids=["meta", "text"])
def test_the_read_back_is_a_workers_one_connection_to_a_server(mc, tmp_path, meta):
    """The sets' connection is closed before the read-back opens its own, so
    a worker holds one connection per server, as README says (measured
    before: two during the read-back)."""
    server = FakeMemcached(lambda conn, seq, key: "STORED", meta=meta)
    lines, _ = key_lines("idfa", "conn", 2000)
    path = write_gz(tmp_path / NAME, lines)
    try:
        res = run(mc.opts(idfa=server.addr) + ["-w", "1", "--verify", "1", str(path)])
    finally:
        server.close()
    assert res.rc == 0, res
    assert verified(res, path)["equal"] == 2000, res
    assert server.connections == 2 and server.most_open == 1, (server.most_open, res)


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
@pytest.mark.parametrize("keep", ["kept", "streamed"])
def test_records_refused_as_too_large_are_not_read_back(mc, small_server, tmp_path, mode, keep):
    """A record the server refused as too large was never acknowledged, so
    it is not in the sample: it is a record error, not a missing record
    (measured before: --verify 1 failed such a file every time, the default
    0.001 now and then). A key stored by another line of the file still
    reads back. Also when the sample is read again from the file."""
    big = ",".join(["4000000000"] * 400)  # ~2 KB packed: over the 1 KiB item limit
    lines = []
    n = 20000 if keep == "streamed" else 300
    filler = ",".join(str(a) for a in range(100000, 100090))  # about 450 bytes packed
    for i in range(n):
        lines.append("idfa\tok-%d\t1\t2\t%s" % (i, filler))
        if i % 50 == 7:
            lines.append("idfa\tbig-%d\t1\t2\t%s" % (i, big))
    lines.append("idfa\tok-3\t1\t2\t" + big)  # refused; its earlier line stays stored
    path = write_gz(tmp_path / NAME, lines)
    refused = n // 50 + 1

    res = run(mc.opts(idfa=small_server.addr) + mode + ["--verify", "1", "--max-error-rate", "1",
                                                        "--timeout", "5000", str(path)],
              timeout=180)

    f = res.finished(path)
    assert (f["processed"], f["kinds"]) == (n, {"too_large": refused}), res
    v = verified(res, path)
    # ok-3 is left out: memcached dropped its stored value when its last set was refused.
    assert (v["sampled"], v["equal"], v["missing"], v["unverified"]) == (n - 1, n - 1, 0, 0), res
    assert res.rc == 0, res
    assert res.renamed() == [str(path)], res
