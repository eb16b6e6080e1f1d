"""Helpers for the browser tests: Debian's Chromium through Playwright, axe-core, keyboard walks.

Nothing here downloads a browser: Chromium is the system one (CHROMIUM, /usr/bin/chromium by
default) and axe-core is the copy shipped inside the axe-playwright-python package.
"""

import os
from pathlib import Path

from django.conf import settings
from django.test import Client

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def session_cookie(user, live_server_url: str) -> dict:
    """A Playwright cookie carrying a Django session for `user` (created in the test database)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    return {"name": cookie.key, "value": cookie.value, "url": live_server_url}


def settle(page) -> None:
    """Wait for running CSS transitions and animations (a half-faded text fails contrast)."""
    page.evaluate(
        """() => Promise.race([
            Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))),
            new Promise(resolve => setTimeout(resolve, 2000)),  // an endless animation
        ])"""
    )


def run_axe(page, axe_js: str) -> list[dict]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the settled page; return the violations."""
    settle(page)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_js)
    return page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        }).then(results => results.violations.map(v => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
        })))""",
        WCAG_TAGS,
    )


def describe_violations(where: str, violations: list[dict]) -> str:
    """One readable block per violation: rule, impact, help, then each offending node."""
    lines = [f"{where}: {len(violations)} violation(s) axe (WCAG 2.1 A/AA)"]
    for v in violations:
        lines.append(f"  - [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"      {target}\n        {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"      … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


# Elements a keyboard user must be able to reach, as seen by the browser (visible, enabled):
# each gets a data-tab-id so that the walk below can tell them apart.
FOCUSABLE_JS = """() => {
    const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
    const found = [...document.querySelectorAll(selector)].filter(el => {
        if (el.disabled || el.tabIndex < 0 || el.type === 'hidden') return false;
        if (!el.checkVisibility({visibilityProperty: true})) return false;
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0;
    });
    // One stop per radio group: the browser tabs to the group, arrows move inside it.
    const groups = new Set();
    return found.filter(el => {
        if (el.type !== 'radio') return true;
        if (groups.has(el.name)) return false;
        groups.add(el.name);
        return true;
    }).map((el, i) => {
        el.dataset.tabId = String(i);
        const label = (el.innerText || el.value || el.name || el.id || '').trim().slice(0, 60);
        return {id: String(i), what: `<${el.tagName.toLowerCase()}> ${label}`};
    });
}"""

ACTIVE_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    // A focus ring drawn on the element or, as the design system does for enlarged links, on
    // one of its pseudo-elements. Not :focus-visible means focus sits inside the element's
    // own shadow tree (the clock button of a time input), which the browser rings itself.
    const ringed = pseudo => {
        const style = getComputedStyle(el, pseudo);
        return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    };
    const outlined = !el.matches(':focus-visible') || [null, '::before', '::after'].some(ringed);
    return {id: el.dataset.tabId ?? `untracked <${el.tagName.toLowerCase()}>`, outlined};
}"""


def focusable(page) -> dict[str, str]:
    """{tab id: description} of every element of the page a keyboard user should reach."""
    return {item["id"]: item["what"] for item in page.evaluate(FOCUSABLE_JS)}


def tab_walk(page, limit: int = 400) -> tuple[list[str], set[str]]:
    """Press Tab from the top of a freshly loaded page until focus leaves it.

    Returns the tab ids (see `focusable`) in the order they got focus, and the ids of those
    that showed no focus ring (outline) while focused.
    """
    reached, unringed = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE_JS)
        if active is None or (reached and active["id"] == reached[0]):
            break
        if not active["outlined"]:
            unringed.add(active["id"])
        if not reached or reached[-1] != active["id"]:  # time inputs take one Tab per segment
            reached.append(active["id"])
    return reached, unringed
