"""--metrics: the Prometheus text file of a run, parsed by prometheus_client
and checked against --stats-json of the same run; every metric the man
page's METRICS section lists, and no other; the names' conventions; the
file written after a failed run too, but not after a usage error; replaced
whole, with no temporary file left; an unwritable path an error, exit 1."""

import datetime
import fcntl
import json
import math
import os
import re

import pytest

from helpers import ROOT, Run, dot, free_port, kill_memcached, memcached_on, run, write_gz
from test_stats_json import KINDS, NAMES, STATUSES, good, unwritable, write_mix

prometheus = pytest.importorskip(
    "prometheus_client.parser", reason="python3-prometheus-client is installed by make deps")

PREFIX = "memc_load_last_run_"


# ---- the file, as documented ----

def metrics_section():
    with open(os.path.join(ROOT, "man", "memc_load.1")) as f:
        text = f.read()
    return text.split("\n.Sh METRICS\n", 1)[1].split("\n.Sh ", 1)[0]


def documented():
    """{name: type} of the .It Cm NAME Pq TYPE items of METRICS."""
    found = re.findall(r"^\.It Cm (memc_load_\w+) Pq (\w+)$", metrics_section(), re.M)
    names = [n for n, _ in found]
    assert len(names) == len(set(names)), "a metric documented twice"
    return dict(found)


def parse(path):
    """{name: {labels as a sorted tuple of pairs: value}} and {name: type},
    after checking the conventions on every family and sample."""
    text = path.read_text()
    samples, types = {}, {}
    for fam in prometheus.text_string_to_metric_families(text):
        # A family without a TYPE line is "unknown", one without HELP has
        # no documentation.
        assert fam.type in ("gauge", "counter"), (fam.name, fam.type)
        assert fam.documentation, fam.name
        for s in fam.samples:
            assert s.name.startswith("memc_load_"), s.name
            if fam.type == "counter":
                assert s.name.endswith("_total"), s.name
            else:
                assert not s.name.endswith("_total"), s.name
            assert re.search(r"^# HELP %s \S" % s.name, text, re.M), s.name
            assert re.search(r"^# TYPE %s %s$" % (s.name, fam.type), text, re.M), s.name
            key = tuple(sorted(s.labels.items()))
            assert key not in samples.setdefault(s.name, {}), ("twice", s.name, key)
            samples[s.name][key] = s.value
            types[s.name] = fam.type
    assert text.endswith("\n")
    return samples, types


def value(samples, name, **labels):
    return samples[PREFIX + name][tuple(sorted(labels.items()))]


def no_file_names(samples, paths):
    for name, series in samples.items():
        for key in series:
            for _, v in key:
                for p in paths:
                    assert str(p) not in v and p.name not in v, (name, key)


def check_against_stats(samples, report, res):
    """Every figure is the one --stats-json gives for the same run."""
    t = report["totals"]
    assert value(samples, "exit_status") == report["exit_status"] == res.rc
    assert value(samples, "signal") == (report["interrupted_by_signal"] or 0)
    assert value(samples, "dry_run") == (1 if report["dry_run"] else 0)
    assert value(samples, "duration_seconds") == report["seconds"]
    started = datetime.datetime.fromisoformat(report["started"]).timestamp()
    start, end = value(samples, "start_timestamp_seconds"), value(samples, "end_timestamp_seconds")
    assert math.floor(start) == started, (start, report["started"])
    assert start <= end
    # Two clocks, real time and monotonic: not to the microsecond.
    assert value(samples, "duration_seconds") <= end - start + 1
    for s in STATUSES:
        assert value(samples, "files", status=s) == t[s], s
    assert sum(samples[PREFIX + "files"].values()) == t["files"]
    assert value(samples, "files_high_error_rate") == t["high_error_rate"]
    lost = sum(any(s["lost_after_rename"] for s in f["servers"]) for f in report["files"])
    assert value(samples, "files_lost_after_rename") == lost
    assert value(samples, "lines") == t["lines"]
    assert value(samples, "blank_lines") == t["blank"]
    assert value(samples, "records_processed") == t["processed"]
    assert {k: value(samples, "record_errors", kind=k) for k in KINDS} == t["errors_by_kind"]
    assert sum(samples[PREFIX + "record_errors"].values()) == t["errors"]
    assert value(samples, "error_ratio") == t["error_rate"]
    assert value(samples, "apps_dropped") == t["apps_dropped"]
    assert value(samples, "coords_dropped") == t["coords_dropped"]
    assert value(samples, "read_bytes") == t["bytes"]
    assert value(samples, "server_restarts") == t["server_restarts"]
    assert value(samples, "evicted_items") == t["evictions"]
    v = t["verify"] or dict.fromkeys(["sampled", "equal", "missing", "different", "unverified"], 0)
    assert value(samples, "verify_sampled_records") == v["sampled"]
    for r in ["equal", "missing", "different", "unverified"]:
        assert value(samples, "verify_records", result=r) == v[r], r


