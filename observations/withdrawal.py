"""CIWA-Ar and COWS item texts, and the withdrawal protocol's due math (specs/scales.md). Pure: no
Django import.

The item texts are the published instruments' questions and anchors (Sullivan et al. 1989,
CIWA-Ar; Wesson & Ling 2003, COWS), keyed by the item keys of observations.scales. The scoring
itself (allowed values, totals, bands) is observations.scales; this module only says what each
value means and when the next assessment is owed.

Haven's choices (*default*, documented here and in the report):
- The first assessment of a protocol is owed at once (at `started_at`): nobody knows the score.
- "Due soon" starts 15 minutes before the due time; a reassessment is "overdue", and alerts,
  15 minutes after it (the same grace a round block or a dose window gives).
- COWS has no published tight rule in the spec: Haven reassesses every hour from 13 (the
  "moderate" band, where symptom-triggered treatment usually starts), every 4 hours below.
- A client off site on leave owes nothing while away; an assessment that fell due during the
  leave (or is owed when they come back) is due at once on return (the safer reading).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from observations.scales import CIWA_ITEMS, CIWA_TIGHT_FROM, COWS_ITEMS, reassess_due


@dataclass(frozen=True)
class Item:
    """One item of a scale: its label, what to ask or observe, and the anchor text of the values
    the instrument describes (other allowed values lie between two anchors)."""

    key: str
    label: str
    prompt: str
    anchors: dict[int, str]


def _items(*items: Item) -> dict[str, Item]:
    return {item.key: item for item in items}


_HALLUCINATIONS = {
    4: "moderately severe hallucinations",
    5: "severe hallucinations",
    6: "extremely severe hallucinations",
    7: "continuous hallucinations",
}

CIWA_TEXT: dict[str, Item] = _items(
    Item("nausea_vomiting", "Nausea and vomiting",
         "Ask “Do you feel sick to your stomach? Have you vomited?” Observation.",
         {0: "no nausea and no vomiting", 1: "mild nausea with no vomiting",
          4: "intermittent nausea with dry heaves",
          7: "constant nausea, frequent dry heaves and vomiting"}),
    Item("tremor", "Tremor", "Arms extended and fingers spread apart. Observation.",
         {0: "no tremor", 1: "not visible, but can be felt fingertip to fingertip",
          4: "moderate, with arms extended", 7: "severe, even with arms not extended"}),
    Item("paroxysmal_sweats", "Paroxysmal sweats", "Observation.",
         {0: "no sweat visible", 1: "barely perceptible sweating, palms moist",
          4: "beads of sweat obvious on forehead", 7: "drenching sweats"}),
    Item("anxiety", "Anxiety", "Ask “Do you feel nervous?” Observation.",
         {0: "no anxiety, at ease", 1: "mildly anxious",
          4: "moderately anxious, or guarded, so anxiety is inferred",
          7: "equivalent to acute panic states as seen in severe delirium or acute "
             "schizophrenic reactions"}),
    Item("agitation", "Agitation", "Observation.",
         {0: "normal activity", 1: "somewhat more than normal activity",
          4: "moderately fidgety and restless",
          7: "paces back and forth during most of the interview, or constantly thrashes about"}),
    Item("tactile_disturbances", "Tactile disturbances",
         "Ask “Have you any itching, pins and needles sensations, any burning, any numbness, or "
         "do you feel bugs crawling on or under your skin?” Observation.",
         {0: "none", 1: "very mild itching, pins and needles, burning or numbness",
          2: "mild itching, pins and needles, burning or numbness",
          3: "moderate itching, pins and needles, burning or numbness", **_HALLUCINATIONS}),
    Item("auditory_disturbances", "Auditory disturbances",
         "Ask “Are you more aware of sounds around you? Are they harsh? Do they frighten you? "
         "Are you hearing anything that is disturbing to you? Are you hearing things you know "
         "are not there?” Observation.",
         {0: "not present", 1: "very mild harshness or ability to frighten",
          2: "mild harshness or ability to frighten",
          3: "moderate harshness or ability to frighten", **_HALLUCINATIONS}),
    Item("visual_disturbances", "Visual disturbances",
         "Ask “Does the light appear to be too bright? Is its color different? Does it hurt "
         "your eyes? Are you seeing anything that is disturbing to you? Are you seeing things "
         "you know are not there?” Observation.",
         {0: "not present", 1: "very mild sensitivity", 2: "mild sensitivity",
          3: "moderate sensitivity", **_HALLUCINATIONS}),
    Item("headache_fullness_in_head", "Headache, fullness in head",
         "Ask “Does your head feel different? Does it feel like there is a band around your "
         "head?” Do not rate for dizziness or lightheadedness; otherwise rate severity.",
         {0: "not present", 1: "very mild", 2: "mild", 3: "moderate", 4: "moderately severe",
          5: "severe", 6: "very severe", 7: "extremely severe"}),
    Item("orientation_clouding_of_sensorium", "Orientation and clouding of sensorium",
         "Ask “What day is this? Where are you? Who am I?”",
         {0: "oriented and can do serial additions",
          1: "cannot do serial additions or is uncertain about date",
          2: "disoriented for date by no more than 2 calendar days",
          3: "disoriented for date by more than 2 calendar days",
          4: "disoriented for place and/or person"}),
)  # fmt: skip

COWS_TEXT: dict[str, Item] = _items(
    Item("resting_pulse_rate", "Resting pulse rate",
         "Beats per minute, measured after the client has been sitting or lying for one minute.",
         {0: "pulse rate 80 or below", 1: "pulse rate 81–100", 2: "pulse rate 101–120",
          4: "pulse rate greater than 120"}),
    Item("sweating", "Sweating",
         "Over the past half hour, not accounted for by room temperature or activity.",
         {0: "no report of chills or flushing", 1: "subjective report of chills or flushing",
          2: "flushed or observable moistness on face", 3: "beads of sweat on brow or face",
          4: "sweat streaming off face"}),
    Item("restlessness", "Restlessness", "Observation during the assessment.",
         {0: "able to sit still", 1: "reports difficulty sitting still, but is able to do so",
          3: "frequent shifting or extraneous movements of legs or arms",
          5: "unable to sit still for more than a few seconds"}),
    Item("pupil_size", "Pupil size", "Observation.",
         {0: "pupils pinned or normal size for room light",
          1: "pupils possibly larger than normal for room light",
          2: "pupils moderately dilated",
          5: "pupils so dilated that only the rim of the iris is visible"}),
    Item("bone_or_joint_aches", "Bone or joint aches",
         "If the client had pain before, score only the part attributed to opioid withdrawal.",
         {0: "not present", 1: "mild diffuse discomfort",
          2: "reports severe diffuse aching of joints or muscles",
          4: "rubbing joints or muscles and unable to sit still because of discomfort"}),
    Item("runny_nose_or_tearing", "Runny nose or tearing",
         "Not accounted for by cold symptoms or allergies.",
         {0: "not present", 1: "nasal stuffiness or unusually moist eyes",
          2: "nose running or tearing",
          4: "nose constantly running or tears streaming down cheeks"}),
    Item("gi_upset", "GI upset", "Over the last half hour.",
         {0: "no GI symptoms", 1: "stomach cramps", 2: "nausea or loose stool",
          3: "vomiting or diarrhea", 5: "multiple episodes of diarrhea or vomiting"}),
    Item("tremor", "Tremor", "Observation of outstretched hands.",
         {0: "no tremor", 1: "tremor can be felt, but not observed",
          2: "slight tremor observable", 4: "gross tremor or muscle twitching"}),
    Item("yawning", "Yawning", "Observation during the assessment.",
         {0: "no yawning", 1: "yawning once or twice during the assessment",
          2: "yawning three or more times during the assessment",
          4: "yawning several times a minute"}),
    Item("anxiety_or_irritability", "Anxiety or irritability", "Observation and report.",
         {0: "none", 1: "reports increasing irritability or anxiousness",
          2: "obviously irritable or anxious",
          4: "so irritable or anxious that taking part in the assessment is difficult"}),
    Item("gooseflesh_skin", "Gooseflesh skin", "Observation.",
         {0: "skin is smooth",
          3: "piloerection of skin can be felt or hairs standing up on arms",
          5: "prominent piloerection"}),
)  # fmt: skip

ITEM_TEXT = {"ciwa_ar": CIWA_TEXT, "cows": COWS_TEXT}
ALLOWED = {"ciwa_ar": CIWA_ITEMS, "cows": COWS_ITEMS}
SCALE_NAMES = {"ciwa_ar": "CIWA-Ar", "cows": "COWS"}
BAND_NAMES = {
    "none": "none",
    "minimal": "minimal",
    "mild": "mild",
    "moderate": "moderate",
    "moderately_severe": "moderately severe",
    "severe": "severe",
    "incomplete": "incomplete",
}
# The bands that alert the nurse and the clinician when a score lands in them.
SEVERE_BANDS = {"ciwa_ar": {"severe"}, "cows": {"severe"}}

# Protocol defaults per scale: (every_hours, tight_from, tight_hours). CIWA-Ar is the spec's;
# COWS is Haven's choice (module docstring).
COWS_TIGHT_FROM = 13
PROTOCOL_DEFAULTS = {"ciwa_ar": (4, CIWA_TIGHT_FROM, 1), "cows": (4, COWS_TIGHT_FROM, 1)}

FIRST_DUE_AFTER = timedelta(0)
DUE_SOON = timedelta(minutes=15)
OVERDUE_AFTER = timedelta(minutes=15)


def anchor_text(scale: str, key: str, value: int) -> str:
    """The anchor of `value`, or "" for a value between two anchors."""
    return ITEM_TEXT[scale][key].anchors.get(value, "")


def next_due(
    *,
    started_at: datetime,
    every_hours: int,
    tight_from: int | None,
    tight_hours: int,
    last_at: datetime | None = None,
    last_total: int | None = None,
    leaves: list[tuple[datetime, datetime | None]] = (),  # type: ignore[assignment]
) -> datetime | None:
    """When the protocol's next assessment is owed (UTC).

    The first at `started_at` (+ FIRST_DUE_AFTER); then `scales.reassess_due` from the last
    assessment. Times are elapsed hours, never wall-clock hours: a 4-hour interval across a DST
    change is 4 real hours. A due time falling inside a leave `(left_at, returned_at)` moves to
    the return; while the client is still away (`returned_at` None) nothing is owed (None)."""
    if last_at is None:
        due = started_at.astimezone(UTC) + FIRST_DUE_AFTER
    else:
        due = reassess_due(
            last_at.astimezone(UTC),
            last_total,
            every_hours=every_hours,
            tight_from=tight_from,
            tight_hours=tight_hours,
        )
    return owed_after_leaves(due, leaves)


def owed_after_leaves(
    due: datetime, leaves: list[tuple[datetime, datetime | None]]
) -> datetime | None:
    """`due` moved past the leaves it falls in: owed at once on return; None while away."""
    for left_at, returned_at in sorted(leaves, key=lambda lv: lv[0]):
        if left_at <= due and (returned_at is None or due < returned_at):
            if returned_at is None:
                return None
            due = returned_at.astimezone(UTC)
    return due


def due_state(now: datetime, due: datetime | None) -> str:
    """ "off_site" (nothing owed while away), "upcoming", "due_soon" (within DUE_SOON), "due"
    (from the due time until OVERDUE_AFTER past it) or "overdue"."""
    if due is None:
        return "off_site"
    if now < due - DUE_SOON:
        return "upcoming"
    if now < due:
        return "due_soon"
    if now < due + OVERDUE_AFTER:
        return "due"
    return "overdue"


def trend(totals: list[int]) -> str:
    """ "up", "down" or "same": the newest score against the one before it (scores oldest
    first); "" with fewer than two."""
    if len(totals) < 2:
        return ""
    if totals[-1] > totals[-2]:
        return "up"
    if totals[-1] < totals[-2]:
        return "down"
    return "same"
