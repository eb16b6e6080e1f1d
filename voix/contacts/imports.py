"""Imports of contacts and telephony call logs from CSV / XLSX files (issue 4, point 4).

A file lands whole or not at all:

1. **Reading** (:class:`_Table`): batches of rows, column by column (pyarrow string arrays).
   CSV goes through pyarrow's reader (C++, a few megabytes at a time); a file it does not
   take as is (blank, short or long lines) is read again by the csv module, which pads
   and skips as Excel does; XLSX through openpyxl in read-only mode.
2. **Checking**, a batch at a time: first as a whole, column by column
   (:func:`_whole_batch`: dates parsed by numpy on their bytes, values looked up once per
   distinct text, lengths, duplicates against the ids seen so far). A batch where anything
   is off is read again row by row (:func:`_row_by_row`), which reports every problem
   (line, column, reason in French) or accepts what only needed a slower reading (spaces,
   dates in another form). Memory stays low: the set of external ids and one batch.
3. Contacts: the checked batches, with their deadlines (numpy), go to the database as
   they come. On PostgreSQL, inside the import's transaction, one binary ``COPY`` (put together
   by pyarrow, sent by a thread of its own while the next batch is checked) streams them
   straight into ``contacts_contact`` on a first import of the source — with the table's
   indexes and foreign keys set aside and built again when the file is at least as big as
   the table — or into a temporary table otherwise. On SQLite they go to a temporary table
   (``executemany``, dates as epoch seconds), outside any transaction on the main
   database. If a line is rejected nothing lands: the transaction rolls back, or the
   temporary table is dropped. Otherwise, in **one transaction**, the staged rows are
   inserted (``INSERT … SELECT``; on SQLite, around a rebuild of the indexes for a file as
   big as the table) or upserted (``INSERT … SELECT … ON CONFLICT (organisation, source,
   external id) DO UPDATE`` when the source already has contacts in Voix): re-importing a
   file updates, never duplicates. Call logs are checked row by row into a spool file,
   then ``COPY`` / ``executemany`` into a temporary table and the same upsert.
4. In the same transaction the deadlines of contacts paused in Voix are recomputed
   (``clocks.apply_deadlines_bulk``) and one audit event is recorded; after commit the
   daily roll-ups of the touched days are rebuilt.

Dates are read in the organisation's local time and kept as UTC epoch seconds; the UTC
offset is looked up once per local hour.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import io
import itertools
import os
import re
import resource
import struct
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from voix.core.services import record_event

from . import rollups
from .models import (
    Call,
    CallOutcome,
    Channel,
    Contact,
    ImportKind,
    ImportProfile,
    ImportRun,
    Outcome,
    Reason,
)

# Rejected lines kept in the run's report (the count of rejected lines is always exact).
MAX_REPORTED = 5000
PROGRESS_EVERY = 20000  # rows between two progress callbacks
READ_BYTES = 1 << 21  # bytes of CSV read at once by the fast reader (15,000 contacts or so)


@dataclass(frozen=True)
class Field:
    name: str  # Voix field
    label: str  # shown to people (report, forms)
    header: str  # suggested column header for a new profile
    required: bool = False
    kind: str = (
        "text"  # text, datetime, channel, reason, site, outcome, call_outcome, seconds, bool
    )
    max_length: int = 0
    help: str = ""


CONTACT_FIELDS = [
    Field("external_id", "identifiant externe", "identifiant", True, max_length=100),
    Field("received_at", "date de réception", "date de réception", True, "datetime"),
    Field("channel", "canal", "canal", True, "channel"),
    Field("reason", "motif", "motif", False, "reason"),
    Field("site", "site", "site", False, "site"),
    Field("requester_ref", "référence de l'usager", "référence usager", max_length=64),
    Field("subject", "objet", "objet", max_length=200),
    Field("acknowledged_at", "date d'accusé de réception", "date d'accusé", kind="datetime"),
    Field("first_answer_at", "date de première réponse", "date de réponse", kind="datetime"),
    Field("closed_at", "date de clôture", "date de clôture", kind="datetime"),
    Field("outcome", "issue", "issue", kind="outcome"),
]
CALL_FIELDS = [
    Field("external_id", "identifiant externe", "identifiant appel", True, max_length=100),
    Field("started_at", "date de l'appel", "date", True, "datetime"),
    Field("outcome", "issue de l'appel", "issue", True, "call_outcome"),
    Field("wait_seconds", "attente", "attente", kind="seconds"),
    Field("site", "site", "site", kind="site"),
    Field("needs_agent", "nécessite un agent", "nécessite un agent", kind="bool"),
    Field("line", "ligne téléphonique", "ligne", max_length=60),
]
FIELDS = {ImportKind.CONTACTS: CONTACT_FIELDS, ImportKind.CALLS: CALL_FIELDS}
# Fields whose values can be translated by the profile's value maps.
VALUE_MAP_FIELDS = {
    ImportKind.CONTACTS: ["channel", "reason", "site", "outcome"],
    ImportKind.CALLS: ["outcome", "site", "needs_agent"],
}

TRUE_WORDS = {"oui", "o", "vrai", "true", "1", "x", "yes", "y"}
FALSE_WORDS = {"non", "n", "faux", "false", "0", "no"}


def plain(text) -> str:
    """Case, accents and punctuation ignored: « Date de réception » → « date de reception »."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


# ----- results --------------------------------------------------------------------------


@dataclass
class Rejection:
    line: int
    column: str
    reason: str


@dataclass
class ImportResult:
    filename: str
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected_lines: int = 0
    errors: list[Rejection] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    contact_ids_count: int = 0
    timings: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected_lines == 0 and not self.errors


def report_rows(filename: str, entries) -> Iterator[list]:
    yield ["fichier", "ligne", "colonne", "motif"]
    for entry in entries:
        yield [filename, entry["ligne"], entry["colonne"], entry["motif"]]


def report_csv(run: ImportRun) -> bytes:
    """The rejection report of a run: CSV, « ; » separated, UTF-8 with BOM (Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(report_rows(run.filename, run.report))
    listed = len({entry["ligne"] for entry in run.report})
    if run.rejected > listed:
        writer.writerow(
            [
                run.filename,
                "",
                "",
                f"… et {run.rejected - listed} autre(s) ligne(s) rejetée(s) non listée(s) : "
                "corrigez les erreurs ci-dessus puis importez de nouveau le fichier.",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


# ----- reading files --------------------------------------------------------------------


class FileProblem(ValueError):
    """The file as a whole cannot be read (line 1 of the report)."""


def _sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A cut multi-byte character at the end of the sample is still UTF-8.
        if error.start < len(sample) - 4:
            return "cp1252"
    return "utf-8"


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def is_xlsx(path: str, filename: str = "") -> bool:
    if (filename or path).lower().endswith((".xlsx", ".xlsm")):
        return True
    with open(path, "rb") as handle:
        return handle.read(2) == b"PK"


def count_rows(path: str, filename: str = "") -> int:
    """A quick estimate of the data rows (for the progress bar), without parsing."""
    if is_xlsx(path, filename):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True)
            rows = book.worksheets[0].max_row or 0
            book.close()
        except Exception:
            return 0
        return max(rows - 1, 0)
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


class _Irregular(Exception):
    """The fast reader met a line it does not take as is (blank, short or long line,
    quotes it reads otherwise): the file is read again with the csv module."""


@dataclass
class _Batch:
    """Data rows of a file, column by column: one array of texts per column of the header."""

    lines: np.ndarray  # line number of each row (the header is line 1, as in Excel)
    cells: list  # pyarrow string arrays
    last_line: int  # the last line read, blank lines included

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) one row at a time (the slow paths)."""
        columns = [column.to_pylist() for column in self.cells]
        return zip(self.lines.tolist(), map(list, zip(*columns, strict=True)), strict=True)

    def without_empty_rows(self) -> _Batch:
        """Rows whose cells are all empty (« ;;;; » at the end of Excel exports) left out."""
        if not self.cells or not len(self.lines):
            return self
        filled = np.zeros(len(self.lines), dtype=bool)
        for column in self.cells:
            filled |= pc.binary_length(column).to_numpy(zero_copy_only=False) > 0
        if filled.all():
            return self
        keep = pa.array(np.flatnonzero(filled))
        return _Batch(self.lines[filled], [c.take(keep) for c in self.cells], self.last_line)


def _batches_of_rows(rows, width: int) -> Iterator[_Batch]:
    """Rows (lists of texts) → batches: blank lines skipped, short lines padded, cells past
    the header dropped, as Excel writes and reads them."""
    line = 1
    lines, kept = [], []
    pad = [""] * width
    for row in rows:
        line += 1
        if len(row) != width:
            if not any(row):
                continue  # blank line
            row = (row + pad)[:width]
        kept.append(row)
        lines.append(line)
        if len(kept) >= CHUNK_ROWS:
            yield _Batch(np.array(lines), _columns_of_rows(kept, width), line)
            lines, kept = [], []
    yield _Batch(np.array(lines, dtype=np.int64), _columns_of_rows(kept, width), line)


def _columns_of_rows(rows, width):
    if not rows:
        return [pa.array([], pa.string()) for _ in range(width)]
    return [pa.array(column, pa.string()) for column in zip(*rows, strict=True)]


