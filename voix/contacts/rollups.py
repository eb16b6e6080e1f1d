"""Daily roll-ups (ContactDay, CallDay): rebuilt for the days a write touches.

Owner: the indicators work. Until it lands, refresh does nothing.
"""


def refresh(organisation, days) -> None:
    """Rebuild the roll-ups of `organisation` for each date in `days` (idempotent)."""
