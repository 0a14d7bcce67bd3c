"""valgrind memcheck on an end-to-end run: a small multi-file load with two
workers against real memcached, with bad lines, a bad file and a rejected
value among them, must show no memory error and no leak in the supervisor
or in any worker (valgrind follows fork by itself; --trace-children also
follows exec)."""

import os
import re
import shutil

import pytest

import helpers
from helpers import TYPES, dot, run, write_gz
from inputs import mixed_lines

VALGRIND = [
    "valgrind",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--trace-children=yes",
    "-q",
]

# valgrind's own lines start with ==PID== (or **PID** for fatal ones).
VALGRIND_LINE = re.compile(r"^(==|\*\*)\d+(==|\*\*)")


def _skip_reason():
    if shutil.which("valgrind") is None:
        return "valgrind is not installed"
    if "asan" in helpers.MEMC_LOAD:
        return "%s is a sanitizer build: ASan and valgrind do not mix" % helpers.MEMC_LOAD
    return None


needs_valgrind = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))

# Under valgrind everything runs ~30x slower: a roomy --timeout, and a hang
# bound of attempts x timeout plus a generous margin.
ATTEMPTS, TIMEOUT_MS = 3, 10000
HANG_BOUND = ATTEMPTS * TIMEOUT_MS / 1000 + 120


def run_under_valgrind(opts, paths):
    res = run(opts + ["-w", "2", "-a", ATTEMPTS, "--timeout", TIMEOUT_MS]
              + [str(p) for p in paths], timeout=HANG_BOUND, wrapper=VALGRIND)
    noise = [line for line in res.lines if VALGRIND_LINE.match(line)]
    assert noise == [], "valgrind reported:\n" + "\n".join(noise)
    assert not res.out, res
    for p in paths:
        f = res.finished(p)
        assert f is None or f["processed"] + f["errors"] == f["lines"] - f["blank"], res
    return res


@needs_valgrind
def test_clean_load_has_no_memory_errors_and_no_leaks(mc, tmp_path):
    paths = [write_gz(tmp_path / ("20170929000%d00.tsv.gz" % i),
                      ["%s\tvg%d-%d\t1.5\t2.5\t%d,%d" % (TYPES[j % 4], i, j, j, j + 1)
                       for j in range(1500)]) for i in range(3)]

    res = run_under_valgrind(mc.opts(), paths)

    assert res.rc == 0, res
    assert res.renamed() == [str(p) for p in paths]
    assert all(dot(p).exists() for p in paths)
    assert mc.total_keys() == 3 * 1500


@needs_valgrind
def test_faulty_load_has_no_memory_errors_and_no_leaks(mc, small_server, tmp_path):
    """The error paths too: bad lines, a refused value, a file that is not gzip."""
    names = ["20170929000%d00.tsv.gz" % i for i in range(4)]
    paths = [tmp_path / n for n in names]
    write_gz(paths[0], mixed_lines("vg0"))
    write_gz(paths[1], ["%s\tvg1-%d\t1.5\t2.5\t%d,%d" % (TYPES[i % 4], i, i, i + 1)
                        for i in range(3000)])
    write_gz(paths[2], ["idfa\tvg2-big\t1\t2\t" + ",".join(["4000000000"] * 400),
                        "idfa\tvg2-small\t1\t2\t3"])  # the big value is refused
    paths[3].write_bytes(b"not gzip\n")

    res = run_under_valgrind(mc.opts(idfa=small_server.addr) + ["--max-error-rate", "1"], paths)

    assert res.rc == 1, res  # a bad file; not valgrind's 99
    assert res.finished(paths[2])["kinds"] == {"too_large": 1}, res
    assert res.renamed() == [str(p) for p in paths[:3]]
    assert all(dot(p).exists() for p in paths[:3])
    assert os.path.exists(paths[3])
    assert res.grep(r"\] E %s failed: " % re.escape(str(paths[3]))), res
