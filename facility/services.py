"""Writes of the facility core: facilities, roles, staff accounts, alerts and the access log.

Refusals are ValidationErrors naming the field, like every service (issue 8).
"""

from collections.abc import Iterable
from datetime import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from facility.models import (
    AccessAction,
    AccessEvent,
    Alert,
    AlertSeverity,
    Facility,
    User,
)
from facility.registry import registry
from facility.roles import ROLE_PERMISSIONS

# Any fixed 64-bit number; serializes writers of the access-log hash chain.
ACCESS_CHAIN_LOCK = 0x4A7E_5EED_0001
GENESIS_HASH = "0" * 64


def violated_constraint(exc: IntegrityError) -> str:
    """The name of the constraint an IntegrityError broke ("" if not a named constraint), read
    from PostgreSQL's error fields rather than guessed from the message text."""
    diag = getattr(exc.__cause__, "diag", None)
    return (getattr(diag, "constraint_name", None) or "") if diag is not None else ""


@transaction.atomic
def facility_create(*, name: str, time_zone: str, address: str = "") -> Facility:
    """Open a facility with every app's defaults (round codes, security areas), so that no page
    has to create them on first view (issue 8). The Django admin calls facility_seed_defaults."""
    facility = Facility(name=name, time_zone=time_zone, address=address)
    facility.full_clean()
    facility.save()
    facility_seed_defaults(facility=facility)
    return facility


@transaction.atomic
def facility_seed_defaults(*, facility: Facility) -> None:
    """Run each app's registered defaults seeder for this facility (idempotent)."""
    for seed in registry.facility_defaults.values():
        seed(facility)


def roles_sync() -> list[str]:
    """Create the role Groups and set their permissions to exactly those in facility/roles.py."""
    changes: list[str] = []
    with transaction.atomic():
        for role, wanted in ROLE_PERMISSIONS.items():
            group, created = Group.objects.get_or_create(name=str(role.value))
            if created:
                changes.append(f"created group {group.name}")
            perms = []
            for name in sorted(wanted):
                app_label, codename = name.split(".", 1)
                try:
                    perms.append(
                        Permission.objects.get(content_type__app_label=app_label, codename=codename)
                    )
                except Permission.DoesNotExist as exc:
                    raise ImproperlyConfigured(
                        f"roles.py names an unknown permission: {name}"
                    ) from exc
            current = set(group.permissions.all())
            if current != set(perms):
                group.permissions.set(perms)
                changes.append(f"set {len(perms)} permissions on {group.name}")
    return changes


def user_sync_role_group(user: User) -> None:
    """Make the user a member of exactly the Group of their role."""
    user.groups.set(Group.objects.filter(name=user.role))


@transaction.atomic
def staff_create(
    *,
    actor: User,
    username: str,
    email: str,
    full_name: str,
    initials: str,
    credentials: str,
    role: str,
    facilities: Iterable[Facility],
) -> User:
    """Create a staff account without a usable password; the person sets one from an e-mail."""
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        initials=initials.upper(),
        credentials=credentials,
        role=role,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    user.facilities.set(facilities)
    user_sync_role_group(user)
    # The address is proven when the person uses the set-password link sent to it.
    EmailAddress.objects.create(user=user, email=email.lower(), primary=True, verified=False)
    access_log(actor=actor, action=AccessAction.ROLE_CHANGE, what=f"created {username} as {role}")
    return user


@transaction.atomic
def staff_email_proven(*, user: User, ip: str | None = None) -> None:
    """The person set a password from the link e-mailed to them, so their address is theirs.

    Set-password links go only to `user.email` (facility/adapters.py) and the token is bound to it
    (facility/accounts.py), so using one proves that address and no other. Leaves exactly one
    address, verified and primary: allauth refuses TOTP enrolment while any address of the
    account is unverified (issue 7), and staff have one admin-entered address. The access log
    names the address proven and any other address removed, so nothing goes without a trace.
    """
    email = (user.email or "").lower()
    others = EmailAddress.objects.filter(user=user).exclude(email=email)
    removed = sorted(others.values_list("email", flat=True))
    others.delete()
    if not email:
        return
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    what = f"{email} by set-password link"
    if removed:
        what += "; removed " + ", ".join(removed)
    access_log(action=AccessAction.EMAIL_PROVEN, actor=user, what=what, ip=ip)


@transaction.atomic
def staff_update(
    *,
    actor: User,
    user: User,
    email: str,
    full_name: str,
    initials: str,
    credentials: str,
    role: str,
    facilities: Iterable[Facility],
) -> User:
    """Change a staff member's details, role or facilities; role changes are audited."""
    facilities = list(facilities)
    before = (user.role, sorted(user.facilities.values_list("id", flat=True)))
    if email.lower() != (user.email or "").lower():
        # An old address left behind, unverified, would block enrolment (issue 7).
        EmailAddress.objects.filter(user=user).exclude(email=email.lower()).delete()
    user.email = email
    user.full_name = full_name
    user.initials = initials.upper()
    user.credentials = credentials
    user.role = role
    user.full_clean()
    user.save()
    user.facilities.set(facilities)
    user_sync_role_group(user)
    after = (role, sorted(f.id for f in facilities))
    if before != after:
        names = ", ".join(f.name for f in facilities)
        access_log(
            actor=actor,
            action=AccessAction.ROLE_CHANGE,
            what=f"{user.username}: role {before[0]} → {role}; facilities {names}",
        )
    return user


