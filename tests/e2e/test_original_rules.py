"""Whitespace and signs as the original memc_load.py reads them (issue 15,
point 3): every line here is one the original stores, and memcached must
hold exactly the bytes the original would have stored for it.

The expected values are computed here from the original's own steps
(line.strip(), split on tabs, int(a.strip()) per app, float() of lat and
lon, UserApps(...).SerializeToString() with python3-protobuf), not from
model.py, so a rule misread in both the C parser and the model still shows.
Before the fix the loader stored "1, 2, 3" as [1], left out " 55.5" and
"42.5 ", lost the last app of "4,5,6 ", dropped "+5" and "-0", and refused
lines with a tab at the end or whitespace before the device type."""

import os

import pytest

from helpers import run, write_gz

NAME = "20170929000000.tsv.gz"

# Apps like a real line's, so the lines are long enough for the AVX2 paths.
FILL = b",".join(b"%d" % (i * 37) for i in range(1, 60))
ID = b"7c4e1b8a2f9d3e6a5b0c1d2e3f405162"


def lines():
    """Each line the original stores, with a key of its own."""
    short = [
        b"idfa\tws-items\t55.5\t42.5\t1, 2, 3",
        b"gaid\tws-coords\t 55.5\t42.5 \t7",
        b"adid\tws-last-app\t1\t2\t4,5,6 ",
        b"dvid\tws-tab-end\t1\t2\t3\t",
        b" idfa\tws-lead-space\t1\t2\t3",
        b"\tgaid\tws-lead-tab\t1\t2\t3",
        b"\vadid\tws-vt\t1\t2\t3\v",
        b"\fdvid\tws-ff\t1\t2\t3\f",
        b"idfa\tws-cr\t1\t2\t3\r\r",
        b"gaid\tws-signs\t1\t2\t+5,-0,7",
        b"adid\tws-all\t\v-12.25\f\t\r+180 \t 0 ,+00042 ,\v9\v,-0 \t \r",
    ]
    long = [
        b"idfa\t%s-items\t55.7558203126\t37.6173014259\t%s, 2, 3" % (ID, FILL),
        b"gaid\t%s-coords\t 55.7558203126\t37.6173014259 \t%s" % (ID, FILL),
        b"adid\t%s-last-app\t55.7558203126\t37.6173014259\t%s,4,5,6 " % (ID, FILL),
        b"dvid\t%s-tab-end\t55.7558203126\t37.6173014259\t%s\t" % (ID, FILL),
        b" idfa\t%s-lead-space\t55.7558203126\t37.6173014259\t%s" % (ID, FILL),
        b"\v\f\r gaid\t%s-vt-ff\t55.7558203126\t37.6173014259\t%s\v\f\r\r" % (ID, FILL),
        b"adid\t%s-signs\t-55.7558203126\t+37.6173014259\t+5,%s,-0" % (ID, FILL),
    ]
    return short + long


def original(userapps, raw):
    """(dev_type, key, value) as memc_load.py makes them of RAW, for a line
    it stores: its steps, in its order (Python 3 bytes strip and convert
    the same ASCII whitespace as Python 2's str)."""
    line = raw.strip()
    dev_type, dev_id, lat, lon, raw_apps = line.split(b"\t")
    apps = [int(a.strip()) for a in raw_apps.split(b",")]
    ua = userapps()
    ua.lat, ua.lon = float(lat), float(lon)
    ua.apps.extend(apps)
    return dev_type.decode(), dev_type + b":" + dev_id, ua.SerializeToString()


@pytest.mark.parametrize("simd", ["default", "none"])
def test_lines_the_original_stores_are_stored_as_it_stores_them(mc, userapps, tmp_path, simd):
    env = dict(os.environ)
    if simd == "none":
        env["MEMC_LOAD_SIMD"] = "none"
    data = lines()
    path = write_gz(tmp_path / NAME, data)

    res = run(mc.opts() + [str(path)], env=env)

    wrong = []
    for raw in data:
        dev_type, key, want = original(userapps, raw)
        got = mc.get(dev_type, [key]).get(key)
        if got != (0, want):
            wrong.append((raw[:60], got, want))
    assert not wrong, "line, stored (flags, value), the original's value: %r" % wrong
    f = res.finished(path)
    assert f is not None, res
    assert (f["processed"], f["errors"], f["blank"]) == (len(data), 0, 0), res
    assert (f["apps_dropped"], f["coords_dropped"]) == (0, 0), res
    assert res.rc == 0, res
