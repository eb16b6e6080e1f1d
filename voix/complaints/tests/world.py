"""Data of the complaints app added to the test world (conftest.build_world).

- ``w.complaint_theme``, ``w.complaint_other_theme`` (« Délais de paiement », « Accueil »),
  ``w.complaint_cause`` (« Pièce manquante »): the Caf's tagging lists;
  ``w.outsider_complaint_theme`` of the other body;
- ``w.complaint``: a complaint from the public form about ``w.site``, with an e-mail (so
  acknowledged at once), not answered;
- ``w.relay_complaint``: filed by the partner for ``w.relay`` (e-mail and consent);
- ``w.mediation``: a complaint answered by e-mail, then referred to the médiateur by the
  requester (``w.mediation.complaint``), not taken yet;
- ``w.outsider_complaint``: a complaint of the other organisation.

Everything is built through the services, without messages (nothing commits in a test).
"""


def extend_world(w):
    from voix.complaints import services
    from voix.complaints.models import AnswerVia, Intake, Kind

    with services.without_messages():
        w.complaint_theme = services.save_theme(None, w.caf, label="Délais de paiement")
        w.complaint_other_theme = services.save_theme(None, w.caf, label="Accueil")
        w.complaint_cause = services.save_root_cause(None, w.caf, label="Pièce manquante")
        w.outsider_complaint_theme = services.save_theme(None, w.other, label="Thème ailleurs")
        w.complaint = services.file_complaint(
            None,
            w.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Versement de mon allocation en retard",
            body="Mon allocation n'est pas arrivée ce mois-ci, malgré mes relances.",
            full_name="Camille Exemple",
            email="camille.exemple@example.org",
            site=w.site,
            consent=True,
        )
        w.relay_complaint = services.file_complaint(
            w.people["partenaire"],
            w.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.RELAY,
            subject="Dossier de logement bloqué",
            body="La personne attend une réponse sur son aide au logement depuis deux mois.",
            full_name="Dominique Relais",
            email="dominique.relais@example.org",
            relay=w.relay,
            consent=True,
        )
        mediated = services.file_complaint(
            None,
            w.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Contestation d'un indu",
            body="Je conteste le remboursement qui m'est demandé pour l'an dernier.",
            full_name="Alex Médiation",
            email="alex.mediation@example.org",
            site=w.site,
            consent=True,
        )
        services.send_answer(
            w.people["qualite"],
            mediated,
            text="Après examen, l'indu est confirmé : il résulte d'une déclaration tardive.",
            via=AnswerVia.EMAIL,
        )
        w.mediation = services.escalate_to_mediation(
            None, mediated, reason="Je ne suis pas d'accord avec la réponse reçue."
        )
        w.outsider_complaint = services.file_complaint(
            None,
            w.other,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Attente à l'accueil",
            body="J'ai attendu deux heures à l'accueil de Metz sans être reçu.",
            email="metz@example.org",
            site=w.other_site,
            consent=True,
        )
    return w


def public_complaint(w, *, actor=None, organisation=None, **fields):
    """File a complaint as the public form would (fields override the defaults)."""
    from voix.complaints import services
    from voix.complaints.models import Intake, Kind

    values = dict(
        kind=Kind.COMPLAINT,
        intake=Intake.FORM,
        subject="Une réclamation de test",
        body="Le texte de la réclamation, assez long pour être accepté.",
        full_name="Sam Test",
        email="sam.test@example.org",
        site=w.site,
        consent=True,
    )
    values.update(fields)
    return services.file_complaint(actor, organisation or w.caf, **values)
