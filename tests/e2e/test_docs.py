"""--help, the man page and README.md name exactly the options of the
binary's table (src/options.c, as `memc_load --list-options` prints it),
each with its letter and whether it takes a value."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MEMC_LOAD", os.path.join(ROOT, "memc_load"))
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])\b")


def listed_options():
    """{--name: (-L or None, METAVAR or None)}: the table of options."""
    out = subprocess.run([BINARY, "--list-options"], capture_output=True, text=True, check=True).stdout
    entries = {}
    for line in out.splitlines():
        name, letter, metavar, _kind, _words = line.split("\t")
        entries[name] = (letter or None, metavar or None)
    return entries


def table_options():
    """Every name of the table's options, long and short."""
    entries = listed_options()
    return set(entries) | {letter for letter, _ in entries.values() if letter}


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


def test_help_matches_table():
    assert help_options() == table_options()


def test_man_page_matches_table():
    assert man_options() == table_options()


def test_readme_matches_table():
    assert readme_options() == table_options()


def man_lines():
    with open(os.path.join(ROOT, "man", "memc_load.1")) as f:
        return f.read().splitlines()


def man_flags(macro_line):
    """[(name, takes a value)] of a line of "Fl x Ar y , Fl -xx Ar y" parts."""
    flags = []
    for part in macro_line.split(" , "):
        m = re.match(r"(?:\.\w+ )*Fl (-?[A-Za-z][\w-]*)( Ar \w+)?$", part.strip())
        assert m, macro_line
        flags.append(("-" + m.group(1), m.group(2) is not None))
    return flags


def man_option_entries():
    """[[(name, takes a value)] of each .It] of the man page's option list."""
    lines = man_lines()
    start = lines.index("The options are as follows:")
    assert lines[start + 1].startswith(".Bl ")
    entries, depth = [], 0
    for line in lines[start + 1:]:
        depth += line.startswith(".Bl ") - (line == ".El")
        if depth == 0:
            return entries
        if depth == 1 and line.startswith(".It Fl "):
            entries.append(man_flags(line[len(".It "):]))
    pytest.fail("the option list has no .El")


def test_man_page_describes_each_option_once():
    # One entry each: the letter beside its long name, with a value when
    # the table's option takes one.
    table = listed_options()
    described = {}
    for flags in man_option_entries():
        names = [n for n, _ in flags]
        long_names = [n for n in names if n.startswith("--")]
        assert len(long_names) == 1, flags
        name = long_names[0]
        assert name in table and name not in described, flags
        letter, metavar = table[name]
        assert names == ([letter] if letter else []) + [name], flags
        assert all(value == (metavar is not None) for _, value in flags), flags
        described[name] = flags
    assert set(described) == set(table)


def test_man_synopsis_shows_each_option_once():
    # By its letter when it has one, with a value when it takes one.
    lines = man_lines()
    synopsis = lines[lines.index(".Sh SYNOPSIS"):lines.index(".Sh DESCRIPTION")]
    shown = [man_flags(line[len(".Op "):])[0] for line in synopsis if line.startswith(".Op Fl ")]
    expected = [(letter or name, metavar is not None) for name, (letter, metavar) in listed_options().items()]
    assert sorted(shown) == sorted(expected)


def test_readme_rows_are_those_of_help():
    # Each row's first column is the option as --help writes it.
    with open(os.path.join(ROOT, "README.md")) as f:
        section = f.read().split("### Options", 1)[1].split("\n#", 1)[0]
    rows = [row.split("|")[1].strip() for row in section.splitlines() if row.startswith("| `-")]
    expected = ["`%s%s%s`" % (letter + ", " if letter else "", name, " " + metavar if metavar else "")
                for name, (letter, metavar) in listed_options().items()]
    assert sorted(rows) == sorted(expected)


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is installed by make deps")
def test_man_page_lints_clean():
    lint = subprocess.run(["mandoc", "-Tlint", "-W", "warning", os.path.join(ROOT, "man", "memc_load.1")],
                          capture_output=True, text=True)
    assert lint.stdout == ""
