"""The bash completion (build/completion/memc_load, which the Makefile makes
from completion/memc_load.in): what bash offers after `memc_load`, with
bash-completion loaded and in a plain bash; that it knows exactly the options
of the binary's table (`memc_load --list-options`, and --help); and that
`make install` puts it, the binary and the man page where they belong."""

import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import time

import pytest

from helpers import MEMC_LOAD, ROOT

# `make e2e` names the one made for the binary under test.
SCRIPT = os.environ.get("MEMC_LOAD_COMPLETION") or os.path.join(ROOT, "build", "completion", "memc_load")
TEMPLATE = os.path.join(ROOT, "completion", "memc_load.in")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

# Calls _memc_load as bash would on a Tab: "$@" is COMP_WORDS, the cursor is
# at the end of LINE. Prints COMPREPLY, NUL-terminated.
DRIVER = r"""
if [[ $WITH_LIB ]]; then
    source /usr/share/bash-completion/bash_completion || exit 1
fi
source "$SCRIPT" || exit 1
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$LINE
COMP_POINT=${#LINE}
COMPREPLY=()
_memc_load
((${#COMPREPLY[@]} == 0)) || printf '%s\0' "${COMPREPLY[@]}"
"""

with_lib = pytest.mark.skipif(not os.path.exists(BASH_COMPLETION),
                              reason="bash-completion is installed by make deps")
# Every behaviour holds with bash-completion and without it.
MODES = [pytest.param(True, id="bash-completion", marks=with_lib), pytest.param(False, id="plain-bash")]


def clean_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
           "HOME": os.environ.get("HOME", "/nonexistent")}
    env.update(extra)
    return env


BREAKS = subprocess.run(["bash", "--norc", "--noprofile", "-c", 'printf %s "$COMP_WORDBREAKS"'],
                        capture_output=True, text=True, check=True).stdout
NON_BLANK_BREAKS = "".join(c for c in BREAKS if not c.isspace())


def comp_words(line):
    """COMP_WORDS as bash makes them for LINE with the cursor at its end:
    split at blanks, and each run of COMP_WORDBREAKS characters ('=' and ':'
    among them) a word of its own; an empty last word after a blank. Quotes
    are not used in these tests."""
    part = re.compile("[%s]+|[^%s]+" % (re.escape(NON_BLANK_BREAKS), re.escape(NON_BLANK_BREAKS)))
    words = []
    for word in line.split():
        words += part.findall(word)
    if line[-1:].isspace():
        words.append("")
    return words


def complete(line, cwd, lib=True):
    """The set of words _memc_load offers for LINE, run in directory CWD."""
    env = clean_env(SCRIPT=SCRIPT, LINE=line, WITH_LIB="1" if lib else "")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", DRIVER, "bash"] + comp_words(line),
                       cwd=str(cwd), env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", (line, r.returncode, r.stderr)
    return set(r.stdout.split("\0")[:-1])


def test_comp_words_split_as_bash_does():
    # As an interactive bash 5.2 sets COMP_WORDS for these lines (seen with a
    # completion function that printed them).
    assert comp_words("memc_load --protocol=") == ["memc_load", "--protocol", "="]
    assert comp_words("memc_load --protocol=m") == ["memc_load", "--protocol", "=", "m"]
    assert comp_words("memc_load --idfa=127.0.0.1:33") == ["memc_load", "--idfa", "=", "127.0.0.1", ":", "33"]
    assert comp_words("memc_load a:=b") == ["memc_load", "a", ":=", "b"]
    assert comp_words("memc_load ") == ["memc_load", ""]


def test_completes_in_an_interactive_bash(tmp_path):
    """A Tab typed into an interactive bash (on a pseudo-terminal), where
    readline splits the words, not comp_words."""
    for name in ["a.tsv.gz", "b.txt", "x:1.tsv.gz"]:
        (tmp_path / name).write_bytes(b"")
    cases = [  # typed, then what the line shows after a Tab
        ("memc_load --protocol=m", "memc_load --protocol=meta "),
        ("memc_load --idfa=127.0.0.1:3", "memc_load --idfa=127.0.0.1:33013 "),
        ("memc_load x:", "memc_load x:1.tsv.gz "),
        ("memc_load --stats-j", "memc_load --stats-json "),
        ("memc_load --log=b", "memc_load --log=b.txt "),
        ("memc_load a", "memc_load a.tsv.gz "),
    ]
    setup = "PS1='$ '; source %s; source %s; echo READY\n" % (BASH_COMPLETION, SCRIPT)
    if not os.path.exists(BASH_COMPLETION):
        setup = "PS1='$ '; source %s; echo READY\n" % SCRIPT
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(tmp_path))
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"],
                   clean_env(HOME=str(tmp_path), INPUTRC="/dev/null", TERM="dumb"))
    seen = b""

    def wait_for(text, timeout=20):
        nonlocal seen
        end = time.monotonic() + timeout
        while text.encode() not in seen and time.monotonic() < end:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        return text.encode() in seen

    try:
        os.write(fd, setup.encode())
        assert wait_for("READY\r\n"), seen
        for typed, shown in cases:
            seen = b""
            os.write(fd, typed.encode() + b"\t")
            assert wait_for(shown), (typed, seen)
            os.write(fd, b"\x15")  # C-u: clear the line
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


