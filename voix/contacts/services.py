"""Every write of the contact log: one function per action, in a transaction, audited.

After a write, the daily roll-ups of the days it touches are rebuilt once the transaction
commits (rollups.refresh), so indicators never scan raw contacts.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from voix.core.models import Role, Site
from voix.core.scoping import has_role
from voix.core.services import record_event

from . import clocks, rollups
from .models import (
    OPEN_STATUSES,
    Call,
    Channel,
    ClockPolicy,
    Contact,
    DelayUnit,
    Outcome,
    Reason,
    Status,
    Team,
)

TIME_LABELS = {
    "received_at": "date de réception",
    "acknowledged_at": "date d'accusé de réception",
    "first_answer_at": "date de première réponse",
    "closed_at": "date de clôture",
}
TIME_FIELDS = tuple(TIME_LABELS)
#: Roles that may be given contacts to handle.
HANDLER_ROLES = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.MEDIATEUR, Role.ADMIN)
EDITABLE_FIELDS = {
    "channel",
    "reason",
    "site",
    "team",
    "assignee",
    "requester_ref",
    "subject",
    "status",
    "outcome",
    *TIME_FIELDS,
}


def _fmt(value) -> str:
    return f"{timezone.localtime(value):%d/%m/%Y à %H:%M}"


def _aware(value, field):
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as error:
            raise ValidationError(
                {field: f"La {TIME_LABELS[field]} « {value} » n'est pas une date lisible."}
            ) from error
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def validate_contact_times(received_at, acknowledged_at, first_answer_at, closed_at, now=None):
    """Refuse dates in the future and steps before the receipt (French message per field).

    Raises ValidationError({field: message}); returns None when the dates hold together.
    """
    now = now or timezone.now()
    values = {
        "received_at": received_at,
        "acknowledged_at": acknowledged_at,
        "first_answer_at": first_answer_at,
        "closed_at": closed_at,
    }
    errors = {}
    if received_at is None:
        errors["received_at"] = "La date de réception est obligatoire."
    for field, value in values.items():
        if value is not None and value > now:
            errors[field] = (
                f"La {TIME_LABELS[field]} ({_fmt(value)}) est dans le futur : "
                "indiquez une date passée."
            )
    if received_at is not None:
        for field in ("acknowledged_at", "first_answer_at", "closed_at"):
            value = values[field]
            if value is not None and field not in errors and value < received_at:
                errors[field] = (
                    f"La {TIME_LABELS[field]} ({_fmt(value)}) précède la date de réception "
                    f"({_fmt(received_at)})."
                )
    if (
        closed_at is not None
        and first_answer_at is not None
        and closed_at < first_answer_at
        and "closed_at" not in errors
    ):
        errors["closed_at"] = (
            f"La date de clôture ({_fmt(closed_at)}) précède la date de première réponse "
            f"({_fmt(first_answer_at)})."
        )
    if errors:
        raise ValidationError(errors)


# ----- helpers -------------------------------------------------------------------------------


def _refresh_on_commit(organisation, before, contact) -> None:
    """After commit, refresh the roll-up days this write changed (*before*: the contact's
    rollups.footprint before the write, None for a new one); the stock from the earliest
    moved receipt/answer/closure day to today."""
    after = rollups.footprint(contact)
    days, since = rollups.changed_days(before, after)
    if days or since:
        receipt = after["stock"][2] if after["stock"] else None
        transaction.on_commit(
            lambda: rollups.refresh(
                organisation, rollups.days_to_refresh(days, since, receipt=receipt)
            )
        )


def _resolve_reason(organisation, reason):
    if reason in (None, ""):
        return None
    if isinstance(reason, Reason):
        if reason.organisation_id != organisation.pk:
            raise ValidationError({"reason": "Ce motif n'appartient pas à cet organisme."})
        return reason
    lookup = {"pk": reason} if isinstance(reason, int) else {"code": str(reason).strip()}
    found = Reason.objects.filter(organisation=organisation, **lookup).first()
    if found is None:
        raise ValidationError(
            {"reason": f"Motif inconnu : « {reason} ». Choisissez un motif de la liste."}
        )
    return found


def _resolve_channel(channel):
    if channel not in Channel.values:
        raise ValidationError(
            {
                "channel": f"Canal inconnu : « {channel} ». Canaux possibles : "
                + ", ".join(Channel.values)
                + "."
            }
        )
    return channel


def _resolve_in(model, organisation, value, field, message):
    if value in (None, ""):
        return None
    obj = value if isinstance(value, model) else model.objects.filter(pk=value).first()
    if obj is None or obj.organisation_id != organisation.pk:
        raise ValidationError({field: message})
    return obj


def _check_assignee(organisation, user):
    if user is None:
        return None
    if not has_role(user, *HANDLER_ROLES, organisation=organisation) or not user.is_active:
        raise ValidationError(
            {"assignee": f"{user} n'est pas un agent de {organisation} : choisissez-en un autre."}
        )
    return user


def _derived_status(contact) -> str:
    if contact.closed_at:
        return Status.CLOSED
    if contact.paused_at:
        return Status.WAITING
    if contact.first_answer_at:
        return Status.ANSWERED
    if contact.status in (Status.IN_PROGRESS,):
        return contact.status
    if contact.acknowledged_at:
        return Status.ACKNOWLEDGED
    return Status.NEW


def _apply(contact, organisation, fields) -> None:
    """Check and set *fields* on *contact* (nothing is saved)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    if "channel" in fields:
        contact.channel = _resolve_channel(fields["channel"])
    if "reason" in fields:
        contact.reason = _resolve_reason(organisation, fields["reason"])
    if "site" in fields:
        contact.site = _resolve_in(
            Site, organisation, fields["site"], "site", "Ce site n'appartient pas à cet organisme."
        )
    if "team" in fields:
        contact.team = _resolve_in(
            Team,
            organisation,
            fields["team"],
            "team",
            "Cette équipe n'appartient pas à cet organisme.",
        )
    if "assignee" in fields:
        contact.assignee = _check_assignee(organisation, fields["assignee"])
    for key in ("requester_ref", "subject"):
        if key in fields:
            setattr(contact, key, (fields[key] or "").strip())
    if "outcome" in fields:
        outcome = fields["outcome"] or ""
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": f"Issue inconnue : « {outcome} »."})
        contact.outcome = outcome
    for key in TIME_FIELDS:
        if key in fields:
            setattr(contact, key, _aware(fields[key], key))
    if fields.get("status"):
        if fields["status"] not in Status.values:
            raise ValidationError({"status": f"État inconnu : « {fields['status']} »."})
        contact.status = fields["status"]
    else:
        contact.status = _derived_status(contact)
    if contact.status == Status.CLOSED and contact.closed_at is None:
        raise ValidationError({"closed_at": "Un contact clos a une date de clôture."})


