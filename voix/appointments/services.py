"""The appointments engine: which slots are free, booking, moving, cancelling, statuses,
check-in, and the configuration (reasons, opening slots, exceptions, absences).

Availability is computed, never stored. For one reason at one site it reads, in five
queries, the opening slots of the site, their reasons, their exceptions, the advisors'
absences and their active appointments, then walks the days in local time with 5-minute
cells held in integer bit masks (one mask per advisor and day): a start is free when the
mask of its cells and the advisor's busy mask do not meet.

A booking is made by inserting the appointment and its ``Occupancy`` cells; the unique
(advisor, cell) constraint refuses a second booking that overlaps, so the database, not
this code, guarantees that no advisor is ever double-booked (see models.py). When every
advisor free at that time was taken meanwhile, the caller gets ``SlotTaken`` with the
next free slots.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import chain

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, transaction
from django.db.models import BigIntegerField, Func, Q
from django.utils import timezone

from voix.core import workdays
from voix.core.models import Membership, Organisation, Role, Site
from voix.core.services import record_event

from .models import (
    CELL,
    HOLDING_STATUSES,
    Absence,
    Appointment,
    BookingSettings,
    Channel,
    Mode,
    Notification,
    Occupancy,
    OpeningSlot,
    Reason,
    SlotException,
    Status,
    new_reference,
)

CELL_MINUTES = 5
MAX_DURATION = timedelta(minutes=240)  # the longest a reason may last (save_reason)
SLOT_TAKEN = "Ce créneau vient d'être réservé. Choisissez un autre horaire."
AGENT_HORIZON_DAYS = 90  # agents may book further ahead than the public
ADVISOR_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Slot:
    """One bookable start time at a site, with the advisors free then."""

    starts_at: datetime
    ends_at: datetime
    site_id: int
    advisor_ids: tuple[int, ...]
    modes: tuple[str, ...]


class SlotTaken(ValidationError):
    """The slot was booked by someone else meanwhile; ``alternatives`` are the next ones."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__(SLOT_TAKEN, code="slot_taken")
        self.alternatives = alternatives


# ---------------------------------------------------------------------------- availability


def _window(reason: Reason, channel: str, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a booking through *channel* may have."""
    if channel == Channel.AGENT:
        return now, now + timedelta(days=max(reason.max_horizon_days, AGENT_HORIZON_DAYS))
    return (
        now + timedelta(hours=reason.min_notice_hours),
        now + timedelta(days=reason.max_horizon_days),
    )


def _closed_days(cal: workdays.WorkCalendar, first: date, last: date) -> set[date]:
    closed = set(cal.closures)
    for year in range(first.year, last.year + 1):
        closed |= set(workdays.public_holidays(cal.region, year))
    return closed


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


class Epoch(Func):
    """Seconds since 1970 of a datetime column, computed by the database (integers cost
    far less to fetch than datetimes: a month of a team's bookings is ~20,000 rows)."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)"
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)",
        )


MODE_BITS = {Mode.ON_SITE: 1, Mode.PHONE: 2, Mode.VIDEO: 4}
CELLS_PER_DAY = 24 * 60 // CELL_MINUTES


def _mode_bits(modes) -> int:
    return sum(MODE_BITS[m] for m in modes)