@pytest.fixture
def logs(tmp_path):
    """A directory with a log, another file, a subdirectory and a loaded log."""
    for name in ["a.tsv.gz", "b.txt", ".d.tsv.gz", "-x.tsv.gz", "sub/c.tsv.gz"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    return tmp_path


OPERANDS = {"a.tsv.gz", "-x.tsv.gz", "sub"}
# As compgen -f gives them: hidden names too (readline's match-hidden-files).
ANY_FILE = {"a.tsv.gz", "b.txt", ".d.tsv.gz", "-x.tsv.gz", "sub"}


@pytest.mark.parametrize("lib", MODES)
def test_long_options_by_prefix(logs, lib):
    assert complete("memc_load --pro", logs, lib) == {"--protocol"}
    assert complete("memc_load --no-", logs, lib) == {"--no-progress", "--no-lock"}
    assert complete("memc_load --lock", logs, lib) == {"--lock", "--lock-wait"}
    assert complete("memc_load --met", logs, lib) == {"--metrics"}
    assert complete("memc_load -w 2 --sy", logs, lib) == {"--syslog"}


@pytest.mark.parametrize("lib", MODES)
def test_protocol_values(logs, lib):
    assert complete("memc_load --protocol ", logs, lib) == {"auto", "meta", "text"}
    assert complete("memc_load --protocol m", logs, lib) == {"meta"}
    assert complete("memc_load --protocol=", logs, lib) == {"auto", "meta", "text"}
    assert complete("memc_load --protocol=m", logs, lib) == {"meta"}
    assert complete("memc_load --protocol=x", logs, lib) == set()


@pytest.mark.parametrize("lib", MODES)
@pytest.mark.parametrize("option", ["-l", "--log", "--stats-json", "--lock", "--metrics"])
def test_file_options_offer_any_file(logs, lib, option):
    assert complete("memc_load %s " % option, logs, lib) == ANY_FILE
    assert complete("memc_load %s b" % option, logs, lib) == {"b.txt"}
    assert complete("memc_load %s sub/" % option, logs, lib) == {"sub/c.tsv.gz"}
    if option.startswith("--"):
        assert complete("memc_load %s=" % option, logs, lib) == ANY_FILE
        assert complete("memc_load %s=b" % option, logs, lib) == {"b.txt"}


@pytest.mark.parametrize("lib", MODES)
def test_operands_are_logs_and_directories(logs, lib):
    assert complete("memc_load ", logs, lib) == OPERANDS
    assert complete("memc_load --dry -w 2 --syslog ", logs, lib) == OPERANDS
    assert complete("memc_load sub/", logs, lib) == {"sub/c.tsv.gz"}
    # Names starting with '.' were loaded already and memc_load skips them;
    # offered only when asked for.
    assert complete("memc_load .d", logs, lib) == {".d.tsv.gz"}
    (logs / "sub" / ".e.tsv.gz").write_bytes(b"")
    assert complete("memc_load sub/", logs, lib) == {"sub/c.tsv.gz"}
    assert complete("memc_load sub/.e", logs, lib) == {"sub/.e.tsv.gz"}
    # '-' starts an option, unless -- ended them.
    assert "--dry" in complete("memc_load -", logs, lib)
    assert complete("memc_load -- -", logs, lib) == {"-x.tsv.gz"}
    assert complete("memc_load -- --log ", logs, lib) == OPERANDS


@pytest.mark.parametrize("lib", MODES)
def test_pattern_offers_directories(logs, lib):
    assert complete("memc_load --pattern ", logs, lib) == {"sub"}
    assert complete("memc_load -p s", logs, lib) == {"sub"}


@pytest.mark.parametrize("lib", MODES)
@pytest.mark.parametrize("option", ["-w", "--workers", "-a", "--attempts", "--timeout",
                                    "--max-error-rate", "--verify", "--lock-wait"])
def test_numbers_offer_nothing(logs, lib, option):
    assert complete("memc_load %s " % option, logs, lib) == set()
    if option.startswith("--"):
        assert complete("memc_load %s=" % option, logs, lib) == set()


@pytest.mark.parametrize("lib", MODES)
def test_servers_offer_their_default(logs, lib):
    assert complete("memc_load --idfa ", logs, lib) == {"127.0.0.1:33013"}
    assert complete("memc_load --dvid 127", logs, lib) == {"127.0.0.1:33016"}
    # Bash replaces only what follows the last ':' of the word.
    assert complete("memc_load --gaid 127.0.0.1:", logs, lib) == {"33014"}
    assert complete("memc_load --adid=127.0.0.1:33", logs, lib) == {"33015"}
    assert complete("memc_load --adid 10.0.0.1:", logs, lib) == set()
    # A unix socket's path.
    assert complete("memc_load --idfa ./", logs, lib) == {"./" + n for n in ANY_FILE}


@pytest.mark.parametrize("lib", MODES)
def test_colon_in_a_file_name(logs, lib):
    (logs / "x:1.tsv.gz").write_bytes(b"")
    assert complete("memc_load x:", logs, lib) == {"1.tsv.gz"}
    assert complete("memc_load --log=x:", logs, lib) == {"1.tsv.gz"}


@pytest.mark.parametrize("lib", MODES)
def test_option_without_value_given_one(logs, lib):
    assert complete("memc_load --dry=", logs, lib) == set()


# ---- the script against the binary ----

def listed_options():
    """{option: (its letter or None, its value's name or None, kind, words)},
    from `memc_load --list-options`: src/options.c's table."""
    out = subprocess.run([MEMC_LOAD, "--list-options"], capture_output=True, text=True, check=True).stdout
    entries = {}
    for line in out.splitlines():
        name, letter, metavar, kind, words = line.split("\t")
        entries[name] = (letter or None, metavar or None, kind, words.split())
    return entries


def test_script_is_made_from_the_binary():
    # Not a stale one: what scripts/completion.sh makes of the template
    # with the binary under test.
    made = subprocess.run([os.path.join(ROOT, "scripts", "completion.sh"), MEMC_LOAD, TEMPLATE],
                          capture_output=True, text=True, check=True).stdout
    with open(SCRIPT) as f:
        assert f.read() == made


def test_template_names_no_option():
    # Every option the script knows comes from the table: the template's
    # code (comments aside) names none. (Its short letters would be
    # confused with the flags of bash's own commands: mapfile -t.)
    names = set(listed_options())
    with open(TEMPLATE) as f:
        lines = list(f)
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        for word in re.findall(r"(?<![\w-])--[a-z][\w-]*", line):
            assert word not in names, "completion/memc_load.in:%d names %s" % (number, word)
    assert any("--dry" in line for line in lines)  # in a comment: the test can see them


def test_generator_refuses_what_it_does_not_know(tmp_path):
    # A binary whose table has a kind of value the template cannot complete.
    (tmp_path / "list").write_text("--odd\t\tX\tcolour\t\n--dry\t\t\tnone\t\n")
    fake = tmp_path / "fake"
    fake.write_text("#!/bin/sh\ncat %s\n" % (tmp_path / "list"))
    fake.chmod(0o755)
    r = subprocess.run([os.path.join(ROOT, "scripts", "completion.sh"), str(fake), TEMPLATE],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "colour" in r.stderr, r
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    r = subprocess.run([os.path.join(ROOT, "scripts", "completion.sh"), str(failing), TEMPLATE],
                       capture_output=True, text=True)
    assert r.returncode != 0, r


@pytest.mark.parametrize("lib", MODES)
def test_options_are_those_of_the_table(logs, lib):
    entries = listed_options()
    letters = {letter for letter, _, _, _ in entries.values() if letter}
    assert set(entries) | letters == set(help_entries())
    offered = complete("memc_load -", logs, lib)
    assert {o for o in offered if not o.startswith("--")} == letters
    assert complete("memc_load --", logs, lib) == set(entries)


@pytest.mark.parametrize("lib", MODES)
def test_values_are_those_of_the_table(logs, lib):
    for name, (letter, metavar, kind, words) in listed_options().items():
        for option in [name] + ([letter] if letter else []):
            offered = complete("memc_load %s " % option, logs, lib)
            if kind == "none":
                assert metavar is None and offered == OPERANDS, option
            elif kind == "file":
                assert offered == ANY_FILE, option
            elif kind == "glob":
                assert offered == {"sub"}, option
            elif kind == "number":
                assert offered == set(), option
            else:
                assert kind in ("servers", "word") and offered == set(words), option

def help_entries():
    """{option: its value's name in --help, or None}, from `memc_load --help`."""
    out = subprocess.run([MEMC_LOAD, "--help"], capture_output=True, text=True, check=True).stdout
    entries = {}
    for line in out.splitlines():
        if not (line.startswith(" ") and line.lstrip().startswith("-")):
            continue
        # The option column ends where two spaces start the description.
        column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        value = re.search(r"\s([A-Z]+)$", column)
        for name in re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])\b", column):
            entries[name] = value.group(1) if value else None
    return entries


