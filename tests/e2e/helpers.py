"""helpers.py -- what the end-to-end tests share.

Running memc_load (with a time limit, and under a child-subreaper so any
process it leaves behind is caught), talking to memcached over its text
protocol with a plain socket, writing gzip inputs, reading the log.
"""

import gzip
import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMC_LOAD = os.path.abspath(os.environ.get("MEMC_LOAD") or os.path.join(ROOT, "memc_load"))
PYTHON = sys.executable
TYPES = ("idfa", "gaid", "adid", "dvid")
HOST = "127.0.0.1"

# A hang must fail the test, not CI: generous, never a performance claim.
RUN_TIMEOUT = 60

LOG_LINE = re.compile(r"^\[\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d\] [IWED] .+")

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import memcached  # noqa: E402  (scripts/memcached.py)

# Runs memc_load as its child after making itself a child subreaper: when
# memc_load exits, any worker it did not reap (zombie) or left running
# (orphan) is re-parented here instead of to init, and is reported.
REAPER = r"""
import ctypes, json, os, resource, signal, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.stderr.write("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed\n")
    sys.exit(125)
report, argv = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(argv)
with open(report + ".pid", "w") as f:
    f.write(str(child.pid))
rc = child.wait()
# Largest resident set of memc_load and of every worker it reaped (KiB).
maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
me, left = os.getpid(), []
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % name) as f:
            stat = f.read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    if int(fields[1]) == me:
        left.append({"pid": int(name), "state": fields[0],
                     "comm": stat[stat.index("(") + 1:stat.rindex(")")]})
for p in left:
    try:
        os.kill(p["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pass
for p in left:
    try:
        os.waitpid(p["pid"], 0)
    except ChildProcessError:
        pass
with open(report, "w") as f:
    json.dump({"rc": rc, "leftovers": left, "maxrss_kib": maxrss}, f)
sys.exit(rc if rc >= 0 else 128 - rc)
"""


class Result:
    """A finished memc_load run."""

    def __init__(self, rc, out, err, leftovers, pid, maxrss_kib):
        self.rc = rc
        self.maxrss_kib = maxrss_kib
        self.out = out
        self.err = err
        self.lines = err.splitlines()
        self.leftovers = leftovers
        self.pid = pid

    def __repr__(self):
        return "<memc_load exit %s>\n--- stdout\n%s--- stderr\n%s" % (
            self.rc,
            self.out,
            self.err,
        )

    def grep(self, pattern):
        """Log lines (message part) matching a regex, in order."""
        rx = re.compile(pattern)
        return [line for line in self.lines if rx.search(line)]

    def messages(self, level=None):
        """(level, message) of each log line, optionally only one level."""
        out = []
        for line in self.lines:
            m = re.match(r"^\[[^]]*\] ([IWED]) (.*)$", line)
            if m and (level is None or m.group(1) == level):
                out.append((m.group(1), m.group(2)))
        return out

    def finished(self, path):
        """Counts of the Finished line for path, as a dict, or None."""
        rx = re.compile(
            r"\] I Finished (.+?): lines=(\d+) processed=(\d+) errors=(\d+)"
            r"(?: \(([^)]*)\))? blank=(\d+) apps_dropped=(\d+) coords_dropped=(\d+)"
        )
        found = None
        for line in self.lines:
            m = rx.search(line)
            if m and m.group(1) == str(path):
                assert found is None, "two Finished lines for %s" % path
                kinds = {}
                for item in (m.group(5) or "").split():
                    k, v = item.split("=")
                    kinds[k] = int(v)
                found = {
                    "lines": int(m.group(2)),
                    "processed": int(m.group(3)),
                    "errors": int(m.group(4)),
                    "kinds": kinds,
                    "blank": int(m.group(6)),
                    "apps_dropped": int(m.group(7)),
                    "coords_dropped": int(m.group(8)),
                }
        return found

    def renamed(self):
        """Source paths of the Renamed lines, in log order."""
        rx = re.compile(r"\] I Renamed (.+) to ")
        return [m.group(1) for m in map(rx.search, self.lines) if m]

    def worker_pids(self):
        """The pids of every worker the log names: loads and repairs."""
        return [int(p) for p in re.findall(r"\(worker pid (\d+)\)", self.err)]

    def load_pids(self):
        """The pids of the workers that loaded a file, one per file started."""
        return [int(p) for p in re.findall(r"^\S+ \S+ I Started .* \(worker pid (\d+)\)$",
                                           self.err, re.M)]


