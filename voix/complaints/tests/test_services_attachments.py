"""Attachments: type read from the content, names consistent, sizes and counts bounded."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from voix.complaints import attachments
from voix.complaints.models import Attachment, Complaint
from voix.complaints.tests.world import public_complaint

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def odt_bytes(mimetype=b"application/vnd.oasis.opendocument.text") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "name, content, label",
    [
        ("releve.pdf", PDF, "PDF"),
        ("photo.PNG", PNG, "PNG"),
        ("photo.jpeg", JPEG, "JPEG"),
        ("courrier.odt", odt_bytes(), "OpenDocument"),
        ("courrier.docx", docx_bytes(), "Word"),
    ],
)
def test_accepted_types_are_recognised_by_their_content(name, content, label):
    assert attachments.check_upload(upload(name, content)).label == label


@pytest.mark.parametrize(
    "name, content",
    [
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n"),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("archive.zip", odt_bytes(b"application/zip")),
        ("tableur.odt", odt_bytes(b"application/vnd.oasis.opendocument.spreadsheet")),
        ("faux.docx", b"PK\x03\x04 not really a zip"),
    ],
)
def test_other_contents_are_refused_whatever_their_name(name, content):
    with pytest.raises(ValidationError) as excinfo:
        attachments.check_upload(upload(name, content, "application/pdf"))
    message = excinfo.value.messages[0]
    assert f"« {name} »" in message and "Types acceptés" in message


def test_a_name_that_lies_about_the_type_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        attachments.check_upload(upload("photo.pdf", PNG))
    assert "« photo.pdf » est un fichier PNG" in excinfo.value.messages[0]


def test_a_file_over_5_mb_is_refused_with_its_size():
    big = upload("scan.pdf", PDF + b"0" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError) as excinfo:
        attachments.check_upload(big)
    assert "« scan.pdf » pèse 5,0 Mo" in excinfo.value.messages[0]


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match="est vide"):
        attachments.check_upload(upload("vide.pdf", b""))


def test_more_than_5_files_are_refused(world):
    files = [upload(f"p{i}.pdf", PDF) for i in range(6)]
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, attachments=files)
    assert "6 fichiers" in excinfo.value.message_dict["attachments"][0]


def test_more_than_15_mb_in_all_are_refused(world):
    chunk = PDF + b"0" * (4 * 1024 * 1024)
    files = [upload(f"p{i}.pdf", chunk) for i in range(4)]
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, attachments=files)
    assert "en tout" in excinfo.value.message_dict["attachments"][0]


def test_a_refused_file_writes_nothing(world, media):
    before = Complaint.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(
            world, attachments=[upload("ok.pdf", PDF), upload("mauvais.exe", b"MZ\x90\x00")]
        )
    assert "« mauvais.exe »" in excinfo.value.message_dict["attachments"][0]
    assert Complaint.objects.count() == before
    assert not list(Path(media).rglob("*.*"))


def test_accepted_files_are_stored_privately_under_a_random_name(world, media):
    c = public_complaint(world, attachments=[upload("Relevé de compte.pdf", PDF)])
    [attachment] = Attachment.objects.filter(complaint=c)
    assert attachment.original_name == "Relevé de compte.pdf"
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    path = Path(attachment.file.path)
    assert path.is_file() and str(path).startswith(str(media))
    assert "Relev" not in path.name and path.suffix == ".pdf"
    assert path.read_bytes() == PDF
