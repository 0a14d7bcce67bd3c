"""check.py -- after a run: does every expected key hold its expected value,
the record of its last line in the newest file that has it (the serial
original's state)? Every key is read back and its value's digest compared
(values.py); a wrong value is traced to the line it came from, so a stale
one (an older file's record) is named as such. Over memcached's meta
protocol (mg KEY v), on a plain socket."""

import gzip
import os

from .common import DEV_TYPES
from . import values
import memcached  # noqa: E402  scripts/memcached.py, on sys.path through bench.common

CHECK_CHUNK = 1000  # keys per pipelined batch: its requests and replies fit socket buffers


class Conn(memcached.Session):
    """A session with one of our servers: stats, and values read back."""

    def __init__(self, port):
        super().__init__(port, timeout=30)

    def stats(self):
        self.sock.sendall(b"stats\r\n")
        out = {}
        while True:
            line = self.lines(1)[0]
            if line == b"END":
                return out
            _, name, value = line.decode().split(" ", 2)
            out[name] = value

    def get_many(self, keys):
        """The value of each of keys (a list), None where the server has none."""
        self.sock.sendall(b"".join(b"mg " + k + b" v\r\n" for k in keys))
        buf, pos, out = self.buf, 0, []
        for k in keys:
            eol = buf.find(b"\r\n", pos)
            while eol < 0:
                buf, pos = buf[pos:] + self._recv(), 0
                eol = buf.find(b"\r\n")
            head = buf[pos:eol]
            if head == b"EN":
                out.append(None)
                pos = eol + 2
                continue
            if not head.startswith(b"VA "):
                raise ConnectionError("bad mg reply for %r: %r" % (k, head[:80]))
            start = eol + 2
            end = start + int(head[3:].split(b" ", 1)[0])
            while len(buf) < end + 2:
                buf, pos, start, end = (buf[pos:] + self._recv(), 0, start - pos,
                                        end - pos)
            out.append(buf[start:end])
            pos = end + 2
        self.buf = buf[pos:]
        return out

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("memcached closed the connection")
        return chunk


class Findings:
    """What the check found: missing keys and wrong values, counted, with
    the first of each (key, and the wrong value)."""

    def __init__(self):
        self.missing = self.wrong = self.evictions = 0
        self.first_missing = self.first_wrong = None


def _check_one(c, blob, digests, user_apps, found):
    """Read back from c every key of blob (newline-separated), whose
    expected values' digests are digests, into found."""
    keys = blob.split(b"\n") if blob else []
    size = values.DIGEST_SIZE
    for i in range(0, len(keys), CHECK_CHUNK):
        chunk = keys[i:i + CHECK_CHUNK]
        for j, (k, v) in enumerate(zip(chunk, c.get_many(chunk))):
            if v is None:
                found.missing += 1
                found.first_missing = found.first_missing or k
                continue
            want = digests[(i + j) * size:(i + j + 1) * size]
            if not values.holds(v, want, user_apps):
                found.wrong += 1
                found.first_wrong = found.first_wrong or (k, v)
    found.evictions += int(c.stats().get("evictions", 0))


def trace(files, key, value, user_apps):
    """Where value of key came from: "FILE line N" of the last of files
    (oldest first) whose line N of key stores it, or None; and the newest
    line of key, "FILE line N". Reads the files: only for a wrong value."""
    dev_type, dev_id = key.split(b":", 1)
    start = dev_type + b"\t" + dev_id + b"\t"
    source = newest = None
    for path in files:
        with gzip.open(path, "rb") as f:
            for n, line in enumerate(f, start=1):
                if not line.startswith(start):
                    continue
                r = values.line_digest(line.rstrip(b"\n"), user_apps)
                if r is None or r[0] != key:
                    continue
                where = "%s line %d" % (os.path.basename(path), n)
                newest = where
                if values.holds(value, r[1], user_apps):
                    source = where
    return source, newest


def _describe_wrong(found, files, user_apps):
    key, value = found.first_wrong
    source, newest = trace(files, key, value, user_apps)
    if source is None:
        why = "holds no line's value, expected %s's" % newest
    elif source != newest:
        why = "stale: holds %s's value, expected %s's" % (source, newest)
    else:
        why = "holds %s's value, not the data set's expected one: make it again" % source
    return "%d keys with a value other than their newest line's, the first %r (%s)" % (
        found.wrong, key, why)


def check_servers(ports, data, user_apps):
    """After a run, on the servers of ports ({type: port}) against data (a
    dataset.Dataset): (missing keys, keys with a wrong value, evictions,
    first problem or None)."""
    found = Findings()
    for t in DEV_TYPES:
        c = Conn(ports[t])
        try:
            _check_one(c, data.keys[t], data.digests[t], user_apps, found)
        finally:
            c.close()
    problems = []
    if found.missing:
        problems.append("%d keys missing, the first %r" % (found.missing, found.first_missing))
    if found.wrong:
        problems.append(_describe_wrong(found, data.files, user_apps))
    if found.evictions:
        problems.append("%d evictions: raise --memcached-mb" % found.evictions)
    return found.missing, found.wrong, found.evictions, "; ".join(problems) or None
