"""dataset.py -- the generated data set: made with data/generate.py, its
expected keys and a sample of its lines listed, cached with --keep-data.

A data set's directory holds the .tsv.gz files (read-only: the runs see
them through hard links), keys-TYPE.txt (the keys each server should
hold, newline-separated: a key never holds a byte under 0x21) and
samples.json, written last, so that its presence marks a complete set.
"""

import datetime
import gzip
import json
import os
import shutil
import subprocess
import tempfile
import time

from .common import DEV_TYPES, REPO, SAFE_PATH, log
from .records import record_key

FIRST_NAME = datetime.datetime(2017, 9, 29)  # file i is named FIRST_NAME + i minutes
SAMPLES_PER_FILE = 100  # values decoded and compared after every run
GENERATE_PY = os.path.join(REPO, "data", "generate.py")


class Dataset:
    """directory, files (paths), keys ({type: newline-separated bytes}),
    samples ([(key, line)]) and records (how many keys in all)."""

    def __init__(self, directory, names):
        self.directory = directory
        self.files = [os.path.join(directory, n) for n in names]
        self.keys = {}
        for t in DEV_TYPES:
            with open(os.path.join(directory, "keys-%s.txt" % t), "rb") as f:
                self.keys[t] = f.read()
        with open(os.path.join(directory, "samples.json")) as f:
            self.samples = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in json.load(f)]
        self.records = sum(key_count(v) for v in self.keys.values())


def key_count(blob):
    return blob.count(b"\n") + 1 if blob else 0


def dataset_key(args):
    key = "f%d-l%d-s%d" % (args.files, args.lines, args.seed)
    if args.bad_rate:
        key += "-b%g" % args.bad_rate
    return key


def file_names(n):
    return [(FIRST_NAME + datetime.timedelta(minutes=i)).strftime("%Y%m%d%H%M%S") + ".tsv.gz"
            for i in range(n)]


def make(args, root):
    """The Dataset of args. With --keep-data a complete data set in root is
    reused, else generated there; without it, it is generated in a temporary
    directory under root, which the caller removes."""
    names = file_names(args.files)
    if args.keep_data:
        final = os.path.join(root, "data", dataset_key(args))
        if os.path.exists(os.path.join(final, "samples.json")):
            log("reusing the data set in %s" % final)
            return Dataset(final, names)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        shutil.rmtree(final + ".part", ignore_errors=True)
        work = final + ".part"
        os.makedirs(work)
    else:
        os.makedirs(root, exist_ok=True)
        work = final = tempfile.mkdtemp(prefix="data-", dir=root)
    try:
        _generate(args, names, work)
        _list_keys(args, names, work)
        if work != final:
            os.rename(work, final)
        return Dataset(final, names)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def check(data):
    """RuntimeError unless data can be benched: a plain path, some records."""
    if not SAFE_PATH.fullmatch(data.directory):
        raise RuntimeError("%s: the data path must be plain" % data.directory)
    if data.records == 0:
        raise RuntimeError("the data set has no valid records")


def _generate(args, names, work):
    t0 = time.monotonic()
    for i, name in enumerate(names):
        log("generating %s (%d lines, seed %d)" % (name, args.lines, args.seed + i))
        cmd = [args.python, GENERATE_PY, os.path.join(work, name),
               "--lines", str(args.lines), "--seed", str(args.seed + i)]
        if args.bad_rate:
            cmd += ["--bad-rate", str(args.bad_rate)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        # Read-only: the runs see these files through hard links.
        os.chmod(os.path.join(work, name), 0o444)
    log("generated in %.1f s; listing the expected keys" % (time.monotonic() - t0))


def _list_keys(args, names, work):
    keys = {t: [] for t in DEV_TYPES}
    samples = []
    for name in names:
        _scan_keys(os.path.join(work, name), args.lines, keys, samples)
    for t in DEV_TYPES:
        with open(os.path.join(work, "keys-%s.txt" % t), "wb") as f:
            f.write(b"\n".join(keys[t]))
    # Written last: its presence marks a complete data set.
    with open(os.path.join(work, "samples.json"), "w") as f:
        json.dump([[k.hex(), line.hex()] for k, line in samples], f)


def _scan_keys(path, nlines, keys, samples):
    """Append the key of every record path should store to keys[type]; add
    up to SAMPLES_PER_FILE (key, line) pairs, spread over its nlines lines,
    to samples."""
    every = max(1, nlines // SAMPLES_PER_FILE)
    found = []
    with gzip.open(path, "rb") as f:
        for i, line in enumerate(f):
            if line.endswith(b"\n"):
                line = line[:-1]
            key = record_key(line)
            if key is None:
                continue
            keys[key.split(b":", 1)[0].decode()].append(key)
            if i % every == 0 and len(found) < SAMPLES_PER_FILE:
                found.append((key, line))
    samples.extend(found)

