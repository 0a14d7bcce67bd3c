"""check.py -- after a run: is every expected key on its server, and does a
sample of values decode to what its line should store? Over memcached's
text protocol, on a plain socket."""

from .common import DEV_TYPES
from .records import record_of
import memcached  # noqa: E402  scripts/memcached.py, on sys.path through bench.common

CHECK_CHUNK = 2000  # keys per pipelined batch when checking


class Conn(memcached.Session):
    """A text-protocol session with one of our servers, and the checks."""

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

    def missing(self, blob):
        """How many of the keys in blob (newline-separated) the server does
        not have, and the first of those."""
        count, first = 0, None
        keys = blob.split(b"\n") if blob else []
        for i in range(0, len(keys), CHECK_CHUNK):
            chunk = keys[i:i + CHECK_CHUNK]
            self.sock.sendall(b"".join(b"mg " + k + b"\r\n" for k in chunk))
            answers = self.lines(len(chunk))
            if answers.count(b"HD") == len(chunk):
                continue
            for k, a in zip(chunk, answers):
                if a != b"HD":
                    count += 1
                    first = first or "%r (%s)" % (k, a.decode(errors="replace"))
        return count, first

    def get(self, key):
        self.sock.sendall(b"get " + key + b"\r\n")
        head = self.lines(1)[0]
        if head == b"END":
            return None
        size = int(head.split()[3])
        value = self.readexact(size + 2)[:-2]
        if self.lines(1)[0] != b"END":
            raise ConnectionError("bad get reply for %r" % key)
        return value


def value_problem(line, value, user_apps):
    """None if value is what the line rules make of line, else a reason."""
    r = record_of(line)
    key, apps, lat, lon = r.key, r.apps, r.lat, r.lon
    ua = user_apps()
    try:
        ua.ParseFromString(value)
    except Exception as e:
        return "%r: value does not decode: %s" % (key, e)
    got_lat = ua.lat if ua.HasField("lat") else None
    got_lon = ua.lon if ua.HasField("lon") else None
    if (list(ua.apps), got_lat, got_lon) != (apps, lat, lon):
        return "%r: stored %r, expected %r" % (key, (list(ua.apps), got_lat, got_lon),
                                               (apps, lat, lon))
    return None


def _check_one(c, t, blob, samples, user_apps):
    """(missing, first missing, evictions, first wrong value) on c, type t's server."""
    n, first = c.missing(blob)
    evictions = int(c.stats().get("evictions", 0))
    problem = None
    for key, line in samples:
        if key.startswith(t.encode() + b":"):
            value = c.get(key)
            why = value_problem(line, value, user_apps) if value is not None else None
            if why and not problem:
                problem = "wrong value: " + why
    return n, first, evictions, problem


def check_servers(ports, keys, samples, user_apps):
    """After a run: (missing keys, evictions, first problem or None)."""
    missing = evictions = 0
    problem = first_missing = None
    for t in DEV_TYPES:
        c = Conn(ports[t])
        try:
            n, first, ev, why = _check_one(c, t, keys[t], samples, user_apps)
        finally:
            c.close()
        missing += n
        first_missing = first_missing or first
        evictions += ev
        problem = problem or why
    if missing:
        problem = "%d keys missing, the first %s%s" % (missing, first_missing,
                                                      "; " + problem if problem else "")
    if evictions:
        problem = (problem + "; " if problem else "") + (
            "%d evictions: raise --memcached-mb" % evictions)
    return missing, evictions, problem
