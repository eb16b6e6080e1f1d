"""Imports of contacts and call logs: French files, idempotence, all-or-nothing, reports."""

import csv
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from voix.contacts import imports
from voix.contacts.models import Call, Contact, ContactDay, ImportKind, ImportProfile, ImportRun
from voix.core.models import AuditEvent

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

HEADER = ["N° demande", "Date de réception", "Canal", "Motif", "Agence", "Date réponse"]
MAPPING = {
    "external_id": "N° demande",
    "received_at": "Date de réception",
    "channel": "Canal",
    "reason": "Motif",
    "site": "Agence",
    "first_answer_at": "Date réponse",
}


@pytest.fixture
def profile(world):
    return imports.save_profile(
        None,
        world.caf,
        name="crm",
        label="CRM de la Caf",
        kind=ImportKind.CONTACTS,
        source="crm",
        mapping=MAPPING,
        value_maps={"channel": {"Mél": "courriel", "Tél": "telephone"}},
    )


@pytest.fixture
def call_profile(world):
    return imports.save_profile(
        None,
        world.caf,
        name="telephonie",
        kind=ImportKind.CALLS,
        source="autocom",
        mapping={
            "external_id": "Id appel",
            "started_at": "Début",
            "outcome": "Statut",
            "wait_seconds": "Attente",
            "site": "Site",
        },
        value_maps={
            "outcome": {"Décroché": "agent", "Dissuasion SVI": "svi", "Perdu": "abandonne"}
        },
    )


def write_csv(tmp_path, rows, *, header=HEADER, encoding="cp1252", delimiter=";", name="f.csv"):
    path = tmp_path / name
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def run_import(profile, path, **kwargs):
    with time_machine.travel(NOW, tick=False):
        return imports.import_file(None, profile, path, **kwargs)


GOOD = [
    ["D-1", "15/01/2026 09:30", "Mél", "Revenu de solidarité active", "Siège test", ""],
    ["D-2", "16/01/2026", "Téléphone", "rsa", "siege", "16/01/2026 10:05"],
    ["D-3", "20/01/2026 14:00:30", "Tél", "", "", "21/01/2026 08:00"],
]


def test_a_windows_1252_file_with_semicolons_and_french_dates_lands(world, profile, tmp_path):
    result = run_import(profile, write_csv(tmp_path, GOOD))
    assert result.ok, result.errors
    assert (result.created, result.updated) == (3, 0)
    first = Contact.objects.get(organisation=world.caf, source="crm", external_id="D-1")
    # 09:30 in Paris in winter is 08:30 UTC.
    assert first.received_at == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
    assert first.channel == "courriel"
    assert first.reason == world.reason
    assert first.site == world.site
    assert first.status == "nouveau"
    second = Contact.objects.get(external_id="D-2")
    assert second.first_answer_at == datetime(2026, 1, 16, 9, 5, tzinfo=UTC)
    assert second.status == "repondu"
    third = Contact.objects.get(external_id="D-3")
    assert third.received_at == datetime(2026, 1, 20, 13, 0, 30, tzinfo=UTC)
    assert third.site is None and third.reason is None


def test_a_utf8_file_with_bom_and_commas_lands(world, profile, tmp_path):
    path = write_csv(tmp_path, GOOD, encoding="utf-8-sig", delimiter=",")
    result = run_import(profile, path)
    assert result.ok, result.errors
    assert Contact.objects.filter(source="crm").count() == 3


def test_an_xlsx_file_lands(world, profile, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["X-1", datetime(2026, 2, 3, 10, 15), "Courriel", "rsa", "siege", None])
    sheet.append(["X-2", "04/02/2026 11:00", "Tél", None, None, datetime(2026, 2, 5, 9, 0)])
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    result = run_import(profile, str(path))
    assert result.ok, result.errors
    assert Contact.objects.get(external_id="X-1").received_at == datetime(
        2026, 2, 3, 9, 15, tzinfo=UTC
    )
    assert Contact.objects.get(external_id="X-2").status == "repondu"


def test_empty_lines_short_lines_and_extra_cells_are_read_as_excel_writes_them(
    world, profile, tmp_path
):
    rows = [
        ["D-1", "15/01/2026 09:30", "Mél"],  # the last cells left out
        ["", "", "", "", "", ""],
        [],
        ["D-2", "16/01/2026 10:00", "Tél", "", "", "", "note en marge", "x"],
    ]
    result = run_import(profile, write_csv(tmp_path, rows))
    assert result.ok, result.errors
    assert result.created == 2