class _Table:
    """Header and data rows of a CSV or XLSX file, streamed by batches of rows.

    CSV: pyarrow's reader (C++, several threads) when every line has the header's number
    of cells; otherwise (:class:`_Irregular`) the file is read again by the csv module,
    which pads short lines and skips blank ones (*tolerant*).
    """

    def __init__(self, path: str, filename: str = "", *, encoding=None, tolerant=False):
        self.path = path
        self.filename = filename or os.path.basename(path)
        self.xlsx = is_xlsx(path, self.filename)
        self.encoding = encoding
        self.tolerant = tolerant
        self._book = None
        self._handle = None

    def open(self) -> tuple[list[str], Iterator[_Batch]]:
        if self.xlsx:
            return self._open_xlsx()
        return self._open_csv()

    def _open_csv(self):
        if self.encoding is None:
            with open(self.path, "rb") as handle:
                sample = handle.read(1 << 20)
            self.encoding = _sniff_encoding(sample)
        self._handle = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115
        first = self._handle.readline()
        self.delimiter = _sniff_delimiter(first)
        self._handle.seek(0)
        reader = csv.reader(self._handle, delimiter=self.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            header = []
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        # A header over several lines (a quoted line break): the csv module only.
        if self.tolerant or reader.line_num != 1:
            return header, _batches_of_rows(reader, len(header))
        self._handle.close()
        return header, self._arrow_batches(len(header))

    def _arrow_batches(self, width: int) -> Iterator[_Batch]:
        names = [f"c{i}" for i in range(width)]
        encoding = "utf8" if self.encoding == "utf-8" else self.encoding

        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(
                    encoding=encoding, skip_rows=1, column_names=names, block_size=READ_BYTES
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            line = 1
            # Blocks of READ_BYTES (the reader's memory stays low) put together by
            # CHUNK_ROWS (fewer, larger batches for numpy).
            pending, size = [], 0
            for record in itertools.chain(reader, [None]):
                if record is not None:
                    pending.append(record)
                    size += record.num_rows
                if size and (size >= CHUNK_ROWS or record is None):
                    cells = pa.Table.from_batches(pending).combine_chunks().columns
                    cells = [column.chunk(0) if column.num_chunks else column for column in cells]
                    yield _Batch(np.arange(line + 1, line + 1 + size), cells, line + size)
                    line += size
                    pending, size = [], 0
            if line == 1:
                yield _Batch(np.zeros(0, dtype=np.int64), _columns_of_rows([], width), 1)
        except pa.ArrowInvalid as error:
            if "UTF8" in str(error) or "UTF-8" in str(error):
                raise UnicodeDecodeError("utf-8", b"", 0, 1, str(error)) from error
            raise _Irregular from error

    def _open_xlsx(self):
        import openpyxl

        try:
            self._book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:
            raise FileProblem(
                "le classeur XLSX ne peut pas être lu (fichier abîmé ou d'un autre format)."
            ) from error
        rows = self._book.worksheets[0].iter_rows(values_only=True)
        try:
            header = [_xlsx_text(cell) for cell in next(rows)]
        except StopIteration:
            header = []
        cells = ([_xlsx_text(cell) for cell in row] for row in rows)
        return header, _batches_of_rows(cells, len(header))

    def close(self):
        if self._handle is not None:
            self._handle.close()
        if self._book is not None:
            self._book.close()


def _xlsx_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(cell, date):
        return cell.strftime("%d/%m/%Y")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if hasattr(cell, "strftime"):  # a time of day (e.g. a duration cell)
        return cell.strftime("%H:%M:%S")
    return str(cell)


# ----- dates ----------------------------------------------------------------------------

_DMY = re.compile(
    r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:[ T]+(\d{1,2})[:hH](\d{2})(?:[:mM](\d{2})(?:[.,]\d+)?)?)?\s*$"
)
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|[+-]00:?00)?$"
)


