"""What the run says its servers did (evictions, restarts) is what they
did: per distinct server (one address under several device types is one
server), a file's figure the server's growth during that file, the run's
figure each server's growth over the run, never a sum over files loading at
once; one restart of one server is one.

Measured before: all four device types on one memcached -m 8, one file,
-w 1: four warnings "evicted 263289 items" and --metrics 1,053,156 where
memcached's own stats said 263,289; two files at once on four servers:
898,071 against the servers' 464,970; one restart seen by two files: 2
server_restarts; a failed file: "evictions": 0 beside its servers[] entry's
95,587."""

import json
import re
import threading

import pytest

from fakemc import FakeMemcached
from helpers import TYPES, run, write_gz

prometheus = pytest.importorskip(
    "prometheus_client.parser", reason="python3-prometheus-client parses --metrics"
)

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz"]
BIG_APPS = ",".join(str(a) for a in range(1000, 1450))  # about 900 bytes packed


def lines(tag, n, types=TYPES):
    return ["%s\t%s-%d\t1.5\t2.5\t%s" % (types[i % len(types)], tag, i, BIG_APPS)
            for i in range(n)]


def metric(path, name):
    text = open(path).read()
    for family in prometheus.text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "memc_load_last_run_" + name:
                return sample.value
    raise AssertionError("no %s in\n%s" % (name, text))


def evictions(server):
    return int(server.stats()["evictions"])


@pytest.mark.parametrize("mode", [["-w", "1"], ["--serial"]], ids=["w1", "serial"])
def test_one_server_for_every_type_is_counted_once(tmp_path, own_server, mode):
    start, _ = own_server
    s = start(["-m", "8"])
    path = write_gz(tmp_path / NAMES[0], lines("one", 16000))
    stats, metrics = tmp_path / "s.json", tmp_path / "m.prom"
    opts = sum((["--" + t, s.addr] for t in TYPES), [])

    res = run(opts + mode + ["--max-error-rate", "1", "--stats-json", stats, "--metrics", metrics,
                             str(path)], timeout=120)

    evicted = evictions(s)
    assert evicted > 0, "the test needs a server that evicts"
    warned = res.grep(r"\] W %s evicted (\d+) items during the load" % re.escape(s.addr))
    assert len(warned) == 1, res
    assert ("evicted %d items" % evicted) in warned[0], res
    [f] = json.loads(stats.read_text())["files"]
    assert f["evictions"] == evicted
    assert f["servers"] == [{"server": s.addr, "restarts": 0, "evictions": evicted,
                             "lost_after_rename": False}]
    assert json.loads(stats.read_text())["totals"]["evictions"] == evicted
    assert metric(metrics, "evicted_items") == evicted


def test_two_files_loading_at_once_count_each_eviction_once(tmp_path, own_server):
    start, _ = own_server
    servers = [start(["-m", "8"]) for _ in TYPES]
    paths = [write_gz(tmp_path / name, lines("f%d" % k, 24000)) for k, name in enumerate(NAMES)]
    stats, metrics = tmp_path / "s.json", tmp_path / "m.prom"
    opts = sum((["--" + t, s.addr] for t, s in zip(TYPES, servers)), [])

    res = run(opts + ["-w", "2", "--max-error-rate", "1", "--stats-json", stats,
                      "--metrics", metrics] + [str(p) for p in paths], timeout=120)

    real = sum(evictions(s) for s in servers)
    assert real > 0, "the test needs servers that evict"
    report = json.loads(stats.read_text())
    assert report["totals"]["evictions"] == real, res
    assert metric(metrics, "evicted_items") == real
    for f in report["files"]:
        assert f["evictions"] == sum(x["evictions"] for x in f["servers"]), f


class RestartingServer(FakeMemcached):
    """Stores every set; once each of the first two connections has stored
    HALT records it "restarts": a new pid (and start time) in its stats,
    and both connections dropped, so that the loader meets the new process
    on each file's next connection."""

    HALT = 50

    def __init__(self):
        self.barrier = threading.Barrier(2, timeout=30)
        super().__init__(self.answer, meta="meta")

    def answer(self, conn, seq, key):
        if conn <= 2 and seq == self.HALT:
            if self.barrier.wait() == 0:
                self.restart()
            self.barrier.wait()
            return "DROP"
        return "STORED"


