"""Staff pages: the case list (filters, counts, CSV without personal data), intake by an
agent, a case's page and its actions (acknowledge, assign, notes, tags, hold and resume,
answer by e-mail or letter, close, refer to the médiateur), attachments and the letter.

Who sees a case is the services' rule (``visible_complaints``, ``can_see_personal_data``):
anything else answers 404. Every GET of a page that shows a case's personal data is written
to the audit log (``record_personal_data_view``).
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.contacts.views.log import deadline_state
from voix.core.models import AuditEvent, Role
from voix.core.scoping import has_role, organisations_with_role, scope_for, visible_sites
from voix.core.views import role_required

from .. import services
from ..forms import (
    AnswerForm,
    AssignForm,
    EscalateForm,
    FilterForm,
    NoteForm,
    PauseForm,
    StaffComplaintForm,
    TagForm,
    error_summary,
    mark_invalid,
)
from ..models import AnswerVia, Complaint, Kind, Status, Theme
from .public import errors_on_form, keep_files_warning

NAV = "reclamations"
INTAKE_ROLES = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN)
LIST_ROLES = (*INTAKE_ROLES, Role.MEDIATEUR)
SUPERVISORS = (Role.MANAGER, Role.QUALITE, Role.ADMIN)
CONFIGURERS = (Role.QUALITE, Role.ADMIN)
VIEWED = "réclamation.consultée"

intake_required = role_required(*INTAKE_ROLES)


def nav_flags(user) -> dict:
    """Which links the complaints sub-menu shows."""
    return {
        "can_file": has_role(user, *INTAKE_ROLES),
        "can_configure": has_role(user, *CONFIGURERS),
        "can_mediate": has_role(user, Role.MEDIATEUR),
        "nav": NAV,
    }


def organisation_for(request, roles):
    """The organisation the page is about (?organisme=<slug>), else the first one."""
    organisations = organisations_with_role(request.user, *roles).order_by("name")
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    organisation = organisations.first()
    if organisation is None:
        raise PermissionDenied("Aucun organisme ne vous est ouvert pour cette page.")
    return organisation


def case_or_404(request, pk) -> Complaint:
    """A case whose personal data *request.user* may see; 404 otherwise."""
    complaint = get_object_or_404(
        services.visible_complaints(request.user).select_related(
            "organisation", "site", "relay", "theme", "assignee", "contact"
        ),
        pk=pk,
    )
    if not services.can_see_personal_data(request.user, complaint):
        raise Http404("Introuvable.")
    return complaint


def handled_or_404(request, pk) -> Complaint:
    """A case *request.user* acts on (services.can_handle); one they only read: 403."""
    complaint = case_or_404(request, pk)
    if not services.can_handle(request.user, complaint):
        raise PermissionDenied("Seules les personnes chargées de la réclamation la traitent.")
    return complaint


def can_answer(complaint) -> bool:
    return (
        not complaint.answered_at
        and complaint.kind != Kind.COMPLIMENT
        and complaint.status not in (Status.CLOSED, Status.MEDIATION)
    )


def closable(complaint) -> bool:
    return complaint.status not in (Status.CLOSED, Status.MEDIATION) and bool(
        complaint.answered_at or complaint.kind == Kind.COMPLIMENT
    )


def can_escalate(complaint) -> bool:
    return complaint.kind == Kind.COMPLAINT and getattr(complaint, "mediation", None) is None


def back_to(complaint, anchor="actions"):
    return redirect(reverse("complaints:detail", args=[complaint.pk]) + f"#{anchor}")


def _list_required(view):
    """Staff who handle complaints; a partner goes to its relay's page."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not organisations_with_role(request.user, *LIST_ROLES).exists():
            if scope_for(request.user).relay_site_ids:
                return redirect("complaints:relay_index")
            raise PermissionDenied(
                "Cette page est réservée aux personnes qui traitent les réclamations."
            )
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# ----- the list -----------------------------------------------------------------------------


