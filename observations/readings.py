"""The latest vital signs as other apps read them (issue 11 items 6 and 7: the MAR's hold
parameters), through facility.registry without importing observations.

`latest_vitals(admission_ids, at=...)` gives, per stay, the latest value of each of SBP, DBP, HR,
RR, temperature and SpO2 taken at or before `at` in a set that is not struck, each with its own
`taken_at`: a later set without a BP does not hide an earlier BP. One query for any number of
stays: per stay and vital, the newest matching row found by walking the (admission, -taken_at)
index backwards.
"""

from facility.registry import Reading, register_reading_source

# The vitals offered to other apps (Reading.key = the VitalSigns column).
KEYS = ("sbp", "dbp", "hr", "rr", "temp_c", "spo2")


LATERAL = (
    "LEFT JOIN LATERAL (SELECT v.{key} AS value, v.taken_at, v.public_id FROM {table} v"
    " WHERE v.admission_id = a.id AND v.struck_at IS NULL AND v.taken_at <= %(at)s"
    " AND v.{key} IS NOT NULL ORDER BY v.taken_at DESC, v.id DESC LIMIT 1) {key}_r ON TRUE"
)


def _sql(table: str) -> str:
    """Identifiers come from KEYS and the model's table name, never from input; the values are
    bound parameters."""
    columns = ", ".join(f"{k}_r.value, {k}_r.taken_at, {k}_r.public_id" for k in KEYS)
    joins = " ".join(LATERAL.format(key=k, table=table) for k in KEYS)
    return f"SELECT a.id, {columns} FROM unnest(%(ids)s::bigint[]) AS a(id) {joins}"  # noqa: S608


def latest_vitals(admission_ids, *, at) -> dict[int, dict[str, Reading]]:
    """{admission_id: {key: Reading}}; a stay with none of a vital has no entry for it, and a
    stay with no vitals at all is left out."""
    from django.db import connection

    from observations.models import VitalSigns

    ids = sorted({int(i) for i in admission_ids})
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_sql(VitalSigns._meta.db_table), {"ids": ids, "at": at})
        rows = cursor.fetchall()
    out: dict[int, dict[str, Reading]] = {}
    for row in rows:
        found = {}
        for i, key in enumerate(KEYS):
            value, taken_at, public_id = row[1 + 3 * i : 4 + 3 * i]
            if value is not None:
                found[key] = Reading(key=key, value=value, taken_at=taken_at, public_id=public_id)
        if found:
            out[row[0]] = found
    return out


def register() -> None:
    register_reading_source("vitals", latest_vitals)
