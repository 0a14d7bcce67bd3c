"""main.py -- the wiring: options, workspace, data set, runs, report."""

import os
import time

from .common import log
from . import cli, dataset, machine, plan, plot, report, runs, servers, stats, workspace


def _make_data(ctx):
    """The data set into ctx (so cleanup() finds it), checked; the servers'
    memory sized for it unless --memcached-mb says."""
    ctx.data = dataset.make(ctx.args, ctx.out, ctx.user_apps)
    dataset.check(ctx.data)
    if not ctx.memcached_mb:
        ctx.memcached_mb = servers.memory_mb(ctx.data.keys)


def main(argv=None):
    """Run the bench; 1 if a run FAILED, else 0. Errors raise."""
    args, specs = cli.parse(argv)
    started = time.monotonic()
    ctx = workspace.prepare(args)
    try:
        workspace.snapshot(ctx)
        specs += plan.others(args, ctx.baseline)
        _make_data(ctx)
        m = machine.machine()
        desc = machine.describe(args, ctx.data, m)
        log(desc)
        rows = runs.run_all(ctx, specs)
        summary = stats.summarize(specs, rows, ctx.data.records)
        lines = report.text(ctx, specs, summary, desc, m)
        lines.append("Bench took %.0f s." % (time.monotonic() - started))
        report.write(ctx.out, "\n".join(lines), rows, summary)
        if plot.plot(ctx.out, summary, machine.title(args, ctx.data, m)):
            log("wrote %s" % os.path.join(ctx.out, "bench.png"))
        log("wrote bench.txt, bench.csv, summary.csv in %s" % ctx.out)
        return 1 if any(not s["ok"] for s in summary) else 0
    finally:
        workspace.cleanup(ctx)
