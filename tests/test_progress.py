"""What ``pvmon up`` tells a new user while the county fills in: a message rate that does
not drop to zero between the workers' reports, and each milestone once it is reached."""

from __future__ import annotations

from launch.progress import Rate, Snapshot, milestones, status_line


def snap(**figures: int) -> Snapshot:
    base = {
        "received": 0,
        "stored": 0,
        "rejected": 0,
        "loggers_online": 0,
        "open_alerts": 0,
        "spooled": 0,
        "history_days": 0,
        "computed_days": 0,
        "recent_computed": 0,
        "elapsed_days": 335,
    }
    return Snapshot(**(base | figures))


def test_the_rate_holds_between_reports_that_come_every_few_seconds() -> None:
    rate = Rate()
    rates = []
    received = 0
    for second in range(60):
        if second % 5 == 0:  # a worker's counters reach the store every 5 s
            received += 10_000
        rates.append(rate.add(received, float(second)))
    assert min(rates[6:]) > 0, "no '0 msg/s' while readings arrive"
    assert abs(rates[-1] - 2_000) < 300


def test_the_status_line_names_history_only_when_one_is_written() -> None:
    s = snap(stored=1_234_567, history_days=40, computed_days=12)
    with_history = status_line(s, 2_000.4, history=True)
    assert "2,000 msg/s" in with_history
    assert "1,234,567 readings stored" in with_history
    assert "history 40/335 days written" in with_history
    assert "analytics 12/335 days computed" in with_history
    assert "history" not in status_line(s, 0.0, history=False)


def test_milestones_arrive_in_order_and_the_year_is_said_once_complete() -> None:
    assert milestones(snap(history_days=29, recent_computed=29), history=True) == []
    recent = milestones(snap(history_days=30, recent_computed=30, computed_days=30), True)
    assert recent == [
        "history: the last 30 days written",
        "analytics: the last 30 days computed — on the dashboards",
    ]
    whole = milestones(snap(history_days=335, recent_computed=30, computed_days=335), True)
    assert "history: the year so far written" in whole
    assert "analytics: the year so far computed" in whole


def test_a_short_year_says_only_the_year_so_far() -> None:
    reached = milestones(snap(elapsed_days=2, history_days=2, computed_days=2), history=True)
    assert reached == ["history: the year so far written", "analytics: the year so far computed"]
