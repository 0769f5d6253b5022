"""How the shift report orders clients of equal concern (issue 15 review: a client with 18 missed
checks came after routine clients with 4 missed checks and an administrative warning)."""

from facility.registry import ReportClient, ReportItem
from facility.shift_report import ClientBlock


def block(name, *items):
    client = ReportClient(admission_id=hash(name), public_id=name, name=name, mrn="", unit="East",
                          bed=name, present="")  # fmt: skip
    return ClientBlock(client, [("Section", i) for i in items])


def test_the_heaviest_line_of_the_top_concern_orders_clients_before_the_number_of_lines():
    many_missed = block("B", ReportItem("18 missed", concern=2, weight=18),
                        ReportItem("Level q15", concern=1))  # fmt: skip
    few_missed = block("A", ReportItem("4 missed", concern=2, weight=4),
                       ReportItem("Orientation overdue", concern=2))  # fmt: skip
    critical = block("C", ReportItem("Critical alert", concern=3))
    quiet = block("D", ReportItem("Group attended", concern=0))
    ordered = sorted([quiet, few_missed, many_missed, critical], key=ClientBlock.sort_key)
    assert [b.client.name for b in ordered] == ["C", "B", "A", "D"]
    assert [b.expanded for b in ordered] == [True, True, True, False]


def test_equal_weight_falls_back_to_the_number_of_lines_then_the_bed():
    two = block("Z", ReportItem("x", concern=2), ReportItem("y", concern=2))
    one_a = block("A", ReportItem("x", concern=2))
    one_b = block("B", ReportItem("x", concern=2))
    ordered = sorted([one_b, two, one_a], key=ClientBlock.sort_key)
    assert [b.client.name for b in ordered] == ["Z", "A", "B"]
