"""The disclosure log (specs/privacy.md, §2.25): one append-only row per disclosure outside the
program, with the SHA-256 of the file that left.

`disclosure_record` is the one writer: the packet, the client's own copy (PDF or FHIR) and the
other legal bases all log through it, in the same transaction as their access-log row. It checks
only what every disclosure needs; whether a consent covers a disclosure is asked before the
packet is built (`consent_rules.unusable_reason`, through the disclosure service).

The services below build the packets (issue 16): `disclose_on_consent` (the consent re-read
under its row lock, the scope checked, the PDF built and logged in one transaction),
`disclose_other_basis` (§2.51 emergency, court order... with a packet or a description only),
`client_copy` (right of access) and `accounting` (exactly the logged rows of a period).
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from clients import consent_rules
from clients.models import (
    AmendmentRequest,
    AmendmentStatus,
    Client,
    Consent,
    ConsentExpiry,
    Disclosure,
    LegalBasis,
)
from facility import policy
from facility.models import AccessAction, User
from facility.pdf import render_pdf
from facility.registry import RecordCategory, registry
from facility.services import access_log


def disclosure_record(
    *,
    actor: User,
    client: Client,
    recipient_name: str,
    description: str,
    purpose: str,
    legal_basis: str,
    method: str,
    content: bytes,
    file_name: str,
    categories: list[str] | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    consent: Consent | None = None,
    recipient_address: str = "",
    recipient_affiliation: str = "",
    basis_detail: str = "",
    notice: str = "statement1",
    ip: str | None = None,
    capability: str = "disclosure.make",
    disclosed_at: datetime | None = None,
) -> Disclosure:
    """Log one disclosure of `content` (the file sent) and audit it; returns the row.

    `disclosed_at` is now unless the disclosure was made earlier and is logged afterwards (a
    medical emergency disclosed by telephone); it is never in the future."""
    policy.require(actor, capability, client)
    if legal_basis not in LegalBasis.values:
        raise ValidationError({"legal_basis": "Choose the legal basis of the disclosure."})
    if legal_basis == LegalBasis.CONSENT and consent is None:
        raise ValidationError({"consent": "A disclosure on consent names the consent."})
    if consent is not None and consent.client_id != client.pk:
        raise ValidationError({"consent": "This consent is another client's."})
    if not recipient_name.strip():
        raise ValidationError({"recipient_name": "Name the recipient."})
    now = timezone.now()
    if disclosed_at is not None and disclosed_at > now:
        raise ValidationError({"disclosed_at": "A disclosure cannot be logged in the future."})
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            client=client,
            consent=consent,
            disclosed_at=disclosed_at or now,
            recipient_name=recipient_name.strip()[:200],
            recipient_address=recipient_address.strip()[:300],
            recipient_affiliation=recipient_affiliation.strip()[:200],
            description=description.strip()[:1000],
            categories=list(categories or []),
            period_start=period_start,
            period_end=period_end,
            purpose=purpose.strip()[:300],
            legal_basis=legal_basis,
            basis_detail=basis_detail.strip()[:1000],
            method=method,
            user=actor,
            notice=notice,
            file_name=file_name[:200],
            sha256=digest,
        )
        access_log(
            action=AccessAction.DISCLOSURE,
            actor=actor,
            facility=client.facility,
            client=client,
            what=f"to {disclosure.recipient_name[:80]} ({legal_basis}) sha256 {digest[:16]}",
            ip=ip,
        )
    return disclosure


# ---------------------------------------------------------------- packets (issue 16 items 2-5)
# A packet is the chosen record categories of one client for a period, as one PDF carrying
# statement 1 once at the top and statement 2 on every page (facility/pdf.py), a summary of what
# allows the disclosure (the consent's scope, or the legal basis), and the client's decided
# amendments. The bytes returned are the bytes logged (SHA-256) and the bytes sent.

MAX_PERIOD_DAYS = 3653  # ten years
ACCOUNTING_YEARS = 3
CLIENT_COPY_PURPOSE = "At the request of the client (right of access)"


def categories_for(consent_type: str | None = None) -> list[RecordCategory]:
    """The categories a packet may hold: those without their own consent, plus (for a consent of
    that very type) the ones that need it. Incident reports are never a category."""
    return [
        c
        for c in registry.record_categories
        if not c.own_consent or (consent_type is not None and c.own_consent == consent_type)
    ]


def own_consent_categories() -> dict[str, str]:
    return {c.key: c.own_consent for c in registry.record_categories if c.own_consent}


def category_labels(keys) -> list[str]:
    """Labels of known keys, in the registry's order; unknown keys by their key."""
    known = {c.key: c.label for c in registry.record_categories}
    order = [c.key for c in registry.record_categories]
    ranked = sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [known.get(k, k) for k in ranked]


