"""`make bench`'s entry point (scripts/bench) on a tiny data set, one run of
each variant: the report has a row for every variant, the baseline and the
inflate commands, each figure parses as a number, the ratio and target lines
name the right variants, and the CSV files agree with it. Nothing is said
about how fast anything is: the figures are only read, never judged.

The bench starts its own memcached servers (scripts/memcached.py), four
fresh ones per run, so no fixture's servers are used."""

import csv
import os
import re
import shutil
import subprocess

from helpers import MEMC_LOAD, PYTHON, ROOT, RUN_TIMEOUT

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


def bench(out, *args):
    proc = subprocess.run(
        [PYTHON, BENCH, "--binary", MEMC_LOAD, "--files", "1", "--lines", str(LINES),
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

