"""plan.py -- what the bench times: the memc_load variants, the baseline,
gzip -dc and igzip -dc, each as a spec (a dict).

A spec has name (as in --variants; a file name part), label (the report's),
kind ("memc_load", "baseline" or "inflate"), env (added to the environment)
and, by kind, args (memc_load's options), command (the baseline's shell
command) or tool (the inflate command's argv before the files).
"""

import os
import re
import shlex
import shutil

from .common import SCRIPTS, log

VARIANT = re.compile(r"(serial|w(\d+|N))(-zlib)?(-(?:text|meta|auto))?(-v(0|1|0?\.\d+))?")


def _variant(name, ncpu):
    m = VARIANT.fullmatch(name)
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
    return dict(name=name, label=label, kind="memc_load", args=args, env=env)


def parse_variants(text, ncpu):
    """The specs of a --variants list; ValueError names a bad one."""
    specs = [_variant(name, ncpu) for name in [v.strip() for v in text.split(",") if v.strip()]]
    if not specs:
        raise ValueError("no variants")
    return specs


class Baseline:
    """The baseline command (None without one), its label and its runs."""

    def __init__(self, args, proto_dir):
        self.label = "baseline"
        self.command = args.baseline
        if args.python_baseline:
            self.label = "python-ref"
            self.command = (shlex.quote(args.python) + " " +
                            shlex.quote(os.path.join(SCRIPTS, "memc_load_ref.py")) +
                            " --proto-dir " + shlex.quote(proto_dir) +
                            " --idfa {idfa} --gaid {gaid} --adid {adid} --dvid {dvid}"
                            " --pattern '{pattern}'")
        self.runs = args.baseline_runs
        if self.runs is None:
            self.runs = 1 if args.python_baseline else args.runs


def others(args, baseline):
    """The specs timed beside the variants: the baseline, gzip, igzip."""
    specs = []
    if baseline.command and baseline.runs:
        specs.append(dict(name="baseline", label=baseline.label, kind="baseline",
                          command=baseline.command, env={}))
    if not args.no_gzip:
        specs.append(dict(name="gzip", label="gzip -dc", kind="inflate", env={},
                          tool=["gzip", "-dc"]))
        if shutil.which("igzip"):  # Debian's isal package; scripts/deps.sh installs it
            specs.append(dict(name="igzip", label="igzip -dc", kind="inflate", env={},
                              tool=["igzip", "-dc"]))
        else:
            log("igzip not found (Debian: apt-get install isal); no igzip -dc figures")
    return specs


def runs_of(spec, args, baseline):
    """How many times spec runs."""
    return baseline.runs if spec["kind"] == "baseline" else args.runs


def total_runs(args, baseline):
    """Rounds of the interleaved schedule: the most runs of any spec."""
    return max(args.runs, baseline.runs if baseline.command else 0)
