"""API of the appointments: reasons, free slots and bookings, for partner tools (a France
Services relay's software) and for an organisation's own tools.

Who may call it, and as what:
- a partner (« partenaire » membership on a relay site) books as its relay (channel
  « partenaire », the relay forced to its own), for the reasons that relays may book, and
  sees only its relay's bookings;
- an agent, manager or administrator books through the API (channel « api ») for the
  reasons open to the public or to the relays, and sees its organisation's bookings;
- anyone else gets 404, as everywhere in Voix (existence is never revealed).

Bad input answers 422 with the one French shape of voix.core.api_errors; a slot taken
meanwhile answers 409 with the message and the next free slots. A retried booking (same
reason, site, start, name and phone or e-mail, still active) answers 200 with the existing
appointment instead of booking twice. See docs/appointments.md for curl examples.
"""

from contextlib import suppress
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from voix.core.api_errors import REFUSED, ErrorOut, error_lines, refused
from voix.core.models import Role, Site
from voix.core.scoping import organisations_with_role, scope_for

from . import services
from .models import HOLDING_STATUSES, Appointment, Audience, Channel, Mode, Reason
from .models import Status as AppointmentStatus

router = Router(tags=["Rendez-vous"])

WRITERS = (Role.AGENT, Role.MANAGER, Role.ADMIN)
# Reasons bookable through the API: those open to the public or to the relays.
API_AUDIENCES = (Audience.PUBLIC, Audience.PARTNER)
MAX_DAYS = 90
MAX_SLOTS = 500
MAX_LIST = 1000
NOT_FOUND = (
    "Motif {id} introuvable : il n'existe pas, n'est pas réservable par l'API, ou vous "
    "n'avez pas de rôle d'agent, de manager, d'administrateur ou de relais partenaire dans "
    "son organisme."
)

# service field → API field
FIELD_NAMES = {
    "full_name": "nom",
    "phone": "telephone",
    "email": "courriel",
    "consent": "consentement",
    "starts_at": "debut",
    "mode": "mode",
    "site": "site_id",
    "relay": "relais_id",
    "referral_note": "note_relais",
    "note": "note",
}


# ----- schemas ------------------------------------------------------------------------


class SiteRef(Schema):
    id: int
    nom: str
    commune: str


class ReasonOut(Schema):
    id: int
    organisme: str = Field(..., description="identifiant (slug) de l'organisme")
    motif: str
    description: str
    duree_minutes: int
    modes: list[str] = Field(..., description="sur_place, telephone, visio")
    public: str = Field(..., description="public (tout le monde) ou partenaire (relais)")
    sites: list[SiteRef]


class SlotOut(Schema):
    debut: datetime
    fin: datetime
    site_id: int
    modes: list[str]
    conseillers_libres: int


class SlotTakenOut(Schema):
    detail: str
    alternatives: list[SlotOut]


class BookingIn(Schema):
    motif_id: int
    site_id: int
    mode: str = Field(..., description="sur_place, telephone ou visio")
    debut: datetime = Field(..., description="un début proposé par /disponibilites, avec fuseau")
    nom: str = Field(..., description="nom et prénom de la personne reçue")
    telephone: str = ""
    courriel: str = ""
    consentement: bool = Field(
        False, description="la personne accepte l'usage de ses coordonnées pour ce rendez-vous"
    )
    note: str = Field("", description="précisions de la personne")
    note_relais: str = Field("", description="relais : la situation en quelques mots")
    relais_id: int | None = Field(None, description="relais : votre site (par défaut le vôtre)")


class AppointmentOut(Schema):
    reference: str
    statut: str = Field(..., description="prevu, honore, excuse, annule ou absent")
    statut_libelle: str
    organisme: str
    motif_id: int
    motif: str
    site_id: int
    site: str
    mode: str
    debut: datetime
    fin: datetime
    canal: str = Field(..., description="public, partenaire, agent ou api")
    relais_id: int | None
    relais: str
    note_relais: str
    nom: str
    telephone: str
    courriel: str
    note: str
    lien_visio: str
    reserve_le: datetime


