"""dataset.py -- the generated data set: made with data/generate.py, with
--repeat PCT some keys of each newer file taken from older ones, then every
key's expected value listed; cached with --keep-data.

Each file's lines come from `generate.py --stdout` (seed + i for file i)
and are compressed here with generate.py's own compressor, in its blocks,
so a data set without repeats is byte for byte what generate.py writes.
With --repeat PCT, PCT% of each newer file's lines, chosen at random,
take the key (dev_type:dev_id) of a line of an older file, any older file
alike (repeats.py); the rest of the line stays its own, so the value
differs. A chosen line that is not a plain record (--bad-rate) is left as
it is. Files keep their equal sizes.

A data set's directory holds the .tsv.gz files (read-only: the runs see
them through hard links); keys-TYPE.txt, each key the server of TYPE must
hold, once, newline-separated (a key never holds a byte under 0x21);
digests-TYPE.bin, the digest (values.py) of each of those keys' expected
value, in the same order: the record of its last line in the newest file
that has it, as the serial original leaves it; and dataset.json, written
last, so that its presence marks a complete set.
"""

import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time

from .common import DEV_TYPES, REPO, SAFE_PATH, log
from . import records, repeats, values

FIRST_NAME = datetime.datetime(2017, 9, 29)  # file i is named FIRST_NAME + i minutes
GENERATE_PY = os.path.join(REPO, "data", "generate.py")
FORMAT = 2  # of dataset.json; a cached set of another format is made again
MARKER = "dataset.json"


class Dataset:
    """directory, files (paths); keys ({type: newline-separated bytes}) and
    digests ({type: bytes, values.DIGEST_SIZE a key}); records (the records
    the files store, repeats included), distinct (keys in all), repeated
    (lines given an older file's key)."""

    def __init__(self, directory, names):
        self.directory = directory
        self.files = [os.path.join(directory, n) for n in names]
        self.keys, self.digests = {}, {}
        for t in DEV_TYPES:
            with open(os.path.join(directory, "keys-%s.txt" % t), "rb") as f:
                self.keys[t] = f.read()
            with open(os.path.join(directory, "digests-%s.bin" % t), "rb") as f:
                self.digests[t] = f.read()
            if len(self.digests[t]) != key_count(self.keys[t]) * values.DIGEST_SIZE:
                raise RuntimeError("%s: keys and digests of %s disagree" % (directory, t))
        with open(os.path.join(directory, MARKER)) as f:
            meta = json.load(f)
        self.records = meta["records"]
        self.repeated = meta["repeated"]
        self.distinct = sum(key_count(v) for v in self.keys.values())


def key_count(blob):
    return blob.count(b"\n") + 1 if blob else 0


def dataset_key(args):
    key = "f%d-l%d-s%d" % (args.files, args.lines, args.seed)
    if args.bad_rate:
        key += "-b%g" % args.bad_rate
    if args.repeat:
        key += "-r%g" % args.repeat
    return key


def file_names(n):
    return [(FIRST_NAME + datetime.timedelta(minutes=i)).strftime("%Y%m%d%H%M%S") + ".tsv.gz"
            for i in range(n)]


def _complete(final):
    """Whether final holds a complete data set of this FORMAT; one of another
    format (an older bench's) is removed, to be made again."""
    try:
        with open(os.path.join(final, MARKER)) as f:
            if json.load(f).get("format") == FORMAT:
                return True
    except (OSError, ValueError):
        pass
    if os.path.exists(final):
        log("%s: not a complete data set of this bench's format; making it again" % final)
        shutil.rmtree(final)
    return False


def make(args, root, user_apps):
    """The Dataset of args. With --keep-data a complete data set in root is
    reused, else generated there; without it, it is generated in a temporary
    directory under root, which the caller removes. user_apps: the protobuf
    UserApps class, for the expected values' digests."""
    names = file_names(args.files)
    if args.keep_data:
        final = os.path.join(root, "data", dataset_key(args))
        if _complete(final):
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
        _generate(args, names, work, user_apps)
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


def _load_generate():
    """data/generate.py as a module: its compressor and block size."""
    spec = importlib.util.spec_from_file_location("generate", GENERATE_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _generate(args, names, work, user_apps):
    gen = _load_generate()
    t0 = time.monotonic()
    expected = {}  # key -> digest of its newest value; first-seen order
    rep = repeats.Repeats(args.repeat, args.seed)
    total = repeated = 0
    for i, name in enumerate(names):
        log("generating %s (%d lines, seed %d%s)" % (
            name, args.lines, args.seed + i,
            ", %g%% of the keys repeated" % args.repeat if i and args.repeat else ""))
        plan = rep.plan(i, args.lines, expected)
        n, r = _write_file(gen, args, i, os.path.join(work, name), plan, expected, user_apps)
        total += n
        repeated += r
    for t in DEV_TYPES:
        prefix = t.encode() + b":"
        mine = [k for k in expected if k.startswith(prefix)]
        with open(os.path.join(work, "keys-%s.txt" % t), "wb") as f:
            f.write(b"\n".join(mine))
        with open(os.path.join(work, "digests-%s.bin" % t), "wb") as f:
            f.write(b"".join(expected[k] for k in mine))
    # Written last: its presence marks a complete data set.
    with open(os.path.join(work, MARKER), "w") as f:
        json.dump(dict(format=FORMAT, records=total, repeated=repeated,
                       repeat=args.repeat), f)
    log("generated in %.1f s: %d records, %d of them with an older file's key, "
        "%d distinct keys" % (time.monotonic() - t0, total, repeated, len(expected)))


def _write_file(gen, args, i, path, plan, expected, user_apps):
    """Write file i to path from generate.py's lines, the lines at plan's
    positions given plan's keys; each record's digest into expected.
    (records, lines given a key)."""
    cmd = [args.python, GENERATE_PY, "--stdout", "--lines", str(args.lines),
           "--seed", str(args.seed + i)]
    if args.bad_rate:
        cmd += ["--bad-rate", str(args.bad_rate)]
    head, tail = os.path.split(path)
    tmp = os.path.join(head, "." + tail + ".tmp")
    n = given = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc, \
            open(tmp, "wb") as raw:
        gz = gen.ParallelGzip(raw, 6)  # generate.py's level
        try:
            block = []
            for pos, line in enumerate(proc.stdout):
                line = line[:-1] if line.endswith(b"\n") else line
                key = plan.get(pos)
                if key is not None:
                    moved = records.with_key(line, key)
                    if moved is not None:
                        line = moved
                        given += 1
                r = values.line_digest(line, user_apps)
                if r is not None:
                    expected[r[0]] = r[1]
                    n += 1
                block.append(line)
                if len(block) == gen.CHUNK:
                    gz.write(b"\n".join(block) + b"\n")
                    block = []
            if block:
                gz.write(b"\n".join(block) + b"\n")
            gz.close()
        except BaseException:
            gz.abort()
            proc.kill()  # else closing its pipe could wait for it forever
            raise
    if proc.returncode != 0:
        raise RuntimeError("%s exited with status %d" % (" ".join(cmd), proc.returncode))
    # Read-only: the runs see these files through hard links.
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)
    return n, given
