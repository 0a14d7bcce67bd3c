"""The systemd side of the package, without a running systemd: the units as
installed pass systemd-analyze verify and its offline security review; the
env file, the unit, the sysusers and tmpfiles snippets agree on the user and
the input directory; and the service's command, run as the user the package
creates over the directory it creates, loads a delivered file and renames
it."""

import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import ROOT, need

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import memcached  # noqa: E402  (scripts/memcached.py)

UNITS = ["memc_load.service", "memc_load.timer"]


def unit_settings(path):
    """{(section, key): [values]} of a unit file, in order."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, value = line.split("=", 1)
            settings.setdefault((section, key), []).append(value)
    return settings


def env_file(path):
    """The assignments of an EnvironmentFile= (KEY=VALUE, VALUE maybe quoted)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            key, value = line.split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


@pytest.fixture(scope="session")
def service(root):
    return unit_settings(root / "lib/systemd/system/memc_load.service")


@pytest.fixture(scope="session")
def opts(root):
    """MEMC_LOAD_OPTS of the shipped /etc/default/memc_load, as ExecStart
    gets it: split at whitespace."""
    return env_file(root / "etc/default/memc_load")["MEMC_LOAD_OPTS"].split()


@pytest.fixture(scope="session")
def units_here(root, tmp_path_factory):
    """The installed units, with the binary's and the env file's paths
    moved into the unpacked package, as systemd-analyze checks that
    ExecStart= names an executable."""
    out = tmp_path_factory.mktemp("units")
    for unit in UNITS:
        text = (root / "lib/systemd/system" / unit).read_text()
        for path in ["/usr/bin/memc_load", "/etc/default/memc_load"]:
            text = text.replace(path, str(root) + path)
        (out / unit).write_text(text)
    return out


def test_units_verify_clean(root, units_here):
    need("systemd-analyze", "systemd")
    # Documentation=man:memc_load(1) must find the packaged man page.
    env = dict(os.environ, MANPATH=str(root / "usr/share/man"))
    r = subprocess.run(["systemd-analyze", "verify"] + [str(units_here / u) for u in UNITS],
                       capture_output=True, text=True, env=env)
    # Unknown keys and bad values are warnings with exit status 0.
    assert (r.returncode, r.stdout + r.stderr) == (0, "")


def test_service_exposure_stays_low(units_here):
    need("systemd-analyze", "systemd")
    # 2.0 is the top of systemd's "OK" band; the unit is at 1.2 on Debian 12.
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                        str(units_here / "memc_load.service")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_timer_runs_the_service_every_few_minutes(root):
    timer = unit_settings(root / "lib/systemd/system/memc_load.timer")
    assert ("Timer", "Unit") not in timer  # memc_load.service, by its name
    assert timer[("Timer", "OnUnitActiveSec")] == ["5min"]
    assert ("Timer", "OnBootSec") in timer
    assert timer[("Install", "WantedBy")] == ["timers.target"]


def test_service_is_a_sandboxed_oneshot(service):
    assert service[("Service", "Type")] == ["oneshot"]
    assert ("Install", "WantedBy") not in service  # only the timer starts it
    assert service[("Service", "ExecStart")] == ["/usr/bin/memc_load $MEMC_LOAD_OPTS"]
    assert service[("Service", "EnvironmentFile")] == ["/etc/default/memc_load"]
    for key, value in [("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes")]:
        assert service[("Service", key)] == [value]
    families = service[("Service", "RestrictAddressFamilies")][0].split()
    assert sorted(families) == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert ("Service", "PrivateNetwork") not in service


def test_user_and_input_directory_agree(root, service, opts):
    sysusers = (root / "usr/lib/sysusers.d/memc-load.conf").read_text().split("\n")
    users = [line.split()[1] for line in sysusers if line.startswith("u ")]
    assert users == service[("Service", "User")] == service[("Service", "Group")]
    pattern = opts[opts.index("--pattern") + 1]
    incoming = os.path.dirname(pattern)
    # The unit runs only when the pattern matches a file...
    assert service[("Unit", "ConditionPathExistsGlob")] == [pattern]
    # ...in a directory the sandbox lets it write (rename, lock file)...
    state = "/var/lib/" + service[("Service", "StateDirectory")][0]
    assert (incoming + "/").startswith(state + "/")
    # ...and that exists from installation on, owned by that user.
    tmpfiles = (root / "usr/lib/tmpfiles.d/memc-load.conf").read_text().split("\n")
    dirs = {f[1]: f for f in (line.split() for line in tmpfiles) if f and f[0] == "d"}
    assert dirs[incoming][3:5] == users * 2
    assert dirs[state][3:5] == users * 2


