"""ketama.py -- which server of a pool libmemcached's ketama sends a key to.

A second reading of libmemcached's consistent hashing (update_continuum in
hosts.cc, the dispatch in hash.cc) for MEMCACHED_BEHAVIOR_KETAMA = 1 with no
weights, so the pool tests check where keys land without taking the
library's word for it:

- each server puts 100 points on a circle of 2**32: the key hash of
  "HOST:PORT-0" .. "HOST:PORT-99" ("HOST-N" on port 11211; a unix socket is
  "PATH:0-N", an IPv6 address is written without its brackets);
- a key goes to the server of the first point at or after the key's own
  hash, wrapping round to the first point;
- points that hash alike are ordered by the server's place in the list.

The key hash is the library's default, Bob Jenkins' one-at-a-time: setting
KETAMA changes the distribution only (libmemcached 1.0 and later; some 0.x
releases also switched the hash to MD5). The weighted ("libketama
compatible") mode, with MD5 and 160 points per server, places keys
differently and is not modelled.
"""

import bisect

POINTS_PER_SERVER = 100
DEFAULT_PORT = 11211


def one_at_a_time(data):
    """libhashkit's one-at-a-time hash of bytes (it adds each byte as a
    signed char, which matters only for bytes over 0x7f)."""
    value = 0
    for byte in data:
        if byte >= 0x80:
            byte -= 0x100
        value = (value + byte) & 0xFFFFFFFF
        value = (value + (value << 10)) & 0xFFFFFFFF
        value ^= value >> 6
    value = (value + (value << 3)) & 0xFFFFFFFF
    value ^= value >> 11
    value = (value + (value << 15)) & 0xFFFFFFFF
    return value


def host_port(entry):
    """A pool entry as memc_load takes it ("HOST:PORT", "[V6]:PORT" or a
    path starting with '/') -> (host, port); a unix socket has port 0."""
    if entry.startswith("/"):
        return entry, 0
    host, _, port = entry.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class Continuum:
    """The ketama circle of one pool, its servers in the order given."""

    def __init__(self, entries):
        points = []
        for index, entry in enumerate(entries):
            host, port = host_port(entry)
            for n in range(POINTS_PER_SERVER):
                if port == DEFAULT_PORT:
                    name = "%s-%d" % (host, n)
                else:
                    name = "%s:%d-%d" % (host, port, n)
                points.append((one_at_a_time(name.encode()), index))
        points.sort()
        self._values = [value for value, _ in points]
        self._servers = [index for _, index in points]

    def server_for(self, key):
        """Index (in the list given) of the server that holds key (bytes)."""
        i = bisect.bisect_left(self._values, one_at_a_time(key))
        return self._servers[i if i < len(self._values) else 0]