def available_slots(
    reason: Reason,
    site: Site,
    *,
    mode: str | None = None,
    channel: str = Channel.PUBLIC,
    start: date | None = None,
    days: int | None = None,
    now: datetime | None = None,
    advisor=None,
    limit: int | None = None,
    exclude: Appointment | None = None,
    ignore_busy: bool = False,
    calendar: workdays.WorkCalendar | None = None,
) -> list[Slot]:
    """The free start times of *reason* at *site*, soonest first (see the module docstring).

    ``start``/``days`` narrow the local days looked at (default: the whole booking window);
    ``exclude`` leaves one appointment out of the busy time (moving it); ``ignore_busy``
    gives the opening grid whatever is booked (to tell « taken » from « never offered »);
    ``calendar`` spares the site's calendar queries when the caller has it already.

    Local days are indexed 0…D-1 and advisors 0…A-1; the busy time is a boolean array of
    5-minute cells [A, D, 288] whose running sum tells in one subtraction whether a
    candidate start's cells are all free. Each day is taken at its noon UTC offset: exact
    for every opening hour except on the two Sundays a year when the clocks change.
    """
    now = now or timezone.now()
    wanted = [mode] if mode else reason.modes()
    if (
        not reason.is_active
        or not reason.bookable_by(channel)
        or not set(wanted) <= set(reason.modes())
        or not reason.sites.filter(pk=site.pk).exists()
    ):
        return []
    cal = calendar or site.calendar()
    tz = cal.tz
    earliest, latest = _window(reason, channel, now)
    first = max(start or earliest.astimezone(tz).date(), earliest.astimezone(tz).date())
    last = latest.astimezone(tz).date()
    if days is not None:
        last = min(last, (start or first) + timedelta(days=days - 1))
    if last < first:
        return []

    slots = (
        OpeningSlot.objects.order_by()
        .filter(site=site, valid_from__lte=last)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
    )
    if advisor is not None:
        slots = slots.filter(advisor=advisor)
    restricted = defaultdict(set)
    for slot_id, reason_id in OpeningSlot.reasons.through.objects.filter(
        openingslot__site=site
    ).values_list("openingslot_id", "reason_id"):
        restricted[slot_id].add(reason_id)
    wanted_bits = _mode_bits(wanted)
    slots = [
        (pk, advisor_id, weekday, starts, ends, valid_from, valid_until, bits & wanted_bits)
        for pk, advisor_id, weekday, starts, ends, valid_from, valid_until, *modes in (
            slots.values_list(
                "pk",
                "advisor_id",
                "weekday",
                "starts",
                "ends",
                "valid_from",
                "valid_until",
                "on_site",
                "phone",
                "video",
            )
        )
        if (bits := modes[0] * 1 + modes[1] * 2 + modes[2] * 4) & wanted_bits
        and (not restricted[pk] or reason.pk in restricted[pk])
    ]
    if not slots:
        return []
    advisor_ids = np.array(sorted({slot[1] for slot in slots}), dtype=np.int64)
    skipped = set(
        SlotException.objects.filter(slot__site=site, day__gte=first, day__lte=last).values_list(
            "slot_id", "day"
        )
    )

    # local days: their midnight in epoch seconds (at the day's noon offset)
    n_days = (last - first).days + 1
    day_list = [first + timedelta(days=i) for i in range(n_days)]
    offsets = np.array(
        [datetime.combine(d, time(12), tz).utcoffset().total_seconds() for d in day_list],
        dtype=np.int64,
    )
    ordinal0 = (first - date(1970, 1, 1)).days
    midnights = (np.arange(n_days, dtype=np.int64) + ordinal0) * 86400 - offsets
    range_start, range_end = int(midnights[0]), int(midnights[-1]) + 86400

    busy = np.zeros((len(advisor_ids), n_days, CELLS_PER_DAY), dtype=bool)
    absences = (
        Absence.objects.order_by()
        .filter(
            advisor_id__in=advisor_ids.tolist(),
            starts_at__lt=datetime.fromtimestamp(range_end, UTC),
            ends_at__gt=datetime.fromtimestamp(range_start, UTC),
        )
        .values_list("advisor_id", Epoch("starts_at"), Epoch("ends_at"))
    )
    rows = _raw_rows(absences)
    if not ignore_busy:
        booked = Appointment.objects.order_by().filter(
            advisor_id__in=advisor_ids.tolist(),
            status__in=HOLDING_STATUSES,
            # a reason lasts 240 minutes at most: this bound lets the index skip history
            starts_at__gte=datetime.fromtimestamp(range_start, UTC) - MAX_DURATION,
            starts_at__lt=datetime.fromtimestamp(range_end, UTC),
            ends_at__gt=datetime.fromtimestamp(range_start, UTC),
        )
        if exclude is not None:
            booked = booked.exclude(pk=exclude.pk)
        rows += _raw_rows(booked.values_list("advisor_id", Epoch("starts_at"), Epoch("ends_at")))
    if rows:
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
        _mark_busy(busy, flat.reshape(-1, 3), advisor_ids, midnights)
    taken = np.zeros((len(advisor_ids), n_days, CELLS_PER_DAY + 1), dtype=np.int32)
    np.cumsum(busy, axis=2, out=taken[:, :, 1:])

    # candidates: every start of every opening slot on every open day of the window
    closed = _closed_days(cal, first, last)
    duration = reason.duration_minutes
    open_days = defaultdict(list)  # weekday -> [(day index, day)]
    for i, d in enumerate(day_list):
        if d not in closed:
            open_days[d.weekday()].append((i, d))
    a, d, m, bits = [], [], [], []
    skipped_slots = {pk for pk, _ in skipped}
    advisor_index = {advisor_id: i for i, advisor_id in enumerate(advisor_ids.tolist())}
    valid_days = {}  # (weekday, valid from, valid until) -> day indexes: shared by advisors
    for pk, advisor_id, weekday, starts, ends, valid_from, valid_until, slot_bits in slots:
        key = (weekday, valid_from, valid_until)
        if key not in valid_days:
            valid_days[key] = [
                i
                for i, day in open_days[weekday]
                if valid_from <= day and (valid_until is None or day <= valid_until)
            ]
        day_idx = valid_days[key]
        if pk in skipped_slots:
            day_idx = [i for i in day_idx if (pk, day_list[i]) not in skipped]
        minutes = range(_minutes(starts), _minutes(ends) - duration + 1, duration)
        count = len(day_idx) * len(minutes)
        if not count:
            continue
        a += [advisor_index[advisor_id]] * count
        d += [i for i in day_idx for _ in minutes]
        m += list(minutes) * len(day_idx)
        bits += [slot_bits] * count
    if not a:
        return []
    a, d, m, bits = (
        np.fromiter(values, dtype=np.int64, count=len(values)) for values in (a, d, m, bits)
    )
    epoch = midnights[d] + m * 60
    first_cell, last_cell = m // CELL_MINUTES, -(-(m + duration) // CELL_MINUTES)
    free = (taken[a, d, last_cell] == taken[a, d, first_cell]) & (
        epoch >= int(earliest.timestamp())
    )
    free &= epoch <= int(latest.timestamp())
    a, d, epoch, bits = a[free], d[free], epoch[free], bits[free]
    if not len(epoch):
        return []
    # soonest first; at one start, the least busy advisor that day first
    load = taken[a, d, CELLS_PER_DAY]
    order = np.lexsort((advisor_ids[a], load, epoch))
    a, epoch, bits = a[order], epoch[order], bits[order]
    starts, first_index = np.unique(epoch, return_index=True)
    bounds = [*first_index.tolist(), len(epoch)]
    group_bits = np.bitwise_or.reduceat(bits, first_index)
    if limit is not None:
        starts = starts[:limit]
    ids = advisor_ids[a].tolist()
    length = reason.duration
    result = []
    for i, start_epoch in enumerate(starts.tolist()):
        starts_at = datetime.fromtimestamp(start_epoch, tz)
        result.append(
            Slot(
                starts_at=starts_at,
                ends_at=starts_at + length,
                site_id=site.pk,
                advisor_ids=tuple(ids[bounds[i] : bounds[i + 1]]),
                modes=tuple(m for m in wanted if MODE_BITS[m] & int(group_bits[i])),
            )
        )
    return result


