"""Voix in a real browser: accessibility (axe-core, WCAG 2.1 A/AA), keyboard use, no-JS forms.

Debian's Chromium is driven by Playwright against pytest-django's live server. Every page a
persona can open (tests/pages.py) is checked with axe-core; the public pages also in the dark
theme. Screenshots of the main pages go to screenshots/ (git-ignored) for a human to look at.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.urls import reverse

from conftest import PASSWORD, PERSONAS, build_world
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    axe_source,
    describe_violations,
    focusable,
    run_axe,
    session_cookie,
    tab_walk,
)
from tests.pages import visible_pages

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium absent ({CHROMIUM}) : installez le paquet Debian « chromium »."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # While Playwright's event loop runs in this thread, Django keeps its database
        # connections per async context (asgiref), not per thread: close both sets, or
        # PostgreSQL refuses to drop the test database ("being accessed by other users").
        connections.close_all()
    connections.close_all()


@pytest.fixture(scope="session")
def axe_js():
    return axe_source()


@pytest.fixture
def live_world(transactional_db):
    return build_world()


@pytest.fixture
def server(live_server, live_world):
    """The live server, with the test world already in its database."""
    return live_server


@pytest.fixture
def open_page(browser, server, live_world):
    """open_page("admin", dark=True) → a new page of a fresh context, logged in as the persona.

    Desktop window by default; phone=True for a 390 px wide screen.

    Uncaught JavaScript errors are collected in `page.js_errors`, requests to anything but the
    live server (fonts, scripts or trackers from elsewhere) in `page.external_requests`.
    """
    contexts = []

    def make(persona="anonyme", *, dark=False, javascript=True, phone=False):
        context = browser.new_context(
            viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
            locale="fr-FR",
            java_script_enabled=javascript,
        )
        contexts.append(context)
        context.set_default_timeout(10_000)  # fail in seconds, not Playwright's 30
        if dark:
            context.add_init_script("window.localStorage.setItem('scheme', 'dark');")
        user = live_world.people[persona]
        if user is not None:
            context.add_cookies([session_cookie(user, server.url)])
        page = context.new_page()
        page.js_errors, page.external_requests = [], []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        page.on(
            "request",
            lambda request: (
                urlsplit(request.url).hostname in LOCAL_HOSTS
                or request.url.startswith("data:")
                or page.external_requests.append(request.url)
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


def url_of(server, name, **kwargs):
    return server.url + reverse(name, kwargs=kwargs)


def visit(page, url, *, dark=False, status=200):
    """Open the page and wait until the design system's script has set the theme."""
    response = page.goto(url)
    assert response.status == status, (url, response.status)
    theme = "dark" if dark else "light"
    page.wait_for_selector(f"html[data-fr-theme='{theme}']", state="attached")
    return response


# Accessibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_visible_page_has_no_axe_violation(persona, server, live_world, open_page, axe_js):
    page = open_page(persona)
    failures = []
    for entry in visible_pages(persona):
        url = url_of(server, entry.name, **entry.args(live_world))
        visit(page, url)
        violations = run_axe(page, axe_js)
        if violations:
            failures.append(describe_violations(f"{persona} — {entry.name} ({url})", violations))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
    assert not page.js_errors, f"erreurs JavaScript : {page.js_errors}"
    assert not page.external_requests, f"requêtes hors de Voix : {page.external_requests}"


