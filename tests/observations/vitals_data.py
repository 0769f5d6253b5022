"""Vital-sign sets for the review tests, written straight to the model with the NEWS2 and flags
scales.py gives (the services refuse back-dated sets, and these tests need a stay's history)."""

from datetime import timedelta
from decimal import Decimal

from observations import scales
from observations.models import VitalSigns

NORMAL = {"sbp": 120, "dbp": 78, "hr": 72, "rr": 16, "temp_c": Decimal("36.8"), "spo2": 98,
          "on_oxygen": False, "acvpu": "A"}  # fmt: skip


def vitals_set(admission, taken_at, by, **values) -> VitalSigns:
    """A set taken at `taken_at` (normal values unless given; None leaves a value out)."""
    v = {**NORMAL, **values}
    if "temp_c" in values and values["temp_c"] is not None:
        v["temp_c"] = Decimal(str(values["temp_c"]))
    struck_reason = v.pop("struck_reason", "")
    news = scales.news2(rr=v["rr"], spo2=v["spo2"], on_oxygen=v["on_oxygen"], sbp=v["sbp"],
                        hr=v["hr"], acvpu=v["acvpu"] or None, temp_c=v["temp_c"])  # fmt: skip
    row = VitalSigns.objects.create(
        admission=admission,
        taken_at=taken_at,
        recorded_at=taken_at + timedelta(minutes=2),
        recorded_by=by,
        news2_total=news.total,
        news2_band="" if news.band == "incomplete" else news.band,
        news2_red=news.total is not None and news.red,
        flags=",".join(scales.flags({k: x for k, x in v.items() if k in scales.VITALS})),
        struck_at=taken_at + timedelta(minutes=5) if struck_reason else None,
        struck_by=by if struck_reason else None,
        struck_reason=struck_reason,
        **v,
    )
    return row
