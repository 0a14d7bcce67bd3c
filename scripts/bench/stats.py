"""stats.py -- from the rows of every run to one summary per spec: medians,
minima and maxima, per-million-record figures, speed-ups over serial and
the baseline. Pure, no I/O."""

import statistics


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def _known(rs, field):
    """The values of field in rows rs, leaving out the None of runs without one."""
    return [r[field] for r in rs if r.get(field) is not None]


def _summary(spec, rs, records):
    wall = [r["wall"] for r in rs]
    rate = [records / w for w in wall]
    cpu = [r["user"] + r["sys"] for r in rs]
    server = [r["server_cpu"] for r in rs]
    ok_runs = sum(r["ok"] for r in rs)
    resent, shared, temp = (_known(rs, f) for f in ("resent", "shared_keys", "temp_peak_mb"))
    return dict(variant=spec["name"], label=spec["label"], kind=spec["kind"], runs=len(rs),
                ok_runs=ok_runs, ok=ok_runs == len(rs),
                median_wall=median(wall), min_wall=min(wall), max_wall=max(wall),
                median_cpu=median(cpu), cpu_per_million=median(cpu) / (records / 1e6),
                median_rate=median(rate), min_rate=min(rate), max_rate=max(rate),
                peak_rss_mb=max(r["rss_kib"] for r in rs) / 1024,
                median_server_cpu=median(server),
                server_cpu_per_million=median(server) / (records / 1e6),
                median_resent=median(resent) if resent else None,
                median_shared_keys=median(shared) if shared else None,
                peak_temp_mb=max(temp) if temp else None,
                problems="; ".join("run %d: %s" % (r["run"], r["problem"])
                                   for r in rs if not r["ok"]))


def summarize(specs, rows, records):
    """One summary (a dict, a line of summary.csv) per spec that ran, in
    the specs' order. speedup_serial and speedup_baseline are None for the
    inflate commands and when that spec did not run."""
    out = []
    for spec in specs:
        rs = [r for r in rows if r["variant"] == spec["name"]]
        if rs:
            out.append(_summary(spec, rs, records))
    walls = {s["variant"]: s["median_wall"] for s in out}
    for s in out:
        loader = s["kind"] != "inflate"
        s["speedup_serial"] = (walls["serial"] / s["median_wall"]
                               if loader and "serial" in walls else None)
        s["speedup_baseline"] = (walls["baseline"] / s["median_wall"]
                                 if loader and "baseline" in walls else None)
    return out
