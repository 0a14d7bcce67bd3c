"""runs.py -- running the plan: every spec, interleaved run by run, each run
timed (runwait.py) and, for loaders, checked (check.py). A run is a row
(a dict), one line of bench.csv.

Each loader run gets a TMPDIR of its own in its input directory, whose
size is sampled while it runs (tempdisk.py) and which must be empty
after it; each memc_load run writes --stats-json to OUT/logs/NAME-runN.json,
from which the row takes the records its repairs re-sent."""

import contextlib
import json
import os
import shlex
import shutil
import tempfile
import time

from .common import DEV_TYPES, log
from . import check, plan, servers, tempdisk
from .runwait import timed


def run_all(ctx, specs):
    """The rows of every run: run 1 of every spec, then run 2, ..., so that
    machine noise hits all of them alike."""
    rows = []
    for run_no in range(1, plan.total_runs(ctx.args, ctx.baseline) + 1):
        for spec in specs:
            limit = plan.runs_of(spec, ctx.args, ctx.baseline)
            if run_no <= limit:
                rows.append(run_one(ctx, spec, run_no, limit))
    return rows


def run_one(ctx, spec, run_no, limit):
    """Run spec once; its row, logged."""
    records = ctx.data.records
    if spec["kind"] == "inflate":
        r = inflate_run(spec, run_no, ctx)
    else:
        r = loader_run(spec, run_no, ctx)
    check_s = r.pop("check_s", 0.0)
    r.update(variant=spec["name"], label=spec["label"], run=run_no,
             records=records, cpu=r["user"] + r["sys"],
             records_per_s=records / r["wall"], rss_mb=r["rss_kib"] / 1024,
             keys_expected=ctx.data.distinct if spec["kind"] != "inflate" else 0)
    log("run %d/%d %-10s %8.2f s  cpu %7.2f s  rss %6.1f MB  (checked in %.1f s) %s"
        % (run_no, limit, spec["label"], r["wall"], r["cpu"], r["rss_mb"],
           check_s, "ok" if r["ok"] else "FAILED: " + r["problem"]))
    return r


@contextlib.contextmanager
def _inputs(ctx):
    """(directory, files): a fresh directory of links to the data set's
    files, removed when the block ends."""
    tmp = tempfile.mkdtemp(prefix="run-", dir=ctx.tmp_root)
    try:
        files = []
        for path in ctx.data.files:
            dst = os.path.join(tmp, os.path.basename(path))
            try:
                os.link(path, dst)  # renaming the link leaves the cache alone
            except OSError:
                shutil.copyfile(path, dst)
            files.append(dst)
        yield tmp, files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _argv(spec, ctx, addr, tmp, files, stats_json):
    """(argv, the command as shown) of a loader spec on these servers and
    inputs; memc_load writes its --stats-json to stats_json."""
    pattern = os.path.join(tmp, "*.tsv.gz")
    if spec["kind"] == "memc_load":
        argv = [ctx.binary, "-q", "--stats-json", stats_json] + spec["args"] + ctx.loader_args
        for t in DEV_TYPES:
            argv += ["--" + t, addr[t]]
        argv += ["-p", pattern]
        return argv, " ".join(shlex.quote(x) for x in [ctx.shown_binary] + argv[1:])
    cmd = spec["command"]
    subst = dict(addr, pattern=pattern, dir=tmp, files=" ".join(files))
    for name, value in subst.items():
        cmd = cmd.replace("{%s}" % name, value)
    return ["/bin/sh", "-c", cmd], cmd


def _repairs(spec, path):
    """(records re-sent, shared keys) from memc_load's --stats-json at
    path, (None, None) for a baseline or when it wrote none."""
    if spec["kind"] != "memc_load":
        return None, None
    try:
        with open(path) as f:
            totals = json.load(f)["totals"]
        return int(totals["resent"]), int(totals["shared_keys"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def loader_run(spec, run_no, ctx):
    """One run of a loader on fresh servers and a fresh input directory."""
    with servers.fresh(ctx) as srv, _inputs(ctx) as (tmp, files):
        env = dict(os.environ)
        env.pop("MEMC_LOAD_INFLATE", None)
        env.update(spec["env"])
        env["TMPDIR"] = os.path.join(tmp, "tmpdir")
        os.mkdir(env["TMPDIR"])
        base = os.path.join(ctx.log_dir, "%s-run%d" % (spec["name"], run_no))
        log_path, stats_json = base + ".log", base + ".json"
        argv, shown = _argv(spec, ctx, srv.addr, tmp, files, stats_json)
        cpu0 = srv.cpu()
        with tempdisk.Peak(env["TMPDIR"]) as temp:
            rc, wall, user, sys_, rss, stray = timed(ctx, argv, env, log_path)
        srv_cpu = srv.cpu() - cpu0
        temp_left = os.listdir(env["TMPDIR"])
        renamed = sum(os.path.exists(os.path.join(tmp, "." + os.path.basename(f)))
                      for f in files)
        t_check = time.monotonic()
        missing, wrong, evictions, problem = check.check_servers(
            srv.ports, ctx.data, ctx.user_apps)
        check_s = time.monotonic() - t_check
    if rc != 0:
        problem = "exit status %s (see %s)%s" % (rc, log_path,
                                                "; " + problem if problem else "")
    problems = [problem] if problem else []
    if stray:
        problems.append("processes outlived the loader")
    if temp_left:
        problems.append("files left in its TMPDIR")
    resent, shared = _repairs(spec, stats_json)
    if spec["kind"] == "memc_load" and resent is None and rc == 0:
        problems.append("no totals in %s" % stats_json)
    problem = "; ".join(problems)
    return dict(command=shown, exit=rc, wall=wall, user=user, sys=sys_, rss_kib=rss,
                server_cpu=srv_cpu, missing=missing, wrong=wrong, evictions=evictions,
                renamed=renamed, resent=resent, shared_keys=shared,
                temp_peak_mb=temp.peak / 2**20, ok=not problem, problem=problem,
                check_s=check_s)


def inflate_run(spec, run_no, ctx):
    """`gzip -dc` or `igzip -dc` over the same files: decompression alone."""
    argv = spec["tool"] + ctx.data.files
    log_path = os.path.join(ctx.log_dir, "%s-run%d.log" % (spec["name"], run_no))
    with open(os.devnull, "wb") as null:
        rc, wall, user, sys_, rss, _ = timed(ctx, argv, None, log_path, stdout=null)
    return dict(command=" ".join(argv) + " > /dev/null", exit=rc, wall=wall,
                user=user, sys=sys_, rss_kib=rss, server_cpu=0.0,
                missing=0, wrong=0, evictions=0, renamed=0, resent=None,
                shared_keys=None, temp_peak_mb=None, ok=rc == 0,
                problem="" if rc == 0 else "exit status %s" % rc)
