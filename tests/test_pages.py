"""Every named URL answers each persona as the matrix in tests/pages.py says."""

import pytest
from django.urls import reverse

from conftest import PERSONAS
from tests.pages import LOGIN, PAGES, named_urls


def test_every_named_url_is_in_the_matrix():
    assert named_urls() == {page.name for page in PAGES}


def test_every_page_states_an_answer_for_every_persona():
    for page in PAGES:
        assert set(page.expect) == set(PERSONAS), page.name


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_answers_persona_as_expected(page, persona, world, client_for):
    url = reverse(page.name, kwargs=page.args(world))
    response = getattr(client_for(persona), page.method)(url)
    expected = page.expect[persona]
    if expected == LOGIN:
        assert response.status_code == 302, (url, persona)
        assert response["Location"].startswith(reverse("core:login")), (url, persona)
    else:
        assert response.status_code == expected, (url, persona, response.status_code)
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        assert '<html lang="fr"' in html
        assert 'href="#contenu"' in html  # skip link to the main content
