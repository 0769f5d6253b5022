"""A shift's worth of staff on Haven at once (issue 17 item 3), for locust; bench/load_run.py sets
up the accounts and the server and runs it. Each simulated person signs in through the real
sign-in form and uses the pages as the floor does, with the forms' own CSRF tokens:

- 30 technicians on the rounds board of their unit: the board's live part every 30 s (the HTMX
  poll), and every 15 minutes a round of their share of the unit's clients, each client's
  location and status chosen from the board's chips, the "seen" moments taken during a walk of
  1-2.5 minutes, posted under the board's own submission key;
- 12 nurses passing meds: the MAR board, one of their clients' med pass, a dose that is due
  (or late) charted as given (hold vitals typed where the order asks), now and then a set of
  vital signs;
- 4 supervisors on the dashboard (its live part every 30 s) and the alerts page;
- 4 clinicians reading the census (its 60 s poll) and client charts (with the vitals trends
  that load when scrolled to);
- one probe on /ping/ (a signed-in page with one query of its own) every 2 s, the floor each
  page's p50 is divided by.

Nothing here imports Django: the plan (accounts, units, clients) comes from the JSON file named
by HAVEN_LOAD_PLAN. Every request's time goes to HAVEN_LOAD_SAMPLES (name, ms, ok) so the runner
computes exact percentiles (locust's own are rounded to two significant figures).
"""

import csv
import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser

import gevent
from locust import HttpUser, between, constant_pacing, events, task

PLAN = json.loads(open(os.environ["HAVEN_LOAD_PLAN"]).read())  # noqa: SIM115
PASSWORD = PLAN["password"]
HX = {"HX-Request": "true", "X-Haven-Poll": "1"}
ROUND_EVERY = 15 * 60
# Everyone signs in first (PBKDF2 on purpose: ~0.7 s of CPU each, many seconds while fifty do
# it at once on two cores), then SETTLE_SECONDS for the queue of first pages behind the
# sign-ins to drain; the measured part is the STEADY_SECONDS after that.
PEOPLE = sum(len(v) for v in PLAN["users"].values())
SETTLE_SECONDS = 60
STEADY_SECONDS = float(os.environ.get("HAVEN_LOAD_STEADY_SECONDS", "600"))
SAMPLES: list[tuple[str, str, float, float, int]] = []
SIGNED_IN: list[str] = []
STEADY_FROM = [float("inf")]


@events.request.add_listener
def _sample(request_type, name, response_time, exception, **kwargs):
    now = time.time()
    phase = "sign-in" if len(SIGNED_IN) < PEOPLE else "settle" if now < STEADY_FROM[0] else "steady"
    SAMPLES.append((phase, name, now, response_time, 0 if exception else 1))


def _signed_in(environment, username: str) -> None:
    """Count a person in; the last one starts the clock."""
    SIGNED_IN.append(username)
    if len(SIGNED_IN) == PEOPLE:
        STEADY_FROM[0] = time.time() + SETTLE_SECONDS
        print(f"All {PEOPLE} signed in; measuring {STEADY_SECONDS:.0f} s from "
              f"{SETTLE_SECONDS} s on", flush=True)  # fmt: skip
        SAMPLES.append(("steady", "(start)", STEADY_FROM[0], 0.0, 1))
        gevent.spawn_later(SETTLE_SECONDS + STEADY_SECONDS, environment.runner.quit)


@events.quitting.add_listener
def _write_samples(environment, **kwargs):
    path = os.environ.get("HAVEN_LOAD_SAMPLES")
    if path:
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([("phase", "name", "at", "ms", "ok"), *SAMPLES])


