"""The answer letter: a PDF with the header, the address, the reference, the answer."""

import io

from pypdf import PdfReader

from voix.complaints import services
from voix.complaints.models import AnswerVia
from voix.complaints.tests.world import public_complaint


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_letter_carries_header_address_reference_answer_and_signature(world):
    c = public_complaint(
        world,
        full_name="Claude Courrier",
        email="",
        postal_address="12 rue des Lilas\n53000 Laval",
    )
    c = services.send_answer(
        world.people["qualite"],
        c,
        text="Votre dossier a été réexaminé.\n\nLe versement interviendra le 5 du mois.",
        via=AnswerVia.LETTER,
    )
    pdf = services.letter_pdf(c)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "Caf test",
        "Siège test",
        "Claude Courrier",
        "12 rue des Lilas 53000 Laval",
        c.reference,
        "Votre dossier a été réexaminé.",
        "Le versement interviendra le 5 du mois.",
        "Le service des relations avec les usagers",
        "médiateur",
    ):
        assert expected in text, expected
    assert "Projet" not in text


def test_a_draft_letter_is_marked_as_such(world):
    text = text_of(services.letter_pdf(world.complaint, text="Brouillon de réponse."))
    assert "Projet de réponse" in text and "Brouillon de réponse." in text
