#!/usr/bin/python3
"""memcached.py -- start and stop private memcached servers on free loopback ports.

Used by scripts/demo.sh and the end-to-end tests. Every server is started by
us, on 127.0.0.1 only, and stopped by its pid: we never touch a memcached we
did not start.

As a module:
    servers = start(4)          # [(port, pid), ...]; start(1, ["-I", "2m"]) passes args on
    flush(port)                 # flush_all: an empty server for the next test
    stop(pid for _, pid in servers)

From the shell:
    scripts/memcached.py start N STATEFILE [-- EXTRA MEMCACHED ARGS]
        prints one 127.0.0.1:PORT line per server, writes their pids to STATEFILE
    scripts/memcached.py stop STATEFILE
        stops exactly the pids listed in STATEFILE
"""

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
MEMCACHED = os.environ.get("MEMCACHED", "memcached")
BASE_ARGS = ["-u", "root", "-l", HOST, "-U", "0", "-t", "1", "-m", "64"]
START_TIMEOUT = 10.0  # seconds for one server to accept connections
START_TRIES = 5  # ports tried per server before giving up

# Popen objects of the servers this process started, so stop() can reap them.
_procs = {}


def free_port():
    """Return a loopback TCP port that was free a moment ago.

    Another process may take it before memcached binds it; start() retries
    with a new port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _accepts(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class Session:
    """A text-protocol conversation with one memcached: to HOST:port, to
    host:port, or to the unix socket at path. Usable as a context manager."""

    def __init__(self, port, host=HOST, path=None, timeout=10):
        if path is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
            except BaseException:
                self.sock.close()
                raise
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("memcached closed the connection")
        self.buf += chunk

    def readline(self, sep=b"\r\n"):
        while sep not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(sep, 1)
        return line

    def lines(self, n):
        """Read n reply lines (without their CRLF) at once."""
        while self.buf.count(b"\r\n") < n:
            self._fill()
        out = self.buf.split(b"\r\n", n)
        self.buf = out.pop()
        return out

    def readexact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def owns_listener(pid, table, want):
    """Does pid hold a socket listening at WANT ("ADDR:PORT" as /proc/net/TABLE
    writes it)? None when /proc cannot tell."""
    try:
        with open("/proc/net/" + table) as f:
            inodes = {
                cols[9]
                for cols in (line.split() for line in f.readlines()[1:])
                if cols[1] == want and cols[3] == "0A"  # 0A: LISTEN
            }
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def _listens(pid, port):
    """Is pid listening on HOST:port? Falls back to a connect without /proc."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(HOST), "little"), port)
    owns = owns_listener(pid, "tcp", want)
    return _accepts(port) if owns is None else owns


def _wait_ready(proc, port, err):
    """Wait until our server on port accepts connections: (True, None), or
    (False, reason) if it exits or stays silent."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err.seek(0)
            return False, "memcached on port %d exited %d: %s" % (
                port,
                proc.returncode,
                err.read().decode(errors="replace").strip(),
            )
        # Someone else may have taken the port first: the listening socket
        # must be one of our process's own.
        if _listens(proc.pid, port):
            return True, None
        time.sleep(0.02)
    return False, "memcached on port %d did not accept connections" % port


def _start_one(extra_args):
    """Start one server; return (port, pid) or raise RuntimeError."""
    last = "no attempt"
    for _ in range(START_TRIES):
        port = free_port()
        cmd = [MEMCACHED] + BASE_ARGS + ["-p", str(port)] + list(extra_args)
        # stderr goes to a file, not a pipe: the server outlives the CLI and
        # must not die of SIGPIPE if it ever writes a warning.
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # a ^C at the terminal is the caller's to handle
            )
            try:
                ready, last = _wait_ready(proc, port, err)
            except BaseException:
                _stop_pid(proc.pid, proc)
                raise
            if ready:
                _procs[proc.pid] = proc
                return port, proc.pid
            _stop_pid(proc.pid, proc)
    raise RuntimeError("cannot start memcached: " + last)


def start(n, extra_args=(), stop_at_exit=False):
    """Start n servers; return [(port, pid), ...]. On failure stop those started.

    With stop_at_exit, servers still running when this Python process exits
    are stopped then: a safety net for test runs that die half way.
    """
    servers = []
    try:
        for _ in range(n):
            servers.append(_start_one(extra_args))
    except BaseException:
        stop(pid for _, pid in servers)
        raise
    if stop_at_exit:
        pids = [pid for _, pid in servers]
        atexit.register(lambda: stop(pid for pid in pids if pid in _procs))
    return servers


def _alive(pid, proc=None):
    if proc is not None:
        return proc.poll() is None
    try:
        # Reap it if it is our child (the module case); ignore otherwise.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _wait_gone(pid, proc, grace):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid, proc):
            return True
        time.sleep(0.02)
    return False


def _stop_pid(pid, proc=None, grace=5.0, term=True):
    if proc is None:
        proc = _procs.get(pid)
    try:
        if term:
            os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, proc, grace):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, proc, grace)
    except ProcessLookupError:
        pass
    _procs.pop(pid, None)


def _is_memcached(pid):
    """Guard for the CLI: a pid from a stale state file may have been reused."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(argv0) == os.path.basename(MEMCACHED).encode()


def stop(pids):
    """Stop exactly these pids: SIGTERM to all, wait, SIGKILL any still there."""
    pids = [int(pid) for pid in pids]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in pids:
        _stop_pid(pid, term=False)


def flush(port, timeout=5.0):
    """Empty one server (flush_all) so each test starts from zero items."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(b"flush_all\r\n")
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(64)
            if not chunk:
                break
            buf += chunk
    if buf != b"OK\r\n":
        raise RuntimeError("flush_all on port %d answered %r" % (port, buf))


def _usage():
    sys.stderr.write(
        "usage: memcached.py start N STATEFILE [-- MEMCACHED ARGS...]\n"
        "       memcached.py stop STATEFILE\n"
    )
    return 2


def main(argv):
    if len(argv) >= 3 and argv[0] == "start":
        try:
            n = int(argv[1])
        except ValueError:
            return _usage()
        extra = argv[3:]
        if extra and extra[0] == "--":
            extra = extra[1:]
        if n < 1:
            return _usage()
        try:
            servers = start(n, extra)
        except RuntimeError as e:
            sys.stderr.write("memcached.py: %s\n" % e)
            return 1
        try:
            with open(argv[2], "w") as f:
                for _, pid in servers:
                    f.write("%d\n" % pid)
        except BaseException as e:
            stop(pid for _, pid in servers)
            sys.stderr.write("memcached.py: %s: %s\n" % (argv[2], e))
            return 1
        for port, _ in servers:
            print("%s:%d" % (HOST, port))
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        try:
            with open(argv[1]) as f:
                pids = [int(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            sys.stderr.write("memcached.py: %s: %s\n" % (argv[1], e))
            return 1
        stop(pid for pid in pids if _is_memcached(pid))
        return 0
    return _usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