def _raw_rows(queryset) -> list[tuple]:
    """The rows of a values_list query straight from the cursor (no per-value converters)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _mark_busy(busy, rows, advisor_ids, midnights) -> None:
    """Set the cells covered by each (advisor, start, end) row (epoch seconds); a row may
    span several days (an absence) and be partly outside the window."""
    n_days = busy.shape[1]
    a = np.searchsorted(advisor_ids, rows[:, 0])
    starts, ends = rows[:, 1], rows[:, 2]
    day = np.clip(np.searchsorted(midnights, starts, side="right") - 1, 0, n_days - 1)
    while True:
        day_start = midnights[day]
        c0 = np.clip((starts - day_start) // (CELL_MINUTES * 60), 0, CELLS_PER_DAY)
        c1 = np.clip(-(-(ends - day_start) // (CELL_MINUTES * 60)), 0, CELLS_PER_DAY)
        lengths = np.maximum(c1 - c0, 0)
        total = int(lengths.sum())
        if total:
            base = (a * n_days + day) * CELLS_PER_DAY + c0
            offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            busy.reshape(-1)[np.repeat(base, lengths) + offsets] = True
        more = (ends > day_start + 86400) & (day < n_days - 1)
        if not more.any():
            return
        a, starts, ends, day = a[more], starts[more], ends[more], day[more] + 1


def first_available(
    reason: Reason, site: Site, *, mode=None, channel=Channel.PUBLIC, now=None
) -> Slot | None:
    slots = available_slots(reason, site, mode=mode, channel=channel, now=now, limit=1)
    return slots[0] if slots else None


def days_with_slots(slots: list[Slot]) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by local day, in order (for the pages)."""
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(timezone.localtime(slot.starts_at).date(), []).append(slot)
    return list(days.items())


