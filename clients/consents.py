"""Part 2 consents (42 CFR 2.31) and amendment requests (ONC (d)(4)): the services.

A consent is written once, holding the ten elements of specs/privacy.md (the rules are
`clients/consent_rules.py`), and later revoked, never edited. The tablet signature arrives as SVG
path data, which is parsed against a small grammar (moves and lines, whole pixels inside the pad)
and written back into an SVG this module builds: client-sent markup is never stored. A paper copy
is a PDF, JPEG or PNG recognised by its first bytes, with its SHA-256.

An amendment request is recorded as the client asked, then decided once: accepted (the amendment
is appended) or denied (the request and the denial are appended). `amendments_for(client)` gives
the decided ones for a packet.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients.consent_rules import missing_elements, unusable_reason
from clients.models import (
    AmendmentRequest,
    AmendmentStatus,
    Client,
    Consent,
    ConsentExpiry,
    ConsentType,
    SignatureKind,
)
from facility import policy
from facility.registry import registry
from facility.validators import has_unsafe_characters

MAX_YEARS = 10
# The signature pad (static/js/signature-pad.js) draws in this box, in whole pixels.
PAD_WIDTH, PAD_HEIGHT = 600, 200
SIGNATURE_MAX = 20_000
_STEP = re.compile(r"([ML])(\d{1,4}) (\d{1,4})")
_PATH_OF_SVG = re.compile(r'<path d="([ML0-9 ]*)"')
SIGNED_COPY_MAX = 5 * 1024 * 1024
# What a signed paper copy may be, by its first bytes (the name and the browser's type lie).
SIGNED_COPY_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
REPRESENTATIVE = "representative"


# ---------------------------------------------------------------- the signature


def signature_path(data: str) -> str | None:
    """The path data as this module writes it, or None when `data` is not what the pad makes:
    "M x y L x y ..." (whole pixels inside the pad, one space between numbers), starting with a
    move, at least one line, at most SIGNATURE_MAX characters."""
    if not isinstance(data, str) or not data.strip() or len(data) > SIGNATURE_MAX:
        return None
    tokens = data.split()
    if len(tokens) % 2:
        return None
    steps = []
    for i in range(0, len(tokens), 2):
        match = _STEP.fullmatch(f"{tokens[i]} {tokens[i + 1]}")
        if match is None:
            return None
        kind, x, y = match.group(1), int(match.group(2)), int(match.group(3))
        if x > PAD_WIDTH or y > PAD_HEIGHT:
            return None
        steps.append(f"{kind}{x} {y}")
    if not steps or not steps[0].startswith("M") or not any(s.startswith("L") for s in steps):
        return None
    return " ".join(steps)


def signature_svg(path: str) -> str:
    """The stored signature: an SVG built here around path data `signature_path` accepted."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PAD_WIDTH} {PAD_HEIGHT}" '
        f'width="{PAD_WIDTH}" height="{PAD_HEIGHT}">'
        f'<path d="{path}" fill="none" stroke="#14202b" stroke-width="2.5" '
        'stroke-linecap="round" stroke-linejoin="round"/></svg>'
    )


def stored_signature_path(consent: Consent) -> str:
    """The path data of a stored drawn signature, checked again before any page shows it."""
    match = _PATH_OF_SVG.search(consent.signature_svg or "")
    return (signature_path(match.group(1)) or "") if match else ""


