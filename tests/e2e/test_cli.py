"""The command line: --dry, -t, --help, -V, bad options, no input, the log
(format, --log FILE, -q), and no process left behind."""

import gzip
import math
import os
import re

import pytest

import model
from helpers import LOG_LINE, TYPES, dot, run, write_gz
from inputs import mixed_lines, random_lines

LONG_OPTIONS = ["--pattern", "--workers", "--attempts", "--timeout", "--idfa", "--gaid",
                "--adid", "--dvid", "--max-error-rate", "--dry", "--test", "--log",
                "--serial", "--quiet", "--verbose", "--help", "--version", "--lock",
                "--lock-wait", "--no-lock"]
SHORT_OPTIONS = ["-p", "-w", "-a", "-t", "-l", "-q", "-v", "-h", "-V"]

DEBUG = re.compile(
    r"\] D (\S+) - (\S+) -> apps: \[([0-9, ]*)\](?: lat: (\S+))?(?: lon: (\S+))?$"
)


def printable(key):
    return all(0x21 <= c < 0x7F for c in key)


def close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_dry_parses_and_packs_but_stores_and_renames_nothing(mc, tmp_path):
    paths = [
        write_gz(tmp_path / "20170929000000.tsv.gz", mixed_lines("dry")),
        write_gz(tmp_path / "20170929000100.tsv.gz", random_lines("dry", 100, seed=5)),
    ]
    models = [model.model_content(gzip.open(p).read()) for p in paths]
    connections = {t: int(s.stats()["total_connections"]) for t, s in mc.by_type.items()}

    res = run(mc.opts() + ["--dry", "--max-error-rate", "1", "-p", str(tmp_path / "*.tsv.gz")])

    assert res.rc == 0, res
    for t, s in mc.by_type.items():
        # One more connection than before: the stats query itself.
        now = int(s.stats()["total_connections"])
        assert now == connections[t] + 1, "dry run connected to the %s server" % t
    assert mc.total_keys() == 0
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in paths)
    assert res.renamed() == []

    debug = {}
    for line in res.lines:
        m = DEBUG.search(line)
        if m:
            apps = [int(a) for a in m.group(3).split(", ")] if m.group(3) else []
            lat = float(m.group(4)) if m.group(4) else None
            lon = float(m.group(5)) if m.group(5) else None
            debug[m.group(2)] = (m.group(1), apps, lat, lon)
    records = [r for m in models for r in m.records]
    assert len(res.grep(r"\] D .* -> apps: ")) == len(records), res
    checked = 0
    for rec in records:
        if not printable(rec.key):
            continue
        got = debug.get(rec.key.decode())
        assert got is not None, "no debug line for %r" % rec.key
        addr, apps, lat, lon = got
        assert addr == mc.addr(rec.dev_type) and apps == rec.apps, (rec, got)
        assert close(lat, rec.lat) and close(lon, rec.lon), (rec, got)
        checked += 1
    assert checked == len([r for r in records if printable(r.key)]) > 50
    for m, p in zip(models, paths):
        f = res.finished(p)
        assert f is not None and f["processed"] == m.processed and f["errors"] == m.error_total, res
        for key in m.bad_keys:
            if printable(key):
                assert key.decode() not in debug


def test_dry_quiet_logs_no_records(mc, tmp_path):
    path = write_gz(tmp_path / "20170101000000.tsv.gz", ["idfa\ta\t1\t2\t3"])
    res = run(mc.opts() + ["--dry", "-q", str(path)])
    assert res.rc == 0, res
    assert res.err == "", res
    assert path.exists()


def test_self_test():
    res = run(["-t"])
    assert res.rc == 0, res
    assert len(res.grep(r"\] I Self test passed")) == 1, res


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_option(flag):
    res = run([flag])
    assert res.rc == 0, res
    assert res.err == ""
    assert res.out.startswith("usage: memc_load ")
    for opt in LONG_OPTIONS:
        assert re.search(r"(^|[\s,])%s\b" % re.escape(opt), res.out, re.M), opt
    for opt in SHORT_OPTIONS:
        assert re.search(r"^\s+%s, --" % re.escape(opt), res.out, re.M), opt


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_names_tool_and_libraries(flag):
    res = run([flag])
    assert res.rc == 0, res
    assert re.match(r"memc_load \d+\.\d+\.\d+\n", res.out), res
    for lib in ["zlib", "libmemcached", "protobuf-c"]:
        assert re.search(r"\b%s \d+\.\d+" % lib, res.out), lib


