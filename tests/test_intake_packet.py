"""The whole intake packet for every example practice: CONTENT.md's checklist,
each state's required notices, reading level, and the signature page."""
from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

import pytest
import textstat
from pypdf import PdfReader

from consentgen.api import Job, build_document, meta_for
from consentgen.backends import get_backend
from consentgen.document import plain_text
from consentgen.profiles import load_profile
from consentgen.templating import list_documents

from .conftest import ROOT

PROFILES = ROOT / "profiles"
EXAMPLES = sorted(PROFILES.glob("example-*/clinicians/*.yaml"))
JOB = Job(effective=dt.date(2026, 3, 2))


@cache
def text(profile: Path, document: str) -> str:
    return " ".join(plain_text(build_document(load_profile(profile), document, JOB)).split())


def clinician(path: str) -> Path:
    return PROFILES / path


# CONTENT.md section 1, row by row: (topic, example clinician, document, phrases a client reads).
CHECKLIST = [
    ("Identity, credentials, supervision", "example-tx/clinicians/elena-vasquez.yaml", "informed-consent",
     ["I am Elena Vasquez, MA, LPC Associate", "LPC Associate number 80456", "My license has these limits",
      "supervision of Grace Whitaker, PhD, LPC-S"]),
    ("Regulator and complaints", "example-practice/clinicians/wren-kowalski.yaml", "informed-consent",
     ["My work is overseen by the Colorado State Board of Social Work Examiners", "make a complaint"]),
    ("Nature of services, risks and alternatives", "example-wa/clinicians/priyanka-desai.yaml", "informed-consent",
     ["cognitive behavioral therapy (CBT)", "Sessions last 50 minutes", "12 to 20 sessions",
      "Talking about painful things can stir up sadness", "a support group, medicine from a doctor"]),
    ("Client rights", "example-ca/clinicians/lucia-fernandez.yaml", "informed-consent",
     ["You can get a second opinion", "You can see your records", "or end it, whenever you choose",
      "You can say no to any part of therapy"]),
    ("Fees and nonpayment", "example-tx/clinicians/darnell-brooks.yaml", "fees-and-cancellations",
     ["$140", "48 hours", "$70", "30 days"]),
    ("Good Faith Estimate", "example-tx/clinicians/thomas-nakamura.yaml", "fees-and-cancellations",
     ["Good Faith Estimate", "$400", "120 days"]),
    ("Limits of confidentiality", "example-wa/clinicians/jonah-whitfield.yaml", "informed-consent",
     ["Abuse or neglect", "Court orders", "Washington law asks me to take reasonable care to protect them",
      "If one of you tells me something alone, I will usually keep it private"]),
    ("HIPAA Notice of Privacy Practices", "example-ca/clinicians/aisha-rahman.yaml", "privacy-notice-acknowledgement",
     ["Notice of Privacy Practices", "February 16, 2026"]),
    ("Contact between sessions", "example-practice/clinicians/samuel-okafor.yaml", "contact",
     ["Within 4 hours", "not fully private", "Messages to me are never for emergencies"]),
    ("Emergencies", "example-ca/clinicians/kevin-oconnell.yaml", "telehealth-consent",
     ["988", "911", "Sacramento County Crisis Line"]),
    ("Social media and online", "example-wa/clinicians/priyanka-desai.yaml", "social-media-and-online",
     ["friend", "review"]),
    ("Telehealth", "example-ca/clinicians/kevin-oconnell.yaml", "telehealth-consent",
     ["SimplePractice Telehealth", "while you are in California"]),
    ("Defining the relationship", "example-practice/clinicians/ana-nunez.yaml", "relationship",
     ["What our relationship is not", "Who keeps the limits clear", "Meeting by chance", "under $20"]),
    ("Sexual contact", "example-tx/clinicians/thomas-nakamura.yaml", "our-relationship",
     ["It is never sexual", "during therapy or after it ends"]),
    ("Breaks and coverage", "example-ca/clinicians/lucia-fernandez.yaml", "breaks",
     ["at least 3 weeks ahead", "Daniel Okoye, LMFT", "555-0169"]),
    ("Termination", "example-wa/clinicians/marisol-ortega-reyes.yaml", "ending-therapy",
     ["You can stop therapy whenever you want", "No sudden endings", "names of other therapists"]),
    ("Minors and custody", "example-tx/clinicians/elena-vasquez.yaml", "informed-consent",
     ["Young people in therapy", "need to give me a current copy"]),
    ("Language and disability access", "example-wa/clinicians/priyanka-desai.yaml", "informed-consent",
     ["interpreter", "large print"]),
    ("Signatures and versions", "example-wa/clinicians/priyanka-desai.yaml", "acknowledgement",
     ["Effective March 2, 2026", "Client", "Therapist"]),
]


@pytest.mark.parametrize("topic, profile, document, phrases", CHECKLIST, ids=[row[0] for row in CHECKLIST])
def test_every_checklist_topic_reaches_the_client(topic, profile, document, phrases):
    rendered = text(clinician(profile), document)
    for phrase in phrases:
        assert phrase in rendered, f"{topic}: {document} for {profile} lacks {phrase!r}"


