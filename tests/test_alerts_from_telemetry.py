"""From the wire to the phone: telemetry in InfluxDB, analytics' frequent job finds a station
silent in daylight, the alert engine tells its people once, and resolves the alert with a
notice when the station speaks again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from alerts.lifecycle import escalation_groups, target_of
from alerts.routing import Directory, recipients
from alerts.service import AlertService
from analytics import live
from analytics.context import Analytics
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from tests.support.alerting import alerts_of, content, mentions, settings_for, wecom_ids
from tests.support.fleetwriter import (
    TZ,
    only_stations,
    silent_station_day,
)
from tests.support.receivers import HttpReceiver

MIN = dt.timedelta(minutes=1)


def test_a_station_silent_in_daylight_is_one_alert_then_a_resolution_notice(
    tmp_path: Path,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    receiver: HttpReceiver,
) -> None:
    day = dt.date.today() - dt.timedelta(days=1)
    subset, quiet = silent_station_day(default_registry, influx, loaded_engine, day)
    settings = settings_for(tmp_path, loaded_engine, receiver, sms=None).model_copy(
        update={"influx_url": influx.url, "influx_db": influx.database}
    )
    a = Analytics.open(settings, loaded_engine, influx)
    only_stations(a, subset)
    service = AlertService(settings, loaded_engine, influx)
    noon = dt.datetime.combine(day, dt.time(12, 30), TZ).astimezone(dt.UTC)
    for minutes in range(0, 30, 5):  # analytics every five minutes, alerts after each run
        live.frequent(a, noon + minutes * MIN)
        service.tick(noon + minutes * MIN)
    (alert,) = alerts_of(loaded_engine)
    assert (alert.rule, alert.station_id, alert.state) == ("comm_loss", quiet, "open")
    (told,) = receiver.on("/wecom")
    # Who is validly certified is a matter of the day: the directory of the day the alert
    # was raised (the generated certificates lapse one by one as the calendar moves on).
    directory = Directory.build(default_registry, day, settings.registry.required_cert)
    people = [r.person_id for r in recipients(target_of(alert), 0, directory, [])]
    assert mentions(told) == wecom_ids(directory, people)
    assert "通信中断" in content(told)

    back = noon + 2 * dt.timedelta(hours=1)  # the logger has sent its backlog and speaks
    live.frequent(a, back)
    service.tick(back)
    service.tick(back + 20 * MIN)
    (resolved,) = alerts_of(loaded_engine)
    assert resolved.state == "resolved"
    notice = receiver.on("/wecom")[-1]
    assert content(notice).startswith("【告警已解除】")
    assert len(receiver.on("/wecom")) == 2
    assert escalation_groups(settings.alerts) == ["supervisor", "bureau"]
