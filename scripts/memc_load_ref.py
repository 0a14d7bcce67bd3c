#!/usr/bin/python3
"""memc_load_ref.py -- the original memc_load.py algorithm, serial, in Python 3.

This is NOT the original script. It is a reimplementation of the original's
algorithm, written for this project so that `make bench` can measure the C
loader against "the original Python script" on the same data and servers.
It keeps what decides the original's speed and results:

  - the files matching --pattern are read one after another, in sorted order,
    with gzip.open, one line at a time;
  - each line is stripped (str.strip(): ASCII whitespace at both ends), split
    on tabs and checked (5 fields, a known device type); each app is
    int(a.strip()) and each coordinate float(), which skip whitespace around
    the number; the record is packed as a protobuf UserApps message with
    python3-protobuf;
  - every record is stored with one synchronous memcache.Client.set() (from
    python3-memcache) on the server of its device type, one client per type;
  - a file's error rate is errors / processed; the file is then renamed to
    .NAME whatever the rate, as the original does.

It differs from the original only where Python 3 requires it (bytes lines;
"1_0", which Python 3's int() and float() read as 10 and Python 2's refused,
is refused here too), in that a set() which returns failure counts as an
error, and where the original would have stopped the run with an exception,
as memc_load does:

  - more than 5 fields: an error (the original's unpacking raised);
  - an app item int() cannot read, or a negative one or one over 2^32-1
    (protobuf's uint32 refused it): that item is dropped, the others kept
    (the original's fallback raised AttributeError, or the pack ValueError);
    Python 3's int() also refuses "+ 5", which Python 2's read as 5;
  - a lat or lon float() cannot read: that coordinate is left out, the other
    kept (the original then gave protobuf the text, which raised TypeError).

Unlike memc_load, it stores "nan", "inf" and overflowing coordinates as
float() reads them, as the original did. The exit status is 1 when a file
had a high error rate, 0 otherwise.

The protobuf module is generated at startup with protoc from
proto/appsinstalled.proto (found relative to this script), or loaded from
--proto-dir if appsinstalled_pb2.py is already there.

Debian packages: python3-protobuf python3-memcache protobuf-compiler.
"""

import argparse
import glob
import gzip
import importlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile

NORMAL_ERR_RATE = 0.01
DEV_TYPES = ("idfa", "gaid", "adid", "dvid")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = os.path.join(REPO, "proto", "appsinstalled.proto")

# Set by load_proto(): the generated module's UserApps class.
UserApps = None


