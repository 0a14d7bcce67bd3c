"""records.py -- what the line rules (tests/e2e/model.py) make of one line:
the record it stores and the key it is stored under. Pure, no I/O."""

import re

import model  # noqa: E402  tests/e2e/model.py, on sys.path through bench.common

# A line this matches is a stored record under the line rules (model.py):
# five fields, a known type, a printable ASCII dev_id, a key of at most 250
# bytes, no CR. Lines it does not match go through record_of().
PLAIN_RECORD = re.compile(rb"(idfa|gaid|adid|dvid)\t([\x21-\x7e]{1,245})"
                          rb"\t[^\t\r]*\t[^\t\r]*\t[^\t\r]*")
# A plain record whose coordinates and apps are plain numbers too, as
# generate.py writes them: the rules keep each as it is (every app of at
# most 9 digits is below 2^32), so float() and int() are their values.
PLAIN_VALUES = re.compile(rb"(idfa|gaid|adid|dvid)\t([\x21-\x7e]{1,245})"
                          rb"\t(-?[0-9]{1,20}\.[0-9]{1,20})\t(-?[0-9]{1,20}\.[0-9]{1,20})"
                          rb"\t([0-9]{1,9}(?:,[0-9]{1,9})*)")


def record_of(line):
    """The model.Record line (without its newline) stores, or None."""
    m = model.FileModel()
    model.add_line(m, line)
    return m.records[0] if m.records else None


def record_key(line):
    """The key line (without its newline) is stored under, or None."""
    m = PLAIN_RECORD.fullmatch(line) if len(line) <= model.MAX_LINE else None
    if m:
        return line[:m.end(2)].replace(b"\t", b":", 1)
    r = record_of(line)
    return r.key if r else None


def record_values(line):
    """(key, apps, lat, lon) of the record line (without its newline)
    stores, lat and lon None when left out; None when it stores none."""
    m = PLAIN_VALUES.fullmatch(line) if len(line) <= model.MAX_LINE else None
    if m:
        return (line[:m.end(2)].replace(b"\t", b":", 1),
                [int(a) for a in m.group(5).split(b",")],
                float(m.group(3)), float(m.group(4)))
    r = record_of(line)
    return (r.key, r.apps, r.lat, r.lon) if r else None


def with_key(line, key):
    """line with its key replaced by key ("type:id"), the rest as it was;
    None unless line is a plain record (PLAIN_RECORD), whose key is its start."""
    m = PLAIN_RECORD.fullmatch(line) if len(line) <= model.MAX_LINE else None
    if not m:
        return None
    return key.replace(b":", b"\t", 1) + line[m.end(2):]
