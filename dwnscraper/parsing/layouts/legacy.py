"""The ``legacy`` layout (2019-2023): reading time above a combined publish/update date line."""

from dwnscraper.parsing.layouts import NOT_BODY_COMMON, Layout, selectors

LAYOUT = Layout(
    name="legacy",
    **selectors(
        markers=".article-head, .article-text, .article-picture",
        section=".article-head .kicker",
        headline=".article-head h1",
        lead=".article-head .lead",
        author=".article-head .author a, .article-head .author",
        published=".article-head .date",
        updated=".article-head .date",
        reading_time=".article-head .readtime",
        image=".article-picture",
        image_caption=".caption",
        topics=".tags a[href*='/thema/']",
        body=".article-text",
        paywall=".hardpay",
        not_body=NOT_BODY_COMMON,
    ),
)
