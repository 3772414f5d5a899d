"""What the parse workers run, in processes beside the crawl (:mod:`dwnscraper.workerpool`): parse a
page, check the record against the contract, prepare an article's row and pack the raw body.

This module imports no Scrapy (nor anything of the crawl's), so a worker process starts in a fraction
of the time and is ready (``warm_up``) before its first page.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple

import jsonschema_rs

from dwnscraper.parsing import parse_page
from dwnscraper.storage import PackedBody, PreparedArticle, pack_body, prepare_article

KINDS = ("article", "listing")
"""The record kinds the crawl parses pages into."""


@cache
def kind_schema(kind: str) -> dict:
    """The contract's JSON Schema for records of ``kind`` (its ``$defs`` entry, so that an error names the
    field, not the whole record); the whole schema for an unknown kind."""
    schema = json.loads(files("dwnscraper").joinpath("schema/parse-output.schema.json").read_text(encoding="utf-8"))
    if kind in schema["$defs"]:
        schema = {**{key: value for key, value in schema.items() if key != "oneOf"}, "$ref": f"#/$defs/{kind}"}
    return schema


@cache
def schema_validator(kind: str) -> jsonschema_rs.Draft202012Validator:
    """:func:`kind_schema` compiled once per process by jsonschema-rs, which checks a record in a
    hundredth of the time of ``jsonschema`` (0.013 ms, not 0.9 ms): the check runs on every page."""
    return jsonschema_rs.Draft202012Validator(kind_schema(kind))


def contract_violation(record: dict) -> str | None:
    """Where ``record`` breaks ``parse-output.schema.json``, as a sentence; ``None`` when it does not.

    Only a record that fails the fast check is looked at again by ``jsonschema``, whose ``best_match``
    names the most relevant of its errors (imported here: most crawls never need it). ``jsonschema`` is the
    reference: should it find nothing wrong, the record keeps to the contract.
    """
    kind = record.get("kind")
    kind = kind if isinstance(kind, str) else ""
    if schema_validator(kind).is_valid(record):
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    problem = best_match(Draft202012Validator(kind_schema(kind)).iter_errors(record))
    if problem is None:
        return None
    where = "/".join(str(part) for part in problem.absolute_path) or "the record"
    return f"The parse output breaks the contract at {where}: {problem.message}"


class PreparedPage(NamedTuple):
    """A fetched page made ready to store: its record, where the record breaks the contract (``None``
    where it does not), an article's row (``storage.prepare_article``) and the packed body."""

    record: dict
    violation: str | None
    article: PreparedArticle | None
    body: PackedBody


def prepare_page(body: bytes, url: str, fetched_at: Any, headers: dict[str, str]) -> PreparedPage:
    """The parse pipeline's job, run in a worker process: parse the page, check the record against the
    contract's schema, prepare an article's row when it meets it, and compress and hash the body for its
    raw page (``storage.pack_body``): all CPU work, so the reactor's thread does none of it."""
    record = parse_page(body, url, fetched_at, headers)
    violation = contract_violation(record)
    article = prepare_article(record) if record["kind"] == "article" and violation is None else None
    return PreparedPage(record, violation, article, pack_body(body))


def warm_up() -> None:
    """A worker's first task: compile the contract's validators, so that no page waits for it."""
    for kind in KINDS:
        schema_validator(kind)
