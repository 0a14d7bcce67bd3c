"""SIGINT and SIGTERM to the supervisor: workers stop, nothing partly loaded
is renamed, the summary is printed, exit 128 + signal; a second signal ends
everything at once; SIGPIPE never kills the loader. A run is caught in the
middle by stopping (SIGSTOP) the memcached its records go to, so the signal
always lands while records wait for replies."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import helpers
from helpers import Run, Stalled, dot, write_gz

NAMES = ["20170929000000.tsv.gz", "20170929000100.tsv.gz", "20170929000200.tsv.gz"]


def lines(tag, n):
    return ["gaid\t%s%028x\t1\t2\t%d,%d" % (tag, i, i, i + 1) for i in range(n)]


def files(tmp_path, n=3, count=3000):
    return [write_gz(tmp_path / NAMES[i], lines("f%d" % i, count)) for i in range(n)]


def send(run, sig):
    pid = run.memc_load_pid()
    assert pid, run.err_text()
    os.kill(pid, sig)


@pytest.mark.parametrize("sig,mode", [(signal.SIGTERM, ["-w", "2"]), (signal.SIGINT, ["-w", "2"]),
                                      (signal.SIGINT, ["--serial"])])
def test_signal_stops_the_run_and_renames_nothing_partial(mc, tmp_path, sig, mode):
    paths = files(tmp_path)
    mc.stop_server("gaid")  # every record waits for a reply
    # With --serial the set under way finishes first (libmemcached resumes
    # its wait after a signal): a short timeout keeps that wait short.
    timeout = "2000" if mode == ["--serial"] else "20000"
    run = Run(mc.opts() + mode + ["--timeout", timeout, "-a", "1"] + [str(p) for p in paths])
    run.wait_for(r"\] I Started .*%s" % NAMES[0])
    time.sleep(0.3)  # let the worker reach the stopped server
    send(run, sig)
    res = run.finish(timeout=30)
    mc.resume_server("gaid")

    assert res.rc == 128 + sig, res
    for p in paths:
        assert p.exists() and not dot(p).exists(), res
    assert res.grep(r"\] E .*%s failed: interrupted" % NAMES[0]), res
    assert res.grep(r"\] W Stopped by signal %d: \d+ files not started" % sig), res
    assert len(res.grep(r"\] I Summary: files 3, .*renamed 0,")) == 1, res


def zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_workers_killed_before_the_stop_are_killed_not_interrupted(mc, tmp_path):
    """Two workers killed on their own, reaped, and only then a SIGTERM to
    the supervisor: they were not the run's stop (made certain by stopping
    the supervisor while they die). The stop counts the one running."""
    paths = files(tmp_path)
    stats = tmp_path / "stats.json"
    mc.stop_server("gaid")
    run = Run(mc.opts() + ["-w", "2", "--timeout", "20000", "-a", "1", "--stats-json", stats]
              + [str(p) for p in paths])
    for name in NAMES[:2]:
        run.wait_for(r"\] I Started .*%s" % name)
    workers = [int(m) for m in re.findall(r"\(worker pid (\d+)\)", run.err_text())]
    supervisor = run.memc_load_pid()
    os.kill(supervisor, signal.SIGSTOP)
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not all(map(zombie, workers)) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(supervisor, signal.SIGCONT)
    run.wait_for(r"\] I Started .*%s" % NAMES[2])
    os.kill(supervisor, signal.SIGTERM)
    res = run.finish(timeout=30)
    mc.resume_server("gaid")

    assert res.rc == 128 + signal.SIGTERM, res
    assert len(res.grep(r"\] W Stopping on signal 15: 1 worker interrupted;")) == 1, res
    report = json.loads(stats.read_text())
    failures = [f["failure"] for f in report["files"]]
    for failure, pid in zip(failures, workers):
        assert failure == "worker %d killed by signal 15" % pid, failures
    assert re.fullmatch(r"interrupted \(worker \d+ stopped by signal 15\)", failures[2]), failures


def test_a_signal_to_the_process_group_interrupts_every_worker_and_starts_none(tmp_path):
    """kill -TERM -PGID ends the workers and the supervisor at once; the
    supervisor may see the workers' ends before its own signal comes in.
    Repeated, as the order is the scheduler's (measured before: in about 6
    runs of 14, new workers were started after the signal, "Stopping on
    signal 15: 6 workers interrupted" with -w 3, and the first files' workers
    were "killed by signal 15")."""
    stalled = Stalled()  # accepts, never answers: every worker waits
    names = ["201709290%05d.tsv.gz" % i for i in range(8)]
    paths = [write_gz(tmp_path / n, lines("g%d" % i, 50)) for i, n in enumerate(names)]
    opts = sum((["--" + t, stalled.addr] for t in helpers.TYPES), [])
    try:
        for attempt in range(10):
            stats = tmp_path / ("stats-%d.json" % attempt)
            proc = subprocess.Popen([helpers.MEMC_LOAD, "-w", "3", "--timeout", "20000",
                                     "--verify", "0", "--no-lock", "--stats-json", str(stats)]
                                    + opts + [str(p) for p in paths],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
            err = b""
            while err.count(b"] I Started ") < 3:
                chunk = proc.stderr.read1(4096)
                assert chunk, err.decode()
                err += chunk
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGTERM)
            err += proc.stderr.read()
            assert proc.wait(30) == 128 + signal.SIGTERM, err.decode()
            text = err.decode()
            assert len(re.findall(r"\] W Stopping on signal 15: 3 workers interrupted;", text)) == 1, text
            assert "killed by signal" not in text, text
            report = json.loads(stats.read_text())
            statuses = [f["status"] for f in report["files"]]
            assert statuses == ["failed"] * 3 + ["not_started"] * 5, (statuses, text)
    finally:
        stalled.close()


def test_one_worker_is_one_worker(mc, tmp_path):
    paths = files(tmp_path, n=1)
    mc.stop_server("gaid")
    run = Run(mc.opts() + ["--timeout", "20000", "-a", "1", str(paths[0])])
    run.wait_for(r"\] I Started ")
    send(run, signal.SIGTERM)
    res = run.finish(timeout=30)
    mc.resume_server("gaid")
    assert len(res.grep(r"\] W Stopping on signal 15: 1 worker interrupted;")) == 1, res


def test_files_finished_before_the_signal_are_renamed(mc, tmp_path):
    # The first file has only idfa records, the second waits on gaid.
    first = write_gz(tmp_path / NAMES[0], ["idfa\t%032x\t1\t2\t3" % i for i in range(50)])
    second = write_gz(tmp_path / NAMES[1], lines("s", 2000))
    mc.stop_server("gaid")
    run = Run(mc.opts() + ["-w", "2", "--timeout", "20000", str(first), str(second)])
    run.wait_for(r"\] I Renamed .*%s" % NAMES[0])
    send(run, signal.SIGTERM)
    res = run.finish(timeout=30)
    mc.resume_server("gaid")
    assert res.rc == 143, res
    assert dot(first).exists() and second.exists() and not dot(second).exists(), res
    assert len(mc.keys()["idfa"]) == 50


@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]])
def test_second_signal_ends_everything_at_once(mc, tmp_path, mode):
    # A server that never answers, a long timeout: after the first signal
    # the run would wait for it; the second must not.
    stalled = Stalled()
    paths = files(tmp_path, n=2, count=500)
    run = Run(mc.opts(gaid=stalled.addr) + mode + ["--timeout", "60000", "-a", "3"]
              + [str(p) for p in paths])
    try:
        run.wait_for(r"\] I Started .*%s" % NAMES[0])
        if mode == ["-w", "2"]:
            run.wait_for(r"\] I Started .*%s" % NAMES[1])
        time.sleep(0.3)
        if mode == ["-w", "2"]:
            # Keep the workers from dying of the first signal.
            kids = run_children(run)
            for pid in kids:
                os.kill(pid, signal.SIGSTOP)
            # A stop takes effect when the worker next runs: wait for it, or
            # the forwarded SIGTERM could reach a worker that still runs.
            for pid in kids:
                wait_stopped(pid)
        send(run, signal.SIGTERM)
        time.sleep(0.3)
        send(run, signal.SIGTERM)
        # Far below the 60 s timeout the first signal alone would wait for.
        res = run.finish(timeout=20)
    finally:
        stalled.close()
    assert res.rc == 143, res
    assert res.leftovers == []
    for p in paths:
        assert p.exists() and not dot(p).exists()


def wait_stopped(pid):
    for _ in range(500):
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    raise AssertionError("worker %d did not stop" % pid)


def run_children(run):
    pid = run.memc_load_pid()
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    kids = [int(x) for x in out.stdout.split()]
    assert len(kids) == 2, "workers under %d: %r" % (pid, kids)
    return kids


def test_sigpipe_on_stderr_does_not_kill(mc, tmp_path):
    paths = files(tmp_path, n=2, count=200)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every log line now meets EPIPE
    proc = subprocess.run([helpers.MEMC_LOAD] + mc.opts() + ["-w", "2"] + [str(p) for p in paths],
                          stderr=write_end, stdout=subprocess.DEVNULL, timeout=60)
    os.close(write_end)
    # Not killed, and the load goes on; but its log was lost: status 1.
    assert proc.returncode == 1
    for p in paths:
        assert dot(p).exists()
    assert len(mc.keys()["gaid"]) == 400


def alive(pid):
    """Running, as opposed to gone or a zombie waiting to be reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGQUIT])
