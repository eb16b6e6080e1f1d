"""Contact log pages: the list (search, filters, CSV), logging a contact, a contact's page
with its timeline and actions (acknowledge, answer, hold for documents, resume, close,
assign)."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core.models import AuditEvent, Role, Site
from voix.core.scoping import (
    get_scoped_or_404,
    has_role,
    organisations_with_role,
    scope_for,
    scoped,
    visible_sites,
)
from voix.core.views import form_errors_to_messages, role_required

from .. import services
from ..forms import AssignForm, CloseForm, ContactForm, FilterForm, StepForm
from ..models import OPEN_STATUSES, Contact, Reason, Status

HANDLERS = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.MEDIATEUR, Role.ADMIN)
log_required = role_required(*HANDLERS, Role.PARTENAIRE)


def contacts_for(user):
    """Contacts *user* may see (a partner: those of its relay only)."""
    return scoped(
        Contact.objects.select_related("reason__parent", "site", "assignee", "team"), user
    )


def organisation_for(request, roles=HANDLERS):
    """The organisation the page is about (?organisme=<slug>), or the partner's relay's."""
    organisations = organisations_with_role(request.user, *roles).order_by("name")
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    organisation = organisations.first()
    if organisation is None:
        relay = Site.objects.filter(pk__in=scope_for(request.user).relay_site_ids).first()
        organisation = relay.organisation if relay else None
    return organisation


def nav_flags(user) -> dict:
    """Which links the contacts sub-menu shows."""
    return {
        "can_supervise": has_role(user, Role.MANAGER, Role.ADMIN),
        "can_configure": has_role(user, Role.MANAGER, Role.ADMIN, Role.QUALITE),
    }


def is_partner_only(user, organisation) -> bool:
    return not has_role(user, *HANDLERS, organisation=organisation)


def deadline_state(contact, now):
    """(code, words) for the next deadline: in words, never colour alone."""
    if contact.status == Status.WAITING:
        return "attente", "Délai suspendu (en attente de pièces)"
    if contact.due_at is None:
        return "", "Aucune échéance en cours"
    due = timezone.localtime(contact.due_at)
    today = timezone.localdate(now)
    days = (due.date() - today).days
    if contact.due_at < now:
        late = (today - due.date()).days
        if late <= 0:
            return "depassee", f"En retard depuis {due:%H:%M}"
        return "depassee", f"En retard de {late} jour{'s' if late > 1 else ''}"
    if contact.warn_at and contact.warn_at <= now or days <= 1:
        when = "aujourd'hui" if days == 0 else "demain" if days == 1 else f"le {due:%d/%m}"
        return "proche", f"Échéance proche : {when} à {due:%H:%M}"
    return "a_venir", f"Dans {days} jours (le {due:%d/%m/%Y})"


def annotate(contacts, now):
    rows = []
    for contact in contacts:
        code, words = deadline_state(contact, now)
        rows.append({"contact": contact, "state": code, "state_words": words})
    return rows


# ----- list, search, CSV -------------------------------------------------------------------


def _filtered(request):
    user = request.user
    qs = contacts_for(user)
    sites = visible_sites(user).order_by("name")
    organisation_ids = {s.organisation_id for s in sites}
    reasons = (
        Reason.objects.filter(organisation_id__in=organisation_ids)
        .select_related("parent")
        .order_by("parent__label", "label")
    )
    form = FilterForm(request.GET or None, sites=sites, reasons=reasons)
    now = timezone.now()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            term = data["q"].strip()
            condition = Q(requester_ref__icontains=term) | Q(subject__icontains=term)
            condition |= Q(external_id=term)
            if term.removeprefix("n°").strip().isdigit():
                condition |= Q(pk=int(term.removeprefix("n°").strip()))
            qs = qs.filter(condition)
        if data["status"] == "ouverts":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif data["status"]:
            qs = qs.filter(status=data["status"])
        if data["channel"]:
            qs = qs.filter(channel=data["channel"])
        if data["site"]:
            qs = qs.filter(site=data["site"])
        if data["reason"]:
            qs = qs.filter(Q(reason=data["reason"]) | Q(reason__parent=data["reason"]))
        if data["echeance"] == "depassee":
            qs = qs.filter(due_at__lt=now)
        elif data["echeance"] == "proche":
            qs = qs.filter(due_at__gte=now, warn_at__lte=now)
    return form, qs.order_by("-received_at", "-pk"), now


@log_required
def contact_list(request):
    """The log: search and filters; ?format=csv exports the filtered contacts."""
    if request.GET.get("format") == "csv":
        return contact_export(request)
    form, qs, now = _filtered(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "contacts/log/list.html",
        {
            "form": form,
            "page": page,
            "rows": annotate(page.object_list, now),
            "query": query.urlencode(),
            "can_log": True,
            "nav": "contacts",
            **nav_flags(request.user),
        },
    )


def contact_export(request):
    _form, qs, _now = _filtered(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "numero",
            "canal",
            "motif",
            "site",
            "equipe",
            "charge",
            "reference_usager",
            "objet",
            "recu_le",
            "accuse_le",
            "premiere_reponse_le",
            "clos_le",
            "etat",
            "issue",
            "echeance",
            "allers_retours",
            "source",
            "identifiant_externe",
        ]
    )

    def when(value):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}" if value else ""

    for c in qs.iterator(chunk_size=2000):
        writer.writerow(
            [
                c.pk,
                c.get_channel_display(),
                str(c.reason) if c.reason_id else "",
                c.site.name if c.site_id else "",
                c.team.name if c.team_id else "",
                str(c.assignee) if c.assignee_id else "",
                c.requester_ref,
                c.subject,
                when(c.received_at),
                when(c.acknowledged_at),
                when(c.first_answer_at),
                when(c.closed_at),
                c.get_status_display(),
                c.get_outcome_display() if c.outcome else "",
                when(c.due_at),
                c.returns,
                c.source,
                c.external_id,
            ]
        )
    return response


# ----- logging a contact ---------------------------------------------------------------------


@log_required
def contact_create(request):
    organisation = organisation_for(request)
    if organisation is None:
        raise PermissionDenied("Aucun organisme ne vous est ouvert.")
    sites = visible_sites(request.user).filter(organisation=organisation).order_by("name")
    partner = is_partner_only(request.user, organisation)
    initial = {"received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    if partner:
        initial["channel"] = "relais"
    form = ContactForm(
        request.POST or None, organisation=organisation, sites=sites, initial=initial
    )
    if partner:
        for name in ("team", "assignee"):
            form.fields.pop(name)
        form.fields["site"].required = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            contact = services.log_contact(request.user, organisation, **data)
        except ValidationError as error:
            form_errors_to_messages(request, error, form)
        else:
            messages.success(request, f"{contact} enregistré.")
            return redirect("contacts:contact", pk=contact.pk)
    return render(
        request,
        "contacts/log/create.html",
        {"form": form, "organisation": organisation, "nav": "contacts"},
    )


# ----- a contact's page ----------------------------------------------------------------------


def timeline(contact):
    """What happened to the contact, oldest first: audit events and clock notices."""
    events = AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk))
    items = [
        {"at": e.at, "what": e.action_label, "who": e.actor_label, "changes": e.changes}
        for e in events
    ]
    facts = [
        ("received_at", f"Demande reçue ({contact.get_channel_display().lower()})"),
        ("acknowledged_at", "Accusé de réception daté de ce jour"),
        ("first_answer_at", "Première réponse datée de ce jour"),
        ("closed_at", "Clôture datée de ce jour"),
        ("paused_at", "En attente de pièces depuis ce jour"),
    ]
    for field, label in facts:
        if getattr(contact, field):
            items.append(
                {
                    "at": getattr(contact, field),
                    "what": label,
                    "who": "date du contact",
                    "changes": {},
                }
            )
    for notice in contact.clock_notices.select_related("recipient"):
        items.append(
            {
                "at": notice.created_at,
                "what": f"{notice.get_kind_display()} ({notice.get_step_display().lower()}, "
                f"échéance du {timezone.localtime(notice.due_at):%d/%m/%Y à %H:%M})",
                "who": f"Alerte envoyée à {notice.recipient}"
                if notice.recipient
                else "Alerte (personne n'est chargé du contact)",
                "changes": {},
            }
        )
    return sorted(items, key=lambda item: item["at"])


@log_required
def contact_detail(request, pk):
    contact = get_scoped_or_404(contacts_for(request.user), request.user, pk=pk)
    now = timezone.now()
    can_act = has_role(request.user, *HANDLERS, organisation=contact.organisation)
    code, words = deadline_state(contact, now)
    return render(
        request,
        "contacts/log/detail.html",
        {
            "contact": contact,
            "state": code,
            "state_words": words,
            "timeline": timeline(contact),
            "can_act": can_act,
            "step_form": StepForm(),
            "close_form": CloseForm(),
            "assign_form": AssignForm(
                organisation=contact.organisation,
                initial={"assignee": contact.assignee_id},
            )
            if can_act
            else None,
            "is_open": contact.status in OPEN_STATUSES,
            "nav": "contacts",
            **nav_flags(request.user),
        },
    )


ACTIONS = {
    "accuser-reception": "L'accusé de réception est enregistré.",
    "repondre": "La première réponse est enregistrée.",
    "mettre-en-attente": "Le contact est en attente de pièces : le délai est suspendu.",
    "reprendre": "Les pièces sont arrivées : le délai reprend.",
    "clore": "Le contact est clos.",
    "attribuer": "Le contact est attribué.",
}


@require_POST
@log_required
def contact_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404("Action inconnue.")
    contact = get_scoped_or_404(contacts_for(request.user), request.user, pk=pk)
    if not has_role(request.user, *HANDLERS, organisation=contact.organisation):
        raise PermissionDenied("Seuls les agents de l'organisme traitent ce contact.")
    user = request.user
    invited = None
    try:
        if action in ("accuser-reception", "repondre"):
            form = StepForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_form_messages(form))
            service = (
                services.acknowledge_contact
                if action == "accuser-reception"
                else services.answer_contact
            )
            service(user, contact, at=form.cleaned_data["at"])
        elif action == "mettre-en-attente":
            services.pause_clock(user, contact, note=request.POST.get("note", "")[:200])
        elif action == "reprendre":
            services.resume_clock(user, contact)
        elif action == "clore":
            form = CloseForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_form_messages(form))
            with transaction.atomic():
                services.close_contact(
                    user, contact, outcome=form.cleaned_data["outcome"], at=form.cleaned_data["at"]
                )
                invited = _invite_to_survey(contact, form.cleaned_data["survey_address"])
        elif action == "attribuer":
            form = AssignForm(request.POST, organisation=contact.organisation)
            if not form.is_valid():
                raise ValidationError(_form_messages(form))
            services.assign_contacts(user, [contact], form.cleaned_data["assignee"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, ACTIONS[action])
        if action == "clore" and invited is not None:
            if invited:
                messages.success(request, "Le questionnaire de satisfaction va être envoyé.")
            else:
                messages.info(
                    request,
                    "Le questionnaire de satisfaction n'est pas envoyé : la personne en a déjà "
                    "reçu un récemment, ou les invitations après une demande ne sont pas "
                    "activées.",
                )
    return redirect(reverse("contacts:contact", args=[contact.pk]) + "#actions")


def _invite_to_survey(contact, address) -> bool | None:
    """Invite the person to the satisfaction survey at the address the agent typed (not
    stored on the contact). None: no address given; False: not invited (cap, settings)."""
    if not address:
        return None
    from voix.surveys import services as survey_services
    from voix.surveys.models import InvitationSource

    invitation = survey_services.invite(
        contact.organisation,
        source=InvitationSource.CONTACT,
        source_id=contact.pk,
        email=address["email"],
        phone=address["phone"],
        site=contact.site,
    )
    return invitation is not None


def _form_messages(form):
    return [
        f"{form.fields[name].label if name in form.fields else 'Formulaire'} : {message}"
        for name, errors in form.errors.items()
        for message in errors
    ]


urlpatterns = [
    path("contacts/", contact_list, name="list"),
    path("contacts/nouveau/", contact_create, name="create"),
    path("contacts/<int:pk>/", contact_detail, name="contact"),
    path("contacts/<int:pk>/<slug:action>/", contact_action, name="contact_action"),
]
