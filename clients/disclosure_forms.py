"""Forms of the disclosure pages (issue 16): a packet on a consent, a disclosure under another
legal basis, the client's own copy, the accounting's period. Every field is hardened by
HavenForm (length, NUL and text-direction characters, plausible dates); the rules of Part 2 are
asked of the services in clients/disclosures.py, whose field messages the views show."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from clients import disclosures
from clients.forms import local_datetime_field
from clients.models import Client, Consent, DisclosureMethod, LegalBasis
from facility.forms import HavenForm
from facility.validators import PlausibleDateValidator


def _date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[
            PlausibleDateValidator(
                label,
                future=timedelta(0),
                too_early=f"{label}: must be 1900 or later.",
                too_late=f"{label}: cannot be in the future.",
            )
        ],
        error_messages={
            "required": f"{label}: required.",
            "invalid": f"{label}: enter a valid date.",
        },
    )


def _method_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="How it is sent",
        choices=DisclosureMethod.choices,
        initial=DisclosureMethod.PRINT,
        error_messages={"invalid_choice": "How it is sent: choose from the list."},
    )


def _categories_field(choices) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Information to include",
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one category.",
            "invalid_choice": "Information to include: choose from the list.",
        },
    )


class PeriodMixin:
    """First and last day of a packet: ordered, not in the future, at most ten years."""

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None:
            today = disclosures.facility_today(self.client)
            errors = disclosures.period_errors(start, end, today=today)
            for field, message in errors.items():
                self.add_error(field, message)
        return data


def consent_label(consent: Consent, reason: str | None) -> str:
    state = f"not usable: {reason}" if reason else "usable now"
    return (
        f"{consent.get_consent_type_display()} — {consent.recipient_name} · signed "
        f"{consent.signed_on:%Y-%m-%d} ({state})"
    )


class ConsentDisclosureForm(PeriodMixin, HavenForm):
    """A packet disclosed on one of the client's consents."""

    consent = forms.ChoiceField(
        label="Consent",
        error_messages={
            "required": "Choose the consent this disclosure is made on.",
            "invalid_choice": "Choose a consent of this client.",
        },
    )
    categories = _categories_field([])
    period_start = _date_field("First day")
    period_end = _date_field("Last day")
    recipient_name = forms.CharField(label="Recipient", max_length=200)
    recipient_address = forms.CharField(label="Recipient's address", max_length=300, required=False)
    purpose = forms.CharField(label="Purpose", max_length=300)
    method = _method_field()

    def __init__(self, *args, client: Client, consents: list[Consent], **kwargs):
        self.client = client
        self.consents = {str(c.public_id): c for c in consents}
        super().__init__(*args, **kwargs)
        self.fields["consent"].choices = [("", "Choose a consent")] + [
            (pid, consent_label(c, getattr(c, "unusable", None)))
            for pid, c in self.consents.items()
        ]
        consent = self.chosen()
        covered = set(consent.categories or []) if consent else None
        self.fields["categories"].choices = [
            (c.key, c.label if covered is None or c.key in covered else f"{c.label} (not covered)")
            for c in disclosures.categories_for(consent.consent_type if consent else None)
        ]
        self.fields["recipient_name"].help_text = (
            "As the consent names them; for a consent naming a class of recipients, the actual "
            "recipient (who is logged)."
        )
        self.fields["purpose"].help_text = "As the consent states it."
        if consent is not None and consent.recipient_is_class:
            # The discloser answers for the recipient belonging to the class: a ticked box,
            # logged in the disclosure's description.
            self.fields["recipient_in_class"] = forms.BooleanField(
                label=f"I confirm the recipient is one of: {consent.recipient_name}",
                required=False,
            )
            order = list(self.fields)
            order.remove("recipient_in_class")
            order.insert(order.index("recipient_name") + 1, "recipient_in_class")
            self.order_fields(order)

    def chosen(self) -> Consent | None:
        key = self.data.get("consent") if self.is_bound else self.initial.get("consent")
        return self.consents.get(str(key or ""))

    def clean(self):
        data = super().clean()
        consent = self.consents.get(data.get("consent") or "")
        if consent is None:
            return data
        data["consent_obj"] = consent
        problems = disclosures.consent_problems(
            consent,
            recipient=data.get("recipient_name"),
            purpose=data.get("purpose"),
            categories=data.get("categories"),
        )
        for field, message in problems.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        if consent.recipient_is_class and not data.get("recipient_in_class"):
            self.add_error("recipient_in_class", disclosures.class_unconfirmed(consent))
        return data


