"""Pages of the public part for the page matrix (tests/pages.py)."""

PAGES = []