def facility_today(client: Client) -> date:
    return timezone.localtime(timezone.now(), client.facility.tz).date()


def stay_period(client: Client) -> tuple[date, date]:
    """The default period: the open (else the latest) stay's first to last local day."""
    today = facility_today(client)
    stay = client.admissions.order_by(F("discharged_at").desc(nulls_first=True), "-admitted_at")
    stay = stay.select_related("facility").first()
    if stay is None:
        return today, today
    first, last = stay.stay_days()
    return first, min(last, today)


def accounting_period(client: Client) -> tuple[date, date]:
    """The default accounting period: the last three years, to today."""
    today = facility_today(client)
    try:
        start = today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - ACCOUNTING_YEARS, day=28)
    return start, today


def period_errors(start: date | None, end: date | None, *, today: date) -> dict[str, str]:
    """Why a packet's period cannot be used, by field: ordered, not in the future, ≤ 10 years."""
    errors: dict[str, str] = {}
    if start is None:
        errors["period_start"] = "Give the first day of the period."
    if end is None:
        errors["period_end"] = "Give the last day of the period."
    if errors:
        return errors
    if end > today:
        errors["period_end"] = "The period cannot end in the future."
    if start > end:
        errors["period_start"] = "The first day must be on or before the last day."
    elif (end - start).days > MAX_PERIOD_DAYS:
        errors["period_start"] = "A period covers at most ten years."
    return errors


def period_bounds(client: Client, start: date, end: date) -> tuple[datetime, datetime]:
    """[first day 00:00, day after the last 00:00) on the client's facility clock."""
    tz = client.facility.tz
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def decided_amendments(client: Client, categories: list[str], *, own_copy: bool = False) -> list:
    """The client's accepted or denied amendment requests about a category the packet holds.
    The client's own copy (`own_copy`) holds every one, including those recorded without a
    category (before requests named one), except those about an own-consent category."""
    rows = _decided_amendments(client)
    if own_copy:
        own = own_consent_categories()
        return [a for a in rows if a.category not in own]
    chosen = set(categories)
    return [a for a in rows if a.category and a.category in chosen]


def _decided_amendments(client: Client) -> list:
    try:
        from clients.consents import amendments_for  # the consents engineer's helper
    except ImportError:
        amendments_for = None
    if amendments_for is not None:
        rows = list(amendments_for(client))
        return [a for a in rows if a.status != AmendmentStatus.PENDING]
    return list(
        AmendmentRequest.objects.filter(
            client=client, status__in=[AmendmentStatus.ACCEPTED, AmendmentStatus.DENIED]
        )
        .select_related("decided_by", "received_by")
        .order_by("received_at", "pk")
    )


# Above statement 1 on the client's own copy (Haven prints the notice on every PDF naming a
# client): the notice speaks to those the client shares the copy with, never to the client. It
# claims no more than privacy.md: a record the client passes on may no longer be protected.
OWN_COPY_PREFACE = (
    "This is your own record, given to you at your request. The notice below is addressed to "
    "anyone you choose to share it with; it does not limit your own use."
)


@dataclass
class Packet:
    content: bytes
    file_name: str
    description: str