def test_checklist_covers_every_row_of_content_md():
    content = (ROOT.parent / "shared" / "CONTENT.md")
    if not content.is_file():
        pytest.skip("the content checklist ../shared/CONTENT.md (kept beside this checkout, not in the "
                    "repository) is missing, so CHECKLIST cannot be compared with it")
    section = content.read_text(encoding="utf-8").split("## 1. Checklist")[1].split("## 2.")[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    rows = [r for r in rows if r != "Topic"]
    assert len(rows) == len(CHECKLIST)


def test_colorado_gives_its_mandatory_disclosures():
    rendered = text(clinician("example-practice/clinicians/ana-nunez.yaml"), "informed-consent")
    for phrase in ["MFT.0012345", "Colorado State Board of Marriage and Family Therapist Examiners",
                   "303-894-7800", "1560 Broadway", "My education: MA in Marriage and Family Therapy", "second opinion", "or end it, whenever you choose",
                   "the law in Colorado requires me", "Sexual intimacy"]:
        assert phrase.lower() in rendered.lower(), phrase


@pytest.mark.parametrize("profile, notice", [
    ("example-tx/clinicians/darnell-brooks.yaml", "Texas Behavioral Health Executive Council, 1801 Congress Avenue"),
    ("example-ca/clinicians/kevin-oconnell.yaml", "The Board of Behavioral Sciences receives and responds to complaints"),
])
def test_texas_and_california_print_their_prescribed_complaint_notice(profile, notice):
    rendered = text(clinician(profile), "informed-consent")
    assert notice in rendered
    assert "A notice your state requires" in rendered


def test_washington_has_both_parties_signature_fields():
    loaded = load_profile(clinician("example-wa/clinicians/priyanka-desai.yaml"))
    names = {f.name for f in build_document(loaded, "acknowledgement", JOB).fields}
    assert {"client-signature", "client-date", "therapist-signature", "therapist-date"} <= names


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_document_reads_at_grade_8_or_lower(profile):
    for info in list_documents():
        rendered = plain_text(build_document(load_profile(profile), info.name, JOB))
        grade = textstat.flesch_kincaid_grade(rendered)
        words = textstat.lexicon_count(rendered) / textstat.sentence_count(rendered)
        assert grade <= 8, f"{profile.stem}/{info.name}: grade {grade:.1f}"
        assert words <= 20, f"{profile.stem}/{info.name}: {words:.1f} words a sentence"


@pytest.mark.parametrize("profile, second", [
    ("example-wa/clinicians/marisol-ortega-reyes.yaml", "guardian"),
    ("example-tx/clinicians/thomas-nakamura.yaml", "partner"),
    ("example-ca/clinicians/lucia-fernandez.yaml", None),
])
def test_acknowledgement_pdf_has_an_initials_field_per_document_and_fields_per_signer(profile, second):
    loaded = load_profile(clinician(profile))
    doc = build_document(loaded, "acknowledgement", JOB)
    pdf = get_backend("pdf")(doc, meta_for(loaded, doc, JOB))
    import io

    fields = PdfReader(io.BytesIO(pdf)).get_fields()
    names = list(fields)
    assert len(names) == len(set(names))
    receipt = loaded.profile.practice.hipaa_covered and "privacy-notice-acknowledgement" in loaded.profile.packet
    # The privacy notice is initialled once, as a receipt, not as a part read and understood.
    policy_docs = [d for d in loaded.profile.packet
                   if d != "acknowledgement" and not (receipt and d == "privacy-notice-acknowledgement")]
    assert sorted(n for n in names if n.startswith("initials-")) == sorted(f"initials-{d}" for d in policy_docs)
    assert ("npp-received" in names) == receipt
    signers = ["client", "therapist"] + ([second] if second else [])
    for signer in signers:
        assert f"{signer}-signature" in names and f"{signer}-date" in names
    for other in {"guardian", "partner"} - {second}:
        assert f"{other}-signature" not in names
    assert all(fields[n].get("/FT") == "/Tx" for n in names)


def test_templates_cite_their_sources():
    cite = re.compile(r"\b(APA|ACA|NASW|AAMFT|CFR|CRS|WAC|TAC|B&P|PHS Act|CONTENT\.md)\b")
    templates = sorted((ROOT / "templates" / "en").rglob("*.md"))
    uncited = [t.name for t in templates if t.parent.name == "sections" and not cite.search(t.read_text())]
    assert uncited == [], f"partials with no citation comment: {uncited}"


def test_the_strictest_rule_is_stated(write):
    # A Texas clinician who allows small gifts but sets no limit gets the state's $50 cap.
    texan = write("tx.yaml", "schema: 1\npractice: {name: Test Practice, jurisdiction: US-TX}\n"
                             "clinician: {name: Robin Test}\npolicies:\n  relationship: {gifts: small}\n")
    assert "Please keep any gift under $50 in value." in text(texan, "relationship")
    # A lower limit of the clinician's own stands.
    assert "under $25" in text(clinician("example-tx/clinicians/darnell-brooks.yaml"), "relationship")
    # After therapy the codes and states differ (2 years, 5 years, never): every handout says never.
    for profile in EXAMPLES:
        assert "never okay, during therapy or after it ends" in text(profile, "relationship")
