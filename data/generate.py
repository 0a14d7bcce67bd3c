#!/usr/bin/env python3
"""generate.py -- write realistic installed-apps logs for memc_load.

Each line is "dev_type<TAB>dev_id<TAB>lat<TAB>lon<TAB>app,app,...": the four
device types in equal shares (in expectation), a 32-hex dev_id that is unique
for every (seed, line number) pair, coordinates with 10 decimals and 40 to 60
apps between 1 and 10000. --bad-rate replaces that fraction of the lines by
lines memc_load must count as errors. Output depends only on the arguments.

Only the Python standard library is used, so Debian's /usr/bin/python3 runs it.
"""

import argparse
import collections
import concurrent.futures
import gzip
import io
import os
import random
import struct
import sys
import zlib

DEV_TYPES = ("idfa", "gaid", "adid", "dvid")
APP_MAX = 10000
APPS_MIN, APPS_MAX = 40, 60
CHUNK = 8192  # lines built and compressed at a time (about 2.5 MB)

# Bad-line kinds and the memc_load error kind each one counts as.
BAD_KINDS = (
    ("four_fields", "fields"),
    ("six_fields", "fields"),
    ("unknown_type", "dev_type"),
    ("empty_dev_id", "dev_id"),
    ("space_in_key", "key"),
    ("long_key", "key"),
)
WRONG_TYPES = ("IDFA", "idfv", "gaid ", "android", "", "dvid2")

MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1
MUL1 = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd, so multiplying is a bijection
MUL2 = 0xD6E8FEB86659FD93C13A5F1A2B4E6D1B


def dev_id(seed, index):
    """32 hex chars, distinct for distinct (seed, index): every step below is
    a bijection on 128-bit integers, so no two inputs can collide."""
    x = (seed << 64) | index
    x = (x * MUL1) & MASK128
    x ^= x >> 67
    x = (x * MUL2) & MASK128
    x ^= x >> 61
    return "%032x" % x


def app_pool():
    """Map 16 random bits to an app id. 65536 is not a multiple of 10000, so
    ids up to 5536 come up 7 times in 65536 and the rest 6: close enough to
    uniform for load tests, and far faster than one randint per app."""
    return [str(v % APP_MAX + 1) for v in range(1 << 16)]


def good_lines(rng, seed, start, count, pool):
    """Lines start .. start+count-1 of the valid body of a file."""
    types = rng.choices(DEV_TYPES, k=count)
    sizes = rng.choices(range(APPS_MIN, APPS_MAX + 1), k=count)
    total = sum(sizes)
    apps = list(map(pool.__getitem__, memoryview(rng.randbytes(2 * total)).cast("H")))
    rand = rng.random
    out = []
    pos = 0
    for i in range(count):
        n = sizes[i]
        out.append("%s\t%s\t%.10f\t%.10f\t%s" % (
            types[i], dev_id(seed, start + i),
            rand() * 180.0 - 90.0, rand() * 360.0 - 180.0,
            ",".join(apps[pos:pos + n])))
        pos += n
    return out


def bad_line(rng, kind, good):
    """Turn a valid line into one of the error kinds."""
    dev_type, did, lat, lon, apps = good.split("\t")
    if kind == "four_fields":
        return "\t".join((dev_type, did, lat, lon))
    if kind == "six_fields":
        return good + "\t" + str(rng.randrange(1, APP_MAX + 1))
    if kind == "unknown_type":
        return "\t".join((rng.choice(WRONG_TYPES), did, lat, lon, apps))
    if kind == "empty_dev_id":
        return "\t".join((dev_type, "", lat, lon, apps))
    if kind == "space_in_key":
        cut = rng.randrange(1, len(did))
        return "\t".join((dev_type, did[:cut] + " " + did[cut:], lat, lon, apps))
    if kind == "long_key":
        # "gaid:" plus 246 or more bytes is over memcached's 250-byte limit.
        return "\t".join((dev_type, did * 8, lat, lon, apps))
    raise ValueError(kind)


