from .models import Role
from .scoping import has_role

THEMES = (("light", "Thème clair"), ("dark", "Thème sombre"), ("system", "Système"))


def voix(request):
    """What every page needs: whether to show the administration menu, the theme choices."""
    user = getattr(request, "user", None)
    return {
        "can_administer": bool(user and user.is_authenticated and has_role(user, Role.ADMIN)),
        "theme_choices": THEMES,
    }