# ----- who is calling -----------------------------------------------------------------


def _staff_organisations(user) -> set[int]:
    return set(organisations_with_role(user, *WRITERS).values_list("pk", flat=True))


def _relays(user) -> list[Site]:
    ids = scope_for(user).relay_site_ids
    return list(Site.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _reasons(user):
    """The reasons *user* may book through the API."""
    organisations = _staff_organisations(user) | {s.organisation_id for s in _relays(user)}
    return Reason.objects.filter(
        organisation_id__in=organisations, is_active=True, audience__in=API_AUDIENCES
    ).select_related("organisation")


def _channel(user, reason: Reason) -> str:
    """API for the organisation's staff; partner for a relay of the reason's organisation."""
    if reason.organisation_id in _staff_organisations(user):
        return Channel.API
    return Channel.PARTNER


def _visible_appointments(user):
    condition = Q(organisation_id__in=_staff_organisations(user)) | Q(
        relay_id__in=scope_for(user).relay_site_ids
    )
    if scope_for(user).everything:
        condition = Q()
    return Appointment.objects.filter(condition).select_related(
        "organisation", "reason", "site", "relay"
    )


# ----- helpers ------------------------------------------------------------------------


def _refused(lines, what="Demande refusée"):
    return Status(REFUSED, refused(lines, what))


def _slot_out(slot: services.Slot) -> SlotOut:
    return SlotOut(
        debut=slot.starts_at,
        fin=slot.ends_at,
        site_id=slot.site_id,
        modes=list(slot.modes),
        conseillers_libres=len(slot.advisor_ids),
    )


def _out(appointment: Appointment) -> AppointmentOut:
    return AppointmentOut(
        reference=appointment.reference,
        statut=appointment.status,
        statut_libelle=appointment.get_status_display(),
        organisme=appointment.organisation.slug,
        motif_id=appointment.reason_id,
        motif=appointment.reason.label,
        site_id=appointment.site_id,
        site=appointment.site.name,
        mode=appointment.mode,
        debut=appointment.starts_at,
        fin=appointment.ends_at,
        canal=appointment.channel,
        relais_id=appointment.relay_id,
        relais=appointment.relay.name if appointment.relay else "",
        note_relais=appointment.referral_note,
        nom=appointment.full_name,
        telephone=appointment.phone,
        courriel=appointment.email,
        note=appointment.note,
        lien_visio=appointment.video_link,
        reserve_le=appointment.created_at,
    )


def _mode_error(mode: str, reason: Reason) -> str | None:
    if mode not in Mode.values:
        return f"« {mode} » n'est pas un mode : sur_place, telephone ou visio."
    if mode not in reason.modes():
        return (
            f"ce motif ne se tient pas dans ce mode (modes proposés : {', '.join(reason.modes())})."
        )
    return None


# ----- endpoints ----------------------------------------------------------------------


@router.get("/rendez-vous/motifs", response=list[ReasonOut], url_name="api_appointment_reasons")
def reasons(request):
    """Les motifs que vous pouvez réserver par l'API, avec leurs modes et leurs sites."""
    rows = _reasons(request.auth).prefetch_related("sites").order_by("organisation", "position")
    return [
        ReasonOut(
            id=reason.pk,
            organisme=reason.organisation.slug,
            motif=reason.label,
            description=reason.description,
            duree_minutes=reason.duration_minutes,
            modes=reason.modes(),
            public=reason.audience,
            sites=[
                SiteRef(id=site.pk, nom=site.name, commune=site.commune)
                for site in reason.sites.all()
                if site.is_active
            ],
        )
        for reason in rows
    ]


@router.get(
    "/rendez-vous/disponibilites",
    response={200: list[SlotOut], 404: ErrorOut, REFUSED: ErrorOut},
    url_name="api_appointment_availability",
)
def availability(
    request,
    motif_id: int,
    site_id: int | None = None,
    mode: str | None = None,
    jours: int = 14,
    du: date | None = None,
):
    """Les créneaux libres d'un motif, les plus proches d'abord : sur un site (`site_id`)
    ou sur tous ceux où il est proposé, dans un mode (`mode`) ou tous, sur `jours` jours
    (14 par défaut, 90 au plus) à partir d'aujourd'hui ou de `du`. Au plus 500 créneaux."""
    reason = _reasons(request.auth).filter(pk=motif_id).first()
    if reason is None:
        return Status(404, {"detail": NOT_FOUND.format(id=motif_id)})
    lines = []
    if not 1 <= jours <= MAX_DAYS:
        lines.append({"champ": "jours", "message": f"entre 1 et {MAX_DAYS} jours."})
    if mode:
        problem = _mode_error(mode, reason)
        if problem:
            lines.append({"champ": "mode", "message": problem})
    sites = list(reason.sites.filter(is_active=True).order_by("name"))
    if site_id is not None:
        sites = [site for site in sites if site.pk == site_id]
        if not sites:
            lines.append({"champ": "site_id", "message": "ce motif n'est pas proposé sur ce site."})
    if lines:
        return _refused(lines)
    channel = _channel(request.auth, reason)
    start = du or timezone.localdate()
    found = []
    for site in sites:
        found += services.available_slots(
            reason,
            site,
            mode=mode or None,
            channel=channel,
            start=start,
            days=jours,
            limit=MAX_SLOTS,
        )
    found.sort(key=lambda slot: (slot.starts_at, slot.site_id))
    return Status(200, [_slot_out(slot) for slot in found[:MAX_SLOTS]])


def _same_booking(reason, site, payload, channel, relay):
    """The active appointment a retry of this request would duplicate, or None."""
    name = " ".join(payload.nom.split())
    if not name or payload.debut is None or timezone.is_naive(payload.debut):
        return None
    contact = Q(pk__in=[])
    if payload.telephone.strip():
        with suppress(ValidationError):  # a wrong number is refused by the booking itself
            contact |= Q(phone=services.normalise_phone_any(payload.telephone))
    if payload.courriel.strip():
        contact |= Q(email__iexact=payload.courriel.strip())
    return (
        Appointment.objects.filter(
            organisation_id=reason.organisation_id,
            reason=reason,
            site=site,
            starts_at=payload.debut,
            full_name__iexact=name,
            channel=channel,
            relay=relay,
            status__in=HOLDING_STATUSES,
        )
        .filter(contact)
        .select_related("organisation", "reason", "site", "relay")
        .first()
    )


@router.post(
    "/rendez-vous",
    response={
        200: AppointmentOut,
        201: AppointmentOut,
        404: ErrorOut,
        409: SlotTakenOut,
        REFUSED: ErrorOut,
    },
    url_name="api_appointment_book",
)
def book(request, payload: BookingIn):
    """Réserver un rendez-vous sur un créneau proposé par `/rendez-vous/disponibilites`.

    Un relais partenaire réserve pour son relais (`relais_id` facultatif, le sien) et décrit
    la situation (`note_relais`, obligatoire) ; téléphone ou courriel, et consentement de la
    personne, sont obligatoires. 201 : réservé. 200 : la même demande avait déjà été
    enregistrée (nouvel essai après une coupure), rien n'est réservé deux fois. 409 : le
    créneau vient d'être pris, avec les créneaux libres suivants. 422 : donnée refusée.
    """
    user = request.auth
    reason = _reasons(user).filter(pk=payload.motif_id).first()
    if reason is None:
        return Status(404, {"detail": NOT_FOUND.format(id=payload.motif_id)})
    channel = _channel(user, reason)
    lines = []
    site = Site.objects.filter(pk=payload.site_id, organisation=reason.organisation).first()
    if site is None or not reason.sites.filter(pk=site.pk).exists():
        lines.append({"champ": "site_id", "message": "ce motif n'est pas proposé sur ce site."})
    problem = _mode_error(payload.mode, reason)
    if problem:
        lines.append({"champ": "mode", "message": problem})
    if timezone.is_naive(payload.debut):
        lines.append(
            {
                "champ": "debut",
                "message": "indiquez le fuseau horaire (ex. 2026-03-02T09:30:00+01:00).",
            }
        )
    relay = None
    if channel == Channel.PARTNER:
        own = [s for s in _relays(user) if s.organisation_id == reason.organisation_id]
        if payload.relais_id is None:
            relay = own[0] if len(own) == 1 else None
            if relay is None:
                lines.append(
                    {"champ": "relais_id", "message": "indiquez lequel de vos relais oriente."}
                )
        else:
            relay = next((s for s in own if s.pk == payload.relais_id), None)
            if relay is None:
                lines.append(
                    {
                        "champ": "relais_id",
                        "message": "vous ne pouvez réserver que pour votre propre relais.",
                    }
                )
    elif payload.relais_id is not None:
        lines.append(
            {
                "champ": "relais_id",
                "message": "réservé aux relais partenaires : un jeton d'agent réserve sans relais.",
            }
        )
    if lines:
        return _refused(lines, "Réservation refusée")
    existing = _same_booking(reason, site, payload, channel, relay)
    if existing is not None:
        return Status(200, _out(existing))
    try:
        appointment = services.book(
            user,
            reason,
            site=site,
            mode=payload.mode,
            starts_at=payload.debut,
            channel=channel,
            full_name=payload.nom,
            phone=payload.telephone,
            email=payload.courriel,
            consent=payload.consentement,
            relay=relay,
            referral_note=payload.note_relais,
            note=payload.note,
        )
    except services.SlotTaken as taken:
        return Status(
            409,
            {
                "detail": taken.messages[0],
                "alternatives": [_slot_out(slot) for slot in taken.alternatives],
            },
        )
    except ValidationError as error:
        return _refused(error_lines(error, FIELD_NAMES), "Réservation refusée")
    appointment = Appointment.objects.select_related("organisation", "reason", "site", "relay").get(
        pk=appointment.pk
    )
    return Status(201, _out(appointment))


@router.get(
    "/rendez-vous",
    response={200: list[AppointmentOut], REFUSED: ErrorOut},
    url_name="api_appointments",
)
def list_appointments(
    request,
    du: date | None = None,
    au: date | None = None,
    statut: str | None = None,
    site_id: int | None = None,
    motif_id: int | None = None,
    limite: int = 200,
):
    """Vos rendez-vous (un relais : ceux qu'il a orientés ; un agent : ceux de son
    organisme), dont le début tombe entre `du` (aujourd'hui par défaut) et `au` inclus,
    les plus proches d'abord ; `limite` : 200 par défaut, 1 000 au plus."""
    lines = []
    if statut and statut not in AppointmentStatus.values:
        lines.append(
            {"champ": "statut", "message": f"attendu : {', '.join(AppointmentStatus.values)}."}
        )
    if not 1 <= limite <= MAX_LIST:
        lines.append({"champ": "limite", "message": f"entre 1 et {MAX_LIST}."})
    start = du or timezone.localdate()
    if au is not None and au < start:
        lines.append({"champ": "au", "message": "la date de fin précède la date de début."})
    if lines:
        return _refused(lines)
    tz = timezone.get_current_timezone()
    rows = _visible_appointments(request.auth).filter(
        starts_at__gte=datetime.combine(start, time.min, tzinfo=tz)
    )
    if au is not None:
        rows = rows.filter(starts_at__lt=datetime.combine(au + timedelta(days=1), time.min, tz))
    if statut:
        rows = rows.filter(status=statut)
    if site_id is not None:
        rows = rows.filter(site_id=site_id)
    if motif_id is not None:
        rows = rows.filter(reason_id=motif_id)
    return Status(200, [_out(row) for row in rows.order_by("starts_at", "pk")[:limite]])


@router.get(
    "/rendez-vous/{reference}",
    response={200: AppointmentOut, 404: ErrorOut},
    url_name="api_appointment",
)
def appointment_detail(request, reference: str):
    """Un rendez-vous par sa référence (ex. RDV-7K3P9Q), s'il est dans votre périmètre."""
    row = _visible_appointments(request.auth).filter(reference=reference.strip().upper()).first()
    if row is None:
        return Status(404, {"detail": f"Rendez-vous « {reference} » introuvable."})
    return Status(200, _out(row))
