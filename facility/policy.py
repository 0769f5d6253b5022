"""May this user do this to this object? The one access policy (DESIGN.md §3, issue 8 item 1).

Every check asks three questions, in this order:

1. Capability: the user's role holds the permission `facility/roles.py` names for it (403).
2. Facility scope: the object belongs to one of the user's facilities. Views find objects through
   scoped lookups (`Client.objects.visible_to`), so a stranger gets 404 before asking; a service
   handed an object out of scope refuses with `OutOfScope`.
3. Rules on the object's state, per capability (e.g. without "mar.give" only observed
   self-administration may be documented; a discharged client is no longer charted on).

Views ask through `@requires(...)` (login, then capability) and `require(user, capability, obj)`;
services take the actor and call the same `require`. Every refusal is a `PermissionDenied`.
This is the only module that reads a user's role: everything else asks for a capability.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from facility.roles import CAPABILITIES, ROLE_PERMISSIONS

DEFAULT_REFUSAL = "Your role does not allow this."

# What a refused user reads, where the default says too little.
REFUSALS = {
    "floor.chart": "Your role cannot chart on the floor.",
    "level.change": "Your role cannot change observation levels.",
    "level.order": "Only a clinician can order or confirm a level.",
    "mar.use": "Your role does not use the MAR.",
    "mar.record": "Your role does not record administrations.",
    "mar.give": "PRN doses are given by a nurse.",
    "mar.cosign_prn_override": "Second nurse: a different nurse must agree.",
    "order.transcribe": "Only nurses transcribe orders.",
    "order.verify": "Only nurses verify orders.",
    "order.discontinue": "Only nurses discontinue orders.",
    "controlled.receive": "Nurses receive controlled stock.",
    "controlled.sign": "This person cannot sign for controlled substances.",
    "controlled.sign_off": "A supervisor signs off discrepancies.",
}


class OutOfScope(PermissionDenied):
    """The object belongs to a facility the user is not assigned to."""


# ---------------------------------------------------------------- facility scope

# Attributes leading from a record to the one that carries its facility.
_PARENTS = ("admission", "order", "dose", "stock", "client", "trip", "vehicle", "inspection")


def facility_id_of(obj: Any) -> int | None:
    """The facility a record belongs to, following admission → client → facility links."""
    if obj._meta.label == "facility.Facility":
        return obj.pk
    if hasattr(obj, "facility_id"):
        return obj.facility_id
    for name in _PARENTS:
        parent = getattr(obj, name, None)
        if parent is not None:
            return facility_id_of(parent)
    raise TypeError(f"No facility is known for {obj._meta.label}.")


def in_scope(user, obj: Any) -> bool:
    """The object is in one of the user's facilities; a staff member, if they share one."""
    mine = set(user.facility_ids())
    if obj._meta.label == "facility.User":
        return bool(mine & set(obj.facility_ids()))
    return facility_id_of(obj) in mine


# ---------------------------------------------------------------- rules on the object's state


def _admission_of(obj: Any):
    for name in ("admission", "order"):
        if hasattr(obj, name) and getattr(obj, name) is not None:
            return _admission_of(getattr(obj, name))
    return obj if hasattr(obj, "discharged_at") else None


def _open_admission(user, obj) -> None:
    """A discharged client's chart is closed (specs: the MAR and rounds lock at discharge)."""
    admission = _admission_of(obj)
    if admission is not None and admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")


def _tech_routes(facility) -> set[str]:
    return {r.strip() for r in facility.tech_observed_routes.split(",") if r.strip()}


def _observed_self_administration(user, administration) -> None:
    """Without "mar.give", only a given dose the client took themselves, watched, is charted
    (HAVEN_TECH_OBSERVED_SELF_ADMINISTRATION, specs/mar.md), and only within the facility's
    technician scope (issue 9 item 9): a route on its list, a controlled medication only
    if it allows them, and never a dose whose order has hold parameters."""
    if allows(user, "mar.give"):
        return
    observed = administration.outcome == "given" and administration.self_administered
    if not (getattr(settings, "HAVEN_TECH_OBSERVED_SELF_ADMINISTRATION", True) and observed):
        raise PermissionDenied(
            "Technicians document observed self-administration only; call the nurse."
        )
    order = administration.order
    facility = order.admission.facility
    if order.route not in _tech_routes(facility):
        raise PermissionDenied(
            f"{order.get_route_display()} doses are charted by a nurse at this facility; "
            "call the nurse."
        )
    if order.medication.is_controlled and not facility.tech_observed_controlled:
        raise PermissionDenied(
            "Controlled medications are charted by a nurse at this facility; call the nurse."
        )
    # Safer reading (issue 9 tablet review): a hold parameter ("hold if SBP < 100") needs a
    # nurse's assessment before the dose, so a technician cannot chart it as observed.
    if (order.hold_parameters or "").strip():
        raise PermissionDenied("This dose has hold parameters: a nurse assesses and gives it.")


def _prn_effect_by_nurse(user, administration) -> None:
    """Without "mar.give", a PRN dose's effectiveness is charted only where the facility lets
    technicians do so (Facility.tech_prn_effect, issue 9 item 9)."""
    if allows(user, "mar.give"):
        return
    if not administration.order.admission.facility.tech_prn_effect:
        raise PermissionDenied("A nurse charts how a PRN dose worked at this facility.")


def _own_entry_or_strike_any(user, administration) -> None:
    if administration.recorded_by_id != user.pk and not allows(user, "mar.strike_any"):
        raise PermissionDenied("Only the person who charted it or a nurse can strike it.")


