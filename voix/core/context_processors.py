from .models import Role
from .scoping import has_role

THEMES = (("light", "Thème clair"), ("dark", "Thème sombre"), ("system", "Système"))


def voix(request):
    """What every page needs: whether to show the administration menu, the theme choices."""
    user = getattr(request, "user", None)
    staff = bool(user and user.is_authenticated)
    return {
        "can_administer": staff and has_role(user, Role.ADMIN),
        # Every role reads dashboards (a partner, its own relay's results).
        "can_pilot": staff and has_role(user, *Role.values),
        # The reception queue: counters, live figures, settings (not the mediators).
        "can_receive": staff
        and has_role(user, Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN, Role.PARTENAIRE),
        # Appointments: the agenda, booking for someone (agents, managers, administrators).
        "can_book": staff and has_role(user, Role.AGENT, Role.MANAGER, Role.ADMIN),
        # A relay advisor books for the people they help and follows their bookings.
        "can_refer": staff and has_role(user, Role.PARTENAIRE),
        "can_manage_quality": staff and has_role(user, Role.QUALITE, Role.ADMIN),
        # The users' voice: surveys (links for the front line, results for the managers),
        # complaints (handled by the body's staff, filed by relays), mediation, field reports.
        "can_survey": staff
        and has_role(user, Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN, Role.PARTENAIRE),
        "can_handle_complaints": staff
        and has_role(user, Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN),
        "can_mediate": staff and has_role(user, Role.MEDIATEUR),
        "can_report": staff
        and has_role(user, Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN, Role.PARTENAIRE),
        "theme_choices": THEMES,
    }
