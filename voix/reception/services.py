"""Every write of the reception queue: one function per action, in a transaction.

Tickets record their own timeline (entry, calls, contact, end), so the flow of a ticket is
not copied to the audit log; configuration changes (reasons, counters, links) are audited.

Calling order (`call_next`): the tickets a counter may call are those waiting at its site
today, in the queues it serves (all when it lists none), and not transferred to another
counter. Appointments checked in whose time has come go first (by scheduled time), then
everyone else by entry time — a transferred ticket keeps its entry time, so it is not sent
back to the end of the line.

Concurrency: `call_next` locks the counter row (one call at a time per counter), then takes
the first callable ticket with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) and moves it
with a conditional UPDATE (``… WHERE status IN waiting``): two agents pressing « appeler le
suivant » at the same instant never get the same ticket. SQLite has no row locks; its
write transactions (BEGIN IMMEDIATE, see settings) run one at a time, and the conditional
UPDATE still guards.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from voix.core.models import Site
from voix.core.services import record_event
from voix.core.sms import normalise_phone

from . import rollups
from .models import (
    AT_COUNTER_STATUSES,
    OPEN_STATUSES,
    WAITING_STATUSES,
    Counter,
    Queue,
    SiteReception,
    Status,
    Ticket,
    new_token,
)

# ----- settings of a site --------------------------------------------------------------


def ensure_reception(site: Site) -> SiteReception:
    """The site's reception settings, created with fresh link tokens on first use."""
    reception = SiteReception.objects.filter(site=site).first()
    if reception is None:
        reception, _ = SiteReception.objects.get_or_create(
            site=site, defaults={"kiosk_token": new_token(), "display_token": new_token()}
        )
    return reception


@transaction.atomic
def regenerate_tokens(actor, site: Site) -> SiteReception:
    """Give the kiosk and the display new secret links; the old links stop working."""
    reception = ensure_reception(site)
    reception.kiosk_token = new_token()
    reception.display_token = new_token()
    reception.save(update_fields=["kiosk_token", "display_token"])
    record_event(actor, "accueil.liens_renouvelés", site, organisation=site.organisation)
    return reception


@transaction.atomic
def update_reception_settings(actor, site: Site, **fields) -> SiteReception:
    """Change the site's SMS settings (offered at the kiosk, how many tickets ahead)."""
    reception = ensure_reception(site)
    changes = {}
    for key, value in fields.items():
        if getattr(reception, key) != value:
            changes[key] = [getattr(reception, key), value]
            setattr(reception, key, value)
    reception.full_clean()
    reception.save()
    record_event(
        actor, "accueil.réglages_modifiés", site, organisation=site.organisation, changes=changes
    )
    return reception


def _check_letter(letter: str) -> str:
    letter = (letter or "").strip().upper()
    if len(letter) != 1 or not ("A" <= letter <= "Z"):
        raise ValidationError({"letter": "Indiquez une seule lettre majuscule, de A à Z."})
    return letter


@transaction.atomic
def save_queue(actor, site: Site, queue: Queue | None = None, **fields) -> Queue:
    """Create (queue None) or change a reason offered at the site's kiosk."""
    queue = queue or Queue(site=site)
    if queue.site_id != site.pk:
        raise ValidationError("Ce motif n'appartient pas à ce site.")
    if "letter" in fields:
        fields["letter"] = _check_letter(fields["letter"])
    for key, value in fields.items():
        setattr(queue, key, value)
    queue.full_clean()
    queue.save()
    record_event(
        actor,
        "accueil.motif_enregistré",
        queue,
        organisation=site.organisation,
        changes={k: v for k, v in fields.items()},
    )
    return queue