def _all_their_facilities(user, member) -> None:
    """To change an account, every facility it reaches must be the admin's too (else an admin of
    one site could take over an account that reaches another)."""
    if not set(member.facility_ids()) <= set(user.facility_ids()):
        raise PermissionDenied(
            "This person also works at a facility you do not administer; ask its admin."
        )


def _incident_reader(user, incident) -> None:
    """An incident report is read by supervisors (who review), its reporter and the staff it
    names, nobody else (specs/charting.md): it is an administrative record, not the chart."""
    if _holds(user, "incident.review") or incident.reported_by_id == user.pk:
        return
    if incident.staff_links.filter(user_id=user.pk).exists():
        return
    raise PermissionDenied(
        "Incident reports are read by supervisors, the reporter and the staff named in them."
    )


def _own_behavior_note_or_strike_any(user, note) -> None:
    if note.recorded_by_id != user.pk and not allows(user, "behavior_note.strike_any"):
        raise PermissionDenied("Only the note's author, a nurse or a supervisor can strike it.")


def _not_own_note(user, note) -> None:
    """A co-signature is a second person's: never the author's own."""
    if note.author_id == user.pk:
        raise PermissionDenied("You cannot co-sign your own note.")


def _counseling_reader(user, note) -> None:
    """An SUD counseling note is read by its author and the colleagues the author granted, grant
    not revoked, nobody else: no supervisor, admin or break-the-glass (specs/privacy.md). The
    note answers who (`readable_by`, observations); facility scope is checked before this."""
    if not note.readable_by(user):
        raise PermissionDenied("Counseling notes are read by their author and whom they grant.")


RULES: dict[str, Callable[[Any, Any], None]] = {
    "floor.chart": _open_admission,
    "behavior_note.write": _open_admission,
    "behavior_note.strike": _own_behavior_note_or_strike_any,
    "cssrs.screen": _open_admission,
    "incident.view": _incident_reader,
    "screening.collect": _open_admission,
    "screening.breath": _open_admission,
    "screening.search": _open_admission,
    "note.cosign": _not_own_note,
    "counseling_note.view": _counseling_reader,
    "mar.record": _observed_self_administration,
    "mar.follow_up": _prn_effect_by_nurse,
    "mar.strike": _own_entry_or_strike_any,
    "staff.change": _all_their_facilities,
}


# ---------------------------------------------------------------- asking


def _load_permissions(user) -> None:
    """Read the user's permissions, their own and their groups', in one query where Django's
    ModelBackend takes two, and leave them where the backend looks first (`_perm_cache`, for
    the rest of the request). Superusers are left to the backend (it grants them all)."""
    if hasattr(user, "_perm_cache") or user.is_superuser:
        return
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    own = user.user_permissions.through.objects.filter(user_id=user.pk)
    grouped = Group.permissions.through.objects.filter(group__user=user.pk)
    rows = (
        Permission.objects.filter(
            Q(pk__in=own.values("permission_id")) | Q(pk__in=grouped.values("permission_id"))
        )
        .values_list("content_type__app_label", "codename")
        .order_by()
    )
    user._perm_cache = {f"{app}.{codename}" for app, codename in rows}


def _holds(user, capability: str) -> bool:
    permission = CAPABILITIES[capability]
    if not (user.is_authenticated and user.is_active):
        return False
    if permission is None:
        return True
    _load_permissions(user)
    return user.has_perm(permission)


def require(user, capability: str, obj: Any = None) -> None:
    """Raise PermissionDenied unless the user may do `capability` (to `obj`, if given)."""
    if not _holds(user, capability):
        raise PermissionDenied(REFUSALS.get(capability, DEFAULT_REFUSAL))
    if obj is None:
        return
    if not in_scope(user, obj):
        raise OutOfScope("This record belongs to another facility.")
    rule = RULES.get(capability)
    if rule is not None:
        rule(user, obj)


def allows(user, capability: str, obj: Any = None) -> bool:
    """The same question as `require`, as a yes or no (for showing or hiding a button)."""
    try:
        require(user, capability, obj)
    except PermissionDenied:
        return False
    return True


def requires(capability: str, *, post: str | None = None):
    """View decorator: login (302 to sign in), then the capability (403). With `post`, a POST
    needs that capability as well. Stack method decorators below this one.

    The view remembers what it asks (`view.capabilities`), so the access matrix reads it.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, capability)
            if post is not None and request.method == "POST":
                require(request.user, post)
            return view(request, *args, **kwargs)

        checked = login_required(wrapped)
        checked.capabilities = {"GET": capability, "POST": post or capability}
        return checked

    return decorator


# ---------------------------------------------------------------- roles, for the role matrix


def roles_with(capability: str) -> set[str]:
    """The roles whose permissions grant a capability (before object rules)."""
    permission = CAPABILITIES[capability]
    return {
        str(role.value)
        for role, perms in ROLE_PERMISSIONS.items()
        if permission is None or permission in perms
    }


def role_grants(role: str, capability: str) -> bool:
    """A role, by name, would hold the capability (e.g. before changing someone's role)."""
    return role in roles_with(capability)


def note_needs_cosign(user) -> bool:
    """A technician's progress note waits for a nurse's or clinician's co-signature where the
    facility asks for one (`Facility.cosign_technician_notes`, specs/charting.md). Supervisors
    lack "note.cosign" too, but their notes need no second signature: hence the role itself."""
    return user.role == "technician"


def mfa_required(user) -> bool:
    """Roles listed in HAVEN_MFA_REQUIRED_ROLES must enrol TOTP before any page."""
    return user.is_authenticated and user.role in settings.HAVEN_MFA_REQUIRED_ROLES
