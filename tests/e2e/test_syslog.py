"""--syslog: the messages reach /dev/log with facility daemon, each level as
its priority and each process's own pid, the supervisor's and its
workers'; -q still leaves out information; nothing on stderr unless it is
a terminal, where the lines are written too.

glibc's syslog(3) sends to the datagram socket /dev/log. memc_load runs in
a mount namespace of its own (unshare --mount, as root) whose /dev is a
tmpfs holding the few devices a process needs and, as log, a link to a
socket this test reads: the machine's /dev is not touched."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading

import pytest

import helpers
from helpers import Run, write_gz

# Run as: sh -c DEV_SETUP sh DIR memc_load ARGS... (in the new namespace).
DEV_SETUP = r"""
set -e
d=$1
shift
mkdir -p "$d/dev"
mount --rbind /dev "$d/dev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
	: >"/dev/$n"
	mount --bind "$d/dev/$n" "/dev/$n"
done
ln -s "$d/log.sock" /dev/log
exec "$@"
"""

FACILITY_DAEMON = 3
LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG = 3, 4, 6, 7
# <PRI>Mmm dd hh:mm:ss memc_load[PID]: message (RFC 3164, as glibc sends it)
MESSAGE = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d memc_load\[(\d+)\]: (.*)$",
                     re.S)


def unshare_permitted():
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "true"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


pytestmark = pytest.mark.skipif(
    not unshare_permitted(),
    reason="unshare --mount is not permitted here (needs root or CAP_SYS_ADMIN), and "
           "without a mount namespace of its own the test cannot own /dev/log")


class Syslog:
    """A /dev/log of the test's own: a datagram socket read as it comes."""

    def __init__(self):
        # A short path: a unix socket's must fit in sun_path.
        self.dir = tempfile.mkdtemp(prefix="memc_load-syslog.")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(self.dir, "log.sock"))
        self.datagrams = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if data == b"stop":
                return
            self.datagrams.append(data)

    def wrapper(self):
        return ["unshare", "--mount", "sh", "-c", DEV_SETUP, "sh", self.dir]

    def messages(self):
        """Stop reading; [(facility, severity, pid, message)] in order."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"stop", os.path.join(self.dir, "log.sock"))
        self._thread.join(10)
        out = []
        for d in self.datagrams:
            m = MESSAGE.match(d)
            assert m, d
            pri = int(m.group(1))
            out.append((pri >> 3, pri & 7, int(m.group(2)), m.group(3).decode()))
        return out

    def close(self):
        self.sock.close()
        # The namespace's mounts went with its last process: only files left.
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def syslog():
    s = Syslog()
    yield s
    s.close()


def find(messages, severity, pid, pattern):
    return [m for f, s, p, m in messages if s == severity and p == pid and re.search(pattern, m)]


def test_supervisor_and_worker_messages_with_their_levels(syslog, tmp_path):
    path = write_gz(tmp_path / "20170929000000.tsv.gz",
                    ["gaid\tsys-%d\t1\t2\t3" % i for i in range(3)] + ["not a record"])
    done = write_gz(tmp_path / ".20170928000000.tsv.gz", ["gaid\tdone\t1\t2\t3"])

    # --dry logs every record at debug level, in the worker.
    res = Run(["--syslog", "--dry", "-w", "1", str(done), str(path)],
              wrapper=syslog.wrapper()).finish()
    messages = syslog.messages()

    assert res.rc == 1, res  # the bad line's error rate
    assert res.err == "" and res.out == "", res  # stderr is not a terminal: syslog only
    assert {f for f, _, _, _ in messages} == {FACILITY_DAEMON}, messages
    sup = res.pid
    [started] = find(messages, LOG_INFO, sup, r"^Started %s \(worker pid \d+\)$" % re.escape(str(path)))
    worker = int(re.search(r"worker pid (\d+)", started).group(1))
    assert worker != sup
    assert len(find(messages, LOG_DEBUG, worker, r"^127\.0\.0\.1:\d+ - gaid:sys-\d -> apps: \[3\]")) == 3
    assert find(messages, LOG_DEBUG, worker, r"^%s:4: fields error$" % re.escape(str(path)))
    assert find(messages, LOG_WARNING, sup, r"^Skipping %s: its name starts with '\.'" % re.escape(str(done)))
    assert find(messages, LOG_ERR, sup, r"^%s: High error rate" % re.escape(str(path)))
    assert find(messages, LOG_INFO, sup, r"^Summary: files 1, loaded 1, ")
    # Only these two processes, and no line prefix of our own in a message.
    assert {p for _, _, p, _ in messages} == {sup, worker}, messages
    assert not [m for *_, m in messages if re.match(r"^\[\d{4}\.|^[EWID] ", m)], messages


def test_quiet_keeps_warnings_and_errors_only(syslog, mc, tmp_path):
    """A dead idfa server: the worker logs the undelivered records as an
    error, the supervisor the failed file and the held-back one."""
    failed = write_gz(tmp_path / "20170929000000.tsv.gz", ["idfa\tq-%d\t1\t2\t3" % i for i in range(3)])
    held = write_gz(tmp_path / "20170929000100.tsv.gz", ["gaid\tq\t1\t2\t3"])
    dead = "127.0.0.1:%d" % helpers.free_port()

    res = Run(mc.opts(idfa=dead) + ["--syslog", "-q", "-a", "1", "-w", "1", str(failed), str(held)],
              wrapper=syslog.wrapper()).finish()
    messages = syslog.messages()

    assert res.rc == 1, res
    assert res.err == "", res
    assert {f for f, _, _, _ in messages} == {FACILITY_DAEMON}, messages
    assert {s for _, s, _, _ in messages} <= {LOG_ERR, LOG_WARNING}, messages
    sup = res.pid
    assert find(messages, LOG_ERR, sup, r"^%s failed: " % re.escape(str(failed)))
    assert find(messages, LOG_WARNING, sup, r"^Held back %s: " % re.escape(str(held)))
    workers = [p for _, s, p, m in messages if s == LOG_ERR and p != sup and dead in m]
    assert workers, messages


def test_on_a_terminal_the_lines_are_shown_too(syslog, tmp_path):
    path = write_gz(tmp_path / "20170929000000.tsv.gz", ["dvid\tt\t1\t2\t3"])
    status, out = helpers.run_on_terminal(syslog.wrapper() + [
        helpers.MEMC_LOAD, "--syslog", "--dry", "-q", "--no-progress", "-w", "1", str(path),
        str(tmp_path / "missing.tsv.gz")])
    assert status == 1, out
    messages = syslog.messages()

    # The same messages both ways; in the same order only within a process.
    letters = {LOG_ERR: "E", LOG_WARNING: "W", LOG_INFO: "I", LOG_DEBUG: "D"}
    shown = sorted(re.sub(r"^\[[^]]*\] ", "", l) for l in out.decode().splitlines()
                   if helpers.LOG_LINE.match(l))
    logged = sorted("%s %s" % (letters[s], m) for _, s, _, m in messages)
    assert shown and shown == logged, (out, messages)
    assert any("missing.tsv.gz" in m for m in logged), messages
