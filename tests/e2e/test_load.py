"""Loading: every valid line is stored under the right key on the right
server and decodes to what the line says; no invalid line is stored; the
counts memc_load logs match an independent model of the line rules."""

import gzip
import re
import zlib

import pytest

import model
from checks import check_finished, check_rate_line, check_store
from helpers import dot, run, write_gz
from inputs import long_lines, mixed_lines, random_lines

MODES = {"w1": ["-w", "1"], "w4": ["-w", "4"], "serial": ["--serial"]}


@pytest.mark.parametrize("mode", list(MODES.values()), ids=list(MODES))
def test_every_valid_line_stored_and_counted(mc, decode, tmp_path, mode):
    inputs = {
        "20170929000000.tsv.gz": (mixed_lines("mixed"), True),
        "20170929000100.tsv.gz": (random_lines("rand", 400, seed=2017), False),
        "20170929000200.tsv.gz": (long_lines("long"), True),
        "20170929000300.tsv.gz": ([b"idfa\tclean-%d\t1\t2\t3" % i for i in range(150)], True),
    }
    models = {}
    for name, (lines, final_newline) in inputs.items():
        path = write_gz(tmp_path / name, lines, final_newline)
        models[path] = model.model_content(gzip.open(path).read())

    res = run(mc.opts() + mode + ["-p", str(tmp_path / "*.tsv.gz")])

    check_store(mc, decode, models.values())
    for path, m in models.items():
        check_finished(res, path, m)
        check_rate_line(res, path, m, 0.01)
        assert not path.exists() and dot(path).exists(), "%s not renamed" % path
    assert res.renamed() == [str(p) for p in sorted(models)]
    high = any(m.error_rate() > 0.01 for m in models.values())
    assert high, "the inputs are meant to include files over the default limit"
    assert res.rc == 1, res
    total = lambda attr: sum(getattr(m, attr) for m in models.values())  # noqa: E731
    summary = res.grep(
        r"\] I Summary: files 4, .*renamed 4, held back 0, set aside 0, high error rate \d+; lines %d, processed %d, errors %d;"
        % (total("lines"), total("processed"), total("error_total"))
    )
    assert len(summary) == 1, res


@pytest.mark.parametrize(
    "limit, rc, level", [("0.25", 0, "I"), ("0.24", 1, "E")], ids=["at_limit", "over_limit"]
)
def test_error_rate_limit(mc, tmp_path, limit, rc, level):
    # 1 error in 4 counted lines (the blank one does not count): rate 0.25.
    path = write_gz(
        tmp_path / "20170101000000.tsv.gz",
        ["idfa\ta\t1\t2\t3", "", "gaid\tb\t1\t2\t3", "adid\tc\t1\t2\t3", "bogus\td\t1\t2\t3"],
    )
    res = run(mc.opts() + ["--max-error-rate", limit, str(path)])
    assert res.rc == rc, res
    want = r"\] %s %s: .* error rate \(0\.2500" % (level, re.escape(str(path)))
    assert len(res.grep(want)) == 1, res
    assert dot(path).exists() and not path.exists(), "renamed either way"
    assert mc.total_keys() == 3


def test_empty_but_valid_gzip_is_loaded(mc, tmp_path):
    path = write_gz(tmp_path / "20170101000000.tsv.gz", [])
    res = run(mc.opts() + [str(path)])
    assert res.rc == 0, res
    assert res.finished(path)["lines"] == 0
    assert dot(path).exists()


def test_concatenated_gzip_members_are_all_read(mc, decode, tmp_path):
    # "cat a.gz b.gz" is one valid gzip file (RFC 1952, what zcat reads).
    path = tmp_path / "20170101000000.tsv.gz"
    path.write_bytes(
        gzip.compress(b"idfa\tm1\t1\t2\t3\n") + gzip.compress(b"gaid\tm2\t4\t5\t6\n")
    )
    res = run(mc.opts() + [str(path)])
    assert res.rc == 0, res
    assert res.finished(path)["processed"] == 2, res
    assert decode(mc.get("gaid", [b"gaid:m2"])[b"gaid:m2"][1]) == ([6], 4.0, 5.0)
    assert dot(path).exists()


@pytest.mark.parametrize("mode", [["--protocol", "meta"], ["--protocol", "text"], ["--serial"]],
                         ids=["meta", "text", "serial"])