def signed_copy_type(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, JPEG or PNG by its first bytes, else None."""
    for magic, content_type, extension in SIGNED_COPY_TYPES:
        if content.startswith(magic):
            return content_type, extension
    return None


# ---------------------------------------------------------------- creating a consent


def open_stay(client: Client):
    return client.admissions.filter(discharged_at__isnull=True).order_by("-admitted_at").first()


def facility_today(client: Client, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), client.facility.tz).date()


def category_choices() -> list[tuple[str, str]]:
    """The record categories a consent can name (facility/registry.py), in their order."""
    return [
        (
            c.key,
            f"{c.label} (only on their own separate consent)" if c.own_consent else c.label,
        )
        for c in registry.record_categories
    ]


def consent_errors(data: dict, *, client: Client, today: date) -> dict[str, list[str]]:
    """Everything wrong with a consent about to be written, {field: [messages]}: each missing
    element of §2.31 named on its field, then the rules beyond presence (a separate counseling
    consent, expiry after signing and within 10 years, a representative's role, the stay that
    "end of treatment" ends with, a well-formed signature)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in ("client_name", "program_name", "information_detail", "recipient_name",
                 "recipient_address", "purpose", "signed_by_name", "signer_role"):  # fmt: skip
        if has_unsafe_characters(data.get(name) or ""):
            add(name, "Remove the control characters (NUL or text-direction marks).")
    kind = data.get("signature_kind")
    if kind == SignatureKind.DRAWN:
        has_signature = bool(data.get("signature_path"))
    elif kind == SignatureKind.PAPER:
        has_signature = bool(data.get("signed_copy"))
    else:
        has_signature = False
    elements = {**data, "has_signature": has_signature}
    if data.get("expiry") == ConsentExpiry.END_OF_TREATMENT:
        elements["admission"] = open_stay(client)
    for missing in missing_elements(elements):
        add(missing.field, missing.message)

    consent_type = data.get("consent_type")
    if consent_type not in ConsentType.values:
        add("consent_type", "Type of consent: choose one of the four.")
    known = {c.key: c for c in registry.record_categories}
    chosen = [k for k in data.get("categories") or [] if k]
    for key in chosen:
        category = known.get(key)
        if category is None:
            add("categories", "Categories: choose from the list.")
            break
        if category.own_consent and category.own_consent != consent_type:
            add(
                "categories",
                f"{category.label} can only be named on their own separate consent.",
            )
    if consent_type == ConsentType.COUNSELING:
        others = [k for k in chosen if k in known and known[k].own_consent != consent_type]
        if others:
            add(
                "categories",
                "A counseling-notes consent holds SUD counseling notes only: make a separate "
                "consent for " + ", ".join(known[k].label for k in others) + ".",
            )

    signed_on = data.get("signed_on")
    if signed_on is not None and signed_on > today:
        add("signed_on", "Date signed: cannot be after today.")
    expiry = data.get("expiry")
    expires_on = data.get("expires_on")
    if expiry == ConsentExpiry.DATE and expires_on is not None and signed_on is not None:
        if expires_on <= signed_on:
            add("expires_on", "Expiration date: must be after the date signed.")
        elif expires_on < today:
            add("expires_on", "Expiration date: already past; this consent would never be usable.")
        elif expires_on > _years_after(signed_on, MAX_YEARS):
            add("expires_on", f"Expiration date: at most {MAX_YEARS} years after signing.")
    if expiry == ConsentExpiry.END_OF_TREATMENT and elements.get("admission") is None:
        errors.pop("expiry", None)
        add(
            "expiry",
            "Expiration: “end of treatment” needs a current stay; this client is not admitted. "
            "Give a date.",
        )
    if expiry and expiry not in ConsentExpiry.values:
        add("expiry", "Expiration: choose a date or the end of treatment.")
    if data.get("signer") == REPRESENTATIVE and not (data.get("signer_role") or "").strip():
        add(
            "signer_role",
            "Representative's role: say who signs for the client (e.g. legal guardian).",
        )
    if data.get("signature_raw") and not data.get("signature_path"):
        errors.pop("signature", None)
        add("signature", "Signature: it could not be read; clear the pad and sign again.")
    return errors


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def consent_create(*, actor, client: Client, now: datetime | None = None, **data) -> Consent:
    """Write a consent that holds every element, or refuse naming what is missing.

    `data`: the consent's fields, with `signature_path` (path data from the pad; checked here
    again) or `signed_copy` (bytes), and `signer` ("client" or "representative")."""
    policy.require(actor, "consents.manage", client)
    now = now or timezone.now()
    today = facility_today(client, now)
    raw = data.get("signature_path") or ""
    data["signature_raw"] = raw
    data["signature_path"] = signature_path(raw) if raw else ""
    content = data.get("signed_copy") or b""
    copy_type = None
    if data.get("signature_kind") == SignatureKind.PAPER and content:
        copy_type = signed_copy_type(content)
        if copy_type is None or len(content) > SIGNED_COPY_MAX:
            data["signed_copy"] = b""
    errors = consent_errors(data, client=client, today=today)
    if data.get("signature_kind") == SignatureKind.PAPER and content and "signature" not in errors:
        if copy_type is None:
            errors["signed_copy"] = ["Signed copy: a PDF, JPEG or PNG file."]
        elif len(content) > SIGNED_COPY_MAX:
            errors["signed_copy"] = ["Signed copy: at most 5 MB."]
    if errors:
        raise ValidationError(errors)
    drawn = data["signature_kind"] == SignatureKind.DRAWN
    representative = data.get("signer") == REPRESENTATIVE
    expiry = data["expiry"]
    stay = open_stay(client)
    consent_type = data["consent_type"]
    with transaction.atomic():
        return Consent.objects.create(
            client=client,
            admission=stay,
            consent_type=consent_type,
            client_name=data["client_name"].strip(),
            program_name=data["program_name"].strip(),
            categories=[k for k in data["categories"] if k],
            information_detail=(data.get("information_detail") or "").strip(),
            recipient_name=data["recipient_name"].strip(),
            recipient_address=(data.get("recipient_address") or "").strip(),
            recipient_is_class=bool(data.get("recipient_is_class")),
            purpose=data["purpose"].strip(),
            revocation_explained=True,
            expiry=expiry,
            expires_on=data["expires_on"] if expiry == ConsentExpiry.DATE else None,
            signature_kind=data["signature_kind"],
            signature_svg=signature_svg(data["signature_path"]) if drawn else "",
            signed_copy=None if drawn else content,
            signed_copy_type="" if drawn else copy_type[0],
            signed_copy_sha256="" if drawn else hashlib.sha256(content).hexdigest(),
            signed_by_name=data["signed_by_name"].strip(),
            signer_role=(data.get("signer_role") or "").strip() if representative else "",
            signed_on=data["signed_on"],
            consequences_explained=bool(data.get("consequences_explained"))
            and consent_type == ConsentType.TPO,
            redisclosure_explained=bool(data.get("redisclosure_explained"))
            and consent_type == ConsentType.TPO,
            recorded_by=actor,
        )


# ---------------------------------------------------------------- revocation


def revocation_range_message(consent: Consent) -> str:
    """The one message for a revocation time out of range, stating the range: from the day the
    consent was signed up to now (a revocation is received, never planned)."""
    return (
        f"Received at: between the day the consent was signed ({consent.signed_on:%Y-%m-%d}) "
        "and now; not in the future."
    )


def consent_revoke(
    *, actor, consent: Consent, revoked_at: datetime | None, note: str, now: datetime | None = None
) -> Consent:
    """Record a revocation, effective from `revoked_at` (when it was received: now, or a stated
    earlier time, not before the day it was signed nor before the latest disclosure on the
    consent). The receiver is the signed-in user. Once.

    "Now" is read after the consent's row lock: a disclosure holding it was made before this
    revocation was recorded, and the revocation never predates it."""
    policy.require(actor, "consents.manage", consent.client)
    stated_now = now
    errors: dict[str, str] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = "Note: say how the revocation was received (in writing, orally...)."
    elif has_unsafe_characters(note):
        errors["note"] = "Note: remove the control characters (NUL or text-direction marks)."
    elif len(note) > 500:
        errors["note"] = "Note: at most 500 characters."
    early = stated_now or timezone.now()
    tz = consent.client.facility.tz
    signed_start = datetime.combine(consent.signed_on, time.min, tzinfo=tz)
    if revoked_at is not None and revoked_at > early + timedelta(minutes=1):
        errors["revoked_at"] = revocation_range_message(consent)
    if (revoked_at or early) < signed_start:
        errors["revoked_at"] = revocation_range_message(consent)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        now = stated_now or timezone.now()
        received = revoked_at or now
        if locked.revoked_at is not None:
            when = timezone.localtime(locked.revoked_at, tz)
            raise ValidationError(
                {NON_FIELD_ERRORS: f"This consent was already revoked on {when:%Y-%m-%d %H:%M}."}
            )
        latest = locked.disclosures.order_by("-disclosed_at").values_list(
            "disclosed_at", flat=True
        )[:1]
        latest = next(iter(latest), None)
        if latest is not None and received < latest:
            raise ValidationError(
                {
                    "revoked_at": "Received at: cannot be before the latest disclosure on this "
                    f"consent ({timezone.localtime(latest, tz):%Y-%m-%d %H:%M}); a revocation "
                    "does not undo disclosures already made."
                }
            )
        locked.revoked_at = min(received, now)
        locked.revocation_received_by = actor
        locked.revocation_note = note
        locked.save(update_fields=["revoked_at", "revocation_received_by", "revocation_note"])
    return locked


# ---------------------------------------------------------------- status, for pages


@dataclass
class ConsentRow:
    consent: Consent
    status: str  # usable, revoked, expired, not_yet_valid
    reason: str
    category_labels: list[str]

    @property
    def usable(self) -> bool:
        return self.status == "usable"

    @property
    def status_label(self) -> str:
        return {
            "usable": "Usable now",
            "revoked": "Revoked",
            "expired": "Expired",
            "not_yet_valid": "Not yet valid",
        }[self.status]


def consent_row(consent: Consent, *, now: datetime | None = None) -> ConsentRow:
    """A consent's status now, with why it cannot be used (consent_rules.unusable_reason)."""
    now = now or timezone.now()
    today = facility_today(consent.client, now)
    discharged_at = consent.admission.discharged_at if consent.admission_id else None
    reason = unusable_reason(consent, now=now, today=today, discharged_at=discharged_at)
    if reason is None:
        status = "usable"
    elif consent.revoked_at is not None and consent.revoked_at <= now:
        status = "revoked"
        # On the facility's clock, with who received it (the rule's reason is in UTC).
        when = timezone.localtime(consent.revoked_at, consent.client.facility.tz)
        reason = f"Revoked on {when:%Y-%m-%d %H:%M}"
        if consent.revocation_received_by_id:
            reason += f", received by {consent.revocation_received_by.signature}"
        reason += "."
    elif consent.signed_on > today:
        status = "not_yet_valid"
    else:
        status = "expired"
    labels = {c.key: c.label for c in registry.record_categories}
    return ConsentRow(
        consent=consent,
        status=status,
        reason=reason or "",
        category_labels=[labels.get(k, k) for k in consent.categories or []],
    )


def consent_rows(client: Client, *, now: datetime | None = None) -> list[ConsentRow]:
    consents = Consent.objects.filter(client=client).select_related(
        "client__facility", "admission", "recorded_by", "revocation_received_by"
    )
    return [consent_row(c, now=now) for c in consents]


def consents_section(request, client, admission) -> dict:
    """The chart's "Consents" section: usable ones first, then the rest with why."""
    rows = consent_rows(client)
    return {
        "client": client,
        "usable": [r for r in rows if r.usable],
        "unusable": [r for r in rows if not r.usable],
        "can_manage": policy.allows(request.user, "consents.manage", client),
    }


# ---------------------------------------------------------------- expiring soon (DESIGN.md §4)

EXPIRY_WARNING_DAYS = 14


def scan_consents_expiring(*, now: datetime | None = None) -> int:
    """A warning to the clinicians and supervisors when a dated consent of an admitted client
    expires within 14 days (on the facility's calendar): time to ask the client whether to renew
    it. Revoked consents are left alone. Once per consent (dedupe key); returns alerts raised."""
    from facility.models import AlertSeverity
    from facility.services import alert_raise

    now = now or timezone.now()
    earliest = (now - timedelta(days=1)).date()
    latest = (now + timedelta(days=EXPIRY_WARNING_DAYS + 1)).date()
    found = (
        Consent.objects.filter(
            expiry=ConsentExpiry.DATE,
            revoked_at__isnull=True,
            expires_on__gte=earliest,
            expires_on__lte=latest,
            client__admissions__discharged_at__isnull=True,
        )
        .select_related("client__facility")
        .distinct()
    )
    raised = 0
    for consent in found:
        client = consent.client
        today = facility_today(client, now)
        days = (consent.expires_on - today).days
        if not 0 <= days <= EXPIRY_WARNING_DAYS or consent.signed_on > today:
            continue
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        _, created = alert_raise(
            facility=client.facility,
            kind="consent_expiring",
            severity=AlertSeverity.WARNING,
            message=(
                f"{client.display_name}: the consent for {consent.recipient_name} expires {when} "
                f"({consent.expires_on:%Y-%m-%d}). Ask the client whether to renew it."
            ),
            dedupe_key=f"consent-expiring:{consent.public_id}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            link=reverse("clients:consent_detail", args=[consent.public_id]),
            now=now,
            audience="clinician,supervisor",
        )
        raised += created
    return raised


# ---------------------------------------------------------------- amendments (ONC (d)(4))

AMENDMENT_TEXT_MAX = 4000


def _text_errors(errors: dict, name: str, label: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        errors[name] = f"{label}: required."
    elif has_unsafe_characters(value):
        errors[name] = f"{label}: remove the control characters (NUL or text-direction marks)."
    elif len(value) > limit:
        errors[name] = f"{label}: at most {limit:,} characters."
    return value


def amendment_record(
    *,
    actor,
    client: Client,
    record_description: str,
    requested_change: str,
    category: str = "",
    now: datetime | None = None,
) -> AmendmentRequest:
    """Record a client's request to amend their record, received now by the signed-in user.

    `category` is the record category (facility/registry.py) the request concerns (the form
    requires it): once decided, the request goes into packets holding that category and into
    the client's own copy. Without one, into the client's own copy only."""
    policy.require(actor, "amendment.record", client)
    errors: dict[str, str] = {}
    category = (category or "").strip()
    if category and category not in {c.key for c in registry.record_categories}:
        errors["category"] = "Which part of the record: choose from the list."
    record_description = _text_errors(
        errors, "record_description", "Which record", record_description, 300
    )
    requested_change = _text_errors(
        errors, "requested_change", "Requested change", requested_change, AMENDMENT_TEXT_MAX
    )
    if errors:
        raise ValidationError(errors)
    return AmendmentRequest.objects.create(
        client=client,
        received_at=now or timezone.now(),
        received_by=actor,
        record_description=record_description,
        category=category,
        requested_change=requested_change,
    )


def amendment_decide(
    *,
    actor,
    amendment: AmendmentRequest,
    decision: str,
    text: str,
    now: datetime | None = None,
) -> AmendmentRequest:
    """Accept (`text` is the amendment appended) or deny (`text` is the reason; the request and
    the denial are appended). Decided once."""
    policy.require(actor, "amendment.decide", amendment.client)
    errors: dict[str, str] = {}
    if decision not in ("accept", "deny"):
        errors["decision"] = "Decision: accept or deny."
    label = "Amendment text" if decision == "accept" else "Reason for the denial"
    text = _text_errors(errors, "text", label, text, AMENDMENT_TEXT_MAX)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = AmendmentRequest.objects.select_for_update().get(pk=amendment.pk)
        if locked.status != AmendmentStatus.PENDING:
            raise ValidationError({NON_FIELD_ERRORS: "This request was already decided."})
        locked.status = AmendmentStatus.ACCEPTED if decision == "accept" else AmendmentStatus.DENIED
        locked.decided_at = now or timezone.now()
        locked.decided_by = actor
        locked.decision_text = text
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_text"])
    return locked


def amendments_for(client: Client) -> list[AmendmentRequest]:
    """The client's decided amendment requests, oldest decision first, for a disclosure packet
    or the client's own copy: accepted ones carry the amendment (`decision_text`), denied ones
    the request and the reason for the denial."""
    return list(
        AmendmentRequest.objects.filter(client=client)
        .exclude(status=AmendmentStatus.PENDING)
        .select_related("received_by", "decided_by")
        .order_by("decided_at", "pk")
    )


def amendments_section(request, client, admission) -> dict:
    return {
        "client": client,
        "requests": list(
            AmendmentRequest.objects.filter(client=client).select_related(
                "received_by", "decided_by"
            )
        ),
        "can_record": policy.allows(request.user, "amendment.record", client),
        "can_decide": policy.allows(request.user, "amendment.decide", client),
    }
