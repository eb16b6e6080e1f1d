"""Pages of the appointments app (partner) for the page matrix (tests/pages.py)."""

PAGES = []
