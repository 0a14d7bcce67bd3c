"""machine.py -- what the bench ran on and what it ran: the machine, the
binary's version, the source's git state, the data set in a line."""

import os
import platform
import subprocess

from .common import REPO


def machine():
    """{ncpu, model, mem_gib, kernel} of this machine."""
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
    """binary --version in one line, with env_extra in its environment."""
    env = dict(os.environ)
    env.pop("MEMC_LOAD_INFLATE", None)
    env.update(env_extra)
    try:
        out = subprocess.run([binary, "--version"], env=env, capture_output=True, text=True)
        return " / ".join(line.strip() for line in out.stdout.splitlines() if line.strip())
    except OSError as e:
        return "(%s)" % e


def source_state(binary):
    """'source: commit HASH', noting uncommitted changes to what is built; a
    binary from elsewhere is named instead: this checkout says nothing of it."""
    built = os.path.join(REPO, "memc_load")
    if not (os.path.exists(built) and os.path.samefile(binary, built)):
        return "source: %s, not this checkout's build" % os.path.abspath(binary)
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                                "proto", "Makefile"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "source: not a git checkout"
    return "source: commit %s%s" % (head, " with uncommitted changes in src/" if dirty else "")


def describe(args, data, m):
    """The report's "Data:" line, without the prefix."""
    data_mb = sum(os.path.getsize(f) for f in data.files) / 2**20
    repeats = ""
    if args.repeat:
        repeats = (" (--repeat %g: %s with an older file's key, %s distinct keys)"
                   % (args.repeat, "{:,}".format(data.repeated), "{:,}".format(data.distinct)))
    return ("%d files x %s lines, %s records%s, %.0f MB gz; %d CPUs (%s), %.0f GiB RAM"
            % (args.files, "{:,}".format(args.lines), "{:,}".format(data.records), repeats,
               data_mb, m["ncpu"], m["model"], m["mem_gib"]))


def title(args, data, m):
    """The plot's title."""
    repeats = ", %g%% repeated" % args.repeat if args.repeat else ""
    return "memc_load, %d x %s lines (%s records%s), %d CPUs: %s" % (
        args.files, "{:,}".format(args.lines), "{:,}".format(data.records), repeats,
        m["ncpu"], m["model"])
