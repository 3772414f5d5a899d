"""Scrapy settings for dwnscraper: polite by default, every value overridable with ``-s NAME=VALUE``.

Project settings (``DWN_*``):

- ``DWN_DB``: the SQLite file (default ``dwn.db``).
- ``DWN_SITE``: where the site is fetched from. The live site by default; a mirror or staging copy
  (``http://127.0.0.1:8000``) gets every request for the live host, while items keep live URLs.
- ``DWN_REFRESH``: fetch articles already stored again (default off: incremental).
- ``DWN_FULL``: keep paginating listings even when a page holds only stored articles.
- ``DWN_MAX_PAGES``: listing pages per section or search (0: no limit).
- ``DWN_BATCH_SIZE``: pages per write transaction.
- ``DWN_COMMIT_INTERVAL``: seconds at most between a write and its commit, so that other readers see
  the crawl's progress and a kill loses no more than that.
- ``DWN_LOCK_WAIT``: seconds to wait for another crawl writing the same archive to end (default 0:
  refuse at once, naming it).
- ``DWN_PARSE_WORKERS``: processes that parse pages beside the crawl (default 1: parsing runs on a second
  core while the reactor keeps fetching); 0 parses in the crawl's own process.
- ``DWN_COVERAGE_THRESHOLDS``: field -> minimum share of articles per layout; below it the crawl fails.
- ``DWN_PROGRESS``: ``auto`` (a live line on a terminal, log lines otherwise), ``tty``, ``log`` or ``off``.
- ``DWN_PROGRESS_INTERVAL``: seconds between plain progress log lines.
- ``DWN_CONTACT``: how the site's operators reach the person running the crawl, an e-mail address or
  a web address (default: the ``DWN_CONTACT`` environment variable). It goes into the user agent; a
  crawl of the live site without one stops before its first request.
- ``DWN_RETRY_AFTER_MAX``: the longest ``Retry-After`` wait (seconds) honoured before a retry; a
  server asking for longer is not retried in this crawl.
- ``DWN_REVISIT``: the revisit policy of ``sections`` and ``feed``, ``AGE:INTERVAL`` pairs (default
  ``6h:15m,2d:2h,14d:1d``; empty: never revisit): see ``dwnscraper.revisit``.
- ``DWN_NOW``: the crawl's clock, ISO 8601 with an offset (default: the real time); for tests.
"""

import os

from dwnscraper import LIVE_SITE
from dwnscraper.preflight import PROJECT_AGENT
from dwnscraper.revisit import DEFAULT_POLICY as DEFAULT_REVISIT_POLICY

BOT_NAME = "dwnscraper"

SPIDER_MODULES = ["dwnscraper.spiders"]
NEWSPIDER_MODULE = "dwnscraper.spiders"
COMMANDS_MODULE = "dwnscraper.commands"

ADDONS = {}

# The spiders add the operator's contact (DWN_CONTACT) when the crawl starts.
USER_AGENT = PROJECT_AGENT

ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Error pages and truncated bodies reach the spider once their retries are spent, so the raw page
# and an errors row are stored.
HTTPERROR_ALLOW_ALL = True
DOWNLOAD_FAIL_ON_DATALOSS = False

# A DWN page is a few hundred KB. The limits also bound decompression (gzip bombs): a bigger body is
# cancelled (or, compressed, dropped while inflating) and recorded as an error.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    "dwnscraper.middlewares.SiteMirrorMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "dwnscraper.middlewares.EveryWaiterRobotsTxtMiddleware": 100,
    "dwnscraper.middlewares.RetryDataLossMiddleware": 555,
    "dwnscraper.middlewares.RetryAfterMiddleware": 560,
    "dwnscraper.middlewares.OffsiteGuardMiddleware": 950,
}

ITEM_PIPELINES = {
    "dwnscraper.pipelines.RawPagePipeline": 100,
    "dwnscraper.pipelines.ParsePipeline": 200,
    "dwnscraper.pipelines.ValidatePipeline": 300,
    "dwnscraper.pipelines.StorePipeline": 400,
}

EXTENSIONS = {
    "dwnscraper.extensions.ResumableJob": 100,
    "dwnscraper.extensions.QuickStop": 200,
    "dwnscraper.extensions.Progress": 500,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

DWN_DB = "dwn.db"
DWN_SITE = LIVE_SITE
DWN_REFRESH = False
DWN_FULL = False
DWN_MAX_PAGES = 0
DWN_BATCH_SIZE = 200
DWN_COMMIT_INTERVAL = 2.0
DWN_LOCK_WAIT = 0.0
DWN_PARSE_WORKERS = 1
DWN_COVERAGE_THRESHOLDS = {"headline": 1.0, "published_at": 0.99, "body": 0.98}
DWN_PROGRESS = "auto"
DWN_PROGRESS_INTERVAL = 10.0
DWN_RETRY_AFTER_MAX = 120.0
DWN_CONTACT = os.environ.get("DWN_CONTACT", "")
DWN_REVISIT = DEFAULT_REVISIT_POLICY
DWN_NOW = None
