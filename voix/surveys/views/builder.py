"""Staff pages of the questionnaires: the list, the builder (questionnaire, questions,
state) and the « Liens et QR codes » page.

Who: the builder is for quality leads and administrators (QUALITE, ADMIN); the list is
open to everyone who hands out links or reads results (agents, managers, partners see the
open questionnaires and their links, read-only; a partner only its relay's links). An
object of another organisation answers 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core.models import Role
from voix.core.scoping import has_role, organisations_with_role, scope_for
from voix.core.views import form_errors_to_messages, role_required, submitted

from .. import results, scales, services
from ..forms import LinkForm, QuestionForm, SurveyCreateForm, SurveyForm
from ..models import LinkChannel, Question, Response, Survey, SurveyStatus
from .public import embed_snippet, public_url

NAV = "enquetes"
EDITORS = (Role.QUALITE, Role.ADMIN)
READERS = (Role.QUALITE, Role.MANAGER, Role.ADMIN)
LINK_VIEWERS = (Role.AGENT, Role.PARTENAIRE, *READERS)

editor_required = role_required(*EDITORS)
reader_required = role_required(*READERS)
viewer_required = role_required(*LINK_VIEWERS)


# ----- access helpers (shared with the results and settings pages) ---------------------------


def pick_organisation(request, roles):
    """The organisation a list or settings page is about (?organisme=<slug>, among those
    where the person holds one of *roles*; by default their first body)."""
    organisations = organisations_with_role(request.user, *roles).order_by("name")
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    organisation = organisations.filter(kind="organisme").first() or organisations.first()
    if organisation is None:
        raise PermissionDenied("Cette page n'est pas ouverte à votre rôle.")
    return organisation


def survey_for(request, pk, roles) -> Survey:
    """A questionnaire of an organisation where the person holds one of *roles*; 404 when
    it belongs to an organisation they do not see, 403 when they see it with another role."""
    survey = get_object_or_404(Survey.objects.select_related("organisation"), pk=pk)
    if scope_for(request.user).everything or has_role(
        request.user, *roles, organisation=survey.organisation
    ):
        return survey
    if has_role(request.user, *Role.values, organisation=survey.organisation):
        raise PermissionDenied("Cette page n'est pas ouverte à votre rôle.")
    raise Http404("Introuvable.")


def can_edit(user, survey) -> bool:
    return has_role(user, *EDITORS, organisation=survey.organisation)


def can_read_results(user, survey) -> bool:
    return has_role(user, *READERS, organisation=survey.organisation)


def edit_url(survey) -> str:
    return reverse("surveys:edit", args=[survey.pk])


# ----- list --------------------------------------------------------------------------------


@viewer_required
def survey_index(request):
    organisation = pick_organisation(request, LINK_VIEWERS)
    user = request.user
    editor = has_role(user, *EDITORS, organisation=organisation)
    reader = has_role(user, *READERS, organisation=organisation)
    surveys = Survey.objects.filter(organisation=organisation).order_by("-created_at")
    if not reader:
        surveys = surveys.filter(status=SurveyStatus.OPEN)
    rows = []
    if reader:
        allowed = results.site_restriction(user, organisation)
        answers = Response.objects.filter(survey__in=surveys)
        if allowed is not None:
            answers = answers.filter(site_id__in=allowed)
        since = results.local_bounds(
            organisation, results.rolling_start(timezone.localdate()), timezone.localdate()
        )[0]
        counts = {
            row["survey_id"]: row
            for row in answers.order_by()
            .values("survey_id")
            .annotate(total=Count("pk"), recent=Count("pk", filter=Q(submitted_at__gte=since)))
        }
        for survey in surveys.annotate(
            question_count=Count("questions", distinct=True),
            link_count=Count("links", filter=Q(links__active=True), distinct=True),
        ):
            found = counts.get(survey.pk, {})
            rows.append((survey, found.get("total", 0), found.get("recent", 0)))
    else:
        rows = [(survey, None, None) for survey in surveys]
    return render(
        request,
        "surveys/staff/index.html",
        {
            "organisation": organisation,
            "others": organisations_with_role(user, *LINK_VIEWERS)
            .exclude(pk=organisation.pk)
            .order_by("name"),
            "rows": rows,
            "editor": editor,
            "reader": reader,
            "min_answers": scales.MIN_ANSWERS,
            "nav": NAV,
        },
    )


# ----- create and edit ----------------------------------------------------------------------


@editor_required
def survey_create(request):
    organisations = organisations_with_role(request.user, *EDITORS).order_by("name")
    slug = request.GET.get("organisme")
    initial = {"standard": True}
    if slug:
        initial["organisation"] = get_object_or_404(organisations, slug=slug).pk
    form = SurveyCreateForm(request.POST or None, organisations=organisations, initial=initial)
    done = submitted(
        request,
        form,
        lambda data: services.create_survey(
            request.user, data["organisation"], title=data["title"], standard=data["standard"]
        ),
        lambda s: (
            f"Le questionnaire « {s.title} » est créé, en brouillon : relisez ses "
            "questions, puis ouvrez-le."
        ),
        edit_url,
    )
    return done or render(
        request,
        "surveys/staff/form.html",
        {
            "form": form,
            "title": "Nouveau questionnaire",
            "back": reverse("surveys:index"),
            "submit_label": "Créer le questionnaire",
            "nav": NAV,
        },
    )


@editor_required
def survey_edit(request, pk):
    survey = survey_for(request, pk, EDITORS)
    initial = {"title": survey.title, "introduction": survey.introduction, "thanks": survey.thanks}
    form = SurveyForm(request.POST or None, initial=initial)
    done = submitted(
        request,
        form,
        lambda data: services.update_survey(request.user, survey, **data),
        "Questionnaire enregistré.",
        edit_url(survey),
    )
    if done:
        return done
    questions = list(survey.questions.order_by("position", "pk"))
    return render(
        request,
        "surveys/staff/edit.html",
        {
            "survey": survey,
            "form": form,
            "questions": questions,
            "answers": survey.responses.count(),
            "statuses": SurveyStatus,
            "standard_kinds": scales.STANDARD_KINDS,
            "nav": NAV,
        },
    )


@editor_required
@require_POST
def survey_status(request, pk):
    survey = survey_for(request, pk, EDITORS)
    status = request.POST.get("status", "")
    try:
        survey = services.set_survey_status(request.user, survey, status)
    except ValidationError as error:
        form_errors_to_messages(request, error)
    else:
        messages.success(
            request,
            {
                SurveyStatus.OPEN: f"Le questionnaire « {survey.title} » est ouvert : ses liens "
                "acceptent les réponses.",
                SurveyStatus.CLOSED: f"Le questionnaire « {survey.title} » est fermé : ses liens "
                "n'acceptent plus de réponses.",
                SurveyStatus.DRAFT: f"Le questionnaire « {survey.title} » est en brouillon.",
            }[survey.status],
        )
    return redirect(edit_url(survey))


# ----- questions ------------------------------------------------------------------------------


def _question_for(request, pk, qpk) -> tuple[Survey, Question]:
    survey = survey_for(request, pk, EDITORS)
    return survey, get_object_or_404(Question, pk=qpk, survey=survey)


def _question_page(request, survey, question=None):
    form = QuestionForm(request.POST or None, question=question)

    def save(_data):
        fresh = Question.objects.get(pk=question.pk) if question else None
        return services.save_question(request.user, survey, fresh, **form.service_fields())

    done = submitted(
        request,
        form,
        save,
        lambda q: f"Question « {q.label} » enregistrée.",
        edit_url(survey) + "#questions",
    )
    title = f"Modifier la question « {question.label} »" if question else "Ajouter une question"
    return done or render(
        request,
        "surveys/staff/form.html",
        {
            "form": form,
            "title": title,
            "survey": survey,
            "back": edit_url(survey) + "#questions",
            "note": "Les questions standard « Je donne mon avis » gardent leur intitulé et "
            "leurs réponses officiels, pour que les résultats se comparent d'un service "
            "public à l'autre.",
            "nav": NAV,
        },
    )


@editor_required
def question_add(request, pk):
    return _question_page(request, survey_for(request, pk, EDITORS))


@editor_required
def question_edit(request, pk, qpk):
    survey, question = _question_for(request, pk, qpk)
    return _question_page(request, survey, question)


@editor_required
def question_delete(request, pk, qpk):
    survey, question = _question_for(request, pk, qpk)
    back = edit_url(survey) + "#questions"
    if request.method == "POST":
        try:
            services.delete_question(request.user, question)
        except ValidationError as error:
            form_errors_to_messages(request, error)
        else:
            messages.success(request, f"Question « {question.label} » supprimée.")
        return redirect(back)
    answered = survey.responses.exists()
    question_text = f"La question « {question.label} » sera retirée du questionnaire."
    if answered:
        question_text += (
            " Les réponses déjà reçues restent enregistrées, mais cette question "
            "n'apparaîtra plus dans les résultats ni dans les exports."
        )
    return render(
        request,
        "surveys/staff/confirm.html",
        {
            "survey": survey,
            "title": f"Supprimer la question « {question.label} »",
            "question": question_text + " Continuer ?",
            "confirm_label": "Supprimer la question",
            "back": back,
            "nav": NAV,
        },
    )


@editor_required
@require_POST
def question_move(request, pk, qpk):
    _survey, question = _question_for(request, pk, qpk)
    direction = request.POST.get("direction", "")
    try:
        services.move_question(request.user, question, direction)
    except ValidationError as error:
        form_errors_to_messages(request, error)
    return redirect(edit_url(question.survey) + f"#question-{question.pk}")


# ----- links, QR codes, button, kiosk -----------------------------------------------------------

STANDARD_CHANNELS = {True: LinkChannel.RELAY, False: LinkChannel.RECEPTION}


def _ensure_all(user, survey) -> int:
    """A reception link (QR code) for each active site of the organisation, a relay link for
    each partner relay, and a general link for the website. Returns the links made."""
    before = survey.links.count()
    for site in survey.organisation.sites.filter(is_active=True):
        services.ensure_link(user, survey, site=site, channel=STANDARD_CHANNELS[site.is_relay])
    services.ensure_link(user, survey, site=None, channel=LinkChannel.WEB)
    return survey.links.count() - before


@viewer_required
def survey_links(request, pk):
    survey = survey_for(request, pk, LINK_VIEWERS)
    user = request.user
    editor = can_edit(user, survey)
    reader = can_read_results(user, survey)
    if not (editor or reader) and survey.status != SurveyStatus.OPEN:
        raise Http404("Introuvable.")
    form = LinkForm(request.POST or None, organisation=survey.organisation)
    if request.method == "POST":
        if not editor:
            raise PermissionDenied(
                "Seuls l'équipe qualité et les administrateurs créent des liens."
            )
        back = reverse("surveys:links", args=[survey.pk])
        if request.POST.get("action") == "tous":
            made = _ensure_all(user, survey)
            messages.success(
                request, f"{made} lien{'s' if made > 1 else ''} créé{'s' if made > 1 else ''}."
            )
            return redirect(back)
        done = submitted(
            request,
            form,
            lambda data: services.ensure_link(
                user, survey, site=data["site"], channel=data["channel"]
            ),
            lambda link: (
                f"Lien prêt : {link.site or 'lien général'} — {link.get_channel_display()}."
            ),
            lambda link: back + f"#lien-{link.pk}",
        )
        if done:
            return done
    links = survey.links.select_related("site").order_by("site__name", "channel")
    if not (editor or reader or has_role(user, Role.AGENT, organisation=survey.organisation)):
        # A partner hands out its relay's links only.
        links = links.filter(site_id__in=scope_for(user).relay_site_ids)
    if not editor:
        links = links.filter(active=True)
    groups = {}
    for link in links:
        link.url = public_url(link.token)
        link.snippet = embed_snippet(link) if link.channel == LinkChannel.WEB else ""
        groups.setdefault(link.site, []).append(link)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is not None, str(item[0] or "")))
    return render(
        request,
        "surveys/staff/links.html",
        {
            "survey": survey,
            "groups": ordered,
            "editor": editor,
            "form": form,
            "open": survey.status == SurveyStatus.OPEN,
            "kiosk": LinkChannel.KIOSK,
            "web": LinkChannel.WEB,
            "nav": NAV,
        },
    )


urls = [
    path("enquetes/", survey_index, name="index"),
    path("enquetes/nouvelle/", survey_create, name="create"),
    path("enquetes/<int:pk>/", survey_edit, name="edit"),
    path("enquetes/<int:pk>/questions/ajouter/", question_add, name="question_add"),
    path("enquetes/<int:pk>/questions/<int:qpk>/", question_edit, name="question_edit"),
    path(
        "enquetes/<int:pk>/questions/<int:qpk>/supprimer/",
        question_delete,
        name="question_delete",
    ),
    path("enquetes/<int:pk>/questions/<int:qpk>/deplacer/", question_move, name="question_move"),
    path("enquetes/<int:pk>/etat/", survey_status, name="status"),
    path("enquetes/<int:pk>/liens/", survey_links, name="links"),
]