BASIS_CHOICES = [(b.value, b.label) for b in disclosures.OTHER_BASES]


class OtherBasisForm(PeriodMixin, HavenForm):
    """A disclosure made without a consent, logged as it happens (or right after)."""

    legal_basis = forms.ChoiceField(
        label="Legal basis",
        choices=[("", "Choose the legal basis")] + BASIS_CHOICES,
        error_messages={
            "required": "Choose the legal basis of the disclosure.",
            "invalid_choice": "Legal basis: choose from the list.",
        },
    )
    recipient_name = forms.CharField(label="Recipient's name", max_length=200)
    recipient_affiliation = forms.CharField(
        label="Recipient's affiliation",
        max_length=200,
        required=False,
        help_text="The hospital, emergency service, court or agency (required for a medical "
        "emergency).",
    )
    recipient_address = forms.CharField(label="Recipient's address", max_length=300, required=False)
    basis_detail = forms.CharField(
        label="Nature of the emergency, court order reference, or agency",
        max_length=800,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for a medical emergency (its nature) and a court order (its number).",
    )
    purpose = forms.CharField(label="Purpose", max_length=300)
    disclosed_by = forms.CharField(
        label="Disclosed by",
        max_length=150,
        required=False,
        help_text="The staff member who disclosed, if not you.",
    )
    when = forms.ChoiceField(
        label="When",
        choices=[("now", "Now"), ("stated", "At the time below")],
        initial="now",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "When: choose now or a stated time."},
    )
    disclosed_at = local_datetime_field(
        "Disclosed at",
        required=False,
        validators=[
            PlausibleDateValidator(
                "Disclosed at",
                past=timedelta(days=366),
                future=timedelta(days=1),
                too_early="Disclosed at: log a disclosure within a year of it.",
                too_late="Disclosed at: cannot be in the future.",
            )
        ],
    )
    method = _method_field()
    content = forms.ChoiceField(
        label="What was disclosed",
        choices=[
            ("packet", "A record packet (PDF) built now"),
            ("description", "Described below, no file (the log keeps the SHA-256 of this text)"),
        ],
        initial="description",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "What was disclosed: choose from the list."},
    )
    description = forms.CharField(
        label="Description of the information disclosed",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    categories = _categories_field([])
    period_start = _date_field("First day", required=False)
    period_end = _date_field("Last day", required=False)

    def __init__(self, *args, client: Client, **kwargs):
        self.client = client
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(c.key, c.label) for c in disclosures.categories_for()]
        self.fields["categories"].required = False
        self.fields["categories"].label = "Packet: information to include"
        self.fields["period_start"].label = "Packet: first day"
        self.fields["period_end"].label = "Packet: last day"

    def clean(self):
        data = super().clean()
        basis = data.get("legal_basis")
        if basis in disclosures.DETAIL_REQUIRED and not (data.get("basis_detail") or "").strip():
            label = disclosures.BASIS_DETAIL_LABEL[LegalBasis(basis)]
            self.add_error("basis_detail", f"{label}: required for this legal basis.")
        if data.get("when") == "stated":
            at = data.get("disclosed_at")
            if at is None and "disclosed_at" not in self.errors:
                self.add_error("disclosed_at", "Disclosed at: give the time of the disclosure.")
            elif at is not None and at > timezone.now():
                self.add_error("disclosed_at", "Disclosed at: cannot be in the future.")
        else:
            data["disclosed_at"] = None
        if data.get("content") == "packet":
            if not data.get("categories") and "categories" not in self.errors:
                self.add_error("categories", "Choose at least one category.")
            for name in ("period_start", "period_end"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, f"{self.fields[name].label}: required for a packet.")
        elif (
            data.get("content") == "description"
            and not (data.get("description") or "").strip()
            and "description" not in self.errors
        ):
            self.add_error("description", "Describe the information disclosed.")
        return data


class ClientCopyForm(PeriodMixin, HavenForm):
    """The client's own copy: a period and how it is handed over."""

    period_start = _date_field("First day")
    period_end = _date_field("Last day")
    method = _method_field()

    def __init__(self, *args, client: Client, **kwargs):
        self.client = client
        super().__init__(*args, **kwargs)


class AccountingForm(HavenForm):
    """The accounting's period (GET)."""

    period_start = _date_field("From")
    period_end = _date_field("To")

    def __init__(self, *args, client: Client, **kwargs):
        self.client = client
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_start", "From must be on or before To.")
        elif start and end and (end - start).days > disclosures.MAX_PERIOD_DAYS:
            self.add_error("period_start", "An accounting covers at most ten years.")
        return data
