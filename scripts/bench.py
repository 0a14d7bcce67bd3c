#!/usr/bin/python3
"""bench.py -- `make bench`: memc_load's speed against its serial mode and a baseline.

Generates a data set with data/generate.py (once; cached with --keep-data),
then runs every variant several times, interleaved run by run (run 1 of every
variant, then run 2, ...) so that machine noise hits all of them alike. Each
run gets four fresh memcached servers (scripts/memcached.py, free loopback
ports) and a fresh directory holding the inputs, because loaders rename
what they load. After each run every expected key is looked up on the
server of its type, and a sample of values is decoded and compared with its
line; a run with a missing key, a wrong value or a non-zero exit status is
FAILED, and the bench then exits 1.

Variants (--variants, comma-separated):
    serial      memc_load --serial
    wK          memc_load -w K (K a number)
    wN          memc_load -w N, N = online CPUs
    NAME-zlib   NAME with MEMC_LOAD_INFLATE=zlib in the environment (the zlib
                inflate path instead of ISA-L)
    NAME-text   NAME with --protocol text (also -meta, -auto): the servers'
                cost of the plain set path beside the meta protocol's
    NAME-vF     NAME with --verify F: read back the share F of the records
                (without it, memc_load's default, 0.001)
Every memc_load run gets -q, the four servers and -p 'DIR/*.tsv.gz'.

A baseline (--baseline CMD, or the BASELINE environment variable) is a shell
command; these placeholders are replaced by plain text (not quoted: the
paths are checked to hold no spaces or shell metacharacters, but {pattern}
holds a '*', so quote it):
    {idfa} {gaid} {adid} {dvid}   HOST:PORT of each fresh server
    {pattern}                     DIR/*.tsv.gz
    {dir}                         DIR, the directory holding this run's inputs
    {files}                       the input files, space-separated
For example:
    BASELINE='/usr/bin/python3 scripts/memc_load_ref.py --idfa {idfa}
      --gaid {gaid} --adid {adid} --dvid {dvid} --pattern "{pattern}"'
--python-baseline uses exactly that (scripts/memc_load_ref.py, a Python
reimplementation of the original memc_load.py algorithm) and runs it once
unless --baseline-runs says otherwise.

`gzip -dc FILES > /dev/null`, and `igzip -dc` (ISA-L's, Debian's isal
package) when it is installed, are timed in the same bench, as often as the
variants, as the floor set by decompression alone; the loader's CPU is
given as a ratio to igzip's, and the servers' CPU per million records next
to the loader's.

Measured per run, by a small C helper compiled at startup (runwait, see
RUNWAIT_C) that forks the command and waits for it with wait4: wall time
(monotonic clock, fork to reaping), CPU user+sys of the command and every
process it reaped (a loader's workers count once it reaps them), and the peak
RSS of the largest of those processes (ru_maxrss); also the memcached
servers' own CPU during the run (/proc/PID/stat). The memc_load binary is
copied at startup, so a rebuild during the bench changes nothing.

Output in --out (default results/): bench.csv (one row per run), summary.csv,
bench.txt (the table and the machine), bench.png (gnuplot), logs/ (each run's
stderr) and, with --keep-data, data/ (the cached data sets and their keys).
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import model  # noqa: E402  tests/e2e/model.py: the documented line rules
import memcached  # noqa: E402  scripts/memcached.py
import memc_load_ref  # noqa: E402  for its protobuf module loader

DEV_TYPES = ("idfa", "gaid", "adid", "dvid")
HOST = "127.0.0.1"
FIRST_NAME = datetime.datetime(2017, 9, 29)  # file i is named FIRST_NAME + i minutes
CHECK_CHUNK = 2000  # keys per pipelined batch when checking
SAMPLES_PER_FILE = 100  # values decoded and compared after every run
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+:-]+")
# A line this matches is a stored record under the line rules (model.py):
# five fields, a known type, a printable ASCII dev_id, a key of at most 250
# bytes, no CR. Lines it does not match go through record_of().
PLAIN_RECORD = re.compile(rb"(idfa|gaid|adid|dvid)\t([\x21-\x7e]{1,245})"
                          rb"\t[^\t\r]*\t[^\t\r]*\t[^\t\r]*")


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- the data set

def dataset_key(args):
    key = "f%d-l%d-s%d" % (args.files, args.lines, args.seed)
    if args.bad_rate:
        key += "-b%g" % args.bad_rate
    return key


def file_names(n):
    return [(FIRST_NAME + datetime.timedelta(minutes=i)).strftime("%Y%m%d%H%M%S") + ".tsv.gz"
            for i in range(n)]


def scan_keys(path, nlines, keys, samples):
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


def make_dataset(args, generate_py, root):
    """Return (directory, [file paths], {type: keys}, [(key, line)]), keys
    being one bytes object per type, the keys separated by newlines (a key
    never holds a byte under 0x21).
    With --keep-data a complete data set in root is reused, else generated
    there; without it, it is generated in a temporary directory under root."""
    names = file_names(args.files)
    if args.keep_data:
        final = os.path.join(root, "data", dataset_key(args))
        if os.path.exists(os.path.join(final, "samples.json")):
            log("reusing the data set in %s" % final)
            return final, [os.path.join(final, n) for n in names], *load_keys(final)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        shutil.rmtree(final + ".part", ignore_errors=True)
        work = final + ".part"
        os.makedirs(work)
    else:
        os.makedirs(root, exist_ok=True)
        work = final = tempfile.mkdtemp(prefix="data-", dir=root)
    try:
        return _generate(args, generate_py, names, work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _generate(args, generate_py, names, work, final):
    t0 = time.monotonic()
    for i, name in enumerate(names):
        log("generating %s (%d lines, seed %d)" % (name, args.lines, args.seed + i))
        cmd = [args.python, generate_py, os.path.join(work, name),
               "--lines", str(args.lines), "--seed", str(args.seed + i)]
        if args.bad_rate:
            cmd += ["--bad-rate", str(args.bad_rate)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        # Read-only: the runs see these files through hard links.
        os.chmod(os.path.join(work, name), 0o444)
    log("generated in %.1f s; listing the expected keys" % (time.monotonic() - t0))
    keys = {t: [] for t in DEV_TYPES}
    samples = []
    for name in names:
        scan_keys(os.path.join(work, name), args.lines, keys, samples)
    for t in DEV_TYPES:
        with open(os.path.join(work, "keys-%s.txt" % t), "wb") as f:
            f.write(b"\n".join(keys[t]))
    # Written last: its presence marks a complete data set.
    with open(os.path.join(work, "samples.json"), "w") as f:
        json.dump([[k.hex(), line.hex()] for k, line in samples], f)
    if work != final:
        os.rename(work, final)
    return final, [os.path.join(final, n) for n in names], *load_keys(final)


def load_keys(directory):
    keys = {}
    for t in DEV_TYPES:
        with open(os.path.join(directory, "keys-%s.txt" % t), "rb") as f:
            keys[t] = f.read()
    with open(os.path.join(directory, "samples.json")) as f:
        samples = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in json.load(f)]
    return keys, samples


def key_count(blob):
    return blob.count(b"\n") + 1 if blob else 0


# ---------------------------------------------------------------- the checks

class Conn(memcached.Session):
    """A text-protocol session with one of our servers, and the checks."""

    def __init__(self, port):
        super().__init__(port, timeout=30)

    def stats(self):
        self.sock.sendall(b"stats\r\n")
        out = {}
        while True:
            line = self.lines(1)[0]
            if line == b"END":
                return out
            _, name, value = line.decode().split(" ", 2)
            out[name] = value

    def missing(self, blob):
        """How many of the keys in blob (newline-separated) the server does
        not have, and the first of those."""
        count, first = 0, None
        keys = blob.split(b"\n") if blob else []
        for i in range(0, len(keys), CHECK_CHUNK):
            chunk = keys[i:i + CHECK_CHUNK]
            self.sock.sendall(b"".join(b"mg " + k + b"\r\n" for k in chunk))
            answers = self.lines(len(chunk))
            if answers.count(b"HD") == len(chunk):
                continue
            for k, a in zip(chunk, answers):
                if a != b"HD":
                    count += 1
                    first = first or "%r (%s)" % (k, a.decode(errors="replace"))
        return count, first

    def get(self, key):
        self.sock.sendall(b"get " + key + b"\r\n")
        head = self.lines(1)[0]
        if head == b"END":
            return None
        size = int(head.split()[3])
        value = self.readexact(size + 2)[:-2]
        if self.lines(1)[0] != b"END":
            raise ConnectionError("bad get reply for %r" % key)
        return value


def value_problem(line, value, user_apps):
    """None if value is what the line rules make of line, else a reason."""
    r = record_of(line)
    key, apps, lat, lon = r.key, r.apps, r.lat, r.lon
    ua = user_apps()
    try:
        ua.ParseFromString(value)
    except Exception as e:
        return "%r: value does not decode: %s" % (key, e)
    got_lat = ua.lat if ua.HasField("lat") else None
    got_lon = ua.lon if ua.HasField("lon") else None
    if (list(ua.apps), got_lat, got_lon) != (apps, lat, lon):
        return "%r: stored %r, expected %r" % (key, (list(ua.apps), got_lat, got_lon),
                                               (apps, lat, lon))
    return None


def check_servers(ports, keys, samples, user_apps):
    """After a run: (missing keys, evictions, first problem or None)."""
    missing = evictions = 0
    problem = first_missing = None
    for t in DEV_TYPES:
        c = Conn(ports[t])
        try:
            n, first = c.missing(keys[t])
            missing += n
            first_missing = first_missing or first
            evictions += int(c.stats().get("evictions", 0))
            for key, line in samples:
                if key.startswith(t.encode() + b":"):
                    value = c.get(key)
                    why = value_problem(line, value, user_apps) if value is not None else None
                    if why and not problem:
                        problem = "wrong value: " + why
        finally:
            c.close()
    if missing:
        problem = "%d keys missing, the first %s%s" % (missing, first_missing,
                                                      "; " + problem if problem else "")
    if evictions:
        problem = (problem + "; " if problem else "") + (
            "%d evictions: raise --memcached-mb" % evictions)
    return missing, evictions, problem


def server_cpu(pids):
    """CPU seconds (user+sys) the processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# ---------------------------------------------------------------- one run

