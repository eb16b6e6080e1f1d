"""The demo field reports (seed_demo)."""

import io

from django.core.management import call_command

from voix.field_reports import demo
from voix.field_reports.models import FieldReport, Status


def test_the_demo_has_triaged_and_new_reports_including_a_relays(db):
    call_command("seed_demo", stdout=io.StringIO())
    reports = FieldReport.objects.filter(organisation__slug="caf-mayenne-demo")
    assert reports.count() == 36
    assert set(reports.values_list("status", flat=True)) == set(Status.values)
    assert reports.filter(site__slug="france-services-evron").exists()
    demo.seed()
    assert reports.count() == 36
