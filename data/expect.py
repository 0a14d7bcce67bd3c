#!/usr/bin/env python3
"""expect.py -- what memc_load should make of a file, by the documented line rules.

A second, independent reading of the rules (man page, LINE RULES), written in
Python so tests have an oracle that shares no code with src/record.c. For each
gzipped FILE it prints the counts in the form of memc_load's "Finished" log
line; with --records it prints instead one line per record that should be
stored: key, apps, lat, lon (tab-separated, "-" for an absent coordinate, the
key with bytes over 0x7e as \\xNN).

Only the Python standard library is used.
"""

import argparse
import gzip
import math
import re
import sys

MAX_LINE = 1048576
MAX_KEY = 250
MAX_COORD = 127
UINT32_MAX = 4294967295
DEV_TYPES = (b"idfa", b"gaid", b"adid", b"dvid")
DECIMAL = re.compile(rb"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
DIGITS = re.compile(rb"[0-9]+")
ERROR_KINDS = ("fields", "dev_type", "dev_id", "key", "too_long")


def coord(field):
    """(value or None, dropped?) for a lat or lon field."""
    if field == b"":
        return None, False
    if len(field) > MAX_COORD or not DECIMAL.fullmatch(field):
        return None, True
    value = float(field)
    if not math.isfinite(value):
        return None, True
    return value, False


def apps(field):
    """(kept apps, dropped count)."""
    if field == b"":
        return [], 0
    kept, dropped = [], 0
    for item in field.split(b","):
        if DIGITS.fullmatch(item) and int(item) <= UINT32_MAX:
            kept.append(int(item))
        else:
            dropped += 1
    return kept, dropped


def classify(line):
    """One line without its '\\n' -> ("blank",), ("error", kind) or
    ("record", key, apps, lat, lon, apps_dropped, coords_dropped)."""
    if len(line) > MAX_LINE:
        return ("error", "too_long")
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.strip(b" \t\r") == b"":
        return ("blank",)
    fields = line.split(b"\t")
    if len(fields) != 5:
        return ("error", "fields")
    dev_type, dev_id, lat, lon, app_field = fields
    if dev_type not in DEV_TYPES:
        return ("error", "dev_type")
    if dev_id == b"":
        return ("error", "dev_id")
    key = dev_type + b":" + dev_id
    if len(key) > MAX_KEY or any(b <= 0x20 or b == 0x7F for b in dev_id):
        return ("error", "key")
    lat_v, lat_drop = coord(lat)
    lon_v, lon_drop = coord(lon)
    kept, dropped = apps(app_field)
    return ("record", key, kept, lat_v, lon_v, dropped, int(lat_drop) + int(lon_drop))


def lines_of(data):
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()  # the file ends with a newline: nothing after it
    return parts


def counts(data):
    c = dict.fromkeys(("lines", "processed", "blank", "apps_dropped", "coords_dropped"), 0)
    errors = dict.fromkeys(ERROR_KINDS, 0)
    for line in lines_of(data):
        c["lines"] += 1
        r = classify(line)
        if r[0] == "blank":
            c["blank"] += 1
        elif r[0] == "error":
            errors[r[1]] += 1
        else:
            c["processed"] += 1
            c["apps_dropped"] += r[5]
            c["coords_dropped"] += r[6]
    return c, errors


def show_key(key):
    return "".join(chr(b) if 0x20 < b < 0x7F and b != 0x5C else "\\x%02x" % b for b in key)


def show_coord(v):
    return "-" if v is None else repr(v)


def main():
    ap = argparse.ArgumentParser(description="Expected memc_load counts for gzipped logs.")
    ap.add_argument("files", nargs="+", metavar="FILE")
    ap.add_argument("--records", action="store_true",
                    help="print the records that should be stored instead of counts")
    args = ap.parse_args()
    for path in args.files:
        with gzip.open(path, "rb") as f:
            data = f.read()
        if args.records:
            for line in lines_of(data):
                r = classify(line)
                if r[0] == "record":
                    print("%s\t%s\t%s\t%s" % (show_key(r[1]), ",".join(map(str, r[2])),
                                              show_coord(r[3]), show_coord(r[4])))
            continue
        c, errors = counts(data)
        nerr = sum(errors.values())
        kinds = " ".join("%s=%d" % (k, v) for k, v in errors.items() if v)
        print("%s: lines=%d processed=%d errors=%d%s blank=%d apps_dropped=%d coords_dropped=%d"
              % (path, c["lines"], c["processed"], nerr, " (%s)" % kinds if kinds else "",
                 c["blank"], c["apps_dropped"], c["coords_dropped"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
