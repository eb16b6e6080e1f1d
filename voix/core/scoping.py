"""What a person may see — the one place that turns a user into a scope.

Rules:
- a membership in an organisation (any role but « partenaire ») opens that organisation
  and every organisation below it (a network member sees its bodies);
- a « partenaire » membership opens one relay site only, never the rest of the body;
- a superuser (platform operator) sees everything;
- anything outside the scope answers 404, so its existence is not revealed.

Every app filters its querysets with :func:`scoped` (or :func:`get_scoped_or_404`).
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Membership, Organisation, Role, Site


@dataclass(frozen=True)
class Scope:
    """The organisations and relay sites one person may see, with their roles."""

    organisation_ids: frozenset = frozenset()
    relay_site_ids: frozenset = frozenset()
    # organisation id -> roles held there (inherited by the organisations below)
    roles: dict = field(default_factory=dict)
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.organisation_ids or self.relay_site_ids)

    def all_roles(self) -> set[str]:
        return set().union(*self.roles.values()) if self.roles else set()

    def roles_in(self, organisation_id: int) -> set[str]:
        return set(self.roles.get(organisation_id, set()))


def _descendants(root_ids: set[int]) -> dict[int, int]:
    """Map every organisation under the roots (roots included) to the root it came from."""
    origin = {pk: pk for pk in root_ids}
    frontier = set(root_ids)
    while frontier:
        children = Organisation.objects.filter(parent_id__in=frontier).values_list(
            "pk", "parent_id"
        )
        frontier = set()
        for pk, parent_id in children:
            if pk not in origin:
                origin[pk] = origin[parent_id]
                frontier.add(pk)
    return origin


def scope_for(user) -> Scope:
    """Compute (once per request: cached on the user object) what *user* may see."""
    if not getattr(user, "is_authenticated", False):
        return Scope()
    cached = getattr(user, "_voix_scope", None)
    if cached is not None:
        return cached
    memberships = list(
        Membership.objects.filter(user=user).values_list("organisation_id", "site_id", "role")
    )
    direct: dict[int, set[str]] = {}
    relay_sites: set[int] = set()
    for organisation_id, site_id, role in memberships:
        if role == Role.PARTENAIRE:
            relay_sites.add(site_id)
        else:
            direct.setdefault(organisation_id, set()).add(role)
    roles: dict[int, set[str]] = {}
    for pk, root in _descendants(set(direct)).items():
        roles.setdefault(pk, set()).update(direct[root])
    for organisation_id, _site_id, role in memberships:
        if role == Role.PARTENAIRE:
            roles.setdefault(organisation_id, set()).add(role)
    scope = Scope(
        organisation_ids=frozenset(pk for pk, held in roles.items() if held - {Role.PARTENAIRE}),
        relay_site_ids=frozenset(relay_sites),
        roles=roles,
        everything=bool(user.is_superuser),
    )
    user._voix_scope = scope
    return scope


def forget_scope(user) -> None:
    """Drop the cached scope after a membership change."""
    if hasattr(user, "_voix_scope"):
        del user._voix_scope


def scoped(
    queryset: QuerySet,
    user,
    *,
    organisation: str | None = "organisation",
    site: str | None = "site",
) -> QuerySet:
    """Filter *queryset* to the rows *user* may see.

    ``organisation`` and ``site`` are the lookup paths from the model to its Organisation
    and to its Site (``None`` when the model has none). Partners see only rows tied to
    their relay site.
    """
    scope = scope_for(user)
    if scope.everything:
        return queryset
    condition = Q(pk__in=[])
    if organisation is not None and scope.organisation_ids:
        condition |= Q(**{f"{organisation}__in": scope.organisation_ids})
    if site is not None and scope.relay_site_ids:
        condition |= Q(**{f"{site}__in": scope.relay_site_ids})
    return queryset.filter(condition)


def get_scoped_or_404(
    queryset: QuerySet, user, *, organisation="organisation", site="site", **lookup
):
    """Fetch one row inside *user*'s scope, or raise 404 (never 403: no existence leak)."""
    try:
        return scoped(queryset, user, organisation=organisation, site=site).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404("Introuvable.") from exc


def visible_organisations(user) -> QuerySet:
    """Organisations *user* may see in full (partners see none in full)."""
    return scoped(Organisation.objects.all(), user, organisation="pk", site=None)


def visible_sites(user) -> QuerySet:
    """Sites *user* may see: their organisations' sites, or a partner's own relay."""
    return scoped(Site.objects.select_related("organisation"), user, site="pk")


def has_role(user, *roles: str, organisation: Organisation | int | None = None) -> bool:
    """Does *user* hold one of *roles* (in *organisation*, or anywhere when None)?"""
    scope = scope_for(user)
    if scope.everything:
        return True
    if organisation is None:
        return bool(scope.all_roles() & set(roles))
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return bool(scope.roles_in(organisation_id) & set(roles))


def organisations_with_role(user, *roles: str) -> QuerySet:
    """Organisations where *user* holds one of *roles* (directly or from a network above)."""
    scope = scope_for(user)
    if scope.everything:
        return Organisation.objects.all()
    ids = [pk for pk, held in scope.roles.items() if held & set(roles)]
    return Organisation.objects.filter(pk__in=ids)