class _Dates:
    """Local date texts → UTC epoch seconds, fast.

    A whole column is read at once (:meth:`column`): the canonical forms
    ``dd/mm/yyyy[ hh:mm[:ss]]`` by numpy on the bytes, the others one by one
    (:meth:`parse`). The UTC offset is looked up once per distinct local hour; the local
    days the file touches are kept (for the roll-ups).
    """

    def __init__(self, tz, date_format: str):
        self.tz = tz
        self.date_format = date_format or "%d/%m/%Y %H:%M"
        self.hours: dict[str, int] = {}  # "dd/mm/yyyy hh" → UTC epoch seconds of that hour
        self.dates_only: dict[str, int] = {}  # "dd/mm/yyyy" → UTC epoch seconds
        self.offsets: dict[int, int] = {}  # local hour (hours since 1970) → UTC offset (s)
        self.day_hours: dict[int, np.ndarray] = {}  # local day → offsets of its 24 hours
        self.day_numbers: set[int] = set()  # self.days as days since 1970
        self.days: set[date] = set()

    def parse(self, text: str) -> int | None:
        """The UTC epoch seconds of *text*, or None when it cannot be read.

        Fast path: « dd/mm/yyyy hh:mm[:ss] » whose (day, hour) was already read once.
        """
        n = len(text)
        if n == 16:
            base = self.hours.get(text[:13])
            if base is not None and text[13] == ":":
                minutes = text[14:]
                if minutes.isdigit() and minutes < "60":
                    return base + int(minutes) * 60
        elif n == 19:
            base = self.hours.get(text[:13])
            if base is not None and text[13] == ":" and text[16] == ":":
                minutes, seconds = text[14:16], text[17:]
                if minutes.isdigit() and minutes < "60" and seconds.isdigit() and seconds < "60":
                    return base + int(minutes) * 60 + int(seconds)
        elif n == 10:
            whole = self.dates_only.get(text)
            if whole is not None:
                return whole
        return self._slow(text)

    def _slow(self, text: str) -> int | None:
        stripped = text.strip()
        if not stripped:
            return None
        match = _DMY.match(stripped)
        if match:
            d, m, y, hh, mm, ss = match.groups()
            parts = (int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        else:
            match = _ISO.match(stripped)
            if match:
                y, m, d, hh, mm, ss = match.groups()
                parts = (int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            else:
                try:
                    parsed = datetime.strptime(stripped, self.date_format)
                except ValueError:
                    return None
                parts = (
                    parsed.year,
                    parsed.month,
                    parsed.day,
                    parsed.hour,
                    parsed.minute,
                    parsed.second,
                )
        if parts[3] > 23 or parts[4] > 59 or parts[5] > 59:
            return None
        try:
            local = datetime(*parts)
        except ValueError:
            return None
        self.days.add(local.date())
        naive = int((local - _EPOCH).total_seconds())
        hour_start = naive - naive % 3600
        result = naive - self._offset(hour_start // 3600)
        # Remember the (day, hour) of a canonical « dd/mm/yyyy hh:… » text for the fast path.
        if text[2:3] == "/" and text[5:6] == "/" and text[:2].isdigit():
            if len(text) == 10:
                self.dates_only[text] = result
            elif len(text) in (16, 19) and text[10] == " " and text[11:13].isdigit():
                self.hours[text[:13]] = hour_start - self._offset(hour_start // 3600)
        return result

    def _offset(self, hour: int) -> int:
        """The UTC offset (seconds) of the local hour *hour* (hours since 1970, local wall
        clock): the offset before the change for an hour that is skipped or repeated."""
        offset = self.offsets.get(hour)
        if offset is None:
            local = (_EPOCH + timedelta(hours=hour)).replace(tzinfo=self.tz)
            offset = self.offsets[hour] = int(local.utcoffset().total_seconds())
        return offset

    def _day_offsets(self, days: np.ndarray) -> np.ndarray:
        """The UTC offsets of the 24 local hours of each local day (days since 1970)."""
        result = np.empty((len(days), 24), dtype=np.int64)
        for row, day in enumerate(days.tolist()):
            hours = self.day_hours.get(day)
            if hours is None:
                first, last = self._offset(day * 24), self._offset(day * 24 + 23)
                if first == last:  # no change of offset that day (nearly every day)
                    hours = [first] * 24
                else:
                    hours = [self._offset(day * 24 + hour) for hour in range(24)]
                hours = self.day_hours[day] = np.array(hours, dtype=np.int64)
            result[row] = hours
        return result

    def column(self, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(UTC epoch seconds, unreadable) of a column of texts; empty → NO_TIME, readable."""
        size = len(values)
        result = np.full(size, NO_TIME, dtype=np.int64)
        lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
        local = np.full(size, NO_TIME, dtype=np.int64)
        done = lengths == 0
        if size:
            offsets = np.frombuffer(
                values.buffers()[1],
                dtype=np.int64 if pa.types.is_large_string(values.type) else np.int32,
            )[values.offset : values.offset + size]
            data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
            filled = np.flatnonzero(~done)
            widths = np.unique(lengths[filled])
            if len(widths) == 1 and int(widths[0]) in _DIGITS:
                # Every date written alike (the usual file): the texts lie end to end in
                # the array's buffer, read as a matrix of bytes without copying.
                width = int(widths[0])
                start = int(offsets[0])
                chars = data[start : start + len(filled) * width].reshape(-1, width)
                groups = [(filled, chars)]
            else:
                groups = [
                    (rows, data[offsets[rows, None] + np.arange(width)])
                    for width in _DIGITS
                    if (rows := np.flatnonzero(lengths == width)).size
                ]
            for rows, chars in groups:
                seconds, ok = _canonical_seconds(chars)
                local[rows[ok]] = seconds[ok]
                done[rows[ok]] = True
        read = local != NO_TIME
        if read.any():
            days, inverse = np.unique(local[read] // 86400, return_inverse=True)
            hours = local[read] // 3600
            result[read] = local[read] - self._day_offsets(days)[inverse, hours % 24]
            for day in set(days.tolist()) - self.day_numbers:
                self.day_numbers.add(day)
                self.days.add(_EPOCH.date() + timedelta(days=day))
        bad = np.zeros(size, dtype=bool)
        for row in np.flatnonzero(~done).tolist():  # other forms: one by one
            value = self.parse(values[row].as_py())
            if value is None:
                bad[row] = True
            else:
                result[row] = value
        return result, bad


_EPOCH = datetime(1970, 1, 1)


def _text_of(seconds: int) -> str:
    """UTC epoch seconds → ``YYYY-MM-DD HH:MM:SS``."""
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


_DIGITS = {16: [0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15], 10: [0, 1, 3, 4, 6, 7, 8, 9]}
_DIGITS[19] = [*_DIGITS[16], 17, 18]
_SEPARATORS = {10: {2: "/", 5: "/"}, 16: {2: "/", 5: "/", 10: " ", 13: ":"}}
_SEPARATORS[19] = {**_SEPARATORS[16], 16: ":"}
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _canonical_seconds(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of bytes « dd/mm/yyyy[ hh:mm[:ss]] » → (local seconds since 1970, well formed)."""
    width = chars.shape[1]
    digits = chars - np.uint8(48)  # a byte below « 0 » wraps round: above 9 as well
    ok = (digits[:, _DIGITS[width]] <= 9).all(axis=1)
    for position, separator in _SEPARATORS[width].items():
        ok &= chars[:, position] == ord(separator)
    digits = digits.astype(np.int32)
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 3] * 10 + digits[:, 4]
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    seconds = np.zeros(len(chars), dtype=np.int64)
    if width > 10:
        hour = digits[:, 11] * 10 + digits[:, 12]
        minute = digits[:, 14] * 10 + digits[:, 15]
        ok &= (hour <= 23) & (minute <= 59)
        seconds += hour * 3600 + minute * 60
    if width > 16:
        second = digits[:, 17] * 10 + digits[:, 18]
        ok &= second <= 59
        seconds += second
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1)
    ok &= day <= _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    # Days since 1970-01-01 of the proleptic Gregorian date (« days from civil »).
    y = (year - (month <= 2)).astype(np.int64)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + seconds, ok


# ----- value lookups --------------------------------------------------------------------


class _Lookup:
    """Raw cell text → Voix value, through the profile's value map, codes and labels.

    Results (and failures) are cached per raw text: a million rows cost a dict lookup each.
    """

    MISSING = object()

    def __init__(self, choices: dict[str, object], value_map: dict | None):
        self.by_plain: dict[str, object] = {}
        for key, value in choices.items():
            self.by_plain.setdefault(plain(key), value)
        # The profile's own words win over Voix's codes and labels.
        for raw, target in (value_map or {}).items():
            value = self.by_plain.get(plain(target), self.MISSING)
            if value is not self.MISSING:
                self.by_plain[plain(raw)] = value
        self.cache: dict[str, object] = {}

    def get(self, raw: str):
        value = self.cache.get(raw, self.MISSING)
        if value is self.MISSING:
            value = self.by_plain.get(plain(raw), self.MISSING)
            self.cache[raw] = value
        return value

    def column(self, values: pa.Array, dtype=object) -> np.ndarray | None:
        """The Voix values of a column of texts (looked up once per distinct text), or
        None when one of them is unknown. With an integer *dtype*, empty is 0."""
        distinct = pc.unique(values)
        found = [self.get(raw) for raw in distinct.to_pylist()]
        if any(value is self.MISSING for value in found):
            return None
        if dtype is not object:
            found = [value or 0 for value in found]
        positions = pc.index_in(values, value_set=distinct).to_numpy(zero_copy_only=False)
        return np.array(found, dtype=dtype)[positions]


def _value_map_targets_errors(profile: ImportProfile, lookups: dict[str, _Lookup]) -> list[str]:
    """Value-map targets that are not Voix codes (a profile mistake, not a file one)."""
    problems = []
    for name, mapping in (profile.value_maps or {}).items():
        lookup = lookups.get(name)
        if lookup is None or not isinstance(mapping, dict):
            continue
        for raw, target in mapping.items():
            if plain(target) not in lookup.by_plain:
                problems.append(f"« {raw} » → « {target} » ({name}) : valeur Voix inconnue")
    return problems


def _lookups(profile: ImportProfile) -> dict[str, _Lookup]:
    organisation = profile.organisation
    maps = profile.value_maps or {}
    sites = {}
    for site in organisation.sites.all():
        sites[site.name] = site.pk
        sites[site.slug] = site.pk
        sites[str(site.pk)] = site.pk
    result = {"site": _Lookup(sites, maps.get("site"))}
    if profile.kind == ImportKind.CONTACTS:
        channels = {}
        for choice in Channel:
            channels[choice.label] = choice.value
            channels[choice.value] = choice.value
        reasons = {}
        for reason in Reason.objects.filter(organisation=organisation):
            reasons[reason.label] = reason.pk
            reasons[reason.code] = reason.pk
        outcomes = {}
        for choice in Outcome:
            if choice.value:
                outcomes[choice.label] = choice.value
                outcomes[choice.value] = choice.value
        result["channel"] = _Lookup(channels, maps.get("channel"))
        result["reason"] = _Lookup(reasons, maps.get("reason"))
        result["outcome"] = _Lookup(outcomes, maps.get("outcome"))
    else:
        outcomes = {}
        for choice in CallOutcome:
            outcomes[choice.label] = choice.value
            outcomes[choice.value] = choice.value
        for word in ("décroché", "pris", "repondu", "répondu", "agent", "answered"):
            outcomes.setdefault(word, CallOutcome.AGENT.value)
        for word in ("svi", "ivr", "serveur vocal"):
            outcomes.setdefault(word, CallOutcome.IVR.value)
        for word in ("abandon", "abandonné", "abandoned", "raccroché", "perdu"):
            outcomes.setdefault(word, CallOutcome.ABANDONED.value)
        result["outcome"] = _Lookup(outcomes, maps.get("outcome"))
        booleans = {w: "1" for w in TRUE_WORDS} | {w: "0" for w in FALSE_WORDS}
        result["needs_agent"] = _Lookup(booleans, maps.get("needs_agent"))
    return result


# ----- validation -----------------------------------------------------------------------


class _Collector:
    def __init__(self):
        self.errors: list[Rejection] = []
        self.lines = 0  # rejected lines
        self._last_line = -1

    def add(self, line: int, column: str, reason: str):
        if line != self._last_line:
            self.lines += 1
            self._last_line = line
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(Rejection(line, column, reason))


def _positions(profile: ImportProfile, header: list[str], collector: _Collector) -> dict:
    """Voix field → column index, from the profile's mapping and the file's header."""
    columns = {}
    for index, name in enumerate(header):
        columns.setdefault(plain(name), index)
    mapping = profile.mapping or {}
    positions = {}
    for spec in FIELDS[profile.kind]:
        wanted = (mapping.get(spec.name) or "").strip()
        if not wanted:
            if spec.required:
                collector.add(
                    1,
                    spec.label,
                    f"le profil « {profile.name} » n'indique pas la colonne du champ "
                    f"« {spec.label} » (obligatoire).",
                )
            continue
        index = columns.get(plain(wanted))
        if index is None:
            found = ", ".join(f"« {h} »" for h in header[:12] if h.strip()) or "aucune"
            collector.add(
                1,
                wanted,
                f"colonne « {wanted} » ({spec.label}) absente de l'en-tête du fichier "
                f"(colonnes trouvées : {found}).",
            )
            continue
        positions[spec.name] = index
    return positions


def _label(header, positions, name):
    index = positions.get(name)
    return header[index] if index is not None else name


CONTACT_SPOOL = [
    "external_id",
    "received_at",
    "acknowledged_at",
    "first_answer_at",
    "closed_at",
    "channel",
    "reason_id",
    "site_id",
    "requester_ref",
    "subject",
    "outcome",
    "status",
    "ack_due_at",
    "answer_due_at",
    "due_at",
    "warn_at",
]
CALL_SPOOL = [
    "external_id",
    "started_at",
    "outcome",
    "wait_seconds",
    "site_id",
    "needs_agent",
    "line",
]


CHUNK_ROWS = 25000  # rows checked together, then sent to the database (and their deadlines)
NO_TIME = np.iinfo(np.int64).min  # NaT as int64: « no deadline »


class _Deadlines:
    """Deadlines of the validated contact rows, computed a batch at a time (numpy) and
    written with them, so the insert carries them: no second pass over the table."""

    def __init__(self, organisation):
        self.organisation = organisation
        self.calendars = {0: organisation.calendar()}
        for site in organisation.sites.all():
            self.calendars[site.pk] = site.calendar()
        try:
            from .clocks import PolicyBook, deadlines_for_arrays
        except ImportError:  # the clocks part is not there yet
            deadlines_for_arrays = None
        self.compute = deadlines_for_arrays
        # The organisation's policies, read once for the whole file (no query while the
        # rows stream to the database).
        self.book = PolicyBook(organisation) if deadlines_for_arrays else None

    def columns(self, checked: _Checked) -> list[np.ndarray]:
        """ack_due_at, answer_due_at, due_at, warn_at as epoch seconds (NO_TIME: empty)."""
        size = len(checked)
        columns = [np.full(size, NO_TIME, dtype=np.int64) for _ in range(4)]
        if self.compute is None or not size:
            return columns
        received = checked.received.astype("datetime64[s]").astype("datetime64[us]")
        answer_done = checked.answer != NO_TIME
        ack_done = (checked.ack != NO_TIME) | answer_done
        running = checked.closed == NO_TIME
        names = ("ack_due_at", "answer_due_at", "due_at", "warn_at")
        sites, inverse = np.unique(checked.site, return_inverse=True)
        for position, site_id in enumerate(sites.tolist()):
            index = slice(None) if len(sites) == 1 else np.flatnonzero(inverse == position)
            values = self.compute(
                self.organisation,
                self.calendars[site_id],
                channel=checked.channel[index],
                reason_id=checked.reason[index],
                received=received[index],
                ack_done=ack_done[index],
                answer_done=answer_done[index],
                running=running[index],
                book=self.book,
            )
            for name, column in zip(names, columns, strict=True):
                column[index] = values[name].astype("datetime64[s]").astype(np.int64)
        return columns


@dataclass
class _Checked:
    """The checked rows of one batch, column by column: texts as pyarrow arrays, dates as
    UTC epoch seconds (NO_TIME: empty), reason and site as primary keys (0: none)."""

    ext: pa.Array
    received: np.ndarray
    ack: np.ndarray
    answer: np.ndarray
    closed: np.ndarray
    channel: np.ndarray
    reason: np.ndarray
    site: np.ndarray
    requester: pa.Array
    subject: pa.Array
    outcome: np.ndarray

    def __len__(self) -> int:
        return len(self.received)

    @property
    def status(self) -> np.ndarray:
        """The state the dates give: closed, answered, acknowledged, or new."""
        done = [self.closed != NO_TIME, self.answer != NO_TIME, self.ack != NO_TIME]
        return np.select(done, ["clos", "repondu", "accuse"], "nouveau")


_TEXT_LIMITS = {"external_id": 100, "requester_ref": 64, "subject": 200}
_LATER = ("acknowledged_at", "first_answer_at", "closed_at")


def _validate_contacts(ctx, header, batches, positions, sink, collector, progress):
    """Check the contact rows a batch at a time, sending the good ones to *sink*. Returns the
    rows seen.

    A batch is first checked as a whole, column by column (pyarrow and numpy,
    :func:`_whole_batch`): when every row is right, as in nearly every batch of a real file,
    its columns go to *sink* as they are. Otherwise it is read again row by row
    (:func:`_row_by_row`), which finds and reports every problem. Once a line is rejected,
    nothing more is sent; the checking goes on to the end.
    """
    col = {spec.name: _label(header, positions, spec.name) for spec in CONTACT_FIELDS}
    line = 1
    next_progress = PROGRESS_EVERY
    for batch in batches:
        line = batch.last_line
        batch = batch.without_empty_rows()
        if len(batch.lines):
            checked = _whole_batch(ctx, batch, positions)
            if checked is None:
                checked = _row_by_row(ctx, batch, positions, col)
            if checked is not None and not collector.lines:
                sink.add(checked, ctx.deadlines)
        if line >= next_progress:
            next_progress = line - line % PROGRESS_EVERY + PROGRESS_EVERY
            if progress:
                progress(line - 1)
    return line - 1


def _whole_batch(ctx, batch: _Batch, positions) -> _Checked | None:
    """The batch checked column by column, or None when a row needs a closer look (a
    problem to report, spaces to strip). Dates in other forms are read here one by one."""
    size = len(batch.lines)

    def cells(name):
        index = positions.get(name)
        return batch.cells[index] if index is not None else pa.array([""] * size, pa.string())

    texts = {}
    for name, limit in _TEXT_LIMITS.items():
        values = texts[name] = cells(name)
        if not pc.all(pc.equal(pc.utf8_trim_whitespace(values), values)).as_py():
            return None
        lengths = pc.min_max(pc.utf8_length(values)).as_py()
        if lengths["max"] > limit or (name == "external_id" and lengths["min"] == 0):
            return None
    ids = texts["external_id"].to_pylist()
    distinct = set(ids)
    if len(distinct) != size or not ctx.seen.isdisjoint(distinct):
        return None
    lk = ctx.lookups
    channel = lk["channel"].column(cells("channel"))
    reason = lk["reason"].column(cells("reason"), np.int64)
    site = lk["site"].column(cells("site"), np.int64)
    outcome = lk["outcome"].column(cells("outcome"))
    if channel is None or reason is None or site is None or outcome is None:
        return None
    received, bad = ctx.dates.column(cells("received_at"))
    if bad.any() or (received == NO_TIME).any() or (received > ctx.now).any():
        return None
    later = []
    for name in _LATER:
        if name not in positions:
            later.append(np.full(size, NO_TIME, dtype=np.int64))
            continue
        values, bad = ctx.dates.column(cells(name))
        filled = values != NO_TIME
        late, early = values[filled] > ctx.now, values[filled] < received[filled]
        if bad.any() or late.any() or early.any():
            return None
        later.append(values)
    ctx.seen.update(distinct)
    return _Checked(
        texts["external_id"],
        received,
        *later,
        channel,
        reason,
        site,
        texts["requester_ref"],
        texts["subject"],
        outcome,
    )


def _row_by_row(ctx, batch: _Batch, positions, col) -> _Checked | None:
    """The slow path of a batch: each row checked on its own, every problem reported; the
    good rows (values stripped of spaces) when no line is rejected."""
    lk = ctx.lookups
    parse = ctx.dates.parse
    blank = len(batch.cells)  # an always-empty cell for the fields the profile leaves out
    index = {spec.name: positions.get(spec.name, blank) for spec in CONTACT_FIELDS}
    later_rules = [
        (
            index["acknowledged_at"],
            "acknowledged_at",
            "l'accusé de réception est antérieur à la réception.",
        ),
        (index["first_answer_at"], "first_answer_at", "la réponse est antérieure à la réception."),
        (index["closed_at"], "closed_at", "la clôture est antérieure à la réception."),
    ]
    indexes = tuple(
        index[name]
        for name in (
            "external_id",
            "received_at",
            "channel",
            "reason",
            "site",
            "outcome",
            "requester_ref",
            "subject",
        )
    )
    kept = []
    for line, row in batch.rows():
        row.append("")
        _contact_row_errors(ctx, row, line, col, later_rules, indexes)
        if ctx.collector.lines:
            continue  # once a line is rejected, the others are only checked
        dates = [parse(row[i]) if row[i].strip() else NO_TIME for i, _n, _m in later_rules]
        kept.append(
            (
                row[index["external_id"]].strip(),
                parse(row[index["received_at"]]),
                *dates,
                lk["channel"].get(row[index["channel"]]),
                _known(lk["reason"], row[index["reason"]]) or 0,
                _known(lk["site"], row[index["site"]]) or 0,
                row[index["requester_ref"]].strip(),
                row[index["subject"]].strip(),
                _known(lk["outcome"], row[index["outcome"]]),
            )
        )
    if not kept or ctx.collector.lines:
        return None
    ext, received, ack, answer, closed, channel, reason, site, requester, subject, outcome = zip(
        *kept, strict=True
    )
    return _Checked(
        pa.array(ext, pa.string()),
        *(np.array(values, dtype=np.int64) for values in (received, ack, answer, closed)),
        np.array(channel, dtype=object),
        np.array(reason, dtype=np.int64),
        np.array(site, dtype=np.int64),
        pa.array(requester, pa.string()),
        pa.array(subject, pa.string()),
        np.array(outcome, dtype=object),
    )


def _known(lookup: _Lookup, raw: str):
    """The Voix value of an optional cell already checked: "" when empty."""
    value = lookup.get(raw) if raw.strip() else ""
    return "" if value is _Lookup.MISSING else value


def _contact_row_errors(ctx, row, line, col, later_rules, indexes):
    """The slow path of a line that failed a check: find and report every problem."""
    i_ext, i_recv, i_chan, i_reason, i_site, i_out, i_req, i_subj = indexes
    add = ctx.collector.add
    lk = ctx.lookups
    missing = _Lookup.MISSING
    parse = ctx.dates.parse
    now = ctx.now
    ext = row[i_ext].strip()
    if not ext:
        add(line, col["external_id"], "identifiant externe manquant.")
    elif len(ext) > 100:
        add(line, col["external_id"], "identifiant externe trop long (100 caractères au plus).")
    elif ext in ctx.seen:
        ctx.duplicates.add(ext)
        add(line, col["external_id"], f"identifiant externe « {ext} » en double dans le fichier")
    else:
        ctx.seen.add(ext)
    raw = row[i_recv]
    received = parse(raw)
    if received is None:
        if raw.strip():
            add(line, col["received_at"], f"date illisible « {raw} » (attendu jj/mm/aaaa hh:mm).")
        else:
            add(line, col["received_at"], "date de réception manquante.")
    elif received > now:
        add(line, col["received_at"], f"date dans le futur « {raw} ».")
    for index, name, message in later_rules:
        raw = row[index]
        if not raw.strip():
            continue
        value = parse(raw)
        if value is None:
            add(line, col[name], f"date illisible « {raw} » (attendu jj/mm/aaaa hh:mm).")
        elif value > now:
            add(line, col[name], f"date dans le futur « {raw} ».")
        elif received is not None and value < received:
            add(line, col[name], message)
    raw = row[i_chan]
    if lk["channel"].get(raw) is missing:
        add(line, col["channel"], f"canal « {raw} » inconnu." if raw.strip() else "canal manquant.")
    raw = row[i_reason]
    if raw.strip() and lk["reason"].get(raw) is missing:
        add(line, col["reason"], f"motif « {raw} » inconnu.")
    raw = row[i_site]
    if raw.strip() and lk["site"].get(raw) is missing:
        add(line, col["site"], f"site « {raw} » inconnu dans « {ctx.organisation} ».")
    raw = row[i_out]
    if raw.strip() and lk["outcome"].get(raw) is missing:
        add(line, col["outcome"], f"issue « {raw} » inconnue.")
    if len(row[i_req].strip()) > 64:
        add(line, col["requester_ref"], "référence de l'usager trop longue (64 caractères).")
    if len(row[i_subj].strip()) > 200:
        add(line, col["subject"], "objet trop long (200 caractères au plus).")


def _seconds(text: str) -> int | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if ":" in text:  # hh:mm:ss or mm:ss
        parts = text.split(":")
        if all(p.isdigit() for p in parts) and 2 <= len(parts) <= 3:
            total = 0
            for part in parts:
                total = total * 60 + int(part)
            return total
        return -1
    try:
        value = float(text)
    except ValueError:
        return -1
    return round(value) if value >= 0 else -1


def _validate_calls(ctx, header, batches, positions, writer, collector, progress):
    add = collector.add
    parse = ctx.dates.parse
    now = ctx.now
    lk = ctx.lookups
    missing = _Lookup.MISSING
    col = {name: _label(header, positions, name) for name in positions}

    def getter(name):
        index = positions.get(name)
        if index is None:
            return lambda row: ""
        return lambda row: row[index] if index < len(row) else ""

    g_ext, g_start, g_out = getter("external_id"), getter("started_at"), getter("outcome")
    g_wait, g_site, g_needs, g_line = (
        getter("wait_seconds"),
        getter("site"),
        getter("needs_agent"),
        getter("line"),
    )
    has_needs = "needs_agent" in positions
    seen, duplicates = ctx.seen, ctx.duplicates
    write = writer.writerow
    line = 1
    next_progress = PROGRESS_EVERY
    rows = itertools.chain.from_iterable(b.without_empty_rows().rows() for b in batches)
    for line, row in rows:
        bad = False
        ext = g_ext(row).strip()
        if not ext:
            add(line, col["external_id"], "identifiant externe manquant.")
            bad = True
        elif len(ext) > 100:
            add(line, col["external_id"], "identifiant externe trop long (100 caractères au plus).")
            bad = True
        elif ext in seen:
            duplicates.add(ext)
            add(
                line, col["external_id"], f"identifiant externe « {ext} » en double dans le fichier"
            )
            bad = True
        else:
            seen.add(ext)
        raw = g_start(row)
        started = parse(raw)
        if started is None:
            message = (
                f"date illisible « {raw} » (attendu jj/mm/aaaa hh:mm)."
                if raw.strip()
                else "date de l'appel manquante."
            )
            add(line, col["started_at"], message)
            bad = True
        elif started > now:
            add(line, col["started_at"], f"date dans le futur « {raw} ».")
            bad = True
        raw = g_out(row)
        outcome = lk["outcome"].get(raw)
        if outcome is missing:
            add(
                line,
                col["outcome"],
                f"issue d'appel « {raw} » inconnue (attendu : pris par un agent, "
                "serveur vocal ou abandonné)."
                if raw.strip()
                else "issue de l'appel manquante.",
            )
            bad = True
        wait = ""
        raw = g_wait(row)
        if raw:
            seconds = _seconds(raw)
            if seconds is not None:
                if seconds < 0:
                    add(line, col["wait_seconds"], f"durée d'attente illisible « {raw} ».")
                    bad = True
                else:
                    wait = seconds
        site_id = ""
        raw = g_site(row)
        if raw.strip():
            site_id = lk["site"].get(raw)
            if site_id is missing:
                add(line, col["site"], f"site « {raw} » inconnu dans « {ctx.organisation} ».")
                bad = True
        needs = "1"
        raw = g_needs(row) if has_needs else ""
        if raw.strip():
            needs = lk["needs_agent"].get(raw)
            if needs is missing:
                add(line, col["needs_agent"], f"« {raw} » : attendu oui ou non.")
                bad = True
        phone_line = g_line(row).strip()
        if len(phone_line) > 60:
            add(line, col["line"], "ligne téléphonique trop longue (60 caractères au plus).")
            bad = True
        if line >= next_progress:
            next_progress += PROGRESS_EVERY
            if progress:
                progress(line - 1)
        if bad or collector.lines:
            continue
        write((ext, _text_of(started), outcome, wait, site_id, needs, phone_line))
    return line - 1


@dataclass
class _Context:
    organisation: object
    dates: _Dates
    now: int  # UTC epoch seconds
    lookups: dict
    seen: set = field(default_factory=set)
    duplicates: set = field(default_factory=set)
    collector: object = None
    deadlines: object = None


def _first_lines(table: _Table, positions, duplicates) -> dict[str, int]:
    """Where each duplicated id first appears (second, cheap pass on rejected files only)."""
    table = _Table(table.path, table.filename, encoding=table.encoding, tolerant=table.tolerant)
    first = {}
    try:
        _header, batches = table.open()
        index = positions["external_id"]
        for batch in batches:
            lines = batch.lines.tolist()
            for line, ext in zip(lines, batch.cells[index].to_pylist(), strict=True):
                ext = ext.strip()
                if ext in duplicates and ext not in first:
                    first[ext] = line
    finally:
        table.close()
    return first


def validate_file(profile, path, filename, spool, *, now, progress=None):
    """Check the whole file against *profile*, sending good rows to *spool*.

    Contacts: *spool* is a sink taking the checked rows a chunk at a time
    (``add(checked, deadlines)``, ``reset()``); nothing more is sent once a line is
    rejected. Calls: a text file, the rows written as CSV. *progress(phase, rows)* hears
    of the rows read (phase « verification »). Returns (rows, collector, context). The
    database is not queried once the rows start to flow.
    """
    collector = _Collector()
    tz = profile.organisation.calendar().tz
    ctx = _Context(
        organisation=profile.organisation,
        dates=_Dates(tz, profile.date_format),
        now=int(now.timestamp()),
        lookups=_lookups(profile),
        collector=collector,
        deadlines=_Deadlines(profile.organisation) if profile.kind == ImportKind.CONTACTS else None,
    )
    for problem in _value_map_targets_errors(profile, ctx.lookups):
        collector.add(1, "profil", f"correspondance de valeurs du profil : {problem}.")
    if collector.lines:
        return 0, collector, ctx
    if profile.kind == ImportKind.CONTACTS:
        for name in ("reason", "site", "outcome"):  # optional: empty is no value
            ctx.lookups[name].cache[""] = ""
    # The loop makes no reference cycles, but its millions of short-lived tuples would
    # trigger the cycle collector over and over across the growing heap (a fifth of the
    # validation's time, measured): it is paused for the read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        read = (lambda rows: progress("verification", rows)) if progress else None
        return _validate_file(profile, path, filename, spool, ctx, collector, read)
    finally:
        if collecting:
            gc.enable()
        # The ids of the file (a hundred megabytes for a million) are no longer needed:
        # the memory goes back before the rows are written and the roll-ups rebuilt.
        ctx.seen = set()
        pa.default_memory_pool().release_unused()


def _validate_file(profile, path, filename, spool, ctx, collector, progress):
    table = _Table(path, filename)
    try:
        try:
            header, batches = table.open()
        except FileProblem as problem:
            collector.add(1, "", str(problem))
            return 0, collector, ctx
        except UnicodeDecodeError:
            table.close()
            table = _Table(path, filename, encoding="cp1252")
            header, batches = table.open()
        if not any(h.strip() for h in header):
            collector.add(1, "", "le fichier est vide (aucune ligne d'en-tête).")
            return 0, collector, ctx
        positions = _positions(profile, header, collector)
        if collector.lines:
            return 0, collector, ctx
        contacts = profile.kind == ImportKind.CONTACTS
        validate = _validate_contacts if contacts else _validate_calls
        # Contacts go to a sink (the database, batch by batch); calls to a spool file.
        writer = spool if contacts else csv.writer(spool, lineterminator="\n")
        while True:
            try:
                count = validate(ctx, header, batches, positions, writer, collector, progress)
                break
            except (UnicodeDecodeError, _Irregular) as error:
                decoding = isinstance(error, UnicodeDecodeError)
                if decoding and table.encoding != "utf-8":
                    raise
            # Read the file again from the start: started as UTF-8, then a Windows-1252
            # byte; or a line the fast reader does not take (the csv module then).
            table.close()
            if contacts:
                spool.reset()
            else:
                spool.seek(0)
                spool.truncate()
            collector.__init__()
            ctx.seen.clear()
            ctx.duplicates.clear()
            table = _Table(
                path,
                filename,
                encoding="cp1252" if decoding else table.encoding,
                tolerant=table.tolerant or not decoding,
            )
            header, batches = table.open()
    except csv.Error as error:
        collector.add(1, "", f"le fichier CSV est mal formé ({error}).")
        return 0, collector, ctx
    finally:
        table.close()
    if ctx.duplicates:
        first = _first_lines(table, positions, ctx.duplicates)
        for rejection in collector.errors:
            if rejection.reason.endswith("en double dans le fichier"):
                ext = rejection.reason.split("« ", 1)[1].split(" »", 1)[0]
                rejection.reason += f" (déjà à la ligne {first.get(ext, '?')})."
    return count, collector, ctx


# ----- writing --------------------------------------------------------------------------

_CONTACT_TMP = "voix_import_contacts"
_CALL_TMP = "voix_import_calls"

# Columns updated on re-import, per Voix field of the profile.
_CONTACT_UPDATES = {
    "received_at": ["received_at"],
    "acknowledged_at": ["acknowledged_at"],
    "first_answer_at": ["first_answer_at"],
    "closed_at": ["closed_at"],
    "channel": ["channel"],
    "reason": ["reason_id"],
    "site": ["site_id"],
    "requester_ref": ["requester_ref"],
    "subject": ["subject"],
    "outcome": ["outcome"],
}
_CALL_UPDATES = {
    "started_at": ["started_at"],
    "outcome": ["outcome"],
    "wait_seconds": ["wait_seconds"],
    "site": ["site_id"],
    "needs_agent": ["needs_agent"],
    "line": ["line"],
}


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _load_spool(cursor, table: str, columns: list[str], types: dict, spool_path: str):
    """The spool file into a temporary table (COPY on PostgreSQL, executemany on SQLite)."""
    if _postgres():
        cols = ", ".join(f"{c} {types.get(c, 'text')}" for c in columns)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({cols}) ON COMMIT DROP")
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
        with raw.copy(copy_sql) as copy, open(spool_path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute(f"ANALYZE {table}")
    else:
        affinity = {"bigint": "INTEGER", "integer": "INTEGER"}
        cols = ", ".join(f"{c} {affinity.get(types.get(c), 'TEXT')}" for c in columns)
        cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({cols})")
        marks = ", ".join("?" * len(columns))
        # The plain sqlite3 cursor: Django's wrapper tees the rows to peek at the first
        # one, which would keep the whole file in memory.
        raw = connection.connection.cursor()
        with open(spool_path, encoding="utf-8", newline="") as handle:
            raw.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", csv.reader(handle))
        raw.close()


def _tmp(table: str) -> str:
    return table if _postgres() else f"temp.{table}"


def _old_days(cursor, sql: str, params, dates: _Dates) -> set[date]:
    cursor.execute(sql, params)
    days = set()
    for (value,) in cursor.fetchall():
        if value is None:
            continue
        if isinstance(value, str):
            value = datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
        days.add(value.astimezone(dates.tz).date())
    return days


_CONTACT_COLUMNS = {
    "id",
    "organisation_id",
    "source",
    "external_id",
    "received_at",
    "acknowledged_at",
    "first_answer_at",
    "closed_at",
    "channel",
    "reason_id",
    "site_id",
    "requester_ref",
    "subject",
    "outcome",
    "status",
    "ack_due_at",
    "answer_due_at",
    "due_at",
    "warn_at",
    "created_at",
    "updated_at",
}
_CALL_COLUMNS = {
    "id",
    "organisation_id",
    "source",
    "external_id",
    "started_at",
    "outcome",
    "wait_seconds",
    "site_id",
    "needs_agent",
    "line",
}


def _defaults(model, written: set[str]) -> tuple[str, str, list]:
    """The other columns of *model*, filled with their field defaults on insert (so a
    column added later to the model does not break imports)."""
    columns, values = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.column in written:
            continue
        value = model_field.get_default()
        columns.append(connection.ops.quote_name(model_field.column))
        values.append(model_field.get_db_prep_save(value, connection))
    if not columns:
        return "", "", []
    return ", " + ", ".join(columns), ", %s" * len(columns), values


def _contact_update(column: str) -> str:
    """The SET clause of one column when the file updates a contact already in Voix."""
    if column == "status":
        # « En cours » and « en attente de pièces » are known to Voix only: a file whose
        # dates say « nouveau » or « accusé » does not step the contact back.
        return (
            "status = CASE WHEN excluded.status IN ('nouveau', 'accuse') "
            "AND contacts_contact.status IN ('en_cours', 'attente_pieces') "
            "THEN contacts_contact.status ELSE excluded.status END, "
            # Answered or closed by the file: the wait for documents is over.
            "paused_at = CASE WHEN excluded.status IN ('repondu', 'clos') THEN NULL "
            "ELSE contacts_contact.paused_at END"
        )
    return f"{column} = excluded.{column}"


def _write_calls(cursor, profile, spool_path, run_at, dates, timings) -> tuple[int, int, list, set]:
    pg = _postgres()
    org = profile.organisation_id
    source = profile.source
    types = {
        "started_at": "timestamptz",
        "wait_seconds": "integer",
        "site_id": "bigint",
        "needs_agent": "integer",
    }
    _load_spool(cursor, _CALL_TMP, CALL_SPOOL, types, spool_path)
    tmp = _tmp(_CALL_TMP)
    ph = "%s"
    if pg:
        null = lambda c: f"t.{c}"  # noqa: E731
        text = lambda c: f"COALESCE(t.{c}, '')"  # noqa: E731
        boolean = "(t.needs_agent = 1)"
    else:
        null = lambda c: f"NULLIF(t.{c}, '')"  # noqa: E731
        text = lambda c: f"t.{c}"  # noqa: E731
        boolean = "CAST(t.needs_agent AS integer)"
    moved = _old_days(
        cursor,
        f"SELECT c.started_at FROM {tmp} t CROSS JOIN contacts_call c "
        f"WHERE c.organisation_id = {ph} AND c.source = {ph} AND c.external_id = t.external_id "
        f"AND c.started_at <> {null('started_at')}",
        [org, source],
        dates,
    )
    count_before = _count(cursor, "contacts_call", org, source, ph)
    mapped = {name for name, column in (profile.mapping or {}).items() if column}
    updates = [c for name, cols in _CALL_UPDATES.items() if name in mapped for c in cols]
    other_columns, other_marks, defaults = _defaults(Call, _CALL_COLUMNS)
    cursor.execute(
        "INSERT INTO contacts_call (organisation_id, source, external_id, started_at, outcome, "
        f"wait_seconds, site_id, needs_agent, line{other_columns}) "
        f"SELECT {ph}, {ph}, t.external_id, {null('started_at')}, t.outcome, "
        f"{null('wait_seconds')}, {null('site_id')}, {boolean}, {text('line')}{other_marks} "
        f"FROM {tmp} t WHERE true "
        "ON CONFLICT (organisation_id, source, external_id) "
        f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in updates)}",
        [org, source, *defaults],
    )
    cursor.execute(f"SELECT COUNT(*) FROM {tmp}")
    total = cursor.fetchone()[0]
    created = _count(cursor, "contacts_call", org, source, ph) - count_before
    return created, total - created, [], moved


# ----- writing contacts ------------------------------------------------------------------

# First imports at least this big, and at least as big as the table already is, are
# inserted with the table's indexes dropped and built again afterwards, in the same
# transaction (see _indexes_to_rebuild, _set_aside_postgresql).
REBUILD_MIN_ROWS = 100000


def _contact_table(checked: _Checked, deadlines: _Deadlines) -> pa.Table:
    """The columns of CONTACT_SPOOL for one batch, with their deadlines: dates as UTC
    timestamps, empty dates and ids as nulls."""

    def when(seconds):
        return pa.array(seconds, pa.timestamp("s"), mask=seconds == NO_TIME)

    def key(ids):
        return pa.array(ids, pa.int64(), mask=ids == 0)

    columns = [
        checked.ext,
        when(checked.received),
        when(checked.ack),
        when(checked.answer),
        when(checked.closed),
        pa.array(checked.channel, pa.string()),
        key(checked.reason),
        key(checked.site),
        checked.requester,
        checked.subject,
        pa.array(checked.outcome, pa.string()),
        pa.array(checked.status, pa.string()),
        *map(when, deadlines.columns(checked)),
    ]
    return pa.table(columns, names=CONTACT_SPOOL)


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + bytes(8)  # binary COPY: signature, flags, extension
_COPY_TRAILER = b"\xff\xff"
_COPY_NULL = b"\xff\xff\xff\xff"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's timestamps count from there
_PG_EPOCH_SECONDS = int(_PG_EPOCH.timestamp())


def _binary_field(value, db_type: str) -> bytes:
    """One field of a binary COPY row (length, then the value as PostgreSQL stores it),
    for the columns that are the same on every row."""
    if value is None:
        return _COPY_NULL
    if db_type == "bigint":
        return struct.pack(">iq", 8, value)
    if db_type == "integer":
        return struct.pack(">ii", 4, value)
    if db_type == "boolean":
        return struct.pack(">i?", 1, value)
    if db_type == "timestamp with time zone":
        return struct.pack(">iq", 8, (value - _PG_EPOCH) // timedelta(microseconds=1))
    if db_type.startswith(("varchar", "text")):
        data = str(value).encode()
        return struct.pack(">i", len(data)) + data
    raise ValueError(f"type de colonne non prévu par l'import : {db_type}")


def _binary_rows(table: pa.Table, tail: bytes, tail_fields: int) -> pa.Buffer:
    """The rows of *table* in PostgreSQL's binary COPY format: the server has no text to
    parse (dates, numbers), a third less of its time (measured). Each field becomes a
    binary array (length, then value) and pyarrow puts the rows together: no Python per
    row. *tail*: the *tail_fields* fields every row ends with (_binary_field)."""
    size = table.num_rows
    null = pa.scalar(_COPY_NULL, pa.binary())
    parts = [pa.scalar(struct.pack(">h", table.num_columns + tail_fields), pa.binary())]
    for column in table.columns:
        column = column.combine_chunks()
        if pa.types.is_string(column.type):
            lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
            parts.append(_fixed_binary(lengths.astype(">i4").view(np.uint8), 4))
            parts.append(column.cast(pa.binary()))
            continue
        values = column.cast(pa.int64()).fill_null(0).to_numpy()
        if pa.types.is_timestamp(column.type):
            values = (values - _PG_EPOCH_SECONDS) * 1_000_000
        fields = np.empty((size, 12), dtype=np.uint8)
        fields[:, :4] = np.frombuffer(struct.pack(">i", 8), dtype=np.uint8)
        fields[:, 4:] = values.astype(">i8").view(np.uint8).reshape(size, 8)
        valued = _fixed_binary(fields, 12)
        parts.append(pc.if_else(column.is_valid(), valued, null) if column.null_count else valued)
    if tail:
        parts.append(pa.scalar(tail, pa.binary()))
    rows = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + size + 1]
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])]


