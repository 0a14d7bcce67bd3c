"""`make bench`'s entry point (scripts/bench) on a tiny data set, one run of
each variant: the report has a row for every variant, the baseline and the
inflate commands, each figure parses as a number, the ratio and target lines
name the right variants, and the CSV files agree with it. Nothing is said
about how fast anything is: the figures are only read, never judged.

With --repeat, keys repeat across files, and the bench's check of every
key's newest value must pass; the check itself is shown to catch what it
is there for: stale values, an older file's, loaded into the fixture's
servers in the wrong order (and a value encoded otherwise is no false
alarm).

The bench starts its own memcached servers (scripts/memcached.py), four
fresh ones per run; only the check's own tests use the fixture's."""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys

from helpers import MEMC_LOAD, PYTHON, ROOT, RUN_TIMEOUT, TYPES, run

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from bench import check, dataset, values  # noqa: E402  scripts/bench, the package
import memc_load_ref  # noqa: E402  scripts/memc_load_ref.py: its protobuf loader

BENCH = os.path.join(ROOT, "scripts", "bench")
NCPU = os.sysconf("SC_NPROCESSORS_ONLN")
LINES = 200
VARIANTS = "serial,w1,w1-text,wN-zlib-v0.5"
# The labels of those variants, in the report's order.
LOADERS = ["serial", "w1", "w1 text", "wN=%d-zlib verify 0.5" % NCPU]
HEAD = ["variant", "runs", "median wall s", "min..max s", "median CPU s", "CPU s/M rec",
        "records/s", "vs serial", "vs python-ref", "peak RSS MB (largest process)",
        "server CPU s", "server CPU s/M rec", "loader+servers CPU s/M rec", "re-sent records",
        "peak temp MB (sampled)", "keys ok"]
FLOAT = r"\d+\.\d\d"
RATIO = r"\d+\.\d\dx"
RATE = r"\d{1,3}(,\d{3})*"


