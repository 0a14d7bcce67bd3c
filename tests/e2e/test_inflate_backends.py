"""ISA-L and zlib give the same results (MEMC_LOAD_INFLATE picks zlib)."""

import glob
import os
import re
import subprocess

import helpers

SAMPLES = sorted(glob.glob(os.path.join(helpers.ROOT, "data", "2*.tsv.gz")))


def finished_lines(env_extra):
    env = dict(os.environ, **env_extra)
    out = subprocess.run([helpers.MEMC_LOAD, "--dry", "-q", "-v", "-w", "1", "--max-error-rate", "1"]
                         + SAMPLES, capture_output=True, text=True, errors="surrogateescape", env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    # The counts and every record logged, without time stamps and durations.
    return [re.sub(r"^\[[^]]*\] ", "", re.sub(r" seconds=[\d.]+", "", line))
            for line in out.stderr.splitlines()
            if " Finished " in line or " -> apps: " in line]


def test_backends_agree_on_the_samples():
    version = subprocess.run([helpers.MEMC_LOAD, "-V"], capture_output=True, text=True).stdout
    default = finished_lines({})
    forced = finished_lines({"MEMC_LOAD_INFLATE": "zlib"})
    assert len(SAMPLES) == 3 and len(default) > 1000
    assert default == forced
    if "ISA-L" not in version:
        return  # a build without ISA-L: both runs used zlib, which is still right
    zlib_version = subprocess.run([helpers.MEMC_LOAD, "-V"], capture_output=True, text=True,
                                  env=dict(os.environ, MEMC_LOAD_INFLATE="zlib")).stdout
    assert zlib_version.split("built with ")[1].startswith("zlib"), zlib_version
