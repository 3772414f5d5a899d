"""The fixture site's request-to-file mapping (documented in fixtures/site/README.md) and the server."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from dwnscraper.mirror import resolve


def test_paths_map_to_html_files(fixture_site):
    for target, file in [("/politik", "politik.html"), ("/politik/", "politik.html"),
                         ("/politik/page/2/", "politik/page/2.html"), ("/", "index.html"),
                         ("/feed/", "feed.xml"), ("/robots.txt", "robots.txt")]:
        reply = resolve(fixture_site, target)
        assert (reply.status, reply.body) == (200, (fixture_site / file).read_bytes()), target


def test_query_picks_a_file_by_sorted_parameters_or_is_ignored(fixture_site):
    search = resolve(fixture_site, "/search?y2=2020&m2=12&d2=31&y1=2020&m1=1&d1=1&act=yes&page=2")
    stored = fixture_site / "search@act=yes&d1=1&d2=31&m1=1&m2=12&page=2&y1=2020&y2=2020.html"
    assert search.body == stored.read_bytes()
    tracked = resolve(fixture_site,
                      "/503412/Erholung-in-Sicht-Italiens-Wirtschaft-oeffnet-schrittweise?utm_medium=email")
    assert tracked.status == 200


def test_routes_give_aliases_errors_and_truncation(fixture_site):
    assert resolve(fixture_site, "/718413/Industrie-in-der-Krise-Auftraege-brechen-im/feed").status == 200
    assert resolve(fixture_site, "/721500/Serverfehler-beim-Abruf").status == 500
    truncated = resolve(fixture_site, "/721510/Abgeschnittene-Seite")
    assert truncated.truncate_at == 3000 < len(truncated.body)


def test_unknown_paths_and_escapes_are_not_found(fixture_site):
    assert resolve(fixture_site, "/gibt/es/nicht").status == 404
    assert resolve(fixture_site, "/../pyproject.toml").status == 404
    assert resolve(fixture_site, "/%2e%2e/%2e%2e/pyproject.toml").status == 404


def test_server_answers_on_loopback_and_logs_hits(mirror):
    parts = urlsplit(mirror.url)
    assert parts.hostname == "127.0.0.1"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("GET", "/robots.txt")
    response = connection.getresponse()
    assert response.status == 200 and b"Disallow: /720999/" in response.read()
    connection.close()
    assert [(hit.target, hit.status) for hit in mirror.hits] == [("/robots.txt", 200)]