def _validate(contact, now) -> None:
    validate_contact_times(
        contact.received_at,
        contact.acknowledged_at,
        contact.first_answer_at,
        contact.closed_at,
        now,
    )
    contact.full_clean(exclude=["organisation", "reason", "site", "team", "assignee"])


def _save_with_deadlines(contact, *, reset_deadlines=False) -> None:
    if reset_deadlines:
        contact.ack_due_at = contact.answer_due_at = None
    clocks.compute_deadlines(contact)
    contact.save()


# ----- the contact log -----------------------------------------------------------------------


@transaction.atomic
def log_contact(actor, organisation, *, now=None, source="", external_id="", **fields) -> Contact:
    """Record a contact (any channel) and start its clocks."""
    now = now or timezone.now()
    fields.setdefault("received_at", now)
    if "channel" not in fields:
        raise ValidationError({"channel": "Le canal est obligatoire."})
    contact = Contact(organisation=organisation, source=source or "", external_id=external_id or "")
    _apply(contact, organisation, fields)
    _validate(contact, now)
    _save_with_deadlines(contact)
    record_event(
        actor,
        "contact.créé",
        contact,
        changes={
            "canal": contact.channel,
            "motif": contact.reason_id,
            "site": contact.site_id,
            "reçu_le": contact.received_at.isoformat(),
            "source": contact.source,
            "identifiant_externe": contact.external_id,
        },
    )
    _refresh_on_commit(organisation, None, contact)
    return contact


def _update(actor, contact, fields, now) -> bool:
    """Apply *fields* to an existing contact; returns whether anything changed."""
    tracked = ["channel", "reason_id", "site_id", "team_id", "assignee_id", "requester_ref"]
    tracked += ["subject", "status", "outcome", *TIME_FIELDS]
    before = {key: getattr(contact, key) for key in tracked}
    footprint_before = rollups.footprint(contact)
    _apply(contact, contact.organisation, fields)
    after = {key: getattr(contact, key) for key in tracked}
    changes = {k: [str(before[k]), str(after[k])] for k in tracked if before[k] != after[k]}
    if not changes:
        return False
    _validate(contact, now)
    reset = any(k in changes for k in ("channel", "reason_id", "site_id", "received_at"))
    _save_with_deadlines(contact, reset_deadlines=reset)
    record_event(actor, "contact.modifié", contact, changes=changes)
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return True


