"""report.py -- the report: the table, the ratio lines, the setup, written
to stdout and bench.txt; the rows and summaries to bench.csv and summary.csv.
It only formats: every figure comes from stats.py and targets.py."""

import csv
import os

from . import machine
from .targets import targets

ROW_FIELDS = ["variant", "label", "run", "wall", "user", "sys", "cpu", "rss_mb",
              "server_cpu", "records", "records_per_s", "exit", "keys_expected",
              "missing", "wrong", "evictions", "renamed", "resent", "shared_keys",
              "temp_peak_mb", "ok", "problem", "command"]
SUMMARY_FIELDS = ["variant", "label", "runs", "ok_runs", "median_wall", "min_wall",
                  "max_wall", "median_cpu", "cpu_per_million", "median_rate", "min_rate",
                  "max_rate", "speedup_serial", "speedup_baseline", "peak_rss_mb",
                  "median_server_cpu", "server_cpu_per_million", "median_resent",
                  "median_shared_keys", "peak_temp_mb", "ok", "problems"]


def _cells(s, has_baseline):
    row = [s["label"], str(s["runs"]), "%.2f" % s["median_wall"],
           "%.2f..%.2f" % (s["min_wall"], s["max_wall"]), "%.2f" % s["median_cpu"],
           "%.2f" % s["cpu_per_million"], "{:,.0f}".format(s["median_rate"]),
           "%.2fx" % s["speedup_serial"] if s["speedup_serial"] else "-"]
    if has_baseline:
        row.append("%.2fx" % s["speedup_baseline"] if s["speedup_baseline"] else "-")
    row.append("%.1f" % s["peak_rss_mb"])
    if s["kind"] == "inflate":
        return row + ["-"] * 5 + ["ok" if s["ok_runs"] == s["runs"] else "FAILED"]
    row.append("%.2f" % s["median_server_cpu"])
    row.append("%.2f" % s["server_cpu_per_million"])
    row.append("%.2f" % (s["cpu_per_million"] + s["server_cpu_per_million"]))
    row.append("-" if s["median_resent"] is None else "{:,.0f}".format(s["median_resent"]))
    row.append("-" if s["peak_temp_mb"] is None else "%.1f" % s["peak_temp_mb"])
    row.append("%d/%d" % (s["ok_runs"], s["runs"]) if s["ok_runs"] == s["runs"]
               else "FAILED %d/%d" % (s["runs"] - s["ok_runs"], s["runs"]))
    return row


def table(summary, has_baseline, baseline_label):
    """The summaries as a Markdown table, numbers right-aligned."""
    head = ["variant", "runs", "median wall s", "min..max s", "median CPU s",
            "CPU s/M rec", "records/s", "vs serial"]
    if has_baseline:
        head.append("vs " + baseline_label)
    head += ["peak RSS MB (largest process)", "server CPU s", "server CPU s/M rec",
             "loader+servers CPU s/M rec", "re-sent records", "peak temp MB (sampled)",
             "keys ok"]
    body = [_cells(s, has_baseline) for s in summary]
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]

    def fmt(r):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))) + " |"

    lines = [fmt(head), "|" + "|".join(("-" * (w + 1) + ":") if i else "-" * (w + 2)
                                        for i, w in enumerate(widths)) + "|"]
    return "\n".join(lines + [fmt(r) for r in body])


def ratio_lines(summary, by):
    """The loaders' wall time over gzip's, their CPU over igzip's."""
    lines = []
    if "gzip" in by:
        g = by["gzip"]["median_wall"]
        widest = [s for s in summary if s["kind"] == "memc_load" and not s["variant"]
                  .endswith("-zlib")]
        ratio = ", ".join("%s %.2f" % (s["label"], s["median_wall"] / g) for s in widest)
        lines.append("gzip -dc over the same files: median wall %.2f s; loader wall / "
                     "gzip wall: %s" % (g, ratio))
    if "igzip" in by:
        ig = by["igzip"]["median_cpu"]
        loaders = [s for s in summary if s["kind"] == "memc_load"]
        lines.append("igzip -dc over the same files: median CPU %.2f s; loader CPU / igzip "
                     "CPU: %s" % (ig, ", ".join("%s %.2f" % (s["label"], s["median_cpu"] / ig)
                                                for s in loaders)))
    return lines


def _setup_lines(ctx, specs, has_baseline, desc, m):
    lines = ["Data: " + desc,
             "memc_load: %s; %s" % (machine.version_of(ctx.binary, {}), ctx.source)]
    if any(s.get("env") for s in specs):
        lines.append("with MEMC_LOAD_INFLATE=zlib: "
                     + machine.version_of(ctx.binary, {"MEMC_LOAD_INFLATE": "zlib"}))
    lines.append("memcached: 4 servers, -m %d -t %d, fresh for every run; kernel %s"
                 % (ctx.memcached_mb, ctx.args.memcached_threads, m["kernel"]))
    if has_baseline:
        lines.append("%s: %s" % (ctx.baseline.label,
                                 ctx.baseline.command.replace(ctx.proto_dir, "TMP")))
    lines.append("CPU: user+sys of the loader and the processes it reaped; peak RSS: the "
                 "largest single process; server CPU: the 4 memcached together.")
    lines.append("re-sent records: the repairs' re-sends (--stats-json's resent, median); "
                 "peak temp: the largest sample of the files under the run's TMPDIR, every "
                 "50 ms (a peak between samples is missed).")
    return lines


def text(ctx, specs, summary, desc, m):
    """The report's lines but the last ("Bench took"): the table, the
    ratios, the targets, the setup, each FAILED spec."""
    has_baseline = any(s["variant"] == "baseline" for s in summary)
    by = {s["variant"]: s for s in summary}
    lines = [table(summary, has_baseline, ctx.baseline.label)]
    lines += ratio_lines(summary, by)
    lines += targets(by)
    lines += _setup_lines(ctx, specs, has_baseline, desc, m)
    lines += ["FAILED %s: %s" % (s["label"], s["problems"]) for s in summary if not s["ok"]]
    return lines


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("%.6f" % v if isinstance(v, float) else
                            "" if v is None else v) for k, v in r.items()})


def write(out, report, rows, summary):
    """The report to stdout and OUT/bench.txt, the rows and summaries to CSV."""
    print(report)
    with open(os.path.join(out, "bench.txt"), "w") as f:
        f.write(report + "\n")
    write_csv(os.path.join(out, "bench.csv"), rows, ROW_FIELDS)
    write_csv(os.path.join(out, "summary.csv"), summary, SUMMARY_FIELDS)