# The measured command is started by this small C program rather than by
# Python directly. A process's peak RSS (ru_maxrss) survives exec: a child
# forked from this Python process starts its count at Python's own size
# (tens to hundreds of MB with the key lists loaded), which would hide the
# loader's real figure. Forked from a 1 MB program, the count starts near 0.
# The helper waits for the command with wait4 and writes its wait status,
# user and system CPU, peak RSS and wall time to the file named first.
RUNWAIT_C = r"""
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: runwait OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("runwait: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("runwait: wait4");
			return 125;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror(argv[1]);
		return 125;
	}
	fprintf(out, "%d %ld.%06ld %ld.%06ld %ld %.9f\n", status,
	        (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
	        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return fclose(out) == 0 ? 0 : 125;
}
"""


def build_runwait(directory):
    src = os.path.join(directory, "runwait.c")
    exe = os.path.join(directory, "runwait")
    with open(src, "w") as f:
        f.write(RUNWAIT_C)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-Wall", "-o", exe, src], check=True)
    return exe


def timed(ctx, argv, env, log_path, stdout=None):
    """Run argv (a list) through runwait in a new session and process group;
    return (exit status or "timeout", wall s, user s, sys s, peak RSS KiB,
    whether processes of its group outlived it). The CPU and RSS cover the
    command and every process it reaped."""
    result = os.path.join(ctx.private, "runwait.out")
    if os.path.exists(result):
        os.unlink(result)
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen([ctx.runwait, result] + argv, env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout or logf,
                                stderr=logf, start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(ctx.args.run_timeout, kill)
        timer.start()
        try:
            proc.wait()
        except BaseException:
            kill()
            proc.wait()
            raise
        finally:
            timer.cancel()
    # Workers outliving the loader would go on using the machine.
    stray = False
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        stray = True
    except ProcessLookupError:
        pass
    if killed:
        return "timeout", ctx.args.run_timeout, 0.0, 0.0, 0, stray
    if proc.returncode != 0:
        raise RuntimeError("runwait failed with status %d (see %s)" % (proc.returncode,
                                                                      log_path))
    with open(result) as f:
        status, user, sys_, rss, wall = f.read().split()
    rc = os.waitstatus_to_exitcode(int(status))
    return rc, float(wall), float(user), float(sys_), int(rss), stray


def loader_run(spec, run_no, ctx):
    """One run of a loader on fresh servers and a fresh input directory."""
    a = ctx.args
    servers = []
    tmp = None
    try:
        mem = a.memcached_mb
        extra = ["-t", str(a.memcached_threads)]
        servers = memcached.start(4, extra_args=extra + ["-m", str(mem)])
        ports = {t: port for t, (port, _) in zip(DEV_TYPES, servers)}
        addr = {t: "%s:%d" % (HOST, ports[t]) for t in DEV_TYPES}
        tmp = tempfile.mkdtemp(prefix="run-", dir=ctx.tmp_root)
        files = []
        for path in ctx.files:
            dst = os.path.join(tmp, os.path.basename(path))
            try:
                os.link(path, dst)  # renaming the link leaves the cache alone
            except OSError:
                shutil.copyfile(path, dst)
            files.append(dst)
        pattern = os.path.join(tmp, "*.tsv.gz")
        env = dict(os.environ)
        env.pop("MEMC_LOAD_INFLATE", None)
        env.update(spec["env"])
        if spec["kind"] == "memc_load":
            argv = [ctx.binary, "-q"] + spec["args"] + ctx.loader_args
            for t in DEV_TYPES:
                argv += ["--" + t, addr[t]]
            argv += ["-p", pattern]
            shown = " ".join(shlex.quote(x) for x in [ctx.shown_binary] + argv[1:])
        else:
            cmd = spec["command"]
            subst = dict(addr, pattern=pattern, dir=tmp, files=" ".join(files))
            for name, value in subst.items():
                cmd = cmd.replace("{%s}" % name, value)
            argv = ["/bin/sh", "-c", cmd]
            shown = cmd
        cpu0 = server_cpu([pid for _, pid in servers])
        log_path = os.path.join(ctx.log_dir, "%s-run%d.log" % (spec["name"], run_no))
        rc, wall, user, sys_, rss, stray = timed(ctx, argv, env, log_path)
        srv_cpu = server_cpu([pid for _, pid in servers]) - cpu0
        renamed = sum(os.path.exists(os.path.join(tmp, "." + os.path.basename(f))) for f in files)
        t_check = time.monotonic()
        missing, evictions, problem = check_servers(ports, ctx.keys, ctx.samples, ctx.user_apps)
        ctx.check_s = time.monotonic() - t_check
        if rc != 0:
            problem = "exit status %s (see %s)%s" % (rc, log_path,
                                                    "; " + problem if problem else "")
        if stray:
            problem = (problem + "; " if problem else "") + "processes outlived the loader"
        return dict(command=shown, exit=rc, wall=wall, user=user, sys=sys_, rss_kib=rss,
                    server_cpu=srv_cpu, missing=missing, evictions=evictions,
                    renamed=renamed, ok=problem is None, problem=problem or "")
    finally:
        if servers:
            memcached.stop(pid for _, pid in servers)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def inflate_run(spec, run_no, ctx):
    """`gzip -dc` or `igzip -dc` over the same files: decompression alone."""
    argv = spec["tool"] + ctx.files
    log_path = os.path.join(ctx.log_dir, "%s-run%d.log" % (spec["name"], run_no))
    with open(os.devnull, "wb") as null:
        rc, wall, user, sys_, rss, _ = timed(ctx, argv, None, log_path, stdout=null)
    return dict(command=" ".join(argv) + " > /dev/null", exit=rc, wall=wall,
                user=user, sys=sys_, rss_kib=rss, server_cpu=0.0,
                missing=0, evictions=0, renamed=0, ok=rc == 0,
                problem="" if rc == 0 else "exit status %s" % rc)


# ---------------------------------------------------------------- the plan

def parse_variants(text, ncpu):
    specs = []
    for name in [v.strip() for v in text.split(",") if v.strip()]:
        m = re.fullmatch(r"(serial|w(\d+|N))(-zlib)?(-(?:text|meta|auto))?(-v(0|1|0?\.\d+))?",
                         name)
        if not m:
            raise ValueError("unknown variant %r (serial, wK, wN, each optionally -zlib, "
                             "then -text, -meta or -auto, then -vFRACTION)" % name)
        if m.group(1) == "serial":
            args, label = ["--serial"], "serial"
        else:
            n = ncpu if m.group(2) == "N" else int(m.group(2))
            if n < 1:
                raise ValueError("variant %r: at least one worker" % name)
            args = ["-w", str(n)]
            label = "wN=%d" % n if m.group(2) == "N" else m.group(1)
        env = {}
        if m.group(3):
            env["MEMC_LOAD_INFLATE"] = "zlib"
            label += "-zlib"
        if m.group(4):
            args += ["--protocol", m.group(4)[1:]]
            label += " " + m.group(4)[1:]
        if m.group(5):
            args += ["--verify", m.group(6)]
            label += " verify " + m.group(6)
        specs.append(dict(name=name, label=label, kind="memc_load", args=args, env=env))
    if not specs:
        raise ValueError("no variants")
    return specs


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return dict(ncpu=os.sysconf("SC_NPROCESSORS_ONLN"), model=model, mem_gib=mem,
                kernel=platform.release())


def version_of(binary, env_extra):
    env = dict(os.environ)
    env.pop("MEMC_LOAD_INFLATE", None)
    env.update(env_extra)
    try:
        out = subprocess.run([binary, "--version"], env=env, capture_output=True, text=True)
        return " / ".join(line.strip() for line in out.stdout.splitlines() if line.strip())
    except OSError as e:
        return "(%s)" % e


def source_state():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                                "proto", "Makefile"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "source: not a git checkout"
    return "source: commit %s%s" % (head, " with uncommitted changes in src/" if dirty else "")


# ---------------------------------------------------------------- the report

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def summarize(specs, rows, records):
    out = []
    walls = {}
    for spec in specs:
        rs = [r for r in rows if r["variant"] == spec["name"]]
        if not rs:
            continue
        wall = [r["wall"] for r in rs]
        rate = [records / w for w in wall]
        cpu = [r["user"] + r["sys"] for r in rs]
        s = dict(variant=spec["name"], label=spec["label"], kind=spec["kind"], runs=len(rs),
                 ok_runs=sum(r["ok"] for r in rs),
                 median_wall=median(wall), min_wall=min(wall), max_wall=max(wall),
                 median_cpu=median(cpu), cpu_per_million=median(cpu) / (records / 1e6),
                 median_rate=median(rate), min_rate=min(rate), max_rate=max(rate),
                 peak_rss_mb=max(r["rss_kib"] for r in rs) / 1024,
                 median_server_cpu=median([r["server_cpu"] for r in rs]),
                 server_cpu_per_million=median([r["server_cpu"] for r in rs]) / (records / 1e6),
                 problems="; ".join("run %d: %s" % (r["run"], r["problem"])
                                    for r in rs if not r["ok"]))
        walls[spec["name"]] = s["median_wall"]
        out.append(s)
    for s in out:
        loader = s["kind"] != "inflate"
        s["speedup_serial"] = (walls["serial"] / s["median_wall"]
                               if loader and "serial" in walls else None)
        s["speedup_baseline"] = (walls["baseline"] / s["median_wall"]
                                 if loader and "baseline" in walls else None)
    return out


def table(summary, has_baseline, baseline_label):
    head = ["variant", "runs", "median wall s", "min..max s", "median CPU s",
            "CPU s/M rec", "records/s", "vs serial"]
    if has_baseline:
        head.append("vs " + baseline_label)
    head += ["peak RSS MB (largest process)", "server CPU s", "server CPU s/M rec",
             "loader+servers CPU s/M rec", "keys ok"]
    body = []
    for s in summary:
        row = [s["label"], str(s["runs"]), "%.2f" % s["median_wall"],
               "%.2f..%.2f" % (s["min_wall"], s["max_wall"]), "%.2f" % s["median_cpu"],
               "%.2f" % s["cpu_per_million"], "{:,.0f}".format(s["median_rate"]),
               "%.2fx" % s["speedup_serial"] if s["speedup_serial"] else "-"]
        if has_baseline:
            row.append("%.2fx" % s["speedup_baseline"] if s["speedup_baseline"] else "-")
        row.append("%.1f" % s["peak_rss_mb"])
        if s["kind"] == "inflate":
            row += ["-", "-", "-", "ok" if s["ok_runs"] == s["runs"] else "FAILED"]
        else:
            row.append("%.2f" % s["median_server_cpu"])
            row.append("%.2f" % s["server_cpu_per_million"])
            row.append("%.2f" % (s["cpu_per_million"] + s["server_cpu_per_million"]))
            row.append("%d/%d" % (s["ok_runs"], s["runs"]) if s["ok_runs"] == s["runs"]
                       else "FAILED %d/%d" % (s["runs"] - s["ok_runs"], s["runs"]))
        body.append(row)
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]

    def fmt(r):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))) + " |"

    lines = [fmt(head), "|" + "|".join(("-" * (w + 1) + ":") if i else "-" * (w + 2)
                                        for i, w in enumerate(widths)) + "|"]
    return "\n".join(lines + [fmt(r) for r in body])


