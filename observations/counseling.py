"""SUD counseling notes (issue 16 item 8; specs/privacy.md "SUD counseling notes").

Kept apart from the rest of the chart: a counseling note is never a timeline entry, a progress
note, a shift-report line, a survey-bundle section, a handoff or census item, or part of any bulk
export. Nothing here registers with those hooks; the one way out is the record category
"counseling_notes", whose `own_consent` is "counseling": only a consent of that type covers it.

Who reads a note: its author, and the colleagues the author grants (active staff of the client's
facility who see the census), until the author revokes the grant: the policy's rule on
"counseling_note.view" (facility/policy.py) asks `CounselingNote.readable_by` at every read, so a
revocation takes effect at the next request. Nobody else, supervisors and admins included, learns
that a note exists (views answer 404, the chart shows no entry and no count). Every read is
audited (access log VIEW "counseling note").

Only clinicians write them ("counseling_note.write"). Saved is signed; its author may add an
addendum or strike it as entered in error (reason kept). The database refuses any other change
(migration 0010).
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from clients.models import Admission, Client
from facility import policy
from facility.models import Role, User
from observations.models import (
    COUNSELING_BODY_MAX,
    CounselingAddendum,
    CounselingNote,
    CounselingNoteGrant,
)

STRIKE_REASON_MAX = 300
ADDENDUM_MAX = 4000


# ---------------------------------------------------------------- reading


def readable_notes(user: User, client: Client):
    """The client's counseling notes this user may read: their own, and those of authors who
    granted them this client (grant not revoked). Nothing at all without "counseling_note.view"
    or outside the user's facilities."""
    if not policy.allows(user, "counseling_note.view") or not policy.in_scope(user, client):
        return CounselingNote.objects.none()
    granted_by = CounselingNoteGrant.objects.filter(
        client=client, grantee=user, revoked_at__isnull=True
    ).values("author_id")
    return (
        CounselingNote.objects.filter(admission__client=client)
        .filter(Q(author=user) | Q(author_id__in=granted_by))
        .select_related("author", "struck_by", "admission")
        .order_by("-occurred_at", "-recorded_at")
    )


def may_see_entry(user: User, client: Client) -> bool:
    """The chart's "Counseling notes" entry: for those who write them, and for grantees."""
    if policy.allows(user, "counseling_note.write", client):
        return True
    return readable_notes(user, client).exists()


def note_readable(user: User, note: CounselingNote) -> bool:
    return policy.allows(user, "counseling_note.view", note)


def grantee_choices(author: User, client: Client):
    """Whom the author may grant: active staff of the client's facility whose role sees the
    census, not the author, nor those granted already."""
    roles = policy.roles_with("counseling_note.view")
    granted = CounselingNoteGrant.objects.filter(
        client=client, author=author, revoked_at__isnull=True
    ).values("grantee_id")
    return (
        User.objects.filter(facilities=client.facility_id, is_active=True, role__in=roles)
        .exclude(pk=author.pk)
        .exclude(pk__in=granted)
        .order_by(_role_rank("role"), "full_name", "username")
    )


def active_grants(author: User, client: Client):
    return (
        CounselingNoteGrant.objects.filter(client=client, author=author, revoked_at__isnull=True)
        .select_related("grantee")
        .order_by(_role_rank("grantee__role"), "grantee__full_name", "grantee__username")
    )


def _role_rank(field: str) -> Case:
    """Roles in their order in facility.models.Role (technician ... admin), for sorting."""
    return Case(
        *(When(**{field: role}, then=Value(rank)) for rank, role in enumerate(Role.values)),
        default=Value(len(Role.values)),
    )


def colleague_label(user: User) -> str:
    """A colleague as the grant list names them: name and credentials, then the role (a
    supervisor with a nursing licence reads "Dana Whitfield, RN — Supervisor")."""
    return f"{user.signature} — {user.get_role_display()}"


# ---------------------------------------------------------------- writing


def _check_occurred_at(admission: Admission, occurred_at: datetime, now: datetime) -> None:
    if occurred_at > now:
        raise ValidationError({"occurred_at": "Session time: cannot be in the future."})
    if occurred_at < admission.admitted_at:
        raise ValidationError(
            {"occurred_at": "Session time: cannot be before the client was admitted."}
        )
    if admission.discharged_at is not None and occurred_at > admission.discharged_at:
        raise ValidationError({"occurred_at": "Session time: cannot be after the discharge."})


def _clean_text(text: str, *, field: str, label: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: f"{label}: write the text."})
    if len(text) > limit:
        raise ValidationError({field: f"{label}: at most {limit} characters."})
    return text


@transaction.atomic
def counseling_note_record(
    *,
    actor: User,
    admission: Admission,
    occurred_at: datetime,
    body: str,
    now: datetime | None = None,
) -> CounselingNote:
    """A clinician's counseling note of a session in this stay; saved is signed."""
    now = now or timezone.now()
    policy.require(actor, "counseling_note.write", admission)
    if admission.discharged_at is not None:
        raise ValidationError("This client has been discharged: the stay takes no new notes.")
    _check_occurred_at(admission, occurred_at, now)
    body = _clean_text(body, field="body", label="Note", limit=COUNSELING_BODY_MAX)
    return CounselingNote.objects.create(
        admission=admission, author=actor, occurred_at=occurred_at, recorded_at=now, body=body
    )


def _own_note(actor: User, note: CounselingNote) -> CounselingNote:
    note = (
        CounselingNote.objects.select_for_update(of=("self",))
        .select_related("admission__client")
        .get(pk=note.pk)
    )
    policy.require(actor, "counseling_note.write", note)
    if note.author_id != actor.pk:
        raise PermissionDenied("Only its author adds to or strikes a counseling note.")
    return note


