"""Anti-robot checks of the public forms: timing, honeypot, rate limit (no CAPTCHA)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from voix.core import antibot


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def request_from(address):
    return RequestFactory().post("/", REMOTE_ADDR=address)


def test_a_form_filled_in_a_human_time_passes():
    now = timezone.now()
    assert antibot.check_stamp(antibot.stamp(now - timedelta(seconds=20)), now) is None


def test_a_form_sent_within_three_seconds_is_refused():
    now = timezone.now()
    message = antibot.check_stamp(antibot.stamp(now - timedelta(seconds=1)), now)
    assert "trop vite" in message


def test_a_form_older_than_two_hours_is_refused():
    now = timezone.now()
    message = antibot.check_stamp(antibot.stamp(now - timedelta(hours=2, seconds=1)), now)
    assert "plus de 2 heures" in message


def test_a_forged_or_missing_timestamp_is_refused():
    now = timezone.now()
    assert "n'a pas pu être vérifié" in antibot.check_stamp("1700000000:faux", now)
    assert "n'a pas pu être vérifié" in antibot.check_stamp("", now)


def test_the_limits_can_be_changed_in_settings(settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 30
    now = timezone.now()
    assert antibot.check_stamp(antibot.stamp(now - timedelta(seconds=20)), now)


def test_the_honeypot_field_is_hidden_labelled_and_out_of_the_tab_order():
    form = antibot.AntibotForm()
    field = form[antibot.HONEYPOT_FIELD]
    assert field.label == "Ne pas remplir"
    html = str(field)
    assert 'tabindex="-1"' in html and 'autocomplete="off"' in html
    assert field not in form.visible_fields()


def test_a_filled_honeypot_makes_the_form_invalid():
    data = {
        antibot.HONEYPOT_FIELD: "http://robot.example",
        antibot.STAMP_FIELD: antibot.stamp(timezone.now() - timedelta(seconds=10)),
    }
    form = antibot.AntibotForm(data)
    assert not form.is_valid()
    assert form.robot
    assert "Ne pas remplir" in form.non_field_errors()[0]


def test_the_client_key_never_contains_the_address_and_changes_every_day():
    request = request_from("203.0.113.45")
    today = timezone.now()
    key = antibot.client_key(request, today)
    assert "203.0.113.45" not in key and len(key) == 64
    assert antibot.client_key(request, today) == key
    assert antibot.client_key(request, today + timedelta(days=1)) != key
    assert antibot.client_key(request_from("203.0.113.46"), today) != key


def test_the_rate_limit_counts_per_address_and_per_window(settings):
    settings.PUBLIC_RATE_LIMIT = 3
    settings.PUBLIC_RATE_WINDOW = 3600
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    first, second = request_from("198.51.100.1"), request_from("198.51.100.2")
    assert [antibot.hit(first, now=now) for _ in range(4)] == [True, True, True, False]
    assert antibot.hit(second, now=now)
    assert antibot.hit(first, "liste_attente", now=now)  # another form, another counter
    assert antibot.hit(first, now=now + timedelta(hours=1))  # the next window


def test_nothing_in_the_cache_holds_the_address():
    now = timezone.now()
    antibot.hit(request_from("192.0.2.99"), now=now)
    keys = list(getattr(cache, "_cache", {}).keys())
    assert keys and not any("192.0.2.99" in str(key) for key in keys)
