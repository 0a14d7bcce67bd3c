"""--stats-json: every member the man page's STATISTICS section documents,
with its type, checked against what the run did (renamed, held back, failed,
not started, --dry); the report replaces the file whole, leaves no temporary
file, and a report that cannot be written is an error with exit status 1."""

import datetime
import gzip
import json
import os
import re
import shutil
import signal
import tempfile
import time

import pytest

from helpers import ROOT, TYPES, Run, dot, free_port, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz",
         "20170929000300.tsv.gz", "20170929000400.tsv.gz"]
KINDS = ["fields", "dev_type", "dev_id", "key", "too_long", "rejected", "too_large",
         "undelivered"]
STATUSES = ["renamed", "held_back", "failed", "not_started", "loaded"]
COUNTS = ["lines", "blank", "processed", "errors", "apps_dropped", "coords_dropped", "bytes"]


# ---- the format, as documented ----

def statistics_section():
    with open(os.path.join(ROOT, "man", "memc_load.1")) as f:
        text = f.read()
    return text.split("\n.Sh STATISTICS\n", 1)[1].split("\n.Sh ", 1)[0]


def documented():
    """{"run"|"file"|"totals": {member: type}} from the man page: the
    top-level .It Cm NAME Pq TYPE items of each part of STATISTICS."""
    section = statistics_section()
    top, rest = section.split("\n.Ss Each file\n", 1)
    each, totals = rest.split("\n.Ss Totals\n", 1)
    out = {}
    for part, text in (("run", top), ("file", each), ("totals", totals)):
        members = {}
        for names, typ in re.findall(r"^\.It Cm (.+?) Pq (.+)$", text, re.M):
            for name in names.split(" , "):
                assert name not in members, "%s documented twice in %s" % (name, part)
                members[name] = typ
        out[part] = members
    return out


def has_type(value, typ):
    """value is of the documented JSON type: "integer", "string or null", ..."""
    check = {
        "integer": lambda v: type(v) is int,
        "number": lambda v: type(v) is float,
        "string": lambda v: type(v) is str,
        "boolean": lambda v: type(v) is bool,
        "object": lambda v: type(v) is dict,
        "array": lambda v: type(v) is list,
        "null": lambda v: v is None,
    }
    return any(check[t](value) for t in typ.split(" or "))


def check_documented(report):
    """Exactly the documented members, each of its documented type."""
    doc = documented()
    assert set(report) == set(doc["run"]), sorted(set(report) ^ set(doc["run"]))
    for name, typ in doc["run"].items():
        assert has_type(report[name], typ), (name, typ, report[name])
    for f in report["files"]:
        assert set(f) == set(doc["file"]), sorted(set(f) ^ set(doc["file"]))
        for name, typ in doc["file"].items():
            assert has_type(f[name], typ), (f["name"], name, typ, f[name])
        assert list(f["errors_by_kind"]) == KINDS
        assert all(type(v) is int for v in f["errors_by_kind"].values())
        assert f["status"] in STATUSES
    t = report["totals"]
    assert set(t) == set(doc["totals"]), sorted(set(t) ^ set(doc["totals"]))
    for name, typ in doc["totals"].items():
        assert has_type(t[name], typ), ("totals", name, typ, t[name])
    assert list(t["errors_by_kind"]) == KINDS


def check_totals(report):
    files, t = report["files"], report["totals"]
    assert t["files"] == len(files)
    for s in STATUSES:
        assert t[s] == sum(f["status"] == s for f in files), s
    assert t["high_error_rate"] == sum(f["high_error_rate"] for f in files)
    for c in COUNTS:
        assert t[c] == sum(f[c] for f in files), c
    for k in KINDS:
        assert t["errors_by_kind"][k] == sum(f["errors_by_kind"][k] for f in files), k
    assert t["error_rate"] == rate(t)


def rate(counts):
    total = counts["processed"] + counts["errors"]
    return counts["errors"] / total if total else 0.0


def check_file(f, path):
    assert f["errors"] == sum(f["errors_by_kind"].values())
    assert f["error_rate"] == rate(f)
    assert f["seconds"] >= 0.0
    assert (f["failure"] is not None) == (f["status"] == "failed"), f