@transaction.atomic
def counseling_addendum_add(
    *, actor: User, note: CounselingNote, text: str, now: datetime | None = None
) -> CounselingAddendum:
    """Text the author adds to their signed note; a struck note takes none."""
    now = now or timezone.now()
    note = _own_note(actor, note)
    if note.struck_at is not None:
        raise ValidationError({"text": "This note was entered in error: it takes no addendum."})
    text = _clean_text(text, field="text", label="Addendum", limit=ADDENDUM_MAX)
    return CounselingAddendum.objects.create(note=note, author=actor, text=text, recorded_at=now)


@transaction.atomic
def counseling_note_strike(
    *, actor: User, note: CounselingNote, reason: str, now: datetime | None = None
) -> CounselingNote:
    """Entered in error, by its author: the note stays, struck through, with the reason."""
    now = now or timezone.now()
    note = _own_note(actor, note)
    if note.struck_at is not None:
        raise ValidationError("This note was already struck as entered in error.")
    reason = _clean_text(reason, field="reason", label="Reason", limit=STRIKE_REASON_MAX)
    note.struck_at, note.struck_by, note.struck_reason = now, actor, reason
    note.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    return note


# ---------------------------------------------------------------- grants


@transaction.atomic
def counseling_grant(
    *, actor: User, client: Client, grantee: User, now: datetime | None = None
) -> CounselingNoteGrant:
    """The author lets a colleague read the author's counseling notes of this client (those
    written before and after), until revoked."""
    now = now or timezone.now()
    policy.require(actor, "counseling_note.write", client)
    if grantee.pk == actor.pk:
        raise ValidationError({"grantee": "Colleague: you always read your own notes."})
    if not (
        grantee.is_active
        and policy.allows(grantee, "counseling_note.view")
        and policy.in_scope(grantee, client)
    ):
        raise ValidationError(
            {"grantee": "Colleague: choose active staff of this facility who see the census."}
        )
    try:
        with transaction.atomic():
            return CounselingNoteGrant.objects.create(
                client=client, author=actor, grantee=grantee, granted_at=now
            )
    except IntegrityError:
        raise ValidationError(
            {"grantee": f"Colleague: {grantee.signature} can already read your notes."}
        ) from None


@transaction.atomic
def counseling_grant_revoke(
    *, actor: User, grant: CounselingNoteGrant, now: datetime | None = None
) -> CounselingNoteGrant:
    """The author takes a grant back: the grantee's next read is refused."""
    now = now or timezone.now()
    grant = (
        CounselingNoteGrant.objects.select_for_update(of=("self",))
        .select_related("client", "grantee")
        .get(pk=grant.pk)
    )
    policy.require(actor, "counseling_note.write", grant)
    if grant.author_id != actor.pk:
        raise PermissionDenied("Only the author who granted it revokes a grant.")
    if grant.revoked_at is not None:
        raise ValidationError("This grant was already revoked.")
    grant.revoked_at, grant.revoked_by = now, actor
    grant.save(update_fields=["revoked_at", "revoked_by"])
    return grant


# ---------------------------------------------------------------- hooks


def _record_category_render(*, client, start, end, user=None) -> dict:
    """The client's counseling notes of [start, end) that `user` (the one disclosing) may read,
    with addenda: only ever rendered for a disclosure under a "counseling" consent
    (RecordCategory.own_consent). Disclosing never reveals a note to its discloser: nobody
    discloses notes they may not read (no supervisor), and with none readable in the period the
    disclosure is refused. Without a user, no note."""
    readable = readable_notes(user, client).values("pk") if user is not None else []
    notes = list(
        CounselingNote.objects.filter(
            admission__client=client, occurred_at__gte=start, occurred_at__lt=end
        )
        .filter(pk__in=readable)
        .select_related("author", "struck_by")
        .prefetch_related("addenda__author")
        .order_by("occurred_at", "recorded_at")
    )
    if not notes:
        raise ValidationError(
            {
                "categories": "SUD counseling notes: you may disclose only notes you may read "
                "(your own, or an author's who granted them to you); none in this period."
            }
        )
    return {"notes": notes, "start": start, "end": end}


def _chart_section(request, client, admission) -> dict | None:
    """The chart's entry: None (no section at all) for anyone who neither writes counseling
    notes nor was granted any of this client's; no list and no count on the chart itself."""
    user = request.user
    can_write = policy.allows(user, "counseling_note.write", client)
    readable = readable_notes(user, client)
    if not can_write and not readable.exists():
        return None
    return {
        "client": client,
        "admission": admission,
        "can_write": can_write and admission is not None and admission.discharged_at is None,
    }


def register() -> None:
    """From ObservationsConfig.ready(): the record category and the chart entry, and the audit
    trail kept without the notes' text (an audit reader is not a grantee)."""
    from auditlog.registry import auditlog

    from facility.registry import (
        ChartSection,
        RecordCategory,
        register_chart_section,
        register_record_category,
    )

    register_record_category(
        RecordCategory(
            key="counseling_notes",
            label="SUD counseling notes",
            template="observations/counseling_records.html",
            render=_record_category_render,
            order=90,
            own_consent="counseling",
        )
    )
    register_chart_section(
        ChartSection(
            key="counseling_notes",
            title="Counseling notes",
            template="observations/counseling_section.html",
            render=_chart_section,
            order=95,
            capability="counseling_note.view",
        )
    )
    # Every model is tracked by django-auditlog (settings); these are kept with their times,
    # authors and strikes but without the text, which only the author and grantees read.
    auditlog.register(CounselingNote, exclude_fields=["body", "struck_reason"])
    auditlog.register(CounselingAddendum, exclude_fields=["text"])
