"""Pages of the contacts app for the page matrix (tests/pages.py)."""

from .pages_imports import PAGES as IMPORT_PAGES
from .pages_indicators import PAGES as INDICATOR_PAGES
from .pages_log import PAGES as LOG_PAGES

PAGES = [*IMPORT_PAGES, *LOG_PAGES, *INDICATOR_PAGES]