def matches_log(f, res, path):
    """The report's counts are those of the file's Finished log line."""
    logged = res.finished(path)
    assert logged is not None, "no Finished line for %s\n%r" % (path, res)
    for c in ["lines", "blank", "processed", "errors", "apps_dropped", "coords_dropped"]:
        assert f[c] == logged[c], (path, c, f[c], logged)
    assert {k: v for k, v in f["errors_by_kind"].items() if v} == logged["kinds"]


def test_man_page_documents_the_format():
    doc = documented()
    assert "version" in doc["run"] and "name" in doc["file"] and "renamed" in doc["totals"]
    section = statistics_section()
    each = section.split("\n.Ss Each file\n", 1)[1].split("\n.Ss Totals\n", 1)[0]
    for word in KINDS + STATUSES:
        assert re.search(r"^\.(?:It )?Li %s\b" % word, each, re.M), "%s not documented" % word


# ---- the inputs ----

def good(dev_type, tag, n):
    return ["%s\t%s-%d\t1.5\t2.5\t1,2,3" % (dev_type, tag, i) for i in range(n)]


BAD_LINES = good("gaid", "bad", 3) + [
    "gaid\tbad-apps\t1\t2\t1,x,,2",  # stored, 2 apps dropped
    "gaid\tbad-coord\tnan\t2\t1",  # stored, 1 coordinate dropped
    "gaid\tfour\t1\t2",  # fields
    "GAID\tx\t1\t2\t3",  # dev_type
    "gaid\t\t1\t2\t3",  # dev_id
    "gaid\ta b\t1\t2\t3",  # key
    "gaid\tlong\t1\t2\t" + "1," * (1 << 19) + "1",  # too_long
    "",
    "  \t",
]
BAD_COUNTS = {"lines": 12, "blank": 2, "processed": 5, "errors": 5, "apps_dropped": 2,
              "coords_dropped": 1}
BAD_KINDS = {"fields": 1, "dev_type": 1, "dev_id": 1, "key": 1, "too_long": 1}
BIG_APPS = ",".join(["4000000000"] * 400)  # over the small server's 1 KiB items


