"""The census board's observation column: each client's level and what is owed now, in the
same words as the rounds board (one rule: services.round_state)."""

from django.db.models import Q
from django.urls import reverse

from clients.models import Leave
from facility.models import Alert
from facility.registry import CensusSlot, register_census_slot
from observations.services import (
    RETURN_LOOKBACK,
    current_levels,
    last_checks,
    round_state,
    vitals_status,
)

WORDS = {"done": "done", "due": "due", "due_soon": "due soon", "missed": "missed"}
TONES = {"done": "ok", "due": "due", "due_soon": "late", "missed": "alert"}


def _read_recent_leaves(admissions, now) -> None:
    """Each stay's open leave and those returned within RETURN_LOOKBACK, as `recent_leaves` on
    the stay (as the board prefetches them): read once per census page, for both columns
    (vitals_status uses them when they are there)."""
    if all(hasattr(a, "recent_leaves") for a in admissions):
        return
    leaves = {}
    for leave in Leave.objects.filter(admission__in=[a.pk for a in admissions]).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=now - RETURN_LOOKBACK)
    ):
        leaves.setdefault(leave.admission_id, []).append(leave)
    for a in admissions:
        a.recent_leaves = leaves.get(a.pk, [])


def _observation(admissions, now):
    levels = current_levels(admissions, now)
    last = last_checks(admissions)
    missed = set(
        Alert.objects.open()
        .filter(kind="missed_check", client_public_id__in=[a.client.public_id for a in admissions])
        .values_list("client_public_id", flat=True)
    )
    _read_recent_leaves(admissions, now)
    cells = {}
    for a in admissions:
        level = levels[a.pk]
        mine = a.recent_leaves
        if any(lv.returned_at is None for lv in mine):
            cells[a.pk] = {"text": f"{level.label} · off site", "tone": "due"}
            continue
        state, due_by = round_state(
            now, a.facility.tz, a, level, last.get(a.pk), mine, a.client.public_id in missed
        )
        word = f"due by {due_by:%H:%M}" if due_by and state != "done" else WORDS[state]
        cells[a.pk] = {"text": f"{level.label} · {word}", "tone": TONES[state]}
    return cells


register_census_slot(
    CensusSlot(key="observation", title="Observation", fill=_observation, order=10)
)


VITALS_TONES = {"ok": "ok", "due_soon": "late", "due": "due", "overdue": "alert", "off_site": "due"}


def _vitals(admissions, now):
    """Each client's vitals as the board says it (one rule: observations.vitals), in one query
    whatever the number of clients (the leaves are the observation column's)."""
    _read_recent_leaves(admissions, now)
    statuses = vitals_status(admissions, now)
    cells = {}
    for a in admissions:
        status = statuses[a.pk]
        cells[a.pk] = {
            "text": status.words(a.facility.tz, now),
            "tone": VITALS_TONES[status.state],
            "title": f"Vitals {status.every_text}",
            "href": reverse("observations:vitals_record", args=[a.public_id]),
            "capability": "vitals.record",
        }
    return cells


register_census_slot(CensusSlot(key="vitals", title="Vitals", fill=_vitals, order=20))
