"""The mirror rewrite and the offsite guard, on requests built inline (no network)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from dwnscraper.middlewares import OffsiteGuardMiddleware, SiteMirrorMiddleware

MIRROR = "http://127.0.0.1:8123"
LIVE = "https://deutsche-wirtschafts-nachrichten.de"


def middleware(cls, site):
    return cls.from_crawler(get_crawler(settings_dict={"DWN_SITE": site}))


@pytest.mark.parametrize("url", [
    f"{LIVE}/718460/Slug?utm_medium=email",
    "http://www.deutsche-wirtschafts-nachrichten.de/718460/Slug?utm_medium=email#top",
    "https://WWW.deutsche-wirtschafts-nachrichten.de/718460/Slug?utm_medium=email",
])
def test_live_host_variants_go_to_the_mirror(url):
    request = Request(url)
    rewritten = middleware(SiteMirrorMiddleware, MIRROR).process_request(request)
    assert rewritten.url == f"{MIRROR}/718460/Slug?utm_medium=email"
    assert rewritten.meta["dwn_live_url"] == request.url and rewritten.dont_filter


def test_response_from_the_mirror_keeps_the_live_url():
    mirror = middleware(SiteMirrorMiddleware, MIRROR)
    live = f"{LIVE}/politik/page/2/"
    request = mirror.process_request(Request(live))
    response = mirror.process_response(request, HtmlResponse(request.url, body=b"<html></html>"))
    assert response.url == live


def test_redirect_inside_the_mirror_maps_to_the_live_host():
    mirror = middleware(SiteMirrorMiddleware, MIRROR)
    request = Request(f"{MIRROR}/718460", meta={"dwn_live_url": f"{LIVE}/718460/Alt"})
    response = mirror.process_response(request, HtmlResponse(f"{MIRROR}/718460", body=b""))
    assert response.url == f"{LIVE}/718460"


def test_other_hosts_pass_the_rewrite_untouched():
    assert middleware(SiteMirrorMiddleware, MIRROR).process_request(Request("https://example.com/x")) is None


def test_rewrite_is_off_for_the_live_site():
    with pytest.raises(NotConfigured):
        middleware(SiteMirrorMiddleware, LIVE)


@pytest.mark.parametrize("url", ["https://example.com/", "http://127.0.0.1:9999/politik",
                                 "https://deutsche-wirtschafts-nachrichten.de/politik"])
def test_guard_drops_and_counts_anything_but_the_mirror(url):
    crawler = get_crawler(settings_dict={"DWN_SITE": MIRROR})
    guard = OffsiteGuardMiddleware.from_crawler(crawler)
    with pytest.raises(IgnoreRequest):
        guard.process_request(Request(url))
    assert crawler.stats.get_value("offsite_guard/dropped") == 1


def test_guard_lets_the_mirror_through():
    guard = middleware(OffsiteGuardMiddleware, MIRROR)
    assert guard.process_request(Request(f"{MIRROR}/robots.txt")) is None


def test_guard_on_the_live_site_allows_its_hosts_only():
    guard = middleware(OffsiteGuardMiddleware, LIVE)
    assert guard.process_request(Request("http://www.deutsche-wirtschafts-nachrichten.de/feed/")) is None
    with pytest.raises(IgnoreRequest):
        guard.process_request(Request("https://twitter.com/DWN_de"))
