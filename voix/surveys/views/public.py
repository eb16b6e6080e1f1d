"""Answering a questionnaire, no account: /avis/<token>/ (the token of a public link or of
a personal invitation), the thanks page, the link's QR code and the « Je donne mon avis »
button for a website.

Without JavaScript, mobile first: one radio group per question inside a fieldset with its
legend, the recommendation as 11 radios, checkboxes for several channels. Protection
against robots and repeats, without storing any IP address:

- the core antibot (voix/core/antibot.py): a honeypot field, a signed « form shown at »
  time, and a rate limit per client under a salted, daily rotating hash of the address;
- a one-use number (``nonce``) signed into each form: the same form sent twice is refused
  (the database's unique column), the person is told their answer is already recorded;
- the signed number also stands for the CSRF token (the form sets no cookie at all).

Kiosk mode (link channel « borne », a reception tablet): no rate limit per address (all
answers come from one tablet) but one per link; a shorter timing check (2 s); the thanks
page goes back to a blank form by itself (a countdown the person can stop); no cookie, no
autocomplete, ``Cache-Control: no-store``: nothing of one person stays for the next.

Cost per answer (docs/surveys.md, « Charge ») — every rule above stays on:

- a public link's token is resolved once per TARGET_SECONDS (5 s) per process (the link,
  its questionnaire, organisation and site: no query on most GETs and POSTs); a link
  switched off, a questionnaire closed or renamed elsewhere shows within that delay (at
  once in the process that made the change). Invitations are always read afresh;
- the blank questionnaire is rendered once per process and per state of what it shows
  (questionnaire, organisation and site names, kiosk mode), for PAGE_SECONDS (60 s) at
  most, with two markers where the per-visitor values go: each GET only puts in a fresh
  one-use number and signed time. Only for a public link (an invitation's page is
  rendered) and a visitor without session or messages cookie (a staff member who is
  logged in sees their menu: always rendered for them);
- a POST that is accepted answers with a redirect to the thanks page (no template), which
  is cached the same way (nothing in it belongs to the visitor).
"""

import io
import secrets
import time
from xml.sax.saxutils import escape

import segno
from django import forms
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from voix.core import antibot
from voix.core.models import Organisation, Site

from .. import scales, services
from ..models import Invitation, Question, QuestionKind, Response, Survey, SurveyLink, SurveyStatus

Kind = QuestionKind
NONCE_FIELD = "nonce"
NONCE_SALT = "voix.surveys.nonce"
KIOSK_MIN_SECONDS = 2
KIOSK_RESET_SECONDS = 10
BUTTON_LABEL = "Je donne mon avis"


# ----- settings ------------------------------------------------------------------------------


def rate_limit() -> int:
    """Answers per client address per window (PUBLIC_RATE_WINDOW): SURVEY_RATE_LIMIT, else
    three times PUBLIC_RATE_LIMIT (several people may share one connection)."""
    value = getattr(settings, "SURVEY_RATE_LIMIT", None)
    return int(value) if value is not None else 3 * antibot.rate_limit()


