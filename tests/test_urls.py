"""``urls.absolute`` resolves plain links without ``urljoin`` to exactly what ``urljoin`` gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dwnscraper.parsing import urls

BASES = [
    "https://deutsche-wirtschafts-nachrichten.de/723999/Generierter-Artikel",
    "https://deutsche-wirtschafts-nachrichten.de/wirtschaft/page/2/",
    "http://www.deutsche-wirtschafts-nachrichten.de/2016/05/03/titel/",
]
PIECES = ["/", "a", "Z9", ".", "..", "./", "/.", "x.jpg", "-", "_", "~", "%20", ":", "@", "//", "?q=1", "#f", ";p",
          " ", "ä", "https://", "http://", "deutsche-wirtschafts-nachrichten.de", "HTTP://", "[", "\t"]


@settings(max_examples=3000)
@given(st.sampled_from(BASES), st.lists(st.sampled_from(PIECES), max_size=10))
def test_fast_paths_resolve_like_urljoin(base, pieces):
    href = "".join(pieces)
    assert urls.absolute(href, base, urls.origin(base)) == urls.absolute(href, base)


def test_plain_paths_with_dotted_segments():
    base = BASES[0]
    origin = urls.origin(base)
    for href in ("/images/723999.jpg", "/a.b/c", "/.well-known/x", "/a/..b", "/a/b../"):
        assert urls._PLAIN_PATH.fullmatch(href)
        assert urls.absolute(href, base, origin) == urls.absolute(href, base) == origin + href
    for href in ("/a/./b", "/a/../b", "/..", "/.", "/a//b"):
        assert not urls._PLAIN_PATH.fullmatch(href)