def test_workers_never_outlive_the_supervisor(mc, tmp_path, sig):
    """A supervisor killed outright (SIGKILL, or SIGQUIT's core dump) cannot
    stop its workers; the kernel must (PR_SET_PDEATHSIG). Measured before:
    the workers went on loading for seconds under init, then lingered.
    Run without helpers.Run, whose subreaper would kill them itself."""
    paths = files(tmp_path, n=2, count=500)
    mc.stop_server("gaid")  # the workers wait on it, 20 s each
    # A shell runs background jobs with SIGQUIT ignored, and that is
    # inherited: give the loader the default action, or SIGQUIT does nothing.
    proc = subprocess.Popen([helpers.MEMC_LOAD] + mc.opts() + ["-w", "2", "--timeout", "20000"]
                            + [str(p) for p in paths], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGQUIT, signal.SIG_DFL))
    kids = []
    try:
        while len(kids) < 2:
            line = proc.stderr.readline().decode()
            assert line, "memc_load ended early"
            kids += [int(w) for w in re.findall(r"\(worker pid (\d+)\)", line)]
        proc.send_signal(sig)
        assert proc.wait(30) == -sig
        deadline = time.monotonic() + 10  # a bound for a hang, not a speed claim
        while any(alive(p) for p in kids) and time.monotonic() < deadline:
            time.sleep(0.01)
        left = [p for p in kids if alive(p)]
    finally:
        for p in kids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()
        mc.resume_server("gaid")
    assert left == [], "workers %r outlived the supervisor" % left
    for p in paths:
        assert p.exists() and not dot(p).exists()


@pytest.mark.parametrize("mode", [["-w", "2"], ["--serial"]])
def test_sighup_is_a_stop_request_like_sigterm(mc, tmp_path, mode):
    """The terminal went away: stop as on SIGTERM, summary and all, exit 129
    (measured before: the supervisor died at once and left its workers)."""
    paths = files(tmp_path)
    mc.stop_server("gaid")
    timeout = "2000" if mode == ["--serial"] else "20000"
    run = Run(mc.opts() + mode + ["--timeout", timeout, "-a", "1"] + [str(p) for p in paths])
    run.wait_for(r"\] I Started .*%s" % NAMES[0])
    time.sleep(0.3)  # let the worker reach the stopped server
    send(run, signal.SIGHUP)
    res = run.finish(timeout=30)
    mc.resume_server("gaid")

    assert res.rc == 129, res
    assert res.grep(r"\] W Stopped by signal %d: \d+ files not started" % signal.SIGHUP), res
    assert len(res.grep(r"\] I Summary: files 3, .*renamed 0,")) == 1, res
    for p in paths:
        assert p.exists() and not dot(p).exists()