@pytest.mark.parametrize("persona", ["anonyme", "admin"])
def test_dark_theme_has_no_axe_violation(persona, server, live_world, open_page, axe_js):
    page = open_page(persona, dark=True)
    failures = []
    for entry in visible_pages(persona):
        url = url_of(server, entry.name, **entry.args(live_world))
        visit(page, url, dark=True)
        violations = run_axe(page, axe_js)
        if violations:
            where = f"{persona}, thème sombre — {entry.name} ({url})"
            failures.append(describe_violations(where, violations))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_small_screen_has_no_axe_violation(server, live_world, open_page, axe_js):
    """The layouts that change on a phone: public pages, the opening-hours grid."""
    caf, site = live_world.caf, live_world.site
    failures = []
    for persona, name, kwargs in [
        ("anonyme", "core:public_index", {}),
        ("anonyme", "core:organisation_public", {"slug": caf.slug}),
        ("anonyme", "core:site_public", {"slug": caf.slug, "site_slug": site.slug}),
        ("admin", "core:admin_site_hours", {"pk": site.pk}),
    ]:
        page = open_page(persona, phone=True)
        url = url_of(server, name, **kwargs)
        visit(page, url)
        violations = run_axe(page, axe_js)
        if violations:
            where = f"{persona}, téléphone — {name} ({url})"
            failures.append(describe_violations(where, violations))
        if name == "core:admin_site_hours":
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "horaires-telephone.png", full_page=True)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_error_pages_have_no_axe_violation(server, live_world, open_page, axe_js):
    failures = []
    for persona, url, status in [
        ("agent", url_of(server, "core:admin_index"), 403),
        ("anonyme", server.url + "/cette-page-n-existe-pas/", 404),
    ]:
        page = open_page(persona)
        visit(page, url, status=status)
        assert page.locator("h1").count() == 1
        violations = run_axe(page, axe_js)
        if violations:
            failures.append(describe_violations(f"{persona} — erreur {status} ({url})", violations))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_opening_hours_errors_are_announced_and_accessible(server, live_world, open_page, axe_js):
    page = open_page("admin")
    visit(page, url_of(server, "core:admin_site_hours", pk=live_world.site.pk))
    page.fill("input[name=monday_matin_fin]", "")  # half an interval: refused on that field
    page.get_by_role("button", name="Enregistrer les horaires").click()
    alert = page.get_by_role("alert")
    assert "Le lundi matin, indiquez" in alert.inner_text()
    assert page.locator("input[name=monday_matin_fin]").get_attribute("aria-invalid") == "true"
    violations = run_axe(page, axe_js)
    assert not violations, describe_violations("horaires refusés", violations)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "horaires-erreur.png", full_page=True)


# Keyboard --------------------------------------------------------------------------------


