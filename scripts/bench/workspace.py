"""workspace.py -- the bench's directories, and its snapshot of what it measures.

prepare() makes the directories and the Ctx every other part reads;
snapshot() fills in the timing helper, the copy of memc_load and the
protobuf module; cleanup() removes what is not to be kept. Only cleanup()
removes anything, so a failure anywhere after prepare() leaves nothing behind
once the caller's `finally` has run it.
"""

import os
import shlex
import shutil
import subprocess
import tempfile

from .common import REPO
from . import machine, plan, runwait
import memc_load_ref  # noqa: E402  scripts/memc_load_ref.py, for its protobuf loader


class Ctx:
    """What the runs read. Filled in by prepare(), snapshot() and main's
    data step, then read-only while the runs go.

    args          the options (cli.parse), never changed
    out           the results directory, absolute
    log_dir       OUT/logs, emptied: each run's stderr
    tmp_root      where each run's input directory goes
    private       the bench's own temporary directory in OUT
    loader_args   --loader-args, split as the shell would
    runwait       the timing helper (runwait.build)
    binary        the copy of memc_load that runs; shown_binary the path given
    source        the git state of the source, for the report
    proto_dir     the generated appsinstalled_pb2 module; user_apps its UserApps
    baseline      the baseline, a plan.Baseline
    data          the data set (dataset.Dataset), None until made
    memcached_mb  -m of each server: --memcached-mb, or enough for the data
    """

    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        self.log_dir = os.path.join(self.out, "logs")
        self.tmp_root = os.path.abspath(args.tmpdir or self.out)
        self.loader_args = shlex.split(args.loader_args)
        self.private = None
        self.data = None
        self.memcached_mb = args.memcached_mb


def prepare(args):
    """A Ctx with OUT, an empty OUT/logs and a private directory made."""
    ctx = Ctx(args)
    os.makedirs(ctx.out, exist_ok=True)
    shutil.rmtree(ctx.log_dir, ignore_errors=True)
    os.makedirs(ctx.log_dir)
    ctx.private = tempfile.mkdtemp(prefix="bench-", dir=ctx.out)
    return ctx


def snapshot(ctx):
    """Build the timing helper, copy the binary, note the source's state and
    generate the protobuf module (for checking values, and for
    memc_load_ref.py); then decide the baseline, which may use that module."""
    ctx.runwait = runwait.build(ctx.private)
    # A snapshot: a rebuild during the bench must not change what is measured.
    ctx.binary = os.path.join(ctx.private, "memc_load")
    shutil.copy2(ctx.args.binary, ctx.binary)
    ctx.shown_binary = ctx.args.binary
    ctx.source = machine.source_state(ctx.args.binary)
    ctx.proto_dir = os.path.join(ctx.private, "proto")
    os.makedirs(ctx.proto_dir)
    subprocess.run(["protoc", "--proto_path=" + os.path.join(REPO, "proto"),
                    "--python_out=" + ctx.proto_dir,
                    os.path.join(REPO, "proto", "appsinstalled.proto")], check=True)
    memc_load_ref.load_proto(ctx.proto_dir)
    ctx.user_apps = memc_load_ref.UserApps
    ctx.baseline = plan.Baseline(ctx.args, ctx.proto_dir)


def cleanup(ctx):
    """Remove the private directory, and the data set unless --keep-data."""
    if ctx.private:
        shutil.rmtree(ctx.private, ignore_errors=True)
    if ctx.data and not ctx.args.keep_data:
        shutil.rmtree(ctx.data.directory, ignore_errors=True)