def test_reimporting_updates_and_never_duplicates(world, profile, tmp_path):
    run_import(profile, write_csv(tmp_path, GOOD))
    changed = [row[:] for row in GOOD]
    changed[0][2] = "Courrier"
    result = run_import(profile, write_csv(tmp_path, changed, name="g.csv"))
    assert result.ok
    assert (result.created, result.updated) == (0, 3)
    assert Contact.objects.filter(source="crm").count() == 3
    assert Contact.objects.get(external_id="D-1").channel == "courrier"


def test_a_reimport_keeps_a_wait_for_documents_until_the_file_says_answered(
    world, profile, tmp_path
):
    from voix.contacts import services

    rows = [["P-1", "15/01/2026 09:30", "Mél", "", "", ""]]
    run_import(profile, write_csv(tmp_path, rows))
    contact = Contact.objects.get(external_id="P-1")
    with time_machine.travel(NOW, tick=False):
        services.pause_clock(world.people["agent"], contact)
    run_import(profile, write_csv(tmp_path, rows))
    contact.refresh_from_db()
    assert contact.status == "attente_pieces" and contact.paused_at is not None
    rows[0][5] = "20/01/2026 10:00"
    run_import(profile, write_csv(tmp_path, rows))
    contact.refresh_from_db()
    assert contact.status == "repondu" and contact.paused_at is None


def test_the_same_external_id_from_another_source_is_another_contact(world, profile, tmp_path):
    run_import(profile, write_csv(tmp_path, GOOD))
    profile.source = "autre-crm"
    profile.save()
    result = run_import(profile, write_csv(tmp_path, GOOD))
    assert result.created == 3
    assert Contact.objects.filter(external_id="D-1").count() == 2


def test_a_bad_line_lands_nothing_and_the_report_names_line_column_and_reason(
    world, profile, tmp_path
):
    rows = [*GOOD, ["D-4", "22/01/2026 09:00", "Fax", "rsa", "siege", ""]]
    result = run_import(profile, write_csv(tmp_path, rows))
    assert not result.ok
    assert Contact.objects.filter(source="crm").count() == 0
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (5, "Canal", "canal « Fax » inconnu.")
    ]


def test_unknown_reason_and_site_are_reported(world, profile, tmp_path):
    rows = [["D-1", "15/01/2026 09:30", "Courriel", "Pêche", "Lune", ""]]
    result = run_import(profile, write_csv(tmp_path, rows))
    reasons = {e.column: e.reason for e in result.errors}
    assert reasons["Motif"] == "motif « Pêche » inconnu."
    assert reasons["Agence"].startswith("site « Lune » inconnu")


def test_duplicate_external_ids_inside_one_file_are_reported(world, profile, tmp_path):
    rows = [*GOOD, ["D-2", "17/01/2026 09:00", "Courriel", "", "", ""]]
    result = run_import(profile, write_csv(tmp_path, rows))
    assert not result.ok
    [error] = result.errors
    assert (error.line, error.column) == (5, "N° demande")
    assert "« D-2 » en double" in error.reason and "déjà à la ligne 3" in error.reason
    assert not Contact.objects.filter(source="crm").exists()


def test_an_answer_before_receipt_is_rejected(world, profile, tmp_path):
    rows = [["D-1", "15/01/2026 09:30", "Courriel", "", "", "14/01/2026 17:00"]]
    result = run_import(profile, write_csv(tmp_path, rows))
    [error] = result.errors
    assert (error.line, error.column) == (2, "Date réponse")
    assert error.reason == "la réponse est antérieure à la réception."


def test_a_date_in_the_future_is_rejected(world, profile, tmp_path):
    rows = [["D-1", "03/03/2026 09:30", "Courriel", "", "", ""]]
    result = run_import(profile, write_csv(tmp_path, rows))
    [error] = result.errors
    assert error.reason == "date dans le futur « 03/03/2026 09:30 »."


def test_unreadable_dates_and_missing_ids_are_rejected(world, profile, tmp_path):
    rows = [
        ["", "15/01/2026 09:30", "Courriel", "", "", ""],
        ["D-2", "31/02/2026 09:30", "Courriel", "", "", ""],
        ["D-3", "demain", "Courriel", "", "", ""],
    ]
    result = run_import(profile, write_csv(tmp_path, rows))
    assert [(e.line, e.reason) for e in result.errors] == [
        (2, "identifiant externe manquant."),
        (3, "date illisible « 31/02/2026 09:30 » (attendu jj/mm/aaaa hh:mm)."),
        (4, "date illisible « demain » (attendu jj/mm/aaaa hh:mm)."),
    ]
    assert result.rejected_lines == 3


