"""Rows of the page matrix (tests/pages.py) for this module's pages."""

from tests.pages import Page  # noqa: F401

PAGES = []