def _fixed_binary(data: np.ndarray, width: int) -> pa.Array:
    """Rows of *width* bytes (a numpy buffer) as a pyarrow binary array, without copying."""
    array = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width),
        len(data) // width if data.ndim == 1 else len(data),
        [None, pa.py_buffer(np.ascontiguousarray(data))],
    )
    return array.cast(pa.binary())


class _PostgresRows:
    """Checked rows streamed to PostgreSQL by one binary ``COPY`` while the file is still
    being read: the server inserts (and indexes) them on the other core meanwhile.
    *constants* (column → (value, database type)) are the same on every row."""

    def __init__(self, cursor, table: str, constants: dict | None = None):
        self.cursor = cursor
        constants = constants or {}
        columns = [*CONTACT_SPOOL, *constants]
        self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
        self.tail = b"".join(_binary_field(v, db_type) for v, db_type in constants.values())
        self.tail_fields = len(constants)
        self.copy = None
        self.rows = 0
        self.sender = self.sending = None

    def add(self, checked: _Checked, deadlines: _Deadlines) -> None:
        head = b""
        if self.copy is None:
            self.cursor.execute("SAVEPOINT voix_import_rows")
            self._context = self.cursor.cursor.copy(self.sql)  # psycopg 3 under Django's
            self.copy = self._context.__enter__()
            self.sender = ThreadPoolExecutor(max_workers=1)
            head = _COPY_SIGNATURE
        rows = _contact_table(checked, deadlines)
        # In order of receipt within the batch: the date indexes (receipt, answer, closure)
        # are then updated page after page rather than all over (the server takes 15 %
        # less time, measured; sorting the whole file gains no more).
        rows = rows.take(np.argsort(checked.received, kind="stable"))
        data = _binary_rows(rows, self.tail, self.tail_fields)
        if head:
            data = head + data.to_pybytes()
        self._wait()
        # Sent by a thread of its own: this one checks the next batch meanwhile, the server
        # takes this one on its core (one batch in flight: the memory stays bounded).
        self.sending = self.sender.submit(self.copy.write, data)
        self.rows += len(checked)

    def _wait(self, *, stop=False) -> None:
        sending, self.sending = self.sending, None
        try:
            if sending is not None:
                sending.result()
        finally:
            if stop:
                self.sender.shutdown()

    def finish(self) -> None:
        if self.copy is not None:
            self._wait(stop=True)
            self.copy.write(_COPY_TRAILER)
            self.copy = None
            self._context.__exit__(None, None, None)
            self.cursor.execute("RELEASE SAVEPOINT voix_import_rows")

    def reset(self) -> None:
        """Forget the rows sent so far (the file is read again from its start)."""
        if self.copy is not None:
            with contextlib.suppress(Exception):
                self._wait(stop=True)
            self.copy = None
            with contextlib.suppress(Exception):
                self._context.__exit__(RuntimeError, RuntimeError("relecture"), None)
            self.cursor.execute("ROLLBACK TO SAVEPOINT voix_import_rows")
        self.rows = 0

    abort = reset