def packet_build(
    *,
    actor: User,
    client: Client,
    categories: list[str],
    start: date,
    end: date,
    title: str,
    basis: dict,
    own_copy: bool = False,
) -> Packet:
    """Render the chosen categories (in the registry's order) for the period as one PDF.

    `basis` is what the summary at the top shows: the consent's scope, or the legal basis."""
    chosen = [c for c in registry.record_categories if c.key in set(categories)]
    since, until = period_bounds(client, start, end)
    sections = []
    with timezone.override(client.facility.tz):
        for category in chosen:
            # The acting user: a category may hold only what that user may read (SUD
            # counseling notes: the author's and grantors' notes).
            context = category.render(client=client, start=since, end=until, user=actor)
            # Rendered by Django's template engine with autoescaping: already safe markup.
            html = mark_safe(render_to_string(category.template, context))  # noqa: S308
            sections.append({"key": category.key, "label": category.label, "html": html})
    period = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    content = render_pdf(
        template="clients/disclosure_packet.html",
        context={
            "client": client,
            "basis": basis,
            "sections": sections,
            "amendments": decided_amendments(client, categories, own_copy=own_copy),
            "notice_preface": OWN_COPY_PREFACE if own_copy else "",
            "period_start": start,
            "period_end": end,
        },
        facility=client.facility,
        title=title,
        printed_by=actor,
        period=period,
    )
    labels = "; ".join(s["label"] for s in sections)
    return Packet(
        content=content,
        file_name=f"{client.mrn}-{start:%Y%m%d}-{end:%Y%m%d}-packet.pdf",
        description=f"Record packet (PDF), {period}: {labels}.",
    )


def consent_scope(consent: Consent, *, disclosed_to: str = "") -> dict:
    """The clear summary of a consent's scope that a packet carries (§2.32); for a consent
    naming a class of recipients, also the recipient this packet goes to (`disclosed_to`)."""
    if consent.expiry == ConsentExpiry.DATE:
        expiry = f"{consent.expires_on:%Y-%m-%d}"
    else:
        expiry = "At the end of treatment (discharge)"
    signer = consent.signed_by_name
    if consent.signer_role:
        signer = f"{signer} ({consent.signer_role})"
    return {
        "kind": "consent",
        "heading": "Disclosed with the client's written consent (42 CFR 2.31)",
        "rows": [
            ("Consent type", consent.get_consent_type_display()),
            ("Program disclosing", consent.program_name),
            ("Client", consent.client_name),
            (
                "Recipient",
                consent.recipient_name
                + (f", {consent.recipient_address}" if consent.recipient_address else ""),
            ),
            *(
                [("Disclosed to", disclosed_to.strip())]
                if consent.recipient_is_class and disclosed_to.strip()
                else []
            ),
            ("Purpose", consent.purpose),
            ("Information covered", "; ".join(category_labels(consent.categories or []))),
            *([("Details", consent.information_detail)] if consent.information_detail else []),
            ("Expires", expiry),
            ("Signed", f"{consent.signed_on:%Y-%m-%d} by {signer}"),
            (
                "Revocation",
                "The client may revoke this consent in writing at any time; revocation does not "
                "undo disclosures already made.",
            ),
        ],
    }


def _discharged_at(consent: Consent) -> datetime | None:
    if consent.expiry != ConsentExpiry.END_OF_TREATMENT or consent.admission_id is None:
        return None
    return consent.admission.discharged_at


def consent_problems(
    consent: Consent,
    *,
    recipient: str | None = None,
    categories: list[str] | None = None,
    purpose: str | None = None,
) -> dict[str, str]:
    """Why the consent cannot cover this disclosure now, by the form field it belongs to: the
    consent itself (revoked, expired, not yet signed), the recipient, the purpose, a category."""
    now = timezone.now()
    common = {
        "now": now,
        "today": timezone.localtime(now, consent.client.facility.tz).date(),
        "discharged_at": _discharged_at(consent),
        "own_consent_categories": own_consent_categories(),
        "labels": {c.key: c.label for c in registry.record_categories},
    }
    reason = consent_rules.unusable_reason(consent, **common)
    if reason:
        return {"consent": reason}
    problems = {}
    for field, asked in (
        ("recipient_name", {"recipient": recipient}),
        ("purpose", {"purpose": purpose}),
        ("categories", {"categories": categories}),
    ):
        if next(iter(asked.values())) is None:
            continue
        reason = consent_rules.unusable_reason(consent, **common, **asked)
        if reason:
            problems[field] = reason
    return problems


def class_unconfirmed(consent: Consent) -> str:
    """The message when the box confirming a recipient belongs to the consent's class is not
    ticked."""
    return f"Tick the box to confirm the recipient is one of: {consent.recipient_name}."


