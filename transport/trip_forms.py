"""Forms of trips: the plan, departure, return, a client not going, a late sign-in, a
cancellation (issue 14 item 3). Times are entered on the facility's clock (the active time
zone). transport/services/trips.py checks the rules again; a form's job is a message on the
field, whatever is posted."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.forms import local_datetime_field
from clients.models import Admission
from facility.forms import HavenForm, harden_field
from facility.models import Role, User
from facility.validators import PlausibleDateValidator
from transport.form_fields import text_field, whole_field
from transport.models import Driver, TripPurpose, Vehicle
from transport.services.trips import DROP, MAX_STOPS, PICK_UP, RIDE, PlannedPassenger

ODOMETER_MAX = 9_999_999
HEAD_COUNT_MAX = 30
# How a client travels (services/trips.py MODES): the plan form's choice per client.
MODE_CHOICES = [
    (RIDE, "Out and back in the van"),
    (DROP, "Dropped off (pass or discharge)"),
    (PICK_UP, "Picked up from a pass"),
]


def _whole(label: str, low: int, high: int) -> forms.IntegerField:
    return whole_field(label, low, high, pattern="[0-9]*")


def _when(label: str, *, required: bool = True, past=timedelta(days=2), future=timedelta(days=8)):
    return local_datetime_field(
        label,
        required=required,
        validators=[PlausibleDateValidator(label, past=past, future=future)],
    )


class _Choice(forms.ModelChoiceField):
    """A row of this facility by its id; a malformed id is the same field message as an
    unknown one."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class DriverField(_Choice):
    """Every active driver, those who may not be assigned today marked with why (the service
    still refuses them)."""

    today = None

    def label_from_instance(self, obj: Driver) -> str:
        from transport.services.fleet import driver_assignment_blockers

        name = obj.user.full_name or obj.user.username
        blockers = driver_assignment_blockers(obj, self.today) if self.today else []
        return f"{name}: cannot drive — {' '.join(blockers)}" if blockers else name


class VehicleField(_Choice):
    def label_from_instance(self, obj: Vehicle) -> str:
        label = f"{obj.name} ({obj.seats} seats)"
        return label if obj.in_service else f"{label}: out of service"


class StaffField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.signature

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class ClientsField(forms.ModelMultipleChoiceField):
    """Clients by their stay's public id (never a database id in the page)."""

    def label_from_instance(self, obj: Admission) -> str:
        return obj.client.display_name

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


def _choice_messages(label: str, what: str) -> dict:
    message = f"{label}: {what}"
    return {
        "required": message,
        "invalid_choice": message,
        "invalid_pk_value": message,
        "invalid_list": message,
        "list": message,
    }


def candidates(facility):
    """The clients a trip can take: every open stay of the facility (the service refuses those
    off site or restricted, naming why)."""
    return (
        Admission.objects.current()
        .filter(facility=facility)
        .select_related("client", "bed")
        .order_by("client__preferred_name", "client__legal_first_name", "client__legal_last_name")
    )