def targets(by):
    """The speed targets, checked on the -w N variant (plain, else the first
    -w variant): its loader CPU against igzip's, its servers' CPU against the
    same variant's with --protocol text, its wall time against gzip's, and
    the largest process's peak RSS. Lines of text; empty without the needed
    variants."""
    lines = []
    pick = by.get("wN") or next((s for n, s in by.items()
                                 if s["kind"] == "memc_load" and n.startswith("w")
                                 and "-" not in n), None)
    if pick is None:
        return lines

    def verdict(ok):
        return "met" if ok else "MISSED"
    name = pick["label"]
    if "igzip" in by:
        r = pick["median_cpu"] / by["igzip"]["median_cpu"]
        lines.append("loader CPU per record <= 1.5x igzip -dc's: %s %.2fx (%s)"
                     % (name, r, verdict(r <= 1.5)))
    text = by.get(pick["variant"] + "-text")
    if text and text["median_server_cpu"] > 0:
        cut = 1 - pick["median_server_cpu"] / text["median_server_cpu"]
        lines.append("servers' CPU per record >= 10%% below --protocol text's: %s %.2f s/M, "
                     "text %.2f s/M, %.0f%% below (%s)"
                     % (name, pick["server_cpu_per_million"], text["server_cpu_per_million"],
                        100 * cut, verdict(cut >= 0.10)))
    if "gzip" in by:
        r = pick["median_wall"] / by["gzip"]["median_wall"]
        lines.append("wall time <= 0.7x gzip -dc's: %s %.2fx (%s)" % (name, r, verdict(r <= 0.7)))
    rss = max(s["peak_rss_mb"] for s in by.values() if s["kind"] == "memc_load")
    lines.append("largest loader process's peak RSS <= 32 MB, any variant: %.1f MB (%s)"
                 % (rss, verdict(rss <= 32)))
    return ["Targets (issue 10), on %s:" % name] + ["  " + x for x in lines]


