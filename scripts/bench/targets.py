"""targets.py -- the speed targets of issue 10, checked on the summaries."""


def _pick(by):
    """The -w N variant (plain), else the first plain -w variant, or None."""
    return by.get("wN") or next((s for n, s in by.items()
                                 if s["kind"] == "memc_load" and n.startswith("w")
                                 and "-" not in n), None)


def _verdict(ok):
    return "met" if ok else "MISSED"


def targets(by):
    """The speed targets, checked on the -w N variant (plain, else the first
    -w variant): its loader CPU against igzip's, its servers' CPU against the
    same variant's with --protocol text, its wall time against gzip's, and
    the largest process's peak RSS. Lines of text; empty without the needed
    variants. by: the summaries by variant name."""
    pick = _pick(by)
    if pick is None:
        return []
    lines = []
    name = pick["label"]
    if "igzip" in by:
        r = pick["median_cpu"] / by["igzip"]["median_cpu"]
        lines.append("loader CPU per record <= 1.5x igzip -dc's: %s %.2fx (%s)"
                     % (name, r, _verdict(r <= 1.5)))
    text = by.get(pick["variant"] + "-text")
    if text and text["median_server_cpu"] > 0:
        cut = 1 - pick["median_server_cpu"] / text["median_server_cpu"]
        lines.append("servers' CPU per record >= 10%% below --protocol text's: %s %.2f s/M, "
                     "text %.2f s/M, %.0f%% below (%s)"
                     % (name, pick["server_cpu_per_million"], text["server_cpu_per_million"],
                        100 * cut, _verdict(cut >= 0.10)))
    if "gzip" in by:
        r = pick["median_wall"] / by["gzip"]["median_wall"]
        lines.append("wall time <= 0.7x gzip -dc's: %s %.2fx (%s)"
                     % (name, r, _verdict(r <= 0.7)))
    rss = max(s["peak_rss_mb"] for s in by.values() if s["kind"] == "memc_load")
    lines.append("largest loader process's peak RSS <= 32 MB, any variant: %.1f MB (%s)"
                 % (rss, _verdict(rss <= 32)))
    return ["Targets (issue 10), on %s:" % name] + ["  " + x for x in lines]
