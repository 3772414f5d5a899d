"""Every command of the CLI is documented in the README and has help text that ends in an example."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dwnscraper.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)


def test_the_archive_commands_exist():
    assert {"query", "search", "export", "reparse", "stats"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name):
    assert re.search(rf"dwnscraper {name}\b", README), f"README.md does not mention dwnscraper {name}"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_ending_in_an_example(name):
    result = CliRunner().invoke(main, [name, "-h"])
    assert result.exit_code == 0
    assert main.commands[name].get_short_help_str()
    assert "Example:" in result.output
    assert main.commands[name].help.rstrip().rsplit("Example:", 1)[1].strip().startswith("dwnscraper ")


@pytest.mark.parametrize("name", COMMANDS)
def test_command_names_are_kebab_case(name):
    assert name == name.lower() and "_" not in name


def test_readme_links_point_to_files_in_the_repository():
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", README)
    assert "dwnscraper/schema/parse-output.md" in links
    missing = [link for link in links if not (Path(__file__).resolve().parent.parent / link).exists()]
    assert missing == []


def using_the_archive_examples() -> list[str]:
    section = README.split("## Using the archive", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("dwnscraper ")]


@pytest.mark.parametrize("line", using_the_archive_examples())
def test_using_the_archive_examples_return_rows(line, crawled, tmp_path, monkeypatch):
    db = tmp_path / "dwn.db"
    shutil.copy(crawled, db)
    monkeypatch.chdir(tmp_path)
    repo = Path(__file__).resolve().parent.parent
    arguments = [str(repo / word) if word.startswith("fixtures/") else word for word in shlex.split(line)[1:]]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    written = arguments[arguments.index("-o") + 1] if "-o" in arguments else None
    produced = (tmp_path / written).read_text(encoding="utf-8") if written else result.stdout
    lines = produced.strip().splitlines()
    assert lines and lines != ["[]"] and ("csv" not in arguments or len(lines) >= 2)
