"""Pages of the appointments app (public) for the page matrix (tests/pages.py)."""

PAGES = []
