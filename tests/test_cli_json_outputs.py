"""``docs/json-outputs.md`` documents the JSON of every command: each command of the argparse tree
has a section, and for the commands cheap enough to run here the top-level keys of their ``--json``
output are exactly the keys of their table (both ways), as are those of the record files beside it
(plus ``format`` and ``digest``)."""

import json
import re
from pathlib import Path

import pytest

from flowtheory.cli import main
from test_cli_flags import COMMANDS

DOC = Path(__file__).resolve().parents[1] / "docs" / "json-outputs.md"


def _sections() -> dict[str, set[str]]:
    """``{heading command: keys of its table}`` — headings ``## `flowtheory WORDS` ``, rows ``| `key` | … |``."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        heading = re.fullmatch(r"## `flowtheory ([^`]+)`", line)
        if heading:
            current = heading.group(1)
            sections[current] = set()
        elif current and (row := re.match(r"\| `([\w-]+)` \|", line)):
            sections[current].add(row.group(1))
    return sections


SECTIONS = _sections()


def test_every_command_has_a_section_with_a_table():
    assert all(SECTIONS.values()), [h for h, keys in SECTIONS.items() if not keys]
    for command in COMMANDS:
        assert any(h == command or h.startswith(command + " ") for h in SECTIONS), f"no section for flowtheory {command}"
    for heading in SECTIONS:  # and no section for a command that is gone
        assert any(heading == c or heading.startswith(c + " ") for c in COMMANDS), heading


def _keys(document) -> set[str]:
    """Top-level keys of an object, or of every object of a list."""
    if isinstance(document, list):
        assert document
        return set().union(*(d.keys() for d in document))
    return set(document)


CHEAP = {
    "derive ntk": ["derive", "ntk", "--network", "relu", "--dim", "1"],
    "derive curvature": ["derive", "curvature", "--kahler", "--coords", "z", "--potential", "log(1 + z*zb)"],
    "verify": ["verify", "--only", "geom-B2-real-metric"],
    "verify --list": ["verify", "--only", "geom-B2-real-metric", "--list"],
    "verify --graph": ["verify", "--only", "geom-B2-real-metric", "--graph"],
    "quintic sample": ["quintic", "sample", "--n", "50", "--out", "{tmp}/points.npz"],
    "quintic sigma": ["quintic", "sigma", "--metric", "fs", "--n", "200"],
    "quintic distances": ["quintic", "distances", "--n", "200,400", "--out", "{tmp}"],
    "flow run": ["flow", "run", "kahler-ricci-torus", "--grid", "8", "--steps", "4", "--out", "{tmp}"],
}
RECORDS = {"quintic distances": "quintic_distances.json", "flow run": "summary.json"}


@pytest.mark.parametrize("heading", sorted(CHEAP))
def test_the_keys_of_the_json_are_those_of_the_table(heading, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path) for a in CHEAP[heading]]
    assert main([*argv, "--json"]) == 0
    printed = _keys(json.loads(capsys.readouterr().out))
    documented = SECTIONS[heading]
    assert printed == documented, {"undocumented": sorted(printed - documented), "not printed": sorted(documented - printed)}
    if heading in RECORDS:
        written = set(json.loads((tmp_path / RECORDS[heading]).read_text()))
        assert written - documented <= {"format", "digest"} and documented <= written