@transaction.atomic
def save_counter(actor, site: Site, counter: Counter | None = None, *, queues=None, **fields):
    """Create (counter None) or change a counter or visio-guichet and the reasons it serves."""
    counter = counter or Counter(site=site)
    if counter.site_id != site.pk:
        raise ValidationError("Ce guichet n'appartient pas à ce site.")
    for key, value in fields.items():
        setattr(counter, key, value)
    counter.full_clean()
    counter.save()
    if queues is not None:
        queues = list(queues)
        if any(q.site_id != site.pk for q in queues):
            raise ValidationError({"queues": "Un motif choisi n'appartient pas à ce site."})
        counter.queues.set(queues)
    record_event(
        actor,
        "accueil.guichet_enregistré",
        counter,
        organisation=site.organisation,
        changes={**fields, "queues": [q.label for q in queues or []]},
    )
    return counter


# ----- tickets -------------------------------------------------------------------------


def _lock_numbering(site: Site) -> SiteReception:
    """Lock the site's reception row: ticket numbers of a day are given one at a time."""
    ensure_reception(site)
    return SiteReception.objects.select_for_update().get(site=site)


def _next_number(site: Site, day: date) -> int:
    last = Ticket.objects.filter(site=site, day=day).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def _touch(ticket: Ticket) -> None:
    rollups.refresh_on_commit(ticket.site_id, ticket.day)


@transaction.atomic
def take_ticket(site: Site, queue: Queue, *, phone: str = "", now: datetime | None = None):
    """Kiosk: a person enters and takes a ticket for a reason (optionally leaving a mobile
    number for an SMS when their turn nears)."""
    now = now or timezone.now()
    if queue.site_id != site.pk or not queue.is_active:
        raise ValidationError("Ce motif n'est pas proposé sur ce site.")
    phone = normalise_phone(phone) if phone.strip() else ""
    _lock_numbering(site)
    day = timezone.localdate(now)
    ticket = Ticket.objects.create(
        organisation_id=site.organisation_id,
        site=site,
        day=day,
        number=_next_number(site, day),
        queue=queue,
        entered_at=now,
        phone=phone,
    )
    _touch(ticket)
    notify_turn_near(site, now=now)
    return ticket


@transaction.atomic
def check_in_appointment(
    site: Site,
    *,
    reference: str,
    reason: Queue | str,
    scheduled_at: datetime,
    phone: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Put a person with a booked appointment into today's queue (called by the
    appointments app). Idempotent on the reference: checking in twice returns the same
    ticket. *reason* is a queue of the site or its label. Once its time has come, an
    appointment is called before the walk-in visitors (see call_next)."""
    now = now or timezone.now()
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError("La référence du rendez-vous est obligatoire.")
    day = timezone.localdate(now)
    existing = Ticket.objects.filter(site=site, day=day, appointment_ref=reference).first()
    if existing is not None:
        return existing
    queue = reason if isinstance(reason, Queue) else _queue_named(site, reason)
    ticket = take_ticket(site, queue, phone=phone, now=now)
    ticket.appointment_ref = reference
    ticket.scheduled_at = scheduled_at
    ticket.save(update_fields=["appointment_ref", "scheduled_at"])
    return ticket


def _queue_named(site: Site, label: str) -> Queue:
    queue = site.queues.filter(label__iexact=(label or "").strip()).first()
    if queue is None:
        known = ", ".join(f"« {q.label} »" for q in site.queues.all()) or "aucun"
        raise ValidationError(
            f"Motif « {label} » inconnu sur le site « {site} » (motifs connus : {known})."
        )
    return queue


def callable_tickets(counter: Counter, *, now: datetime):
    """The tickets *counter* may call now, in calling order (see the module docstring)."""
    queue_ids = list(counter.queues.values_list("pk", flat=True))
    tickets = Ticket.objects.filter(
        site_id=counter.site_id,
        day=timezone.localdate(now),
        status__in=WAITING_STATUSES,
        entered_at__lte=now,
    ).filter(Q(wanted_counter_id__isnull=True) | Q(wanted_counter_id=counter.pk))
    if queue_ids:
        tickets = tickets.filter(queue_id__in=queue_ids)
    return tickets.annotate(
        appointment_due=Case(
            When(~Q(appointment_ref="") & Q(scheduled_at__lte=now), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("appointment_due", Coalesce("scheduled_at", "entered_at"), "entered_at", "pk")


@transaction.atomic
def call_next(actor, counter: Counter, *, now: datetime | None = None) -> Ticket | None:
    """« Appeler le suivant »: give the counter the next ticket (None when nobody waits).

    Never the same ticket to two counters, even at the same instant (see module docstring).
    """
    now = now or timezone.now()
    counter = Counter.objects.select_for_update().get(pk=counter.pk)
    busy = Ticket.objects.filter(counter=counter, status__in=AT_COUNTER_STATUSES).first()
    if busy is not None:
        raise ValidationError(
            f"Le ticket {busy.code} est encore au {counter.label} : terminez-le, "
            "transférez-le ou marquez-le absent avant d'appeler le suivant."
        )
    for _attempt in range(5):
        ticket = (
            callable_tickets(counter, now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if ticket is None:
            return None
        moved = Ticket.objects.filter(pk=ticket.pk, status__in=WAITING_STATUSES).update(
            status=Status.CALLED,
            counter=counter,
            agent=actor if getattr(actor, "pk", None) else None,
            called_at=Coalesce(F("called_at"), Value(now)),
            last_called_at=now,
            wanted_counter=None,
        )
        if moved:
            ticket.refresh_from_db()
            _touch(ticket)
            notify_turn_near(counter.site, now=now)
            return ticket
    return None


def _locked(ticket: Ticket, allowed, action: str) -> Ticket:
    """Lock the ticket's row and check it is in one of the *allowed* states."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("queue", "counter")
        .get(pk=ticket.pk)
    )
    if ticket.status not in allowed:
        raise ValidationError(
            f"Impossible de {action} le ticket {ticket.code} : il est « "
            f"{ticket.get_status_display().lower()} »."
        )
    return ticket


