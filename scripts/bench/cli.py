"""cli.py -- the command line: options -> args, checked, and the variants they name.

No I/O beyond reading the options; a bad option exits 2 with argparse's
usage message, as any error of the parser does.
"""

import argparse
import os
import sys

from .common import REPO, SAFE_PATH
from . import plan

DEFAULT_VARIANTS = "serial,w1,wN,wN-text,wN-zlib,wN-v0,wN-v0.01,wN-v1"


def _parser(ncpu, python):
    ap = argparse.ArgumentParser(
        prog="bench",
        description="Benchmark memc_load against its serial mode and a baseline command, "
                    "on generated data and private memcached servers.",
        epilog="Baseline placeholders: {idfa} {gaid} {adid} {dvid} (HOST:PORT), {pattern} "
               "(DIR/*.tsv.gz, quote it), {dir}, {files}. See scripts/bench/__init__.py.")
    ap.add_argument("--binary", default=os.path.join(REPO, "memc_load"), help="memc_load to run")
    ap.add_argument("--files", type=int, default=3, help="generated files (3)")
    ap.add_argument("--lines", type=int, default=1000000, help="lines per file (1000000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first file; file i "
                    "uses seed+i (1)")
    ap.add_argument("--bad-rate", type=float, default=0.0,
                    help="fraction of bad lines, passed to generate.py (0)")
    ap.add_argument("--repeat", type=float, default=0.0, metavar="PCT",
                    help="keys repeated across files: PCT%% of each newer file's lines take "
                         "an older file's key, with values of their own (0)")
    ap.add_argument("--runs", type=int, default=3, help="runs per variant (3)")
    ap.add_argument("--variants", default=DEFAULT_VARIANTS,
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
    return ap


def parse(argv=None):
    """(args, specs): the options of argv (default: the command line), and
    the memc_load variants they name (plan.parse_variants), in their order."""
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    ap = _parser(ncpu, python)
    a = ap.parse_args(argv)
    for name in ("files", "lines", "runs"):
        if getattr(a, name) < 1:
            ap.error("--%s must be at least 1" % name)
    if not 0 <= a.repeat <= 100:
        ap.error("--repeat must be between 0 and 100")
    if a.repeat and a.files < 2:
        ap.error("--repeat needs at least 2 files")
    if a.baseline_runs is not None and a.baseline_runs < 0:
        ap.error("--baseline-runs must be at least 0")
    if a.python_baseline and a.baseline:
        ap.error("--python-baseline and --baseline (or $BASELINE) exclude each other")
    try:
        specs = plan.parse_variants(a.variants, ncpu)
    except ValueError as e:
        ap.error(str(e))
    if not os.access(a.binary, os.X_OK):
        ap.error("%s is not an executable (run make first)" % a.binary)
    tmp_root = os.path.abspath(a.tmpdir or a.out)
    if not SAFE_PATH.fullmatch(tmp_root):
        ap.error("%s: choose a --tmpdir path without spaces or shell metacharacters"
                 % tmp_root)
    return a, specs
