"""Data of this app added to the test world (conftest.build_world).

- ``w.field_report``: filed by the agent about the siège, new;
- ``w.relay_report``: filed by the partner for its relay ``w.relay``, new;
- ``w.accepted_report``: filed by the manager, accepted by the quality manager;
- ``w.declined_report``: filed by the agent, declined by the quality manager.
"""


def extend_world(w):
    from voix.field_reports import services

    themes = services.themes_for(w.caf)
    w.field_theme = themes[0]
    w.field_theme_other = themes[1]
    agent, qualite = w.people["agent"], w.people["qualite"]
    w.field_report = services.file_report(
        agent,
        w.caf,
        description="Plusieurs usagers ne trouvent pas le formulaire de déclaration en ligne.",
        theme=w.field_theme,
        users_affected="quelques_uns",
        urgency="moyenne",
        suggestion="Un lien direct depuis la page d'accueil.",
        site=w.site,
    )
    w.relay_report = services.file_report(
        w.people["partenaire"],
        w.caf,
        description="Les usagers reçus au relais n'ont pas reçu leur courrier de notification.",
        theme=w.field_theme_other,
        users_affected="beaucoup",
        urgency="forte",
    )
    w.accepted_report = services.file_report(
        w.people["manager"],
        w.caf,
        description="La borne d'accueil affiche des horaires erronés le samedi.",
        theme=w.field_theme,
        users_affected="nombre",
        users_affected_count=30,
        urgency="faible",
        site=w.site,
    )
    services.accept_report(qualite, w.accepted_report)
    w.declined_report = services.file_report(
        agent,
        w.caf,
        description="Le distributeur de café du hall est en panne depuis lundi.",
        theme=w.field_theme_other,
        users_affected="un",
        urgency="faible",
    )
    services.decline_report(
        qualite, w.declined_report, reason="Hors du champ de la relation usager."
    )
    for report in (w.accepted_report, w.declined_report):
        report.refresh_from_db()
    return w
