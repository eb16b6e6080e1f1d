"""Checks of the files a requester (or an agent) attaches to a complaint.

Rules (docs/complaints.md):

- the type is read from the file's first bytes, never trusted from its name or from the
  browser: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``), and the
  OpenDocument text / Word documents, which are ZIP archives: an ODT holds a first member
  ``mimetype`` saying ``application/vnd.oasis.opendocument.text``, a DOCX holds
  ``[Content_Types].xml`` and ``word/document.xml``;
- the extension must match the detected type (a PNG named « .pdf » is refused);
- at most 5 MB per file, 5 files, 15 MB in all.

Every refusal names the file and says what to do, in French. The files are stored under
MEDIA_ROOT (never served directly: the staff page streams them after checking who asks)
with a random name; the original name is kept in the row.
"""

import os
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError

MB = 1024 * 1024
MAX_FILE_SIZE = 5 * MB
MAX_FILES = 5
MAX_TOTAL_SIZE = 15 * MB

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileType("PDF", "application/pdf", (".pdf",))
JPEG = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileType("PNG", "image/png", (".png",))
ODT = FileType("OpenDocument", "application/vnd.oasis.opendocument.text", (".odt",))
DOCX = FileType(
    "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
TYPES = (PDF, JPEG, PNG, ODT, DOCX)
#: For the form's ``<input type="file" accept="…">``.
ACCEPT = ",".join(ext for t in TYPES for ext in t.extensions)
ALLOWED_TEXT = "PDF, JPEG, PNG, OpenDocument (.odt) ou Word (.docx)"


def _size_text(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} Mo".replace(".", ",")
    return f"{max(1, round(size / 1024))} Ko"


def _read_head(f, n=8192) -> bytes:
    position = f.tell() if hasattr(f, "tell") else 0
    f.seek(0)
    head = f.read(n)
    f.seek(position)
    return head


def _zip_type(f) -> FileType | None:
    f.seek(0)
    try:
        with zipfile.ZipFile(f) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                if archive.read("mimetype").strip() == ODT_MIMETYPE:
                    return ODT
                return None
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    finally:
        f.seek(0)
    return None


def detect_type(f) -> FileType | None:
    """The file's type from its content (None when not one of the accepted types)."""
    head = _read_head(f)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(f)
    return None


def _name(f) -> str:
    return os.path.basename(getattr(f, "name", "") or "") or "sans nom"


def check_upload(f) -> FileType:
    """Check one uploaded file; returns its type, or raises ValidationError naming the file."""
    name = _name(f)
    size = getattr(f, "size", None)
    if size is None:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(0)
    if size == 0:
        raise ValidationError(f"Le fichier « {name} » est vide : joignez-le à nouveau.")
    if size > MAX_FILE_SIZE:
        raise ValidationError(
            f"Le fichier « {name} » pèse {_size_text(size)} : c'est plus que la limite de "
            f"{_size_text(MAX_FILE_SIZE)} par fichier. Réduisez-le (photo moins lourde, "
            "document scanné en noir et blanc) ou envoyez-le en plusieurs parties."
        )
    found = detect_type(f)
    if found is None:
        raise ValidationError(
            f"Le fichier « {name} » n'est pas d'un type accepté. Types acceptés : {ALLOWED_TEXT}."
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in found.extensions:
        raise ValidationError(
            f"Le fichier « {name} » est un fichier {found.label}, mais son nom se termine "
            f"par « {extension or '(rien)'} ». Renommez-le en « {found.extensions[0]} » ou "
            "joignez le bon fichier."
        )
    return found


def check_uploads(files) -> list[tuple[object, FileType]]:
    """Check a whole set of files (count, each file, total size); all the problems at once."""
    files = [f for f in files or () if f]
    errors = []
    if len(files) > MAX_FILES:
        errors.append(
            f"Vous avez joint {len(files)} fichiers : {MAX_FILES} au plus. "
            "Regroupez-les (un seul PDF par exemple) ou gardez les plus utiles."
        )
    checked = []
    for f in files:
        try:
            checked.append((f, check_upload(f)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    total = sum(getattr(f, "size", 0) or 0 for f in files)
    if total > MAX_TOTAL_SIZE and not errors:
        errors.append(
            f"Les fichiers joints pèsent {_size_text(total)} en tout : "
            f"{_size_text(MAX_TOTAL_SIZE)} au plus. Retirez-en ou réduisez-les."
        )
    if errors:
        raise ValidationError({"attachments": errors})
    return checked
