"""A log that cannot be written (-l /dev/full, or stderr on /dev/full): the
load goes on and renames as usual, one message on stderr says how many log
lines were lost, counting the workers' own, and the exit status is 1
(128 + a signal's number stands)."""

import json
import os
import re
import signal
import time

import pytest

from helpers import Run, dot, run, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz"]
LOST = re.compile(r"^memc_load: cannot write to the log (.+): (.+); (\d+) log lines? lost$")


def inputs(tmp_path, n=20):
    return [write_gz(tmp_path / name, ["%s\tlog%d-%d\t1.5\t2.5\t1,2" % (t, k, i) for i in range(n)])
            for k, (name, t) in enumerate(zip(NAMES, ["idfa", "gaid"]))]


def lost(res):
    """(log, reason, count) of the one message on stderr."""
    assert len(res.lines) == 1, res
    m = LOST.match(res.lines[0])
    assert m, res
    return m.group(1), m.group(2), int(m.group(3))


def test_log_on_dev_full_load_still_renames(mc, tmp_path):
    paths = inputs(tmp_path)
    stats = tmp_path / "stats.json"

    res = run(mc.opts() + ["-w", "2", "-l", "/dev/full", "--stats-json", stats]
              + [str(p) for p in paths])

    assert res.rc == 1, res
    log, reason, count = lost(res)
    assert (log, reason) == ("/dev/full", "No space left on device")
    # Options, 2 x (started, finished, verdict, renamed), summary.
    assert count == 10, res
    # The load itself went well: renaming is about the data.
    assert all(dot(p).exists() and not p.exists() for p in paths)
    assert mc.total_keys() == 40
    with open(stats) as f:
        report = json.load(f)
    assert report["exit_status"] == 1
    assert [f["status"] for f in report["files"]] == ["renamed", "renamed"]


@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]], ids=["workers", "serial"])
def test_lines_lost_in_workers_are_counted(mc, tmp_path, mode):
    """With --dry each worker logs every record itself: the count is that
    of the lines the same run writes to a real log, workers' included."""
    good_dir, full_dir = tmp_path / "good", tmp_path / "full"
    good_dir.mkdir()
    full_dir.mkdir()
    log = tmp_path / "memc_load.log"
    written = run(mc.opts() + mode + ["--dry", "-l", log] + [str(p) for p in inputs(good_dir)])
    assert written.rc == 0 and written.err == "", written
    lines = log.read_text().splitlines()
    assert len([l for l in lines if "] D " in l]) == 40

    res = run(mc.opts() + mode + ["--dry", "-l", "/dev/full"] + [str(p) for p in inputs(full_dir)])

    assert res.rc == 1, res
    assert lost(res) == ("/dev/full", "No space left on device", len(lines))


def test_stderr_on_dev_full_without_a_log(mc, tmp_path):
    """Nowhere to say it: no message, no hang, no crash; exit status 1."""
    paths = inputs(tmp_path)
    stats = tmp_path / "stats.json"
    to_full = ["sh", "-c", 'exec "$@" 2>/dev/full', "sh"]

    res = run(mc.opts() + ["-w", "2", "--stats-json", stats] + [str(p) for p in paths],
              wrapper=to_full, timeout=30)

    assert res.rc == 1, res
    assert res.err == "" and res.out == "", res
    assert all(dot(p).exists() for p in paths)
    with open(stats) as f:
        assert json.load(f)["exit_status"] == 1


def _children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(name))
    return out


def test_signal_status_stands(mc, tmp_path):
    paths = [write_gz(tmp_path / name, ["gaid\tsig%d-%028x\t1\t2\t3" % (k, i) for i in range(2000)])
             for k, name in enumerate(NAMES)]
    mc.stop_server("gaid")  # every record waits for a reply
    r = Run(mc.opts() + ["-w", "2", "--timeout", "20000", "-l", "/dev/full"]
            + [str(p) for p in paths])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = r.memc_load_pid()
        if pid and len(_children(pid)) == 2:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # let the workers reach the stopped server
    os.kill(r.memc_load_pid(), signal.SIGTERM)
    res = r.finish(timeout=30)
    mc.resume_server("gaid")

    assert res.rc == 128 + signal.SIGTERM, res
    assert lost(res)[:2] == ("/dev/full", "No space left on device")
    assert all(p.exists() for p in paths)
