"""--help, the man page and README.md name exactly the same options."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MEMC_LOAD", os.path.join(ROOT, "memc_load"))
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])\b")


def help_options():
    out = subprocess.run([BINARY, "--help"], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        if line.startswith(" ") and line.lstrip().startswith("-"):
            # The option column ends where two spaces start the description.
            names.update(OPTION.findall(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]))
    return names


def man_options():
    names = set()
    with open(os.path.join(ROOT, "man", "memc_load.1")) as f:
        for line in f:
            # mdoc's Fl macro prints its argument after a dash: ".Fl -dry" is --dry.
            for arg in re.findall(r"\bFl ([A-Za-z-][\w-]*)", line):
                names.add("-" + arg)
    return names


def readme_options():
    names = set()
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("### Options", 1)[1].split("\n#", 1)[0]
    for row in section.splitlines():
        if row.startswith("| `-"):
            names.update(OPTION.findall(row.split("|")[1]))
    return names


def test_help_lists_every_option():
    names = help_options()
    # The original script's names must keep working, and be documented.
    for name in ["-t", "--test", "-l", "--log", "--dry", "--pattern", "--idfa", "--gaid",
                 "--adid", "--dvid", "-w", "--workers", "-a", "--attempts"]:
        assert name in names
    assert len(names) >= 20


def test_man_page_matches_help():
    assert man_options() == help_options()


def test_readme_matches_help():
    assert readme_options() == help_options()


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is installed by make deps")
def test_man_page_lints_clean():
    lint = subprocess.run(["mandoc", "-Tlint", "-W", "warning", os.path.join(ROOT, "man", "memc_load.1")],
                          capture_output=True, text=True)
    assert lint.stdout == ""
