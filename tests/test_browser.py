"""Voix in a real browser: accessibility (axe-core, WCAG 2.1 A/AA), keyboard use, no-JS forms.

Debian's Chromium is driven by Playwright against pytest-django's live server. Every page a
persona can open (tests/pages.py) is checked with axe-core; the public pages also in the dark
theme. Screenshots of the main pages go to screenshots/ (git-ignored) for a human to look at.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
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


@pytest.fixture(scope="session")
def axe_js():
    return axe_source()


@pytest.fixture
def live_world(transactional_db):
    return build_world()


@pytest.fixture
def server(request, live_world):
    """pytest-django's live server, asked for at run time rather than by name, on purpose.

    A test that names `live_server` gets its `transactional_db` from pytest-django's autouse
    helper, set up before the root conftest's audit-guard fixture and so torn down after it:
    the flush then meets the reinstalled append-only triggers and fails. Asked for here, the
    database comes from `live_world` (after the guards are lifted) and is flushed before they
    come back.
    """
    live_server = request.getfixturevalue("live_server")
    live_server._live_server_modified_settings.enable()
    yield live_server
    live_server._live_server_modified_settings.disable()


def _keep_local(route):
    """Nothing leaves the machine: any request outside the live server is refused."""
    if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def open_page(browser, server, live_world):
    """open_page("admin", dark=True) → a new page of a fresh context, logged in as the persona.

    Uncaught JavaScript errors are collected in `page.js_errors`.
    """
    contexts = []

    def make(persona="anonyme", *, dark=False, javascript=True):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="fr-FR",
            java_script_enabled=javascript,
        )
        contexts.append(context)
        context.route("**/*", _keep_local)
        if dark:
            context.add_init_script("window.localStorage.setItem('scheme', 'dark');")
        user = live_world.people[persona]
        if user is not None:
            context.add_cookies([session_cookie(user, server.url)])
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def url_of(server, name, **kwargs):
    return server.url + reverse(name, kwargs=kwargs)


def visit(page, url, *, dark=False):
    """Open the page and wait until the design system's script has set the theme."""
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
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
    assert not failures, "\n\n".join(failures)
    assert not page.js_errors, page.js_errors


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
    assert not failures, "\n\n".join(failures)


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
    for _ in range(limit):
        page.keyboard.press("Tab")
        if active_element(page)["name"] == field_name:
            return
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
    assert sum("<input>" in what for what in expected.values()) == 20  # 5 days × 2 × 2
    reached = tab_walk(page)
    missing = [expected[i] for i in expected if i not in reached]
    assert not missing, f"inaccessibles au clavier : {missing}"
    strays = [stop for stop in reached if stop not in expected]
    assert not strays, f"le focus se pose sur des éléments invisibles : {strays}"
    # The tab order follows the page: Monday morning before Monday afternoon before Tuesday.
    inputs = page.evaluate(
        "() => [...document.querySelectorAll('main input:not([type=hidden])')]"
        ".map(el => el.dataset.tabId)"
    )
    order = [stop for stop in reached if stop in inputs]
    assert order == inputs


# Without JavaScript ----------------------------------------------------------------------


def test_login_works_without_javascript(server, live_world, open_page):
    page = open_page(javascript=False)
    page.goto(url_of(server, "core:login"))
    page.fill("input[name=username]", live_world.people["agent"].email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Se connecter").last.click()
    page.wait_for_url(url_of(server, "core:home"))
    assert page.locator("h1").inner_text() == "Mon espace"


def test_password_reset_request_works_without_javascript(server, live_world, open_page):
    page = open_page(javascript=False)
    page.goto(url_of(server, "core:password_reset"))
    page.fill("input[name=email]", live_world.people["agent"].email)
    page.get_by_role("button", name="Recevoir le lien").click()
    page.wait_for_url(url_of(server, "core:password_reset_done"))


# Screenshots -----------------------------------------------------------------------------


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
    ]
    pages = {}
    for persona, filename, name, kwargs in shots:
        if persona not in pages:
            pages[persona] = open_page(persona)
        page = pages[persona]
        visit(page, url_of(server, name, **kwargs))
        # The style sheets really applied: the DSFR header has its layout, not raw HTML.
        assert page.evaluate(
            "() => getComputedStyle(document.querySelector('.fr-header')).boxShadow !== 'none'"
        ), f"{name} : feuilles de style du DSFR absentes"
        page.screenshot(path=SCREENSHOTS / f"{filename}.png", full_page=True)
    dark = open_page(dark=True)
    visit(dark, url_of(server, "core:site_public", slug=caf.slug, site_slug=site.slug), dark=True)
    dark.screenshot(path=SCREENSHOTS / "site-sombre.png", full_page=True)
