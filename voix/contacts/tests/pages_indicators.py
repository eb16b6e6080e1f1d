"""The contacts API in the page matrix: without a token, every route answers 401 (tokens,
roles and scoping are tested in test_api.py)."""

from tests.pages import Page, everyone

UNAUTHORIZED = 401


def _contact(w):
    return {"source": "crm", "external_id": "C-1"}


PAGES = [
    Page("api:api_contact_upsert", expect=everyone(UNAUTHORIZED), method="post"),
    Page("api:api_contact", _contact, everyone(UNAUTHORIZED)),
    Page("api:api_contact_patch", _contact, everyone(UNAUTHORIZED), method="patch"),
    Page("api:api_contact_put", _contact, everyone(UNAUTHORIZED), method="put"),
    Page("api:api_calls", expect=everyone(UNAUTHORIZED), method="post"),
]