def upsert_contact(actor, organisation, *, source, external_id, now=None, **fields):
    """Create or update the contact with this (organisation, source, external id).

    Idempotent (the same call twice leaves one contact, unchanged the second time) and
    safe under concurrency: when two identical calls race, the loser's INSERT hits the
    unique constraint and it re-reads and updates the winner's row. Returns
    (contact, created).
    """
    now = now or timezone.now()
    external_id = (str(external_id) if external_id is not None else "").strip()
    if not external_id:
        raise ValidationError({"external_id": "L'identifiant externe est obligatoire."})
    source = (source or "").strip()
    lookup = dict(organisation=organisation, source=source, external_id=external_id)
    with transaction.atomic():
        existing = Contact.objects.select_for_update().filter(**lookup).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return (
                        log_contact(
                            actor,
                            organisation,
                            now=now,
                            source=source,
                            external_id=external_id,
                            **fields,
                        ),
                        True,
                    )
            except IntegrityError:
                existing = Contact.objects.select_for_update().filter(**lookup).first()
                if existing is None:
                    raise
        _update(actor, existing, fields, now)
        return existing, False


def _open_or_refuse(contact, action: str):
    if contact.status not in OPEN_STATUSES:
        raise ValidationError(
            f"Ce contact est {contact.get_status_display().lower()} : impossible de {action}."
        )


def _step_time(contact, at, now, field):
    at = _aware(at, field) or now
    if at > now:
        raise ValidationError(
            {
                field: f"La {TIME_LABELS[field]} ({_fmt(at)}) est dans le futur : "
                "indiquez une date passée."
            }
        )
    if at < contact.received_at:
        raise ValidationError(
            {
                field: f"La {TIME_LABELS[field]} ({_fmt(at)}) précède la date de réception "
                f"({_fmt(contact.received_at)})."
            }
        )
    return at


def _end_pause(contact, at) -> None:
    if contact.paused_at is None:
        return
    days, seconds = clocks.pause_extension(contact, max(at, contact.paused_at))
    contact.paused_days += days
    contact.paused_seconds += seconds
    contact.paused_at = None


@transaction.atomic
def acknowledge_contact(actor, contact, *, at=None, now=None) -> Contact:
    """Record that the acknowledgement of receipt was sent."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    footprint_before = rollups.footprint(contact)
    _open_or_refuse(contact, "accuser réception")
    if contact.acknowledged_at:
        raise ValidationError("L'accusé de réception est déjà enregistré.")
    contact.acknowledged_at = _step_time(contact, at, now, "acknowledged_at")
    if contact.status == Status.NEW:
        contact.status = Status.ACKNOWLEDGED
    _save_with_deadlines(contact)
    record_event(
        actor, "contact.accusé", contact, changes={"le": contact.acknowledged_at.isoformat()}
    )
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return contact


@transaction.atomic
def answer_contact(actor, contact, *, at=None, now=None) -> Contact:
    """Record the first answer on the merits (it ends the clocks; a pause ends with it)."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    footprint_before = rollups.footprint(contact)
    _open_or_refuse(contact, "répondre")
    if contact.first_answer_at:
        raise ValidationError("La première réponse est déjà enregistrée.")
    contact.first_answer_at = _step_time(contact, at, now, "first_answer_at")
    _end_pause(contact, contact.first_answer_at)
    contact.status = Status.ANSWERED
    _save_with_deadlines(contact)
    record_event(
        actor, "contact.répondu", contact, changes={"le": contact.first_answer_at.isoformat()}
    )
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return contact


@transaction.atomic
def pause_clock(actor, contact, *, now=None, note="") -> Contact:
    """Put the contact on hold for the requester's missing documents (one more return)."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    footprint_before = rollups.footprint(contact)
    _open_or_refuse(contact, "le mettre en attente")
    if contact.paused_at:
        raise ValidationError("Ce contact est déjà en attente de pièces.")
    contact.paused_at = now
    contact.returns += 1
    contact.status = Status.WAITING
    _save_with_deadlines(contact)
    record_event(
        actor,
        "contact.mis_en_attente",
        contact,
        changes={"le": now.isoformat(), "allers_retours": contact.returns, "note": note},
    )
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return contact


@transaction.atomic
def resume_clock(actor, contact, *, now=None) -> Contact:
    """The documents arrived: the clock runs again, deadlines pushed back by the pause."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    footprint_before = rollups.footprint(contact)
    if contact.paused_at is None:
        raise ValidationError("Ce contact n'est pas en attente de pièces.")
    paused_since = contact.paused_at
    days_before = contact.paused_days
    _end_pause(contact, now)
    contact.status = Status.IN_PROGRESS
    _save_with_deadlines(contact, reset_deadlines=False)
    record_event(
        actor,
        "contact.repris",
        contact,
        changes={
            "en_attente_depuis": paused_since.isoformat(),
            "jours_ouvrés_ajoutés": contact.paused_days - days_before,
        },
    )
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return contact


