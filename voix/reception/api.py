"""API of the reception queue: external queue systems post their tickets (idempotently,
keyed on source + external id) and read them back.

Writing needs an agent, manager or administrator role in the site's organisation; a site
outside the token holder's scope answers 404, as everywhere in Voix.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Router, Schema, Status

from voix.core.api_errors import REFUSED, ErrorOut, error_lines, refused
from voix.core.models import Role
from voix.core.scoping import has_role, scoped, visible_sites

from . import services
from .models import Ticket

router = Router(tags=["Accueil et file d'attente"])

WRITERS = (Role.AGENT, Role.MANAGER, Role.ADMIN)


class TicketIn(Schema):
    site_id: int
    source: str = "api"
    external_id: str
    motif: str
    entree: datetime
    appel: datetime | None = None
    debut: datetime | None = None
    fin: datetime | None = None
    guichet: str = ""
    visio: bool = False
    parti_sans_contact: bool = False


class TicketOut(Schema):
    id: int
    site_id: int
    jour: date
    numero: str
    motif: str
    etat: str
    entree: datetime
    appel: datetime | None
    debut: datetime | None
    fin: datetime | None
    guichet: str
    visio: bool
    attente_minutes: float | None
    visite: bool
    source: str
    external_id: str


FIELD_NAMES = {
    "entered_at": "entree",
    "called_at": "appel",
    "started_at": "debut",
    "finished_at": "fin",
    "counter": "guichet",
    "external_id": "external_id",
}


def _out(ticket: Ticket) -> TicketOut:
    wait = ticket.wait
    return TicketOut(
        id=ticket.pk,
        site_id=ticket.site_id,
        jour=ticket.day,
        numero=ticket.code,
        motif=ticket.queue.label,
        etat=ticket.status,
        entree=ticket.entered_at,
        appel=ticket.called_at,
        debut=ticket.started_at,
        fin=ticket.finished_at,
        guichet=ticket.counter.label if ticket.counter else "",
        visio=ticket.visio,
        attente_minutes=round(wait.total_seconds() / 60, 1) if wait is not None else None,
        visite=ticket.is_visit,
        source=ticket.source,
        external_id=ticket.external_id,
    )


def _error(error: ValidationError) -> dict:
    return refused(error_lines(error, FIELD_NAMES), "Ticket refusé")


@router.post(
    "/reception/tickets",
    response={200: TicketOut, 201: TicketOut, 403: ErrorOut, 404: ErrorOut, REFUSED: ErrorOut},
    url_name="api_reception_ticket_upsert",
)
def upsert_ticket(request, payload: TicketIn):
    """Créer ou mettre à jour un ticket venu d'un système de file d'attente externe.

    Clé : (`source`, `external_id`) dans l'organisme du site. Renvoyer le même ticket
    (par exemple avec l'heure d'appel puis la fin) le met à jour, sans doublon : 201 à la
    création, 200 ensuite. Les heures sont en ISO 8601 avec fuseau ; `motif` et `guichet`
    sont les libellés configurés sur le site ; `parti_sans_contact` clôt un ticket sans
    contact (ce n'est pas une visite).
    """
    site = visible_sites(request.auth).filter(pk=payload.site_id).first()
    if site is None:
        return Status(404, {"detail": f"Site {payload.site_id} introuvable."})
    if not has_role(request.auth, *WRITERS, organisation=site.organisation):
        return Status(
            403,
            {"detail": "Écriture réservée aux agents, managers et administrateurs de l'organisme."},
        )
    try:
        ticket, created = services.upsert_external_ticket(
            request.auth,
            site,
            source=payload.source,
            external_id=payload.external_id,
            reason=payload.motif,
            event=services.ExternalTicket(
                entered_at=payload.entree,
                called_at=payload.appel,
                started_at=payload.debut,
                finished_at=payload.fin,
                counter=payload.guichet,
                visio=payload.visio,
                left_without_contact=payload.parti_sans_contact,
            ),
            now=timezone.now(),
        )
    except ValidationError as error:
        return Status(REFUSED, _error(error))
    return Status(201 if created else 200, _out(ticket))


@router.get("/reception/tickets", response=list[TicketOut], url_name="api_reception_tickets")
def list_tickets(
    request, site: int | None = None, day: date | None = None, source: str | None = None
):
    """Les tickets de vos sites (du jour par défaut), filtrables par site et source."""
    rows = scoped(Ticket.objects.select_related("queue", "counter"), request.auth).filter(
        day=day or timezone.localdate()
    )
    if site is not None:
        rows = rows.filter(site_id=site)
    if source:
        rows = rows.filter(source=source)
    return [_out(t) for t in rows.order_by("site_id", "number")[:5000]]