def test_man_page_documents_every_metric():
    doc = documented()
    assert len(doc) >= 20 and set(doc.values()) == {"gauge"}
    section = metrics_section()
    for word in KINDS + STATUSES + ["equal", "missing", "different", "unverified"]:
        assert re.search(r"^\.(?:It )?Li %s\b" % word, section, re.M), "%s not documented" % word
    assert "/var/lib/prometheus/node-exporter" in section


# ---- the runs ----

def test_metrics_agree_with_stats_json(mc, small_server, tmp_path):
    """The mixed run of test_stats_json.py (renamed, failed, held back, bad
    lines, too large, undelivered), every record read back."""
    paths = write_mix(tmp_path / "in")
    sizes = [p.stat().st_size for p in paths]
    out = tmp_path / "out"
    out.mkdir()
    metrics, stats = out / "memc_load.prom", out / "stats.json"
    metrics.write_text("# an older file\n")
    old_inode = metrics.stat().st_ino
    dvid = "127.0.0.1:%d" % free_port()

    res = run(mc.opts(idfa=small_server.addr, dvid=dvid)
              + ["-w", "2", "-a", "1", "--timeout", "2000", "--verify", "1",
                 "--metrics", metrics, "--stats-json", stats] + [str(p) for p in paths])

    assert res.rc == 1, res
    # Replaced whole by a rename, with nothing left beside it.
    assert sorted(os.listdir(out)) == ["memc_load.prom", "stats.json"]
    assert metrics.stat().st_ino != old_inode
    samples, types = parse(metrics)
    assert types == documented()
    no_file_names(samples, paths)
    report = json.loads(stats.read_text())
    check_against_stats(samples, report, res)
    # The figures themselves, not only their agreement.
    assert [value(samples, "files", status=s) for s in STATUSES] == [2, 1, 2, 0, 0]
    assert value(samples, "record_errors", kind="undelivered") == 1
    assert value(samples, "record_errors", kind="too_large") == 1
    assert value(samples, "read_bytes") == sum(sizes)
    assert value(samples, "verify_sampled_records") > 0
    assert value(samples, "verify_records", result="equal") == \
        value(samples, "verify_sampled_records")


def test_a_run_that_fails(tmp_path):
    """Every server dead: the records undelivered, the file failed, exit 1."""
    path = write_gz(tmp_path / NAMES[0], good("idfa", "dead", 7))
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"
    dead = "127.0.0.1:%d" % free_port()
    servers = []
    for t in ["idfa", "gaid", "adid", "dvid"]:
        servers += ["--" + t, dead]

    res = run(servers + ["-a", "1", "--metrics", metrics, "--stats-json", stats, str(path)])

    assert res.rc == 1, res
    samples, _ = parse(metrics)
    check_against_stats(samples, json.loads(stats.read_text()), res)
    assert value(samples, "exit_status") == 1
    assert value(samples, "files", status="failed") == 1
    assert value(samples, "records_processed") == 0
    assert value(samples, "record_errors", kind="undelivered") == 7
    assert path.exists() and not dot(path).exists()


def test_a_dry_run(tmp_path):
    path = write_gz(tmp_path / NAMES[0], good("gaid", "dry", 4) + ["bad line"])
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"

    res = run(["--dry", "--max-error-rate", "1", "--metrics", metrics, "--stats-json", stats,
               str(path)])

    assert res.rc == 0, res
    samples, _ = parse(metrics)
    check_against_stats(samples, json.loads(stats.read_text()), res)
    assert value(samples, "dry_run") == 1
    assert value(samples, "files", status="loaded") == 1
    assert value(samples, "record_errors", kind="fields") == 1


def test_a_skipped_input_is_in_the_exit_status_of_both_reports(mc, tmp_path):
    """A 255-byte name is left out up front (exit 1): the reports say 1 too."""
    first = write_gz(tmp_path / NAMES[0], good("idfa", "first", 3))
    write_gz(tmp_path / ("20170101000000" + "x" * (255 - 14 - 7) + ".tsv.gz"), good("gaid", "l", 1))
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"

    res = run(mc.opts() + ["--metrics", metrics, "--stats-json", stats,
                           "-p", str(tmp_path / "2*.tsv.gz")])

    assert res.rc == 1, res
    assert dot(first).exists()
    samples, _ = parse(metrics)
    check_against_stats(samples, json.loads(stats.read_text()), res)
    assert value(samples, "files", status="renamed") == 1


