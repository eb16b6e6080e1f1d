"""Import pages for the page matrix (tests/pages.py): managers, quality leads and admins."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, Page


def importers(**overrides):
    """Managers, quality leads and administrators (the outsider: of its own organisation)."""
    answers = {
        "anonyme": LOGIN,
        **{persona: FORBIDDEN for persona in ["agent", "mediateur", "partenaire", "sans_role"]},
        "manager": OK,
        "qualite": OK,
        "admin": OK,
        "outsider": OK,
    }
    return {**answers, **overrides}


def _profile(w):
    from voix.contacts import imports
    from voix.contacts.models import ImportKind, ImportProfile

    existing = ImportProfile.objects.filter(organisation=w.caf, name="crm-pages").first()
    if existing is not None:  # the browser test fills several pages from one world
        return existing
    profile = imports.save_profile(
        None,
        w.caf,
        name="crm-pages",
        kind=ImportKind.CONTACTS,
        source="crm",
        mapping=imports.default_mapping(ImportKind.CONTACTS),
    )
    return profile


def _profile_kwargs(w):
    return {"pk": _profile(w).pk}


def _run_kwargs(w):
    from voix.contacts.models import ImportRun

    run = ImportRun.objects.create(
        organisation=w.caf,
        profile=_profile(w),
        filename="contacts.csv",
        state=ImportRun.State.REJECTED,
        rows_total=2,
        rejected=1,
        report=[{"ligne": 2, "colonne": "canal", "motif": "canal « Fax » inconnu."}],
    )
    return {"pk": run.pk}


PAGES = [
    Page("contacts:import_runs", expect=importers()),
    Page("contacts:import_upload", expect=importers()),
    Page("contacts:import_profiles", expect=importers()),
    Page("contacts:import_profile_create", expect=importers()),
    Page("contacts:import_profile_edit", _profile_kwargs, importers(outsider=NOT_FOUND)),
    Page("contacts:import_run", _run_kwargs, importers(outsider=NOT_FOUND)),
    # A download: checked with HEAD (the browser walk opens GET pages only).
    Page("contacts:import_report", _run_kwargs, importers(outsider=NOT_FOUND), method="head"),
]
