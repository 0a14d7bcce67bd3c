"""plot.py -- bench.png with gnuplot: records/s by variant (left), and the
CPU each record costs the loader and the servers, stacked, beside igzip's
and gzip's (right). No gnuplot, no plot: the bench goes on without it."""

import os
import shutil
import subprocess

from .common import log


def _write_dat(path, summary):
    with open(path, "w") as f:
        f.write("# variant median min max (records/s) loader servers (CPU s per M records)\n")
        for s in summary:
            if s["kind"] == "inflate":
                continue
            label = s["label"] + ("" if s["ok"] else " (FAILED)")
            f.write('"%s" %.1f %.1f %.1f %.4f %.4f\n'
                    % (label, s["median_rate"], s["min_rate"], s["max_rate"],
                       s["cpu_per_million"], s["server_cpu_per_million"]))


def _terminal():
    terms = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True,
                           text=True).stderr + ""
    return ("pngcairo size 1400,600 font 'sans,10'" if "pngcairo" in terms
            else "png size 1400,600")


def _write_gp(f, out_dir, dat, title, by):
    f.write("set terminal %s\n" % _terminal())
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


def plot(out_dir, summary, title):
    """Write OUT/bench.png (and bench.dat, bench.gp); whether it worked."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found (Debian: apt-get install gnuplot-nox); no bench.png")
        return False
    by = {s["variant"]: s for s in summary}
    dat = os.path.join(out_dir, "bench.dat")
    _write_dat(dat, summary)
    gp = os.path.join(out_dir, "bench.gp")
    with open(gp, "w") as f:
        _write_gp(f, out_dir, dat, title, by)
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode:
        log("gnuplot failed: %s" % r.stderr.strip())
        return False
    return True
