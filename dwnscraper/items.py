"""Items the spiders yield. Spiders fetch and discover only: parsing happens in the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dwnscraper.storage import PreparedArticle

PageRole = Literal["article", "listing", "feed"]


@dataclass
class FetchedPage:
    """One response as fetched, with the live-site URL even when a mirror served it.

    ``role`` is what the spider fetched the page as; the pipelines fill in ``raw_page_id`` (after
    storing the raw page), ``record`` (the parse output of ``dwnscraper/schema/parse-output.md``) and
    ``contract_violation`` (where the record breaks the contract's schema; ``None`` when it does not)
    and, for an article, ``prepared`` (``storage.prepare_article`` of the record, made in the parse worker).
    """

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)
    fetched_at: datetime
    role: PageRole
    flags: list[str] = field(default_factory=list)
    raw_page_id: int | None = None
    record: dict[str, Any] | None = field(default=None, repr=False)
    contract_violation: str | None = None
    prepared: PreparedArticle | None = field(default=None, repr=False)


@dataclass
class FetchFailure:
    """A request that produced no response (connection refused, timeout, DNS), or a URL given to fetch
    that was not requested (``stage`` ``discover``): stored as an error."""

    url: str
    message: str
    fetched_at: datetime
    stage: str = "download"
