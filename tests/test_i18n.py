"""One catalog for every word a person reads: each key in both languages, the same
placeholders in both, every rule and severity named, every word a template asks for there,
and a missing key an error rather than the key shown."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from alerts.rules import DataRule
from api.financepages import AUDITED
from finance import views
from finance.receivables import BUCKETS
from finance.records import SHEETS, ReceiptKind, UseCategory
from pvmon.findings import FindingKind, Severity, Subject
from pvmon.i18n import CATALOG, LANGS, MissingText, text

TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"
PURPOSES = ("new", "repeat", "escalation", "reopened", "resolved")
DYNAMIC = {
    # what templates pass to t() from data: statuses, segments, alert and station states
    "on_track",
    "at_risk",
    "insufficient_data",
    "village",
    "household",
    "central",
    "open",
    "acknowledged",
    "resolved",
    *(f"state_{s}" for s in ("fault", "warning", "offline", "ok", "unknown")),
}


def placeholders(phrase: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(phrase) if name}


UNITS_DIFFER = {"detail.target_at_risk", "detail.village_income_at_risk"}
"""Figures in 万 for Chinese readers, in GWh / M yuan or yuan for English ones."""


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_renders_in_both_languages_with_the_same_placeholders(key: str) -> None:
    zh, en = CATALOG[key]
    if key not in UNITS_DIFFER:
        assert placeholders(zh) == placeholders(en)
    values = dict.fromkeys(placeholders(zh) | placeholders(en), 1.5)
    for lang in LANGS:
        rendered = text(key, lang, **values)
        assert rendered.strip(), f"{key} is empty in {lang}"
        assert "{" not in rendered
    assert re.search(r"[\u4e00-\u9fff]", text(key, "zh", **values)) or not re.search(
        r"[A-Za-z]{3}", text(key, "zh", **values)
    ), f"{key}: the Chinese text is English"


def test_a_missing_key_is_an_error_not_the_key() -> None:
    with pytest.raises(MissingText, match="no_such_word"):
        text("no_such_word", "zh")


def test_every_rule_severity_and_purpose_has_its_words() -> None:
    wanted = {f"rule.{r}" for r in (*FindingKind, *DataRule)}
    wanted |= {f"severity.{s}" for s in Severity}
    wanted |= {f"head.{p}" for p in PURPOSES}
    wanted |= {f"subject_{s}" for s in Subject}
    assert wanted <= set(CATALOG), sorted(wanted - set(CATALOG))


def test_every_money_word_the_pages_look_up_from_data_is_in_the_catalog() -> None:
    wanted = {f"use_category.{c}" for c in UseCategory}
    wanted |= {f"receipt_kind.{k}" for k in ReceiptKind}
    wanted |= {f"bucket.{b}" for b in BUCKETS} | {f"col.{b}" for b in BUCKETS}
    wanted |= {f"month_state.{s}" for s in (views.ESTIMATED, views.SETTLED, views.CLOSED)}
    wanted |= {f"money.check.{c}" for c in ("met", "short", "pending")}
    wanted |= {f"entity.{e}" for e in AUDITED}
    wanted |= {f"audit_action.{a}" for a in ("add", "change", "remove", "load", "close", "publish")}
    wanted |= {f"channel.{c}" for c in ("web", "api", "cli", "system")}
    wanted |= {f"col.{f}" for sheet in SHEETS.values() for f in sheet.model_fields}
    assert wanted <= set(CATALOG), sorted(wanted - set(CATALOG))


def test_every_word_a_template_asks_for_is_in_the_catalog() -> None:
    asked = set(DYNAMIC)
    for template in TEMPLATES.glob("*.html"):
        asked |= set(re.findall(r"""\bt\(['"]([a-z_.]+)['"]\)""", template.read_text()))
    assert len(asked) > 50
    assert asked <= set(CATALOG), sorted(asked - set(CATALOG))
