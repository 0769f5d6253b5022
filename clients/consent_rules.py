"""When a Part 2 consent is complete, and when it is usable for a disclosure (specs/privacy.md).

Pure functions over a Consent (or anything with its fields) and plain values: no queries, so
forms, services and tests share one reading of §2.31. The consent form and the disclosure
service call these; the database's check constraints stop what a caller forgets.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

# The ten elements of §2.31, by number, as a staff member reads them in a refusal.
ELEMENTS = {
    1: "the client's name",
    2: "who may disclose (the program's name)",
    3: "what may be disclosed (at least one category)",
    4: "the recipient (names, or a class of recipients)",
    5: "the purpose of the disclosure",
    6: "the right to revoke, explained to the client",
    7: "an expiration date or event",
    8: "the signature (drawn on the tablet, or a signed paper copy)",
    9: "the date signed",
    10: "for a TPO consent: the consequences of refusing and the redisclosure statement",
}

# "All records" alone is not specific (§2.31(a)(3)): a consent names categories.
VAGUE_DESCRIPTIONS = {"all", "all records", "everything", "entire record", "whole record", "any"}


@dataclass(frozen=True)
class Missing:
    element: int
    field: str
    message: str


def missing_elements(data: dict) -> list[Missing]:
    """The elements a consent lacks, in the order of §2.31, each with the form field it belongs
    to. `data` holds the Consent's field names (a form's cleaned data, or `vars(consent)`), with
    `has_signature` true when a drawn SVG or a signed copy is present."""
    missing: list[Missing] = []

    def blank(name: str) -> bool:
        value = data.get(name)
        return value is None or (isinstance(value, str) and not value.strip())

    def need(element: int, name: str, ok: bool) -> None:
        if not ok:
            message = f"Missing element {element}: {ELEMENTS[element]}."
            missing.append(Missing(element, name, message))

    need(1, "client_name", not blank("client_name"))
    need(2, "program_name", not blank("program_name"))
    categories = [c for c in (data.get("categories") or []) if c]
    detail = (data.get("information_detail") or "").strip().lower().rstrip(".")
    need(3, "categories", bool(categories))
    if not categories and detail in VAGUE_DESCRIPTIONS:
        missing[-1] = Missing(
            3, "categories", "Element 3: “all records” alone is not specific; choose categories."
        )
    need(4, "recipient_name", not blank("recipient_name"))
    need(5, "purpose", not blank("purpose"))
    need(6, "revocation_explained", bool(data.get("revocation_explained")))
    expiry = data.get("expiry")
    need(
        7,
        "expires_on" if expiry == "date" else "expiry",
        (expiry == "date" and data.get("expires_on") is not None)
        or (expiry == "end_of_treatment" and data.get("admission") is not None)
        or (expiry == "end_of_treatment" and data.get("admission_id") is not None),
    )
    # Element 8 is a signature by a named person: the pad (or the paper copy) and the name are
    # two fields, each refused on its own, so a drawn signature is never said to be missing.
    need(8, "signature", bool(data.get("has_signature")))
    if blank("signed_by_name"):
        missing.append(
            Missing(8, "signed_by_name", "Missing element 8: the name of the person signing.")
        )
    need(9, "signed_on", data.get("signed_on") is not None)
    if data.get("consent_type") == "tpo":
        need(
            10,
            "consequences_explained",
            bool(data.get("consequences_explained")) and bool(data.get("redisclosure_explained")),
        )
    return missing


def expired(consent, *, now: datetime, today: date, discharged_at: datetime | None) -> bool:
    """Expired by its date (the whole expiry day counts: `today` is the facility's calendar day
    at `now`, as for `unusable_reason`) or by the end of the stay it names. `discharged_at` is
    that stay's discharge, if any."""
    if consent.expiry == "date":
        return consent.expires_on is None or today > consent.expires_on
    return discharged_at is not None and discharged_at <= now


def unusable_reason(
    consent,
    *,
    now: datetime,
    today: date,
    discharged_at: datetime | None,
    recipient: str | None = None,
    categories: list[str] | None = None,
    purpose: str | None = None,
    own_consent_categories: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> str | None:
    """Why this consent cannot cover a disclosure now, or None when it can.

    A consent is usable only when, at that moment, it is signed (not dated in the future), not
    expired, not revoked, and the recipient, information and purpose fall
    within it (specs/privacy.md). Recipient and purpose are compared without case or surrounding
    spaces: the disclosure names the consent's recipient and purpose, not a paraphrase of them;
    a consent naming a class of recipients (`recipient_is_class`) takes any named recipient.
    `own_consent_categories` maps a category key to the only consent type that covers it (SUD
    counseling notes: "counseling"). `labels` maps a category key to the label staff read (the
    registry's, passed in by the caller: this module makes no queries); a key without one is
    named by its key.
    """
    if consent.revoked_at is not None and consent.revoked_at <= now:
        # On the current time zone: pages about a client activate its facility's clock.
        return (
            f"The consent was revoked on {timezone.localtime(consent.revoked_at):%Y-%m-%d %H:%M}."
        )
    if consent.signed_on > today:
        return "The consent is dated in the future; it is not yet signed."
    if consent.expiry == "date" and consent.expires_on is not None and today > consent.expires_on:
        return f"The consent expired on {consent.expires_on:%Y-%m-%d}."
    if consent.expiry == "end_of_treatment" and discharged_at is not None and discharged_at <= now:
        return "The consent expired at the end of treatment (the client was discharged)."
    if getattr(consent, "recipient_is_class", False):
        # A class of recipients (element 4): any recipient named by the discloser, who
        # answers for its belonging to the class; the disclosure logs that recipient.
        if recipient is not None and (
            not _norm(recipient) or _norm(recipient) == _norm(consent.recipient_name)
        ):
            return (
                f"Name the actual recipient (the consent names a class: {consent.recipient_name})."
            )
    elif recipient is not None and _norm(recipient) != _norm(consent.recipient_name):
        return f"The consent does not name this recipient (it names {consent.recipient_name})."
    if purpose is not None and _norm(purpose) != _norm(consent.purpose):
        return f"The consent does not cover this purpose (it covers: {consent.purpose})."
    own = own_consent_categories or {}
    names = labels or {}
    for key in categories or []:
        needed = own.get(key)
        label = names.get(key, key)
        if needed and consent.consent_type != needed:
            return f"“{label}” can only be disclosed on their own separate consent, not this one."
        if key not in (consent.categories or []):
            return f"The consent does not cover “{label}”."
    if consent.consent_type == "counseling":
        others = [key for key in categories or [] if own.get(key) != "counseling"]
        if others:
            return "A counseling-notes consent covers SUD counseling notes only."
    return None


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()
