"""Text helpers shared by the parsers: bytes to a tree, whitespace and template markers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

import lxml.html
from lxml import etree
from parsel.csstranslator import css2xpath
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")
_MARKERS = re.compile(r"article:(?:fokus_txt|full_access)")
_STRING = etree.XPath("string()")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def css(selector: str) -> etree.XPath:
    """Compile a CSS selector once, to be evaluated relative to any element."""
    return etree.XPath(css2xpath(selector))


def clean(text: str | None) -> str:
    """Collapse whitespace (also non-breaking spaces) and drop stray template markers."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", _MARKERS.sub(" ", text)).strip()


def text_of(element) -> str:
    """The element's visible text, cleaned."""
    return clean(_STRING(element))


def first_text(xpath: etree.XPath, context) -> str:
    """The cleaned text of the first non-empty match of ``xpath`` in ``context``."""
    for match in xpath(context):
        text = clean(match) if isinstance(match, str) else text_of(match)
        if text:
            return text
    return ""


def looks_binary(body: bytes) -> bool:
    """True for bodies that are no text at all (images, archives, random bytes)."""
    sample = body[:4096]
    return b"\x00" in sample or len(_CONTROL_BYTES.findall(sample)) > len(sample) // 100


_MAGIC = ((b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
          (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "gzip data"),
          (b"RIFF", "a RIFF file"))


def binary_kind(body: bytes) -> str:
    """What a binary body is, by its magic number, for error messages."""
    return next((name for magic, name in _MAGIC if body.startswith(magic)), "not text")


def truncated(body: bytes) -> bool:
    """True when an HTML page stops before its closing ``</html>`` tag: the download was cut off."""
    return b"</html" not in body[-4096:].lower()


def detect_encoding(body: bytes, headers: Mapping[str, str] | None = None) -> str:
    """The encoding the bytes are really in.

    A byte order mark wins; bytes that are valid UTF-8 are UTF-8 whatever is declared (German text in
    windows-1252 is never valid UTF-8); otherwise the first declared encoding that is not UTF-8, from
    the page's ``<meta charset>`` or the HTTP header, else windows-1252.
    """
    bom, _ = read_bom(body)
    if bom:
        return bom
    if _is_utf8(body):
        return "utf-8"
    declared = [
        html_body_declared_encoding(body[:4096]),
        http_content_type_encoding(_content_type(headers)),
    ]
    for name in declared:
        encoding = resolve_encoding(name) if name else None
        if encoding and encoding != "utf-8":
            return encoding
    return "cp1252"


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        # A page cut inside a multi-byte sequence is still UTF-8.
        return error.reason == "unexpected end of data" and error.start >= len(body) - 3
    return True


def _content_type(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return None


@cache
def _parser(encoding: str) -> lxml.html.HTMLParser:
    return lxml.html.HTMLParser(encoding=encoding, remove_comments=True)


def parse_html(body: bytes, headers: Mapping[str, str] | None = None):
    """Bytes as fetched to an lxml document, decoded by :func:`detect_encoding`; ``None`` without elements."""
    encoding = detect_encoding(body, headers)
    if encoding not in {"utf-8", "cp1252"}:
        body = body.decode(encoding, errors="replace").encode("utf-8")
        encoding = "utf-8"
    try:
        return lxml.html.document_fromstring(body, parser=_parser(encoding))
    except etree.ParserError:
        return None
