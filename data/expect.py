#!/usr/bin/env python3
"""expect.py -- what memc_load should make of a file, by the documented line rules.

A command-line face for tests/e2e/model.py, the project's independent
reading of the rules (man page, LINE RULES; no code shared with
src/record.c). For each gzipped FILE it prints the counts in the form of
memc_load's "Finished" log line; with --records it prints instead one line
per record that should be stored: key, apps, lat, lon (tab-separated, "-"
for an absent coordinate, the key with bytes over 0x7e as \\xNN).

Only the Python standard library is used.
"""

import argparse
import gzip
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import model  # noqa: E402  (found through the path above)

ERROR_KINDS = ("fields", "dev_type", "dev_id", "key", "too_long")


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
            m = model.model_content(f.read())
        if args.records:
            for r in m.records:
                print("%s\t%s\t%s\t%s" % (show_key(r.key), ",".join(map(str, r.apps)),
                                          show_coord(r.lat), show_coord(r.lon)))
            continue
        kinds = " ".join("%s=%d" % (k, m.errors[k]) for k in ERROR_KINDS if m.errors[k])
        print("%s: lines=%d processed=%d errors=%d%s blank=%d apps_dropped=%d coords_dropped=%d"
              % (path, m.lines, m.processed, m.error_total, " (%s)" % kinds if kinds else "",
                 m.blank, m.apps_dropped, m.coords_dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
