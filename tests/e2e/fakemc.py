"""A scriptable stand-in for memcached: enough of the text protocol's set
and stats commands, and of the meta protocol's ms and mn, to test what the
loader does when a server drops the connection, rejects records, answers
nonsense, or does not speak meta. Real memcached cannot be made to do these
on cue. Listens on 127.0.0.1 only."""

import os
import re
import socket
import threading
import time


def _peer_closed(conn):
    """Whether the loader has closed CONN (its FIN is queued, nothing before it)."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class _Listener:
    """A loopback TCP server: accepts connections and hands each, with its
    number (from 1), to self._serve(conn, number) on a thread of its own.
    .most_open is the most connections the loader held open at once: at each
    accept, those it has closed already are not counted (on loopback the FIN
    of a close() is queued before a later connect() is even sent)."""

    def __init__(self):
        self.generation = 0  # restart(): a new process, as its stats say
        self.connections = 0
        self.most_open = 0
        self._accepted = []
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
                self._accepted = [c for c in self._accepted if not _peer_closed(c)] + [conn]
                self.most_open = max(self.most_open, len(self._accepted))
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

    def pid(self):
        """The pid its stats give now."""
        with self.lock:
            return os.getpid() + self.generation

    def restart(self):
        """Become a new process, as a memcached killed and started again:
        another pid, a later start time, nothing stored."""
        with self.lock:
            self.generation += 1
            if hasattr(self, "store"):
                self.store.clear()

    def stats_reply(self):
        """What memcached answers to "stats", in part: one process (until
        restart), up since this server was made, that never evicts."""
        with self.lock:
            self.stats_asked = getattr(self, "stats_asked", 0) + 1
            if not hasattr(self, "_started"):
                self._started = int(time.time())
            g = self.generation
        now = int(time.time())
        # time - uptime is the start time the loader reads: later by G.
        return ("STAT pid %d\r\nSTAT uptime %d\r\nSTAT time %d\r\nSTAT evictions 0\r\nEND\r\n"
                % (os.getpid() + g, now - self._started, now + g)).encode()


# The meta protocol's codes for the text protocol's replies to a set.
META_CODES = {"STORED": "HD", "NOT_STORED": "NS", "EXISTS": "EX", "NOT_FOUND": "NF"}
MS = re.compile(rb"ms (\S+) (\d+) O(\d+)( q)?")


class FakeMemcached(_Listener):
    """policy(conn_no, seq, key) -> "STORED", "SERVER_ERROR ...", "DROP" (close
    the connection before answering) or any other bytes to send as the reply.
    conn_no counts connections from 1; seq counts sets on that connection.

    meta says what the server does with the meta protocol: "error" answers
    "mn" with ERROR, as memcached before 1.6 does; "close" closes the
    connection on it, as twemproxy does; "meta" speaks it: "mn" is answered
    MN, and "ms KEY LEN O<token> [q]" as a set, the policy's word turned into
    its meta code with the token (HD, NS, EX, NF; HD is not sent for a quiet
    one), any other reply sent as it is; "mn twice" answers "mn" with two
    MN, and sets as "error" does. A callable gets the connection
    number and returns one of those. .sets_as counts records by how they came:
    "set", "ms" or "ms q"."""

    def __init__(self, policy, meta="error"):
        self.policy = policy
        self.meta = meta if callable(meta) else (lambda conn: meta)
        self.store = {}
        self.on_get = None  # (conn_no, line) -> "DROP" to close instead of answering
        self.replies = {}  # reply word -> how many were sent
        self.sets_as = {}
        super().__init__()

    def _serve(self, conn, number):
        try:
            self._converse(conn, number)
        except OSError:
            pass  # the loader hung up: what it does then is what the tests check

    def _converse(self, conn, number):
        buf = b""
        seq = 0
        meta = self.meta(number)
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
                    if self.on_get is not None and self.on_get(number, line) == "DROP":
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    conn.sendall(self.get_reply(line))
                    continue
                if line == b"mn" and meta == "mn twice":
                    conn.sendall(b"MN\r\nMN\r\n")
                    continue
                if line == b"mn" and meta != "meta":
                    if meta == "close":
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    conn.sendall(b"ERROR\r\n")
                    continue
                if line == b"mn":
                    conn.sendall(b"MN\r\n")
                    continue
                words = line.split()
                m = MS.fullmatch(line) if meta == "meta" else None
                if m:
                    key, size, how = m.group(1), int(m.group(2)), "ms q" if m.group(4) else "ms"
                elif len(words) == 5 and words[0] == b"set":
                    key, size, how = words[1], int(words[4]), "set"
                else:
                    conn.sendall(b"ERROR\r\n")
                    continue
                while len(buf) < size + 2:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                value, buf = buf[:size], buf[size + 2:]
                seq += 1
                reply = self.policy(number, seq, key)
                if reply == "DROP":
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                with self.lock:
                    if reply == "STORED":
                        self.store[key] = value
                    word = reply.split()[0] if reply.split() else reply
                    self.replies[word] = self.replies.get(word, 0) + 1
                    self.sets_as[how] = self.sets_as.get(how, 0) + 1
                if m and word in META_CODES and reply == word:
                    if how == "ms q" and word == "STORED":
                        continue
                    reply = "%s O%s" % (META_CODES[word], m.group(3).decode())
                conn.sendall(reply.encode() + b"\r\n")


class StrictMemcached(_Listener):
    """A validating stand-in for memcached that checks every byte on the wire.

    The only commands allowed are exactly

        set <key> 0 0 <len>\\r\\n<len bytes>\\r\\n
        ms <key> <len> O<token>\\r\\n<len bytes>\\r\\n   (or with " q" after the token)
        mn\\r\\n

    with a key of 1 to 250 bytes, each 0x21..0x7e or 0x80..0xff (no space,
    no control byte), <len> and <token> plain decimal numbers, plus
    `quit\\r\\n` (libmemcached says it before closing; counted in .quits, and
    the server closes the connection as memcached does). With meta=False,
    ms is a violation and mn is answered ERROR (memcached before 1.6), which
    is no violation: the loader asks each connection once (.probes).
    Anything else is a protocol violation: it is recorded in .violations
    (the raw command line, cut to 200 bytes) and answered ERROR, as memcached
    would, and the server reads on from the next "\\r\\n". A good set is
    stored in .store (the last value per key) and answered STORED (an ms: HD
    with its token, nothing when quiet; mn: MN)."""

    COMMAND = re.compile(rb"set ([\x21-\x7e\x80-\xff]{1,250}) 0 0 (0|[1-9][0-9]{0,8})")
    META = re.compile(rb"ms ([\x21-\x7e\x80-\xff]{1,250}) (0|[1-9][0-9]{0,8}) O(0|[1-9][0-9]{0,8})( q)?")
    GET = re.compile(rb"get( [\x21-\x7e\x80-\xff]{1,250})+")

    def __init__(self, meta=True):
        self.meta = meta
        self.store = {}
        self.sets = 0
        self.quits = 0
        self.probes = 0
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
                if line == b"mn":
                    with self.lock:
                        self.probes += not self.meta
                    conn.sendall(b"MN\r\n" if self.meta else b"ERROR\r\n")
                    continue
                m = self.COMMAND.fullmatch(line) or (self.meta and self.META.fullmatch(line))
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
                if line.startswith(b"set "):
                    conn.sendall(b"STORED\r\n")
                elif not m.group(4):
                    conn.sendall(b"HD O" + m.group(3) + b"\r\n")