def disclose_on_consent(
    *,
    actor: User,
    client: Client,
    consent: Consent,
    categories: list[str],
    start: date,
    end: date,
    recipient_name: str,
    recipient_address: str,
    purpose: str,
    method: str,
    ip: str | None = None,
    recipient_in_class: bool = False,
) -> tuple[Disclosure, Packet]:
    """Build and log a packet disclosed on a consent, in one transaction holding the consent's
    row lock: a revocation committed first is seen here and refuses the disclosure; one that
    comes after waits for this disclosure, which was made before it. On a consent naming a
    class of recipients, the discloser confirms (`recipient_in_class`) that the recipient is
    one of the class; the description logs that confirmation."""
    policy.require(actor, "disclosure.make", client)
    if not categories:
        raise ValidationError({"categories": "Choose at least one category."})
    errors = period_errors(start, end, today=facility_today(client))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = (
            Consent.objects.select_for_update(of=("self",))
            .select_related("admission", "client__facility")
            .filter(pk=consent.pk, client=client)
            .first()
        )
        if locked is None:
            raise ValidationError({"consent": "Choose a consent of this client."})
        problems = consent_problems(
            locked, recipient=recipient_name, categories=categories, purpose=purpose
        )
        if locked.recipient_is_class and not recipient_in_class:
            problems["recipient_in_class"] = class_unconfirmed(locked)
        if problems:
            raise ValidationError(problems)
        packet = packet_build(
            actor=actor,
            client=client,
            categories=categories,
            start=start,
            end=end,
            title="Disclosure of records",
            basis=consent_scope(locked, disclosed_to=recipient_name),
        )
        if locked.recipient_is_class:
            # The consent names a class: the log names who actually received the records, and
            # keeps the class in the description.
            logged_recipient = recipient_name.strip()
            logged_address = recipient_address
            description = (
                f"{packet.description} Recipient class: {locked.recipient_name}; "
                f"{actor.signature} confirmed the recipient is one of it."
            )
        else:
            logged_recipient = locked.recipient_name
            logged_address = recipient_address or locked.recipient_address
            description = packet.description
        disclosure = disclosure_record(
            actor=actor,
            client=client,
            consent=locked,
            recipient_name=logged_recipient,
            recipient_address=logged_address,
            description=description,
            purpose=locked.purpose,
            legal_basis=LegalBasis.CONSENT,
            method=method,
            content=packet.content,
            file_name=packet.file_name,
            categories=categories,
            period_start=start,
            period_end=end,
            ip=ip,
        )
    return disclosure, packet


# The legal bases logged through the other-bases form, and what each needs in `basis_detail`.
OTHER_BASES = [b for b in LegalBasis if b != LegalBasis.CONSENT]
BASIS_DETAIL_LABEL = {
    LegalBasis.MEDICAL_EMERGENCY: "Nature of the emergency",
    LegalBasis.COURT_ORDER: "Court order reference (court, number, date)",
    LegalBasis.RESEARCH: "Research protocol and approving board",
    LegalBasis.AUDIT: "Auditing or evaluating agency",
    LegalBasis.QSO: "Qualified service organization agreement",
    LegalBasis.CHILD_ABUSE: "Agency the report was made to",
    LegalBasis.CRIME_ON_PREMISES: "Crime reported and law enforcement agency",
    LegalBasis.CLIENT_REQUEST: "How the client asked",
}
DETAIL_REQUIRED = {LegalBasis.MEDICAL_EMERGENCY, LegalBasis.COURT_ORDER}


def basis_summary(legal_basis: str, detail: str, recipient: str, affiliation: str) -> dict:
    rows = [("Legal basis", LegalBasis(legal_basis).label)]
    if detail:
        rows.append((BASIS_DETAIL_LABEL.get(legal_basis, "Detail"), detail))
    rows.append(("Recipient", recipient + (f" ({affiliation})" if affiliation else "")))
    return {"kind": "basis", "heading": "Disclosed without written consent, as the rules permit",
            "rows": rows}  # fmt: skip