def test_a_server_restarted_after_a_rename(mc, tmp_path, own_server):
    """test_faults.py's restart between two files, with the renamed file
    removed before the run can send its records again: they stay lost, and
    the metrics count it as --stats-json marks it."""
    start, started = own_server
    idfa = start()
    first = write_gz(tmp_path / NAMES[0], good("idfa", "first", 10))
    middle = write_gz(tmp_path / NAMES[1], good("gaid", "middle", 10))
    last = write_gz(tmp_path / NAMES[2], good("idfa", "last", 10))
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"
    mc.stop_server("gaid")  # the middle file waits on it while idfa restarts
    r = Run(mc.opts(idfa=idfa.addr) + ["-w", "1", "--timeout", "30000", "--metrics", metrics,
                                       "--stats-json", stats, str(first), str(middle), str(last)])
    try:
        r.wait_for(r"\] I Renamed %s " % re.escape(str(first)))
        r.wait_for(r"\] I Started %s " % re.escape(str(middle)))
        dot(first).unlink()
        kill_memcached(idfa)
        started.remove(idfa.pid)
        started.append(memcached_on(idfa.port).pid)
    finally:
        mc.resume_server("gaid")
    res = r.finish()

    assert res.rc == 1, res
    assert res.grep(r"\] E %s: re-sending its records failed" % re.escape(str(first))), res
    samples, _ = parse(metrics)
    check_against_stats(samples, json.loads(stats.read_text()), res)
    assert value(samples, "files_lost_after_rename") == 1
    assert value(samples, "files", status="renamed") == 3


def test_a_run_that_finds_the_lock_held_leaves_both_reports(mc, tmp_path):
    """Nothing loaded, exit 75: the reports are the lock holder's to write,
    so they stay as they are, and the log says why (measured before: the
    metrics were replaced with exit status 75, every count 0 and a fresh end
    time, so a run that hung for hours never looked stale)."""
    path = write_gz(tmp_path / NAMES[0], good("idfa", "locked", 2))
    lock = tmp_path / "held.lock"
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"
    metrics.write_text("the holder's metrics\n")
    stats.write_text("the holder's report\n")
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        res = run(mc.opts() + ["--lock", lock, "--metrics", metrics, "--stats-json", stats,
                               str(path)])

    assert res.rc == 75, res
    assert metrics.read_text() == "the holder's metrics\n"
    assert stats.read_text() == "the holder's report\n"
    assert res.grep(r"\] I Not writing --metrics or --stats-json: the run that holds the lock "
                    r"writes them$"), res


def test_written_when_there_is_no_input(tmp_path):
    """No new file is a normal run: exit 0, no file counted."""
    metrics, stats = tmp_path / "m.prom", tmp_path / "s.json"

    res = run(["--metrics", metrics, "--stats-json", stats, "-p", str(tmp_path / "*.tsv.gz")])

    assert res.rc == 0, res
    samples, _ = parse(metrics)
    assert value(samples, "exit_status") == 0
    assert sum(samples[PREFIX + "files"].values()) == 0
    report = json.loads(stats.read_text())
    assert report["exit_status"] == 0 and report["files"] == []


@pytest.mark.parametrize("args", [["--workers", "0"], ["--syslog", "-l", "x.log"], ["-t"]],
                         ids=["usage-error", "syslog-and-log", "self-test"])
def test_not_written_after_a_usage_error_or_the_self_test(tmp_path, args):
    metrics = tmp_path / "m.prom"
    metrics.write_text("untouched\n")

    res = run(args + ["--metrics", metrics, str(tmp_path / NAMES[0])], cwd=str(tmp_path))

    assert res.rc == (0 if args == ["-t"] else 2), res
    assert metrics.read_text() == "untouched\n"
    assert sorted(os.listdir(tmp_path)) == ["m.prom"]


@pytest.mark.parametrize("target", ["missing_dir", "a_directory"])
def test_metrics_that_cannot_be_written(mc, tmp_path, target):
    path = write_gz(tmp_path / NAMES[0], good("idfa", "w", 5))
    out = tmp_path / "out"
    out.mkdir()
    metrics, reason = unwritable(out, "m.prom", target)
    stats = tmp_path / "stats.json"

    res = run(mc.opts() + ["--metrics", metrics, "--stats-json", stats, str(path)])

    # The load itself went well, and --stats-json says so: only the
    # metrics failed, which makes the exit status 1.
    assert res.rc == 1, res
    assert dot(path).exists()
    want = r"\] E Cannot write metrics to %s: %s$" % (re.escape(str(metrics)), reason)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert os.listdir(out) == (["m.prom"] if target == "a_directory" else [])
    assert json.loads(stats.read_text())["exit_status"] == 0