class _SqliteRows:
    """Checked rows inserted into a temporary table of SQLite as the file is read.

    Outside any transaction, each batch is its own short transaction on the temporary
    database only: the main database stays free for others (the run's progress) meanwhile.
    """

    # Rows per INSERT statement: the statement's own cost is shared (measured: a fifth less
    # time than one row a statement).
    ROWS_PER_INSERT = 50

    def __init__(self, table: str, columns: list[str]):
        connection.ensure_connection()
        self.raw = connection.connection
        self.table = table
        self.width = len(columns)
        row = f"({', '.join('?' * self.width)})"
        self.sql = f"INSERT INTO {table} VALUES {row}"
        self.many_sql = f"INSERT INTO {table} VALUES {', '.join([row] * self.ROWS_PER_INSERT)}"
        self.rows = 0

    def add(self, checked: _Checked, deadlines: _Deadlines) -> None:
        table = _contact_table(checked, deadlines)
        columns = [
            # Dates as epoch seconds (see _staged).
            (c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c).to_pylist()
            for c in table.columns
        ]
        values = itertools.chain.from_iterable(zip(*columns, strict=True))
        statements = len(checked) // self.ROWS_PER_INSERT
        alone = not connection.in_atomic_block
        if alone:
            self.raw.execute("BEGIN")
        try:
            # The same iterator repeated: consecutive values grouped by statement, then the
            # rows left over one by one.
            many = zip(*[values] * (self.width * self.ROWS_PER_INSERT), strict=False)
            self.raw.executemany(self.many_sql, itertools.islice(many, statements))
            self.raw.executemany(self.sql, zip(*[values] * self.width, strict=False))
        except BaseException:
            if alone:
                self.raw.execute("ROLLBACK")
            raise
        if alone:
            self.raw.execute("COMMIT")
        self.rows += len(checked)

    def finish(self) -> None:
        pass

    def reset(self) -> None:
        self.raw.execute(f"DELETE FROM {self.table}")
        self.rows = 0

    abort = finish