def test_a_column_missing_from_the_header_is_reported_on_line_1(world, profile, tmp_path):
    path = write_csv(tmp_path, [["D-1", "15/01/2026"]], header=["N° demande", "Date"])
    result = run_import(profile, path)
    assert result.errors[0].line == 1
    assert "colonne « Date de réception »" in result.errors[0].reason


def many_rows(count, start=0):
    """Good rows, one a minute from 05/01/2026 08:00 (some with an answer)."""
    rows = []
    for i in range(start, start + count):
        day, minute = 5 + i // 600, i % 600
        received = f"{day:02d}/01/2026 {8 + minute // 60:02d}:{minute % 60:02d}"
        answered = f"{day + 1:02d}/01/2026 09:00" if i % 3 else ""
        rows.append([f"M-{i}", received, ("Mél", "Tél", "Courriel")[i % 3], "rsa", "", answered])
    return rows


def test_a_file_read_in_several_chunks_lands_whole_with_its_line_numbers(
    world, profile, tmp_path, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    rows = many_rows(9)
    rows[2][0] = " M-2 "  # spaces around an id: read again line by line, accepted
    rows.insert(5, ["", "", "", "", "", ""])  # an empty line of cells (Excel)
    rows.insert(6, [])
    result = run_import(profile, write_csv(tmp_path, rows))
    assert result.ok, result.errors
    assert (result.rows, result.created) == (11, 9)
    assert Contact.objects.filter(source="crm", external_id="M-2").exists()
    assert Contact.objects.filter(source="crm", status="repondu").count() == 6
    rows[10][2] = "Fax"  # line 12, in the third chunk
    rows[9][0] = "M-1"  # line 11: a duplicate of line 3
    result = run_import(profile, write_csv(tmp_path, rows, name="g.csv"))
    assert [(e.line, e.column) for e in result.errors] == [(11, "N° demande"), (12, "Canal")]
    assert "déjà à la ligne 3" in result.errors[0].reason
    assert Contact.objects.filter(source="crm").count() == 9  # the first file, unchanged


def test_a_file_that_turns_out_windows_1252_after_its_first_chunks_lands_once(
    world, profile, tmp_path, monkeypatch
):
    # The first chunks are sent to the database as UTF-8, then a Windows-1252 byte: the
    # file is read again from the start, and the rows sent first are taken back. (Chunks
    # of 4 kB, about 90 rows: on SQLite, one INSERT of 50 rows and the others one by one.)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 70)
    monkeypatch.setattr(imports, "READ_BYTES", 4096)
    monkeypatch.setattr(imports, "_sniff_encoding", lambda sample: "utf-8")
    taken_back = []
    for sink in (imports._PostgresRows, imports._SqliteRows):

        def reset(self, reset=sink.reset):
            taken_back.append(self.rows)
            reset(self)

        monkeypatch.setattr(sink, "reset", reset)
    header = ["id", "recu", "canal", "motif", "agence", "reponse"]
    ascii_profile = imports.save_profile(
        None,
        world.caf,
        name="ascii",
        kind=ImportKind.CONTACTS,
        source="ascii",
        mapping=dict(zip(MAPPING, header, strict=True)),
    )
    rows = [[*row[:2], "courriel", *row[3:]] for row in many_rows(600)]
    rows[-1][4] = "Siège test"  # the only byte out of ASCII, at the end
    path = write_csv(tmp_path, rows, header=header, encoding="cp1252")
    result = run_import(ascii_profile, path)
    assert result.ok, result.errors
    assert len(taken_back) == 1 and taken_back[0] > 0
    assert result.created == 600
    assert Contact.objects.filter(source="ascii").count() == 600
    assert Contact.objects.get(source="ascii", external_id="M-599").site == world.site
    assert [
        (c.received_at.isoformat(), c.status)
        for c in Contact.objects.filter(source="ascii", external_id__in=["M-69", "M-70"]).order_by(
            "external_id"
        )
    ] == [("2026-01-05T08:09:00+00:00", "nouveau"), ("2026-01-05T08:10:00+00:00", "repondu")]


def test_a_big_first_import_builds_the_indexes_and_foreign_keys_again(
    world, profile, tmp_path, monkeypatch
):
    from django.db import IntegrityError, connection, transaction

    def schema():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename = 'contacts_contact' UNION ALL "
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'contacts_contact'::regclass ORDER BY 1"
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'contacts_contact' "
                    "AND type = 'index' ORDER BY name"
                )
            return cursor.fetchall()

    monkeypatch.setattr(imports, "REBUILD_MIN_ROWS", 2)
    before = schema()
    assert any("FOREIGN KEY (site_id)" in sql for _name, sql in before) or (
        connection.vendor == "sqlite"
    )
    bad = many_rows(30)
    bad[25][2] = "Fax"  # rejected: nothing lands, the table is as it was
    result = run_import(profile, write_csv(tmp_path, bad, name="bad.csv"))
    assert result.rejected_lines == 1 and schema() == before
    result = run_import(profile, write_csv(tmp_path, many_rows(30)))
    assert result.ok and "indexes_s" in result.timings
    assert schema() == before
    # The unique index still refuses a duplicate: a second file updates.
    result = run_import(profile, write_csv(tmp_path, many_rows(40), name="g.csv"))
    assert (result.created, result.updated) == (10, 30)
    if connection.vendor == "postgresql":  # and the foreign keys still hold
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("UPDATE contacts_contact SET site_id = -1 WHERE external_id = 'M-1'")


