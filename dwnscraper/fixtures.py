"""Saved pages with their metadata (``NAME.html`` + ``NAME.meta.json`` + ``NAME.expected.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Fixture:
    html: Path

    @property
    def name(self) -> str:
        return self.html.stem

    @cached_property
    def meta(self) -> dict:
        return json.loads(self.html.with_suffix(".meta.json").read_text(encoding="utf-8"))

    @property
    def url(self) -> str:
        return self.meta["url"]

    @property
    def fetched_at(self) -> str | None:
        return self.meta.get("fetched_at")

    @property
    def headers(self) -> dict | None:
        return self.meta.get("headers")

    @property
    def expected_path(self) -> Path:
        return self.html.with_suffix(".expected.json")

    def expected(self) -> dict:
        return json.loads(self.expected_path.read_text(encoding="utf-8"))


def iter_fixtures(folder: Path) -> Iterator[Fixture]:
    """Every ``*.html`` below ``folder`` that has a ``.meta.json`` beside it, in path order."""
    for html in sorted(folder.rglob("*.html")):
        if html.with_suffix(".meta.json").exists():
            yield Fixture(html)


def render(record: dict, indent: int | None = None) -> str:
    """JSON as the project prints it: sorted keys, UTF-8 text (umlauts as themselves)."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=indent)
    return text + "\n" if indent else text
