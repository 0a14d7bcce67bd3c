"""Fixtures for the package tests: the .deb that `make deb` built, unpacked.

Run: make deb-test (builds the package into build/deb/, then
MEMC_LOAD_DEB_DIR=build/deb /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/package)
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEB_DIR = os.environ.get("MEMC_LOAD_DEB_DIR", os.path.join(ROOT, "build", "deb"))


def makefile_version():
    """The program's version: VERSION in the Makefile, compiled into -V."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^VERSION\s*=\s*(\S+)", f.read(), re.M)
    assert m, "no VERSION = line in the Makefile"
    return m.group(1)


def need(tool, package):
    """Skip when a tool is missing; `make deps` (scripts/deps.sh) installs it."""
    if shutil.which(tool) is None:
        pytest.skip("%s is missing: install %s (make deps does)" % (tool, package))


@pytest.fixture(scope="session")
def version():
    return makefile_version()


@pytest.fixture(scope="session")
def arch():
    need("dpkg", "dpkg")
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="session")
def deb(version, arch):
    """The path of memc-load_VERSION_ARCH.deb."""
    path = os.path.join(DEB_DIR, "memc-load_%s_%s.deb" % (version, arch))
    if not os.path.isfile(path):
        found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DEB_DIR, "*.deb")))
        pytest.fail("%s not found (there: %s): run make deb-test, which builds it"
                    % (path, ", ".join(found) or "nothing"))
    return path


@pytest.fixture(scope="session")
def changes(version, arch, deb):
    path = os.path.join(DEB_DIR, "memc-load_%s_%s.changes" % (version, arch))
    assert os.path.isfile(path), "make deb writes the .changes beside the .deb"
    return path


@pytest.fixture(scope="session")
def root(deb, tmp_path_factory):
    """The package's files, as dpkg -x unpacks them."""
    path = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", deb, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def control(deb, tmp_path_factory):
    """The package's control files: control, conffiles, maintainer scripts."""
    path = tmp_path_factory.mktemp("control")
    subprocess.run(["dpkg-deb", "-e", deb, str(path)], check=True)
    return path