BAD_OPTIONS = [
    ["--bogus"],
    ["-w", "0"],
    ["-w", "x"],
    ["-w", "99999999999999999999"],
    ["-w"],
    ["-a", "0"],
    ["--idfa", "nocolon"],
    ["--gaid", "127.0.0.1:"],
    ["--adid", "127.0.0.1:99999"],
    ["--timeout", "-5"],
    ["--timeout", "x"],
    ["--max-error-rate", "2"],
    ["--max-error-rate", "-0.1"],
    ["--max-error-rate", "nan"],
    ["--max-error-rate", " 0.5"],
    ["--verify", "0x1p-1"],
    ["--verify", "0X.8"],
    ["--verify", "infinity"],
    ["-p", ""],
    ["--lock-wait", "-1"],
    ["--lock-wait", "86401"],
    ["--lock"],
]


@pytest.mark.parametrize("args", BAD_OPTIONS, ids=[" ".join(a) for a in BAD_OPTIONS])
def test_bad_option_is_a_usage_error(args):
    # --dry first: if a bad value were accepted, nothing gets loaded anywhere.
    res = run(["--dry"] + args)
    assert res.rc == 2, res
    assert res.out == ""
    lines = res.err.splitlines()
    assert len(lines) == 3, res
    assert lines[0].startswith("memc_load: ") and len(lines[0]) > len("memc_load: "), res
    assert lines[1].startswith("usage: memc_load "), res


def test_no_input_matches_pattern(mc, tmp_path):
    """Nothing new arrived: a quiet, normal run (measured before: an error,
    exit 1, a cron mail or a failed unit every time)."""
    pattern = str(tmp_path / "*.tsv.gz")
    write_gz(tmp_path / ".20170101000000.tsv.gz", ["idfa\ta\t1\t2\t3"])  # already done
    res = run(mc.opts() + ["-p", pattern])
    assert res.rc == 0, res
    assert len(res.grep(r"\] I No input files match %s: nothing to load$"
                        % re.escape(pattern))) == 1, res
    assert res.messages("E") == [] and res.messages("W") == [], res
    quiet = run(mc.opts() + ["-q", "-p", pattern])
    assert quiet.rc == 0 and quiet.err == "", quiet


def test_no_input_in_a_directory_that_does_not_exist(mc, tmp_path):
    pattern = str(tmp_path / "missing" / "*.tsv.gz")
    res = run(mc.opts() + ["-p", pattern])
    assert res.rc == 1, res
    assert len(res.grep(r"\] E No input files match %s: no such directory %s$"
                        % (re.escape(pattern), re.escape(str(tmp_path / "missing"))))) == 1, res


def test_no_input_only_dot_files_given(mc, tmp_path):
    path = write_gz(tmp_path / ".20170101000000.tsv.gz", ["idfa\ta\t1\t2\t3"])
    res = run(mc.opts() + [str(path)])
    assert res.rc == 0, res
    assert len(res.grep(r"\] W .*starts with '\.'")) == 1, res
    assert len(res.grep(r"\] I Nothing to load: every FILE given starts with '\.'")) == 1, res
    assert path.exists() and mc.total_keys() == 0


def test_missing_file_operand(mc, tmp_path):
    path = tmp_path / "20170101000000.tsv.gz"
    res = run(mc.opts() + [str(path)])
    assert res.rc == 1, res
    assert len(res.grep(r"\] E .*%s" % re.escape(str(path)))) >= 1, res