def test_a_landed_file_gets_deadlines_and_one_audit_event(world, profile, tmp_path):
    result = run_import(profile, write_csv(tmp_path, GOOD))
    assert result.ok
    email = Contact.objects.get(external_id="D-1")
    assert email.ack_due_at is not None or email.answer_due_at is not None
    event = AuditEvent.objects.get(action="contacts.importés")
    assert event.changes["créés"] == 3
    assert result.days[0].isoformat() == "2026-01-15"
    assert result.days[-1].isoformat() == "2026-01-21"


def test_imported_deadlines_are_those_the_clocks_compute(world, profile, tmp_path):
    from voix.contacts import clocks

    rows = [
        ["E-1", "15/01/2026 09:30", "Mél", "rsa", "siege", ""],
        ["E-2", "16/01/2026 18:45", "Courrier", "", "", ""],
        ["E-3", "17/01/2026 10:00", "Mél", "", "fs", "19/01/2026 08:00"],
        ["E-4", "18/01/2026 11:00", "Téléphone", "", "siege", ""],
    ]
    run_import(profile, write_csv(tmp_path, rows))
    for contact in Contact.objects.filter(source="crm"):
        expected = Contact.objects.get(pk=contact.pk)
        clocks.compute_deadlines(expected)
        for name in ("ack_due_at", "answer_due_at", "due_at", "warn_at"):
            assert getattr(contact, name) == getattr(expected, name), (contact.external_id, name)
    assert Contact.objects.get(external_id="E-1").due_at is not None


def test_imported_deadlines_around_daylight_saving_changes_are_those_the_clocks_compute(
    world, profile, tmp_path
):
    from voix.contacts import clocks

    rows = [  # the night clocks go forward (29 March 2026) and back (25 October 2025)
        ["S-1", "29/03/2026 01:30", "Mél", "", "", ""],
        ["S-2", "29/03/2026 03:30", "Courrier", "", "", ""],
        ["S-3", "25/10/2025 23:59", "Mél", "", "siege", ""],
        ["S-4", "26/10/2025 02:30", "Mél", "", "fs", ""],
        ["S-5", "26/10/2025 03:30", "Téléphone", "", "", ""],
    ]
    with time_machine.travel(datetime(2026, 4, 2, 12, 0, tzinfo=UTC), tick=False):
        assert imports.import_file(None, profile, write_csv(tmp_path, rows)).ok
    for contact in Contact.objects.filter(source="crm"):
        expected = Contact.objects.get(pk=contact.pk)
        clocks.compute_deadlines(expected)
        for name in ("ack_due_at", "answer_due_at", "due_at", "warn_at"):
            assert getattr(contact, name) == getattr(expected, name), (contact.external_id, name)


