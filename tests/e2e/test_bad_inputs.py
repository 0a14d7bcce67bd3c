"""Inputs that can never load better: a file whose own bytes are bad, once
it has not changed for the settle time, is set aside as .NAME.bad and
holds back nothing; a 0-byte file that old is an empty log; zero bytes
after the last gzip member are padding. Younger files, and every other
failure, hold back the later files as before (test_rename.py).

Measured before: each of these failed the same way on every run and held
back every later file, which loaded again on every run."""

import gzip
import json
import os
import re
import time

import pytest

from helpers import dot, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz"]
HOUR_AGO = time.time() - 3600


def lines(dev_type, tag, n):
    return ["%s\t%s-%d\t1.5\t2.5\t1,2,3" % (dev_type, tag, i) for i in range(n)]


def gz(dev_type, tag, n):
    return gzip.compress("".join(l + "\n" for l in lines(dev_type, tag, n)).encode(), mtime=0)


def bad_bytes(kind):
    data = gz("gaid", "bad", 300)
    return {
        "not_gzip": b"gaid\tplain\t1\t2\t3\n" * 20,
        "corrupt": data[:20] + bytes(b ^ 0x5A for b in data[20:60]) + data[60:],
        "bad_crc": data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:],
        "bad_length": data[:-4] + bytes([data[-4] ^ 0x01]) + data[-3:],
        "truncated": data[: len(data) // 2],
        "trailing_garbage": data + b"this is not gzip",
        "garbage_after_zeros": data + bytes(100) + b"x",
    }[kind]


def settled(path):
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def bad_name(path, n=""):
    return path.parent / (".%s.bad%s" % (path.name, n))


def esc(path):
    return re.escape(str(path))


def three(tmp_path, middle):
    """A good file, MIDDLE's bytes (settled), a good file."""
    paths = [tmp_path / n for n in NAMES]
    write_gz(paths[0], lines("idfa", "one", 10))
    paths[1].write_bytes(middle)
    settled(paths[1])
    write_gz(paths[2], lines("adid", "three", 10))
    return paths


@pytest.mark.parametrize("kind", ["not_gzip", "corrupt", "bad_crc", "bad_length", "truncated",
                                  "trailing_garbage", "garbage_after_zeros"])
def test_a_settled_bad_file_is_set_aside_and_holds_nothing_back(mc, tmp_path, kind):
    paths = three(tmp_path, bad_bytes(kind))
    stats, metrics = tmp_path / "s.json", tmp_path / "m.prom"

    res = run(mc.opts() + ["--stats-json", stats, "--metrics", metrics, "-w", "2",
                           "-p", str(tmp_path / "*.tsv.gz")])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0]), str(paths[2])], res
    assert not paths[1].exists() and bad_name(paths[1]).read_bytes() == bad_bytes(kind)
    assert len(res.grep(r"\] E %s: .+; set aside as %s: it can never load$"
                        % (esc(paths[1]), esc(bad_name(paths[1]))))) == 1, res
    assert not res.grep(r"\] W Held back "), res
    assert len(res.grep(r"\] I Summary: files 3, .*renamed 2, held back 0, set aside 1,")) == 1, res
    report = json.loads(stats.read_text())
    assert [f["status"] for f in report["files"]] == ["renamed", "set_aside", "renamed"]
    assert report["totals"]["set_aside"] == 1
    assert re.search(r'^memc_load_last_run_files\{status="set_aside"\} 1$', metrics.read_text(),
                     re.M), metrics.read_text()

    # Out of the pattern and the dot rule: the next run has nothing to do.
    again = run(mc.opts() + ["-p", str(tmp_path / "*.tsv.gz")])
    assert again.rc == 0 and again.grep(r"nothing to load$"), again
    assert again.grep(r"\] I Started ") == []


def test_a_young_bad_file_may_still_be_written_and_holds_back_as_before(mc, tmp_path):
    paths = three(tmp_path, bad_bytes("truncated"))
    os.utime(paths[1])  # just written

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])], res
    assert paths[1].exists() and not bad_name(paths[1]).exists()
    assert res.grep(r"\] E %s failed: unexpected end of file \(truncated gzip\); it may still be "
                    r"being written: set aside once unchanged for 600 s; not renamed$"
                    % esc(paths[1])), res
    assert res.grep(r"\] W Held back %s: earlier file %s was not renamed"
                    % (esc(paths[2]), esc(paths[1]))), res


