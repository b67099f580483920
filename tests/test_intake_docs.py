"""The intake handouts: fees, social media, telehealth consent, privacy notice receipt.

Each document is rendered for a few fictional profiles that switch the
policies on and off; the tests read what a client would read.
"""
from __future__ import annotations

import datetime as dt
import io

import pikepdf
import pytest
import textstat

from consentgen.api import Job, build_document, meta_for
from consentgen.backends import get_backend
from consentgen.document import plain_text
from consentgen.profiles import load_profile

from .readback import docx_text, pdf_text

JOB = Job(effective=dt.date(2026, 1, 5))
INTAKE_DOCS = ("fees-and-cancellations", "social-media-and-online", "telehealth-consent",
               "privacy-notice-acknowledgement")

HEAD = """\
schema: 1
practice:
  name: Maple Lane Therapy
  phone: "555-0120"
  email: hello@maplelane.example
{practice}
clinician:
  name: Dana Reyes
  credentials: MA, LPC
  license: {{type: LPC, number: LPC.0011111, state: CO}}
"""

# Everything on: self-pay, HIPAA, video, late and no-show fees, in network, collections.
FULL = HEAD.format(practice="""\
  address: 12 Maple Lane, Boulder, CO 80302
  website: maplelane.example
  self_pay: true
  hipaa_covered: true
  npp_version: 2026-02-16
""") + """\
policies:
  fees:
    services:
      - {name: First session (60 minutes), fee: 175}
      - {name: Individual session (50 minutes), fee: 150}
      - {name: Couples session (50 minutes), fee: 187.5}
    payment_methods: [card, check]
    sliding_scale: true
    cancellation: {notice_hours: 24, late_fee: 75, no_show_fee: 120}
    insurance: {in_network: [Aetna, Cigna], superbills: true}
    nonpayment: {notice_days: 30, collection_agency: true}
  therapy:
    services: [individual, couples]
  telehealth:
    offered: true
    platform: Doxy.me, a secure video service
    backup: phone
    states: [Colorado, Utah]
  online:
    business_page: facebook.com/maplelanetherapy
    search_clients: never
"""

# Everything off: insured clients only, not HIPAA-covered, no video, no fees for missed sessions.
PLAIN = HEAD.format(practice="") + """\
policies:
  fees:
    services:
      - {name: Individual session (50 minutes), fee: 140}
    cancellation: {notice_hours: 48}
    insurance: {in_network: [], superbills: true}
    nonpayment: {notice_days: 45, collection_agency: false}
  records:
    retention_years: 10
    custodian: {name: Lee Park, credentials: PhD, phone: "555-0133"}
  online:
    search_clients: with-consent
"""

# In between: no fee list, a no-show fee only, no insurance forms, video with
# rescheduling and no states named, social media used for scheduling.
MIXED = HEAD.format(practice="""\
  self_pay: true
  hipaa_covered: true
  npp_version: 2025-09-23
""") + """\
policies:
  contact:
    channels:
      social_media: {use: scheduling, reply_within: 2 business days}
  fees:
    cancellation: {notice_hours: 24, no_show_fee: 100}
    insurance: {superbills: false}
    nonpayment: {notice_days: 14}
  telehealth:
    offered: true
    platform: Zoom for Healthcare
    backup: reschedule
    states: [Oregon]
"""

# One fee for both late cancellations and missed sessions.
SAME_FEE = HEAD.format(practice="") + """\
policies:
  fees:
    services:
      - {name: Individual session, fee: 150}
    cancellation: {notice_hours: 24, late_fee: 150, no_show_fee: 150}
    insurance: {in_network: [Kaiser]}
"""

# A late fee only: it covers missed sessions too. Then no notice window at all.
LATE_ONLY = HEAD.format(practice="") + """\
policies:
  fees:
    cancellation: {notice_hours: 24, late_fee: 80}
"""
NO_WINDOW = HEAD.format(practice="") + """\
policies:
  fees:
    cancellation: {notice_hours: 0, late_fee: 60}
"""