def write_mix(directory, names=NAMES):
    """A good file, one with bad lines, a truncated one, a good one (held
    back), one with a record too large for its server and one undelivered."""
    directory.mkdir(exist_ok=True)
    paths = [directory / n for n in names]
    write_gz(paths[0], good("adid", "one", 20))
    write_gz(paths[1], BAD_LINES)
    data = gzip.compress("".join(l + "\n" for l in good("adid", "three", 300)).encode())
    paths[2].write_bytes(data[: len(data) // 2])
    write_gz(paths[3], good("adid", "four", 10))
    write_gz(paths[4], ["idfa\tsmall\t1\t2\t3", "idfa\tbig\t1\t2\t" + BIG_APPS,
                        "dvid\tnowhere\t1\t2\t3"])
    return paths


def load(path):
    with open(path) as f:
        return json.load(f)


def mode_of_new_files():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_started(report, before, after):
    started = datetime.datetime.fromisoformat(report["started"])
    assert started.utcoffset() is not None, "started has no UTC offset"
    assert started.utcoffset() == datetime.datetime.now().astimezone().utcoffset()
    assert before - 1 <= started.timestamp() <= after, (report["started"], before, after)
    assert 0.0 < report["seconds"] <= after - before + 1


# ---- the runs ----

def test_report_of_a_mixed_run(mc, small_server, tmp_path):
    paths = write_mix(tmp_path / "in")
    sizes = [p.stat().st_size for p in paths]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    stats = out_dir / "stats.json"
    stats.write_text("an older report\n")
    old_inode = stats.stat().st_ino
    dvid = "127.0.0.1:%d" % free_port()

    before = time.time()
    # The operands in reverse: the report is in input (chronological) order.
    res = run(mc.opts(idfa=small_server.addr, dvid=dvid)
              + ["-w", "2", "-a", "1", "--timeout", "2000", "--stats-json", stats]
              + [str(p) for p in reversed(paths)])
    after = time.time()

    assert res.rc == 1, res
    # Replaced whole by a rename, with nothing left beside it.
    assert os.listdir(out_dir) == ["stats.json"]
    assert stats.stat().st_ino != old_inode
    assert stats.stat().st_mode & 0o777 == mode_of_new_files()
    report = load(stats)
    check_documented(report)
    check_totals(report)
    assert report["version"] == 1
    check_started(report, before, after)
    assert report["exit_status"] == res.rc
    assert report["interrupted_by_signal"] is None
    assert report["dry_run"] is False

    files = report["files"]
    assert [f["name"] for f in files] == [str(p) for p in paths]
    assert [f["status"] for f in files] == ["renamed", "renamed", "failed", "held_back", "failed"]
    assert [f["high_error_rate"] for f in files] == [False, True, False, False, True]
    for f, p, size in zip(files, paths, sizes):
        check_file(f, p)
        matches_log(f, res, p)
        assert f["bytes"] == size, (p, f["bytes"], size)
    assert dot(paths[0]).exists() and dot(paths[1]).exists()
    assert all(p.exists() for p in paths[2:])

    assert (files[0]["lines"], files[0]["processed"], files[0]["errors"]) == (20, 20, 0)
    assert files[0]["failure"] is None
    assert {c: files[1][c] for c in BAD_COUNTS} == BAD_COUNTS
    assert {k: v for k, v in files[1]["errors_by_kind"].items() if v} == BAD_KINDS
    assert files[1]["error_rate"] == 0.5
    assert "truncated" in files[2]["failure"], files[2]
    assert files[2]["lines"] > 0
    assert (files[3]["processed"], files[3]["errors"], files[3]["failure"]) == (10, 0, None)
    assert files[4]["processed"] == 1
    assert {k: v for k, v in files[4]["errors_by_kind"].items() if v} == \
        {"too_large": 1, "undelivered": 1}
    assert files[4]["failure"] == "0 records rejected, 1 undelivered"
    t = report["totals"]
    assert (t["files"], t["renamed"], t["held_back"], t["failed"], t["not_started"],
            t["loaded"], t["high_error_rate"]) == (5, 2, 1, 2, 0, 0, 2)


def test_report_of_a_dry_run(tmp_path):
    # A name of every awkward kind: quote, backslash, control bytes, UTF-8
    # and bytes that are not UTF-8. Given through the pattern, since the
    # runner passes its arguments as text.
    odd = b'20170929000300-"q\\ \x01\t\x7f caf\xc3\xa9 \xff\xe2\x82.tsv.gz'
    names = NAMES[:3] + [os.fsdecode(odd)] + NAMES[4:]
    paths = write_mix(tmp_path / "in", names)
    stats = tmp_path / "stats.json"

    res = run(["--dry", "-w", "2", "--stats-json", stats, "-p", str(tmp_path / "in" / "*.tsv.gz")])

    assert res.rc == 1, res  # the truncated file, and the bad lines' error rate
    report = load(stats)
    check_documented(report)
    check_totals(report)
    assert report["dry_run"] is True
    assert report["exit_status"] == 1 and report["interrupted_by_signal"] is None
    files = report["files"]
    # Each name's characters are its bytes, nothing lost.
    assert [f["name"].encode("latin-1") for f in files] == [os.fsencode(p) for p in paths]
    with open(stats, "rb") as f:
        assert f.read().isascii()
    assert [f["status"] for f in files] == ["loaded", "loaded", "failed", "loaded", "loaded"]
    assert [f["high_error_rate"] for f in files] == [False, True, False, False, False]
    for f, p in zip(files, paths):
        check_file(f, p)
        assert f["bytes"] == p.stat().st_size
        if p.name.isascii():
            matches_log(f, res, p)
    # --dry sends nothing: nothing rejected or undelivered, every record packed.
    assert (files[4]["processed"], files[4]["errors"]) == (3, 0)
    assert {c: files[1][c] for c in BAD_COUNTS} == BAD_COUNTS
    assert all(p.exists() and not dot(p).exists() for p in paths)
    t = report["totals"]
    assert (t["loaded"], t["failed"], t["renamed"], t["held_back"]) == (4, 1, 0, 0)


@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]], ids=["workers", "serial"])
def test_report_after_a_signal(mc, tmp_path, mode):
    paths = [write_gz(tmp_path / n, ["gaid\ts%d-%028x\t1\t2\t3" % (k, i) for i in range(2000)])
             for k, n in enumerate(NAMES[:3])]
    stats = tmp_path / "stats.json"
    running = 2 if mode == ["-w", "2"] else 1
    mc.stop_server("gaid")  # every record waits for a reply
    # --serial finishes the set under way first: a short timeout keeps it short.
    timeout = "20000" if running == 2 else "2000"
    r = Run(mc.opts() + mode + ["--timeout", timeout, "-a", "1", "--stats-json", stats]
            + [str(p) for p in paths])
    for name in NAMES[:running]:
        r.wait_for(r"\] I Started .*%s" % name)
    time.sleep(0.3)  # let the workers reach the stopped server
    os.kill(r.memc_load_pid(), signal.SIGTERM)
    res = r.finish(timeout=30)
    mc.resume_server("gaid")

    assert res.rc == 128 + signal.SIGTERM, res
    report = load(stats)
    check_documented(report)
    check_totals(report)
    assert report["exit_status"] == res.rc
    assert report["interrupted_by_signal"] == signal.SIGTERM
    files = report["files"]
    assert [f["status"] for f in files] == ["failed"] * running + ["not_started"] * (3 - running)
    for f in files[:running]:
        assert f["failure"].startswith("interrupted"), f
    for left in files[running:]:
        assert left["failure"] is None and left["seconds"] == 0.0 and left["error_rate"] == 0.0
        assert all(left[c] == 0 for c in COUNTS) and not any(left["errors_by_kind"].values())
    assert report["totals"]["not_started"] == 3 - running