def kiosk_rate_limit() -> int:
    """Answers per kiosk link per window: one every 30 seconds at most (SURVEY_KIOSK_RATE_LIMIT)."""
    value = getattr(settings, "SURVEY_KIOSK_RATE_LIMIT", None)
    return int(value) if value is not None else max(1, antibot.rate_window() // 30)


def kiosk_hit(link: SurveyLink, now) -> bool:
    """Count one answer sent from a kiosk link; False past the link's limit."""
    window = antibot.rate_window()
    key = f"voix:limite:borne:{link.pk}:{int(now.timestamp()) // window}"
    cache.add(key, 0, timeout=window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 60)
        count = 1
    return count <= kiosk_rate_limit()


# ----- the one-use number ------------------------------------------------------------------


def new_nonce(token: str) -> str:
    """A signed one-use number for a form of the link or invitation *token*."""
    return signing.Signer(salt=NONCE_SALT).sign(f"{token}.{secrets.token_urlsafe(16)}")


def read_nonce(token: str, value: str) -> str | None:
    """The one-use number inside a signed *value* made for *token*; None if not genuine."""
    try:
        content = signing.Signer(salt=NONCE_SALT).unsign(value or "")
    except signing.BadSignature:
        return None
    owner, _, number = content.rpartition(".")
    if owner != token or not number:
        return None
    return number


# ----- what a token points to ---------------------------------------------------------------


class Target:
    """The link or the invitation behind a token, and what the page needs of it."""

    def __init__(self, token, link=None, invitation=None):
        self.token = token
        self.link = link
        self.invitation = invitation
        source = link or invitation
        self.survey = source.survey
        self.organisation = self.survey.organisation
        self.site = source.site

    @property
    def kiosk(self) -> bool:
        return bool(self.link and self.link.kiosk)


def _first(queryset):
    """The only row of a lookup on a unique column, without the model's ordering (its
    joins and ORDER BY cost more than the lookup itself)."""
    return next(iter(queryset.order_by()[:1]), None)


def find_target(token: str) -> Target | None:
    """What *token* points to, read from the database."""
    link = _first(
        SurveyLink.objects.select_related("survey__organisation", "site").filter(token=token)
    )
    if link is not None:
        return Target(token, link=link)
    invitation = _first(
        Invitation.objects.select_related("survey__organisation", "site").filter(token=token)
    )
    if invitation is not None:
        return Target(token, invitation=invitation)
    return None


# ----- per-process caches (see the module's docstring) ------------------------------------

TARGET_SECONDS = 5  # a link's state (active, questionnaire open, names) may be this late
PAGE_SECONDS = 60  # a cached page is rendered again at least this often
TARGET_ENTRIES = 2000  # beyond this many entries a cache starts again empty
PAGE_ENTRIES = 300  # pages of ~25 kB: a few MB per process at most
_targets: dict[str, tuple[float, Target]] = {}
_pages: dict[tuple, tuple[float, bytes]] = {}
# Where the per-visitor values go in a cached form: random, so no text typed by the staff
# (a title, an introduction) can contain them.
_NONCE_MARK = f"nonce-{secrets.token_hex(16)}"
_STAMP_MARK = f"horodatage-{secrets.token_hex(16)}"


def _fresh(entry, seconds: int):
    """The value of a cache *entry* (stored_at, value) while younger than *seconds*."""
    if entry is None:
        return None
    age = time.time() - entry[0]
    return entry[1] if 0 <= age < seconds else None


def _remember(store: dict, key, value, limit: int) -> None:
    if len(store) >= limit:
        store.clear()
    store[key] = (time.time(), value)


def cached_target(token: str) -> Target | None:
    """find_target, kept TARGET_SECONDS per process for public links (the objects are
    shared between requests and threads: read only). An invitation is read each time (it
    is answered once; its « already answered » state must show at once)."""
    target = _fresh(_targets.get(token), TARGET_SECONDS)
    if target is None:
        target = find_target(token)
        if target is not None and target.link is not None:
            _remember(_targets, token, target, TARGET_ENTRIES)
    return target


def forget_cached_pages(**kwargs) -> None:
    """Empty this process's caches of targets and pages (on a change of a questionnaire,
    question, link, site or organisation made here; the other processes follow within
    TARGET_SECONDS)."""
    _targets.clear()
    _pages.clear()


def _forget_on_change(sender, **kwargs) -> None:
    forget_cached_pages()
    transaction.on_commit(forget_cached_pages)  # a read made before the commit was stale


for _model in (Survey, Question, SurveyLink, Site, Organisation):
    for _signal in (post_save, post_delete):
        _signal.connect(
            _forget_on_change, sender=_model, dispatch_uid=f"surveys-public-{_model.__name__}"
        )


def _shared_page_allowed(request, target: Target) -> bool:
    """A page cached for everyone is served only to a visitor without a session (so not
    logged in: no personal menu) and without messages waiting to be shown; and only for a
    public link (an invitation is answered once: nothing to share)."""
    cookies = request.COOKIES
    return (
        target.link is not None
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
    )


def _fingerprint(target: Target) -> tuple:
    """Everything a cached page of *target* shows that may change."""
    survey, organisation, site = target.survey, target.organisation, target.site
    return (
        survey.pk,
        survey.updated_at,
        survey.status,
        organisation.pk,
        organisation.name,
        organisation.slug,
        organisation.is_public,
        site.pk if site else None,
        site.name if site else "",
        target.kiosk,
    )


def _no_store(response):
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True)
    return response


