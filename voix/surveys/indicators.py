"""Indicator sources of the surveys app (filled in)."""


def register() -> None:
    pass
