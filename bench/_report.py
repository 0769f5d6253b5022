"""What the bench's timing scripts share: percentiles, query-count cells, EXPLAIN, short SQL."""

import math
import re


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt_queries(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def short(sql: str, n: int = 300) -> str:
    """Long IN lists and array literals (5,000 ids) shortened to their length."""
    sql = re.sub(
        r"IN \(([^()]{200,})\)", lambda m: f"IN (…{m.group(1).count(',') + 1} values…)", sql
    )
    sql = re.sub(
        r"'\{([^}]{200,})\}'", lambda m: f"'{{…{m.group(1).count(',') + 1} values…}}'", sql
    )
    return sql if len(sql) <= n else sql[:n] + " …"