def disclose_other_basis(
    *,
    actor: User,
    client: Client,
    legal_basis: str,
    recipient_name: str,
    recipient_address: str = "",
    recipient_affiliation: str = "",
    purpose: str,
    basis_detail: str = "",
    disclosed_by: str = "",
    disclosed_at: datetime | None = None,
    method: str,
    packet: bool,
    categories: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    description: str = "",
    ip: str | None = None,
) -> tuple[Disclosure, Packet | None]:
    """Log a disclosure made without a consent (§2.51 emergency, a court order, ...). With
    `packet` the PDF is built as on consent (no consent check; own-consent categories never);
    without, only `description` is logged and its SHA-256 is that of its UTF-8 bytes."""
    policy.require(actor, "disclosure.make", client)
    if legal_basis not in OTHER_BASES:
        raise ValidationError({"legal_basis": "Choose the legal basis of the disclosure."})
    if legal_basis in DETAIL_REQUIRED and not basis_detail.strip():
        label = BASIS_DETAIL_LABEL[legal_basis]
        raise ValidationError({"basis_detail": f"{label}: required for this legal basis."})
    if legal_basis == LegalBasis.MEDICAL_EMERGENCY and not recipient_affiliation.strip():
        raise ValidationError(
            {
                "recipient_affiliation": "Recipient's affiliation: required for a medical "
                "emergency (§2.51: the facility or service the recipient belongs to)."
            }
        )
    detail = basis_detail.strip()
    if disclosed_by.strip():
        detail = f"{detail} Disclosed by {disclosed_by.strip()}.".strip()
    built = None
    if packet:
        allowed = {c.key for c in categories_for()}
        if not categories:
            raise ValidationError({"categories": "Choose at least one category."})
        if set(categories) - allowed:
            raise ValidationError({"categories": "That category is never disclosed this way."})
        errors = period_errors(start, end, today=facility_today(client))
        if errors:
            raise ValidationError(errors)
        built = packet_build(
            actor=actor,
            client=client,
            categories=categories,
            start=start,
            end=end,
            title="Disclosure of records",
            basis=basis_summary(legal_basis, detail, recipient_name, recipient_affiliation),
        )
        content, file_name, text = built.content, built.file_name, built.description
    else:
        if not description.strip():
            raise ValidationError({"description": "Describe the information disclosed."})
        text = description.strip()
        content, file_name = text.encode("utf-8"), ""
        categories, start, end = [], None, None
    disclosure = disclosure_record(
        actor=actor,
        client=client,
        recipient_name=recipient_name,
        recipient_address=recipient_address,
        recipient_affiliation=recipient_affiliation,
        description=text,
        purpose=purpose,
        legal_basis=legal_basis,
        basis_detail=detail,
        method=method,
        content=content,
        file_name=file_name,
        categories=categories,
        period_start=start,
        period_end=end,
        disclosed_at=disclosed_at,
        # Nothing was sent from Haven, so no notice went with it.
        notice="statement1" if built is not None else "none",
        ip=ip,
    )
    return disclosure, built


def client_copy(
    *, actor: User, client: Client, start: date, end: date, method: str, ip: str | None = None
) -> tuple[Disclosure, Packet]:
    """The client's own copy (right of access): every category without its own consent, logged
    as a disclosure at the client's request with the client as the recipient."""
    policy.require(actor, "records.client_copy", client)
    errors = period_errors(start, end, today=facility_today(client))
    if errors:
        raise ValidationError(errors)
    keys = [c.key for c in categories_for()]
    built = packet_build(
        actor=actor,
        client=client,
        categories=keys,
        start=start,
        end=end,
        title="Your record (client's copy)",
        own_copy=True,
        basis={
            "kind": "client",
            "heading": "A copy of your own record, at your request",
            "rows": [
                ("Legal basis", LegalBasis.CLIENT_REQUEST.label),
                ("Recipient", client.legal_name),
            ],
        },
    )
    disclosure = disclosure_record(
        actor=actor,
        client=client,
        recipient_name=client.legal_name,
        description=built.description,
        purpose=CLIENT_COPY_PURPOSE,
        legal_basis=LegalBasis.CLIENT_REQUEST,
        method=method,
        content=built.content,
        file_name=built.file_name.replace("-packet", "-own-copy"),
        categories=keys,
        period_start=start,
        period_end=end,
        ip=ip,
        capability="records.client_copy",
    )
    return disclosure, built


def accounting(*, actor: User, client: Client, start: date, end: date) -> list[Disclosure]:
    """Every logged disclosure of this client in the period (facility days), newest first."""
    policy.require(actor, "disclosure.accounting", client)
    since, until = period_bounds(client, start, end)
    return list(
        Disclosure.objects.filter(client=client, disclosed_at__gte=since, disclosed_at__lt=until)
        .select_related("user", "consent")
        .order_by("-disclosed_at", "-pk")
    )