def active_element(page):
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            return {tag: el.tagName.toLowerCase(), id: el.id, name: el.name || '',
                    text: (el.innerText || '').trim(),
                    visible: box.width > 0 && box.height > 0 && box.bottom > 0
                             && box.top < window.innerHeight};
        }"""
    )


def test_first_tab_reaches_the_skip_link_which_leads_to_the_content(server, open_page):
    page = open_page()
    visit(page, url_of(server, "core:public_index"))
    page.keyboard.press("Tab")
    focused = active_element(page)
    assert focused["tag"] == "a" and focused["text"] == "Aller au contenu", focused
    assert focused["visible"], "le lien d'évitement doit apparaître quand il a le focus"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'contenu'")
    assert page.url.endswith("#contenu")
    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate(
        "() => document.getElementById('contenu').contains(document.activeElement)"
    )


def tab_to(page, field_name, limit=40):
    """Press Tab until the named field has focus (it may already have it: autofocus)."""
    for _ in range(limit):
        if active_element(page)["name"] == field_name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"le champ « {field_name} » n'est pas atteint au clavier")


def test_login_with_the_keyboard_only(server, live_world, open_page):
    page = open_page()
    visit(page, url_of(server, "core:login"))
    tab_to(page, "username")
    page.keyboard.type(live_world.people["admin"].email)
    page.keyboard.press("Tab")
    assert active_element(page)["name"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url_of(server, "core:home"))
    assert page.locator("h1").inner_text() == "Mon espace"


def test_everything_on_the_opening_hours_page_is_reachable_by_tab(server, live_world, open_page):
    page = open_page("admin")
    visit(page, url_of(server, "core:admin_site_hours", pk=live_world.site.pk))
    expected = focusable(page)
    assert sum("<input>" in what for what in expected.values()) == 7 * 2 * 2  # day × slot × end
    reached, unringed = tab_walk(page)
    missing = [expected[i] for i in expected if i not in reached]
    assert not missing, f"inaccessibles au clavier : {missing}"
    strays = [stop for stop in reached if stop not in expected]
    assert not strays, f"le focus se pose sur des éléments invisibles : {strays}"
    invisible_focus = [expected[i] for i in sorted(unringed, key=int)]
    assert not invisible_focus, f"focus sans contour visible : {invisible_focus}"
    # The tab order follows the page: Monday morning before Monday afternoon before Tuesday.
    inputs = page.evaluate(
        "() => [...document.querySelectorAll('main input:not([type=hidden])')]"
        ".map(el => el.dataset.tabId)"
    )
    order = [stop for stop in reached if stop in inputs]
    assert order == inputs


def test_display_settings_dialog_works_with_the_keyboard(server, open_page, axe_js):
    """The footer's « Paramètres d'affichage »: opens, is accessible, switches to dark, closes."""
    page = open_page()
    visit(page, url_of(server, "core:public_index"))
    opener = page.get_by_role("button", name="Paramètres d'affichage")
    dialog = page.locator("#fr-theme-modal")
    focus_in_dialog = (
        "() => document.getElementById('fr-theme-modal').contains(document.activeElement)"
    )

    opener.focus()
    page.keyboard.press("Enter")
    dialog.wait_for(state="visible")
    page.wait_for_function(focus_in_dialog)
    violations = run_axe(page, axe_js)
    assert not violations, describe_violations("fenêtre « Paramètres d'affichage »", violations)
    page.keyboard.press("Escape")  # focus is on « Fermer »: Escape closes
    dialog.wait_for(state="hidden")
    assert active_element(page)["text"] == "Paramètres d'affichage"  # focus goes back

    page.keyboard.press("Enter")
    dialog.wait_for(state="visible")
    page.wait_for_function(focus_in_dialog)
    tab_to(page, "fr-radios-theme")
    page.keyboard.press("Space")  # selects the radio that has focus
    for _ in range(3):
        if page.evaluate("() => document.getElementById('theme-dark').checked"):
            break
        page.keyboard.press("ArrowDown")
    page.wait_for_selector("html[data-fr-theme='dark']", state="attached")
    # The design system keeps Escape for the radios while they have focus: back to « Fermer ».
    page.keyboard.press("Shift+Tab")
    assert active_element(page)["text"] == "Fermer"
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => localStorage.getItem('scheme')") == "dark"


def test_phone_menu_opens_and_is_accessible(server, open_page, axe_js):
    page = open_page("admin", phone=True)
    visit(page, url_of(server, "core:home"))
    page.get_by_role("button", name="Menu").click()
    menu = page.locator("#menu-mobile")
    menu.wait_for(state="visible")
    for link in ("Organismes et lieux d'accueil", "Mon espace", "Administration"):
        assert menu.get_by_role("link", name=link).first.is_visible(), link
    violations = run_axe(page, axe_js)
    assert not violations, describe_violations("menu du téléphone", violations)


# Without JavaScript ----------------------------------------------------------------------


def test_login_works_without_javascript(server, live_world, open_page):
    page = open_page(javascript=False)
    page.goto(url_of(server, "core:login"))
    assert page.locator("html").get_attribute("data-fr-js") is None  # no script ran
    page.fill("input[name=username]", live_world.people["agent"].email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url_of(server, "core:home"))
    assert page.locator("h1").inner_text() == "Mon espace"


def test_password_reset_request_works_without_javascript(server, live_world, open_page):
    page = open_page(javascript=False)
    page.goto(url_of(server, "core:password_reset"))
    assert page.locator("html").get_attribute("data-fr-js") is None
    page.fill("input[name=email]", live_world.people["agent"].email)
    page.get_by_role("button", name="Recevoir le lien").click()
    page.wait_for_url(url_of(server, "core:password_reset_done"))


# Screenshots -----------------------------------------------------------------------------


STYLED_JS = """() => getComputedStyle(document.body).fontFamily.startsWith('Marianne')
    && getComputedStyle(document.querySelector('.fr-skiplinks')).position !== 'static'
    && document.fonts.check('1rem Marianne')"""


def test_screenshots_of_the_main_pages(server, live_world, open_page):
    """Not an assertion on pixels: pictures for a human to check layout and styles."""
    SCREENSHOTS.mkdir(exist_ok=True)
    caf, site = live_world.caf, live_world.site
    shots = [
        ("anonyme", "organisation-publique", "core:organisation_public", {"slug": caf.slug}),
        ("anonyme", "site", "core:site_public", {"slug": caf.slug, "site_slug": site.slug}),
        ("anonyme", "connexion", "core:login", {}),
        ("admin", "mon-espace-admin", "core:home", {}),
        ("admin", "horaires", "core:admin_site_hours", {"pk": site.pk}),
        ("agent", "rdv-agenda", "appointments:agenda", {}),
        ("agent", "rdv-detail", "appointments:detail", {"pk": live_world.partner_appointment.pk}),
        ("partenaire", "rdv-relais", "appointments:relay_index", {}),
        ("manager", "rdv-parametres", "appointments:settings", {}),
        ("anonyme", "avis", "surveys:answer", {"token": live_world.survey_link.token}),
        ("anonyme", "avis-borne", "surveys:answer", {"token": live_world.kiosk_link.token}),
        ("qualite", "enquete", "surveys:edit", {"pk": live_world.survey.pk}),
        ("qualite", "enquete-liens", "surveys:links", {"pk": live_world.survey.pk}),
        ("qualite", "enquete-resultats", "surveys:results", {"pk": live_world.survey.pk}),
        ("anonyme", "reclamation-formulaire", "complaints:public_form", {"slug": caf.slug}),
        (
            "anonyme",
            "reclamation-suivi",
            "complaints:tracking",
            {"token": live_world.complaint.token},
        ),
        ("manager", "reclamations", "complaints:index", {}),
        ("manager", "reclamation-fiche", "complaints:detail", {"pk": live_world.complaint.pk}),
        ("mediateur", "mediation", "complaints:mediation_index", {}),
        ("partenaire", "reclamations-relais", "complaints:relay_index", {}),
        ("agent", "remontee-nouvelle", "field_reports:create", {}),
        ("qualite", "remontees-tri", "field_reports:triage", {}),
        ("qualite", "remontees-synthese", "field_reports:summary", {}),
    ]
    pages = {}
    for persona, filename, name, kwargs in shots:
        if persona not in pages:
            pages[persona] = open_page(persona)
        page = pages[persona]
        visit(page, url_of(server, name, **kwargs))
        # The style sheets really applied (served by the live server), not raw HTML.
        assert page.evaluate(STYLED_JS), f"{name} : feuilles de style du DSFR absentes"
        page.screenshot(path=SCREENSHOTS / f"{filename}.png", full_page=True)
    dark = open_page(dark=True)
    visit(dark, url_of(server, "core:site_public", slug=caf.slug, site_slug=site.slug), dark=True)
    dark.screenshot(path=SCREENSHOTS / "site-sombre.png", full_page=True)


def test_quality_lead_publishes_a_quarter_and_page_poster_and_open_data_agree(
    server, live_world, open_page
):
    """The world's siège has 2025 monthly rates 76, 77, 75 % of 150 visits each:
    Q2 2025 = (114 + 115.5 + 112.5) / 450 = 76.0 %; the Caf as a whole 86.0 %."""
    import csv
    import io

    from pypdf import PdfReader

    page = open_page("qualite")
    page.goto(server.url + reverse("commitments:publications"))
    page.get_by_label("Période à publier").fill("2025-T2")
    page.get_by_role("button", name="Préparer le brouillon").click()
    page.get_by_role("link", name="Publier…").click()
    page.get_by_role("button", name="Publier", exact=True).click()
    assert "Publié" in page.content() or "publié" in page.content()

    public = open_page("anonyme")
    site = live_world.site
    public.goto(
        server.url + reverse("commitments:results_site", args=[live_world.caf.slug, site.slug])
    )
    body = public.locator("main").inner_text()
    assert "76,0 %" in body and "2e trimestre 2025" in body

    poster = public.request.get(
        server.url + reverse("commitments:results_poster", args=[live_world.caf.slug, site.slug])
    )
    assert poster.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(poster.body())).pages)
    assert "76,0 %" in text and "2e trimestre 2025" in text

    data = public.request.get(
        server.url + reverse("commitments:results_csv", args=[live_world.caf.slug])
    )
    rows = list(csv.DictReader(io.StringIO(data.text())))
    figures = {(r["site"], r["indicateur"], r["periode_debut"]): r["valeur"] for r in rows}
    assert figures[(site.name, "attente-20-min", "2025-04-01")] == "76.0"
    assert figures[("", "attente-20-min", "2025-04-01")] == "86.0"


def _tab_to(page, text: str, limit: int = 200) -> None:
    """Press Tab until the focused element's text or label contains *text* (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; if (!e) return "";
            const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
            return (e.innerText || e.value || "") + " " + label + " "
                + (e.getAttribute("aria-label") || ""); }"""
        )
        if text in focused:
            return
    raise AssertionError(f"« {text} » jamais atteint au clavier")


def _press_and_follow(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_public_booking_with_the_keyboard_only_and_without_javascript(
    server, live_world, open_page, settings
):
    """A person books a public appointment, JavaScript off, never touching a mouse."""
    from voix.appointments.models import Appointment

    settings.PUBLIC_FORM_MIN_SECONDS = 0  # the anti-bot delay, not under test here
    page = open_page(javascript=False, phone=True)
    page.goto(url_of(server, "appointments:public_start", org_slug=live_world.caf.slug))
    assert page.locator("html").get_attribute("data-fr-js") is None
    _tab_to(page, "Question sur mon dossier")
    _press_and_follow(page, "Enter")
    _tab_to(page, "Sur place")
    _press_and_follow(page, "Enter")
    if page.locator("main a", has_text="Siège test").count():  # the site step, when shown
        _tab_to(page, "Siège test")
        _press_and_follow(page, "Enter")
    screenshot_dir = SCREENSHOTS
    screenshot_dir.mkdir(exist_ok=True)
    page.screenshot(path=screenshot_dir / "rdv-creneaux.png", full_page=True)
    label = page.locator("main a.fr-icon-calendar-line").first.inner_text().strip()
    _tab_to(page, label)
    _press_and_follow(page, "Enter")
    _tab_to(page, "nom et prénom")
    page.keyboard.type("Alex Martin")
    _tab_to(page, "numéro de téléphone")
    page.keyboard.type("06 98 76 54 32")
    _tab_to(page, "J'accepte")
    page.keyboard.press("Space")
    page.screenshot(path=screenshot_dir / "rdv-coordonnees.png", full_page=True)
    _tab_to(page, "Confirmer le rendez-vous")
    _press_and_follow(page, "Enter")
    page.screenshot(path=screenshot_dir / "rdv-confirmation.png", full_page=True)
    booked = Appointment.objects.get(full_name="Alex Martin")
    assert booked.channel == "public" and booked.phone == "06 98 76 54 32"
    assert booked.reference in page.locator("main").inner_text()


def test_survey_answered_with_the_keyboard_only_and_without_javascript(
    server, live_world, open_page, settings
):
    """A person scans the QR code of the siège and answers, JavaScript off, keyboard only."""
    from voix.surveys.models import Response

    settings.PUBLIC_FORM_MIN_SECONDS = 0  # the anti-bot delay, not under test here
    page = open_page(javascript=False, phone=True)
    page.goto(url_of(server, "surveys:answer", token=live_world.survey_link.token))
    assert page.locator("html").get_attribute("data-fr-js") is None
    before = Response.objects.filter(link=live_world.survey_link).count()
    # A radio group is one tab stop; the arrow keys choose within it.
    _tab_to(page, "Pas bien")
    page.keyboard.press("ArrowDown")  # Moyen
    page.keyboard.press("ArrowDown")  # Très bien
    _tab_to(page, "Très insatisfait")
    for _ in range(4):  # … Très satisfait
        page.keyboard.press("ArrowDown")
    _tab_to(page, "Souhaitez-vous nous en dire plus")
    page.keyboard.type("Accueil rapide et agréable.")
    _tab_to(page, "Envoyer mon avis")
    _press_and_follow(page, "Enter")
    assert "Merci pour votre avis" in page.locator("main").inner_text()
    answer = Response.objects.filter(link=live_world.survey_link).latest("submitted_at")
    assert Response.objects.filter(link=live_world.survey_link).count() == before + 1
    assert (answer.jdma_satisfaction, answer.overall) == (10, 5)
    assert answer.verbatim == "Accueil rapide et agréable."


def test_complaint_filed_with_the_keyboard_only_and_without_javascript(
    server, live_world, open_page, settings
):
    """A person files a complaint from the public page, JavaScript off, keyboard only, and
    lands on the tracking page of their case."""
    from voix.complaints.models import Complaint

    settings.PUBLIC_FORM_MIN_SECONDS = 0
    page = open_page(javascript=False, phone=True)
    page.goto(url_of(server, "complaints:public_form", slug=live_world.caf.slug))
    _tab_to(page, "Objet")
    page.keyboard.type("Attente au téléphone")
    _tab_to(page, "Votre message")
    page.keyboard.type("J'ai attendu quarante minutes au téléphone sans réponse.")
    _tab_to(page, "adresse électronique")
    page.keyboard.type("lea.exemple@example.org")
    _tab_to(page, "J'accepte")
    page.keyboard.press("Space")
    _tab_to(page, "Envoyer ma demande")
    _press_and_follow(page, "Enter")
    page.screenshot(path=SCREENSHOTS / "reclamation-envoyee.png", full_page=True)
    filed = Complaint.objects.get(email="lea.exemple@example.org")
    assert filed.intake == "formulaire" and filed.subject == "Attente au téléphone"
    assert filed.reference in page.locator("main").inner_text()