class _Retry(Exception):
    """A first import met contacts of its source committed meanwhile: upsert instead."""


class _Rejected(Exception):
    """A line was rejected: the transaction rolls back."""


def _first_import(cursor, org, source) -> bool:
    """Nothing of this source in Voix yet: a plain insert, no conflict to look for, no
    contact moving day, no paused contact (measured faster)."""
    cursor.execute(
        "SELECT 1 FROM contacts_contact WHERE organisation_id = %s AND source = %s "
        "AND NOT (external_id = '') LIMIT 1",
        [org, source],
    )
    return cursor.fetchone() is None


_STAGED_DATES = {
    "received_at",
    "acknowledged_at",
    "first_answer_at",
    "closed_at",
    "ack_due_at",
    "answer_due_at",
    "due_at",
    "warn_at",
}


def _staged(column: str) -> str:
    """A column of the staged rows as contacts_contact takes it: SQLite stages dates as
    epoch seconds (binding numbers costs half as much as texts, measured), turned into
    Django's « YYYY-MM-DD HH:MM:SS » here."""
    if column in _STAGED_DATES and not _postgres():
        return f"datetime(t.{column}, 'unixepoch')"
    return f"t.{column}"


def _contact_insert(table: str, conflict: str = "") -> tuple[str, list]:
    """INSERT … SELECT from the staged rows into contacts_contact; its extra parameters."""
    other_columns, other_marks, defaults = _defaults(Contact, _CONTACT_COLUMNS)
    staged = ", ".join(_staged(c) for c in CONTACT_SPOOL)
    sql = (
        f"INSERT INTO contacts_contact (organisation_id, source, {', '.join(CONTACT_SPOOL)}, "
        f"created_at, updated_at{other_columns}) "
        f"SELECT %s, %s, {staged}, %s, %s{other_marks} FROM {table} t WHERE true {conflict}"
    )
    return sql, defaults


def _contact_updates(profile) -> list[str]:
    mapped = {name for name, column in (profile.mapping or {}).items() if column}
    updates = ["status", "updated_at", "ack_due_at", "answer_due_at", "due_at", "warn_at"]
    for name, columns in _CONTACT_UPDATES.items():
        if name in mapped:
            updates += columns
    return updates


