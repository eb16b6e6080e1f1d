import pytest
from django.http import Http404

from voix.core import services
from voix.core.models import Organisation, Role, Site
from voix.core.scoping import (
    get_scoped_or_404,
    has_role,
    scope_for,
    scoped,
    visible_organisations,
    visible_sites,
)


def test_staff_sees_their_organisation_and_all_its_sites(world):
    sites = set(visible_sites(world.people["agent"]))
    assert sites == {world.site, world.relay, world.other_relay}


def test_partner_sees_only_their_relay(world):
    partner = world.people["partenaire"]
    assert list(visible_sites(partner)) == [world.relay]
    assert list(visible_organisations(partner)) == []


def test_outsider_sees_nothing_of_another_organisation(world):
    outsider = world.people["outsider"]
    assert set(visible_sites(outsider)) == {world.other_site}
    assert set(visible_organisations(outsider)) == {world.other}


def test_outsider_gets_404_not_403(world):
    with pytest.raises(Http404):
        get_scoped_or_404(Site.objects.all(), world.people["outsider"], site="pk", pk=world.site.pk)


def test_partner_gets_404_on_the_neighbouring_relay(world):
    with pytest.raises(Http404):
        get_scoped_or_404(
            Site.objects.all(), world.people["partenaire"], site="pk", pk=world.other_relay.pk
        )


def test_network_member_sees_the_bodies_below(world):
    network_lead = services.create_person(None, email="reseau@test.localhost", full_name="Réseau")
    services.add_membership(None, network_lead, world.network, Role.QUALITE)
    assert set(visible_organisations(network_lead)) == {world.network, world.caf}
    assert has_role(network_lead, Role.QUALITE, organisation=world.caf)
    assert not has_role(network_lead, Role.QUALITE, organisation=world.other)


def test_person_without_membership_sees_nothing(world):
    user = world.people["sans_role"]
    assert scope_for(user).is_empty
    assert not visible_sites(user).exists()


def test_superuser_sees_everything(world):
    operator = services.create_person(None, email="op@test.localhost", full_name="Opérateur")
    operator.is_superuser = True
    operator.save()
    assert scoped(Organisation.objects.all(), operator, organisation="pk", site=None).count() == 3


def test_scope_follows_a_new_membership(world):
    user = world.people["sans_role"]
    assert scope_for(user).is_empty
    services.add_membership(None, user, world.other, Role.AGENT)
    assert set(visible_organisations(user)) == {world.other}


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_sites(AnonymousUser()).exists()
