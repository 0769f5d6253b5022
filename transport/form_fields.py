"""Fields shared by the fleet and trip forms: each names itself in every message."""

from django import forms


def whole_field(
    label: str, low: int, high: int, *, required: bool = True, pattern: str = "", **kw
) -> forms.IntegerField:
    """A whole number in [low, high]; `pattern` (e.g. "[0-9]*") brings up the digit keypad."""
    attrs = {"inputmode": "numeric"} | ({"pattern": pattern} if pattern else {})
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs=attrs),
        error_messages={
            "required": f"{label}: required.",
            "invalid": f"{label}: a whole number.",
            "min_value": f"{label}: at least {low:,}.",
            "max_value": f"{label}: at most {high:,}.",
        },
        **kw,
    )


def text_field(label: str, max_length: int, *, required: bool = True, **kw) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={"required": f"{label}: required."},
        **kw,
    )
