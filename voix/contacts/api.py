"""API of the contacts app: external systems create and update contacts and telephony
calls, idempotently (the same source and external id is updated, never duplicated).

Only people with an agent, manager or administrator role in the organisation may write;
another organisation's contacts answer 404. Bad input answers 422 with French messages
naming each field (``{"detail": …, "erreurs": [{"champ": …, "message": …}]}``) and nothing
is written. See docs/contacts-indicators.md for curl examples.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from voix.core.api_errors import REFUSED, ErrorOut, error_lines, refused
from voix.core.models import Role, User
from voix.core.scoping import organisations_with_role

from . import services
from .models import CallOutcome, Contact

router = Router(tags=["Contacts et appels"])

WRITERS = (Role.AGENT, Role.MANAGER, Role.ADMIN)
NOT_FOUND = (
    "Introuvable : ce contact ou cet organisme n'existe pas, ou vous n'y avez pas de rôle "
    "d'agent, de manager ou d'administrateur."
)
MAX_CALLS = 5000

# API field (French) → service field.
CONTACT_FIELDS = {
    "canal": "channel",
    "motif": "reason",
    "site": "site",
    "equipe": "team",
    "charge": "assignee",
    "reference_usager": "requester_ref",
    "objet": "subject",
    "etat": "status",
    "issue": "outcome",
    "recu_le": "received_at",
    "accuse_le": "acknowledged_at",
    "repondu_le": "first_answer_at",
    "clos_le": "closed_at",
}
# A PUT empties the fields it does not send, except these.
KEPT_WHEN_MISSING = {"channel", "received_at", "status"}
API_NAMES = {service: api for api, service in CONTACT_FIELDS.items()}
API_NAMES.update({"external_id": "identifiant_externe", "source": "source"})


class ContactFields(Schema):
    canal: str | None = Field(None, description="accueil_sans_rdv, telephone, courriel…")
    motif: str | None = Field(None, description="code du motif dans la taxonomie")
    site: int | None = Field(None, description="identifiant du site")
    equipe: int | None = None
    charge: str | None = Field(None, description="courriel de l'agent chargé du contact")
    reference_usager: str | None = None
    objet: str | None = None
    etat: str | None = None
    issue: str | None = None
    recu_le: str | None = Field(None, description="date et heure ISO 8601")
    accuse_le: str | None = None
    repondu_le: str | None = None
    clos_le: str | None = None


class ContactIn(ContactFields):
    organisme: str | None = Field(None, description="identifiant (slug) de l'organisme")
    source: str = Field(..., description="système d'origine, par exemple « crm »")
    identifiant_externe: str


class ContactOut(Schema):
    id: int
    organisme: str
    source: str
    identifiant_externe: str
    canal: str
    motif: str | None
    site: int | None
    equipe: int | None
    reference_usager: str
    objet: str
    etat: str
    issue: str
    recu_le: datetime
    accuse_le: datetime | None
    repondu_le: datetime | None
    clos_le: datetime | None
    accuse_attendu_le: datetime | None
    reponse_attendue_le: datetime | None
    echeance: datetime | None
    allers_retours: int


class CallIn(Schema):
    identifiant_externe: str
    debut: str = Field(..., description="date et heure ISO 8601 de l'appel")
    issue: str = Field(..., description="agent, svi ou abandonne")
    attente_secondes: int | None = None
    necessite_agent: bool = True
    ligne: str = ""
    site: int | None = None


class CallsIn(Schema):
    organisme: str | None = None
    source: str = Field(..., description="système de téléphonie, par exemple « centrex »")
    appels: list[CallIn]


class CallResult(Schema):
    identifiant_externe: str
    id: int
    resultat: str


class CallsOut(Schema):
    crees: int
    modifies: int
    inchanges: int
    appels: list[CallResult]


# ----- helpers -----------------------------------------------------------------------------


def _organisations(user):
    return organisations_with_role(user, *WRITERS)


def _organisation(user, slug):
    """The organisation written to: the one named, or the only one the person writes to."""
    organisations = _organisations(user)
    if slug:
        return get_object_or_404(organisations, slug=slug)
    found = list(organisations[:2])
    if not found:
        raise _NotFound
    if len(found) > 1:
        raise ValidationError(
            {"organisme": "Vous écrivez pour plusieurs organismes : indiquez « organisme »."}
        )
    return found[0]


class _NotFound(Exception):
    pass


def _contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "organisme": contact.organisation.slug,
        "source": contact.source,
        "identifiant_externe": contact.external_id,
        "canal": contact.channel,
        "motif": contact.reason.code if contact.reason_id else None,
        "site": contact.site_id,
        "equipe": contact.team_id,
        "reference_usager": contact.requester_ref,
        "objet": contact.subject,
        "etat": contact.status,
        "issue": contact.outcome,
        "recu_le": contact.received_at,
        "accuse_le": contact.acknowledged_at,
        "repondu_le": contact.first_answer_at,
        "clos_le": contact.closed_at,
        "accuse_attendu_le": contact.ack_due_at,
        "reponse_attendue_le": contact.answer_due_at,
        "echeance": contact.due_at,
        "allers_retours": contact.returns,
    }


def _service_fields(payload: ContactFields, *, partial: bool) -> dict:
    given = payload.dict(exclude_unset=partial)
    fields = {}
    for api_name, service_name in CONTACT_FIELDS.items():
        if api_name not in given:
            continue
        value = given[api_name]
        if api_name == "charge" and value:
            person = User.objects.filter(email__iexact=value.strip(), is_active=True).first()
            if person is None:
                raise ValidationError({"assignee": f"Aucun agent n'a le courriel « {value} »."})
            value = person
        if api_name in ("objet", "reference_usager", "issue") and value is None:
            value = ""
        if value is None and service_name in KEPT_WHEN_MISSING:
            continue  # cannot be emptied: kept (or, for a new contact, defaulted)
        fields[service_name] = value
    return fields


def _write_contact(user, organisation, source, external_id, payload, *, partial):
    fields = _service_fields(payload, partial=partial)
    contact, created = services.upsert_contact(
        user, organisation, source=source, external_id=external_id, **fields
    )
    contact = Contact.objects.select_related("organisation", "reason").get(pk=contact.pk)
    return Status(201 if created else 200, _contact_out(contact))


def _find_contact(user, source, external_id, slug):
    contacts = Contact.objects.filter(
        organisation__in=_organisations(user), source=source, external_id=external_id
    ).select_related("organisation", "reason")
    if slug:
        contacts = contacts.filter(organisation__slug=slug)
    return get_object_or_404(contacts[:1])


RESPONSES = {200: ContactOut, 201: ContactOut, REFUSED: ErrorOut, 404: ErrorOut}


def _guarded(function):
    """Turn validation errors into 422 and an organisation out of reach into 404."""

    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValidationError as error:
            return Status(REFUSED, refused(error_lines(error, API_NAMES)))
        except (_NotFound, Http404):
            return Status(404, {"detail": NOT_FOUND})

    return run


# ----- contacts ---------------------------------------------------------------------------


@router.post("/contacts", response=RESPONSES, url_name="api_contact_upsert")
def upsert_contact(request, payload: ContactIn):
    """Crée un contact, ou le met à jour s'il existe déjà pour cette source et cet
    identifiant externe (201 créé, 200 mis à jour ou inchangé). Seuls les champs envoyés
    sont modifiés."""

    @_guarded
    def write():
        organisation = _organisation(request.auth, payload.organisme)
        return _write_contact(
            request.auth,
            organisation,
            payload.source.strip(),
            payload.identifiant_externe,
            payload,
            partial=True,
        )

    return write()


@router.get(
    "/contacts/{source}/{external_id}",
    response={200: ContactOut, 404: ErrorOut},
    url_name="api_contact",
)
def get_contact(request, source: str, external_id: str, organisme: str | None = None):
    """Un contact, par sa source et son identifiant externe."""

    @_guarded
    def read():
        contact = _find_contact(request.auth, source, external_id, organisme)
        return Status(200, _contact_out(contact))

    return read()


@router.patch("/contacts/{source}/{external_id}", response=RESPONSES, url_name="api_contact_patch")
def patch_contact(
    request, source: str, external_id: str, payload: ContactFields, organisme: str | None = None
):
    """Modifie un contact existant (seuls les champs envoyés)."""

    @_guarded
    def write():
        contact = _find_contact(request.auth, source, external_id, organisme)
        return _write_contact(
            request.auth, contact.organisation, source, external_id, payload, partial=True
        )

    return write()


@router.put("/contacts/{source}/{external_id}", response=RESPONSES, url_name="api_contact_put")
def put_contact(
    request, source: str, external_id: str, payload: ContactFields, organisme: str | None = None
):
    """Crée ou remplace un contact désigné par sa source et son identifiant externe : les
    champs absents sont remis à vide (201 créé, 200 sinon)."""

    @_guarded
    def write():
        organisation = _organisation(request.auth, organisme)
        return _write_contact(
            request.auth, organisation, source, external_id, payload, partial=False
        )

    return write()


# ----- calls ------------------------------------------------------------------------------


def _parse_calls(organisation, calls: list[CallIn], now) -> list[dict]:
    """Check every call first; one bad call refuses the batch (errors name its index)."""
    errors = {}
    rows, seen = [], {}
    sites = set(organisation.sites.values_list("pk", flat=True))
    if not calls:
        errors["appels"] = ["Envoyez au moins un appel."]
    if len(calls) > MAX_CALLS:
        errors["appels"] = [f"Au plus {MAX_CALLS} appels par envoi (reçu : {len(calls)})."]
    for index, call in enumerate(calls[:MAX_CALLS]):
        where = f"appels[{index}]."

        def refuse(field, message, where=where):
            errors.setdefault(where + field, []).append(message)

        external_id = call.identifiant_externe.strip()
        if not external_id:
            refuse("identifiant_externe", "L'identifiant externe est obligatoire.")
        elif external_id in seen:
            refuse(
                "identifiant_externe",
                f"« {external_id} » figure déjà dans cet envoi (appels[{seen[external_id]}]).",
            )
        else:
            seen[external_id] = index
        try:
            started = datetime.fromisoformat(call.debut)
            if timezone.is_naive(started):
                started = timezone.make_aware(started)
            if started > now:
                refuse("debut", f"L'appel du {call.debut} est dans le futur.")
        except ValueError:
            started = None
            refuse("debut", f"« {call.debut} » n'est pas une date lisible (ISO 8601).")
        if call.issue not in CallOutcome.values:
            refuse(
                "issue",
                f"Issue inconnue : « {call.issue} ». Issues possibles : "
                + ", ".join(CallOutcome.values)
                + ".",
            )
        if call.attente_secondes is not None and call.attente_secondes < 0:
            refuse("attente_secondes", "Une attente ne peut pas être négative.")
        if call.site is not None and call.site not in sites:
            refuse("site", "Ce site n'appartient pas à cet organisme.")
        rows.append(
            {
                "external_id": external_id[:100],
                "started_at": started,
                "outcome": call.issue,
                "wait_seconds": call.attente_secondes,
                "needs_agent": call.necessite_agent,
                "line": call.ligne.strip()[:60],
                "site_id": call.site,
            }
        )
    if errors:
        raise ValidationError(errors)
    return rows


@router.post(
    "/appels",
    response={200: CallsOut, 201: CallsOut, REFUSED: ErrorOut, 404: ErrorOut},
    url_name="api_calls",
)
def post_calls(request, payload: CallsIn):
    """Enregistre des appels du journal de téléphonie (un ou plusieurs, au plus 5 000).
    Même source et même identifiant externe : l'appel est mis à jour, jamais dupliqué. Un
    seul appel fautif et rien n'est enregistré (422, erreurs par appel)."""

    @_guarded
    def write():
        organisation = _organisation(request.auth, payload.organisme)
        source = payload.source.strip()
        if not source:
            raise ValidationError({"source": "La source est obligatoire."})
        rows = _parse_calls(organisation, payload.appels, timezone.now())
        results = services.save_calls(request.auth, organisation, source[:60], rows)
        counts = {kind: sum(1 for _c, k in results if k == kind) for kind in ("cree", "modifie")}
        body = {
            "crees": counts["cree"],
            "modifies": counts["modifie"],
            "inchanges": len(results) - counts["cree"] - counts["modifie"],
            "appels": [
                {"identifiant_externe": c.external_id, "id": c.pk, "resultat": kind}
                for c, kind in results
            ],
        }
        return Status(201 if counts["cree"] else 200, body)

    return write()
