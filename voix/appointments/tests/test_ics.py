"""The .ics attached to appointment e-mails: RFC 5545 lines, folding and escaping."""

from datetime import UTC, datetime

import pytest

from voix.appointments import ics, links
from voix.appointments.models import Mode, Status


def unfold(text: str) -> list[str]:
    """The content lines of an iCalendar text (RFC 5545 §3.1: CRLF + one space/tab)."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text[:-2].replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            following = value[i + 1]
            out.append("\n" if following in "nN" else following)
            i += 2
            continue
        assert ch not in ",;", f"unescaped {ch!r} in {value!r}"
        out.append(ch)
        i += 1
    return "".join(out)


def properties(text: str) -> dict[str, str]:
    """name → value of the VEVENT's properties (the first of each name, params dropped)."""
    found, inside = {}, False
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            inside = True
        elif line == "END:VEVENT":
            inside = False
        elif inside and line != "BEGIN:VALARM":
            name, _, value = line.partition(":")
            found.setdefault(name.split(";")[0], value)
    return found


def test_a_confirmed_appointment_has_uid_times_in_utc_and_its_version(world):
    appointment = world.appointment
    text = ics.appointment_ics(appointment, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and "METHOD:REQUEST" in lines
    event = properties(text)
    assert event["UID"] == f"{appointment.reference}@voix"
    assert event["DTSTAMP"] == "20260102T030405Z"
    assert event["DTSTART"] == appointment.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == appointment.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["SEQUENCE"] == str(appointment.version)
    assert event["STATUS"] == "CONFIRMED"
    assert unescape(event["SUMMARY"]) == "Rendez-vous Caf test : Question sur mon dossier"
    assert unescape(event["LOCATION"]) == "Siège test, 1 rue A, 53000 Laval"
    description = unescape(event["DESCRIPTION"])
    assert links.manage_url(appointment).split("/mon-rendez-vous/")[0] in description
    assert "Déplacer ou annuler : http" in description
    assert appointment.reference in description
    assert event["ATTENDEE"] == "mailto:camille@example.org"
    assert event["ORGANIZER"].startswith("mailto:")


def test_every_line_is_at_most_75_octets_and_crlf_terminated(world):
    appointment = world.appointment
    appointment.full_name = "Éloïse-Bérénice " * 12  # long, with multi-byte characters
    text = ics.appointment_ics(appointment)
    assert text.endswith("\r\n")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)  # something was folded
    text.encode("utf-8").decode("utf-8")  # no character cut in two
    attendee = next(line for line in unfold(text) if line.startswith("ATTENDEE"))
    assert attendee.startswith('ATTENDEE;CN="' + "Éloïse-Bérénice " * 12 + '"')


def test_fold_splits_on_characters_not_bytes_and_unfolds_back():
    line = "DESCRIPTION:" + "é" * 100 + "x" * 50
    folded = ics.fold(line)
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
    assert ics.fold("SHORT:ok") == "SHORT:ok"


@pytest.mark.parametrize(
    "raw,escaped",
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("ligne 1\nligne 2", "ligne 1\\nligne 2"),
        ("ligne 1\r\nligne 2", "ligne 1\\nligne 2"),
        ("C:\\dossier; n°1, « bis »", "C:\\\\dossier\\; n°1\\, « bis »"),
    ],
)
def test_text_escaping(raw, escaped):
    assert ics.escape_text(raw) == escaped
    assert unescape(escaped) == raw.replace("\r\n", "\n")


def test_tricky_text_survives_the_round_trip(world):
    appointment = world.appointment
    reason = appointment.reason
    reason.label = "Droits; aides, logement \\ « APL »"
    site = appointment.site
    site.name = "Antenne Nord, bâtiment B; 2e étage"
    text = ics.appointment_ics(appointment)
    event = properties(text)
    assert unescape(event["SUMMARY"]) == "Rendez-vous Caf test : Droits; aides, logement \\ « APL »"
    assert unescape(event["LOCATION"]).startswith("Antenne Nord, bâtiment B; 2e étage, 1 rue A")
    description = unescape(event["DESCRIPTION"])
    assert description.splitlines()[0] == "Motif : Droits; aides, logement \\ « APL »"


def test_a_cancellation_is_method_cancel_and_status_cancelled(world):
    appointment = world.appointment
    appointment.status = Status.CANCELLED
    appointment.version = 3
    text = ics.appointment_ics(appointment, method="CANCEL")
    assert "METHOD:CANCEL" in unfold(text)
    event = properties(text)
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == "3"
    assert event["UID"] == f"{appointment.reference}@voix"
    assert "BEGIN:VALARM" not in text


def test_phone_and_video_locations(world):
    appointment = world.appointment
    appointment.mode = Mode.PHONE
    assert unescape(properties(ics.appointment_ics(appointment))["LOCATION"]) == "Par téléphone"
    appointment.mode = Mode.VIDEO
    appointment.video_link = "https://visio.exemple.fr/caf-abc"
    event = properties(ics.appointment_ics(appointment))
    assert event["LOCATION"] == "https://visio.exemple.fr/caf-abc"
    assert "https://visio.exemple.fr/caf-abc" in unescape(event["DESCRIPTION"])


def test_an_unknown_method_is_refused(world):
    with pytest.raises(ValueError, match="Méthode iCalendar inconnue"):
        ics.appointment_ics(world.appointment, method="DELETE")