@pytest.mark.parametrize(
    "mode", [[], ["-v"], ["--serial"], ["-w", "4"]], ids=["default", "v", "serial", "w4"]
)
def test_every_log_line_has_the_format(mc, tmp_path, mode):
    paths = [
        write_gz(tmp_path / "20170929000000.tsv.gz", mixed_lines("fmt")),
        tmp_path / "20170929000100.tsv.gz",
        write_gz(tmp_path / "20170929000200.tsv.gz", random_lines("fmt", 50, seed=1)),
    ]
    paths[1].write_bytes(b"not gzip at all\n")  # an E line and a W (held back) line
    res = run(mc.opts() + mode + [str(p) for p in paths])
    assert res.rc == 1, res
    assert res.lines, res
    bad = [line for line in res.lines if not LOG_LINE.match(line)]
    assert not bad, res
    levels = {line.split("] ", 1)[1][0] for line in res.lines}
    assert {"I", "W", "E"} <= levels, res
    assert res.out == ""


def test_log_file_is_appended_and_stderr_stays_empty(mc, tmp_path):
    log = tmp_path / "memc_load.log"
    first = write_gz(tmp_path / "20170101000000.tsv.gz", ["idfa\ta\t1\t2\t3"])
    res = run(mc.opts() + ["-l", str(log), str(first)])
    assert res.rc == 0 and res.err == "", res
    after_first = log.read_text()
    second = write_gz(tmp_path / "20170101000100.tsv.gz", ["gaid\tb\t1\t2\t3"])
    res = run(mc.opts() + ["--log", str(log), str(second)])
    assert res.rc == 0 and res.err == "", res
    text = log.read_text()
    assert text.startswith(after_first) and len(text) > len(after_first)
    lines = text.splitlines()
    assert all(LOG_LINE.match(line) for line in lines), text
    assert len([l for l in lines if "] I Summary: " in l]) == 2, text
    assert dot(first).exists() and dot(second).exists()


def test_quiet_keeps_warnings_and_errors_only(mc, tmp_path):
    paths = [
        write_gz(tmp_path / "20170101000000.tsv.gz", ["idfa\ta\t1\t2\t3", "bad line"]),
        tmp_path / "20170101000100.tsv.gz",
        write_gz(tmp_path / "20170101000200.tsv.gz", ["gaid\tb\t1\t2\t3"]),
    ]
    paths[1].write_bytes(b"")
    res = run(mc.opts() + ["-q"] + [str(p) for p in paths])
    assert res.rc == 1, res
    assert [lvl for lvl, _ in res.messages() if lvl not in "WE"] == [], res
    assert res.grep(r"\] E .*High error rate"), res
    assert res.grep(r"\] E %s failed: " % re.escape(str(paths[1]))), res
    assert res.grep(r"\] W Held back %s" % re.escape(str(paths[2]))), res
    assert all(LOG_LINE.match(line) for line in res.lines), res


def test_no_worker_left_behind(mc, tmp_path):
    paths = [write_gz(tmp_path / ("2017010100%02d00.tsv.gz" % i),
                      ["%s\tz%d-%d\t1\t2\t3" % (TYPES[i % 4], i, j) for j in range(20)])
             for i in range(8)]
    paths[5].write_bytes(b"broken")
    res = run(mc.opts() + ["-w", "4"] + [str(p) for p in paths], check_leftovers=False)
    assert res.rc == 1, res
    assert res.leftovers == [], "not reaped by memc_load: %r" % res.leftovers
    pids = res.worker_pids()
    assert len(res.load_pids()) == 8, res
    assert res.pid is not None
    for pid in pids + [res.pid]:
        assert _comm(pid) != "memc_load", "process %d still there" % pid


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def test_long_log_lines_from_concurrent_workers_stay_whole(mc, tmp_path):
    # Debug lines of records with many apps run to several KiB. Four workers
    # write them at once to the same stderr pipe: each must arrive whole.
    for f in range(4):
        write_gz(tmp_path / ("2017010100%02d00.tsv.gz" % f), [
            "%s\tlong%d-%d\t1.5\t2.5\t%s" % (
                TYPES[i % 4], f, i, ",".join(["4000000000"] * (2000 if i % 10 == 0 else 20)))
            for i in range(1500)
        ])
    res = run(mc.opts() + ["--dry", "-w", "4", "-p", str(tmp_path / "*.tsv.gz")])
    assert res.rc == 0, res
    torn = [line[:100] for line in res.lines if not LOG_LINE.match(line)]
    assert not torn, "%d torn log lines, e.g. %r" % (len(torn), torn[:3])
    assert len(res.grep(r"\] D .* -> apps: ")) == 4 * 1500