_NO_STORE_CACHE_CONTROL = _no_store(HttpResponse()).headers["Cache-Control"]


def _shared_response(body: bytes):
    """A cached page, with the headers _no_store gives (computed once) and « Vary: Cookie »
    (a logged-in member gets another page)."""
    response = HttpResponse(body)
    response.headers["Expires"] = http_date(time.time())
    response.headers["Cache-Control"] = _NO_STORE_CACHE_CONTROL
    response.headers["Vary"] = "Cookie"
    return response


def _unavailable(request, target: Target | None):
    """The clear page for a token that cannot be answered (None when it can)."""
    if target is None:
        return _message_page(
            request,
            None,
            "Ce questionnaire est introuvable",
            "L'adresse ne correspond à aucun questionnaire. Vérifiez qu'elle a été copiée en "
            "entier, ou scannez de nouveau le QR code.",
            404,
        )
    status = target.survey.status
    if status == SurveyStatus.DRAFT:
        return _message_page(
            request,
            target,
            "Ce questionnaire n'est pas encore ouvert",
            "Il sera bientôt disponible. Merci de votre intérêt !",
            404,
        )
    if status == SurveyStatus.CLOSED:
        return _message_page(
            request,
            target,
            "Ce questionnaire est terminé",
            "Il ne reçoit plus de réponses. Merci de votre intérêt !",
            410,
        )
    if target.link is not None and not target.link.active:
        return _message_page(
            request,
            target,
            "Ce lien n'est plus utilisé",
            "Ce questionnaire ne reçoit plus de réponses par ce lien. Merci de votre intérêt !",
            410,
        )
    return None


def _base(target: Target | None) -> str:
    return "surveys/public/kiosk_base.html" if target and target.kiosk else "base.html"


def _page(request, template, target, context, status=200):
    context = {
        "target": target,
        "survey": target.survey if target else None,
        "organisation": target.organisation if target else None,
        "site": target.site if target else None,
        "kiosk": bool(target and target.kiosk),
        "base_template": _base(target),
        "nav": "public",
        **context,
    }
    return _no_store(render(request, template, context, status=status))


def _message_page(request, target, title, text, status):
    return _page(
        request, "surveys/public/message.html", target, {"title": title, "text": text}, status
    )


def _already_page(request, target, status=200):
    """« Vous avez déjà répondu » (an invitation) or « déjà enregistrée » (a repeated form)."""
    return _page(request, "surveys/public/already.html", target, {}, status)


# ----- questions (cached per process while the questionnaire does not change) ---------------

_questions_cache: dict = {}


def questions_of(survey) -> list:
    key = (survey.pk, survey.updated_at)
    found = _questions_cache.get(key)
    if found is None:
        if len(_questions_cache) > 500:
            _questions_cache.clear()
        found = list(survey.questions.all())
        _questions_cache[key] = found
    return found


def _widget(kind: str) -> str:
    if scales.is_text(kind):
        return "text"
    if scales.is_multiple(kind):
        return "checkbox"
    if kind == Kind.NPS:
        return "nps"
    return "radio"


def items(questions, values: dict, errors: dict) -> list[dict]:
    """What the template shows for each question: its options, what is ticked, its error."""
    rows = []
    for question in questions:
        code = question.code
        chosen = values.get(code)
        chosen = set(chosen) if isinstance(chosen, list) else {chosen}
        widget = _widget(question.kind)
        help_text = question.help_text
        if widget == "nps":
            help_text = " ".join(
                filter(None, [help_text, f"{scales.NPS_LOW_LABEL}, {scales.NPS_HIGH_LABEL}."])
            )
        rows.append(
            {
                "question": question,
                "id": f"q-{code}",
                "code": code,
                "widget": widget,
                "label": question.label,
                "help": help_text,
                "required": question.required,
                "value": (values.get(code) or "") if widget == "text" else "",
                "maxlength": scales.VERBATIM_MAX_LENGTH,
                "error": errors.get(code, ""),
                "options": [
                    {
                        "id": f"q-{code}-{index}",
                        "value": option.value,
                        "label": option.label,
                        "checked": option.value in chosen,
                    }
                    for index, option in enumerate(scales.options_for(question), start=1)
                ],
            }
        )
    return rows