def _filtered(request):
    user = request.user
    organisations = organisations_with_role(user, *LIST_ROLES)
    qs = services.visible_complaints(user).select_related(
        "site", "theme", "assignee", "contact", "organisation"
    )
    themes = Theme.objects.filter(organisation__in=organisations).order_by("label")
    sites = visible_sites(user).filter(organisation__in=organisations).order_by("name")
    form = FilterForm(request.GET or None, themes=themes, sites=sites)
    now = timezone.now()
    if form.is_valid():
        data = form.cleaned_data
        if data["status"] == "ouvertes":
            qs = qs.exclude(status=Status.CLOSED)
        elif data["status"]:
            qs = qs.filter(status=data["status"])
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["theme"]:
            qs = qs.filter(theme=data["theme"])
        if data["site"]:
            qs = qs.filter(site=data["site"])
        if data["echeance"] == "depassee":
            qs = qs.filter(contact__due_at__lt=now)
        elif data["echeance"] == "proche":
            qs = qs.filter(contact__due_at__gte=now, contact__warn_at__lte=now)
        if data["charge"] == "moi":
            qs = qs.filter(assignee=user)
        elif data["charge"] == "personne":
            qs = qs.filter(assignee__isnull=True)
    qs = qs.order_by(F("contact__due_at").asc(nulls_last=True), "-received_at", "-pk")
    return form, qs, now


def counts(qs, now) -> dict:
    return qs.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=~Q(status=Status.CLOSED)),
        late=Count("pk", filter=Q(contact__due_at__lt=now)),
        soon=Count("pk", filter=Q(contact__due_at__gte=now, contact__warn_at__lte=now)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True) & ~Q(status=Status.CLOSED)),
    )


@_list_required
def index(request):
    """/reclamations/: the cases the person may see, the nearest deadline first."""
    form, qs, now = _filtered(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = []
    for complaint in page.object_list:
        code, words = deadline_state(complaint.contact, now) if complaint.contact_id else ("", "—")
        if complaint.status == Status.CLOSED:
            code, words = "", "Close"
        rows.append(
            {
                "complaint": complaint,
                "state": code,
                "state_words": words,
                "opens": services.can_see_personal_data(request.user, complaint),
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "complaints/staff/index.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "counts": counts(qs, now),
            "query": query.urlencode(),
            **nav_flags(request.user),
        },
    )


def _csv_text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@_list_required
def export(request):
    """The filtered cases as CSV, without personal data (no name, address, message)."""
    _form, qs, _now = _filtered(request)
    qs = qs.select_related("relay", "mediation").prefetch_related("root_causes")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reclamations.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response.write("\ufeff")  # so a spreadsheet opens it as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "reference",
            "nature",
            "recue_par",
            "lieu_concerne",
            "relais",
            "theme",
            "causes",
            "etat",
            "recue_le",
            "accuse_le",
            "reponse_attendue_le",
            "repondue_le",
            "reponse_par",
            "close_le",
            "dans_le_delai",
            "satisfaction",
            "mediation",
            "decision_mediation",
        ]
    )

    def when(value):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}" if value else ""

    for c in qs.iterator(chunk_size=500):
        contact = c.contact
        due = contact.answer_due_at if contact else None
        in_time = ""
        if c.answered_at and due:
            in_time = "oui" if c.answered_at <= due else "non"
        mediation = getattr(c, "mediation", None)
        writer.writerow(
            [
                c.reference,
                c.get_kind_display(),
                c.get_intake_display(),
                _csv_text(c.site.name) if c.site_id else "",
                _csv_text(c.relay.name) if c.relay_id else "",
                _csv_text(c.theme.label) if c.theme_id else "",
                _csv_text(", ".join(cause.label for cause in c.root_causes.all())),
                c.get_status_display(),
                when(c.received_at),
                when(c.acknowledged_at),
                when(due),
                when(c.answered_at),
                c.get_answer_via_display() if c.answer_via else "",
                when(c.closed_at),
                in_time,
                c.satisfaction or "",
                "oui" if mediation else "non",
                mediation.get_decision_display() if mediation and mediation.decision else "",
            ]
        )
    return response


# ----- intake by an agent -------------------------------------------------------------------