def bench(out, *args, files=1):
    proc = subprocess.run(
        [PYTHON, BENCH, "--binary", MEMC_LOAD, "--files", str(files), "--lines", str(LINES),
         "--runs", "1", "--run-timeout", str(RUN_TIMEOUT), "--out", str(out)] + list(args),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
        timeout=3 * RUN_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


def table(report):
    """(header cells, {label: {column: cell}}) of the report's table."""
    lines = [ln for ln in report.splitlines() if ln.startswith("|")]
    assert len(lines) >= 3, report
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    head, sep, body = rows[0], rows[1], rows[2:]
    assert all(re.fullmatch(r"-+:?", c) for c in sep), lines[1]
    return head, {r[0]: dict(zip(head, r)) for r in body}


def check_loader_row(row, keys_ok="1/1"):
    for col in ("median wall s", "median CPU s", "CPU s/M rec", "server CPU s",
                "server CPU s/M rec", "loader+servers CPU s/M rec"):
        assert re.fullmatch(FLOAT, row[col]), (col, row)
    assert re.fullmatch(r"\d+\.\d", row["peak RSS MB (largest process)"]), row
    assert re.fullmatch(r"\d+\.\d", row["peak temp MB (sampled)"]), row
    lo, hi = row["min..max s"].split("..")
    # One run: its median, minimum and maximum are the same figure.
    assert lo == hi == row["median wall s"], row
    assert re.fullmatch(RATE, row["records/s"]), row
    assert float(row["loader+servers CPU s/M rec"]) >= float(row["CPU s/M rec"]), row
    assert row["runs"] == "1" and row["keys ok"] == keys_ok, row


def ratio_items(report, prefix):
    """{label: figure} of the ratio line starting with prefix, and its median."""
    m = re.search(r"^%s over the same files: median (?:wall|CPU) (%s) s; loader \w+ / \w+ "
                  r"\w+: (.*)$" % (re.escape(prefix), FLOAT), report, re.M)
    assert m, (prefix, report)
    items = {}
    for item in m.group(2).split(", "):
        label, figure = item.rsplit(" ", 1)
        assert re.fullmatch(FLOAT, figure), item
        items[label] = figure
    return float(m.group(1)), items


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_bench_reports_every_variant(tmp_path):
    rc, out, err = bench(tmp_path, "--variants", VARIANTS, "--python-baseline")
    assert rc == 0, out + err
    have_igzip = shutil.which("igzip") is not None
    inflate = ["gzip -dc"] + (["igzip -dc"] if have_igzip else [])

    head, rows = table(out)
    assert head == HEAD, head
    assert list(rows) == LOADERS + ["python-ref"] + inflate, list(rows)
    for label in LOADERS + ["python-ref"]:
        check_loader_row(rows[label])
        # memc_load's come from its --stats-json; the baseline writes none.
        resent = rows[label]["re-sent records"]
        assert resent == ("0" if label in LOADERS else "-"), rows[label]  # one file: no repair
        assert re.fullmatch(RATIO, rows[label]["vs serial"]), rows[label]
        assert re.fullmatch(RATIO, rows[label]["vs python-ref"]), rows[label]
    assert rows["serial"]["vs serial"] == "1.00x"
    assert rows["python-ref"]["vs python-ref"] == "1.00x"
    for label in inflate:
        row = rows[label]
        assert re.fullmatch(FLOAT, row["median wall s"]) and re.fullmatch(RATE, row["records/s"])
        assert [row[c] for c in HEAD[7:9] + HEAD[10:]] == ["-"] * 7 + ["ok"], row

    # gzip's line leaves the -zlib variants out only when the name ends so.
    _, items = ratio_items(out, "gzip -dc")
    assert list(items) == LOADERS, items
    if have_igzip:
        _, items = ratio_items(out, "igzip -dc")
        assert list(items) == LOADERS, items
    m = re.search(r"^Targets \(issue 10\), on w1:\n((?:  .*\n)+)", out, re.M)
    assert m, out
    assert re.search(r"^  wall time <= 0\.7x gzip -dc's: w1 %s \((met|MISSED)\)$" % RATIO,
                     m.group(1), re.M), m.group(1)
    assert re.search(r"^  largest loader process's peak RSS <= 32 MB, any variant: "
                     r"\d+\.\d MB \((met|MISSED)\)$", m.group(1), re.M), m.group(1)

    m = re.search(r"^Data: 1 files x %d lines, (%s) records, \d+ MB gz; \d+ CPUs" % (LINES, RATE),
                  out, re.M)
    assert m, out
    records = int(m.group(1).replace(",", ""))
    assert 0 < records <= LINES
    assert re.search(r"^memcached: 4 servers, -m \d+ -t 4, fresh for every run", out, re.M), out
    assert re.search(r"^python-ref: .*memc_load_ref\.py --proto-dir TMP ", out, re.M), out
    assert "FAILED" not in out, out
    assert re.search(r"\nBench took \d+ s\.\n$", out), out

    assert (tmp_path / "bench.txt").read_text() == out
    runs = read_csv(tmp_path / "bench.csv")
    assert [r["label"] for r in runs] == LOADERS + ["python-ref"] + inflate, runs
    for r in runs:
        assert r["ok"] == "True" and r["exit"] == "0" and r["missing"] == "0", r
        assert int(r["records"]) == records, r
        assert abs(float(r["records_per_s"]) * float(r["wall"]) - records) < 0.01 * records, r
    loaders = [r for r in runs if r["label"] not in inflate]
    assert all(r["renamed"] == "1" and r["keys_expected"] == str(records) for r in loaders)
    summary = read_csv(tmp_path / "summary.csv")
    assert [s["label"] for s in summary] == list(rows), summary
    # The bench's own temporary directories and the data set are gone.
    leftovers = [n for n in os.listdir(tmp_path) if re.match(r"(bench|data|run)-", n)]
    assert leftovers == [], leftovers


def test_bench_reports_a_failed_run(tmp_path):
    rc, out, err = bench(tmp_path, "--variants", "w1", "--no-gzip",
                         "--loader-args=--no-such-option")
    assert rc == 1, out + err
    _, rows = table(out)
    assert list(rows) == ["w1"], rows
    check_loader_row(rows["w1"], keys_ok="FAILED 1/1")
    assert re.search(r"^FAILED w1: run 1: exit status 2 \(see .*/logs/w1-run1\.log\); "
                     r"\d+ keys missing", out, re.M), out
    assert "gzip -dc" not in out


def test_bench_with_repeated_keys(tmp_path):
    rc, out, err = bench(tmp_path, "--variants", "serial,w1,wN", "--no-gzip", "--repeat", "50",
                         files=2)
    assert rc == 0, out + err
    head, rows = table(out)
    assert head == HEAD[:8] + HEAD[9:], head
    labels = ["serial", "w1", "wN=%d" % NCPU]
    assert list(rows) == labels, rows
    for label in labels:
        check_loader_row(rows[label])
        assert re.fullmatch(RATE, rows[label]["re-sent records"]), rows[label]
    # Half the newer file's 200 lines take one of the older file's 200 keys.
    assert re.search(r"^Data: 2 files x %d lines, 400 records \(--repeat 50: 100 with an "
                     r"older file's key, 300 distinct keys\)" % LINES, out, re.M), out

    runs = read_csv(tmp_path / "bench.csv")
    assert [r["label"] for r in runs] == labels, runs
    for r in runs:
        # Every one of the 300 keys read back, each with its newest value.
        assert (r["ok"], r["keys_expected"], r["missing"], r["wrong"]) == (
            "True", "300", "0", "0"), r
        with open(tmp_path / "logs" / ("%s-run1.json" % r["variant"])) as f:
            totals = json.load(f)["totals"]
        assert r["resent"] == str(totals["resent"]), (r, totals)
        # Only the newer file repairs, and only its 100 repeated keys.
        assert 0 <= totals["resent"] <= 100, totals
        assert re.fullmatch(r"\d+\.\d+", r["temp_peak_mb"]), r
    # One load at a time overlaps nothing: nothing to repair.
    assert rows["serial"]["re-sent records"] == rows["w1"]["re-sent records"] == "0"


def user_apps():
    memc_load_ref.load_proto()
    return memc_load_ref.UserApps


def repeat_data(tmp_path, ua):
    args = argparse.Namespace(files=2, lines=LINES, seed=1, bad_rate=0.0, repeat=50,
                              keep_data=False, python=PYTHON)
    return dataset.make(args, str(tmp_path), ua)


def load(mc, tmp_path, paths):
    """Load paths into mc one run each, in the order given."""
    for path in paths:
        d = tmp_path / ("in-%s" % os.path.basename(path))
        d.mkdir(parents=True)
        shutil.copy(path, d)
        res = run(mc.opts() + ["-w", "1", "--pattern", str(d / "*.tsv.gz")])
        assert res.rc == 0, res


def test_check_finds_stale_values(mc, tmp_path):
    ua = user_apps()
    data = repeat_data(tmp_path / "data", ua)
    ports = {t: mc.by_type[t].port for t in TYPES}
    # The newer file first, then the older: its 100 repeated keys end up
    # with the older file's values, every key present.
    load(mc, tmp_path / "wrong", list(reversed(data.files)))
    missing, wrong, evictions, problem = check.check_servers(ports, data, ua)
    assert (missing, wrong, evictions) == (0, 100, 0), problem
    assert re.fullmatch(r"100 keys with a value other than their newest line's, the first "
                        r"b'\w+:[0-9a-f]{32}' \(stale: holds 20170929000000\.tsv\.gz line "
                        r"\d+'s value, expected 20170929000100\.tsv\.gz line \d+'s\)",
                        problem), problem

    # In name order, as the serial original loads them: nothing wrong.
    for s in mc.by_type.values():
        s.flush()
    load(mc, tmp_path / "right", data.files)
    assert check.check_servers(ports, data, ua) == (0, 0, 0, None)


def test_value_digest_is_of_the_record_not_its_bytes():
    ua = user_apps()
    key, want = values.line_digest(b"idfa\tdev-1\t10.5\t-2.25\t3,1,2,300", ua)
    assert key == b"idfa:dev-1"
    canonical = ua(apps=[3, 1, 2, 300], lat=10.5, lon=-2.25).SerializeToString()
    assert values.holds(canonical, want, ua)
    # The same record with its apps unpacked (field 1, one varint each), lon
    # before lat: other bytes, the same value, no alarm.
    other = b"\x19" + canonical[-8:] + b"\x11" + canonical[-17:-9] + \
        b"\x08\x03\x08\x01\x08\x02\x08\xac\x02"
    assert other != canonical and ua.FromString(other) == ua.FromString(canonical)
    assert values.holds(other, want, ua)
    # An older line's record ("idfa\tdev-1\t1.5\t-2.25\t3,1,2"), and bytes
    # that are no record at all.
    _, old = values.line_digest(b"idfa\tdev-1\t1.5\t-2.25\t3,1,2", ua)
    older = ua(apps=[3, 1, 2], lat=1.5, lon=-2.25).SerializeToString()
    assert values.holds(older, old, ua) and not values.holds(older, want, ua)
    assert not values.holds(b"\xff\xff", want, ua)
