"""The ``current`` layout (2024 on, and old articles re-served today)."""

from dwnscraper.parsing.layouts import NOT_BODY_COMMON, Layout, selectors

LAYOUT = Layout(
    name="current",
    **selectors(
        markers="article.article, h1.article-title, .article-readtime, .article-body",
        section=".article-kicker",
        headline="h1.article-title",
        lead=".article-lead",
        author=".article-author a, .article-author .name",
        published=".article-meta .article-date, time.article-date",
        updated=".article-updated",
        reading_time=".article-readtime",
        image="figure.article-image",
        image_caption="figcaption",
        topics=".article-tags a[href*='/thema/']",
        body=".article-body",
        paywall=".hardpay",
        not_body=NOT_BODY_COMMON,
    ),
)