def test_bulk_local_times_follow_the_time_zone_hour_by_hour():
    from zoneinfo import ZoneInfo

    import numpy as np

    from voix.contacts import clocks

    utc = np.arange(
        np.datetime64("2025-10-25T20:00", "us"),
        np.datetime64("2026-03-30T04:00", "us"),
        np.timedelta64(37, "m"),
    )
    for name in ("Europe/Paris", "America/Miquelon", "Indian/Reunion"):
        tz = ZoneInfo(name)
        expected = np.array(
            [
                datetime.fromisoformat(str(t))
                .replace(tzinfo=UTC)
                .astimezone(tz)
                .replace(tzinfo=None)
                for t in utc
            ],
            dtype="datetime64[us]",
        )
        assert (clocks._local_naive(utc, tz) == expected).all(), name


def test_a_second_file_with_known_and_new_ids_updates_the_known_and_creates_the_new(
    world, profile, tmp_path
):
    run_import(profile, write_csv(tmp_path, GOOD))
    rows = [GOOD[0][:], ["N-1", "20/01/2026 10:00", "Mél", "", "", ""]]
    rows[0][2] = "Courrier"
    result = run_import(profile, write_csv(tmp_path, rows, name="h.csv"))
    assert result.ok
    assert (result.created, result.updated) == (1, 1)
    assert Contact.objects.filter(source="crm").count() == 4
    assert Contact.objects.get(external_id=GOOD[0][0]).channel == "courrier"


def test_a_file_landing_after_another_import_of_the_same_source_updates_its_rows(
    world, profile, tmp_path
):
    from django.db import connection

    run_import(profile, write_csv(tmp_path, GOOD))

    def as_if_the_source_were_new(execute, sql, params, many, context):
        # The other import commits between the check « first import? » and the insert.
        if sql.startswith("SELECT 1 FROM contacts_contact WHERE organisation_id"):
            sql = sql.replace("WHERE organisation_id", "WHERE false AND organisation_id")
        return execute(sql, params, many, context)

    changed = [row[:] for row in GOOD] + [["N-2", "21/01/2026 09:00", "Mél", "", "", ""]]
    changed[1][2] = "Courrier"
    with connection.execute_wrapper(as_if_the_source_were_new):
        result = run_import(profile, write_csv(tmp_path, changed, name="r.csv"))
    assert result.ok
    assert (result.created, result.updated) == (1, 3)
    assert Contact.objects.filter(source="crm").count() == 4
    assert Contact.objects.get(external_id=GOOD[1][0]).channel == "courrier"


def test_dates_with_seconds_single_digits_or_iso_are_read(world, profile, tmp_path):
    rows = [
        ["S-1", "5/1/2026 9:05", "Mél", "", "", ""],
        ["S-2", "2026-01-06 10:00:00", "Mél", "", "", ""],
        ["S-3", "29/03/2026 01:30", "Mél", "", "", ""],
    ]
    with time_machine.travel(datetime(2026, 4, 1, tzinfo=UTC), tick=False):
        result = imports.import_file(None, profile, write_csv(tmp_path, rows))
    assert result.ok, result.errors
    got = {c.external_id: c.received_at for c in Contact.objects.filter(source="crm")}
    assert got["S-1"] == datetime(2026, 1, 5, 8, 5, tzinfo=UTC)
    assert got["S-2"] == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
    assert got["S-3"] == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # before the clock change


