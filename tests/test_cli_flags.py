"""The command line's flags agree across commands, and the README's command table lists every one.

Walks the argparse tree of :func:`flowtheory.cli.build_parser` (new commands are included as they
register) and checks the rules of the README's "The command line": a command that writes files takes
``--out`` and prepares it through :mod:`flowtheory.cli.output` (refused if it holds results unless
``--resume``/``--overwrite``, created, tested for writing); every ``--out`` folder has a stated
default; every command has ``--json``; ``--seed`` is :func:`flowtheory.cli.output.seed` everywhere;
``--resume`` and ``--overwrite`` exclude each other; a flag spelt alike takes the same kind of value
in every command (the exceptions say why).
"""

import argparse
import inspect
import re
from pathlib import Path

import pytest

from flowtheory.cli import build_parser, output

README = Path(__file__).resolve().parents[1] / "README.md"
WRITES = re.compile(r"prepare_output_(folder|file)|save_figure_atomic|write_json_atomic|save_npz_atomic|write_record|write_text_atomic|savefig")

#: Flags spelt alike whose values differ in kind, and why.
SAME_NAME_OTHER_KIND = {
    "--n": "one number of points, or (quintic distances) the list of sample sizes N1,N2,... of the fit (3.7)",
    "--metric": "quintic sigma names a metric (fs); derive takes the matrix g_ij",
    "--sigma-w": "derive ntk takes an exact number (a sympy Rational); quintic flow a float",
    "--sigma-b": "as --sigma-w",
    "--out": "a folder, or (quintic sample) a .npz file",
    "--only": "proof ids (verify) or stage names (reproduce): both a list of names",
}


def _commands(parser=None, path=()):
    """(command words, parser) of every command that runs (the leaves of the tree)."""
    parser = parser or build_parser()
    groups = [a for a in parser._subparsers._group_actions if isinstance(a, argparse._SubParsersAction)] if parser._subparsers else []
    if not groups:
        yield " ".join(path), parser
        return
    for name, child in groups[0].choices.items():
        yield from _commands(child, (*path, name))


COMMANDS = dict(_commands())


def _options(parser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}


def _handler_source(parser) -> str:
    return inspect.getsource(parser.get_default("handler"))


def _kind(action: argparse.Action) -> tuple:
    """What a flag takes: its action class, its number of values and its value type's family."""
    t = action.type
    family = ("str" if t is None else "seed" if t is output.seed else getattr(t, "__name__", type(t).__name__).split(" in ")[0])
    return type(action).__name__, action.nargs, family, bool(action.choices)


def test_the_tree_holds_every_command():
    names = set(COMMANDS)
    assert {"flow run", "verify", "reproduce", "derive ntk", "derive functional", "derive curvature", "quintic sample", "quintic sigma",
            "quintic compare", "quintic donaldson"} <= names
    assert all(p.get_default("handler") is not None for p in COMMANDS.values())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_json_and_writers_have_a_prepared_out(command):
    parser = COMMANDS[command]
    options = _options(parser)
    assert "--json" in options and isinstance(options["--json"], argparse._StoreTrueAction)
    source = _handler_source(parser)
    if WRITES.search(source):
        assert "--out" in options, f"{command} writes files but takes no --out"
    if "--out" in options:
        out = options["--out"]
        assert out.help and re.search(r"prepare_output_(folder|file)\(", source), command
        if "prepare_output_folder(" in source:  # a folder: named default, stated in --help
            assert "--overwrite" in options and re.search(r"\(default [^)]+\)", out.help), (command, out.help)
        else:  # a file: never replaced silently
            assert "--overwrite" in options and "--overwrite" in out.help, (command, out.help)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_seed_resume_and_overwrite_are_alike(command):
    parser = COMMANDS[command]
    options = _options(parser)
    if "--seed" in options:
        seed = options["--seed"]
        assert seed.type is output.seed and seed.default == 0 and "0 to 2**32-1" in seed.help, (command, seed.help)
    if "--resume" in options and "--overwrite" in options:
        resume, overwrite = options["--resume"], options["--overwrite"]
        assert any({resume, overwrite} <= set(g._group_actions) for g in parser._mutually_exclusive_groups), command
    for flag in ("--resume", "--overwrite"):
        if flag in options:
            assert isinstance(options[flag], argparse._StoreTrueAction) and "--out" in options, (command, flag)


def test_a_flag_takes_the_same_kind_of_value_in_every_command():
    """``--width`` is a network's hidden width wherever it appears (the Gaussian kernel's width is
    ``--sigma``, as in ``flow run``); ``--normalisation`` is the kernel flow's loss normalisation
    (ntk-evolution's spectra take ``--spectrum-normalisation``)."""
    seen: dict[str, dict[str, tuple]] = {}
    for command, parser in COMMANDS.items():
        for flag, action in _options(parser).items():
            seen.setdefault(flag, {})[command] = _kind(action)
    differing = {flag: kinds for flag, kinds in seen.items() if len(set(kinds.values())) > 1 and flag not in SAME_NAME_OTHER_KIND}
    assert not differing, differing
    widths = {c: COMMANDS[c]._option_string_actions["--width"].help for c in seen["--width"]}
    assert all(h.startswith("hidden width") for h in widths.values()), widths
    norms = {c: COMMANDS[c]._option_string_actions["--normalisation"].choices for c in seen["--normalisation"]}
    assert all(tuple(ch) == ("mean", "per-point") for ch in norms.values()), norms


def _table_synopses() -> list[str]:
    """The synopsis cells of the README's command table (section "The command line")."""
    text = README.read_text()
    section = text[text.index("## The command line"):]
    section = section[: section.index("\n## ", 1)]
    table = section[section.index("| command | what it does |"):]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    assert rows
    return [re.split(r"(?<!\\)\|", row)[1] for row in rows]


def _mentions(text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_readme_table_lists_every_option_of_the_command(command):
    synopses = [s for s in _table_synopses() if re.match(rf"\s*`flowtheory {re.escape(command)}[ `]", s)]
    assert synopses, f"no row for flowtheory {command} in the README's command table"
    missing = [flag for flag in _options(COMMANDS[command]) if not any(_mentions(s, flag) for s in synopses)]
    assert not missing, f"flowtheory {command}: {missing} missing from its README row"


def test_readme_table_lists_the_options_before_the_command():
    synopses = [s for s in _table_synopses() if re.match(r"\s*`flowtheory --", s)]
    for flag in _options(build_parser()):
        assert any(_mentions(s, flag) for s in synopses), flag