class Page(HTMLParser):
    """What a simulated person reads off a page: its forms (inputs, selects, the enclosing
    list item's and label's classes), its links and HTMX URLs, and its error boxes' text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.hx_links: list[str] = []  # what HTMX fetches (polls, fragments loaded when seen)
        self.errors: list[str] = []
        self._form = self._select = None
        self._li = self._label = self._drug = ""
        self._in_error = 0
        self._in_drug = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("hx-get"):
            self.hx_links.append(a["hx-get"])
        if tag == "li":
            self._li = a.get("class") or ""
            self._drug = ""
        elif tag == "strong" and "pass-item" in self._li and not self._drug:
            self._in_drug = True
        elif tag == "label":
            self._label = a.get("class") or ""
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "li": self._li, "drug": self._drug,
                          "fields": []}  # fmt: skip
            self.forms.append(self._form)
        elif tag == "div" and "form-errors" in (a.get("class") or ""):
            self._in_error = 1
        elif self._form is not None and tag == "input" and a.get("name"):
            self._form["fields"].append({**a, "label": self._label})
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "type": "select", "options": []}
            self._form["fields"].append(self._select)
        elif self._select is not None and tag == "option":
            self._select["options"].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "label":
            self._label = ""
        elif tag == "div" and self._in_error:
            self._in_error = 0

    def handle_data(self, data):
        if self._in_drug:
            self._drug, self._in_drug = data.strip(), False
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def csrf(form: dict) -> str:
    return next(f["value"] for f in form["fields"] if f["name"] == "csrfmiddlewaretoken")


class Staff(HttpUser):
    """A signed-in member of staff; `role` picks the account from the plan."""

    abstract = True
    role = ""
    _numbers: dict[str, itertools.count] = {}

    def on_start(self):
        n = next(Staff._numbers.setdefault(self.role, itertools.count()))
        self.me = PLAN["users"][self.role][n]
        with self.client.get("/accounts/login/", name="Sign-in page", catch_response=True) as r:
            form = next(f for f in Page(r.text).forms if f["action"].endswith("/login/"))
        data = {"csrfmiddlewaretoken": csrf(form), "login": self.me["username"],
                "password": PASSWORD}  # fmt: skip
        with self.client.post("/accounts/login/", data, name="Sign in (POST)",
                              allow_redirects=False, catch_response=True) as r:  # fmt: skip
            if r.status_code != 302:
                r.failure(f"sign-in {self.me['username']}: {r.status_code}")
                raise RuntimeError("sign-in failed")
        self.get("/", "Home (my work)")
        self.signed_in()

    def signed_in(self):
        _signed_in(self.environment, self.me["username"])

    def get(self, url: str, name: str, *, hx: bool = False) -> Page | None:
        """GET expecting 200 (a redirect, e.g. to sign-in, is a failure); the parsed page."""
        with self.client.get(url, name=name, headers=HX if hx else None, allow_redirects=False,
                             catch_response=True) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"{r.status_code} {r.headers.get('Location', '')}")
                return None
            return Page(r.text) if not hx else None

    def post(self, url: str, data, name: str, *, expect: str = "") -> bool:
        """POST expecting a redirect (to a URL containing `expect`), as every Haven form does
        when it saves; a 400 is a failure with the page's error text."""
        with self.client.post(url, data, name=name, allow_redirects=False,
                              catch_response=True) as r:  # fmt: skip
            where = r.headers.get("Location", "")
            if r.status_code == 302 and expect in where and "/accounts/" not in where:
                self.get(where, name.replace(" (POST)", " (after POST)"))
                return True
            errors = Page(r.text).errors if r.status_code == 400 else []
            r.failure(f"{r.status_code} {where} {' | '.join(errors)[:300]}")
            return False