PROFILES = {"full": FULL, "plain": PLAIN, "mixed": MIXED, "same-fee": SAME_FEE, "late-only": LATE_ONLY,
            "no-window": NO_WINDOW}

# (profile, document) -> (what the client must read, what must not be there)
FACTS = {
    ("full", "fees-and-cancellations"): (
        ["$175", "$150", "$187.50", "card or check", "sliding scale", "at least 24 hours", "the fee is $75",
         "the fee is $120", "Insurance does not pay for missed sessions", "Aetna and Cigna", "superbill",
         "Good Faith Estimate", "within 1 business day", "within 3 business days", "$400", "120 days",
         "cms.gov/nosurprises", "at least 30 days", "collection agency or to small claims court",
         "never share what we talk about", "while you are in danger of harming yourself or someone else", "in writing before a new fee starts"],
        ["I do not charge", "not in network", "I do not send unpaid bills"]),
    ("plain", "fees-and-cancellations"): (
        ["$140", "at least 48 hours", "I do not charge a fee for cancelling late or for missing a session",
         "not in network with any insurance plan", "superbill", "at least 45 days",
         "I do not send unpaid bills to a collection agency",
         "Good Faith Estimate", "$400"],      # every US practice: no self-pay flag needed (45 CFR 149.610)
        ["sliding scale", "the fee is", "small claims"]),
    ("mixed", "fees-and-cancellations"): (
        ["Please ask me about my fees", "the fee is $100", "I do not charge for cancelling late",
         "I do not give forms for insurance claims", "Good Faith Estimate", "$400", "120 days",
         "at least 14 days"],
        ["superbill", "Insurance does not pay", "| Service"]),
    ("same-fee", "fees-and-cancellations"): (
        ["If you cancel with less notice, or miss a session without telling me, the fee is $150",
         "I am in network with Kaiser", "If you have a different plan",
         "Good Faith Estimate"],              # in network, and still: some clients will not use their plan
        ["I do not charge"]),
    ("late-only", "fees-and-cancellations"): (
        ["If you cancel with less notice, or miss a session without telling me, the fee is $80"],
        ["I do not charge"]),
    ("no-window", "fees-and-cancellations"): (
        ["please tell me as soon as you can", "If you miss a session without telling me, the fee is $60"],
        ["I do not charge", "less notice", "hours"]),
    ("full", "social-media-and-online"): (
        ["friend or follow requests", "former clients", "not a rejection", "facebook.com/maplelanetherapy",
         "others may see who follows it", "I will never ask you to write a review",
         "I will not answer any review", "I will not search for you online", "There is one exception",
         "Please do not message, comment on or tag me on social media", "check in", "988", "911"],
        ["unless you agree", "I do not have a business page"]),
    ("plain", "social-media-and-online"): (
        ["unless you agree to it first"],
        ["There is one exception", "facebook", "My business page"]),
    ("mixed", "social-media-and-online"): (
        ["You can message me on social media for scheduling", "within 2 business days", "not fully private"],
        ["Please do not message, comment on or tag me"]),
    ("full", "telehealth-consent"): (
        ["Consent for Video Sessions", "Doxy.me", "headphones", "record", "I will call you at the phone number",
         "only while you are in Colorado or Utah", "photo ID", "not right for everyone",
         "meet in person instead, at 12 Maple Lane", "988", "Not every insurance plan pays"],
        ["I do not offer", "set a new time"]),
    ("plain", "telehealth-consent"): (
        ["I do not offer therapy sessions by video", "find a therapist who offers them"],
        ["Consent for Video", "photo ID", "988"]),
    ("mixed", "telehealth-consent"): (
        ["Zoom for Healthcare", "set a new time", "while you are in Oregon",
         "find a therapist who can see you in person"],
        ["I will call you at", "Not every insurance plan"]),
    ("full", "privacy-notice-acknowledgement"): (
        ["Notice of Privacy Practices", "dated February 16, 2026", "separate document", "on paper",
         "555-0120", "maplelane.example", "does not mean that you agree"],
        ["covered entity"]),
    ("mixed", "privacy-notice-acknowledgement"): (
        ["dated September 23, 2025"], ["on the website", "February"]),
    ("plain", "privacy-notice-acknowledgement"): (
        ["not what the law calls a \"covered entity\"", "written permission", "10 years", "Lee Park, PhD",
         "555-0133"],
        ["Notice of Privacy Practices dated", "Receipt"]),
}