def posted_answers(request, questions) -> dict:
    answers = {}
    for question in questions:
        if scales.is_multiple(question.kind):
            answers[question.code] = request.POST.getlist(question.code)
        else:
            answers[question.code] = request.POST.get(question.code, "")
    return answers


# ----- the antibot part ---------------------------------------------------------------------


HONEYPOT_MESSAGE = "Votre avis n'a pas été envoyé : le champ « Ne pas remplir » doit rester vide."
UNVERIFIED_MESSAGE = (
    "Le formulaire n'a pas pu être vérifié : vos réponses sont gardées, envoyez-le de nouveau."
)
TOO_FAST_MESSAGE = (
    "Le formulaire a été envoyé trop vite pour avoir été rempli par une personne : "
    "vérifiez vos réponses, puis envoyez-le de nouveau."
)
TOO_OLD_MESSAGE = (
    "Le formulaire est resté ouvert trop longtemps : vos réponses sont gardées, "
    "vérifiez-les puis envoyez-le de nouveau."
)


def minimum_seconds(kiosk: bool) -> int:
    """The least time to fill the form: PUBLIC_FORM_MIN_SECONDS, 2 s at most on a kiosk."""
    floor = antibot.min_seconds()
    return min(KIOSK_MIN_SECONDS, floor) if kiosk else floor


def antibot_problem(data, *, kiosk: bool, now=None) -> tuple[str, str] | None:
    """(code, French message) of the first antibot check the sent *data* fails: the
    honeypot, then the signed time (genuine, not too fast, not too old). None: it passes.
    The POST path calls it directly; AnswerForm (the error page) says the same."""
    if (data.get(antibot.HONEYPOT_FIELD) or "").strip():
        return "honeypot", HONEYPOT_MESSAGE
    try:
        shown = int(signing.Signer(salt=antibot.SALT).unsign(data.get(antibot.STAMP_FIELD, "")))
    except (signing.BadSignature, ValueError):
        return "timing", UNVERIFIED_MESSAGE
    age = (now or timezone.now()).timestamp() - shown
    if age < minimum_seconds(kiosk):
        return "timing", TOO_FAST_MESSAGE
    if age > antibot.max_seconds():
        return "timing", TOO_OLD_MESSAGE
    return None


