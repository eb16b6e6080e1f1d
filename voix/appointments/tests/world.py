"""Data of the appointments app added to the test world (conftest.build_world): three
reasons at the siège, two advisors' opening slots, a public booking and a partner's one."""

from datetime import date, time

from conftest import PASSWORD
from voix.appointments import services
from voix.appointments.models import Audience, Channel, Mode
from voix.core import services as core_services
from voix.core.models import Role

SINCE = date(2020, 1, 1)


def extend_world(w):
    w.rdv_reason = services.save_reason(
        None,
        w.caf,
        label="Question sur mon dossier",
        description="Apportez votre dernier avis d'imposition.",
        duration_minutes=20,
        on_site=True,
        phone=True,
        video=True,
        audience=Audience.PUBLIC,
        sites=[w.site],
    )
    w.rdd_reason = services.save_reason(
        None,
        w.caf,
        label="Rendez-vous des droits",
        duration_minutes=60,
        on_site=True,
        phone=False,
        video=True,
        audience=Audience.PARTNER,
        sites=[w.site],
    )
    w.agent_reason = services.save_reason(
        None,
        w.caf,
        label="Suivi social",
        duration_minutes=40,
        audience=Audience.AGENT,
        sites=[w.site],
    )
    w.advisor = w.people["agent"]
    w.advisor2 = core_services.create_person(
        None, email="advisor2@test.localhost", full_name="Conseillère Deux", password=PASSWORD
    )
    core_services.add_membership(None, w.advisor2, w.caf, Role.AGENT, site=w.site)
    for weekday in range(5):
        for starts, ends in ((time(9), time(12)), (time(14), time(16, 30))):
            services.save_opening_slot(
                None, w.advisor, w.site, weekday=weekday, starts=starts, ends=ends, valid_from=SINCE
            )
    for weekday in (0, 1, 3):
        services.save_opening_slot(
            None,
            w.advisor2,
            w.site,
            weekday=weekday,
            starts=time(9),
            ends=time(12),
            valid_from=SINCE,
        )
    w.other_reason = services.save_reason(
        None, w.other, label="Accueil sur rendez-vous", sites=[w.other_site]
    )
    # the world's people are fictitious: no message for their bookings
    with services.without_messages():
        slot = services.first_available(w.rdv_reason, w.site)
        w.appointment = services.book(
            None,
            w.rdv_reason,
            site=w.site,
            mode=Mode.ON_SITE,
            starts_at=slot.starts_at,
            channel=Channel.PUBLIC,
            full_name="Camille Usager",
            phone="06 12 34 56 78",
            email="camille@example.org",
            consent=True,
        )
        slot = services.first_available(w.rdd_reason, w.site, channel=Channel.PARTNER)
        w.partner_appointment = services.book(
            w.people["partenaire"],
            w.rdd_reason,
            site=w.site,
            mode=Mode.ON_SITE,
            starts_at=slot.starts_at,
            channel=Channel.PARTNER,
            full_name="Dominique Relais",
            phone="07 11 22 33 44",
            consent=True,
            relay=w.relay,
            referral_note="Séparation récente, revenus en baisse.",
        )
    return w