def write_csv(path, rows, fields):
    import csv
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("%.6f" % v if isinstance(v, float) else
                            "" if v is None else v) for k, v in r.items()})


def plot(out_dir, summary, title, by):
    """bench.png: records/s by variant (left), and the CPU each record costs
    the loader and the servers, stacked, beside igzip's and gzip's (right)."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found (Debian: apt-get install gnuplot-nox); no bench.png")
        return False
    bars = [s for s in summary if s["kind"] != "inflate"]
    dat = os.path.join(out_dir, "bench.dat")
    with open(dat, "w") as f:
        f.write("# variant median min max (records/s) loader servers (CPU s per M records)\n")
        for s in bars:
            label = s["label"] + ("" if s["ok"] else " (FAILED)")
            f.write('"%s" %.1f %.1f %.1f %.4f %.4f\n'
                    % (label, s["median_rate"], s["min_rate"], s["max_rate"],
                       s["cpu_per_million"], s["server_cpu_per_million"]))
    terms = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True,
                           text=True).stderr + ""
    term = ("pngcairo size 1400,600 font 'sans,10'" if "pngcairo" in terms
            else "png size 1400,600")
    gp = os.path.join(out_dir, "bench.gp")
    with open(gp, "w") as f:
        f.write("set terminal %s\n" % term)
        f.write("set output '%s'\n" % os.path.join(out_dir, "bench.png"))
        f.write("set multiplot layout 1,2 title \"%s\" noenhanced\n" % title.replace('"', "'"))
        f.write("set yrange [0:*]\nset grid ytics\nset style fill solid 0.6 border -1\n")
        f.write("set boxwidth 0.6\nset xtics noenhanced rotate by -30\nset key top left\n")
        f.write("set title 'records/s (median; bars: min..max)'\nset format y '%.0s%c'\n")
        plots = ["'%s' using 0:2:xtic(1) with boxes lc rgb '#4a7ab5' title 'records/s'" % dat,
                 "'' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle"]
        if "gzip" in by:
            plots.append("%f with lines dt 2 lc rgb '#c03030' title 'gzip -dc alone'"
                         % by["gzip"]["median_rate"])
        f.write("plot " + ", \\\n     ".join(plots) + "\n")
        f.write("set title 'CPU s per million records (medians)'\nset format y '%g'\n")
        f.write("set key below horizontal\n")
        plots = ["'%s' using 0:($5+$6):xtic(1) with boxes lc rgb '#d9a441' "
                 "title 'memcached servers'" % dat,
                 "'' using 0:5 with boxes lc rgb '#4a7ab5' title 'loader'"]
        for name, color in (("igzip", "#208020"), ("gzip", "#c03030")):
            if name in by:
                plots.append("%f with lines dt 2 lc rgb '%s' title '%s alone'"
                             % (by[name]["cpu_per_million"], color, by[name]["label"]))
        f.write("plot " + ", \\\n     ".join(plots) + "\n")
        f.write("unset multiplot\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode:
        log("gnuplot failed: %s" % r.stderr.strip())
        return False
    return True


# ---------------------------------------------------------------- main

class Ctx:
    pass


def main():
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    ap = argparse.ArgumentParser(
        description="Benchmark memc_load against its serial mode and a baseline command, "
                    "on generated data and private memcached servers.",
        epilog="Baseline placeholders: {idfa} {gaid} {adid} {dvid} (HOST:PORT), {pattern} "
               "(DIR/*.tsv.gz, quote it), {dir}, {files}. See the module docstring.")
    ap.add_argument("--binary", default=os.path.join(REPO, "memc_load"), help="memc_load to run")
    ap.add_argument("--files", type=int, default=3, help="generated files (3)")
    ap.add_argument("--lines", type=int, default=1000000, help="lines per file (1000000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first file; file i "
                    "uses seed+i (1)")
    ap.add_argument("--bad-rate", type=float, default=0.0,
                    help="fraction of bad lines, passed to generate.py (0)")
    ap.add_argument("--runs", type=int, default=3, help="runs per variant (3)")
    ap.add_argument("--variants", default="serial,w1,wN,wN-text,wN-zlib,wN-v0,wN-v0.01,wN-v1",
                    help="comma-separated: serial, wK, wN (N = online CPUs, here %d), each "
                         "optionally with -zlib, then -text/-meta/-auto for --protocol, then "
                         "-vFRACTION for --verify (default "
                         "%%(default)s)" % ncpu)
    ap.add_argument("--baseline", default=os.environ.get("BASELINE") or None,
                    help="shell command to compare with (default: $BASELINE)")
    ap.add_argument("--python-baseline", action="store_true",
                    help="baseline: scripts/memc_load_ref.py, the original Python algorithm")
    ap.add_argument("--baseline-runs", type=int,
                    help="runs of the baseline (default: 1 with --python-baseline, else --runs)")
    ap.add_argument("--no-gzip", action="store_true", help="do not time gzip -dc")
    ap.add_argument("--loader-args", default="",
                    help="extra memc_load options for every variant, e.g. '--timeout 5000'")
    ap.add_argument("--memcached-mb", type=int, default=0,
                    help="memory of each memcached (-m); default: enough for the data set")
    ap.add_argument("--memcached-threads", type=int, default=4,
                    help="threads of each memcached (-t, 4 as memcached's own default)")
    ap.add_argument("--run-timeout", type=float, default=3600.0,
                    help="seconds before a run is killed and FAILED (3600)")
    ap.add_argument("--out", default=os.path.join(REPO, "results"), help="results directory")
    ap.add_argument("--keep-data", action="store_true",
                    help="keep the generated data in OUT/data and reuse it next time")
    ap.add_argument("--tmpdir", help="where each run's input directory goes (default: OUT)")
    ap.add_argument("--python", default=python,
                    help="Python for generate.py and the Python baseline (%(default)s)")
    a = ap.parse_args()
    for name in ("files", "lines", "runs"):
        if getattr(a, name) < 1:
            ap.error("--%s must be at least 1" % name)
    if a.baseline_runs is not None and a.baseline_runs < 0:
        ap.error("--baseline-runs must be at least 0")
    if a.python_baseline and a.baseline:
        ap.error("--python-baseline and --baseline (or $BASELINE) exclude each other")
    try:
        specs = parse_variants(a.variants, ncpu)
    except ValueError as e:
        ap.error(str(e))
    if not os.access(a.binary, os.X_OK):
        ap.error("%s is not an executable (run make first)" % a.binary)

    started = time.monotonic()
    ctx = Ctx()
    ctx.args = a
    ctx.loader_args = shlex.split(a.loader_args)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    ctx.tmp_root = os.path.abspath(a.tmpdir or out)
    if not SAFE_PATH.fullmatch(ctx.tmp_root):
        ap.error("%s: choose a --tmpdir path without spaces or shell metacharacters"
                 % ctx.tmp_root)
    ctx.log_dir = os.path.join(out, "logs")
    shutil.rmtree(ctx.log_dir, ignore_errors=True)
    os.makedirs(ctx.log_dir)
    private = ctx.private = tempfile.mkdtemp(prefix="bench-", dir=out)
    data_dir = None
    try:
        ctx.runwait = build_runwait(private)
        # A snapshot: a rebuild during the bench must not change what is measured.
        ctx.binary = os.path.join(private, "memc_load")
        shutil.copy2(a.binary, ctx.binary)
        ctx.shown_binary = a.binary
        source = source_state()
        # The protobuf module: for checking values, and for memc_load_ref.py.
        proto_dir = os.path.join(private, "proto")
        os.makedirs(proto_dir)
        subprocess.run(["protoc", "--proto_path=" + os.path.join(REPO, "proto"),
                        "--python_out=" + proto_dir,
                        os.path.join(REPO, "proto", "appsinstalled.proto")], check=True)
        memc_load_ref.load_proto(proto_dir)
        ctx.user_apps = memc_load_ref.UserApps

        baseline_label = "baseline"
        if a.python_baseline:
            baseline_label = "python-ref"
            a.baseline = (shlex.quote(a.python) + " " +
                          shlex.quote(os.path.join(SCRIPTS, "memc_load_ref.py")) +
                          " --proto-dir " + shlex.quote(proto_dir) +
                          " --idfa {idfa} --gaid {gaid} --adid {adid} --dvid {dvid}"
                          " --pattern '{pattern}'")
        baseline_runs = a.baseline_runs
        if baseline_runs is None:
            baseline_runs = 1 if a.python_baseline else a.runs
        if a.baseline and baseline_runs:
            specs.append(dict(name="baseline", label=baseline_label, kind="baseline",
                              command=a.baseline, env={}))
        if not a.no_gzip:
            specs.append(dict(name="gzip", label="gzip -dc", kind="inflate", env={},
                              tool=["gzip", "-dc"]))
            if shutil.which("igzip"):  # Debian's isal package; scripts/deps.sh installs it
                specs.append(dict(name="igzip", label="igzip -dc", kind="inflate", env={},
                                  tool=["igzip", "-dc"]))
            else:
                log("igzip not found (Debian: apt-get install isal); no igzip -dc figures")

        data_dir, ctx.files, ctx.keys, ctx.samples = make_dataset(
            a, os.path.join(REPO, "data", "generate.py"), out)
        if not SAFE_PATH.fullmatch(data_dir):
            raise RuntimeError("%s: the data path must be plain" % data_dir)
        records = sum(key_count(v) for v in ctx.keys.values())
        if records == 0:
            raise RuntimeError("the data set has no valid records")
        if not a.memcached_mb:
            # About 250 bytes per item of this data; twice that, plus slack.
            most = max(key_count(v) for v in ctx.keys.values())
            a.memcached_mb = max(64, most * 500 // 2**20 + 64)
        m = machine()
        data_mb = sum(os.path.getsize(f) for f in ctx.files) / 2**20
        desc = ("%d files x %s lines, %s records, %.0f MB gz; %d CPUs (%s), %.0f GiB RAM"
                % (a.files, "{:,}".format(a.lines), "{:,}".format(records), data_mb,
                   m["ncpu"], m["model"], m["mem_gib"]))
        log(desc)

        rows = []
        total_runs = max(a.runs, baseline_runs if a.baseline else 0)
        for run_no in range(1, total_runs + 1):
            for spec in specs:
                limit = baseline_runs if spec["kind"] == "baseline" else a.runs
                if run_no > limit:
                    continue
                ctx.check_s = 0.0
                if spec["kind"] == "inflate":
                    r = inflate_run(spec, run_no, ctx)
                else:
                    r = loader_run(spec, run_no, ctx)
                r.update(variant=spec["name"], label=spec["label"], run=run_no,
                         records=records, cpu=r["user"] + r["sys"],
                         records_per_s=records / r["wall"], rss_mb=r["rss_kib"] / 1024,
                         keys_expected=records if spec["kind"] != "inflate" else 0)
                rows.append(r)
                log("run %d/%d %-10s %8.2f s  cpu %7.2f s  rss %6.1f MB  (checked in %.1f s) %s"
                    % (run_no, limit, spec["label"], r["wall"], r["cpu"], r["rss_mb"],
                       ctx.check_s, "ok" if r["ok"] else "FAILED: " + r["problem"]))

        summary = summarize(specs, rows, records)
        for s in summary:
            s["ok"] = s["ok_runs"] == s["runs"]
        has_baseline = any(s["variant"] == "baseline" for s in summary)
        text = [table(summary, has_baseline, baseline_label)]
        by = {s["variant"]: s for s in summary}
        if "gzip" in by:
            g = by["gzip"]["median_wall"]
            widest = [s for s in summary if s["kind"] == "memc_load" and not s["variant"]
                      .endswith("-zlib")]
            ratio = ", ".join("%s %.2f" % (s["label"], s["median_wall"] / g) for s in widest)
            text.append("gzip -dc over the same files: median wall %.2f s; loader wall / "
                        "gzip wall: %s" % (g, ratio))
        if "igzip" in by:
            ig = by["igzip"]["median_cpu"]
            loaders = [s for s in summary if s["kind"] == "memc_load"]
            text.append("igzip -dc over the same files: median CPU %.2f s; loader CPU / igzip "
                        "CPU: %s" % (ig, ", ".join("%s %.2f" % (s["label"], s["median_cpu"] / ig)
                                                   for s in loaders)))
        text += targets(by)
        text.append("Data: " + desc)
        text.append("memc_load: %s; %s" % (version_of(ctx.binary, {}), source))
        zv = version_of(ctx.binary, {"MEMC_LOAD_INFLATE": "zlib"})
        if any(s.get("env") for s in specs):
            text.append("with MEMC_LOAD_INFLATE=zlib: " + zv)
        text.append("memcached: 4 servers, -m %d -t %d, fresh for every run; kernel %s"
                    % (a.memcached_mb, a.memcached_threads, m["kernel"]))
        if has_baseline:
            text.append("%s: %s" % (baseline_label, a.baseline.replace(proto_dir, "TMP")))
        text.append("CPU: user+sys of the loader and the processes it reaped; peak RSS: the "
                    "largest single process; server CPU: the 4 memcached together.")
        failed = [s for s in summary if not s["ok"]]
        for s in failed:
            text.append("FAILED %s: %s" % (s["label"], s["problems"]))
        elapsed = time.monotonic() - started
        text.append("Bench took %.0f s." % elapsed)
        report = "\n".join(text)
        print(report)
        with open(os.path.join(out, "bench.txt"), "w") as f:
            f.write(report + "\n")
        write_csv(os.path.join(out, "bench.csv"), rows,
                  ["variant", "label", "run", "wall", "user", "sys", "cpu", "rss_mb",
                   "server_cpu", "records", "records_per_s", "exit", "keys_expected",
                   "missing", "evictions", "renamed", "ok", "problem", "command"])
        write_csv(os.path.join(out, "summary.csv"), summary,
                  ["variant", "label", "runs", "ok_runs", "median_wall", "min_wall",
                   "max_wall", "median_cpu", "cpu_per_million", "median_rate", "min_rate",
                   "max_rate", "speedup_serial", "speedup_baseline", "peak_rss_mb",
                   "median_server_cpu", "server_cpu_per_million", "ok", "problems"])
        title = "memc_load, %d x %s lines (%s records), %d CPUs: %s" % (
            a.files, "{:,}".format(a.lines), "{:,}".format(records), m["ncpu"], m["model"])
        if plot(out, summary, title, by):
            log("wrote %s" % os.path.join(out, "bench.png"))
        log("wrote bench.txt, bench.csv, summary.csv in %s" % out)
        return 1 if failed else 0
    finally:
        shutil.rmtree(private, ignore_errors=True)
        if data_dir and not a.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # A kill or a lost terminal cleans up as ^C does: servers stopped, temp dirs gone.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("error: %s" % e)
        sys.exit(1)
