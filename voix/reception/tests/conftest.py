import pytest

from voix.core import sms


@pytest.fixture
def on_commit(monkeypatch):
    """Run on-commit work (roll-ups, SMS tasks) at once: the test's transaction never
    commits, and each rule reads the roll-up right after the action."""
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
