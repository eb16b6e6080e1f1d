"""Periods of measurement: day, month, quarter, year — parsed, bounded and labelled in French."""

import re
from datetime import date, timedelta

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def period_start(kind: str, day: date) -> date:
    """The first day of the period of *kind* that contains *day*."""
    if kind == "day":
        return day
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"type de période inconnu : « {kind} » (jour, mois, trimestre ou année)")


def period_end(kind: str, start: date) -> date:
    """The first day after the period (exclusive bound)."""
    if kind == "day":
        return start + timedelta(days=1)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_periods(kind: str, start: date, count: int) -> list[date]:
    """The *count* period starts ending with *start*, oldest first."""
    starts = [start]
    while len(starts) < count:
        starts.insert(0, period_start(kind, starts[0] - timedelta(days=1)))
    return starts


def label(kind: str, start: date) -> str:
    """« 3 mars 2026 », « mars 2026 », « 1er trimestre 2026 », « 2026 »."""
    if kind == "day":
        return f"{start.day} {MONTHS[start.month - 1]} {start.year}"
    if kind == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    if kind == "quarter":
        number = (start.month - 1) // 3 + 1
        return f"{number}{'er' if number == 1 else 'e'} trimestre {start.year}"
    return str(start.year)


PATTERNS = [
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("day", re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("month", re.compile(r"^(\d{2})/(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})-?T([1-4])$", re.IGNORECASE)),
    ("year", re.compile(r"^(\d{4})$")),
]


def parse(text: str) -> tuple[str, date]:
    """Read « 2026-03-02 », « 02/03/2026 », « 2026-03 », « 03/2026 », « 2026-T1 » or « 2026 ».

    Raises ValueError with a French message for anything else or an impossible date.
    """
    value = text.strip()
    for kind, pattern in PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        groups = [int(g) for g in match.groups()]
        try:
            if kind == "day":
                year, month, day = groups if "-" in value else groups[::-1]
                return kind, date(year, month, day)
            if kind == "month":
                year, month = groups if "-" in value else groups[::-1]
                return kind, date(year, month, 1)
            if kind == "quarter":
                return kind, date(groups[0], 3 * (groups[1] - 1) + 1, 1)
            return kind, date(groups[0], 1, 1)
        except ValueError:
            break
    raise ValueError(
        f"période impossible : « {text} » (attendu par ex. 2026-03-02, 2026-03, 2026-T1 ou 2026)"
    )
