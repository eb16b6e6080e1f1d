"""The contacts API: idempotent writes of contacts and calls, French validation errors,
scoping by organisation and role."""

import json

import pytest

from voix.commitments.management.commands.create_api_token import create_api_token
from voix.contacts.models import Call, Contact

NOW = "2026-03-10 12:00 +01:00"


@pytest.fixture
def api(world, client, time_machine):
    time_machine.move_to(NOW, tick=False)

    def call(method, url, persona="agent", body=None):
        _token, key = create_api_token(None, world.people[persona])
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        data = json.dumps(body) if body is not None else None
        response = getattr(client, method)(
            f"/api/v1{url}", data=data, content_type="application/json", **headers
        )
        return response.status_code, response.json()

    return call


def contact_body(**extra):
    return {
        "source": "crm",
        "identifiant_externe": "C-1",
        "canal": "courriel",
        "motif": "rsa",
        "recu_le": "2026-03-02T10:00:00+01:00",
        **extra,
    }


def test_posting_the_same_contact_twice_leaves_one_contact(api, world):
    status, first = api("post", "/contacts", body=contact_body())
    assert status == 201
    status, second = api("post", "/contacts", body=contact_body())
    assert status == 200
    assert first["id"] == second["id"]
    assert Contact.objects.filter(external_id="C-1").count() == 1


def test_a_new_contact_gets_its_deadlines(api):
    _status, body = api("post", "/contacts", body=contact_body())
    assert body["organisme"] == "caf-test" and body["motif"] == "rsa"
    assert body["accuse_attendu_le"] is not None


def test_a_second_post_updates_only_the_fields_sent(api):
    api("post", "/contacts", body=contact_body(objet="Changement de situation"))
    status, body = api(
        "post",
        "/contacts",
        body={
            "source": "crm",
            "identifiant_externe": "C-1",
            "repondu_le": "2026-03-05T11:00:00+01:00",
        },
    )
    assert status == 200
    assert body["objet"] == "Changement de situation"
    assert body["etat"] == "repondu" and body["repondu_le"].startswith("2026-03-05")


def test_patch_updates_a_contact_by_its_external_id(api):
    api("post", "/contacts", body=contact_body())
    status, body = api("patch", "/contacts/crm/C-1", body={"clos_le": "2026-03-06T09:00:00+01:00"})
    assert status == 200 and body["etat"] == "clos"


def test_patch_of_an_unknown_contact_is_404(api):
    status, body = api("patch", "/contacts/crm/inconnu", body={"objet": "x"})
    assert status == 404 and body["detail"].startswith("Introuvable")


def test_put_creates_then_replaces(api):
    status, _body = api("put", "/contacts/crm/C-9", body={"canal": "courrier"})
    assert status == 201
    status, body = api("put", "/contacts/crm/C-9", body={"canal": "courrier"})
    assert status == 200 and body["canal"] == "courrier"


def test_get_returns_the_contact(api):
    api("post", "/contacts", body=contact_body())
    status, body = api("get", "/contacts/crm/C-1")
    assert status == 200 and body["identifiant_externe"] == "C-1"


def test_an_answer_before_receipt_is_refused_with_its_field_in_french(api):
    status, body = api(
        "post", "/contacts", body=contact_body(repondu_le="2026-03-01T10:00:00+01:00")
    )
    assert status == 422
    assert body["erreurs"][0]["champ"] == "repondu_le"
    assert "précède la date de réception" in body["erreurs"][0]["message"]
    assert not Contact.objects.filter(source="crm").exists()


def test_a_date_in_the_future_is_refused(api):
    status, body = api("post", "/contacts", body=contact_body(recu_le="2026-04-01T10:00:00+01:00"))
    assert status == 422 and body["erreurs"][0]["champ"] == "recu_le"
    assert "futur" in body["erreurs"][0]["message"]


def test_an_unknown_channel_or_reason_is_named(api):
    status, body = api("post", "/contacts", body=contact_body(canal="pigeon", motif="zzz"))
    assert status == 422
    fields = {line["champ"] for line in body["erreurs"]}
    assert fields & {"canal", "motif"}
    assert "pigeon" in body["detail"] or "zzz" in body["detail"]