class Technician(Staff):
    """On the rounds board of one unit all shift. Every 15 minutes: a fresh board, a walk of the
    unit tapping each of their clients seen, then the round posted; otherwise the board's live
    part every 30 s."""

    role = "technician"
    fixed_count = len(PLAN["users"]["technician"])
    wait_time = constant_pacing(30)

    def on_start(self):
        super().on_start()
        self.board = f"/rounds/{self.me['unit']}/"
        self.form = None
        # Rounds are due every 15 minutes; where in the cycle this person starts is random.
        self.next_round = time.time() + random.uniform(0, ROUND_EVERY)
        self.page = self.get(self.board, "Rounds board")

    @task
    def tick(self):
        now = time.time()
        if self.form is None and now >= self.next_round:
            self.start_round()
        elif self.form is not None and now >= self.walk_until:
            self.submit_round()
        else:
            self.get(f"{self.board}status/", "Rounds board live status (poll)", hx=True)

    def start_round(self):
        page = self.get(self.board, "Rounds board")
        forms = page.forms if page else []
        form = next((f for f in forms if any(x["name"] == "submission_key" for x in f["fields"])),
                    None)  # fmt: skip
        if form is None:
            self.next_round += ROUND_EVERY
            return
        self.form, self.opened = form, time.time()
        self.walk_until = self.opened + random.uniform(60, 150)

    def submit_round(self):
        fields, walked = self.form["fields"], time.time() - self.opened
        pids = [f["value"] for f in fields if f["name"] == "include"]
        k, n = self.me["slice"]
        mine = pids[k::n]
        # The form's own hidden fields (CSRF token, submission key, anything the board adds), as
        # the browser posts them; the per-client "seen" moments are set below.
        data = [
            (f["name"], f.get("value", ""))
            for f in fields
            if f.get("type") == "hidden" and not f["name"].startswith("seen-")
        ]
        data += [("minutes_back", "0"), ("late_reason", "")]
        tapped = sorted(random.uniform(0, walked) for _ in mine)
        for pid, at in zip(mine, tapped, strict=True):
            data.append(("include", pid))
            data.append((f"seen-{pid}", str(int((self.opened + at) * 1000))))
            for prefix in ("loc", "st"):
                chips = [f for f in fields if f["name"] == f"{prefix}-{pid}"]
                calm = [c for c in chips if "chip-alert" not in c["label"]]
                pick = next((c for c in calm if "checked" in c), None) or random.choice(calm)
                data.append((pick["name"], pick["value"]))
                if "data-needs-resp" in pick:
                    data.append((f"resp-{pid}", "on"))
        self.form = None
        self.next_round += ROUND_EVERY * max(1, -(-(time.time() - self.next_round) // ROUND_EVERY))
        if mine:
            self.post(self.board, data, "Rounds board: submit a round (POST)", expect="/rounds/")


class Nurse(Staff):
    """Passing meds to their clients: the MAR board, a client's med pass, a due dose charted;
    now and then vital signs."""

    role = "nurse"
    fixed_count = len(PLAN["users"]["nurse"])
    wait_time = between(30, 90)  # the five rights, the client, the cup of water

    def on_start(self):
        super().on_start()
        self.clients = itertools.cycle(self.me["admissions"])
        self.get("/mar/", "MAR board")

    @task(2)
    def mar_board(self):
        self.get("/mar/", "MAR board")

    @task(6)
    def med_pass(self):
        url = f"/mar/clients/{next(self.clients)}/"
        page = self.get(url, "Med pass (client)")
        if page is None:
            return
        due = [f for f in page.forms if "/document/" in f["action"]
               and re.search(r"\bst-(due|late)\b", f["li"])
               and not f["drug"].startswith(CONTROLLED)
               and any(x["name"] == "outcome" for x in f["fields"])]  # fmt: skip
        if not due:
            return
        form = random.choice(due)
        time.sleep(random.uniform(10, 40))  # checking the five rights, giving it
        late = "st-late" in form["li"]
        data = {"csrfmiddlewaretoken": csrf(form), "outcome": "given", "given_at": "",
                "reason": "Client was in group; given after." if late else "",
                "prescriber_notified": "", "second_nurse": "", "second_password": ""}  # fmt: skip
        for f in form["fields"]:
            if f["name"].removeprefix("hold_") in NORMAL:  # a hold vital (not hold_parameter)
                data[f["name"]] = f.get("value") or NORMAL[f["name"][5:]]
        self.post(form["action"].split("#")[0], data, "Med pass: document a dose (POST)",
                  expect="/mar/clients/")  # fmt: skip

    @task(1)
    def vitals(self):
        url = f"/admissions/{next(self.clients)}/vitals/"
        page = self.get(url, "Vitals form")
        form = next((f for f in page.forms if f["action"] == ""), None) if page else None
        if form is None:
            return
        time.sleep(random.uniform(60, 120))  # the cuff, the thermometer
        taken = next((f.get("value", "") for f in form["fields"] if f["name"] == "taken_at"), "")
        data = {"csrfmiddlewaretoken": csrf(form), "taken_at": taken, "late_reason": "",
                "sbp": random.randint(108, 138), "dbp": random.randint(66, 88),
                "hr": random.randint(62, 96), "rr": random.randint(12, 18),
                "temp": f"{random.uniform(36.4, 37.3):.1f}", "temp_unit": "C",
                "spo2": random.randint(95, 99), "on_oxygen": "air", "pain": random.randint(0, 4),
                "acvpu": "A", "remark": ""}  # fmt: skip
        self.post(url, data, "Vitals: record a set (POST)", expect="/vitals/")


CONTROLLED = tuple(PLAN.get("controlled", ()))  # no stock count at the bench's MAR facility
NORMAL = {"sbp": "124", "dbp": "78", "hr": "76", "rr": "16", "temp_c": "36.8", "spo2": "97"}


class Supervisor(Staff):
    """The supervisor dashboard open all shift (its live part every 30 s); now and then the
    alerts page (its list polls every 30 s too) and back."""

    role = "supervisor"
    fixed_count = len(PLAN["users"]["supervisor"])
    wait_time = constant_pacing(30)

    def on_start(self):
        super().on_start()
        self.on_alerts = 0
        self.get("/supervisor/", "Supervisor dashboard")

    @task
    def tick(self):
        if self.on_alerts:
            self.on_alerts -= 1
            if self.on_alerts:
                self.get("/alerts/", "Alerts (poll)", hx=True)
            else:
                self.get("/supervisor/", "Supervisor dashboard")
        elif random.random() < 0.1:
            self.on_alerts = random.randint(2, 4)
            self.get("/alerts/", "Alerts")
        else:
            self.get("/supervisor/live/", "Supervisor dashboard live (poll)", hx=True)


class Clinician(Staff):
    """Reading: the census (its 60 s poll while open) and client charts, minutes each."""

    role = "clinician"
    fixed_count = len(PLAN["users"]["clinician"])
    wait_time = between(30, 90)

    def on_start(self):
        super().on_start()
        self.charts = []
        self.census()

    @task(1)
    def census(self):
        page = self.get("/census/", "Census")
        if page is not None:
            self.charts = sorted(
                {h for h in page.links if re.fullmatch(r"/clients/[0-9a-f-]{36}/", h)}
            )

    @task(1)
    def census_poll(self):
        self.get("/census/", "Census (poll)", hx=True)

    @task(3)
    def chart(self):
        if not self.charts:
            return self.census()
        page = self.get(random.choice(self.charts), "Client chart")
        trends = [h for h in (page.hx_links if page else []) if "/vitals/trends/" in h]
        if trends and random.random() < 0.5:
            self.get(trends[0], "Client chart: vitals trends (fragment)", hx=True)


class Probe(Staff):
    """/ping/ every 2 s: what a signed-in request costs with one query of its own."""

    role = "probe"
    fixed_count = 1
    wait_time = constant_pacing(2)

    @task
    def ping(self):
        self.get("/ping/", "/ping/ (one query)", hx=False)