def _upsert_contacts(cursor, profile, table, run_at, dates, timings) -> tuple[int, int, list, set]:
    """The staged rows into contacts_contact when the source already has contacts there:
    re-importing a file updates, never duplicates."""
    org = profile.organisation_id
    source = profile.source
    # Days whose roll-ups change because an existing contact moves to another day.
    moved = _old_days(
        cursor,
        f"SELECT c.received_at FROM {table} t CROSS JOIN contacts_contact c "
        "WHERE c.organisation_id = %s AND c.source = %s AND c.external_id = t.external_id "
        f"AND NOT (c.external_id = '') AND c.received_at <> {_staged('received_at')}",
        [org, source],
        dates,
    )
    count_before = _count(cursor, "contacts_contact", org, source, "%s")
    conflict = (
        "ON CONFLICT (organisation_id, source, external_id) WHERE NOT (external_id = '') "
        f"DO UPDATE SET {', '.join(_contact_update(c) for c in _contact_updates(profile))}"
    )
    sql, defaults = _contact_insert(table, conflict)
    stamp = connection.ops.adapt_datetimefield_value(run_at)
    t0 = time.perf_counter()
    cursor.execute(sql, [org, source, stamp, stamp, *defaults])
    timings["upsert_s"] = time.perf_counter() - t0
    created = _count(cursor, "contacts_contact", org, source, "%s") - count_before
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    total = cursor.fetchone()[0]
    # Contacts already in Voix that were paused for documents: their deadlines depend on
    # the time paused, which the file does not know; the clocks recompute them.
    cursor.execute(
        f"SELECT c.id FROM {table} t CROSS JOIN contacts_contact c "
        "WHERE c.organisation_id = %s AND c.source = %s AND c.external_id = t.external_id "
        "AND NOT (c.external_id = '') "
        "AND (c.paused_at IS NOT NULL OR c.paused_days > 0 OR c.paused_seconds > 0)",
        [org, source],
    )
    paused = [pk for (pk,) in cursor.fetchall()]
    return created, total - created, paused, moved


def _indexes_to_rebuild(cursor, rows: int) -> list[tuple[str, str]]:
    """The indexes of contacts_contact (name, SQL) to drop and build again around an insert
    of *rows* new contacts on SQLite; none for an insert small beside the table.

    Each index of the table costs about as much as the row itself, per row inserted
    (measured: a dozen indexes, ten times slower than the bare table). When the file is
    at least as big as the table already is, dropping the indexes, inserting the rows and
    building the indexes again from the whole table (sorted, bottom-up) is about three
    times faster. SQLite changes its schema inside the transaction: a failure rolls the
    indexes back with the rows, and other connections see the table before or after, never
    without its indexes (they wait for the write lock anyway).
    """
    if rows < REBUILD_MIN_ROWS:
        return []
    cursor.execute("SELECT COUNT(*) FROM contacts_contact")
    if rows < cursor.fetchone()[0]:
        return []
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'contacts_contact' AND sql IS NOT NULL"
    )
    return cursor.fetchall()


def _sqlite_insert(cursor, profile, table, run_at, timings, indexes) -> None:
    """The staged rows into contacts_contact, on a first import of the source (SQLite),
    around a rebuild of *indexes* (see _indexes_to_rebuild)."""
    for name, _sql in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    sql, defaults = _contact_insert(table)
    stamp = connection.ops.adapt_datetimefield_value(run_at)
    t0 = time.perf_counter()
    cursor.execute(sql, [profile.organisation_id, profile.source, stamp, stamp, *defaults])
    timings["insert_s"] = time.perf_counter() - t0
    if indexes:
        t0 = time.perf_counter()
        # The sorts of the index builds on two threads (a fifth faster, measured).
        cursor.execute("PRAGMA threads")
        threads = cursor.fetchone()[0]
        cursor.execute("PRAGMA threads = 2")
        for _name, index_sql in indexes:
            cursor.execute(index_sql)
        cursor.execute(f"PRAGMA threads = {int(threads)}")
        timings["indexes_s"] = time.perf_counter() - t0


def _unique_violation(error: BaseException) -> bool:
    """A unique index refused a row (psycopg's error, or Django's wrapping it)."""
    return any(getattr(e, "sqlstate", None) == "23505" for e in (error, error.__cause__) if e)


def _set_aside_postgresql(cursor, org, source, path, filename) -> tuple[list, list] | None:
    """Before a first import of *source* into PostgreSQL: the indexes and foreign keys of
    contacts_contact (name, SQL) set aside for the load, none for a file small beside the
    table; None when the source turns out to have contacts already (an upsert then).

    A file at least as big as the table is loaded into the table without its indexes and
    foreign keys, which are then built again from the whole table in the same transaction
    (sorted, bottom-up; one join per foreign key): several times faster than updating a
    dozen indexes and checking three keys row after row (measured). The table is locked
    meanwhile (readers wait for the end of the import, a few seconds per 100,000 rows);
    a failure rolls everything back, indexes included.
    """
    rows = count_rows(path, filename)
    if rows < REBUILD_MIN_ROWS:
        return [], []
    cursor.execute("SELECT COUNT(*) FROM (SELECT 1 FROM contacts_contact LIMIT %s) t", [rows + 1])
    if cursor.fetchone()[0] > rows:
        return [], []
    # No other import may land rows of the source from now on; then check again.
    cursor.execute("LOCK TABLE contacts_contact IN SHARE ROW EXCLUSIVE MODE")
    if not _first_import(cursor, org, source):
        return None
    cursor.execute(
        "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'contacts_contact'::regclass AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'contacts_contact'::regclass AND contype = 'f'"
    )
    keys = cursor.fetchall()
    # Checks still pending in this transaction (rows written before the import, inside an
    # outer transaction) run now: a table cannot change with trigger events pending.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, _sql in keys:
        cursor.execute(f"ALTER TABLE contacts_contact DROP CONSTRAINT {name}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them all
    for name, _sql in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return indexes, keys


def _restore_postgresql(cursor, indexes, keys, timings) -> None:
    """The indexes and foreign keys set aside by _set_aside_postgresql, made again."""
    if not indexes and not keys:
        return
    t0 = time.perf_counter()
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, sql in indexes:
        cursor.execute(sql)
    timings["indexes_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for name, definition in keys:
        cursor.execute(f"ALTER TABLE contacts_contact ADD CONSTRAINT {name} {definition}")
    timings["keys_s"] = time.perf_counter() - t0


def _foreign_keys(cursor) -> list[str]:
    cursor.execute(
        "SELECT quote_ident(conname) FROM pg_constraint "
        "WHERE conrelid = 'contacts_contact'::regclass AND contype = 'f' AND condeferrable"
    )
    return [name for (name,) in cursor.fetchall()]


def _checked(result, rows, collector, progress, started) -> bool:
    """After the file was read: record the rows, the time and the memory taken, report the
    progress; False when lines were rejected (then kept in *result*), nothing to write."""
    result.rows = rows
    result.timings["validation_s"] = time.perf_counter() - started
    result.timings["rss_validation_mb"] = _peak_rss_mb()
    if progress:
        progress("verification", rows)
    if collector.lines:
        result.rejected_lines = collector.lines
        result.errors = collector.errors
        return False
    if progress:
        progress("enregistrement", rows)
    return True


def _import_contacts(actor, profile, path, filename, now, progress, result, *, upsert=False):
    """import_file for contacts: PostgreSQL streams the rows while the file is read, SQLite
    stages them in a temporary table; then one transaction lands them all."""
    timings = result.timings
    started = time.perf_counter()
    if not _postgres():
        return _import_contacts_sqlite(actor, profile, path, filename, now, progress, result)
    org = profile.organisation_id
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL timezone = 'UTC'")
            first = not upsert and _first_import(cursor, org, profile.source)
            set_aside = [], []
            if first:
                set_aside = _set_aside_postgresql(cursor, org, profile.source, path, filename)
                first = set_aside is not None
            keys = ""
            if first and not set_aside[0]:
                # The foreign keys checked row by row as the rows arrive (on the server's
                # core, while this one reads the file) instead of all at the commit.
                keys = ", ".join(_foreign_keys(cursor))
                if keys:
                    cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
            if first:
                fields = {f.column: f for f in Contact._meta.concrete_fields}
                values = {"organisation_id": org, "source": profile.source}
                values |= {"created_at": now, "updated_at": now}
                for column, model_field in fields.items():
                    if column not in _CONTACT_COLUMNS:
                        default = model_field.get_default()
                        values[column] = model_field.get_db_prep_save(default, connection)
                constants = {
                    connection.ops.quote_name(column): (value, fields[column].db_type(connection))
                    for column, value in values.items()
                }
                sink = _PostgresRows(cursor, "contacts_contact", constants)
            else:
                types = {c: "text" for c in CONTACT_SPOOL}
                for c in ("received_at", "acknowledged_at", "first_answer_at", "closed_at"):
                    types[c] = "timestamptz"
                for c in ("ack_due_at", "answer_due_at", "due_at", "warn_at"):
                    types[c] = "timestamptz"
                types["reason_id"] = types["site_id"] = "bigint"
                cursor.execute(f"DROP TABLE IF EXISTS {_CONTACT_TMP}")
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {_CONTACT_TMP} "
                    f"({', '.join(f'{c} {types[c]}' for c in CONTACT_SPOOL)}) ON COMMIT DROP"
                )
                sink = _PostgresRows(cursor, _CONTACT_TMP)
            try:
                rows, collector, ctx = validate_file(
                    profile,
                    path,
                    filename,
                    sink,
                    now=now,
                    progress=progress,
                )
                if collector.lines:
                    sink.abort()
                else:
                    t0 = time.perf_counter()
                    sink.finish()
                    timings["copy_wait_s"] = time.perf_counter() - t0
            except BaseException as error:
                with contextlib.suppress(Exception):
                    sink.abort()  # the connection out of COPY, back to the savepoint
                if first and _unique_violation(error):
                    raise _Retry from error
                raise
            if not _checked(result, rows, collector, progress, started):
                raise _Rejected
            t0 = time.perf_counter()
            if first:
                if keys:
                    cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")
                _restore_postgresql(cursor, *set_aside, timings)
                created, updated, ids, moved = sink.rows, 0, [], set()
            else:
                cursor.execute(f"ANALYZE {_CONTACT_TMP}")
                created, updated, ids, moved = _upsert_contacts(
                    cursor, profile, _CONTACT_TMP, now, ctx.dates, timings
                )
                cursor.execute(f"DROP TABLE IF EXISTS {_CONTACT_TMP}")
            timings["write_s"] = time.perf_counter() - t0
            timings["rss_write_mb"] = _peak_rss_mb()
            _land(actor, profile, filename, result, ctx, created, updated, ids, moved)
            t0 = time.perf_counter()
    except _Rejected:
        return result
    except _Retry:
        if upsert:
            raise
        result.timings.clear()
        return _import_contacts(actor, profile, path, filename, now, progress, result, upsert=True)
    timings["commit_s"] = time.perf_counter() - t0
    _refresh_rollups(profile, result)
    return result


def _import_contacts_sqlite(actor, profile, path, filename, now, progress, result):
    timings = result.timings
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{_CONTACT_TMP}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_CONTACT_TMP} ({', '.join(CONTACT_SPOOL)})")
    table = f"temp.{_CONTACT_TMP}"
    try:
        sink = _SqliteRows(table, CONTACT_SPOOL)
        rows, collector, ctx = validate_file(
            profile,
            path,
            filename,
            sink,
            now=now,
            progress=progress,
        )
        if not _checked(result, rows, collector, progress, started):
            return result
        with transaction.atomic(), connection.cursor() as cursor:
            t0 = time.perf_counter()
            first = _first_import(cursor, profile.organisation_id, profile.source)
            indexes = _indexes_to_rebuild(cursor, sink.rows) if first else []
            cursor.execute("PRAGMA cache_size")
            cache_size = cursor.fetchone()[0]
            if not indexes:
                # A larger page cache for the index updates of a big insert (64 MB); building
                # indexes from scratch goes faster with the default one (measured).
                cursor.execute("PRAGMA cache_size = -65536")
            if first:
                try:
                    # A savepoint: should contacts of the source be there after all (another
                    # import committed in between), the unique index refuses a row and the
                    # upsert below takes over.
                    with transaction.atomic():
                        _sqlite_insert(cursor, profile, table, now, timings, indexes)
                except IntegrityError:
                    first = False
                else:
                    created, updated, ids, moved = sink.rows, 0, [], set()
            if not first:
                created, updated, ids, moved = _upsert_contacts(
                    cursor, profile, table, now, ctx.dates, timings
                )
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            timings["write_s"] = time.perf_counter() - t0
            timings["rss_write_mb"] = _peak_rss_mb()
            _land(actor, profile, filename, result, ctx, created, updated, ids, moved)
            t0 = time.perf_counter()
        timings["commit_s"] = time.perf_counter() - t0
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    _refresh_rollups(profile, result)
    return result