class TripForm(HavenForm):
    """Plan or change a trip: purpose, destinations in order, times, driver, escorts, vehicle,
    clients (each going to one of the destinations)."""

    purpose = forms.ChoiceField(
        label="Purpose",
        choices=[("", "Choose…"), *TripPurpose.choices],
        error_messages=_choice_messages("Purpose", "choose from the list."),
    )
    purpose_note = text_field("Purpose note", 200, required=False, help_text="Needed for “Other”.")
    planned_departure = _when("Planned departure")
    planned_return = _when("Planned return")
    driver = DriverField(
        label="Driver",
        queryset=Driver.objects.none(),
        empty_label="Choose…",
        error_messages=_choice_messages("Driver", "choose a driver of this facility."),
    )
    vehicle = VehicleField(
        label="Vehicle",
        queryset=Vehicle.objects.none(),
        empty_label="Choose…",
        error_messages=_choice_messages("Vehicle", "choose a vehicle of this facility."),
    )
    escorts = StaffField(
        label="Escorts",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="One staff member per 6 clients, the driver counting.",
        error_messages=_choice_messages("Escorts", "choose staff of this facility."),
    )
    pickup = text_field(
        "Pick-up", 200, required=False, help_text="Where clients are picked up; empty: here."
    )
    removed_reason = text_field(
        "Reason for taking a client off the trip",
        200,
        required=False,
        help_text="Needed when a planned client is taken off: they stay on the trip as not going.",
    )
    passengers = ClientsField(
        label="Clients",
        queryset=Admission.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_choice_messages("Clients", "choose clients of this facility."),
    )

    def __init__(self, *args, facility, trip=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.facility = facility
        self.trip = trip
        self.fields["driver"].queryset = (
            Driver.objects.filter(facility=facility, active=True)
            .select_related("user")
            .order_by("user__full_name")
        )
        self.fields["vehicle"].queryset = Vehicle.objects.filter(facility=facility, active=True)
        self.fields["driver"].today = timezone.localtime(timezone.now(), facility.tz).date()
        # Escorts: floor staff of the facility (an admin keeps records, not clients company).
        self.fields["escorts"].queryset = (
            User.objects.filter(facilities=facility, is_active=True)
            .exclude(role=Role.ADMIN)
            .order_by("full_name")
        )
        self.clients = list(candidates(facility))
        self.fields["passengers"].queryset = candidates(facility)
        for n in range(1, MAX_STOPS + 1):
            self.fields[f"stop-{n}-place"] = text_field(f"Destination {n}", 200, required=False)
            self.fields[f"stop-{n}-address"] = text_field(f"Address {n}", 300, required=False)
        stop_choices = [(str(n), f"Destination {n}") for n in range(1, MAX_STOPS + 1)]
        for admission in self.clients:
            self.fields[f"dest-{admission.public_id}"] = forms.TypedChoiceField(
                label=f"Destination of {admission.client.display_name}",
                choices=stop_choices,
                coerce=int,
                required=False,
                empty_value=None,
                error_messages=_choice_messages("Destination", "choose one of the trip's."),
            )
            name = admission.client.display_name
            self.fields[f"mode-{admission.public_id}"] = forms.ChoiceField(
                label=f"How {name} travels",
                choices=MODE_CHOICES,
                required=False,
                error_messages=_choice_messages("How the client travels", "choose from the list."),
            )
            self.fields[f"back-{admission.public_id}"] = _when(
                f"Pass of {name} ends", required=False, future=timedelta(days=40)
            )
        for name, field in self.fields.items():
            if name.startswith(("stop-", "dest-", "mode-", "back-")):  # after the hardening
                harden_field(field, name)
        # The template lays the form out by hand: these first, then escorts, stops, clients.
        self.head = [
            self[n]
            for n in (
                "purpose", "purpose_note", "planned_departure", "planned_return", "driver",
                "vehicle",
            )
        ]  # fmt: skip
        self.stop_rows = [
            (self[f"stop-{n}-place"], self[f"stop-{n}-address"]) for n in range(1, MAX_STOPS + 1)
        ]

    def client_rows(self):
        """(admission, checked, destination field, mode field, pass-end field) for each client,
        in the page's order."""
        chosen = {str(v) for v in (self["passengers"].value() or [])}
        return [
            (
                a,
                str(a.public_id) in chosen,
                self[f"dest-{a.public_id}"],
                self[f"mode-{a.public_id}"],
                self[f"back-{a.public_id}"],
            )
            for a in self.clients
        ]

    def removed(self) -> list:
        """The clients planned on the trip being changed that this form takes off."""
        if self.trip is None:
            return []
        kept = {a.pk for a in self.cleaned_data.get("passengers", [])}
        return [
            p.admission
            for p in self.trip.passengers.all()
            if p.status == "planned" and p.admission_id not in kept
        ]

    def clean(self):
        data = super().clean()
        removed = self.removed() if "passengers" in data else []
        if removed and not data.get("removed_reason"):
            names = ", ".join(a.client.display_name for a in removed)
            self.add_error(
                "removed_reason",
                f"Reason: say why {names} no longer go (they stay on the trip as not going).",
            )
        return data

    def stops(self) -> list[tuple[str, str]]:
        """The filled destination rows, in order (empty rows skipped)."""
        rows = []
        for n in range(1, MAX_STOPS + 1):
            place = self.cleaned_data.get(f"stop-{n}-place", "")
            address = self.cleaned_data.get(f"stop-{n}-address", "")
            if place or address:
                rows.append((place, address))
        return rows

    def passenger_rows(self) -> list[PlannedPassenger]:
        return [
            PlannedPassenger(
                a,
                self.cleaned_data.get(f"dest-{a.public_id}"),
                self.cleaned_data.get(f"mode-{a.public_id}") or RIDE,
                self.cleaned_data.get(f"back-{a.public_id}"),
            )
            for a in self.cleaned_data.get("passengers", [])
        ]

    @staticmethod
    def initial_for(trip) -> dict:
        initial = {
            "purpose": trip.purpose,
            "purpose_note": trip.purpose_note,
            "planned_departure": trip.planned_departure,
            "planned_return": trip.planned_return,
            "driver": trip.driver_id,
            "vehicle": trip.vehicle_id,
            "escorts": list(trip.escorts.all()),
            "pickup": trip.pickup,
        }
        for stop in trip.stops.all():
            initial[f"stop-{stop.position}-place"] = stop.place
            initial[f"stop-{stop.position}-address"] = stop.address
        planned = [p for p in trip.passengers.all() if p.status == "planned"]
        initial["passengers"] = [str(p.admission.public_id) for p in planned]
        for p in planned:
            if p.stop is not None:
                initial[f"dest-{p.admission.public_id}"] = str(p.stop.position)
            mode = PICK_UP if p.pick_up else (RIDE if p.returns_with_van else DROP)
            initial[f"mode-{p.admission.public_id}"] = mode
            if p.expected_back_at is not None:
                initial[f"back-{p.admission.public_id}"] = p.expected_back_at
        return initial


class _ClientTicks(forms.MultipleChoiceField):
    """One checkbox per client of the trip, by the stay's public id."""

    def __init__(self, label: str, **kwargs):
        super().__init__(
            label=label,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages=_choice_messages(label, "tick clients of this trip."),
            **kwargs,
        )


class _CountCheck(HavenForm):
    """A van-side count: odometer, head count and one tick per client. A head count that
    differs from the clients ticked asks to count again or confirm (issue 14 review), before an
    incident opens on one typo."""

    count_confirmed = forms.BooleanField(label="The count is right", required=False)
    odometer = ticks = ""

    def __init__(self, *args, passengers, **kwargs):
        super().__init__(*args, **kwargs)
        self.passengers = passengers
        self.fields[self.ticks].choices = [
            (str(p.admission.public_id), p.admission.client.display_name) for p in passengers
        ]
        self.numbers = [self[self.odometer], self["head_count"]]

    def admission_ids(self) -> list[int]:
        ticked = set(self.cleaned_data[self.ticks])
        return [p.admission_id for p in self.passengers if str(p.admission.public_id) in ticked]

    def clean(self):
        cleaned = super().clean()
        self._check_count()
        return cleaned

    def _check_count(self) -> None:
        count, ticked = self.cleaned_data.get("head_count"), self.cleaned_data.get(self.ticks)
        self.ask_confirm = False
        if count is None or ticked is None or count == len(ticked):
            return
        if not self.cleaned_data.get("count_confirmed"):
            self.ask_confirm = True
            n = len(ticked)
            self.add_error(
                "head_count",
                f"You counted {count}, {n} {'is' if n == 1 else 'are'} ticked — count again, "
                "or tick “The count is right” to record it as counted (an incident report "
                "draft opens for the supervisor).",
            )


class DepartForm(_CountCheck):
    """Departure from the van: odometer, head count, each client signed out."""

    odometer_out = _whole("Odometer out (miles)", 0, ODOMETER_MAX)
    head_count = _whole("Head count (clients in the van)", 0, HEAD_COUNT_MAX)
    signed_out = _ClientTicks("Signed out")
    odometer, ticks = "odometer_out", "signed_out"


class ReturnForm(_CountCheck):
    """Return: odometer in, head count, each client seen signed back in."""

    odometer_in = _whole("Odometer in (miles)", 0, ODOMETER_MAX)
    head_count = _whole("Head count (clients back in the van)", 0, HEAD_COUNT_MAX)
    signed_in = _ClientTicks("Signed in")
    odometer, ticks = "odometer_in", "signed_in"


class CancelForm(HavenForm):
    reason = text_field("Reason", 300)


class StayForm(HavenForm):
    reason = text_field("Reason", 200, help_text="Why the client is not going (kept on the trip).")


class SignInForm(HavenForm):
    at = _when("Back at", required=False, past=timedelta(days=2), future=timedelta(days=1))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].help_text = "Empty: now."