DATE_TEXTS = [
    "15/01/2026 09:30",
    "15/01/2026",
    "15/01/2026 09:30:45",
    "29/02/2024 23:59",  # a leap day
    "29/03/2026 01:59",  # Paris: the last minute before the clocks go forward
    "29/03/2026 02:30",  # a time that does not exist that night
    "29/03/2026 03:00",
    "25/10/2026 02:30",  # a time that comes twice that night
    "25/10/2026 03:00",
    "01/01/1900 00:00",  # before 1970
    "5/1/2026 9:05",  # the other forms, read one by one
    " 15/01/2026 09:30 ",
    "2026-01-15T09:30:00",
    "15.01.2026 09h30",
    "",
    "31/02/2026 10:00",  # unreadable: no such day, month, hour or minute
    "29/02/2025 10:00",
    "12/13/2026 10:00",
    "10/10/2026 24:00",
    "10/10/2026 23:60",
    "10/10/2026 23:59:60",
    "1O/10/2026 10:00",
    "10-10/2026 10:00",
    "10/10/2026T10:00",
    "hier",
]


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Marquesas"]
)
def test_a_column_of_dates_reads_as_each_date_read_alone(zone):
    """The vectorised reading of a column (numpy on the bytes) against the reading of
    each text alone, which Python's datetime and zoneinfo do."""
    from zoneinfo import ZoneInfo

    import pyarrow as pa

    texts = DATE_TEXTS * 3  # the second and third rounds come from warm caches
    seconds, bad = imports._Dates(ZoneInfo(zone), "%d.%m.%Y %Hh%M").column(pa.array(texts))
    alone = imports._Dates(ZoneInfo(zone), "%d.%m.%Y %Hh%M")
    for text, value, unreadable in zip(texts, seconds.tolist(), bad.tolist(), strict=True):
        expected = alone.parse(text) if text else imports.NO_TIME
        assert (None if unreadable else value) == expected, text
    assert "31/02/2026 10:00" in [t for t, b in zip(texts, bad, strict=True) if b]
    paris = imports._Dates(ZoneInfo("Europe/Paris"), "")
    got = dict(zip(DATE_TEXTS, paris.column(pa.array(DATE_TEXTS))[0].tolist(), strict=True))
    utc = datetime.fromtimestamp
    assert utc(got["29/03/2026 01:59"], UTC) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert utc(got["29/03/2026 03:00"], UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert utc(got["25/10/2026 03:00"], UTC) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert date(2026, 3, 29) in paris.days and date(1900, 1, 1) in paris.days


def test_the_fast_reader_reads_a_file_as_the_csv_module_does(tmp_path):
    rows = [
        ["D-1", "15/01/2026 09:30", "Mél", "Prime d'activité", "Château-Gontier", ""],
        ["D-2", '16/01/2026 "matin"', "Tél", "un ; point-virgule", "", ""],
        ["D-3", "17/01/2026", "Tél", "sur\r\ndeux lignes", " espaces ", ""],
        ["D-4", "", "", "", "", ""],  # a line of empty cells (Excel): left out
        ["D-5", "«18/01/2026»", "Courriel", '« guillemets "doublés" »', "", "19/01/2026"],
    ]
    rows[3] = [""] * 6
    for encoding in ("cp1252", "utf-8"):
        path = write_csv(tmp_path, rows, encoding=encoding, name=f"{encoding}.csv")
        read = {}
        for tolerant in (False, True):
            table = imports._Table(path, tolerant=tolerant)
            header, batches = table.open()
            read[tolerant] = [
                (line, row) for b in batches for line, row in b.without_empty_rows().rows()
            ]
            table.close()
        assert read[False] == read[True], encoding
        assert [line for line, _row in read[False]] == [2, 3, 4, 6]
        assert read[False][2][1][3] == "sur\r\ndeux lignes"
        assert read[False][3][1][3] == '« guillemets "doublés" »'


def test_a_batch_checked_whole_gives_what_it_gives_checked_row_by_row(world, profile, tmp_path):
    import numpy as np

    rows = [
        ["W-1", "15/01/2026 09:30", "Mél", "Revenu de solidarité active", "Siège test", ""],
        ["W-2", "16/01/2026", "Téléphone", "rsa", "siege", "16/01/2026 10:05"],
        ["W-3", "20/01/2026 14:00:30", "Tél", "", "", "21/01/2026 08:00"],
        ["W-4", "5/1/2026 9:05", "Courrier", "rsa", "", "2026-01-06 10:00:00"],
    ]
    path = write_csv(tmp_path, rows)
    table = imports._Table(path)
    header, batches = table.open()
    batch = next(iter(batches))
    table.close()
    collector = imports._Collector()
    positions = imports._positions(profile, header, collector)
    results = []
    for whole in (True, False):
        _rows, _collector, ctx = imports.validate_file(profile, path, "f.csv", _NullSink(), now=NOW)
        ctx.seen, ctx.collector = set(), collector
        if whole:
            checked = imports._whole_batch(ctx, batch, positions)
        else:
            col = {spec.name: spec.label for spec in imports.CONTACT_FIELDS}
            checked = imports._row_by_row(ctx, batch, positions, col)
        assert checked is not None and not collector.lines
        results.append(checked)
    fast, slow = results
    for name in ("received", "ack", "answer", "closed", "channel", "reason", "site", "outcome"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    for name in ("ext", "requester", "subject"):
        assert getattr(fast, name).to_pylist() == getattr(slow, name).to_pylist(), name
    assert fast.status.tolist() == ["nouveau", "repondu", "repondu", "repondu"]
    assert fast.reason.tolist()[2] == 0 and fast.site.tolist()[0] == world.site.pk


class _NullSink:
    rows = 0

    def add(self, checked, deadlines):
        self.rows += len(checked)

    def reset(self):
        self.rows = 0


def test_a_call_log_lands_with_its_outcomes_and_waits(world, call_profile, tmp_path):
    header = ["Id appel", "Début", "Statut", "Attente", "Site"]
    rows = [
        ["A1", "05/01/2026 08:31", "Décroché", "45", "siege"],
        ["A2", "05/01/2026 08:32", "Dissuasion SVI", "", "siege"],
        ["A3", "05/01/2026 08:40", "Perdu", "02:30", ""],
    ]
    result = run_import(call_profile, write_csv(tmp_path, rows, header=header))
    assert result.ok, result.errors
    calls = {c.external_id: c for c in Call.objects.filter(source="autocom")}
    assert [calls[k].outcome for k in ("A1", "A2", "A3")] == ["agent", "svi", "abandonne"]
    assert calls["A1"].wait_seconds == 45 and calls["A3"].wait_seconds == 150
    assert calls["A2"].wait_seconds is None and calls["A1"].site == world.site
    again = run_import(call_profile, write_csv(tmp_path, rows, header=header))
    assert (again.created, again.updated) == (0, 3)
    assert AuditEvent.objects.filter(action="appels.importés").count() == 2


def test_an_unknown_call_outcome_is_rejected(world, call_profile, tmp_path):
    header = ["Id appel", "Début", "Statut", "Attente", "Site"]
    rows = [["A1", "05/01/2026 08:31", "Transféré", "x", "siege"]]
    result = run_import(call_profile, write_csv(tmp_path, rows, header=header))
    reasons = [e.reason for e in result.errors]
    assert reasons[0].startswith("issue d'appel « Transféré » inconnue")
    assert reasons[1] == "durée d'attente illisible « x »."
    assert not Call.objects.exists()


def test_the_report_is_an_excel_friendly_csv(world, profile, tmp_path):
    rows = [["D-1", "15/01/2026 09:30", "Fax", "", "", ""]]
    run = imports.start_run(None, profile, write_csv(tmp_path, rows), "export.csv")
    with time_machine.travel(NOW, tick=False):
        imports.execute_run(run, delete_file=False)
    assert run.state == ImportRun.State.REJECTED
    content = imports.report_csv(run)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "fichier;ligne;colonne;motif"
    assert lines[1] == "export.csv;2;Canal;canal « Fax » inconnu."


# ----- command line ----------------------------------------------------------------------


def test_the_command_imports_and_shows_progress(world, profile, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "import_contacts",
            write_csv(tmp_path, GOOD),
            profile="crm",
            organisation="caf-test",
            stdout=out,
            stderr=err,
        )
    assert "3 créée(s), 0 mise(s) à jour" in out.getvalue()
    assert "%" in err.getvalue() and "lignes" in err.getvalue()
    assert Contact.objects.filter(source="crm").count() == 3
    assert ImportRun.objects.get().state == ImportRun.State.DONE


def test_the_command_refuses_a_bad_file_with_exit_code_1_and_a_report(world, profile, tmp_path):
    path = write_csv(tmp_path, [["D-1", "15/01/2026 09:30", "Fax", "", "", ""]])
    err = io.StringIO()
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError) as raised:
        call_command("import_contacts", path, profile="crm", stderr=err)
    assert raised.value.returncode == 1
    report = tmp_path / "f-rapport.csv"
    assert "rien n'a été importé" in str(raised.value) and str(report) in str(raised.value)
    assert "ligne 2, Canal : canal « Fax » inconnu." in err.getvalue()
    assert report.exists()
    assert not Contact.objects.filter(source="crm").exists()


def test_the_command_names_an_unknown_profile(world, tmp_path):
    with pytest.raises(CommandError, match="Aucun profil d'import « rien »"):
        call_command("import_contacts", write_csv(tmp_path, GOOD), profile="rien")


# ----- pages -----------------------------------------------------------------------------


def test_upload_runs_the_task_and_shows_the_result(
    world, profile, client_for, tmp_path, django_capture_on_commit_callbacks
):
    client = client_for("manager")
    content = Path(write_csv(tmp_path, GOOD)).read_bytes()
    upload = io.BytesIO(content)
    upload.name = "contacts.csv"
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("contacts:import_upload"), {"profile": profile.pk, "file": upload}
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:import_run", kwargs={"pk": run.pk})
    assert run.state == ImportRun.State.DONE and run.created == 3
    assert run.user == world.people["manager"]
    assert not os.path.exists(run.path or "/nonexistent")  # the stored upload is deleted
    page = client.get(response["Location"])
    assert "Import terminé" in page.content.decode()
    assert "3 créées" in page.content.decode()


def test_a_rejected_upload_shows_the_lines_and_offers_the_report(
    world, profile, client_for, tmp_path, django_capture_on_commit_callbacks
):
    client = client_for("qualite")
    content = Path(write_csv(tmp_path, [["D-1", "15/01/2026", "Fax", "", "", ""]])).read_bytes()
    upload = io.BytesIO(content)
    upload.name = "contacts.csv"
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contacts:import_upload"), {"profile": profile.pk, "file": upload}
        )
    page = client.get(response["Location"]).content.decode()
    assert "rien n&#x27;a été importé" in page or "rien n'a été importé" in page
    assert "canal «\u00a0Fax\u00a0» inconnu." in page  # no line break inside « »
    run = ImportRun.objects.get()
    report = client.get(reverse("contacts:import_report", kwargs={"pk": run.pk}))
    assert report["Content-Type"].startswith("text/csv")
    assert "canal « Fax » inconnu." in report.content.decode("utf-8-sig")


