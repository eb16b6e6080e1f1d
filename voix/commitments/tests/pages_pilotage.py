"""Pages of the pilotage part for the page matrix (tests/pages.py)."""

PAGES = []
