"""Every named URL answers each persona as the matrix in tests/pages.py says."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from conftest import PERSONAS
from tests.pages import LOGIN, PAGES, named_urls


def test_every_named_url_is_in_the_matrix():
    assert named_urls() == {page.name for page in PAGES}


def test_every_page_states_an_answer_for_every_persona():
    for page in PAGES:
        assert set(page.expect) == set(PERSONAS), page.name


def answer_of(client, page, persona, url) -> str | None:
    """What is wrong with *page* for *persona* (None: it answers as the matrix says)."""
    response = getattr(client, page.method)(url)
    expected = page.expect[persona]
    if expected == LOGIN:
        if response.status_code != 302 or not response["Location"].startswith(
            reverse("core:login")
        ):
            return f"{persona}: {url} → {response.status_code}, expected the login page"
    elif response.status_code != expected:
        return f"{persona}: {url} → {response.status_code}, expected {expected}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        if '<html lang="fr"' not in html or 'href="#contenu"' not in html:
            return f"{persona}: {url} lacks the French page frame (lang, skip link)"
    return None


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_answers_every_persona_as_expected(page, world, client_for):
    # One world per page, one rolled-back savepoint per persona: what one persona's request
    # writes (a POST row, a rate-limit counter) never reaches the next persona's.
    # Some rows make their object on first call: make it before the savepoints.
    url = reverse(page.name, kwargs=page.args(world))
    wrong = []
    for persona in PERSONAS:
        cache.clear()
        with transaction.atomic():
            wrong.append(answer_of(client_for(persona), page, persona, url))
            transaction.set_rollback(True)
    assert not any(wrong), "\n".join(filter(None, wrong))
