"""A scriptable stand-in for memcached: enough of the text protocol's set
and stats commands to test what the loader does when a server drops the
connection, rejects records, or answers nonsense. Real memcached cannot be
made to do these on cue. Listens on 127.0.0.1 only."""

import os
import re
import socket
import threading
import time


class _Listener:
    """A loopback TCP server: accepts connections and hands each, with its
    number (from 1), to self._serve(conn, number) on a thread of its own."""

    def __init__(self):
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def close(self):
        self.closing = True
        self.sock.close()

    def get_reply(self, line):
        """What memcached answers to "get k1 k2 ...": a VALUE block for each
        stored key, in the order asked, then END."""
        out = []
        with self.lock:
            self.gets = getattr(self, "gets", 0) + 1
            for key in line.split()[1:]:
                if key in self.store:
                    value = self.store[key]
                    out.append(b"VALUE %s 0 %d\r\n%s\r\n" % (key, len(value), value))
        return b"".join(out) + b"END\r\n"

    def stats_reply(self):
        """What memcached answers to "stats", in part: one process, up since
        this server was made, that never evicts."""
        with self.lock:
            self.stats_asked = getattr(self, "stats_asked", 0) + 1
            if not hasattr(self, "_started"):
                self._started = int(time.time())
        now = int(time.time())
        return ("STAT pid %d\r\nSTAT uptime %d\r\nSTAT time %d\r\nSTAT evictions 0\r\nEND\r\n"
                % (os.getpid(), now - self._started, now)).encode()


class FakeMemcached(_Listener):
    """policy(conn_no, seq, key) -> "STORED", "SERVER_ERROR ...", "DROP" (close
    the connection before answering) or any other bytes to send as the reply.
    conn_no counts connections from 1; seq counts sets on that connection."""

    def __init__(self, policy):
        self.policy = policy
        self.store = {}
        self.replies = {}  # reply word -> how many were sent
        super().__init__()

    def _serve(self, conn, number):
        try:
            self._converse(conn, number)
        except OSError:
            pass  # the loader hung up: what it does then is what the tests check

    def _converse(self, conn, number):
        buf = b""
        seq = 0
        with conn:
            while True:
                while b"\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                line, buf = buf.split(b"\r\n", 1)
                if line == b"stats":
                    conn.sendall(self.stats_reply())
                    continue
                if line.startswith(b"get "):
                    conn.sendall(self.get_reply(line))
                    continue
                words = line.split()
                if len(words) != 5 or words[0] != b"set":
                    conn.sendall(b"ERROR\r\n")
                    continue
                size = int(words[4])
                while len(buf) < size + 2:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                value, buf = buf[:size], buf[size + 2:]
                seq += 1
                reply = self.policy(number, seq, words[1])
                if reply == "DROP":
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                with self.lock:
                    if reply == "STORED":
                        self.store[words[1]] = value
                    word = reply.split()[0] if reply.split() else reply
                    self.replies[word] = self.replies.get(word, 0) + 1
                conn.sendall(reply.encode() + b"\r\n")


class StrictMemcached(_Listener):
    """A validating stand-in for memcached that checks every byte on the wire.

    The only command allowed is exactly

        set <key> 0 0 <len>\\r\\n<len bytes>\\r\\n

    with a key of 1 to 250 bytes, each 0x21..0x7e or 0x80..0xff (no space,
    no control byte), and <len> a plain decimal number, plus `quit\\r\\n`
    (libmemcached says it before closing; counted in .quits, and the server
    closes the connection as memcached does). Anything else is a
    protocol violation: it is recorded in .violations (the raw command line,
    cut to 200 bytes) and answered ERROR, as memcached would, and the server
    reads on from the next "\\r\\n". A good set is stored in .store (the last
    value per key) and answered STORED."""

    COMMAND = re.compile(rb"set ([\x21-\x7e\x80-\xff]{1,250}) 0 0 (0|[1-9][0-9]{0,8})")
    GET = re.compile(rb"get( [\x21-\x7e\x80-\xff]{1,250})+")

    def __init__(self):
        self.store = {}
        self.sets = 0
        self.quits = 0
        self.violations = []
        super().__init__()

    def _violation(self, conn, what):
        with self.lock:
            self.violations.append(what[:200])
        conn.sendall(b"ERROR\r\n")

    def _serve(self, conn, number):
        try:
            self._converse(conn)
        except OSError:
            pass

    def _converse(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n" not in buf:
                    if len(buf) > 4096:  # no command line is this long
                        self._violation(conn, buf)
                        buf = b""
                    data = conn.recv(65536)
                    if not data:
                        if buf:
                            with self.lock:
                                self.violations.append(b"unterminated at close: " + buf[:200])
                        return
                    buf += data
                line, buf = buf.split(b"\r\n", 1)
                if line == b"quit":
                    with self.lock:
                        self.quits += 1
                    return
                if line == b"stats":
                    conn.sendall(self.stats_reply())
                    continue
                if self.GET.fullmatch(line):
                    conn.sendall(self.get_reply(line))
                    continue
                m = self.COMMAND.fullmatch(line)
                if not m:
                    self._violation(conn, line)
                    continue
                size = int(m.group(2))
                while len(buf) < size + 2:
                    data = conn.recv(65536)
                    if not data:
                        with self.lock:
                            self.violations.append(b"data cut short: " + line[:200])
                        return
                    buf += data
                value, end, buf = buf[:size], buf[size:size + 2], buf[size + 2:]
                if end != b"\r\n":
                    self._violation(conn, b"data block not ended by CRLF: " + line)
                    continue
                with self.lock:
                    self.store[m.group(1)] = value
                    self.sets += 1
                conn.sendall(b"STORED\r\n")
