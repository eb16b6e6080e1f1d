"""Pages of the contacts app for the page matrix (tests/pages.py)."""

PAGES = []