def test_settle_sets_the_age(mc, tmp_path):
    paths = three(tmp_path, bad_bytes("truncated"))
    os.utime(paths[1], (time.time() - 30, time.time() - 30))

    held = run(mc.opts() + ["--settle", "60"] + [str(p) for p in paths])
    assert held.rc == 1 and paths[1].exists(), held

    aside = run(mc.opts() + ["--settle", "10"] + [str(p) for p in paths[1:]])
    assert aside.rc == 1 and bad_name(paths[1]).exists(), aside
    assert aside.renamed() == [str(paths[2])], aside


def test_hold_bad_keeps_a_bad_file_for_a_person_to_look_at(mc, tmp_path):
    paths = three(tmp_path, bad_bytes("bad_crc"))

    res = run(mc.opts() + ["--hold-bad"] + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])], res
    assert paths[1].exists() and not bad_name(paths[1]).exists()
    assert res.grep(r"\] W Held back %s: earlier file %s was not renamed"
                    % (esc(paths[2]), esc(paths[1]))), res


def test_an_earlier_bad_file_of_the_same_name_is_kept(mc, tmp_path):
    paths = three(tmp_path, bad_bytes("not_gzip"))
    bad_name(paths[1]).write_bytes(b"the first one")

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 1, res
    assert bad_name(paths[1]).read_bytes() == b"the first one"
    assert bad_name(paths[1], ".1").read_bytes() == bad_bytes("not_gzip")
    assert res.renamed() == [str(paths[0]), str(paths[2])], res


def test_a_settled_empty_file_is_an_empty_log(mc, tmp_path):
    """The original renames a 0-byte file; so does memc_load, once it has
    not changed for the settle time."""
    paths = three(tmp_path, b"")

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths], res
    assert dot(paths[1]).exists() and not paths[1].exists()
    assert len(res.grep(r"\] W %s is empty \(0 bytes, unchanged for 600 s or more\): loaded as "
                        r"an empty log$" % esc(paths[1]))) == 1, res
    f = res.finished(paths[1])
    assert (f["lines"], f["processed"], f["errors"]) == (0, 0, 0), res


def test_a_young_empty_file_is_held_back(mc, tmp_path):
    paths = three(tmp_path, b"")
    os.utime(paths[1])

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0])], res
    assert paths[1].exists()
    assert res.grep(r"\] E %s failed: empty file; it may still be being written: loaded as an "
                    r"empty log once unchanged for 600 s; not renamed$" % esc(paths[1])), res


@pytest.mark.parametrize("zeros", [1, 512, 100000])
def test_zero_padding_after_the_gzip_data_is_ignored(mc, tmp_path, zeros):
    """gzip -t, zcat and Python read a gzip file followed by zero bytes (a
    tape or block padding) as the members alone; so does memc_load."""
    path = tmp_path / NAMES[0]
    path.write_bytes(gz("dvid", "pad", 50) + gz("dvid", "pad2", 5) + bytes(zeros))
    os.utime(path)  # young: padding is no error at any age

    res = run(mc.opts() + [str(path)])

    assert res.rc == 0, res
    assert res.renamed() == [str(path)], res
    assert res.finished(path)["processed"] == 55
    assert len(mc.keys()["dvid"]) == 55


def test_a_bad_file_with_a_long_name_is_set_aside_under_a_shorter_one(mc, tmp_path):
    """A 251-byte name: .NAME fits, .NAME.bad would not (measured before:
    "File name too long", and every later file held back on every run)."""
    name = "20170929000000" + "x" * (251 - len("20170929000000.tsv.gz")) + ".tsv.gz"
    paths = three(tmp_path, bad_bytes("not_gzip"))
    os.rename(paths[1], tmp_path / name)
    paths[1] = tmp_path / name

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 1, res
    assert res.renamed() == [str(paths[0]), str(paths[2])], res
    [aside] = [n for n in os.listdir(tmp_path) if n.endswith(".bad")]
    assert len(aside) == 255 and aside.startswith("." + name[:200]), aside
    assert (tmp_path / aside).read_bytes() == bad_bytes("not_gzip")


def test_when_every_name_to_set_aside_is_taken_the_file_fails(mc, tmp_path):
    paths = three(tmp_path, bad_bytes("not_gzip"))
    taken = [bad_name(paths[1])] + [bad_name(paths[1], ".%d" % k) for k in range(1, 100)]
    for t in taken:
        t.write_bytes(b"earlier")

    res = run(mc.opts() + [str(p) for p in paths])

    assert res.rc == 1, res
    assert paths[1].exists() and all(t.read_bytes() == b"earlier" for t in taken)
    assert res.grep(r"cannot set it aside: its names \.%s\.bad and \.bad\.1 to \.bad\.99 are "
                    r"all taken: remove or rename some; not renamed$" % re.escape(paths[1].name)), res
