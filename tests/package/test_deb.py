"""The Debian package: its name and control fields, the files it installs
and that they are the tree's, its conffile, what its maintainer scripts do
with the units, that the installed binary runs, and lintian."""

import gzip
import os
import re
import subprocess

import pytest

from conftest import ROOT, need

# Installed path -> the tree's file it must be a copy of (None: only there).
FILES = {
    "usr/bin/memc_load": None,
    "usr/share/man/man1/memc_load.1.gz": "man/memc_load.1",
    "lib/systemd/system/memc_load.service": "systemd/memc_load.service",
    "lib/systemd/system/memc_load.timer": "systemd/memc_load.timer",
    "etc/default/memc_load": "systemd/default/memc_load",
    # Made at build time: test_completion_is_made_from_the_binary.
    "usr/share/bash-completion/completions/memc_load": None,
    "usr/share/doc/memc-load/README.md.gz": "README.md",
    "usr/share/doc/memc-load/copyright": "debian/copyright",
    "usr/share/doc/memc-load/changelog.gz": "debian/changelog",
    "usr/lib/sysusers.d/memc-load.conf": "debian/memc-load.sysusers",
    "usr/lib/tmpfiles.d/memc-load.conf": "debian/memc-load.tmpfiles",
}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if str(path).endswith(".gz") else data


def test_deb_is_named_after_the_program_version(deb, version, arch):
    # Debian package names cannot contain "_" (Policy 5.6.1), so the
    # package is memc-load; the program stays memc_load.
    assert os.path.basename(deb) == "memc-load_%s_%s.deb" % (version, arch)


def test_control_fields(deb, version):
    out = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"],
                         capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(": ", 1) for line in out.splitlines())
    assert fields["Package"] == "memc-load"
    assert fields["Version"] == version
    depends = {re.split(r"[ (]", d.strip())[0] for d in re.split(r"[,|]", fields["Depends"])}
    # ${shlibs:Depends}: the libraries the binary links.
    for lib in [r"libc6", r"libmemcached\d+", r"libprotobuf-c\d+", r"zlib1g", r"libisal\d+"]:
        assert any(re.fullmatch(lib, d) for d in depends), (lib, fields["Depends"])
    # ${misc:Depends}: whatever creates the memc_load user at installation.
    assert "systemd-sysusers" in depends


def test_changelog_version_is_the_program_version(version):
    out = subprocess.run(["dpkg-parsechangelog", "-l", os.path.join(ROOT, "debian", "changelog"),
                          "-S", "Version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == version


@pytest.mark.parametrize("path", sorted(FILES))
def test_installed_file(root, path):
    installed = root / path
    assert installed.is_file(), "%s is not in the package" % path
    if FILES[path] is not None:
        assert read(installed) == read(os.path.join(ROOT, FILES[path])), \
            "%s is not a copy of %s" % (path, FILES[path])


def test_completion_is_made_from_the_binary(root):
    # The template filled in with the packaged binary's own options.
    made = subprocess.run([os.path.join(ROOT, "scripts", "completion.sh"), str(root / "usr/bin/memc_load"),
                           os.path.join(ROOT, "completion", "memc_load.in")],
                          capture_output=True, check=True).stdout
    assert b"_memc_load()" in made
    assert read(root / "usr/share/bash-completion/completions/memc_load") == made


def test_binary_is_executable(root):
    assert os.access(root / "usr/bin/memc_load", os.X_OK)


def test_env_file_is_the_only_conffile(control):
    assert (control / "conffiles").read_text().split() == ["/etc/default/memc_load"]


def test_installed_binary_reports_version(root, version):
    out = subprocess.run([str(root / "usr/bin/memc_load"), "-V"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "memc_load %s" % version
    # libisal-dev is a build dependency: the fast inflate is built in.
    assert "ISA-L igzip" in lines[1]


def test_installed_binary_self_test(root):
    r = subprocess.run([str(root / "usr/bin/memc_load"), "-t"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Self test passed" in r.stderr


def script(control, name):
    path = control / name
    return path.read_text() if path.exists() else ""


def test_maintainer_scripts_never_start_the_service(control):
    # The timer starts it; installing or upgrading the package must not
    # run a load, nor stop one under way.
    for name in ["preinst", "postinst", "prerm", "postrm"]:
        for line in script(control, name).splitlines():
            if "memc_load.service" in line:
                assert not re.search(r"deb-systemd-(invoke|helper)", line), (name, line)


def test_timer_is_installed_not_enabled(control):
    postinst = script(control, "postinst")
    # dh_installsystemd --no-enable: enabled again on upgrade only if the
    # administrator had enabled it; started only when enabled.
    assert "deb-systemd-helper debian-installed 'memc_load.timer'" in postinst
    assert "deb-systemd-invoke $_dh_action 'memc_load.timer'" in postinst
    # Stopped when the package is removed, forgotten when purged.
    assert "deb-systemd-invoke stop 'memc_load.timer'" in script(control, "prerm")
    assert "deb-systemd-helper purge 'memc_load.timer'" in script(control, "postrm")


def test_user_is_created_before_its_directory(control):
    postinst = script(control, "postinst")
    users = postinst.find("systemd-sysusers")
    dirs = postinst.find("systemd-tmpfiles")
    assert 0 <= users < dirs, "systemd-sysusers must run before systemd-tmpfiles"


def test_lintian_reports_no_error(changes):
    need("lintian", "lintian")
    # The .changes: the binary packages and the source package, whose
    # debian/ directory lintian checks too.
    r = subprocess.run(["lintian", "--fail-on", "error", changes], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    assert errors == []
    assert r.returncode == 0, r.stdout + r.stderr


PURGE = r"""
set -e
mount -t tmpfs tmpfs /var/lib
mount -t tmpfs tmpfs /run
s=/var/lib/memc_load
mkdir -p $s/incoming /var/lib/prometheus/node-exporter
echo 42 > $s/memc_load.lock
echo '{}' > $s/last-run.json
echo 'x 1' > /var/lib/prometheus/node-exporter/memc_load.prom
echo other > /var/lib/prometheus/node-exporter/other.prom
touch $s/incoming/.20170929000000.tsv.gz $s/incoming/20170929000100.tsv.gz
sh "$1" purge
find /var/lib | sort
"""


def purge_permitted():
    return os.geteuid() == 0 and subprocess.run(
        ["unshare", "--mount", "true"], stdin=subprocess.DEVNULL,
        capture_output=True).returncode == 0


@pytest.mark.skipif(not purge_permitted(), reason="needs root and unshare --mount")
def test_purge_removes_the_state_but_never_an_input(control):
    """The package's postrm run for purge in a mount namespace of its own,
    with tmpfs over /var/lib and /run, so the machine's are untouched
    (measured before: purge left the lock and the reports behind)."""
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", PURGE,
                        "purge", str(control / "postrm")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    left = r.stdout.split()
    assert "/var/lib/memc_load/memc_load.lock" not in left, left
    assert "/var/lib/memc_load/last-run.json" not in left, left
    assert "/var/lib/prometheus/node-exporter/memc_load.prom" not in left, left
    assert "/var/lib/prometheus/node-exporter/other.prom" in left, left
    assert "/var/lib/memc_load/incoming/.20170929000000.tsv.gz" in left, left
    assert "/var/lib/memc_load/incoming/20170929000100.tsv.gz" in left, left