@pytest.mark.parametrize("lib", MODES)
def test_options_are_those_of_help(logs, lib):
    offered = complete("memc_load -", logs, lib)
    names = set(help_entries())
    assert len(names) >= 30
    assert {o for o in offered if not o.startswith("--")} == {o for o in names if not o.startswith("--")}
    assert complete("memc_load --", logs, lib) == {o for o in names if o.startswith("--")}


@pytest.mark.parametrize("lib", MODES)
def test_values_are_those_of_help(logs, lib):
    # Each option that --help gives a value takes it from the next word, and
    # no other option does: after a flag come the FILE operands.
    for option, value in help_entries().items():
        offered = complete("memc_load %s " % option, logs, lib)
        if value is None:
            assert offered == OPERANDS, option
        elif value == "FILE":
            assert offered == ANY_FILE, option
        else:
            assert offered != OPERANDS, option


def test_server_defaults_are_those_of_help(logs):
    out = subprocess.run([MEMC_LOAD, "--help"], capture_output=True, text=True, check=True).stdout
    defaults = dict(re.findall(r"--(idfa|gaid|adid|dvid) SERVERS .*\(default ([^)]+)\)", out))
    assert len(defaults) == 4
    for dev_type, server in defaults.items():
        assert complete("memc_load --%s " % dev_type, logs, lib=False) == {server}