def _land(actor, profile, filename, result, ctx, created, updated, ids, moved) -> None:
    """Inside the import's transaction: deadlines of paused contacts, counts, audit."""
    organisation = profile.organisation
    t0 = time.perf_counter()
    _apply_deadlines(organisation, ids)
    result.timings["deadlines_s"] = time.perf_counter() - t0
    result.created, result.updated = created, updated
    result.contact_ids_count = len(ids)
    result.days = _day_range(ctx.dates.days | moved)
    record_event(
        actor,
        "contacts.importés" if profile.kind == ImportKind.CONTACTS else "appels.importés",
        profile,
        organisation=organisation,
        changes={
            "fichier": filename,
            "profil": profile.name,
            "lignes": result.rows,
            "créés": created,
            "mis à jour": updated,
        },
    )


def _refresh_rollups(profile, result) -> None:
    t0 = time.perf_counter()
    days = result.days
    if days and profile.kind == ImportKind.CONTACTS:
        # Contacts still open, or answered since, are in the stock of every day after
        # their receipt: rebuild up to today.
        rollups.refresh(profile.organisation, days, since=min(days))
    elif days:
        rollups.refresh(profile.organisation, days)
    result.timings["rollups_s"] = time.perf_counter() - t0


def _count(cursor, table, org, source, ph) -> int:
    cursor.execute(
        f"SELECT COUNT(*) FROM {table} WHERE organisation_id = {ph} AND source = {ph}",
        [org, source],
    )
    return cursor.fetchone()[0]


def _apply_deadlines(organisation, ids):
    try:
        from . import clocks
    except ImportError:  # the clocks part is not there yet
        return
    apply = getattr(clocks, "apply_deadlines_bulk", None)
    if apply is not None and ids:
        apply(organisation, ids)


def _day_range(days: set[date]) -> list[date]:
    """Every day from the first to the last touched: the stock of open contacts at the end
    of each day in between changes too."""
    if not days:
        return []
    first, last = min(days), max(days)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def import_file(
    actor,
    profile: ImportProfile,
    path: str,
    filename: str = "",
    *,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import one CSV/XLSX file with *profile*: the whole file lands, or nothing does.

    *progress(phase, rows)* is called as the file goes (phase « verification » then
    « enregistrement »). On PostgreSQL, contact rows stream to the database while the file
    is read: during the « verification » phase the callback must not use the default
    database connection (execute_run writes the progress through a connection of its own).
    Returns the counts, or the rejected lines when the file is refused.
    """
    now = now or timezone.now()
    filename = filename or os.path.basename(path)
    result = ImportResult(filename=filename, kind=profile.kind)
    if profile.kind == ImportKind.CONTACTS:
        return _import_contacts(actor, profile, path, filename, now, progress, result)
    return _import_calls(actor, profile, path, filename, now, progress, result)


def _import_calls(actor, profile, path, filename, now, progress, result) -> ImportResult:
    """Call logs: validated to a spool file, then loaded and upserted in one transaction."""
    timings = result.timings
    started = time.perf_counter()
    spool_dir = tempfile.mkdtemp(prefix="voix-import-")
    spool_path = os.path.join(spool_dir, "lignes.csv")
    try:
        with open(spool_path, "w", encoding="utf-8", newline="") as spool:
            rows, collector, ctx = validate_file(
                profile,
                path,
                filename,
                spool,
                now=now,
                progress=progress,
            )
        if not _checked(result, rows, collector, progress, started):
            return result
        with transaction.atomic():
            with connection.cursor() as cursor:
                if _postgres():
                    cursor.execute("SET LOCAL timezone = 'UTC'")
                t0 = time.perf_counter()
                created, updated, ids, moved = _write_calls(
                    cursor, profile, spool_path, now, ctx.dates, timings
                )
                timings["write_s"] = time.perf_counter() - t0
                cursor.execute(f"DROP TABLE IF EXISTS {_tmp(_CALL_TMP)}")
            _land(actor, profile, filename, result, ctx, created, updated, ids, moved)
        _refresh_rollups(profile, result)
        return result
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(spool_path)
        os.rmdir(spool_dir)


# ----- runs (page and command line) -----------------------------------------------------


def start_run(actor, profile: ImportProfile, path: str, filename: str) -> ImportRun:
    """Record a pending import of the stored file *path* (the task or the command runs it)."""
    return ImportRun.objects.create(
        organisation=profile.organisation,
        profile=profile,
        user=actor,
        filename=filename[:255],
        path=path,
        rows_total=count_rows(path, filename),
    )


def _progress_writer(run_pk):
    """(write(phase, rows, total), close()) for the run's progress columns.

    On PostgreSQL the default connection streams the rows while the file is read, inside
    the import's transaction: the progress goes through a connection of its own, committed
    at once, so the run's page sees it. Inside an outer transaction nobody could see it
    before the end anyway: only the « enregistrement » step is written then.
    """

    def update(phase, rows, total):
        ImportRun.objects.filter(pk=run_pk).update(rows_done=rows, rows_total=total)

    if connection.vendor != "postgresql":
        return update, lambda: None
    if connection.in_atomic_block:

        def update_when_free(phase, rows, total):
            if phase == "enregistrement":
                update(phase, rows, total)

        return update_when_free, lambda: None
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    table = connection.ops.quote_name(ImportRun._meta.db_table)

    def update_own(phase, rows, total):
        with own.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s",
                [rows, total, run_pk],
            )

    return update_own, own.close


def execute_run(
    run: ImportRun,
    *,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
    delete_file: bool = True,
) -> ImportResult | None:
    """Run a recorded import: progress in the run's row as the file goes, then the outcome."""
    run_pk = run.pk
    last = [0.0]
    write_progress, close_progress = _progress_writer(run_pk)

    def report(phase, rows):
        if progress:
            progress(phase, rows)
        moment = time.monotonic()
        if phase == "enregistrement" or moment - last[0] > 0.5:
            last[0] = moment
            write_progress(phase, rows, max(run.rows_total, rows))

    ImportRun.objects.filter(pk=run_pk).update(
        state=ImportRun.State.RUNNING, started_at=timezone.now()
    )
    result = None
    try:
        result = import_file(
            run.user, run.profile, run.path, run.filename, now=now, progress=report
        )
    except Exception as error:  # the run page must say it failed, whatever happened
        ImportRun.objects.filter(pk=run_pk).update(
            state=ImportRun.State.FAILED,
            error=f"L'import a échoué : {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    finally:
        close_progress()
        if delete_file and run.path:
            with contextlib.suppress(OSError):
                os.remove(run.path)
    fields = {
        "rows_total": result.rows,
        "rows_done": result.rows,
        "finished_at": timezone.now(),
        "path": "" if delete_file else run.path,
    }
    if result.ok:
        fields.update(state=ImportRun.State.DONE, created=result.created, updated=result.updated)
    else:
        fields.update(
            state=ImportRun.State.REJECTED,
            rejected=result.rejected_lines,
            report=[
                {"ligne": e.line, "colonne": e.column, "motif": e.reason} for e in result.errors
            ],
        )
    ImportRun.objects.filter(pk=run_pk).update(**fields)
    run.refresh_from_db()
    return result


# ----- profiles -------------------------------------------------------------------------


def check_profile(kind: str, mapping: dict, value_maps: dict) -> None:
    """A profile names a column for each required field and maps values to Voix codes."""
    errors = {}
    for spec in FIELDS[kind]:
        if spec.required and not (mapping.get(spec.name) or "").strip():
            errors.setdefault("mapping", []).append(
                f"Indiquez la colonne du champ « {spec.label} » (obligatoire)."
            )
    allowed = set(VALUE_MAP_FIELDS[kind])
    for name in value_maps or {}:
        if name not in allowed:
            errors.setdefault("value_maps", []).append(
                f"« {name} » : correspondance de valeurs impossible pour ce champ."
            )
    if errors:
        raise ValidationError(errors)


def save_profile(actor, organisation, *, profile=None, **fields) -> ImportProfile:
    """Create or change an import profile (column mapping, value maps, date format)."""
    check_profile(fields["kind"], fields.get("mapping") or {}, fields.get("value_maps") or {})
    with transaction.atomic():
        created = profile is None
        if created:
            profile = ImportProfile(organisation=organisation)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.full_clean()
        profile.save()
        record_event(
            actor,
            "profil_import.créé" if created else "profil_import.modifié",
            profile,
            organisation=organisation,
            changes={"nom": profile.name, "type": profile.kind, "source": profile.source},
        )
    return profile


def default_mapping(kind: str) -> dict:
    return {spec.name: spec.header for spec in FIELDS[kind]}