def test_a_pending_run_is_polled_by_htmx_with_a_no_js_fallback(world, profile, client_for):
    run = ImportRun.objects.create(
        organisation=world.caf, profile=profile, filename="f.csv", rows_total=100, rows_done=40
    )
    url = reverse("contacts:import_run", kwargs={"pk": run.pk})
    page = client_for("admin").get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert 'http-equiv="refresh"' in page and "Actualiser" in page
    fragment = client_for("admin").get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="etat-import"')
    assert "<html" not in fragment


def test_a_profile_is_created_with_its_mapping_and_value_maps(world, client_for):
    client = client_for("admin")
    data = {
        "type": "contacts",
        "name": "gestion-courrier",
        "label": "Gestion du courrier",
        "source": "ged",
        "date_format": "%d/%m/%Y",
        **{f"col_{spec.name}": spec.header for spec in imports.CONTACT_FIELDS},
        "map_channel": "Lettre = courrier\nMail → courriel",
    }
    url = reverse("contacts:import_profile_create") + "?type=contacts"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    profile = ImportProfile.objects.get(name="gestion-courrier")
    assert profile.organisation == world.caf
    assert profile.value_maps == {"channel": {"Lettre": "courrier", "Mail": "courriel"}}
    assert profile.mapping["received_at"] == "date de réception"


