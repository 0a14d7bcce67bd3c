"""The status line: on a terminal only, and never with -q or --no-progress."""


import pytest

import helpers
from helpers import run, write_gz

ERASE = b"\r\x1b[K"


def lines(n):
    return ["gaid\t%032x\t1\t2\t%d" % (i, i) for i in range(n)]


def run_on_terminal(args):
    """Run memc_load with a pseudo-terminal as stderr; return what it wrote there."""
    status, out = helpers.run_on_terminal([helpers.MEMC_LOAD] + args, timeout=60)
    assert status == 0, out
    return out


@pytest.fixture
def files(tmp_path):
    # Enough lines for several progress reports from each worker.
    return [str(write_gz(tmp_path / ("2017092900%02d00.tsv.gz" % i), lines(60000))) for i in range(2)]


@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]])
def test_status_line_on_a_terminal(mc, files, mode):
    out = run_on_terminal(mc.opts() + mode + files)
    assert b"files 0/2 done" in out or b"files 1/2 done" in out, out
    status = [part for part in out.split(ERASE) if part.startswith(b"files ")]
    assert status and all(b" running | " in s and b" MB/s in | ETA " in s for s in status), out
    # The line is gone before the summary, which comes last.
    assert out.rfind(b" running | ") < out.rfind(ERASE + b"[") < out.find(b"I Summary"), out


@pytest.mark.parametrize("flag", ["-q", "--no-progress"])
def test_no_status_line_when_asked(mc, files, flag):
    out = run_on_terminal(mc.opts() + [flag] + files)
    assert ERASE not in out and b"files 0/2" not in out, out


def test_no_status_line_into_a_pipe(mc, files):
    res = run(mc.opts() + files)
    assert res.rc == 0, res
    assert "\x1b[K" not in res.err and "running |" not in res.err, res
