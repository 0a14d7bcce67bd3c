"""Keys repeated across files: after a run, at any -w, every key holds the
value of its last line in the newest file that has it, as the serial
original leaves it (files loaded one by one in name order)."""

import gzip
import json

import pytest

import model
from checks import check_store
from helpers import run, write_gz

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