def test_an_unreadable_date_is_refused(api):
    status, body = api("post", "/contacts", body=contact_body(recu_le="hier"))
    assert status == 422 and "n'est pas une date lisible" in body["detail"]


def test_another_organisation_is_404(api, world):
    status, _body = api("post", "/contacts", body=contact_body(organisme="autre"))
    assert status == 404
    api("post", "/contacts", body=contact_body())
    status, _body = api("get", "/contacts/crm/C-1", persona="outsider")
    assert status == 404
    status, _body = api("patch", "/contacts/crm/C-1", persona="outsider", body={"objet": "x"})
    assert status == 404
    assert Contact.objects.get(source="crm").subject == ""


@pytest.mark.parametrize("persona", ["qualite", "mediateur", "partenaire", "sans_role"])
def test_only_agents_managers_and_administrators_may_write(api, persona):
    status, _body = api("post", "/contacts", persona=persona, body=contact_body())
    assert status == 404
    assert not Contact.objects.filter(source="crm").exists()


def test_without_a_token_the_api_answers_401(world, client):
    response = client.post("/api/v1/contacts", data="{}", content_type="application/json")
    assert response.status_code == 401


def calls_body(*calls, source="centrex"):
    return {"source": source, "appels": list(calls)}


def one_call(external_id="A-1", **extra):
    return {
        "identifiant_externe": external_id,
        "debut": "2026-03-02T10:00:00+01:00",
        "issue": "agent",
        "attente_secondes": 40,
        **extra,
    }


def test_posting_the_same_calls_twice_leaves_one_of_each(api):
    body = calls_body(one_call("A-1"), one_call("A-2", issue="svi", necessite_agent=False))
    status, first = api("post", "/appels", body=body)
    assert status == 201 and first["crees"] == 2
    status, second = api("post", "/appels", body=body)
    assert status == 200 and second["inchanges"] == 2
    assert Call.objects.count() == 2


def test_a_changed_call_is_updated(api):
    api("post", "/appels", body=calls_body(one_call()))
    status, body = api("post", "/appels", body=calls_body(one_call(issue="abandonne")))
    assert status == 200 and body["modifies"] == 1
    assert Call.objects.get().outcome == "abandonne"


def test_one_bad_call_refuses_the_whole_batch_with_its_index(api):
    body = calls_body(one_call("A-1"), one_call("A-2", issue="répondeur"), one_call("A-1"))
    status, answer = api("post", "/appels", body=body)
    assert status == 422
    fields = {line["champ"] for line in answer["erreurs"]}
    assert fields == {"appels[1].issue", "appels[2].identifiant_externe"}
    assert not Call.objects.exists()


def test_a_call_in_the_future_is_refused(api):
    status, answer = api(
        "post", "/appels", body=calls_body(one_call(debut="2026-03-11T10:00:00+01:00"))
    )
    assert status == 422 and answer["erreurs"][0]["champ"] == "appels[0].debut"


def test_a_call_of_another_organisation_site_is_refused(api, world):
    status, answer = api("post", "/appels", body=calls_body(one_call(site=world.other_site.pk)))
    assert status == 422 and answer["erreurs"][0]["champ"] == "appels[0].site"


def test_calls_for_another_organisation_are_404(api):
    body = {**calls_body(one_call()), "organisme": "autre"}
    status, _answer = api("post", "/appels", body=body)
    assert status == 404
    status, _answer = api("post", "/appels", persona="qualite", body=calls_body(one_call()))
    assert status == 404


def test_a_value_of_the_wrong_type_is_refused_in_french_with_its_field(api):
    status, body = api("post", "/contacts", body=contact_body(site="le siège"))
    assert status == 422
    assert body["erreurs"] == [{"champ": "site", "message": "un nombre entier est attendu"}]
    assert body["detail"].startswith("Requête mal formée, rien n'a été enregistré.")
    assert not Contact.objects.filter(source="crm", external_id="C-1").exists()
