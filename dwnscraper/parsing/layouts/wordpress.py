"""The ``wordpress`` layout (2012-2018, as saved in web archives). No update time, no tag box."""

from dwnscraper.parsing.layouts import NOT_BODY_COMMON, Layout, selectors

LAYOUT = Layout(
    name="wordpress",
    **selectors(
        markers=".entry-title, .entry-content, .entry-logo, .wp-caption-text",
        section=".entry-category",
        headline="h1.entry-title",
        lead=".entry-excerpt",
        author=".entry-author a, .entry-author",
        published=".entry-date",
        updated=".entry-updated",
        reading_time=".entry-readtime",
        image=".wp-caption",
        image_caption=".wp-caption-text",
        topics=".entry-tags a[href*='/thema/']",
        body=".entry-content",
        paywall=".hardpay",
        not_body=NOT_BODY_COMMON,
    ),
)
