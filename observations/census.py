"""The census board's observation column: each client's level and a due/missed marker."""

from django.utils import timezone

from facility.models import Alert
from facility.registry import CensusSlot, register_census_slot
from observations.models import LEVEL_INTERVAL
from observations.rounds import block_state
from observations.services import current_levels, last_checks


def _observation(admissions, now):
    levels = current_levels(admissions, now)
    last = last_checks(admissions)
    missed = set(
        Alert.objects.open()
        .filter(kind="missed_check", client_public_id__in=[a.client.public_id for a in admissions])
        .values_list("client_public_id", flat=True)
    )
    cells = {}
    for a in admissions:
        level = levels[a.pk]
        check = last.get(a.pk)
        state = block_state(
            timezone.localtime(now, a.facility.tz),
            last_check=check.observed_at if check else None,
            interval_minutes=LEVEL_INTERVAL[level.level],
        )
        if a.client.public_id in missed and state != "done":
            tone, word = "alert", "missed"
        else:
            tone = {"done": "ok", "due": "due", "due_soon": "late"}[state]
            word = {"done": "done", "due": "due", "due_soon": "due soon"}[state]
        cells[a.pk] = {"text": f"{level.label} · {word}", "tone": tone}
    return cells


register_census_slot(
    CensusSlot(key="observation", title="Observation", fill=_observation, order=10)
)