class ParallelGzip:
    """A gzip stream compressed by a pool of threads, as pigz does: each block
    is deflated on its own, primed with the last 32 KiB of the block before
    (so matches may reach back across the boundary) and ended with a sync
    flush, which makes the raw deflate outputs concatenate into one valid
    stream. zlib drops the GIL while it works, so the blocks compress on
    every CPU while this thread builds the next lines. The output depends
    only on the input and the block boundaries, never on thread timing."""

    WINDOW = 32768

    def __init__(self, raw, level):
        self.raw = raw
        self.level = level
        threads = os.cpu_count() or 1
        self.pool = concurrent.futures.ThreadPoolExecutor(threads)
        self.pending = collections.deque()
        self.limit = 2 * threads + 2  # blocks in flight: bounds the memory
        self.crc = 0
        self.size = 0
        self.tail = b""
        # Header: deflate, no flags, mtime 0, no extra flags, OS unknown.
        raw.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

    def _deflate(self, data, zdict, last):
        if zdict:
            z = zlib.compressobj(self.level, zlib.DEFLATED, -15, zdict=zdict)
        else:
            z = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        return z.compress(data) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    def _submit(self, data, last):
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.pending.append(self.pool.submit(self._deflate, data, self.tail, last))
        self.tail = data[-self.WINDOW:]
        while len(self.pending) > (0 if last else self.limit):
            self.raw.write(self.pending.popleft().result())

    def write(self, data):
        if data:
            self._submit(data, False)

    def close(self):
        self._submit(b"", True)
        self.raw.write(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.pool.shutdown()

    def abort(self):
        self.pool.shutdown(cancel_futures=True)


class Sink:
    """Where the text goes: a gzip file (level 6) or
    plain text on stdout."""

    def __init__(self, path, to_stdout, level=6):
        self.path = path
        self.tmp = None
        self.file = None
        self.gz = None
        if to_stdout:
            self.out = sys.stdout.buffer
            return
        # Write beside the target under a dot name, which memc_load skips,
        # and rename at the end, so a half-written file is never an input.
        head, tail = os.path.split(path)
        self.tmp = os.path.join(head, "." + tail + ".tmp")
        self.file = open(self.tmp, "wb")
        self.gz = self.out = ParallelGzip(self.file, level)

    def write(self, text):
        self.out.write(text.encode("utf-8", "surrogateescape"))

    def close(self):
        if self.tmp is None:
            self.out.flush()
            return
        self.gz.close()
        self.file.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        if self.gz:
            self.gz.abort()
        if self.file:
            self.file.close()
        if self.tmp and os.path.exists(self.tmp):
            os.unlink(self.tmp)


def generate(sink, lines, seed, bad_rate):
    """Write the file; return (good, {error kind: count})."""
    rng = random.Random(seed)
    # A second generator picks the bad lines, so the valid lines of a seed
    # are the same whatever the bad rate.
    bad_rng = random.Random("bad:%d" % seed)
    nbad = round(lines * bad_rate)
    bad_at = dict.fromkeys(bad_rng.sample(range(lines), nbad)) if nbad else {}
    counts = {}
    pool = app_pool()
    for start in range(0, lines, CHUNK):
        chunk = good_lines(rng, seed, start, min(CHUNK, lines - start), pool)
        if bad_at:
            for i in range(len(chunk)):
                if start + i in bad_at:
                    kind, err = bad_rng.choice(BAD_KINDS)
                    chunk[i] = bad_line(bad_rng, kind, chunk[i])
                    counts[err] = counts.get(err, 0) + 1
        chunk.append("")
        sink.write("\n".join(chunk))
    return lines - nbad, counts


def summary(lines, good, counts):
    kinds = " ".join("%s=%d" % (k, counts[k]) for k in ("fields", "dev_type", "dev_id", "key")
                     if k in counts)
    text = "lines=%d good=%d bad=%d" % (lines, good, lines - good)
    return text + (" (%s)" % kinds if kinds else "")


# --- the committed samples -------------------------------------------------

def sample_files():
    """The three files in data/: valid generated lines with odd and bad lines
    at fixed places. Returns [(name, text)], the text uncompressed."""
    pool = app_pool()

    def body(seed, n):
        return good_lines(random.Random(seed), seed, 0, n, pool)

    def put(lines, at, text):
        lines.insert(at, text)

    # 20170929000000: odd but valid values, three error lines.
    a = body(20170929000000, 400)
    put(a, 5, "")                                                   # blank
    t = a[20].split("\t")
    a[20] = "\t".join(t[:2] + ["nan", t[3], t[4]])                  # lat nan
    a[30] = a[30] + "\r"                                            # CRLF
    t = a[40].split("\t")
    a[40] = "\t".join(t[:3] + ["1e999", t[4]])                      # lon 1e999
    t = a[50].split("\t")
    a[50] = "\t".join(t[:2] + ["", "", t[4]])                       # no coords
    t = a[60].split("\t")
    a[60] = "\t".join(t[:4] + ["1,x,2,99999999999"])                # 2 dropped
    t = a[70].split("\t")
    a[70] = "\t".join(t[:4] + ["4294967295,0,4294967296"])          # 1 dropped
    t = a[80].split("\t")
    a[80] = "\t".join(t[:4] + [""])                                 # fields: tab stripped
    t = a[90].split("\t")
    a[90] = "\t".join(t[:4])                                        # fields (4)
    t = a[100].split("\t")
    a[100] = "\t".join(["IDFA"] + t[1:])                            # dev_type
    t = a[110].split("\t")
    a[110] = "\t".join(t[:2] + ["-1.5e-3", "+2.5E+1", t[4]])        # valid exp
    t = a[120].split("\t")
    a[120] = "\t".join(t[:2] + [".5", "5.", t[4]])                  # valid short

    # 20170929000100: blank variants, invalid UTF-8, three error lines.
    b = body(20170929000100, 500)
    put(b, 7, " \t  ")                                              # blank
    put(b, 8, "\t\t\t\t")                                           # blank
    put(b, 9, "\r")                                                 # blank (CRLF)
    t = b[20].split("\t")
    b[20] = "\t".join([t[0], "\udcff\udcfe" + t[1]] + t[2:])        # bytes ff fe
    t = b[30].split("\t")
    b[30] = "\t".join(t[:2] + ["inf", "-Infinity", t[4]])           # 2 dropped
    t = b[40].split("\t")
    b[40] = "\t".join(t[:2] + ["1,5", " 1", t[4]])                  # lat dropped
    t = b[50].split("\t")
    b[50] = "\t".join(t[:4] + ["1,,2,"])                            # 2 dropped
    t = b[60].split("\t")
    b[60] = "\t".join(t[:4] + ["+5,-1, 7,0x10,007,00000000000000000004294967295"])  # 2 dropped
    b[70] = b[70] + "\t" + "extra"                                  # fields (6)
    t = b[80].split("\t")
    b[80] = "\t".join([t[0], ""] + t[2:])                           # dev_id
    t = b[90].split("\t")
    b[90] = "\t".join([t[0], t[1][:16] + " " + t[1][16:]] + t[2:])  # key (space)
    t = b[100].split("\t")
    b[100] = "\t".join(t[:2] + ["NaN", "1e-999", t[4]])             # lat dropped

    # 20170929000200: key limits, control bytes, a 1 MiB line, \r\r\n, and
    # no newline after the last line. Five errors in 800 lines: 0.00625.
    c = body(20170929000200, 800)
    t = c[10].split("\t")
    c[10] = "\t".join([t[0], t[1][:8] + "\x01" + t[1][8:]] + t[2:])  # key (ctrl)
    t = c[20].split("\t")
    c[20] = "\t".join([t[0], t[1][:8] + "\x00" + t[1][8:]] + t[2:])  # key (NUL)
    t = c[30].split("\t")
    c[30] = "\t".join([t[0], t[1][:8] + "\x7f" + t[1][8:]] + t[2:])  # key (DEL)
    t = c[40].split("\t")
    c[40] = "\t".join([t[0], (t[1] * 8)[:250 - 5]] + t[2:])         # key 250: ok
    t = c[50].split("\t")
    c[50] = "\t".join([t[0], (t[1] * 8)[:251 - 5]] + t[2:])         # key 251
    t = c[60].split("\t")
    c[60] = "\t".join(t[:4] + [",".join(["7"] * 600000)])           # too_long
    t = c[70].split("\t")
    c[70] = "\t".join(t[:2] + ["1." + "0" * 125, "1." + "0" * 126, t[4]])  # 127 ok, 128 dropped
    c[80] = c[80] + "\r\r"                                          # both CRs stripped
    t = c[90].split("\t")
    c[90] = "\t".join(t[:4] + [t[4] + ",4294967296" * 3])           # 3 dropped
    return [
        ("20170929000000.tsv.gz", "\n".join(a) + "\n"),
        ("20170929000100.tsv.gz", "\n".join(b) + "\n"),
        ("20170929000200.tsv.gz", "\n".join(c)),                    # no final \n
    ]


def write_samples(directory):
    for name, text in sample_files():
        path = os.path.join(directory, name)
        raw = text.encode("utf-8", "surrogateescape")
        buf = io.BytesIO()
        # Fixed mtime and no file name: the same bytes on every run.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf,
                           mtime=0) as gz:
            gz.write(raw)
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        print("%s: %d bytes, %d compressed" % (path, len(raw), len(buf.getvalue())))


