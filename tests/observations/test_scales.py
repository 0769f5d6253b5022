"""observations/scales.py against the tables and examples of specs/scales.md, row by row."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from observations import scales
from observations.scales import CIWA_ITEMS, COWS_ITEMS, ciwa_ar, cows, news2

NORMAL = {"rr": 16, "spo2": 98, "on_oxygen": False, "sbp": 120, "hr": 72, "acvpu": "A",
          "temp_c": Decimal("37.0")}  # fmt: skip


def _news2(**changes):
    return news2(**{**NORMAL, **changes})


# --- the spec's examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        (dict(rr=16, spo2=98, on_oxygen=False, sbp=120, hr=72, acvpu="A", temp_c=37.0), 0, "low"),
        (dict(rr=22, spo2=95, on_oxygen=False, sbp=105, hr=95, acvpu="A", temp_c=38.3), 6,
         "medium"),
        (dict(rr=16, spo2=97, on_oxygen=False, sbp=125, hr=80, acvpu="C", temp_c=36.8), 3,
         "low-medium"),
        (dict(rr=9, spo2=92, on_oxygen=False, sbp=91, hr=41, acvpu="A", temp_c=35.1), 7, "high"),
    ],
)  # fmt: skip
def test_news2_spec_examples(values, total, band):
    result = news2(**values)
    assert (result.total, result.band) == (total, band)


def test_fahrenheit_example_scores_one_for_temperature():
    assert scales.f_to_c(Decimal("96.8")) == Decimal("36.0")
    assert _news2(temp_c=scales.f_to_c("96.8")).subscores["temp_c"] == 1


@pytest.mark.parametrize(
    ("fahrenheit", "celsius"),
    [("98.6", "37.0"), ("100.4", "38.0"), ("95.0", "35.0"), ("102.2", "39.0"), ("96.89", "36.1"),
     ("32", "0.0"), ("99.05", "37.3")],
)  # fmt: skip
def test_f_to_c_rounds_half_up_to_a_tenth(fahrenheit, celsius):
    assert scales.f_to_c(fahrenheit) == Decimal(celsius)


# --- NEWS2 Chart 1, every boundary -------------------------------------------------------------

RR = [(4, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (60, 3)]
SPO2_1 = [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
SBP = [(50, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
HR = [(20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
      (130, 2), (131, 3), (250, 3)]  # fmt: skip
TEMP = [("30.0", 3), ("35.0", 3), ("35.1", 1), ("36.0", 1), ("36.1", 0), ("38.0", 0), ("38.1", 1),
        ("39.0", 1), ("39.1", 2), ("43.0", 2)]  # fmt: skip


@pytest.mark.parametrize(("value", "score"), RR)
def test_respiration_rate(value, score):
    assert _news2(rr=value).subscores["rr"] == score


@pytest.mark.parametrize(("value", "score"), SPO2_1)
def test_spo2_scale_1(value, score):
    assert _news2(spo2=value).subscores["spo2"] == score


@pytest.mark.parametrize(
    ("value", "on_oxygen", "score"),
    [(83, False, 3), (84, False, 2), (85, True, 2), (86, False, 1), (87, True, 1), (88, True, 0),
     (92, True, 0), (93, False, 0), (100, False, 0), (93, True, 1), (94, True, 1), (95, True, 2),
     (96, True, 2), (97, True, 3), (100, True, 3)],
)  # fmt: skip
def test_spo2_scale_2(value, on_oxygen, score):
    assert _news2(spo2=value, on_oxygen=on_oxygen, spo2_scale=2).subscores["spo2"] == score


def test_oxygen_scores_two_and_air_zero():
    assert _news2(on_oxygen=True).subscores["on_oxygen"] == 2
    assert _news2(on_oxygen=False).subscores["on_oxygen"] == 0


@pytest.mark.parametrize(("value", "score"), SBP)
def test_systolic(value, score):
    assert _news2(sbp=value).subscores["sbp"] == score


@pytest.mark.parametrize(("value", "score"), HR)
def test_pulse(value, score):
    assert _news2(hr=value).subscores["hr"] == score


@pytest.mark.parametrize(("value", "score"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness(value, score):
    assert _news2(acvpu=value).subscores["acvpu"] == score


@pytest.mark.parametrize(("value", "score"), TEMP)
def test_temperature(value, score):
    assert _news2(temp_c=Decimal(value)).subscores["temp_c"] == score


@pytest.mark.parametrize(
    ("changes", "total", "band", "red"),
    [
        ({}, 0, "low", False),
        ({"hr": 95}, 1, "low", False),
        ({"hr": 95, "rr": 22, "temp_c": Decimal("38.5")}, 4, "low", False),
        ({"acvpu": "V"}, 3, "low-medium", True),
        ({"sbp": 90, "hr": 95}, 4, "low-medium", True),
        ({"hr": 115, "rr": 22, "temp_c": Decimal("38.5")}, 5, "medium", False),
        ({"acvpu": "P", "rr": 22}, 5, "medium", True),
        ({"hr": 115, "rr": 22, "temp_c": Decimal("39.5")}, 6, "medium", False),
        ({"hr": 115, "rr": 22, "temp_c": Decimal("39.5"), "spo2": 95}, 7, "high", False),
        ({"rr": 30, "spo2": 85, "on_oxygen": True, "sbp": 85, "hr": 140, "acvpu": "U",
          "temp_c": Decimal("35.0")}, 20, "high", True),
    ],
)  # fmt: skip
def test_total_and_band(changes, total, band, red):
    result = _news2(**changes)
    assert (result.total, result.band, result.red) == (total, band, red)


def test_response_text_follows_the_band():
    assert "Routine" in _news2().response
    assert "within 1 hour" in _news2(hr=95).response
    assert "prescriber" in _news2(acvpu="V").response
    assert "Call the prescriber now" in _news2(hr=115, rr=22, temp_c=Decimal("38.5")).response
    assert "emergency" in _news2(hr=140, rr=30, spo2=90).response.lower()


@pytest.mark.parametrize("missing", ["rr", "spo2", "on_oxygen", "sbp", "hr", "acvpu", "temp_c"])
def test_any_missing_parameter_leaves_the_set_incomplete(missing):
    result = _news2(**{missing: None})
    assert result.total is None
    assert result.band == "incomplete"
    assert result.missing == [missing]


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        _news2(acvpu="X")
    with pytest.raises(ValueError):
        _news2(spo2_scale=3)
    with pytest.raises(ValueError):
        _news2(on_oxygen="False")  # a string would otherwise read as oxygen
    assert _news2(on_oxygen=1).subscores["on_oxygen"] == 2


# --- vital-sign table: plausible and notify ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [("hr", 20, 250), ("rr", 4, 60), ("sbp", 50, 300), ("dbp", 20, 200), ("temp_c", "30.0", "43.0"),
     ("spo2", 50, 100), ("pain", 0, 10)],
)  # fmt: skip
def test_plausible_ranges(key, low, high):
    below = Decimal(str(low)) - (Decimal("0.1") if key == "temp_c" else 1)
    above = Decimal(str(high)) + (Decimal("0.1") if key == "temp_c" else 1)
    extra = {"sbp": 300} if key == "dbp" else {}
    assert scales.implausible({key: low, **extra}) == {}
    assert scales.implausible({key: high, **extra}) == {}
    assert key in scales.implausible({key: below, **extra})
    assert key in scales.implausible({key: above, **extra})


def test_implausible_message_names_the_field_and_the_range():
    message = scales.implausible({"hr": 400})["hr"]
    assert "Heart rate" in message and "20–250" in message


def test_diastolic_must_be_below_systolic():
    assert "dbp" in scales.implausible({"sbp": 120, "dbp": 120})
    assert scales.implausible({"sbp": 120, "dbp": 119}) == {}


@pytest.mark.parametrize(
    ("key", "quiet", "flagged"),
    [("hr", [50, 120], [49, 121]), ("rr", [10, 24], [9, 25]), ("sbp", [91, 179], [90, 180]),
     ("dbp", [119], [120]), ("temp_c", ["35.1", "37.9"], ["35.0", "38.0"]), ("spo2", [92], [91]),
     ("pain", [6], [7])],
)  # fmt: skip
def test_notify_thresholds(key, quiet, flagged):
    for value in quiet:
        assert scales.flags({key: Decimal(str(value))}) == [], value
    for value in flagged:
        assert scales.flags({key: Decimal(str(value))}) == [key], value


# --- CIWA-Ar -----------------------------------------------------------------------------------


def _ciwa(values, profile="default"):
    return ciwa_ar(dict(zip(CIWA_ITEMS, values, strict=True)), profile)


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [([0] * 10, 0, "minimal"), ([1, 1, 1, 1, 1, 1, 0, 0, 1, 0], 7, "minimal"),
     ([1, 1, 1, 1, 1, 1, 0, 0, 1, 1], 8, "mild"), ([3, 3, 2, 3, 2, 1, 0, 0, 2, 0], 16, "moderate"),
     ([4, 4, 4, 4, 2, 1, 0, 0, 2, 0], 21, "severe"), ([7] * 9 + [4], 67, "severe")],
)  # fmt: skip
def test_ciwa_spec_examples(values, total, band):
    result = _ciwa(values)
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "default", "alternative"),
    [(0, "minimal", "minimal"), (7, "minimal", "minimal"), (8, "mild", "minimal"),
     (9, "mild", "minimal"), (10, "mild", "mild"), (15, "mild", "mild"),
     (16, "moderate", "moderate"),
     (20, "moderate", "moderate"), (21, "severe", "severe")],
)  # fmt: skip
def test_ciwa_profiles(total, default, alternative):
    assert scales.band_for("ciwa_ar", total) == default
    assert scales.band_for("ciwa_ar", total, "alternative") == alternative


def test_ciwa_orientation_stops_at_four():
    assert _ciwa([0] * 9 + [4]).total == 4
    with pytest.raises(ValueError):
        _ciwa([0] * 9 + [5])
    with pytest.raises(ValueError):
        _ciwa([8] + [0] * 9)
    with pytest.raises(ValueError):
        _ciwa([-1] + [0] * 9)


def test_ciwa_missing_item_is_incomplete():
    items = dict(zip(CIWA_ITEMS, [1] * 10, strict=True))
    del items["tremor"]
    result = ciwa_ar(items)
    assert (result.total, result.band, result.missing) == (None, "incomplete", ["tremor"])


def test_ciwa_rejects_unknown_items_and_non_integers():
    with pytest.raises(ValueError):
        ciwa_ar({**dict.fromkeys(CIWA_ITEMS, 0), "pupil_size": 1})
    with pytest.raises(ValueError):
        ciwa_ar({**dict.fromkeys(CIWA_ITEMS, 0), "tremor": "3"})
    with pytest.raises(ValueError):
        ciwa_ar({**dict.fromkeys(CIWA_ITEMS, 0), "tremor": True})


# --- COWS --------------------------------------------------------------------------------------


def _cows(values):
    return cows(dict(zip(COWS_ITEMS, values, strict=True)))


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [([0] * 11, 0, "none"), ([1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0], 4, "none"),
     ([1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0], 5, "mild"),
     ([2, 2, 3, 1, 2, 1, 1, 1, 0, 0, 0], 13, "moderate"),
     ([4, 2, 3, 2, 2, 2, 2, 2, 2, 1, 3], 25, "moderately_severe"),
     ([4, 4, 5, 2, 4, 2, 3, 2, 2, 4, 5], 37, "severe"),
     ([4, 4, 5, 5, 4, 4, 5, 4, 4, 4, 5], 48, "severe")],
)  # fmt: skip
def test_cows_spec_examples(values, total, band):
    result = _cows(values)
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [(4, "none"), (5, "mild"), (12, "mild"), (13, "moderate"), (24, "moderate"),
     (25, "moderately_severe"), (36, "moderately_severe"), (37, "severe")],
)  # fmt: skip
def test_cows_band_edges(total, band):
    assert scales.band_for("cows", total) == band


@pytest.mark.parametrize(("key", "allowed"), list(COWS_ITEMS.items()))
def test_cows_offers_only_the_allowed_values(key, allowed):
    for value in range(0, 7):
        items = {**dict.fromkeys(COWS_ITEMS, 0), key: value}
        if value in allowed:
            assert cows(items).total == value
        else:
            with pytest.raises(ValueError):
                cows(items)


@pytest.mark.parametrize(
    ("bpm", "item"), [(50, 0), (80, 0), (81, 1), (100, 1), (101, 2), (120, 2), (121, 4), (160, 4)]
)
def test_cows_pulse_item_from_bpm(bpm, item):
    assert scales.cows_pulse_item(bpm) == item


# --- reassessment ------------------------------------------------------------------------------

AT = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(("total", "hours"), [(0, 4), (7, 4), (8, 1), (12, 1), (67, 1), (None, 1)])
def test_ciwa_reassessment_default(total, hours):
    assert scales.reassess_due(AT, total) == AT + timedelta(hours=hours)


# --- C-SSRS screen version (specs/charting.md) -------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "triage"),
    [
        ({}, "none"),
        ({"q1": False, "q2": False, "q6": False}, "none"),
        ({"q1": True}, "low"),
        ({"q2": True}, "low"),
        ({"q1": True, "q2": True}, "low"),
        ({"q2": True, "q3": True}, "moderate"),
        ({"q2": True, "q4": True}, "high"),
        ({"q2": True, "q5": True}, "high"),
        ({"q2": True, "q3": True, "q4": True, "q5": True}, "high"),
        ({"q6": True, "q6_recent": True}, "high"),
        ({"q6": True, "q6_recent": False}, "moderate"),
        ({"q6": True}, "moderate"),  # when is unknown: not "recent", still moderate
        ({"q1": True, "q6": True, "q6_recent": True}, "high"),
        ({"q2": True, "q3": True, "q6": True}, "moderate"),
        # 3-5 are asked only after a yes to 2: without it they do not count.
        ({"q3": True}, "none"),
        ({"q4": True, "q5": True}, "none"),
        ({"q1": True, "q4": True}, "low"),
        # "recent" without any behavior is not behavior.
        ({"q6_recent": True}, "none"),
        ({"q1": None, "q2": 1, "q4": 0}, "low"),
    ],
)
def test_cssrs_triage_follows_the_spec(answers, triage):
    assert scales.cssrs_screen(answers) == triage


def test_cssrs_every_combination_against_the_spec_in_words():
    """All 128 combinations, judged by the spec's sentence read literally."""
    import itertools

    for values in itertools.product([False, True], repeat=7):
        a = dict(zip(scales.CSSRS_KEYS, values, strict=True))
        q3, q4, q5 = (a[k] and a["q2"] for k in ("q3", "q4", "q5"))
        if q4 or q5 or (a["q6"] and a["q6_recent"]):
            expected = "high"
        elif q3 or (a["q6"] and not a["q6_recent"]):
            expected = "moderate"
        elif a["q1"] or a["q2"]:
            expected = "low"
        else:
            expected = "none"
        assert scales.cssrs_screen(a) == expected, a


@pytest.mark.parametrize("answers", [{"q7": True}, {"Q4": True}, {"q2": "yes"}, {"q6": 2}])
def test_cssrs_refuses_what_is_not_a_yes_or_no_answer(answers):
    with pytest.raises(ValueError):
        scales.cssrs_screen(answers)
