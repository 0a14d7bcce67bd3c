"""model.py -- what memc_load should make of each input line.

Written from the line rules of the specification (the man page / spec
notes), independently of src/line/record.c, so the end-to-end tests compare the
binary against a second reading of the rules rather than against itself.
Everything here works on bytes: input lines are not assumed to be text.
"""

import collections
import math
import re

MAX_LINE = 1 << 20  # longer lines (before the strip) are errors
MAX_KEY = 250  # memcached's key limit
MAX_COORD = 127  # longest lat/lon number accepted (without whitespace around it)
MAX_APP = 0xFFFFFFFF
DEV_TYPES = (b"idfa", b"gaid", b"adid", b"dvid")
# What the original's line.strip(), float() and int() skip: ASCII whitespace.
WS = b" \t\n\v\f\r"

COORD = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
APP = re.compile(rb"[+-]?[0-9]+")


class Record:
    """A line that must be stored: key, server type and the decoded value."""

    def __init__(self, dev_type, key, apps, lat, lon):
        self.dev_type = dev_type  # str, e.g. "idfa"
        self.key = key  # bytes
        self.apps = apps  # list of int
        self.lat = lat  # float or None when left out of the message
        self.lon = lon

    def __repr__(self):
        return "Record(%r, apps=%r, lat=%r, lon=%r)" % (
            self.key,
            self.apps,
            self.lat,
            self.lon,
        )


class FileModel:
    """Expected counts for one input file (the Finished log line) and records."""

    def __init__(self):
        self.lines = 0
        self.blank = 0
        self.errors = collections.Counter()  # kind -> count, parse kinds only
        self.apps_dropped = 0
        self.coords_dropped = 0
        self.records = []  # Record, in file order
        self.bad_keys = []  # "dev_type:dev_id" of error lines, never to be stored

    @property
    def processed(self):
        return len(self.records)

    @property
    def error_total(self):
        return sum(self.errors.values())

    def error_rate(self):
        total = self.processed + self.error_total
        return self.error_total / total if total else 0.0


def _coord(text):
    """Return (value or None, dropped?) for a lat/lon field; whitespace
    around the number is ignored, a field of only whitespace is dropped."""
    if text == b"":
        return None, False
    text = text.strip(WS)
    if len(text) > MAX_COORD or not COORD.fullmatch(text):
        return None, True
    value = float(text)
    if not math.isfinite(value):
        return None, True
    return value, False


def _apps(text):
    """Return (apps, dropped count) for the apps field."""
    if text == b"":
        return [], 0
    apps, dropped = [], 0
    for item in text.split(b","):
        item = item.strip(WS)
        if APP.fullmatch(item) and 0 <= int(item) <= MAX_APP:
            apps.append(int(item))
        else:
            dropped += 1
    return apps, dropped


def _bad_key_byte(c):
    return c <= 0x20 or c == 0x7F


def add_line(model, raw):
    """Apply the line rules to one line (without its '\\n') and update model."""
    model.lines += 1
    if len(raw) > MAX_LINE:
        model.errors["too_long"] += 1
        return
    line = raw.strip(WS)
    if line == b"":
        model.blank += 1
        return
    fields = line.split(b"\t")
    kind = None
    if len(fields) != 5:
        kind = "fields"
    elif fields[0] not in DEV_TYPES:
        kind = "dev_type"
    elif fields[1] == b"":
        kind = "dev_id"
    elif len(fields[0]) + 1 + len(fields[1]) > MAX_KEY or any(
        _bad_key_byte(c) for c in fields[1]
    ):
        kind = "key"
    if kind:
        model.errors[kind] += 1
        if len(fields) >= 2:
            model.bad_keys.append(fields[0] + b":" + fields[1])
        return
    dev_type, dev_id, lat_text, lon_text, apps_text = fields
    key = dev_type + b":" + dev_id
    lat, lat_dropped = _coord(lat_text)
    lon, lon_dropped = _coord(lon_text)
    apps, apps_dropped = _apps(apps_text)
    model.coords_dropped += lat_dropped + lon_dropped
    model.apps_dropped += apps_dropped
    model.records.append(Record(dev_type.decode(), key, apps, lat, lon))


def model_content(data):
    """Model a whole (decompressed) file: lines end at '\\n', the last may not."""
    model = FileModel()
    if data == b"":
        return model
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    for raw in lines:
        add_line(model, raw)
    return model