def test_default_options_are_valid(root, opts, tmp_path):
    # With the incoming directory not there, a run gets as far as looking
    # for input: the options parsed (a usage error exits 2). The lock goes
    # to a scratch directory: the state directory need not exist here.
    args = list(opts)
    assert args[args.index("--lock") + 1] == "/var/lib/memc_load/memc_load.lock"
    args[args.index("--lock") + 1] = str(tmp_path / "memc_load.lock")
    r = subprocess.run([str(root / "usr/bin/memc_load")] + args, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    pattern = opts[opts.index("--pattern") + 1]
    assert "No input files match %s" % pattern in r.stderr


def test_service_command_as_the_packaged_user(root, opts):
    """What postinst and one timer tick do, short of systemd's sandbox:
    systemd-sysusers and systemd-tmpfiles on a scratch root, then
    ExecStart as the new user over a file another user delivered."""
    need("systemd-sysusers", "systemd")
    need("setpriv", "util-linux")
    if os.geteuid() != 0:
        pytest.skip("creating the user's files and running as it needs root")
    # Under /tmp, not pytest's 0700 directory: the user must reach it.
    scratch = tempfile.mkdtemp(prefix="memc_load-pkg-", dir="/tmp")
    started = []
    try:
        os.chmod(scratch, 0o755)
        os.makedirs(os.path.join(scratch, "etc"))
        subprocess.run(["systemd-sysusers", "--root", scratch,
                        str(root / "usr/lib/sysusers.d/memc-load.conf")],
                       check=True, capture_output=True)
        subprocess.run(["systemd-tmpfiles", "--root", scratch, "--create",
                        str(root / "usr/lib/tmpfiles.d/memc-load.conf")],
                       check=True, capture_output=True)
        with open(os.path.join(scratch, "etc/passwd")) as f:
            pw = [line.split(":") for line in f if line.startswith("memc_load:")][0]
        uid, gid = pw[2], pw[3]

        pattern = opts[opts.index("--pattern") + 1]
        incoming = scratch + os.path.dirname(pattern)
        assert os.stat(incoming).st_uid == int(uid)
        # Delivered by root, readable by all: memc_load owns the directory,
        # so it may rename the file.
        name = "20170929000000.tsv.gz"
        with open(os.path.join(incoming, name), "wb") as f:
            f.write(gzip.compress(b"idfa\tpkg-1\t1.5\t2.5\t1,2,3\ngaid\tpkg-2\t\t\t4\n"))
        started = memcached.start(1)
        addr = "127.0.0.1:%d" % started[0][0]
        args = list(opts)
        args[args.index("--pattern") + 1] = scratch + pattern
        lock = scratch + args[args.index("--lock") + 1]
        args[args.index("--lock") + 1] = lock
        for t in ["--idfa", "--gaid", "--adid", "--dvid"]:
            args[args.index(t) + 1] = addr
        r = subprocess.run(["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups",
                            str(root / "usr/bin/memc_load")] + args,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        # Only input in incoming/: the lock is in the state directory.
        assert sorted(os.listdir(incoming)) == [".20170929000000.tsv.gz"]
        assert os.path.isfile(lock)
        assert re.search(r"Summary: files 1, loaded 1, failed 0, renamed 1", r.stderr), r.stderr
        with memcached.Session(started[0][0]) as s:
            for key in [b"idfa:pkg-1", b"gaid:pkg-2"]:
                s.send(b"get " + key + b"\r\n")
                header = s.readline()
                assert header.startswith(b"VALUE " + key + b" "), (key, header)
                s.readexact(int(header.split()[3]) + 2)
                assert s.readline() == b"END"
    finally:
        memcached.stop(pid for _, pid in started)
        shutil.rmtree(scratch, ignore_errors=True)