def unwritable(out_dir, name, target):
    """An output path in OUT_DIR that cannot be written: in a missing
    directory, or a directory itself. The path, and the reason the loader
    must give (a regular expression)."""
    if target == "missing_dir":
        path = out_dir / "missing" / name
        return path, r"cannot create a temporary file in %s: No such file or directory" % \
            re.escape(str(path.parent))
    path = out_dir / name
    path.mkdir()
    return path, r"it is a directory"  # refused before any temporary file is made


@pytest.mark.parametrize("target", ["missing_dir", "a_directory"])
def test_report_that_cannot_be_written(mc, tmp_path, target):
    path = write_gz(tmp_path / NAMES[0], good("idfa", "w", 5))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    stats, reason = unwritable(out_dir, "stats.json", target)

    res = run(mc.opts() + ["--stats-json", stats, str(path)])

    # The load itself went well; only the report failed.
    assert res.rc == 1, res
    assert dot(path).exists()
    want = r"\] E Cannot write statistics to %s: %s$" % (re.escape(str(stats)), reason)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
    assert os.listdir(out_dir) == (["stats.json"] if target == "a_directory" else [])
    assert not (out_dir / "missing").exists()


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv, to run as nobody (root ignores permissions)")
def test_report_of_a_rename_that_fails(mc):
    """The second file is in a directory nobody may not write: it loads but
    is not renamed, so it is failed (with the reason) and the next held back."""
    top = tempfile.mkdtemp(prefix="memc_load-stats.")
    try:
        os.chmod(top, 0o777)
        ro = os.path.join(top, "ro")
        os.mkdir(ro)
        paths = [os.path.join(d, n) for d, n in zip([top, ro, top], NAMES)]
        for p, t in zip(paths, TYPES):
            write_gz(p, ["%s\tstat-%s-%d\t1\t2\t3" % (t, os.path.basename(p)[:14], i)
                         for i in range(5)])
            os.chmod(p, 0o644)
        os.chmod(ro, 0o555)
        stats = os.path.join(top, "stats.json")

        res = run(mc.opts() + ["-w", "2", "--stats-json", stats] + paths, wrapper=NOBODY)

        assert res.rc == 1, res
        report = load(stats)
        check_documented(report)
        check_totals(report)
        files = report["files"]
        assert [f["status"] for f in files] == ["renamed", "failed", "held_back"]
        assert files[1]["failure"] == "cannot rename: Permission denied"
        assert all((f["processed"], f["errors"]) == (5, 0) for f in files)
    finally:
        os.chmod(os.path.join(top, "ro"), 0o755)
        shutil.rmtree(top, ignore_errors=True)