@transaction.atomic
def recall(actor, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """Call the same ticket again (the display shows and sounds it again)."""
    now = now or timezone.now()
    ticket = _locked(ticket, (Status.CALLED,), "rappeler")
    ticket.recalls += 1
    ticket.last_called_at = now
    ticket.save(update_fields=["recalls", "last_called_at"])
    return ticket


@transaction.atomic
def start_serving(actor, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """The person is at the counter (or in the visio-guichet): the contact — a visit — starts."""
    now = now or timezone.now()
    ticket = _locked(ticket, (Status.CALLED,), "commencer")
    ticket.status = Status.SERVING
    ticket.started_at = ticket.started_at or now
    ticket.visio = ticket.visio or bool(ticket.counter and ticket.counter.is_visio)
    if getattr(actor, "pk", None):
        ticket.agent = actor
    ticket.save(update_fields=["status", "started_at", "visio", "agent"])
    _touch(ticket)
    return ticket


@transaction.atomic
def finish(actor, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """End the contact. Finishing a ticket only called means the person did come."""
    now = now or timezone.now()
    ticket = _locked(ticket, AT_COUNTER_STATUSES, "terminer")
    ticket.started_at = ticket.started_at or now
    ticket.visio = ticket.visio or bool(ticket.counter and ticket.counter.is_visio)
    ticket.status = Status.DONE
    ticket.finished_at = now
    ticket.save(update_fields=["status", "started_at", "visio", "finished_at"])
    _touch(ticket)
    return ticket


@transaction.atomic
def mark_no_show(actor, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """Nobody came to the call: the ticket ends without contact (not a visit)."""
    now = now or timezone.now()
    ticket = _locked(ticket, (Status.CALLED,), "marquer absent")
    ticket.status = Status.NO_SHOW
    ticket.finished_at = now
    ticket.save(update_fields=["status", "finished_at"])
    _touch(ticket)
    return ticket


@transaction.atomic
def transfer(
    actor,
    ticket: Ticket,
    *,
    queue: Queue | None = None,
    counter: Counter | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Send the person to another reason or counter. The ticket keeps its entry time (it
    is not sent to the end of the line) and its first call (the wait already measured)."""
    now = now or timezone.now()
    ticket = _locked(ticket, AT_COUNTER_STATUSES, "transférer")
    if queue is None and counter is None:
        raise ValidationError("Choisissez le motif ou le guichet vers lequel transférer.")
    for target, label in ((queue, "motif"), (counter, "guichet")):
        if target is not None and target.site_id != ticket.site_id:
            raise ValidationError(f"Ce {label} n'appartient pas au site du ticket.")
    if counter is not None and counter.pk == ticket.counter_id:
        raise ValidationError("Le ticket est déjà à ce guichet : choisissez-en un autre.")
    ticket.started_at = ticket.started_at or now  # a transfer follows a contact
    ticket.visio = ticket.visio or bool(ticket.counter and ticket.counter.is_visio)
    ticket.status = Status.TRANSFERRED
    ticket.queue = queue or ticket.queue
    ticket.wanted_counter = counter
    ticket.counter = None
    ticket.agent = None
    ticket.transfers += 1
    ticket.save(
        update_fields=[
            "started_at",
            "visio",
            "status",
            "queue",
            "wanted_counter",
            "counter",
            "agent",
            "transfers",
        ]
    )
    _touch(ticket)
    return ticket


def close_day(site: Site, *, now: datetime | None = None) -> int:
    """After closing time (or the next morning): tickets of past days still open end —
    waiting ones as « parti sans être reçu », called ones as absent, at the counter as
    finished — and the phone numbers left for SMS are erased. Returns the count closed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        old = Ticket.objects.filter(site=site, day__lt=today)
        days = set(old.filter(status__in=OPEN_STATUSES).values_list("day", flat=True))
        closed = old.filter(status__in=WAITING_STATUSES).update(
            status=Status.ABANDONED, finished_at=now
        )
        closed += old.filter(status=Status.CALLED).update(status=Status.NO_SHOW, finished_at=now)
        closed += old.filter(status=Status.SERVING).update(status=Status.DONE, finished_at=now)
        old.exclude(phone="").update(phone="")
        for day in days:
            rollups.refresh_on_commit(site.pk, day)
    return closed


@transaction.atomic
def abandon_ticket(ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """The person left before being called (a kiosk « je pars », an external system)."""
    now = now or timezone.now()
    ticket = _locked(ticket, WAITING_STATUSES, "clore")
    ticket.status = Status.ABANDONED
    ticket.finished_at = now
    ticket.save(update_fields=["status", "finished_at"])
    _touch(ticket)
    return ticket


# ----- SMS when the turn nears ---------------------------------------------------------


def notify_turn_near(site: Site, *, now: datetime) -> list[int]:
    """Send « votre tour approche » to each waiting ticket with a phone number that has
    at most `sms_ahead` tickets before it in its queue, once. The SMS leaves through a
    background task after the commit. Returns the tickets notified."""
    reception = ensure_reception(site)
    if not reception.sms_enabled:
        return []
    waiting = list(
        Ticket.objects.filter(site=site, day=timezone.localdate(now), status__in=WAITING_STATUSES)
        .order_by("queue_id", "entered_at", "pk")
        .values_list("pk", "queue_id", "phone", "sms_sent_at")
    )
    position, due = {}, []
    for pk, queue_id, phone, sent in waiting:
        ahead = position.get(queue_id, 0)
        position[queue_id] = ahead + 1
        if phone and sent is None and ahead <= reception.sms_ahead:
            due.append(pk)
    notified = []
    for pk in due:
        # Conditional update: two processes never send the same SMS twice.
        if Ticket.objects.filter(pk=pk, sms_sent_at__isnull=True).update(sms_sent_at=now):
            notified.append(pk)
    if notified:
        from .tasks import send_turn_sms

        transaction.on_commit(lambda: [send_turn_sms.enqueue(pk) for pk in notified])
    return notified


# ----- external systems (API) ----------------------------------------------------------


def validate_ticket_times(entered_at, called_at, started_at, finished_at, now) -> None:
    """Times in order (entry ≤ call ≤ contact ≤ end) and none in the future."""
    errors = {}
    named = [
        ("entered_at", "l'entrée", entered_at),
        ("called_at", "l'appel", called_at),
        ("started_at", "le début de l'entretien", started_at),
        ("finished_at", "la fin", finished_at),
    ]
    for key, label, value in named:
        if value is not None and value > now:
            errors[key] = f"La date de {label} ({value:%d/%m/%Y %H:%M}) est dans le futur."
    previous = None
    for key, label, value in named:
        if value is None:
            continue
        if previous is not None and value < previous[2] and key not in errors:
            errors[key] = f"{label.capitalize()} ne peut pas précéder {previous[1]}."
        previous = (key, label, value)
    if errors:
        raise ValidationError(errors)


@dataclass
class ExternalTicket:
    entered_at: datetime
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str = ""
    visio: bool = False
    left_without_contact: bool = False


@transaction.atomic
def upsert_external_ticket(
    actor,
    site: Site,
    *,
    source: str,
    external_id: str,
    reason: str,
    event: ExternalTicket,
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Create or update a ticket from an external queue system, keyed on (source,
    external id): posting the same ticket again updates it, never duplicates it.
    Returns (ticket, created)."""
    now = now or timezone.now()
    source, external_id = (source or "").strip(), (external_id or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "L'identifiant externe est obligatoire."})
    validate_ticket_times(
        event.entered_at, event.called_at, event.started_at, event.finished_at, now
    )
    queue = _queue_named(site, reason)
    counter = None
    if event.counter:
        counter = site.counters.filter(label__iexact=event.counter.strip()).first()
        if counter is None:
            raise ValidationError(
                {"counter": f"Guichet « {event.counter} » inconnu sur le site « {site} »."}
            )
    if event.finished_at and not event.started_at and not event.left_without_contact:
        raise ValidationError(
            {"started_at": "Un ticket terminé avec contact indique le début de l'entretien."}
        )
    if event.started_at:
        status = Status.DONE if event.finished_at else Status.SERVING
    elif event.left_without_contact:
        status = Status.NO_SHOW if event.called_at else Status.ABANDONED
    else:
        status = Status.CALLED if event.called_at else Status.WAITING
    day = timezone.localdate(event.entered_at)
    values = dict(
        site=site,
        day=day,
        queue=queue,
        status=status,
        entered_at=event.entered_at,
        called_at=event.called_at,
        last_called_at=event.called_at,
        started_at=event.started_at,
        finished_at=event.finished_at,
        counter=counter,
        visio=bool(event.visio or (counter and counter.is_visio)),
    )
    ticket = (
        Ticket.objects.select_for_update()
        .filter(organisation=site.organisation, source=source, external_id=external_id)
        .first()
    )
    created = ticket is None
    old_key = None if created else (ticket.site_id, ticket.day)
    _lock_numbering(site)
    if created:
        ticket = Ticket(
            organisation=site.organisation, source=source, external_id=external_id, **values
        )
        ticket.number = _next_number(site, day)
    else:
        if (ticket.site_id, ticket.day) != (site.pk, day):
            ticket.number = _next_number(site, day)
        for key, value in values.items():
            setattr(ticket, key, value)
    ticket.save()
    _touch(ticket)
    if old_key and old_key != (ticket.site_id, ticket.day):
        rollups.refresh_on_commit(*old_key)
    return ticket, created


# ----- bulk history (demo, migrations from another system) -----------------------------


@transaction.atomic
def record_history(site: Site, rows, *, source: str = "historique") -> int:
    """Write many finished tickets of past days at once (the demo's year of activity, a
    history taken over from another system), then rebuild the roll-ups of those days.

    *rows* are dicts with day, queue, entered_at, called_at, started_at, finished_at,
    status, counter, visio. Numbers follow the order given within each day.
    """
    numbers: dict = {}
    tickets = []
    for row in rows:
        day = row["day"]
        if day not in numbers:
            numbers[day] = _next_number(site, day) - 1
        numbers[day] += 1
        tickets.append(
            Ticket(
                organisation_id=site.organisation_id,
                site=site,
                number=numbers[day],
                last_called_at=row.get("called_at"),
                source=source,
                **row,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    if numbers:
        rollups.rebuild([site], min(numbers), max(numbers))
    return len(tickets)
