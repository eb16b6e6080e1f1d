"""Pages of the frameworks part for the page matrix (tests/pages.py)."""

PAGES = []
