"""Every command of the CLI is documented in the README and has help text that ends in an example."""

from __future__ import annotations

import re
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