@transaction.atomic
def close_contact(actor, contact, *, outcome, at=None, now=None) -> Contact:
    """Close the contact with its outcome (an answer is recorded with it if none was)."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    footprint_before = rollups.footprint(contact)
    if contact.status == Status.CLOSED:
        raise ValidationError("Ce contact est déjà clos.")
    if not outcome or outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choisissez l'issue du contact."})
    contact.closed_at = _step_time(contact, at, now, "closed_at")
    if contact.first_answer_at and contact.closed_at < contact.first_answer_at:
        raise ValidationError(
            {"closed_at": "La date de clôture précède la date de première réponse."}
        )
    _end_pause(contact, contact.closed_at)
    if contact.first_answer_at is None and outcome != Outcome.ABANDONED:
        contact.first_answer_at = contact.closed_at
    contact.outcome = outcome
    contact.status = Status.CLOSED
    _save_with_deadlines(contact)
    record_event(
        actor,
        "contact.clos",
        contact,
        changes={"le": contact.closed_at.isoformat(), "issue": outcome},
    )
    _refresh_on_commit(contact.organisation, footprint_before, contact)
    return contact


@transaction.atomic
def assign_contacts(actor, contacts, assignee, *, team=None) -> int:
    """Give contacts (of one organisation) to an agent, and optionally a team."""
    contacts = list(Contact.objects.select_for_update().filter(pk__in=[c.pk for c in contacts]))
    if not contacts:
        raise ValidationError("Cochez au moins un contact.")
    organisations = {c.organisation_id for c in contacts}
    if len(organisations) > 1:
        raise ValidationError("Ces contacts appartiennent à plusieurs organismes.")
    organisation = contacts[0].organisation
    if assignee is not None:
        _check_assignee(organisation, assignee)
    if team is not None and team.organisation_id != organisation.pk:
        raise ValidationError({"team": "Cette équipe n'appartient pas à cet organisme."})
    changed = 0
    for contact in contacts:
        if contact.assignee_id == getattr(assignee, "pk", None) and (
            team is None or contact.team_id == team.pk
        ):
            continue
        before = contact.assignee_id
        contact.assignee = assignee
        fields = ["assignee", "updated_at"]
        if team is not None:
            contact.team = team
            fields.append("team")
        contact.save(update_fields=fields)
        record_event(
            actor,
            "contact.assigné",
            contact,
            changes={"avant": before, "après": getattr(assignee, "pk", None)},
        )
        changed += 1
    return changed


# ----- settings: reasons, teams, clock policies ---------------------------------------------


@transaction.atomic
def save_reason(actor, organisation, reason=None, **fields) -> Reason:
    """Create or change a reason of the taxonomy (a theme has no parent)."""
    reason = reason or Reason(organisation=organisation)
    for key, value in fields.items():
        setattr(reason, key, value)
    if reason.parent_id and reason.parent.organisation_id != organisation.pk:
        raise ValidationError({"parent": "Ce thème n'appartient pas à cet organisme."})
    if reason.parent_id and reason.parent.parent_id:
        raise ValidationError({"parent": "Un thème ne peut pas être lui-même un motif."})
    if reason.pk and reason.parent_id == reason.pk:
        raise ValidationError({"parent": "Un motif ne peut pas être son propre thème."})
    reason.full_clean(exclude=["organisation"])
    if Reason.objects.filter(organisation=organisation, code=reason.code).exclude(pk=reason.pk):
        raise ValidationError({"code": f"Le code « {reason.code} » est déjà utilisé."})
    created = reason.pk is None
    reason.save()
    record_event(
        actor,
        "motif.enregistré",
        reason,
        organisation=organisation,
        changes={"code": reason.code, "libellé": reason.label, "créé": created},
    )
    return reason


@transaction.atomic
def save_team(actor, organisation, team=None, *, members=(), **fields) -> Team:
    """Create or change a team and its members (people of the organisation)."""
    team = team or Team(organisation=organisation)
    for key, value in fields.items():
        setattr(team, key, value)
    if team.site_id and team.site.organisation_id != organisation.pk:
        raise ValidationError({"site": "Ce site n'appartient pas à cet organisme."})
    team.full_clean(exclude=["organisation", "members"])
    if Team.objects.filter(organisation=organisation, name=team.name).exclude(pk=team.pk):
        raise ValidationError({"name": f"Une équipe s'appelle déjà « {team.name} »."})
    for person in members:
        _check_assignee(organisation, person)
    team.save()
    team.members.set(members)
    record_event(
        actor,
        "équipe.enregistrée",
        team,
        organisation=organisation,
        changes={"nom": team.name, "membres": [p.pk for p in members]},
    )
    return team


@transaction.atomic
def save_policy(actor, organisation, policy=None, **fields) -> ClockPolicy:
    """Create or change a clock policy (channel, optional reason, delays, warning).

    Running deadlines are not recomputed: a new policy applies to contacts logged or
    changed after it.
    """
    policy = policy or ClockPolicy(organisation=organisation)
    for key, value in fields.items():
        setattr(policy, key, value)
    if policy.reason_id and policy.reason.organisation_id != organisation.pk:
        raise ValidationError({"reason": "Ce motif n'appartient pas à cet organisme."})
    for delay, unit in (("ack_delay", "ack_unit"), ("answer_delay", "answer_unit")):
        if getattr(policy, unit) not in DelayUnit.values:
            raise ValidationError({unit: "Unité inconnue."})
        if getattr(policy, delay) is not None and getattr(policy, delay) > 1000:
            raise ValidationError({delay: "Un délai ne dépasse pas 1000."})
    duplicate = ClockPolicy.objects.filter(
        organisation=organisation, channel=policy.channel, reason=policy.reason
    ).exclude(pk=policy.pk)
    if duplicate.exists():
        raise ValidationError(
            {"channel": "Une règle existe déjà pour ce canal et ce motif : modifiez-la."}
        )
    policy.full_clean(exclude=["organisation", "reason"])
    created = policy.pk is None
    policy.save()
    record_event(
        actor,
        "délai.enregistré",
        policy,
        organisation=organisation,
        changes={
            "canal": policy.channel,
            "motif": policy.reason_id,
            "accusé": [policy.ack_delay, policy.ack_unit],
            "réponse": [policy.answer_delay, policy.answer_unit],
            "alerte_heures": policy.warn_before_hours,
            "créé": created,
        },
    )
    return policy


# ----- telephony call log ----------------------------------------------------------------

UPDATABLE_CALL_FIELDS = ("started_at", "outcome", "wait_seconds", "needs_agent", "line", "site_id")


@transaction.atomic
def save_calls(actor, organisation, source: str, rows: list[dict]) -> list[tuple[Call, str]]:
    """Upsert checked calls by (organisation, source, external id), audited once; the roll-up
    days they touch are rebuilt after commit. Returns (call, "cree" | "modifie" |
    "inchange") in the order given."""
    existing = {
        call.external_id: call
        for call in Call.objects.select_for_update().filter(
            organisation=organisation,
            source=source,
            external_id__in=[r["external_id"] for r in rows],
        )
    }
    days, results, new, changed = set(), [], [], []
    for row in rows:
        call = existing.get(row["external_id"])
        if call is None:
            call = Call(organisation=organisation, source=source, **row)
            new.append(call)
            results.append((call, "cree"))
            days.add(row["started_at"])
            continue
        if all(getattr(call, key) == row[key] for key in UPDATABLE_CALL_FIELDS):
            results.append((call, "inchange"))
            continue
        days.update({call.started_at, row["started_at"]})
        for key in UPDATABLE_CALL_FIELDS:
            setattr(call, key, row[key])
        changed.append(call)
        results.append((call, "modifie"))
    try:
        with transaction.atomic():
            Call.objects.bulk_create(new)
    except IntegrityError as error:
        # A concurrent identical batch got there first: the caller may simply retry.
        raise ValidationError(
            "Ces appels sont en cours d'enregistrement par un autre envoi : réessayez."
        ) from error
    Call.objects.bulk_update(changed, UPDATABLE_CALL_FIELDS)
    if new or changed:
        record_event(
            actor,
            "appels.enregistrés",
            organisation,
            organisation=organisation,
            changes={"source": source, "créés": len(new), "modifiés": len(changed)},
        )
        transaction.on_commit(lambda: rollups.refresh(organisation, days))
    if new and any(call.pk is None for call in new):  # SQLite returns no ids
        ids = dict(
            Call.objects.filter(
                organisation=organisation,
                source=source,
                external_id__in=[c.external_id for c in new],
            ).values_list("external_id", "pk")
        )
        for call in new:
            call.pk = ids[call.external_id]
    return results