def load_proto(proto_dir=None):
    """Import appsinstalled_pb2 from proto_dir, or generate it with protoc
    into a temporary directory that is removed once the module is loaded."""
    global UserApps
    tmp = None
    if proto_dir is None:
        tmp = proto_dir = tempfile.mkdtemp(prefix="memc_load_ref-")
        try:
            subprocess.run(
                ["protoc", "--proto_path=" + os.path.dirname(PROTO),
                 "--python_out=" + proto_dir, PROTO],
                check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            shutil.rmtree(tmp, ignore_errors=True)
            sys.exit("memc_load_ref.py: cannot generate the protobuf module: %s" % e)
    sys.path.insert(0, proto_dir)
    try:
        UserApps = importlib.import_module("appsinstalled_pb2").UserApps
    finally:
        sys.path.remove(proto_dir)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def parse_app(item):
    """int(item.strip()) as the original read an app, or None where that
    raised or protobuf's uint32 would refuse the value."""
    item = item.strip()
    if b"_" in item:  # Python 3 only
        return None
    try:
        value = int(item)
    except ValueError:
        return None
    return value if 0 <= value <= 0xFFFFFFFF else None


def parse_coord(text):
    """float(text) as the original read lat and lon (whitespace around the
    number skipped; nan and inf kept), or None where that raised."""
    if b"_" in text:  # Python 3 only
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_line(line):
    """One non-blank line (bytes) -> (dev_type, dev_id, lat, lon, apps), or
    None when it is an error. As in the original, the line is stripped and
    then split on tabs. lat and lon are None when they are not numbers, and
    app items that are not are left out."""
    parts = line.strip().split(b"\t")
    if len(parts) != 5:
        return None
    dev_type, dev_id, lat, lon, raw_apps = parts
    if not dev_type or not dev_id:
        return None
    apps = [parse_app(a) for a in raw_apps.split(b",")]
    if None in apps:
        logging.info("Not all user apps are digits: `%s`", line)
        apps = [a for a in apps if a is not None]
    lat, lon = parse_coord(lat), parse_coord(lon)
    if lat is None or lon is None:
        logging.info("Invalid geo coords: `%s`", line)
    return dev_type.decode("ascii", "replace"), dev_id, lat, lon, apps


def pack(lat, lon, apps):
    ua = UserApps()
    if lat is not None:
        ua.lat = lat
    if lon is not None:
        ua.lon = lon
    ua.apps.extend(apps)
    return ua.SerializeToString()


def insert(client, addr, dev_type, dev_id, packed, dry):
    """One synchronous set; True when the server stored it."""
    key = dev_type.encode() + b":" + dev_id
    if dry:
        logging.debug("%s - %s -> %r", addr, key, packed)
        return True
    try:
        return bool(client.set(key, packed))
    except Exception as e:  # python-memcache raises on bad keys
        logging.error("Cannot write to memc %s: %s", addr, e)
        return False


def dot_rename(path):
    head, fn = os.path.split(path)
    os.rename(path, os.path.join(head, "." + fn))


def load_file(path, clients, addrs, dry):
    """Load one file; return (processed, errors)."""
    processed = errors = 0
    with gzip.open(path, "rb") as fd:
        for line in fd:
            line = line.strip()
            if not line:
                continue
            rec = parse_line(line)
            if rec is None:
                errors += 1
                continue
            dev_type, dev_id, lat, lon, apps = rec
            if dev_type not in addrs:
                errors += 1
                logging.error("Unknown device type: %s", dev_type)
                continue
            packed = pack(lat, lon, apps)
            if insert(clients.get(dev_type), addrs[dev_type], dev_type, dev_id, packed, dry):
                processed += 1
            else:
                errors += 1
    return processed, errors


def run(opts):
    import memcache  # python3-memcache; imported here so -t works without it

    addrs = {t: getattr(opts, t) for t in DEV_TYPES}
    clients = {} if opts.dry else {t: memcache.Client([a]) for t, a in addrs.items()}
    status = 0
    for path in sorted(glob.iglob(opts.pattern)):
        if os.path.basename(path).startswith("."):
            continue
        logging.info("Processing %s", path)
        processed, errors = load_file(path, clients, addrs, opts.dry)
        if not processed:
            dot_rename(path)
            continue
        err_rate = float(errors) / processed
        if err_rate < NORMAL_ERR_RATE:
            logging.info("Acceptable error rate (%s). Successful load", err_rate)
        else:
            logging.error("High error rate (%s > %s). Failed load", err_rate, NORMAL_ERR_RATE)
            status = 1
        dot_rename(path)
    for c in clients.values():
        c.disconnect_all()
    return status


def self_test():
    """Pack sample lines and read them back."""
    sample = (b"idfa\t1rfw452y52g2gq4g\t55.55\t42.42\t1423,43,567,3,7,23\n"
              b"gaid\t7rfw452y52g2gq4g\t55.55\t42.42\t7423,424\n"
              b" adid\tspaced\t 55.55\t42.42 \t1, +2,-0\t\r")
    for line in sample.splitlines():
        _, _, lat, lon, apps = parse_line(line.strip())
        ua = UserApps()
        ua.ParseFromString(pack(lat, lon, apps))
        assert (ua.lat, ua.lon, list(ua.apps)) == (lat, lon, apps)
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="Serial reimplementation of the original memc_load.py algorithm "
                    "(the Python baseline for `make bench`).")
    ap.add_argument("-t", "--test", action="store_true", help="run the self test and exit")
    ap.add_argument("-l", "--log", help="log to this file instead of stderr")
    ap.add_argument("--dry", action="store_true", help="parse and pack only, log each record")
    ap.add_argument("--pattern", default="/data/appsinstalled/*.tsv.gz")
    ap.add_argument("--idfa", default="127.0.0.1:33013")
    ap.add_argument("--gaid", default="127.0.0.1:33014")
    ap.add_argument("--adid", default="127.0.0.1:33015")
    ap.add_argument("--dvid", default="127.0.0.1:33016")
    ap.add_argument("--proto-dir", help="directory with appsinstalled_pb2.py (default: "
                                        "generate it with protoc)")
    opts = ap.parse_args()
    logging.basicConfig(filename=opts.log, level=logging.DEBUG if opts.dry else logging.INFO,
                        format="[%(asctime)s] %(levelname).1s %(message)s",
                        datefmt="%Y.%m.%d %H:%M:%S")
    load_proto(opts.proto_dir)
    if opts.test:
        return self_test()
    logging.info("Memc loader started with options: %s", opts)
    try:
        return run(opts)
    except Exception as e:
        logging.exception("Unexpected error: %s", e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
