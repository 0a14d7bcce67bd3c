"""The committed samples and the README's first command (scripts/demo.sh)."""

import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess

import model
from checks import check_finished, check_rate_line, check_store
from helpers import MEMC_LOAD, ROOT, RUN_TIMEOUT, dot, gz_content, run

SAMPLES = sorted(glob.glob(os.path.join(ROOT, "data", "*.tsv.gz")))


def digest(paths):
    return {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}


def test_samples_load_as_modelled(mc, decode, tmp_path):
    assert len(SAMPLES) >= 3, "data/ should hold the sample files"
    models = {}
    for sample in SAMPLES:
        path = tmp_path / os.path.basename(sample)
        shutil.copyfile(sample, path)
        models[path] = model.model_content(gz_content(path))

    res = run(mc.opts() + ["-p", str(tmp_path / "*.tsv.gz")])

    check_store(mc, decode, models.values())
    for path, m in models.items():
        check_finished(res, path, m)
        check_rate_line(res, path, m, 0.01)
        assert dot(path).exists()
    assert all(m.error_total for m in models.values()), "samples include bad lines"
    assert res.rc == 0, res


def test_demo_script(tmp_path):
    before = digest(SAMPLES)
    assert before, "data/ should hold the sample files"
    proc = subprocess.run(
        [os.path.join(ROOT, "scripts", "demo.sh"), MEMC_LOAD],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=RUN_TIMEOUT,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    n = len(SAMPLES)
    assert re.search(r"\] I Summary: files %d, .*renamed %d, " % (n, n), out), out
    assert len(re.findall(r"^127\.0\.0\.1:\d+ - \S+ -> apps: \[\d", out, re.M)) == 3, out
    for sample in SAMPLES:
        assert re.search(r"^\.%s$" % re.escape(os.path.basename(sample)), out, re.M), out
    # The samples are untouched, the temporary directory is gone, and the
    # servers the demo started are stopped.
    assert digest(SAMPLES) == before
    data = os.listdir(os.path.join(ROOT, "data"))
    assert not [n for n in data if n.startswith(".") and n.endswith(".gz")], data
    assert os.listdir(tmp_path) == []
    ports = re.search(r"^== memcached: (.*)$", out, re.M).group(1)
    for port in re.findall(r"127\.0\.0\.1:(\d+)", ports):
        s = socket.socket()
        try:
            assert s.connect_ex(("127.0.0.1", int(port))) != 0, "demo left a server on %s" % port
        finally:
            s.close()
