"""Pages of the appointments app (staff) for the page matrix (tests/pages.py)."""

PAGES = []