class AnswerForm(antibot.AntibotForm):
    """The honeypot and the signed time; in kiosk mode the minimum time is 2 seconds."""

    def __init__(self, *args, kiosk=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kiosk = kiosk

    def minimum_seconds(self) -> int:
        return minimum_seconds(self.kiosk)

    def clean(self):
        data = forms.Form.clean(self)
        problem = antibot_problem(self.data, kiosk=self.kiosk, now=self._now)
        if problem is not None:
            code, message = problem
            self.robot = code == "honeypot"
            raise forms.ValidationError(message, code=code)
        return data


# ----- pages ---------------------------------------------------------------------------------


def _form_page(request, target, questions, *, form, nonce, values=None, errors=None, status=200):
    errors = errors or {}
    shown = items(questions, values or {}, errors)
    summary = [("", "", message) for message in form.non_field_errors()]
    summary += [("", "", message) for message in errors.get("__all__", [])]
    for item in shown:
        if item["error"]:
            anchor = item["id"] if item["widget"] == "text" else item["options"][0]["id"]
            summary.append((anchor, item["label"], item["error"]))
    return _page(
        request,
        "surveys/public/answer.html",
        target,
        {
            "items": shown,
            "form": form,
            "nonce": nonce,
            "nonce_field": NONCE_FIELD,
            "error_list": summary,
            "has_required": any(q.required for q in questions),
        },
        status,
    )


def _blank_form(request, target, questions):
    """The blank questionnaire for a visitor: the page rendered once (per process, state
    and PAGE_SECONDS) with markers, filled with a fresh one-use number and signed time."""
    key = ("form", request.path, *_fingerprint(target))
    page = _fresh(_pages.get(key), PAGE_SECONDS)
    if page is None:
        form = AnswerForm(kiosk=target.kiosk)
        form.fields[antibot.STAMP_FIELD].initial = _STAMP_MARK
        rendered = _form_page(request, target, questions, form=form, nonce=_NONCE_MARK)
        page = rendered.content
        _remember(_pages, key, page, PAGE_ENTRIES)
    body = page.replace(_NONCE_MARK.encode(), new_nonce(target.token).encode(), 1)
    return _shared_response(body.replace(_STAMP_MARK.encode(), antibot.stamp().encode(), 1))


def _checked_form(request, target, now) -> AnswerForm:
    """The antibot form of a POST, validated (for a page that shows the answers again)."""
    form = AnswerForm(request.POST, kiosk=target.kiosk, now=now)
    form.is_valid()
    return form


def _answered(target) -> bool:
    """Whether the invitation behind *target* was answered already."""
    return Response.objects.filter(invitation=target.invitation).exists()


@csrf_exempt  # the signed one-use number is the form's proof of origin; no cookie is set
def answer(request, token):
    """GET: the questionnaire; POST: record the answers, then the thanks page."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    target = cached_target(token)
    problem = _unavailable(request, target)
    if problem is not None:
        return problem
    invited = target.invitation is not None
    if request.method != "POST":
        if invited and _answered(target):
            return _already_page(request, target)
        questions = questions_of(target.survey)
        if _shared_page_allowed(request, target):
            return _blank_form(request, target, questions)
        form = AnswerForm(kiosk=target.kiosk)
        return _form_page(request, target, questions, form=form, nonce=new_nonce(token))
    # POST. An invitation answered already: its unique column refuses a second answer
    # (AlreadyAnswered); the clear page is also shown instead of a correction.
    questions = questions_of(target.survey)
    now = timezone.now()
    allowed = (
        kiosk_hit(target.link, now)
        if target.kiosk
        else antibot.hit(request, scope="avis", now=now, limit=rate_limit())
    )
    if not allowed:
        response = antibot.too_many(request, what="l'envoi des avis")
        add_never_cache_headers(response)
        return response
    values = posted_answers(request, questions)
    sent = request.POST.get(NONCE_FIELD, "")
    number = read_nonce(token, sent)
    if antibot_problem(request.POST, kiosk=target.kiosk, now=now) is not None:
        if invited and _answered(target):
            return _already_page(request, target)
        form = _checked_form(request, target, now)  # invalid: it shows the problem
        return _form_page(
            request,
            target,
            questions,
            form=form,
            nonce=sent if number else new_nonce(token),
            values=values,
            status=400,
        )
    if number is None:
        if invited and _answered(target):
            return _already_page(request, target)
        form = _checked_form(request, target, now)
        form.add_error(None, UNVERIFIED_MESSAGE)
        return _form_page(
            request, target, questions, form=form, nonce=new_nonce(token), values=values, status=400
        )
    try:
        services.submit_response(
            link=target.link,
            invitation=target.invitation,
            answers=values,
            nonce=number,
            now=now,
            questions=questions,
        )
    except services.AlreadyAnswered:
        # an invitation's page says « Vous avez déjà répondu » (as on a GET)
        return _already_page(request, target, status=200 if invited else 409)
    except ValidationError as error:
        if invited and _answered(target):
            return _already_page(request, target)
        errors = (
            {code: messages[0] for code, messages in error.message_dict.items()}
            if hasattr(error, "error_dict")
            else {"__all__": error.messages}
        )
        if "__all__" in errors and isinstance(errors["__all__"], str):
            errors["__all__"] = [errors["__all__"]]
        return _form_page(
            request,
            target,
            questions,
            form=_checked_form(request, target, now),
            nonce=sent,
            values=values,
            errors=errors,
            status=400,
        )
    return HttpResponseRedirect(reverse("surveys:thanks", args=[token]))


def thanks(request, token):
    """« Merci » after an answer; a kiosk goes back to a blank form by itself. Nothing in
    it belongs to the visitor: cached like the blank form."""
    target = cached_target(token)
    if target is None:
        return _unavailable(request, None)
    shared = _shared_page_allowed(request, target)
    key = ("thanks", request.path, *_fingerprint(target))
    if shared:
        page = _fresh(_pages.get(key), PAGE_SECONDS)
        if page is not None:
            return _shared_response(page)
    response = _page(
        request,
        "surveys/public/thanks.html",
        target,
        {
            "thanks_text": target.survey.thanks or services.DEFAULT_THANKS,
            "reset_seconds": KIOSK_RESET_SECONDS,
            "answer_url": reverse("surveys:answer", args=[token]),
        },
    )
    if shared:
        _remember(_pages, key, response.content, PAGE_ENTRIES)
    return response


def _link_or_404(token):
    return _first(SurveyLink.objects.select_related("survey__organisation").filter(token=token))


def public_url(token: str) -> str:
    return settings.BASE_URL + reverse("surveys:answer", args=[token])


def qr(request, token):
    """The QR code (SVG) of a public link, to print on a poster or a counter card."""
    link = _link_or_404(token)
    if link is None:
        return _unavailable(request, None)
    code = segno.make(public_url(token), error="m")
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=8,
        border=4,
        title=f"QR code : {link.survey.title}",
        desc=public_url(token),
        xmldecl=True,
        svgns=True,
        encoding="utf-8",
    )
    body = buffer.getvalue()
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="avis-{token}.svg"'
    patch_cache_control(response, public=True, max_age=3600)
    return response


BUTTON_SVG = """<?xml version="1.0" encoding="utf-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="240" height="56" viewBox="0 0 240 56" \
role="img" aria-labelledby="titre desc">
<title id="titre">{label}</title>
<desc id="desc">{desc}</desc>
<rect x="1" y="1" width="238" height="54" rx="8" ry="8" fill="#000091" stroke="#ffffff" \
stroke-width="2"/>
<g fill="none" stroke="#ffffff" stroke-width="2.5" stroke-linejoin="round">
<path d="M18 16h26a4 4 0 0 1 4 4v14a4 4 0 0 1-4 4H30l-7 6v-6h-5a4 4 0 0 1-4-4V20a4 4 0 0 1 4-4z"/>
</g>
<g fill="#ffffff"><circle cx="24" cy="27" r="2"/><circle cx="31" cy="27" r="2"/>\
<circle cx="38" cy="27" r="2"/></g>
<text x="146" y="34" text-anchor="middle" fill="#ffffff" \
font-family="Arial, Helvetica, 'Liberation Sans', sans-serif" font-size="18" \
font-weight="700">{label}</text>
</svg>
"""


def button(request, token):
    """The « Je donne mon avis » button (a self-contained SVG, no external font) that a
    website embeds in a link to the questionnaire."""
    link = _link_or_404(token)
    if link is None:
        return _unavailable(request, None)
    body = BUTTON_SVG.format(
        label=escape(BUTTON_LABEL),
        desc=escape(f"Donner son avis sur {link.survey.organisation.name}"),
    )
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=86400)
    return response


def embed_snippet(link: SurveyLink) -> str:
    """The HTML a website pastes to show the button (for the staff links page)."""
    url = public_url(link.token)
    image = settings.BASE_URL + reverse("surveys:button", args=[link.token])
    return f'<a href="{url}"><img src="{image}" alt="{BUTTON_LABEL}" width="240" height="56"></a>'


urls = [
    path("avis/<str:token>/", answer, name="answer"),
    path("avis/<str:token>/merci/", thanks, name="thanks"),
    path("avis/<str:token>/qr.svg", qr, name="qr"),
    path("avis/<str:token>/bouton.svg", button, name="button"),
]