class Run:
    """memc_load running in the background; its stderr is read as it comes."""

    def __init__(self, args, env=None, cwd=None, wrapper=()):
        """wrapper: argv run in front of memc_load (setpriv, valgrind), which
        must exec it in the same process.

        A run gets --verify 0 unless it says otherwise: the default read-back
        samples records at random, with a connection of its own per server,
        and most tests count connections, log lines or keys exactly.
        test_verify.py covers the read-back, and its default."""
        if not any(str(a).startswith("--verify") for a in args):
            args = ["--verify", "0"] + list(args)
        self._dir = tempfile.mkdtemp(prefix="memc_load-run.")
        self._report = os.path.join(self._dir, "report.json")
        self.proc = subprocess.Popen(
            [PYTHON, "-c", REAPER, self._report]
            + [str(a) for a in wrapper]
            + [MEMC_LOAD]
            + [str(a) for a in args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed whole on timeout
            env=env,
            cwd=cwd,
        )
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._eof = 0
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, buf):
        while True:
            chunk = stream.read1(65536)
            with self._cond:
                if not chunk:
                    self._eof += 1
                    self._cond.notify_all()
                    return
                buf += chunk
                self._cond.notify_all()

    def err_text(self):
        with self._cond:
            return self._err.decode(errors="replace")

    def memc_load_pid(self):
        try:
            with open(self._report + ".pid") as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def wait_for(self, pattern, timeout=RUN_TIMEOUT):
        """Wait until a stderr line matches pattern; return the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._err.decode(errors="replace"))
                if m:
                    return m
                left = deadline - time.monotonic()
                if self._eof == 2 or left <= 0:
                    break
                self._cond.wait(left)
        self.kill()
        raise AssertionError(
            "no log line matching %r (memc_load %s)\n--- stderr\n%s"
            % (pattern, "exited" if self._eof == 2 else "timed out", self.err_text())
        )

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def finish(self, timeout=RUN_TIMEOUT, check_leftovers=True):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                "memc_load did not finish within %d s\n--- stderr\n%s" % (timeout, self.err_text())
            )
        for t in self._threads:
            t.join(10)
        with open(self._report) as f:
            report = json.load(f)
        pid = self.memc_load_pid()
        shutil.rmtree(self._dir, ignore_errors=True)
        res = Result(
            report["rc"],
            self._out.decode(errors="replace"),
            self._err.decode(errors="replace"),
            report["leftovers"],
            pid,
            report["maxrss_kib"],
        )
        if check_leftovers:
            assert res.leftovers == [], "memc_load left processes behind: %r\n%r" % (
                res.leftovers,
                res,
            )
        return res


def run(args, timeout=RUN_TIMEOUT, **kw):
    """Run memc_load to the end; a hang fails the test after timeout seconds."""
    check = kw.pop("check_leftovers", True)
    return Run(args, **kw).finish(timeout, check_leftovers=check)


def stop_when_holding(r, server, at_least):
    """SIGSTOP SERVER once it holds AT_LEAST items: it has acknowledged
    records that a restart loses, and the loader, waiting for its replies,
    cannot finish the file before the restart."""
    deadline = time.monotonic() + 30
    while int(server.stats()["curr_items"]) < at_least:
        assert time.monotonic() < deadline, "the server got no records\n" + r.err_text()
        time.sleep(0.001)
    os.kill(server.pid, signal.SIGSTOP)


def write_gz(path, lines, final_newline=True):
    """Write lines (bytes or str) as a gzip file; return the path."""
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    if final_newline and lines:
        data += b"\n"
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=1))
    return path


def gz_content(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def dot(path):
    """Where memc_load renames a loaded file."""
    return path.parent / ("." + path.name)


class Server:
    """One memcached we started, spoken to over the text protocol."""

    def __init__(self, port, pid):
        self.port = port
        self.pid = pid
        self.addr = "%s:%d" % (HOST, port)

    def _session(self):
        return _Conn(self.port)

    def flush(self):
        memcached.flush(self.port)

    def get_many(self, keys):
        """{key: (flags, value)} for the keys the server has."""
        found = {}
        with self._session() as c:
            for key in keys:
                c.send(b"get " + key + b"\r\n")
                while True:
                    line = c.readline()
                    if line == b"END":
                        break
                    parts = line.split(b" ")
                    assert parts[0] == b"VALUE" and len(parts) == 4, line
                    value = c.readexact(int(parts[3]) + 2)[:-2]
                    found[parts[1]] = (int(parts[2]), value)
        return found

    def keys(self):
        """Every live key on the server (lru_crawler metadump), as bytes."""
        keys = set()
        with self._session() as c:
            c.send(b"lru_crawler metadump all\r\n")
            while True:
                line = c.readline(sep=b"\n").rstrip(b"\r")
                if line == b"END":
                    return keys
                assert line.startswith(b"key="), line
                keys.add(urllib.parse.unquote_to_bytes(line.split(b" ")[0][4:]))

    def stats(self):
        out = {}
        with self._session() as c:
            c.send(b"stats\r\n")
            while True:
                line = c.readline()
                if line == b"END":
                    return out
                _, name, value = line.decode().split(" ", 2)
                out[name] = value


# One text-protocol session, shared with the bench (scripts/memcached.py).
_Conn = memcached.Session


def free_port():
    """A loopback port with nothing listening on it (a moment ago)."""
    return memcached.free_port()


class Stalled:
    """A TCP server that accepts connections (via the kernel backlog) and
    never reads or answers: a memcached that hangs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.addr = "%s:%d" % self.sock.getsockname()

    def close(self):
        self.sock.close()


