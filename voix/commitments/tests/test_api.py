"""The read-only API: bearer tokens, stored hashed, scoped to their holder."""

import hashlib
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from voix.commitments import publication as service
from voix.commitments.management.commands.create_api_token import create_api_token
from voix.commitments.models import ApiToken
from voix.core.models import AuditEvent


@pytest.fixture
def token_of(world):
    def make(persona):
        _token, key = create_api_token(None, world.people[persona])
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return make


def test_without_a_token_the_api_answers_401_in_french(db, client):
    response = client.get("/api/v1/indicators")
    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]
    bad = client.get("/api/v1/results", HTTP_AUTHORIZATION="Bearer pas-un-jeton")
    assert bad.status_code == 401


def test_a_logged_in_browser_session_is_not_a_token(client_for):
    assert client_for("admin").get("/api/v1/measurements").status_code == 401


def test_token_is_stored_hashed_and_printed_once(world):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "qualite@test.localhost", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=world.people["qualite"])
    assert token.token_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in token.token_hash and token.prefix == key[:8]
    assert "plus jamais affiché" in err.getvalue()
    assert AuditEvent.objects.filter(action="jeton_api.créé").exists()


def test_unknown_email_is_refused_in_french(world):
    with pytest.raises(CommandError, match="Aucun compte pour l'adresse « personne@x.fr »"):
        call_command("create_api_token", "personne@x.fr")


def test_revoked_token_is_refused(world, client, token_of):
    headers = token_of("qualite")
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/indicators", **headers).status_code == 401


def test_measurements_can_be_filtered(world, client, token_of):
    headers = token_of("qualite")
    rows = client.get(
        "/api/v1/measurements",
        {
            "indicator": "attente-20-min",
            "site": world.site.pk,
            "period_kind": "month",
            "from": "2025-02-01",
            "to": "2025-04-01",
        },
        **headers,
    ).json()
    assert [r["periode_debut"] for r in rows] == ["2025-02-01", "2025-03-01", "2025-04-01"]
    # Siège, February: 75 + 2 % 3 = 77 % of 150.
    assert float(rows[0]["valeur"]) == 77.0 and rows[0]["effectif"] == 150
    assert rows[0]["site"] == "Siège test"


def test_outsider_token_sees_nothing_of_the_caf(world, client, token_of):
    service.publish(None, service.prepare_publication(None, world.caf, "quarter", date(2025, 1, 1)))
    mine = token_of("qualite")
    theirs = token_of("outsider")
    assert len(client.get("/api/v1/measurements", **mine).json()) == 24
    assert len(client.get("/api/v1/results", **mine).json()) == 2
    assert client.get("/api/v1/measurements", **theirs).json() == []
    assert client.get("/api/v1/results", **theirs).json() == []
    codes = [i["code"] for i in client.get("/api/v1/indicators", **theirs).json()]
    assert codes == ["attente-20-min"]  # the national catalogue only


def test_partner_token_sees_only_its_relay(world, client, token_of):
    headers = token_of("partenaire")
    assert client.get("/api/v1/measurements", **headers).json() == []


def test_results_are_the_published_figures_only(world, client, token_of):
    headers = token_of("manager")
    draft = service.prepare_publication(None, world.caf, "quarter", date(2025, 1, 1))
    assert client.get("/api/v1/results", **headers).json() == []
    service.publish(None, draft)
    rows = client.get("/api/v1/results", **headers).json()
    by_site = {r["site"]: r for r in rows}
    assert float(by_site[None]["valeur"]) == 86.0
    assert float(by_site["Siège test"]["valeur"]) == 76.0
    assert by_site["Siège test"]["etat"] == "objectif non atteint"
    assert by_site["Siège test"]["periode_libelle"] == "1er trimestre 2025"


def test_openapi_description_and_docs_page_need_no_token(db, client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/indicators", "/api/v1/measurements", "/api/v1/results"} <= set(schema["paths"])
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Authorization: Bearer" in html and "/api/v1/results" in html
    assert "cdn" not in html.lower()
