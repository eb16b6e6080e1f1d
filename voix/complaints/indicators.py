"""Indicator sources of the complaints app (filled in)."""


def register() -> None:
    pass