def test_value_too_large_for_the_server_is_a_record_error(mc, small_server, tmp_path, mode):
    """"SERVER_ERROR object too large for cache" can never turn into STORED:
    the record counts as too_large, like a bad line, and does not keep its
    file from being renamed (measured before: counted rejected, the file
    failed, and it and every later file were held back on every run)."""
    big = ",".join(["4000000000"] * 400)  # ~2 KB packed: over the 1 KiB item limit
    path = write_gz(
        tmp_path / "20170101000000.tsv.gz",
        ["idfa\tsmall\t1\t2\t3", "idfa\tbig\t1\t2\t" + big, "gaid\tother\t1\t2\t3"],
    )
    res = run(mc.opts(idfa=small_server.addr) + mode + ["--timeout", "2000", str(path)])
    f = res.finished(path)
    assert f is not None, res
    assert (f["processed"], f["errors"], f["kinds"]) == (2, 1, {"too_large": 1}), res
    assert small_server.keys() == {b"idfa:small"}
    assert res.rc == 1, res  # 1 error in 3 is over the default limit...
    assert res.renamed() == [str(path)], res  # ...but nothing a rerun could fix


@pytest.mark.parametrize("protocol", ["meta", "text"])
def test_a_few_values_too_large_are_within_the_error_rate(mc, small_server, tmp_path, protocol):
    """In the meta protocol the refusal names no record: the batches it came
    in are sent again, answered, and exactly the big ones are counted."""
    big = ",".join(["4000000000"] * 400)
    lines = ["idfa\tok-%d\t1\t2\t3" % i for i in range(1000)]
    for i in range(5):  # in different batches, one of them the last
        lines.insert(150 * i + 100 + i, "idfa\tbig-%d\t1\t2\t%s" % (i, big))
    lines.append("idfa\tbig-5\t1\t2\t%s" % big)
    first = write_gz(tmp_path / "20170101000000.tsv.gz", lines)
    later = write_gz(tmp_path / "20170101000100.tsv.gz", ["gaid\tlater\t1\t2\t3"])
    res = run(mc.opts(idfa=small_server.addr) + ["--protocol", protocol, "-v", str(first),
                                                  str(later)])
    assert res.rc == 0, res
    assert res.renamed() == [str(first), str(later)], res
    f = res.finished(first)
    assert (f["processed"], f["kinds"]) == (1000, {"too_large": 6}), res
    assert small_server.keys() == {b"idfa:ok-%d" % i for i in range(1000)}
    named = {m.group(1) for m in map(re.compile(
        r"\] W \S+ refused idfa:(big-\d) as too large: SERVER_ERROR object too large for cache$"
    ).search,
        res.lines) if m}
    assert named == {"big-%d" % i for i in range(5)}, res  # the first five, then a count
    assert res.grep(r"rejected 6 records of this file in all"), res


def test_file_whose_loaded_name_cannot_exist_is_refused_up_front(mc, tmp_path):
    """A 255-byte name: its .NAME would be 256 bytes, which no common file
    system allows, so the rename would fail on every run and hold back every
    later file for ever. It is skipped up front with an error instead."""
    long_name = "20170101000000" + "x" * (255 - 14 - 7) + ".tsv.gz"
    assert len(long_name) == 255
    first = write_gz(tmp_path / "20161231000000.tsv.gz", ["idfa\tfirst\t1\t2\t3"])
    long_path = write_gz(tmp_path / long_name, ["gaid\tlong\t1\t2\t3"])
    later = write_gz(tmp_path / "20170102000000.tsv.gz", ["adid\tlater\t1\t2\t3"])

    res = run(mc.opts() + ["-p", str(tmp_path / "*.tsv.gz")])

    assert res.rc == 1, res
    assert res.renamed() == [str(first), str(later)], res
    assert res.grep(r"\] E Skipping %s: its loaded name \.%s would be 256 bytes, over the 255 "
                    r"its file system allows" % (re.escape(str(long_path)), long_name)), res
    assert long_path.exists()
    assert mc.keys()["gaid"] == set()


def test_big_file_is_streamed_not_inflated_whole(mc, tmp_path):
    # 200 MiB of blank lines, then one record: about 1 MB compressed.
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = (b" " * 4095 + b"\n") * 256
    data = [z.compress(chunk) for _ in range(200)]
    data += [z.compress(b"idfa\tafter-blanks\t1\t2\t3\n"), z.flush()]
    path = tmp_path / "20170101000000.tsv.gz"
    path.write_bytes(b"".join(data))

    res = run(mc.opts() + [str(path)])

    assert res.rc == 0, res
    f = res.finished(path)
    assert (f["lines"], f["blank"], f["processed"]) == (200 * 256 + 1, 200 * 256, 1), res
    assert res.maxrss_kib < 100 * 1024, "peak RSS %d KiB for a 200 MiB input" % res.maxrss_kib
    assert mc.keys()["idfa"] == {b"idfa:after-blanks"}