def _end_sessions(user: User) -> int:
    """Delete every session of this user. Sessions are few enough to decode them in place."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def staff_deactivate(*, actor: User, user: User) -> None:
    """Deactivate an account and end its sessions at once (privacy.md, workforce termination)."""
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate your own account.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = _end_sessions(user)
    access_log(
        actor=actor,
        action=AccessAction.DEACTIVATE,
        what=f"deactivated {user.username}; ended {ended} sessions",
    )


@transaction.atomic
def staff_reactivate(*, actor: User, user: User) -> None:
    """Let a deactivated person sign in again."""
    user.is_active = True
    user.save(update_fields=["is_active"])
    access_log(actor=actor, action=AccessAction.ROLE_CHANGE, what=f"reactivated {user.username}")


@transaction.atomic
def staff_reset_mfa(*, actor: User, user: User) -> int:
    """Remove a person's authenticators so they enrol again at next login (lost phone)."""
    from allauth.mfa.models import Authenticator

    removed, _ = Authenticator.objects.filter(user=user).delete()
    _end_sessions(user)
    access_log(actor=actor, action=AccessAction.MFA_RESET, what=f"reset MFA of {user.username}")
    return removed


def alert_raise(
    *,
    facility: Facility,
    kind: str,
    severity: str,
    message: str,
    dedupe_key: str,
    client_public_id=None,
    client_label: str = "",
    link: str = "",
    once: bool = True,
    now: datetime | None = None,
    audience: str = "",
) -> tuple[Alert, bool]:
    """Upsert an alert by dedupe key; returns (alert, created).

    With `once` (the default) a condition that was raised and resolved is not raised again: a
    missed block stays missed, and the person who resolved it already acted. The partial unique
    index makes two scans racing on one key create one row (DESIGN.md §4).
    """
    if severity not in AlertSeverity.values:
        raise ValidationError({"severity": f"Unknown alert severity: {severity}"})
    existing = Alert.objects.filter(dedupe_key=dedupe_key)
    if not once:
        existing = existing.open()
    found = existing.order_by("resolved_at").first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                facility=facility,
                kind=kind,
                severity=severity,
                message=message,
                dedupe_key=dedupe_key,
                client_public_id=client_public_id,
                client_label=client_label,
                link=link,
                raised_at=now or timezone.now(),
                audience=audience,
            )
    except IntegrityError:
        return Alert.objects.open().get(dedupe_key=dedupe_key), False
    return alert, True


def alerts_raise_many(alerts: list[Alert]) -> int:
    """Raise many new alerts in two queries (for scans); keys raised before, open or resolved,
    are skipped, and a racing scan's duplicate is dropped by the open-key unique index."""
    keys = [a.dedupe_key for a in alerts]
    known = set(Alert.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = {a.dedupe_key: a for a in alerts if a.dedupe_key not in known}
    Alert.objects.bulk_create(fresh.values(), ignore_conflicts=True)
    return len(fresh)


def alerts_close(keys, *, user: User, note: str, now: datetime | None = None) -> int:
    """Close the open alerts with these dedupe keys because the condition was answered (a late
    check, a return from leave); returns how many closed. Workflow-owned kinds are not touched."""
    from facility.registry import registry

    keys = list(keys)
    if not keys:
        return 0
    return (
        Alert.objects.open()
        .filter(dedupe_key__in=keys)
        .exclude(kind__in=list(registry.workflow_alerts))
        .update(resolved_at=now or timezone.now(), resolved_by=user, resolution_note=note)
    )


@transaction.atomic
def alert_resolve(*, alert: Alert, user: User, note: str, workflow: bool = False) -> Alert:
    """Close an alert with who, when and what was done.

    An alert whose kind a workflow owns (`register_workflow_alert`: a count variance closes
    only with its sign-off) is closed only by that workflow (`workflow=True`)."""
    from facility.registry import registry

    note = note.strip()
    if not note:
        raise ValidationError({"note": "Resolution note: say what was done."})
    closed_by = registry.workflow_alerts.get(alert.kind)
    if closed_by and not workflow:
        raise ValidationError(f"This alert closes only with {closed_by}.")
    locked = Alert.objects.select_for_update().select_related("facility").get(pk=alert.pk)
    if locked.resolved_at is not None:
        when = timezone.localtime(locked.resolved_at, locked.facility.tz)
        raise ValidationError(f"Already resolved by {locked.resolved_by} at {when:%H:%M}.")
    locked.resolved_at = timezone.now()
    locked.resolved_by = user
    locked.resolution_note = note
    locked.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    return locked


def access_log(
    *,
    action: str,
    actor: User | None = None,
    username: str = "",
    facility: Facility | None = None,
    client=None,
    what: str = "",
    ip: str | None = None,
    outcome: str = "ok",
) -> AccessEvent:
    """Append one row to the hash-chained access log.

    `client` is any object with `public_id` and `mrn` (a clients.Client); the core does not import
    the clients app. An advisory lock orders concurrent writers so the chain stays linear.
    """
    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACCESS_CHAIN_LOCK])
        prev = AccessEvent.objects.order_by("-id").values_list("row_hash", flat=True).first()
        event = AccessEvent(
            at=timezone.now(),
            user=actor if actor is not None and actor.pk else None,
            username=(actor.username if actor is not None else username)[:150],
            role=(getattr(actor, "role", "") or "") if actor is not None else "",
            facility=facility,
            client_public_id=getattr(client, "public_id", None),
            client_label=getattr(client, "mrn", "") if client is not None else "",
            action=action,
            what=what[:200],
            ip=ip,
            outcome=outcome,
        )
        event.prev_hash = prev or GENESIS_HASH
        event.row_hash = event.content_digest(event.prev_hash)
        event.save()
    return event


def access_chain_verify() -> AccessEvent | None:
    """Walk the access log in order; return the first row whose link is broken, else None."""
    prev = GENESIS_HASH
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or event.row_hash != event.content_digest(prev):
            return event
        prev = event.row_hash
    return None
