"""HTTP input for Part 2 consents, their revocation, and amendment requests (issue 16).

The consent form leaves every element optional to Django so that a missing one is refused by
`clients.consents.consent_errors`, whose message names the element of §2.31 on its field
("Missing element 7: an expiration date or event."). The service checks everything again.
"""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError

from clients import consents
from clients.forms import local_datetime_field
from clients.models import ConsentExpiry, ConsentType, SignatureKind
from facility.forms import HavenForm
from facility.validators import PlausibleDateValidator

SIGNERS = [("client", "The client"), (consents.REPRESENTATIVE, "An authorized representative")]
DECISIONS = [
    ("accept", "Accept: append the amendment"),
    ("deny", "Deny: append the request and the denial"),
]


def _date(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": f"{label}: enter a valid date."},
        **kwargs,
    )


def _text(label: str, max_length: int, *, textarea: bool = False, **kwargs) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3}) if textarea else forms.TextInput()
    return forms.CharField(
        label=label, max_length=max_length, required=False, widget=widget, **kwargs
    )


def _choice(label: str, choices, *, radio: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.RadioSelect if radio else forms.Select,
        error_messages={"invalid_choice": f"{label}: choose from the list."},
    )


class ConsentForm(HavenForm):
    consent_type = _choice("Type of consent", ConsentType.choices)
    client_name = _text("Client's name (element 1)", 170)
    program_name = _text("Program that may disclose (element 2)", 200)
    categories = forms.MultipleChoiceField(
        label="What may be disclosed (element 3)",
        choices=consents.category_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Categories: choose from the list."},
    )
    information_detail = _text(
        "More detail on what may be disclosed", 2000, textarea=True,
        help_text="Optional: dates, specific documents. “All records” alone is not specific.",
    )  # fmt: skip
    recipient_name = _text(
        "Recipient (element 4)", 200,
        help_text="Names, or a class (TPO: “my treating providers, health plans, third-party "
        "payers, and people helping to operate this program”).",
    )  # fmt: skip
    recipient_is_class = forms.BooleanField(
        label="This names a class of recipients",
        required=False,
        help_text="Each disclosure on this consent then names the actual recipient, who is "
        "logged and shown in the accounting.",
    )
    recipient_address = _text("Recipient's address", 300)
    purpose = _text(
        "Purpose of the disclosure (element 5)", 300,
        help_text="“At the request of the patient” is enough when the client asks.",
    )  # fmt: skip
    revocation_explained = forms.BooleanField(
        label="The client was told they may revoke this consent in writing at any time, that "
        "revoking does not undo disclosures already made, and how to revoke (element 6)",
        required=False,
    )
    expiry = _choice("Expires (element 7)", ConsentExpiry.choices)
    expires_on = _date(
        "Expiration date",
        validators=[
            # Out of the window, the message states the rule consent_errors applies exactly.
            PlausibleDateValidator(
                "Expiration date",
                future=timedelta(days=366 * (consents.MAX_YEARS + 1)),
                too_early="Expiration date: already past; this consent would never be usable.",
                too_late=f"Expiration date: at most {consents.MAX_YEARS} years after the date "
                "signed.",
            )
        ],
    )
    signature_kind = _choice("Signature (element 8)", SignatureKind.choices)
    signature = forms.CharField(
        label="Signature", required=False, max_length=consents.SIGNATURE_MAX,
        widget=forms.HiddenInput(attrs={"data-signature-value": ""}),
    )  # fmt: skip
    signed_copy = forms.FileField(
        label="Signed paper copy (PDF, JPEG or PNG, up to 5 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
    signer = _choice("Signed by", SIGNERS)
    signed_by_name = _text("Name of the person signing", 170)
    signer_role = _text(
        "Representative's role", 80, help_text="E.g. legal guardian, health care proxy."
    )
    signed_on = _date(
        "Date signed (element 9)",
        validators=[
            PlausibleDateValidator(
                "Date signed", past=timedelta(days=366 * consents.MAX_YEARS),
                future=timedelta(days=1),
                too_early=f"Date signed: at most {consents.MAX_YEARS} years ago (a consent lasts "
                f"at most {consents.MAX_YEARS} years).",
                too_late="Date signed: cannot be after today.",
            )
        ],
    )  # fmt: skip
    consequences_explained = forms.BooleanField(
        label="Consequences of refusing to sign: the client was told that treatment does not "
        "depend on signing, and what refusing means for payment and coordination of care",
        required=False,
    )
    redisclosure_explained = forms.BooleanField(
        label="Redisclosure: the client was told that records disclosed under this consent may "
        "be redisclosed by the recipient and may no longer be protected by 42 CFR Part 2",
        required=False,
    )

    def __init__(self, *args, client, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.today = today
        self.fields["categories"].choices = consents.category_choices()
        self.initial.setdefault("client_name", client.legal_name)
        self.initial.setdefault("program_name", client.facility.name)
        self.initial.setdefault("signed_by_name", client.legal_name)
        self.initial.setdefault("signer", "client")
        self.initial.setdefault("signature_kind", SignatureKind.DRAWN)
        self.initial.setdefault("signed_on", today)
        self.initial.setdefault("expiry", ConsentExpiry.DATE)
        self.fields["signed_on"].widget.attrs["max"] = today.isoformat()

    def clean_signed_copy(self):
        upload = self.cleaned_data.get("signed_copy")
        if not upload:
            return b""
        if upload.size > consents.SIGNED_COPY_MAX:
            raise ValidationError("Signed copy: at most 5 MB.")
        content = upload.read()
        if consents.signed_copy_type(content) is None:
            raise ValidationError("Signed copy: a PDF, JPEG or PNG file.")
        return content

    def service_data(self) -> dict:
        """The cleaned data as consents.consent_create takes it."""
        data = dict(self.cleaned_data)
        data["signature_path"] = data.pop("signature", "") or ""
        return data

    def clean(self):
        cleaned = super().clean()
        data = self.service_data()
        raw = data["signature_path"]
        data["signature_raw"] = raw
        data["signature_path"] = consents.signature_path(raw) if raw else ""
        for name, messages in consents.consent_errors(
            data, client=self.client, today=self.today
        ).items():
            if name in self.errors:
                continue  # the field's own message already says what is wrong
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class RevokeForm(HavenForm):
    """The revocation of `consent`: received between the day it was signed and now, said in one
    message stating that range (consents.revocation_range_message), here and in the service."""

    revoked_at = local_datetime_field(
        "Received at",
        required=False,
        help_text="Leave empty for now. A revocation takes effect when it is received.",
    )
    note = forms.CharField(
        label="Note",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Note: say how the revocation was received."},
        help_text="How it was received (a letter, said to staff) and anything the team needs.",
    )

    def __init__(self, *args, consent, **kwargs):
        super().__init__(*args, **kwargs)
        message = consents.revocation_range_message(consent)
        # Far dates get the same message as the service's exact check: one range, stated once.
        self.fields["revoked_at"].validators = [
            PlausibleDateValidator(
                "Received at",
                past=timedelta(days=366 * (consents.MAX_YEARS + 1)),
                future=timedelta(days=1),
                too_early=message,
                too_late=message,
            )
        ]


class AmendmentForm(HavenForm):
    category = forms.ChoiceField(
        label="Which part of the record",
        choices=consents.category_choices,
        error_messages={
            "required": "Which part of the record: choose one.",
            "invalid_choice": "Which part of the record: choose from the list.",
        },
        help_text="The decided request goes with this part of the record when it is disclosed, "
        "and into the client's own copy.",
    )
    record_description = forms.CharField(
        label="Which record",
        max_length=300,
        error_messages={"required": "Which record: required."},
        help_text="E.g. the progress note of 3 March, the allergy list.",
    )
    requested_change = forms.CharField(
        label="Requested change, in the client's words",
        max_length=consents.AMENDMENT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Requested change: required."},
    )


class AmendmentDecisionForm(HavenForm):
    decision = forms.ChoiceField(
        label="Decision",
        choices=DECISIONS,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Decision: accept or deny.",
            "invalid_choice": "Decision: accept or deny.",
        },
    )
    text = forms.CharField(
        label="Amendment text (accepted) or reason for the denial (denied)",
        max_length=consents.AMENDMENT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Amendment text or reason: required."},
    )
