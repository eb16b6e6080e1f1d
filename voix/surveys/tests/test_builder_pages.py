"""The staff pages answer each persona as the page matrix says (also checked by
tests/test_pages.py once the lead has wired the urls), and render as DSFR pages."""

import pytest
from django.urls import reverse

from conftest import PERSONAS
from tests.pages import LOGIN
from voix.surveys.tests.pages_surveys_staff import PAGES, wire_staff_urls


@pytest.fixture(autouse=True)
def _urls():
    wire_staff_urls()


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_staff_page_answers_persona_as_the_matrix_says(page, persona, world, client_for):
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
