"""values.py -- a stored value as an 8-byte digest, so that a run's every
value can be compared with what the serial original leaves (the newest
line of its key) without keeping those values. Pure, no I/O.

The digest is BLAKE2b-64 of the value's canonical protobuf bytes: what
Python's protobuf makes of the record (fields in number order, apps packed,
lat and lon only when present). memc_load's protobuf-c writes the same
bytes, so a run's value is compared by hashing it as it is; a value that
differs is decoded and serialized again before it is called wrong, so
another valid encoding of the same record would still pass.
"""

import hashlib

from .records import record_values

DIGEST_SIZE = 8


def digest(value):
    """The digest of value (bytes) as it is."""
    return hashlib.blake2b(value, digest_size=DIGEST_SIZE).digest()


def line_digest(line, user_apps):
    """(key, digest of the value line stores), or None when it stores none."""
    r = record_values(line)
    if r is None:
        return None
    key, apps, lat, lon = r
    ua = user_apps()
    ua.apps.extend(apps)
    if lat is not None:
        ua.lat = lat
    if lon is not None:
        ua.lon = lon
    return key, digest(ua.SerializeToString())


def holds(value, want, user_apps):
    """Whether value (bytes from the server) is the record of digest want."""
    if digest(value) == want:
        return True
    try:
        canonical = user_apps.FromString(value).SerializeToString()
    except Exception:  # protobuf's DecodeError, or worse: not the record either way
        return False
    return digest(canonical) == want
