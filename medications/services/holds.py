"""Hold parameters and score triggers at the med pass (issue 11 items 6 and 7): the vitals and
withdrawal scores come from observations through facility.registry.readings, never by
importing it (docs/architecture.md)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from facility import registry
from medications import holds as hold_rules
from medications import triggers
from medications.models import Frequency, HoldParameter, Order


@dataclass
class VitalCheck:
    """One vital an order holds on, as judged for a dose at `at`.

    `value` is what the dose is judged on: the typed value, else a reading taken within the
    facility's `hold_vital_max_age_minutes` (`taken_at` its time, `entered` False), else None.
    `met` the rules it meets ("SBP 88 < 90"); `rules` every rule on this vital ("SBP < 90").
    """

    vital: str
    name: str
    rules: list[str]
    holds: list[HoldParameter]
    value: Decimal | None = None
    taken_at: datetime | None = None
    entered: bool = False
    recent_value: Decimal | None = None  # the recent reading, shown and pre-filled
    recent_taken_at: datetime | None = None
    met: list[str] = field(default_factory=list)
    error: str = ""


def holds_by_order(order_ids) -> dict[int, list[HoldParameter]]:
    """The structured holds of these orders, in one query."""
    found: dict[int, list[HoldParameter]] = defaultdict(list)
    for hold in HoldParameter.objects.filter(order_id__in=list(order_ids)).order_by("id"):
        found[hold.order_id].append(hold)
    return found


def admission_readings(admission_id: int, at: datetime) -> dict:
    """The latest readings of one stay at `at` ({key: Reading}), from every registered source."""
    return registry.readings([admission_id], at=at).get(admission_id, {})


def judge_holds(
    holds: list[HoldParameter],
    readings: dict,
    *,
    at: datetime,
    max_age: timedelta,
    typed: dict | None = None,
) -> list[VitalCheck]:
    """Each vital of the order's holds with the value it is judged on.

    A typed value wins (`entered`, taken at `at`), unless it is the recent reading's value
    left as pre-filled; a reading older than `max_age` is never used: the vital is asked for.
    """
    typed = typed or {}
    checks: dict[str, VitalCheck] = {}
    for hold in holds:
        check = checks.get(hold.vital)
        if check is None:
            spec = hold_rules.VITALS[hold.vital]
            check = checks[hold.vital] = VitalCheck(hold.vital, spec.name, [], [])
        check.holds.append(hold)
        check.rules.append(hold_rules.rule_text(hold.vital, hold.comparator, hold.value))
    for check in checks.values():
        reading = readings.get(check.vital)
        if reading is not None and hold_rules.is_recent(reading.taken_at, at, max_age):
            check.recent_value = hold_rules.as_decimal(reading.value)
            check.recent_taken_at = reading.taken_at
        raw = typed.get(check.vital)
        value = hold_rules.as_decimal(raw)
        if raw not in (None, "") and (value is None or hold_rules.implausible(check.vital, value)):
            check.error = hold_rules.implausible(check.vital, raw)
            continue
        if value is not None and value != check.recent_value:
            check.value, check.taken_at, check.entered = value, at, True
        elif check.recent_value is not None:
            check.value, check.taken_at = check.recent_value, check.recent_taken_at
        if check.value is not None:
            check.met = [
                hold_rules.met_text(h.vital, h.comparator, h.value, check.value)
                for h in check.holds
                if hold_rules.met(h.comparator, h.value, check.value)
            ]
    return list(checks.values())


def order_hold_checks(order: Order, *, at: datetime, typed, errors: dict, giving: bool) -> list:
    """An order's structured holds judged at `at` for a scheduled or a PRN dose, from a vital
    typed at the med pass or one taken within the facility's hold_vital_max_age_minutes: an
    unreadable value, or (when the dose is being given) no value at all, is an error on
    hold_<vital> in `errors`. [] for an order without holds."""
    holds = list(order.holds.all())
    if not holds:
        return []
    facility = order.admission.facility
    checks = judge_holds(
        holds, admission_readings(order.admission_id, at), at=at,
        max_age=timedelta(minutes=facility.hold_vital_max_age_minutes), typed=typed,
    )  # fmt: skip
    for check in checks:
        if check.error:
            errors[f"hold_{check.vital}"] = check.error
        elif check.value is None and giving:
            errors[f"hold_{check.vital}"] = (
                f"{check.name}: the order holds the dose if {' or '.join(check.rules)}, and no "
                f"reading was taken in the last {facility.hold_vital_max_age_minutes} minutes. "
                "Take it and enter it before giving."
            )
    return checks


def hold_record_fields(checks: list[VitalCheck]) -> dict:
    """What the Administration records: the vital a hold was met on (else the first judged),
    its value, when it was taken and whether it was typed."""
    judged = [c for c in checks if c.value is not None]
    chosen = next((c for c in judged if c.met), judged[0] if judged else None)
    if chosen is None:
        return {}
    return {
        "hold_vital": chosen.vital,
        "hold_vital_value": chosen.value,
        "hold_vital_taken_at": chosen.taken_at,
        "hold_vital_entered": chosen.entered,
    }


def met_texts(checks: list[VitalCheck]) -> list[str]:
    return [text for c in checks for text in c.met]


def trigger_for(order: Order, readings: dict, at: datetime) -> triggers.TriggerStatus | None:
    """How an order's score trigger stands at `at` (None: the order has no trigger)."""
    if not order.prn_trigger_scale:
        return None
    reading = readings.get(order.prn_trigger_scale)
    tz = order.admission.facility.tz
    return triggers.trigger_status(
        order.prn_trigger_scale, order.prn_trigger_min_score,
        score=None if reading is None else int(reading.value),
        taken_at=None if reading is None else reading.taken_at,
        due_at=None if reading is None else reading.due_at,
        at=at, clock=lambda moment: f"{timezone.localtime(moment, tz):%H:%M}",
    )  # fmt: skip


def score_triggers(admission_ids, *, at) -> dict[int, list[registry.ScoreTrigger]]:
    """The registry's score-trigger source (facility/registry.py): each admission's active,
    verified PRN orders with a score trigger, linked to their row on the med pass. One query."""
    orders = (
        Order.objects.active_at(at)
        .filter(
            admission_id__in=list(admission_ids),
            frequency=Frequency.PRN,
            verified_at__isnull=False,
        )
        .filter(~Q(prn_trigger_scale=""))
        .select_related("medication", "admission")
        .order_by("admission_id", "prn_trigger_min_score", "medication__name")
    )
    found: dict[int, list[registry.ScoreTrigger]] = {}
    for o in orders:
        href = reverse("medications:med_pass", args=[o.admission.public_id])
        found.setdefault(o.admission_id, []).append(
            registry.ScoreTrigger(
                scale=o.prn_trigger_scale,
                min_score=o.prn_trigger_min_score,
                label=f"{o.medication.name} {o.medication.strength} — {o.dose} "
                f"{o.get_route_display()} PRN if "
                f"{triggers.trigger_label(o.prn_trigger_scale, o.prn_trigger_min_score)}",
                href=f"{href}#prn-{o.public_id}",
            )
        )
    return found
