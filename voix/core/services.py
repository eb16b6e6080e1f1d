"""Every write of the core app: one function per action, in a transaction, audited."""

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from .models import (
    AuditEvent,
    Closure,
    Membership,
    OpeningHours,
    Organisation,
    Role,
    Site,
    User,
    Weekday,
)
from .scoping import forget_scope


def _jsonable(value):
    if isinstance(value, (date, time)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def record_event(actor, action: str, obj=None, *, organisation=None, changes=None) -> AuditEvent:
    """Append one line to the audit log (who did what to which object, now)."""
    if organisation is None and obj is not None:
        organisation = obj if isinstance(obj, Organisation) else getattr(obj, "organisation", None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=(
            f"{actor.full_name} <{actor.email}>" if getattr(actor, "pk", None) else "système"
        ),
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:250] if obj is not None else "",
        organisation=organisation,
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
    )


def _diff(before: dict, obj) -> dict:
    after = model_to_dict(obj)
    return {
        key: [_jsonable(before.get(key)), _jsonable(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def _save_validated(obj):
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def create_organisation(actor, **fields) -> Organisation:
    """Create an organisation (a network or a body)."""
    organisation = _save_validated(Organisation(**fields))
    record_event(actor, "organisation.créée", organisation, changes=model_to_dict(organisation))
    return organisation


@transaction.atomic
def update_organisation(actor, organisation: Organisation, **fields) -> Organisation:
    """Change an organisation's fields; the audit log keeps before and after."""
    before = model_to_dict(organisation)
    for key, value in fields.items():
        setattr(organisation, key, value)
    if organisation.parent_id and organisation.parent_id in organisation.descendant_ids():
        raise ValidationError({"parent": "Un organisme ne peut pas être placé sous lui-même."})
    _save_validated(organisation)
    record_event(actor, "organisation.modifiée", organisation, changes=_diff(before, organisation))
    return organisation


@transaction.atomic
def create_site(actor, organisation: Organisation, **fields) -> Site:
    """Create a reception site or a partner relay of *organisation*."""
    site = _save_validated(Site(organisation=organisation, **fields))
    record_event(actor, "site.créé", site, changes=model_to_dict(site))
    return site


@transaction.atomic
def update_site(actor, site: Site, **fields) -> Site:
    """Change a site's public information."""
    before = model_to_dict(site)
    for key, value in fields.items():
        setattr(site, key, value)
    _save_validated(site)
    record_event(actor, "site.modifié", site, changes=_diff(before, site))
    return site


def validate_opening_hours(intervals) -> list[tuple[int, time, time]]:
    """Check (weekday, opens, closes) intervals; French messages name the day and times."""
    errors, cleaned = [], []
    for weekday, opens, closes in intervals:
        day = Weekday(weekday).label
        if closes <= opens:
            errors.append(
                f"Le {day}, la fermeture ({closes:%H:%M}) doit venir après l'ouverture "
                f"({opens:%H:%M})."
            )
            continue
        cleaned.append((weekday, opens, closes))
    cleaned.sort()
    for (day_a, opens_a, closes_a), (day_b, opens_b, closes_b) in zip(
        cleaned, cleaned[1:], strict=False
    ):
        if day_a == day_b and opens_b < closes_a:
            errors.append(
                f"Le {Weekday(day_a).label}, les plages {opens_a:%H:%M}–{closes_a:%H:%M} et "
                f"{opens_b:%H:%M}–{closes_b:%H:%M} se chevauchent."
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def set_opening_hours(actor, site: Site, intervals) -> list[OpeningHours]:
    """Replace a site's weekly opening hours with *intervals* (weekday, opens, closes)."""
    cleaned = validate_opening_hours(intervals)
    before = [str(slot) for slot in site.opening_hours.all()]
    site.opening_hours.all().delete()
    created = OpeningHours.objects.bulk_create(
        OpeningHours(site=site, weekday=day, opens=opens, closes=closes)
        for day, opens, closes in cleaned
    )
    record_event(
        actor,
        "site.horaires_modifiés",
        site,
        changes={"avant": before, "après": [str(slot) for slot in created]},
    )
    return created


@transaction.atomic
def add_closure(actor, organisation: Organisation, *, start_date, end_date, label, site=None):
    """Declare an exceptional closure of the organisation, or of one of its sites."""
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError({"site": "Ce site n'appartient pas à cet organisme."})
    closure = Closure(
        organisation=organisation, site=site, start_date=start_date, end_date=end_date, label=label
    )
    if end_date and start_date and end_date < start_date:
        raise ValidationError({"end_date": "La date de fin doit suivre la date de début."})
    _save_validated(closure)
    record_event(actor, "fermeture.ajoutée", closure, changes=model_to_dict(closure))
    return closure


@transaction.atomic
def remove_closure(actor, closure: Closure) -> None:
    """Cancel an exceptional closure."""
    record_event(actor, "fermeture.supprimée", closure, changes=model_to_dict(closure))
    closure.delete()


@transaction.atomic
def create_person(
    actor, *, email: str, full_name: str, password: str | None = None, organisation=None
) -> User:
    """Create an account (without a usable password unless one is given)."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "Une personne utilise déjà cette adresse électronique."})
    user = User(email=email, full_name=full_name)
    user.set_password(password) if password else user.set_unusable_password()
    _save_validated(user)
    record_event(
        actor,
        "personne.créée",
        user,
        organisation=organisation,
        changes={"email": email, "full_name": full_name},
    )
    return user


@transaction.atomic
def update_person(actor, user: User, *, organisation=None, **fields) -> User:
    """Change a person's name, e-mail or active state (accounts are deactivated, not deleted)."""
    before = {"email": user.email, "full_name": user.full_name, "is_active": user.is_active}
    for key, value in fields.items():
        setattr(user, key, value.lower() if key == "email" else value)
    if User.objects.exclude(pk=user.pk).filter(email__iexact=user.email).exists():
        raise ValidationError({"email": "Une personne utilise déjà cette adresse électronique."})
    _save_validated(user)
    after = {"email": user.email, "full_name": user.full_name, "is_active": user.is_active}
    record_event(
        actor,
        "personne.modifiée",
        user,
        organisation=organisation,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return user


@transaction.atomic
def add_membership(actor, user: User, organisation: Organisation, role: str, site=None):
    """Give *user* a role in *organisation* (a partner role needs a relay site)."""
    membership = Membership(user=user, organisation=organisation, site=site, role=role)
    membership.clean()
    if Membership.objects.filter(
        user=user, organisation=organisation, site=site, role=role
    ).exists():
        raise ValidationError("Cette personne a déjà ce rôle à cet endroit.")
    membership.save()
    forget_scope(user)
    record_event(
        actor,
        "rattachement.ajouté",
        membership,
        changes={"personne": user.email, "rôle": role, "site": site.pk if site else None},
    )
    return membership


@transaction.atomic
def remove_membership(actor, membership: Membership) -> None:
    """Withdraw a role."""
    if membership.role == Role.ADMIN and not (
        Membership.objects.filter(organisation=membership.organisation, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            "C'est le dernier administrateur de cet organisme : nommez-en un autre d'abord."
        )
    record_event(
        actor,
        "rattachement.retiré",
        membership,
        changes={"personne": membership.user.email, "rôle": membership.role},
    )
    forget_scope(membership.user)
    membership.delete()


def send_invitation(actor, user: User, *, organisation=None) -> None:
    """Queue the invitation e-mail (sent by the task worker once the transaction commits)."""
    from .tasks import send_invitation_email

    transaction.on_commit(lambda: send_invitation_email.enqueue(user.pk))
    record_event(
        actor, "personne.invitée", user, organisation=organisation, changes={"email": user.email}
    )


@transaction.atomic
def invite_person(actor, *, email, full_name, organisation, role, site=None) -> User:
    """Create an account with its first role and send it an invitation to set a password."""
    user = create_person(actor, email=email, full_name=full_name, organisation=organisation)
    add_membership(actor, user, organisation, role, site=site)
    send_invitation(actor, user, organisation=organisation)
    return user