def memcached_on(port, extra_args=()):
    """Start a memcached of our own on this very port (to restart one that
    was killed); a Server. Stop it with memcached.stop([server.pid])."""
    cmd = [memcached.MEMCACHED] + memcached.BASE_ARGS + ["-p", str(port)] + list(extra_args)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        try:
            ready, why = memcached._wait_ready(proc, port, err)
        except BaseException:
            memcached._stop_pid(proc.pid, proc)
            raise
    if not ready:
        memcached._stop_pid(proc.pid, proc)
        raise RuntimeError(why)
    memcached._procs[proc.pid] = proc
    return Server(port, proc.pid)


def kill_memcached(server):
    """SIGKILL one memcached we started and reap it: its memory is gone."""
    proc = memcached._procs.pop(server.pid, None)
    try:
        os.kill(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc is not None:
        proc.wait(10)


# -- memcached on a unix socket or on ::1, and twemproxy in front of some --

V6_HOST = "::1"
NUTCRACKER = os.environ.get("NUTCRACKER", "nutcracker")


class UnixServer(Server):
    """A memcached we started on a unix socket only (memcached -s turns
    TCP off); addr is the socket's path, as memc_load takes it."""

    def __init__(self, path, pid):
        super().__init__(0, pid)
        self.path = path
        self.addr = path

    def _session(self):
        return _Conn(None, path=self.path)

    def flush(self):
        _flush(self)


class V6Server(Server):
    """A memcached we started on [::1]:port."""

    def __init__(self, port, pid):
        super().__init__(port, pid)
        self.addr = "[%s]:%d" % (V6_HOST, port)

    def _session(self):
        return _Conn(self.port, host=V6_HOST)

    def flush(self):
        _flush(self)


def _flush(server):
    with server._session() as c:
        c.send(b"flush_all\r\n")
        line = c.readline()
    if line != b"OK":
        raise RuntimeError("flush_all on %s answered %r" % (server.addr, line))


def ipv6_loopback():
    """Can this machine bind ::1? (Not in every container.)"""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((V6_HOST, 0))
        return True
    except OSError:
        return False


def _free_port6():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind((V6_HOST, 0))
        return s.getsockname()[1]


def _listens6(pid, port):
    """Is pid listening on [::1]:port? (/proc/net/tcp6 writes ::1 as four
    little-endian words.)"""
    return bool(memcached.owns_listener(pid, "tcp6", "00000000000000000000000001000000:%04X" % port))


def _spawn(cmd, ready):
    """Start cmd and wait until ready(pid) says it serves: (Popen, None), or
    (None, why) if it exited first (say, a port taken in the meantime) or
    did not serve in time."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        deadline = time.monotonic() + memcached.START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if ready(proc.pid):
                    return proc, None
                time.sleep(0.02)
        except BaseException:
            memcached._stop_pid(proc.pid, proc)
            raise
        memcached._stop_pid(proc.pid, proc)
        err.seek(0)
        return None, "%s: exit %s: %s" % (
            " ".join(cmd), proc.returncode, err.read().decode(errors="replace").strip())


def _memcached_args(listen):
    """memcached.BASE_ARGS listening on listen instead of 127.0.0.1."""
    args = list(memcached.BASE_ARGS)
    args[args.index("-l") + 1] = listen
    return [memcached.MEMCACHED] + args


def memcached_unix(path):
    """Start a memcached of our own on a unix socket at path (in a directory
    of the test's own, mode 0700); a UnixServer. Stop it with
    memcached.stop([server.pid])."""

    def ready(_pid):
        try:
            with _Conn(None, path=path):
                return True
        except OSError:
            return False

    proc, why = _spawn(_memcached_args(HOST) + ["-s", path, "-a", "0700"], ready)
    if proc is None:
        raise RuntimeError("cannot start memcached on %s: %s" % (path, why))
    memcached._procs[proc.pid] = proc
    return UnixServer(path, proc.pid)


def memcached_v6():
    """Start a memcached of our own on [::1] and a free port; a V6Server.
    Stop it with memcached.stop([server.pid])."""
    why = "no attempt"
    for _ in range(memcached.START_TRIES):
        port = _free_port6()
        cmd = _memcached_args(V6_HOST) + ["-p", str(port)]
        proc, why = _spawn(cmd, lambda pid: _listens6(pid, port))
        if proc is not None:
            memcached._procs[proc.pid] = proc
            return V6Server(port, proc.pid)
    raise RuntimeError("cannot start memcached on ::1: " + why)


class Nutcracker:
    """twemproxy (Debian's nutcracker) on a free loopback port in front of
    servers (their HOST:PORT addrs), with ketama over MD5 and no
    auto-eject. Its stats listener gets a free loopback port too (the
    default is 0.0.0.0:22222); its config, log and pid file live in
    workdir. stop() ends exactly the process started here."""

    def __init__(self, servers, workdir):
        self.workdir = str(workdir)
        conf = os.path.join(self.workdir, "nutcracker.yml")
        why = "no attempt"
        for _ in range(memcached.START_TRIES):
            port, stats = free_port(), free_port()
            if port == stats:
                continue
            with open(conf, "w") as f:
                f.write("pool:\n"
                        "  listen: %s:%d\n"
                        "  hash: md5\n"
                        "  distribution: ketama\n"
                        "  timeout: 5000\n"
                        "  auto_eject_hosts: false\n"
                        "  servers:\n" % (HOST, port))
                for addr in servers:
                    f.write("    - %s:1\n" % addr)
            cmd = [NUTCRACKER, "-c", conf, "-s", str(stats), "-a", HOST,
                   "-o", os.path.join(self.workdir, "nutcracker.log"),
                   "-p", os.path.join(self.workdir, "nutcracker.pid")]
            proc, why = _spawn(cmd, lambda pid: memcached._listens(pid, port)
                               and memcached._listens(pid, stats))
            if proc is not None:
                self.proc = proc
                self.port = port
                self.addr = "%s:%d" % (HOST, port)
                # What memc_load stored, read back through the proxy.
                self.server = Server(port, proc.pid)
                return
        raise RuntimeError("cannot start nutcracker: %s\n%s" % (why, self.log()))

    def log(self):
        try:
            with open(os.path.join(self.workdir, "nutcracker.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        memcached._stop_pid(self.proc.pid, self.proc)


def run_on_terminal(argv, timeout=None):
    """Run ARGV with a pseudo-terminal as its stderr; return (exit status,
    what it wrote there)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=timeout or RUN_TIMEOUT), out