@intake_required
def create(request):
    """/reclamations/nouvelle/: what came by phone, at the counter, by post or e-mail."""
    organisation = organisation_for(request, INTAKE_ROLES)
    status = 200
    if request.method == "POST":
        form = StaffComplaintForm(request.POST, request.FILES, organisation=organisation)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = services.file_complaint(
                    request.user,
                    organisation,
                    intake=data["intake"],
                    consent=data["consent"],
                    **form.service_fields(),
                )
            except ValidationError as error:
                errors_on_form(form, error)
            else:
                messages.success(
                    request,
                    f"{complaint.get_kind_display()} {complaint.reference} enregistrée."
                    + (" L'accusé de réception est parti par courriel." if complaint.email else ""),
                )
                if services.can_see_personal_data(request.user, complaint):
                    return redirect("complaints:detail", pk=complaint.pk)
                messages.info(
                    request,
                    f"Lien de suivi à donner à la personne : {services.tracking_url(complaint)}",
                )
                return redirect(reverse("complaints:create") + f"?organisme={organisation.slug}")
        keep_files_warning(form, request)
        mark_invalid(form)
        status = 400
    else:
        form = StaffComplaintForm(organisation=organisation)
    return render(
        request,
        "complaints/staff/create.html",
        {
            "organisation": organisation,
            "organisations": organisations_with_role(request.user, *INTAKE_ROLES).order_by("name"),
            "form": form,
            "error_list": error_summary(form),
            **nav_flags(request.user),
        },
        status=status,
    )


# ----- a case's page ------------------------------------------------------------------------


def timeline(complaint) -> list[dict]:
    """What happened to the case, oldest first (views of personal data left out)."""
    condition = Q(object_type="complaint", object_id=str(complaint.pk))
    mediation = getattr(complaint, "mediation", None)
    if mediation is not None:
        condition |= Q(object_type="mediation", object_id=str(mediation.pk))
    events = AuditEvent.objects.filter(condition).exclude(action=VIEWED).order_by("at", "pk")
    return [{"at": e.at, "what": e.action_label, "who": e.actor_label} for e in events]


def deadlines(complaint, now) -> dict:
    contact = complaint.contact
    if contact is None:
        return {"state": "", "state_words": "Aucune échéance", "contact": None}
    code, words = deadline_state(contact, now)
    if complaint.status == Status.CLOSED:
        code, words = "", "Close : plus d'échéance"
    return {"state": code, "state_words": words, "contact": contact}


@login_required
def detail(request, pk):
    """/reclamations/<n°>/: the case, its personal data, deadlines, history and actions."""
    complaint = case_or_404(request, pk)
    services.record_personal_data_view(request.user, complaint)
    now = timezone.now()
    handles = services.can_handle(request.user, complaint)
    supervises = has_role(request.user, *SUPERVISORS, organisation=complaint.organisation)
    closed = complaint.status == Status.CLOSED
    mediation = getattr(complaint, "mediation", None)
    return render(
        request,
        "complaints/staff/detail.html",
        {
            "complaint": complaint,
            "attachments": complaint.attachments.all(),
            "notes": complaint.notes.select_related("author"),
            "causes": complaint.root_causes.all(),
            "mediation": mediation,
            "timeline": timeline(complaint),
            "tracking_link": services.tracking_url(complaint),
            "handles": handles,
            "supervises": supervises,
            "closed": closed,
            "note_form": NoteForm() if handles else None,
            "assign_form": AssignForm(
                organisation=complaint.organisation,
                initial={"assignee": complaint.assignee_id},
            )
            if handles and not closed
            else None,
            "tag_form": TagForm(
                organisation=complaint.organisation,
                complaint=complaint,
                initial={
                    "theme": complaint.theme_id,
                    "root_causes": [c.pk for c in complaint.root_causes.all()],
                },
            )
            if handles
            else None,
            "pause_form": PauseForm() if handles else None,
            "letter": complaint.answered_at and complaint.answer_via == AnswerVia.LETTER,
            "can_answer": can_answer(complaint),
            "closable": closable(complaint),
            "can_escalate": can_escalate(complaint),
            **deadlines(complaint, now),
            **nav_flags(request.user),
        },
    )


