"""checks.py -- assertions shared by the tests that load data: the servers
hold exactly the modelled records, and the log counts match the model."""

import re

from helpers import TYPES


def expected_by_type(models):
    out = {t: {} for t in TYPES}
    for m in models:
        for rec in m.records:
            out[rec.dev_type][rec.key] = rec
    return out


def check_store(mc, decode, models):
    """The servers hold exactly the valid records, each decoding as modelled."""
    expected = expected_by_type(models)
    stored = mc.keys()
    for t in TYPES:
        missing = set(expected[t]) - stored[t]
        extra = stored[t] - set(expected[t])
        assert not missing and not extra, "%s server: missing %r, unexpected %r" % (
            t,
            sorted(missing)[:5],
            sorted(extra)[:5],
        )
    wrong = []
    for t in TYPES:
        got = mc.get(t, list(expected[t]))
        for key, rec in expected[t].items():
            flags, value = got[key]
            apps, lat, lon = decode(value)
            if (flags, apps, lat, lon) != (0, rec.apps, rec.lat, rec.lon):
                got_ = (flags, apps[:8], lat, lon)
                wrong.append((key[:60], got_, (0, rec.apps[:8], rec.lat, rec.lon)))
    assert not wrong, "values differ (key, got, want): %r" % wrong[:5]
    # Invalid lines: not on any server under the key they would have had.
    for m in models:
        for key in m.bad_keys:
            for t in TYPES:
                assert key not in stored[t], key


def check_finished(res, path, m):
    f = res.finished(path)
    assert f is not None, "no Finished line for %s\n%r" % (path, res)
    assert f == {
        "lines": m.lines,
        "processed": m.processed,
        "errors": m.error_total,
        "kinds": {k: v for k, v in m.errors.items() if v},
        "blank": m.blank,
        "apps_dropped": m.apps_dropped,
        "coords_dropped": m.coords_dropped,
    }, path
    assert f["processed"] + f["errors"] == f["lines"] - f["blank"]


def check_rate_line(res, path, m, limit):
    rate, name = m.error_rate(), re.escape(str(path))
    if rate > limit:
        want = r"\] E %s: High error rate \(%.4f > %.4f\)\. Failed load$" % (name, rate, limit)
    else:
        want = r"\] I %s: Acceptable error rate \(%.4f\)\. Successful load$" % (name, rate)
    assert len(res.grep(want)) == 1, "want %r\n%r" % (want, res)