def test_protocol_values_are_accepted(logs):
    values = complete("memc_load --protocol ", logs, lib=False)
    for value in values:
        r = subprocess.run([MEMC_LOAD, "--protocol", value, "--help"], capture_output=True)
        assert r.returncode == 0, value
    r = subprocess.run([MEMC_LOAD, "--protocol", "nope", "--help"], capture_output=True)
    assert r.returncode == 2


def test_registered_for_memc_load():
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", 'source "$SCRIPT" && complete -p memc_load'],
                       env=clean_env(SCRIPT=SCRIPT), capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "complete -F _memc_load memc_load"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_clean():
    r = subprocess.run(["shellcheck", "--shell=bash", SCRIPT], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


# ---- make install ----

def make(target, dest):
    """`make TARGET DESTDIR=dest PREFIX=/usr`, for the binary and the
    completion under test, which it does not remake (-o); not in the environment of an outer make,
    whose variables (BIN, BUILD) would otherwise reach it through MAKEFLAGS."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "-o", MEMC_LOAD, "BIN=" + MEMC_LOAD,
                        "-o", SCRIPT, "COMPLETION=" + SCRIPT, "DESTDIR=" + str(dest), "PREFIX=/usr", target],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def files_under(root):
    return {os.path.relpath(os.path.join(d, f), str(root)) for d, _, fs in os.walk(str(root)) for f in fs}


@pytest.fixture
def installed(tmp_path):
    """DESTDIR after make install PREFIX=/usr."""
    dest = tmp_path / "root"
    make("install", dest)
    return dest


def test_make_install_and_uninstall(installed):
    expected = {
        "usr/bin/memc_load": (MEMC_LOAD, 0o755),
        "usr/share/man/man1/memc_load.1": (os.path.join(ROOT, "man", "memc_load.1"), 0o644),
        "usr/share/bash-completion/completions/memc_load": (SCRIPT, 0o644),
    }
    assert files_under(installed) == set(expected)
    for path, (source, mode) in expected.items():
        with open(str(installed / path), "rb") as a, open(source, "rb") as b:
            assert a.read() == b.read(), path
        assert stat.S_IMODE(os.stat(str(installed / path)).st_mode) == mode, path
    make("uninstall", installed)
    assert files_under(installed) == set()


@with_lib
def test_installed_completion_is_where_bash_completion_looks(installed, tmp_path):
    # What bash-completion does on the first Tab after memc_load: look in
    # bash-completion/completions under each of XDG_DATA_DIRS (by default
    # /usr/local/share:/usr/share) and beside bash_completion itself. That
    # is a copy here, so that only DESTDIR's can be found even on a machine
    # where a memc_load package is installed.
    lib = tmp_path / "lib" / "bash_completion"
    lib.parent.mkdir()
    shutil.copy(BASH_COMPLETION, str(lib))

    def load(data_dirs):
        return subprocess.run(["bash", "--norc", "--noprofile", "-c",
                               'source "$LIB" && __load_completion memc_load && complete -p memc_load'],
                              env=clean_env(LIB=str(lib), XDG_DATA_DIRS=str(data_dirs), HOME=str(tmp_path)),
                              capture_output=True, text=True)

    r = load(installed / "usr" / "share")
    assert r.stdout.strip() == "complete -F _memc_load memc_load", r.stderr
    assert load(tmp_path / "nothing").returncode != 0