def _run(request, complaint, action, success, anchor="actions"):
    """Call one service; its ValidationError becomes a message; back to the case."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return back_to(complaint, anchor)


def _form_messages(form) -> list[str]:
    return [
        f"{form.fields[name].label if name in form.fields else 'Formulaire'} : {message}"
        for name, errors in form.errors.items()
        for message in errors
    ]


@require_POST
@login_required
def acknowledge(request, pk):
    complaint = handled_or_404(request, pk)
    return _run(
        request,
        complaint,
        lambda: services.acknowledge_complaint(request.user, complaint),
        "L'accusé de réception est enregistré.",
    )


@require_POST
@login_required
def assign(request, pk):
    complaint = handled_or_404(request, pk)
    form = AssignForm(request.POST, organisation=complaint.organisation)
    if not form.is_valid():
        for message in _form_messages(form):
            messages.error(request, message)
        return back_to(complaint)
    assignee = form.cleaned_data["assignee"]
    return _run(
        request,
        complaint,
        lambda: services.assign_complaint(request.user, complaint, assignee),
        f"Réclamation attribuée à {assignee}." if assignee else "Plus personne n'est chargé.",
    )


@require_POST
@login_required
def note(request, pk):
    complaint = handled_or_404(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        for message in _form_messages(form):
            messages.error(request, message)
        return back_to(complaint, "notes")
    text = form.cleaned_data["text"]
    return _run(
        request,
        complaint,
        lambda: services.add_note(request.user, complaint, text),
        "La note est ajoutée.",
        anchor="notes",
    )


@require_POST
@login_required
def tag(request, pk):
    complaint = handled_or_404(request, pk)
    form = TagForm(request.POST, organisation=complaint.organisation, complaint=complaint)
    if not form.is_valid():
        for message in _form_messages(form):
            messages.error(request, message)
        return back_to(complaint)
    data = form.cleaned_data
    return _run(
        request,
        complaint,
        lambda: services.tag_complaint(
            request.user, complaint, theme=data["theme"], root_causes=list(data["root_causes"])
        ),
        "Le thème et les causes sont enregistrés.",
    )


@require_POST
@login_required
def pause(request, pk):
    complaint = handled_or_404(request, pk)
    form = PauseForm(request.POST)
    note_text = form.cleaned_data["note"] if form.is_valid() else ""
    return _run(
        request,
        complaint,
        lambda: services.pause_complaint(request.user, complaint, note=note_text),
        "En attente de pièces : le délai est suspendu.",
    )


@require_POST
@login_required
def resume(request, pk):
    complaint = handled_or_404(request, pk)
    return _run(
        request,
        complaint,
        lambda: services.resume_complaint(request.user, complaint),
        "Les pièces sont arrivées : le délai reprend.",
    )


@login_required
def answer(request, pk):
    """GET: the draft; POST: the confirmation step, then (confirmer=1) the sending."""
    complaint = handled_or_404(request, pk)
    context = {
        "complaint": complaint,
        "can_answer": can_answer(complaint),
        **nav_flags(request.user),
    }
    if request.method == "POST":
        form = AnswerForm(request.POST, complaint=complaint)
        if form.is_valid() and "modifier" not in request.POST:
            data = form.cleaned_data
            if request.POST.get("confirmer") == "1":
                try:
                    services.send_answer(
                        request.user, complaint, text=data["text"], via=data["via"]
                    )
                except ValidationError as error:
                    errors_on_form(form, error)
                else:
                    if data["via"] == AnswerVia.LETTER:
                        messages.success(
                            request,
                            "La réponse est enregistrée : imprimez la lettre (lien « Lettre de "
                            "réponse ») et postez-la.",
                        )
                    else:
                        messages.success(request, f"La réponse est envoyée à {complaint.email}.")
                    return back_to(complaint, "reponse")
            else:
                return render(
                    request,
                    "complaints/staff/answer_confirm.html",
                    {**context, "form": form, "text": data["text"], "via": data["via"]},
                )
        mark_invalid(form)
        status = 200 if "modifier" in request.POST else 400
    else:
        services.record_personal_data_view(request.user, complaint)
        form = AnswerForm(
            complaint=complaint,
            initial={
                "text": complaint.answer or draft(complaint),
                "via": AnswerVia.EMAIL if complaint.email else AnswerVia.LETTER,
            },
        )
        status = 200
    return render(
        request,
        "complaints/staff/answer.html",
        {
            **context,
            "form": form,
            "error_list": error_summary(form) if form.is_bound else [],
        },
        status=status,
    )


def draft(complaint) -> str:
    """A starting text (response templates will come from the knowledge base)."""
    greeting = f"Bonjour {complaint.full_name}," if complaint.full_name else "Madame, Monsieur,"
    received = timezone.localtime(complaint.received_at)
    return (
        f"{greeting}\n\n"
        f"Vous nous avez écrit le {received:%d/%m/%Y} au sujet de : « {complaint.subject} » "
        f"(référence {complaint.reference}).\n\n"
        "\n\n"
        "Nous restons à votre disposition.\n\n"
        f"{complaint.organisation.name}"
    )


@login_required
def letter(request, pk):
    """GET: the letter of the answer sent; POST (from the draft): a preview, nothing saved."""
    complaint = case_or_404(request, pk)
    if request.method == "POST":
        if not services.can_handle(request.user, complaint):
            raise PermissionDenied("Seules les personnes chargées de la réclamation la traitent.")
        form = AnswerForm(request.POST, complaint=complaint)
        if not form.is_valid():
            for message in _form_messages(form):
                messages.error(request, message)
            return redirect("complaints:answer", pk=complaint.pk)
        name, disposition = f"apercu-{complaint.reference}.pdf", "inline"
        pdf = services.letter_pdf(complaint, text=form.cleaned_data["text"])
    else:
        if not (complaint.answered_at and complaint.answer):
            raise Http404("Aucune réponse n'a encore été envoyée.")
        services.record_personal_data_view(request.user, complaint)
        name, disposition = f"reponse-{complaint.reference}.pdf", "attachment"
        pdf = services.letter_pdf(complaint)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def attachment(request, pk, apk):
    """A file the requester sent: always downloaded, with its stored type, never sniffed."""
    complaint = case_or_404(request, pk)
    item = get_object_or_404(complaint.attachments, pk=apk)
    services.record_personal_data_view(request.user, complaint)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("Ce fichier n'est plus disponible.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.original_name,
        content_type=item.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def close(request, pk):
    """GET: the confirmation; POST: close the case."""
    complaint = handled_or_404(request, pk)
    if request.method == "POST":
        return _run(
            request,
            complaint,
            lambda: services.close_complaint(request.user, complaint),
            f"La réclamation {complaint.reference} est close.",
        )
    what = f"{complaint.get_kind_display().lower()} {complaint.reference}"
    question = (
        f"Clore {what} « {complaint.subject} » ? Elle sort des listes de travail ; la "
        "personne voit « close » sur sa page de suivi."
    )
    if complaint.kind == Kind.COMPLAINT and complaint.answered_at:
        question += " Elle pourra encore saisir le médiateur dans les 2 mois suivant la réponse."
    return render(
        request,
        "complaints/staff/confirm.html",
        {
            "complaint": complaint,
            "closable": closable(complaint),
            "title": f"Clore {what}",
            "question": question,
            "confirm_label": "Clore la réclamation",
            "back": reverse("complaints:detail", args=[complaint.pk]),
            **nav_flags(request.user),
        },
    )


@login_required
def escalate(request, pk):
    """GET: the referral form (its own confirmation page); POST: refer to the médiateur."""
    complaint = handled_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = EscalateForm(request.POST)
        if form.is_valid():
            try:
                services.escalate_to_mediation(
                    request.user, complaint, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                errors_on_form(form, error)
            else:
                messages.success(request, "La réclamation est transmise au médiateur.")
                return back_to(complaint, "mediation")
        mark_invalid(form)
        status = 400
    else:
        form = EscalateForm()
    return render(
        request,
        "complaints/staff/escalate.html",
        {
            "complaint": complaint,
            "can_escalate": can_escalate(complaint),
            "form": form,
            "error_list": error_summary(form) if form.is_bound else [],
            **nav_flags(request.user),
        },
        status=status,
    )


urls = [
    path("reclamations/", index, name="index"),
    path("reclamations/export.csv", export, name="export"),
    path("reclamations/nouvelle/", create, name="create"),
    path("reclamations/<int:pk>/", detail, name="detail"),
    path("reclamations/<int:pk>/accuser-reception/", acknowledge, name="acknowledge"),
    path("reclamations/<int:pk>/attribuer/", assign, name="assign"),
    path("reclamations/<int:pk>/note/", note, name="note"),
    path("reclamations/<int:pk>/classer/", tag, name="tag"),
    path("reclamations/<int:pk>/repondre/", answer, name="answer"),
    path("reclamations/<int:pk>/mettre-en-attente/", pause, name="pause"),
    path("reclamations/<int:pk>/reprendre/", resume, name="resume"),
    path("reclamations/<int:pk>/clore/", close, name="close"),
    path("reclamations/<int:pk>/mediation/", escalate, name="escalate"),
    path("reclamations/<int:pk>/lettre.pdf", letter, name="letter"),
    path("reclamations/<int:pk>/pieces/<int:apk>/", attachment, name="attachment"),
]