# ------------------------------------------------------------------------------- booking


def normalise_phone_any(raw: str) -> str:
    """A French phone number (landline or mobile, metropolitan or overseas) as
    « 06 12 34 56 78 », or ValidationError."""
    digits = "".join(ch for ch in (raw or "") if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    for prefix in ("+33", "+262", "+269", "+508", "+590", "+594", "+596", "+687", "+689"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix) :]  # +33 6…, +262 262… : the national form
            break
    if not (len(digits) == 10 and digits.isdigit() and digits[0] == "0" and digits[1] != "0"):
        raise ValidationError(
            "Numéro de téléphone invalide : indiquez 10 chiffres commençant par 0 "
            "(ex. 06 12 34 56 78 ou 02 43 00 00 00)."
        )
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def ensure_settings(organisation: Organisation) -> BookingSettings:
    booking_settings, _ = BookingSettings.objects.get_or_create(organisation=organisation)
    return booking_settings


def video_link(appointment: Appointment) -> str:
    template = (
        ensure_settings(appointment.organisation).video_link_template
        or settings.VIDEO_LINK_TEMPLATE
    )
    return template.replace("{jeton}", secrets.token_urlsafe(16)).replace(
        "{reference}", appointment.reference
    )


def _check_person(channel, *, full_name, phone, email, consent, relay, referral_note, reason):
    errors = {}
    cleaned = {"full_name": " ".join((full_name or "").split())}
    if not cleaned["full_name"]:
        errors["full_name"] = "Indiquez le nom et le prénom de la personne reçue."
    elif len(cleaned["full_name"]) > 150:
        errors["full_name"] = "Le nom ne doit pas dépasser 150 caractères."
    cleaned["phone"] = ""
    if (phone or "").strip():
        try:
            cleaned["phone"] = normalise_phone_any(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages[0]
    cleaned["email"] = (email or "").strip()
    if cleaned["email"]:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = "Adresse électronique invalide (ex. prenom.nom@exemple.fr)."
    needs_contact = channel in (Channel.PUBLIC, Channel.PARTNER, Channel.API)
    if needs_contact and not (phone or "").strip() and not cleaned["email"]:
        errors["phone"] = (
            "Indiquez un numéro de téléphone ou une adresse électronique, pour la "
            "confirmation et le rappel du rendez-vous."
        )
    if needs_contact and not consent:
        errors["consent"] = "Cochez la case pour accepter l'utilisation de ces coordonnées."
    if channel == Channel.PARTNER:
        if relay is None or not relay.is_relay or relay.organisation_id != reason.organisation_id:
            errors["relay"] = "Le relais partenaire qui oriente la personne est obligatoire."
        if not (referral_note or "").strip():
            errors["referral_note"] = "Décrivez en quelques mots la situation de la personne."
        elif len(referral_note) > 1000:
            errors["referral_note"] = "La note ne doit pas dépasser 1 000 caractères."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_time(reason, site, mode, starts_at, channel, now) -> workdays.WorkCalendar:
    """Refuse a start in the past, on a closed day or outside the booking window; returns
    the site's calendar for the next steps."""
    if mode not in reason.modes():
        raise ValidationError({"mode": "Ce mode de rendez-vous n'est pas proposé pour ce motif."})
    if not reason.sites.filter(pk=site.pk).exists():
        raise ValidationError({"site": "Ce motif n'est pas proposé sur ce site."})
    if starts_at is None or timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Choisissez un horaire."})
    if starts_at < now:
        raise ValidationError({"starts_at": "Ce créneau est déjà passé : choisissez-en un autre."})
    cal = site.calendar()
    local_day = starts_at.astimezone(cal.tz).date()
    if local_day in _closed_days(cal, local_day, local_day):
        raise ValidationError(
            {"starts_at": "Le site est fermé ce jour-là (jour férié ou fermeture exceptionnelle)."}
        )
    earliest, latest = _window(reason, channel, now)
    if starts_at < earliest:
        raise ValidationError(
            {
                "starts_at": f"Ce créneau est trop proche : ce motif se réserve au moins "
                f"{reason.min_notice_hours} heure(s) à l'avance."
            }
        )
    if starts_at > latest:
        days = (latest - now).days
        raise ValidationError(
            {
                "starts_at": "Ce créneau est trop lointain : réservez au plus "
                f"{days} jours à l'avance."
            }
        )
    return cal


def _free_reference() -> str:
    """A reference no appointment has (so an insert fails only on a taken cell)."""
    while Appointment.objects.filter(reference=(reference := new_reference())).exists():
        pass
    return reference


def _occupy(appointment: Appointment) -> None:
    """Take the advisor's cells; IntegrityError when one is already taken."""
    cells = []
    at = appointment.starts_at
    while at < appointment.ends_at:
        cells.append(
            Occupancy(advisor_id=appointment.advisor_id, cell_start=at, appointment=appointment)
        )
        at += CELL
    Occupancy.objects.bulk_create(cells)


def _free_advisors(reason, site, mode, starts_at, channel, now, cal, advisor=None, exclude=None):
    """Advisors free at *starts_at* (best first), or a ValidationError when nobody
    receives then for this reason, or SlotTaken when they are all booked."""
    local_day = timezone.localtime(starts_at, cal.tz).date()
    kwargs = dict(
        mode=mode,
        channel=channel,
        start=local_day,
        days=1,
        now=now,
        advisor=advisor,
        calendar=cal,
    )
    for slot in available_slots(reason, site, exclude=exclude, **kwargs):
        if slot.starts_at == starts_at:
            return list(slot.advisor_ids)
    if not any(
        s.starts_at == starts_at for s in available_slots(reason, site, ignore_busy=True, **kwargs)
    ):
        raise ValidationError(
            {
                "starts_at": "Aucun conseiller ne reçoit à cet horaire pour ce motif : "
                "choisissez un créneau proposé."
            }
        )
    raise SlotTaken(_alternatives(reason, site, mode, channel, now, starts_at))


def _alternatives(reason, site, mode, channel, now, around) -> list[Slot]:
    slots = available_slots(reason, site, mode=mode, channel=channel, now=now, limit=5)
    later = [s for s in slots if s.starts_at >= around]
    return later[:3] or slots[:3]


_quiet = ContextVar("appointments_quiet", default=False)


@contextmanager
def without_messages():
    """Book, move or cancel without any message to the people (the demo's fictitious
    people, bulk corrections): no confirmation, change, cancellation nor waitlist alert."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _notify(appointment: Appointment, kind: str, *, freed: bool = False) -> None:
    if _quiet.get():
        return

    def send():
        from . import notifications, waitlist

        notifications.queue(appointment, kind)
        if freed:
            waitlist.slot_freed(appointment)

    transaction.on_commit(send)


def book(
    actor,
    reason: Reason,
    *,
    site: Site,
    mode: str,
    starts_at: datetime,
    channel: str,
    full_name: str,
    phone: str = "",
    email: str = "",
    consent: bool = False,
    relay: Site | None = None,
    referral_note: str = "",
    note: str = "",
    advisor=None,
    now: datetime | None = None,
) -> Appointment:
    """Book an appointment (see the module docstring); French ValidationError per field."""
    now = now or timezone.now()
    if not reason.is_active or not reason.bookable_by(channel):
        raise ValidationError("Ce motif ne peut pas être réservé de cette façon.")
    person = _check_person(
        channel,
        full_name=full_name,
        phone=phone,
        email=email,
        consent=consent,
        relay=relay,
        referral_note=referral_note,
        reason=reason,
    )
    cal = _check_time(reason, site, mode, starts_at, channel, now)
    candidates = _free_advisors(reason, site, mode, starts_at, channel, now, cal, advisor=advisor)
    for advisor_id in candidates:
        try:
            with transaction.atomic():
                appointment = Appointment(
                    reference=_free_reference(),
                    organisation_id=reason.organisation_id,
                    site=site,
                    reason=reason,
                    advisor_id=advisor_id,
                    mode=mode,
                    starts_at=starts_at,
                    ends_at=starts_at + reason.duration,
                    channel=channel,
                    booked_by=actor if getattr(actor, "pk", None) else None,
                    relay=relay if channel == Channel.PARTNER else None,
                    referral_note=(referral_note or "").strip(),
                    consent_at=now if consent else None,
                    note=(note or "").strip(),
                    **person,
                )
                if mode == Mode.VIDEO:
                    appointment.video_link = video_link(appointment)
                appointment.save()
                _occupy(appointment)
                record_event(
                    actor,
                    "rendez_vous.réservé",
                    appointment,
                    changes={"canal": channel, "début": starts_at, "mode": mode},
                )
        except IntegrityError:
            continue  # this advisor was taken meanwhile: try the next one
        _notify(appointment, Notification.Kind.CONFIRMATION)
        return appointment
    raise SlotTaken(_alternatives(reason, site, mode, channel, now, starts_at))


def move(
    actor,
    appointment: Appointment,
    *,
    starts_at: datetime,
    mode: str | None = None,
    site: Site | None = None,
    now: datetime | None = None,
    by_user: bool = False,
) -> Appointment:
    """Move a planned appointment to another free start (same reason); a new version."""
    now = now or timezone.now()
    if appointment.status != Status.PLANNED:
        raise ValidationError("Seul un rendez-vous prévu peut être déplacé.")
    if by_user and appointment.starts_at <= now:
        raise ValidationError("Ce rendez-vous a déjà commencé : il ne peut plus être déplacé.")
    site = site or appointment.site
    mode = mode or appointment.mode
    channel = Channel.PUBLIC if by_user else Channel.AGENT
    reason = appointment.reason
    cal = _check_time(reason, site, mode, starts_at, channel, now)
    if by_user and not reason.bookable_by(Channel.PUBLIC):
        channel = Channel.AGENT  # a reason booked for the user by an agent or a relay
    before = {
        "début": appointment.starts_at.isoformat(),
        "mode": appointment.mode,
        "site": appointment.site_id,
    }
    # the old slot as it was, for the waitlist once the move is committed
    freed = Appointment(
        **{f.attname: getattr(appointment, f.attname) for f in Appointment._meta.concrete_fields}
    )
    candidates = _free_advisors(
        reason, site, mode, starts_at, channel, now, cal, exclude=appointment
    )
    if appointment.advisor_id in candidates:  # keep the same advisor when possible
        candidates.remove(appointment.advisor_id)
        candidates.insert(0, appointment.advisor_id)
    for advisor_id in candidates:
        try:
            with transaction.atomic():
                locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
                if locked.status != Status.PLANNED:
                    raise ValidationError("Seul un rendez-vous prévu peut être déplacé.")
                locked.occupancy.all().delete()
                locked.advisor_id = advisor_id
                locked.site = site
                if mode == Mode.VIDEO and not locked.video_link:
                    locked.video_link = video_link(locked)
                locked.mode = mode
                locked.starts_at = starts_at
                locked.ends_at = starts_at + reason.duration
                locked.version += 1
                locked.save()
                _occupy(locked)
                record_event(
                    actor,
                    "rendez_vous.déplacé",
                    locked,
                    changes={"avant": before, "début": starts_at, "par_l_usager": by_user},
                )
        except IntegrityError:
            continue
        _notify(locked, Notification.Kind.CHANGE)
        if not _quiet.get():
            transaction.on_commit(partial(_waitlist_freed, freed))
        appointment.refresh_from_db()
        return locked
    raise SlotTaken(_alternatives(reason, site, mode, channel, now, starts_at))


def _waitlist_freed(appointment):
    from . import waitlist

    waitlist.slot_freed(appointment)


def cancel(actor, appointment: Appointment, *, reason_text: str = "", by_user: bool = False):
    """Cancel a planned appointment; its time is free again at once."""
    reason_text = (reason_text or "").strip()
    if not by_user and not reason_text:
        raise ValidationError({"reason_text": "Indiquez le motif de l'annulation."})
    if len(reason_text) > 300:
        raise ValidationError({"reason_text": "Le motif ne doit pas dépasser 300 caractères."})
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status != Status.PLANNED:
            raise ValidationError("Ce rendez-vous n'est plus prévu : il ne peut pas être annulé.")
        if by_user and locked.starts_at <= timezone.now():
            raise ValidationError("Ce rendez-vous a déjà commencé : il ne peut plus être annulé.")
        locked.status = Status.CANCELLED
        locked.cancel_reason = reason_text or "Annulé par l'usager"
        locked.save(update_fields=["status", "cancel_reason", "updated_at"])
        locked.occupancy.all().delete()
        record_event(
            actor,
            "rendez_vous.annulé",
            locked,
            changes={"motif": locked.cancel_reason, "par_l_usager": by_user},
        )
        _notify(locked, Notification.Kind.CANCELLATION, freed=True)
    appointment.refresh_from_db()
    return locked


def set_status(actor, appointment: Appointment, status: str, *, now: datetime | None = None):
    """Record what became of an appointment: honoured, no-show, excused (or back to planned)."""
    now = now or timezone.now()
    if status not in (Status.PLANNED, Status.HONOURED, Status.NO_SHOW, Status.EXCUSED):
        raise ValidationError({"status": "Statut inconnu."})
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == Status.CANCELLED:
            raise ValidationError("Ce rendez-vous est annulé : réservez-en un nouveau.")
        if status in (Status.HONOURED, Status.NO_SHOW) and locked.starts_at > now:
            raise ValidationError("La venue se note à partir de l'heure du rendez-vous, pas avant.")
        previous = locked.status
        if previous == status:
            return locked
        was_holding, holding = previous in HOLDING_STATUSES, status in HOLDING_STATUSES
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        if was_holding and not holding:
            locked.occupancy.all().delete()
        elif holding and not was_holding:
            try:
                with transaction.atomic():
                    _occupy(locked)
            except IntegrityError as exc:
                raise ValidationError(
                    "Ce créneau a été réservé entre-temps : le rendez-vous ne peut pas "
                    "redevenir prévu."
                ) from exc
        record_event(actor, "rendez_vous.statut", locked, changes={"statut": [previous, status]})
    if status == Status.EXCUSED and previous == Status.PLANNED and not _quiet.get():
        transaction.on_commit(lambda: _waitlist_freed(locked))
    appointment.refresh_from_db()
    return locked


def check_in(actor, appointment: Appointment, *, now: datetime | None = None):
    """The person has arrived: put them in the site's reception queue (a ticket)."""
    from voix.reception import services as reception

    now = now or timezone.now()
    if appointment.status != Status.PLANNED:
        raise ValidationError("Seul un rendez-vous prévu peut être enregistré à l'arrivée.")
    if appointment.mode != Mode.ON_SITE:
        raise ValidationError("Ce rendez-vous n'a pas lieu sur place.")
    if timezone.localdate(appointment.starts_at) != timezone.localdate(now):
        raise ValidationError("Ce rendez-vous n'est pas aujourd'hui.")
    with transaction.atomic():
        ticket = reception.check_in_appointment(
            appointment.site,
            reference=appointment.reference,
            reason=appointment.reason.queue_label,
            scheduled_at=appointment.starts_at,
            now=now,
        )
        if appointment.checked_in_at is None:
            appointment.checked_in_at = now
            appointment.save(update_fields=["checked_in_at", "updated_at"])
            record_event(
                actor, "rendez_vous.arrivée", appointment, changes={"ticket": ticket.number}
            )
    return ticket


# ------------------------------------------------------------------------- configuration


def advisors(organisation: Organisation, site: Site | None = None):
    """The people with opening slots in *organisation* (at *site* when given)."""
    slots = OpeningSlot.objects.filter(site__organisation=organisation)
    if site is not None:
        slots = slots.filter(site=site)
    return get_user_model().objects.filter(pk__in=slots.values("advisor_id")).order_by("full_name")


def possible_advisors(organisation: Organisation):
    """People who may hold appointments: agents, managers and administrators."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organisation=organisation,
            memberships__role__in=ADVISOR_ROLES,
        )
        .distinct()
        .order_by("full_name")
    )


def _changes(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


@transaction.atomic
def save_reason(
    actor, organisation: Organisation, reason: Reason | None = None, *, sites=(), **fields
):
    reason = reason or Reason(organisation=organisation)
    for name, value in fields.items():
        setattr(reason, name, value)
    errors = {}
    if reason.duration_minutes is None or not (
        5 <= reason.duration_minutes <= 240 and reason.duration_minutes % 5 == 0
    ):
        errors["duration_minutes"] = "La durée est un multiple de 5 minutes, de 5 à 240."
    if not reason.modes():
        errors["on_site"] = "Choisissez au moins un mode : sur place, téléphone ou visio."
    sites = list(sites)
    foreign = [s for s in sites if s.organisation_id != organisation.pk or s.is_relay]
    if foreign:
        errors["sites"] = "Choisissez des sites de l'organisme (pas des relais partenaires)."
    if errors:
        raise ValidationError(errors)
    reason.full_clean(exclude=["organisation"])
    reason.save()
    reason.sites.set(sites)
    record_event(
        actor,
        "rendez_vous.motif_enregistré",
        reason,
        changes={**fields, "sites": [s.pk for s in sites]},
    )
    return reason


@transaction.atomic
def save_opening_slot(
    actor, advisor, site: Site, slot: OpeningSlot | None = None, *, reasons=(), **fields
):
    slot = slot or OpeningSlot()
    slot.advisor, slot.site = advisor, site
    for name, value in fields.items():
        setattr(slot, name, value)
    errors = {}
    if not possible_advisors(site.organisation).filter(pk=advisor.pk).exists():
        errors["advisor"] = (
            "Cette personne n'est pas agent, manager ou administrateur de l'organisme."
        )
    if slot.starts and slot.ends:
        if slot.starts >= slot.ends:
            errors["ends"] = "L'heure de fin doit suivre l'heure de début."
        if slot.starts.minute % CELL_MINUTES or slot.ends.minute % CELL_MINUTES:
            errors["starts"] = "Les heures se règlent par pas de 5 minutes (ex. 09:00, 09:05)."
    if slot.valid_until and slot.valid_from and slot.valid_until < slot.valid_from:
        errors["valid_until"] = "La date de fin de validité doit suivre la date de début."
    if not slot.modes():
        errors["on_site"] = "Choisissez au moins un mode : sur place, téléphone ou visio."
    reasons = list(reasons)
    if any(r.organisation_id != site.organisation_id for r in reasons):
        errors["reasons"] = "Ces motifs n'appartiennent pas à l'organisme."
    if not errors:
        overlapping = (
            OpeningSlot.objects.filter(
                advisor=advisor, weekday=slot.weekday, starts__lt=slot.ends, ends__gt=slot.starts
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=slot.valid_from))
            .exclude(pk=slot.pk)
        )
        if slot.valid_until:
            overlapping = overlapping.filter(valid_from__lte=slot.valid_until)
        clash = overlapping.first()
        if clash:
            errors["starts"] = (
                f"Cette plage chevauche une autre plage du conseiller ({clash}, {clash.site})."
            )
    if errors:
        raise ValidationError(errors)
    slot.full_clean()
    slot.save()
    slot.reasons.set(reasons)
    record_event(
        actor,
        "rendez_vous.plage_enregistrée",
        slot,
        organisation=site.organisation,
        changes={
            **fields,
            "conseiller": advisor.pk,
            "site": site.pk,
            "motifs": [r.pk for r in reasons],
        },
    )
    return slot


def delete_opening_slot(actor, slot: OpeningSlot) -> None:
    """Remove a slot; booked appointments stay (the agenda still shows them)."""
    record_event(actor, "rendez_vous.plage_supprimée", slot, organisation=slot.site.organisation)
    slot.delete()


def add_slot_exception(actor, slot: OpeningSlot, *, day: date, label: str = "") -> SlotException:
    if day.weekday() != slot.weekday:
        raise ValidationError(
            {
                "day": f"Cette plage a lieu le {slot.get_weekday_display()} : choisissez "
                f"un {slot.get_weekday_display()}."
            }
        )
    exception, _ = SlotException.objects.get_or_create(
        slot=slot, day=day, defaults={"label": label.strip()}
    )
    record_event(
        actor,
        "rendez_vous.exception_ajoutée",
        slot,
        organisation=slot.site.organisation,
        changes={"jour": day},
    )
    return exception


def add_absence(actor, advisor, organisation, *, starts_at, ends_at, label: str = "") -> Absence:
    if starts_at >= ends_at:
        raise ValidationError({"ends_at": "La fin de l'absence doit suivre son début."})
    absence = Absence.objects.create(
        advisor=advisor,
        organisation=organisation,
        starts_at=starts_at,
        ends_at=ends_at,
        label=label.strip(),
    )
    record_event(
        actor,
        "rendez_vous.absence_ajoutée",
        absence,
        organisation=organisation,
        changes={"conseiller": advisor.pk, "du": starts_at, "au": ends_at},
    )
    return absence


def delete_absence(actor, absence: Absence) -> None:
    record_event(actor, "rendez_vous.absence_supprimée", absence, organisation=absence.organisation)
    absence.delete()


def save_settings(actor, organisation: Organisation, **fields) -> BookingSettings:
    booking_settings = ensure_settings(organisation)
    for name, value in fields.items():
        setattr(booking_settings, name, value)
    template = booking_settings.video_link_template
    if template and (not template.startswith("https://") or "{jeton}" not in template):
        raise ValidationError(
            {"video_link_template": "Le modèle commence par https:// et contient {jeton}."}
        )
    booking_settings.full_clean()
    booking_settings.save()
    record_event(actor, "rendez_vous.réglages_modifiés", organisation, changes=fields)
    return booking_settings


def relay_of(user) -> Site | None:
    """The relay site of a partner (their « partenaire » membership), or None."""
    membership = (
        Membership.objects.filter(user=user, role=Role.PARTENAIRE).select_related("site").first()
    )
    return membership.site if membership else None
