"""Pages of the reception app for the page matrix (tests/pages.py)."""

PAGES = []