def test_a_value_map_to_an_unknown_code_rejects_the_file_at_line_1(world, tmp_path):
    profile = imports.save_profile(
        None,
        world.caf,
        name="faux",
        kind=ImportKind.CONTACTS,
        source="x",
        mapping=MAPPING,
        value_maps={"channel": {"Pigeon": "voyageur"}},
    )
    result = run_import(profile, write_csv(tmp_path, GOOD))
    assert result.errors[0].line == 1 and "voyageur" in result.errors[0].reason


def test_an_outsider_cannot_see_the_runs_or_profiles_of_the_caf(world, profile, client_for):
    run = ImportRun.objects.create(organisation=world.caf, profile=profile, filename="f.csv")
    client = client_for("outsider")
    assert client.get(reverse("contacts:import_run", kwargs={"pk": run.pk})).status_code == 404
    edit = reverse("contacts:import_profile_edit", kwargs={"pk": profile.pk})
    assert client.get(edit).status_code == 404
    assert "f.csv" not in client.get(reverse("contacts:import_runs")).content.decode()
    upload_page = client.get(reverse("contacts:import_upload")).content.decode()
    assert "crm" not in upload_page


def test_imported_open_contacts_count_in_the_stock_of_every_day_up_to_today(
    world, profile, tmp_path
):
    from voix.contacts import rollups
    from voix.contacts.tests.test_rollups import snapshot

    result = run_import(profile, write_csv(tmp_path, GOOD))
    assert result.ok, result.errors
    after_import = snapshot(world)
    # D-1 (received on 15 January, never answered) is still pending on the eve of NOW.
    eve = ContactDay.objects.get(organisation=world.caf, site=world.site, day=date(2026, 3, 1))
    assert eve.pending >= 1
    with time_machine.travel(NOW, tick=False):
        rollups.rebuild(world.caf, date(2026, 1, 1), NOW.date())
    assert snapshot(world) == after_import