def test_a_restart_seen_by_two_files_is_one_restart(mc, tmp_path):
    server = RestartingServer()
    paths = [write_gz(tmp_path / name, lines("r%d" % k, 300, ("idfa",)))
             for k, name in enumerate(NAMES)]
    stats, metrics = tmp_path / "s.json", tmp_path / "m.prom"
    try:
        # A long timeout: the first file's worker waits at the barrier for
        # the second's, however late that one starts.
        res = run(mc.opts(idfa=server.addr) + ["-w", "2", "--timeout", "25000",
                                               "--stats-json", stats, "--metrics", metrics]
                  + [str(p) for p in paths])
    finally:
        server.close()

    report = json.loads(stats.read_text())
    assert [f["server_restarts"] for f in report["files"]] == [1, 1], res
    assert report["totals"]["server_restarts"] == 1, res
    assert metric(metrics, "server_restarts") == 1


class RestartsOnReadBack(FakeMemcached):
    """Stores every set; at the first get of a key with PREFIX it
    "restarts": a new pid in its stats, its store emptied, the connection
    dropped, as a memcached killed and started again during the read-back."""

    def __init__(self, prefix):
        super().__init__(lambda conn, seq, key: "STORED", meta="meta")
        self.on_get = lambda conn, line: self.restart_once() if prefix in line else None

    def restart_once(self):
        if self.generation:
            return None
        self.restart()
        return "DROP"


def test_a_restart_met_by_the_read_back_is_counted_and_mended(mc, tmp_path):
    """The first file is renamed; the server restarts while the second is
    read back. The restart is counted, and both files' records are sent
    again to the new process in the same run (measured before: the second
    failed as "missing" with server_restarts 0, and the first, whose records
    were gone too, stayed renamed with nothing said)."""
    server = RestartsOnReadBack(b"idfa:b-")
    old_pid = server.pid()
    first = write_gz(tmp_path / NAMES[0], lines("a", 50, ("idfa",)))
    second = write_gz(tmp_path / NAMES[1], lines("b", 50, ("idfa",)))
    stats, metrics = tmp_path / "s.json", tmp_path / "m.prom"
    try:
        res = run(mc.opts(idfa=server.addr) + ["-w", "1", "--verify", "1", "--stats-json", stats,
                                               "--metrics", metrics, str(first), str(second)])
        with server.lock:
            held = set(server.store)
    finally:
        server.close()

    assert res.rc == 0, res
    assert res.renamed() == [str(first), str(second)], res
    report = json.loads(stats.read_text())
    a, b = report["files"]
    assert b["status"] == "renamed" and b["server_restarts"] == 1, b
    assert a["servers"] == [] and a["repair"]["resent"] == 50, a
    assert b["repair"]["resent"] == 50, b
    assert report["totals"]["server_restarts"] == 1
    assert metric(metrics, "server_restarts") == 1
    assert metric(metrics, "files_lost_after_rename") == 0
    assert res.grep(r"\] W %s restarted \(pid %d, now pid %d\): the records this run stored "
                    r"there are sent again" % (re.escape(server.addr), old_pid, old_pid + 1)), res
    want = {("idfa:%s-%d" % (tag, i)).encode() for tag in "ab" for i in range(50)}
    assert want <= held, sorted(want - held)[:5]


def test_a_failed_file_reports_its_evictions(tmp_path, own_server):
    start, _ = own_server
    s = start(["-m", "8"])
    path = write_gz(tmp_path / NAMES[0], lines("fail", 16000, ("idfa",)) +
                    ["dvid\tnowhere\t1\t2\t3"])
    stats = tmp_path / "s.json"

    res = run(["--idfa", s.addr, "--gaid", s.addr, "--adid", s.addr,
               "--dvid", "127.0.0.1:9", "-w", "1", "-a", "1", "--timeout", "300",
               "--max-error-rate", "1", "--stats-json", stats, str(path)], timeout=120)

    assert res.rc == 1, res
    [f] = json.loads(stats.read_text())["files"]
    assert f["status"] == "failed", f
    assert f["evictions"] == evictions(s) > 0, f
    assert f["evictions"] == sum(x["evictions"] for x in f["servers"]), f