SIGN = {"client-signature", "client-signature-date"}
FIELDS = {
    ("full", "fees-and-cancellations"): SIGN | {"fees-and-cancellations-initials"},
    ("full", "social-media-and-online"): SIGN | {"social-media-and-online-initials"},
    ("full", "telehealth-consent"): SIGN | {"telehealth-phone",
                                            "telehealth-location", "telehealth-emergency-contact"},
    ("plain", "telehealth-consent"): set(),
    ("full", "privacy-notice-acknowledgement"): SIGN | {"npp-received", "client-printed-name", "npp-office-note"},
    ("plain", "privacy-notice-acknowledgement"): set(),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profiles")
    out = {}
    for key, text in PROFILES.items():
        path = folder / f"{key}.yaml"
        path.write_text(text, encoding="utf-8")
        out[key] = load_profile(path)
    return out


@pytest.fixture(scope="module")
def docs(loaded):
    return {(key, name): build_document(profile, name, JOB) for key, profile in loaded.items() for name in INTAKE_DOCS}


@pytest.mark.parametrize("key", sorted(FACTS), ids="/".join)
def test_documents_state_the_facts_and_only_those(docs, key):
    text = plain_text(docs[key])
    present, absent = FACTS[key]
    for fact in present:
        assert fact in text, f"{key} lacks {fact!r}"
    for fact in absent:
        assert fact not in text, f"{key} shows {fact!r}"


@pytest.mark.parametrize("key", sorted(FIELDS), ids="/".join)
def test_fields_are_unique_and_expected(docs, key):
    names = [f.name for f in docs[key].fields]
    assert len(names) == len(set(names))
    assert set(names) == FIELDS[key]


def test_npp_checkbox_names_the_notice_date(docs):
    box = next(f for f in docs[("full", "privacy-notice-acknowledgement")].fields if f.name == "npp-received")
    assert box.kind == "checkbox"
    assert box.label == "I received the Notice of Privacy Practices dated February 16, 2026."


def test_every_variant_reads_at_grade_8_or_lower(docs):
    for key, doc in docs.items():
        text = plain_text(doc)
        grade = textstat.flesch_kincaid_grade(text)
        assert grade <= 8, f"{key}: Flesch-Kincaid grade {grade:.1f}"
        words_per_sentence = textstat.lexicon_count(text) / textstat.sentence_count(text)
        assert words_per_sentence <= 20, f"{key}: {words_per_sentence:.1f} words a sentence"


@pytest.mark.parametrize("name", INTAKE_DOCS)
def test_renders_to_pdf_and_docx(loaded, docs, name):
    for key in ("full", "plain"):
        doc = docs[(key, name)]
        meta = meta_for(loaded[key], doc, JOB)
        pdf = get_backend("pdf")(doc, meta)
        docx = get_backend("docx")(doc, meta)
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            assert opened.check_pdf_syntax() == []
            acro = opened.Root.get("/AcroForm")
            names = {str(f.T) for f in acro.Fields} if acro is not None else set()
            assert names == {f.name for f in doc.fields}
        lead = plain_text(doc).splitlines()[3][:40]    # the first paragraph after the byline
        for text in (pdf_text(pdf), docx_text(docx)):
            assert doc.title in text
            assert " ".join(lead.split()) in text