def main():
    ap = argparse.ArgumentParser(
        description="Write a gzipped installed-apps log for memc_load.")
    ap.add_argument("output", nargs="?", metavar="OUTPUT.tsv.gz",
                    help="file to write (gzip, level 6)")
    ap.add_argument("--lines", type=int, default=100000, help="number of lines (100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed, 0 .. 2^64-1 (1)")
    ap.add_argument("--bad-rate", type=float, default=0.0,
                    help="fraction of lines that are errors (0)")
    ap.add_argument("--stdout", action="store_true",
                    help="write uncompressed text to stdout; summary goes to stderr")
    ap.add_argument("--samples", metavar="DIR",
                    help="rewrite the three committed sample files in DIR and exit")
    args = ap.parse_args()

    if args.samples:
        try:
            write_samples(args.samples)
        except OSError as e:
            print("generate.py: %s" % e, file=sys.stderr)
            return 1
        return 0
    if args.lines < 0:
        ap.error("--lines must be 0 or more")
    if not 0 <= args.seed <= MASK64:
        ap.error("--seed must be between 0 and 2^64-1")
    if not 0.0 <= args.bad_rate <= 1.0:
        ap.error("--bad-rate must be between 0 and 1")
    if (args.output is None) == (not args.stdout):
        ap.error("give exactly one of OUTPUT and --stdout")

    try:
        sink = Sink(args.output, args.stdout)
        try:
            good, counts = generate(sink, args.lines, args.seed, args.bad_rate)
            sink.close()
        except BaseException:
            sink.abort()
            raise
    except OSError as e:
        print("generate.py: %s" % e, file=sys.stderr)
        return 1
    print(summary(args.lines, good, counts), file=sys.stderr if args.stdout else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
