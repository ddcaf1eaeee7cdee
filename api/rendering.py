"""The pages' templates and what every one of them is given: the words in the page's
language, the rules' and severities' names, place names, the county's time zone. Pages
render them as responses; a document (a disclosure sheet's PDF) renders them as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from alerts import messages
from api import formatting, queries
from api.deps import Caller
from api.state import ApiState
from pvmon.i18n import Lang, MissingText, text

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@pass_context
def _local(context: Any, value: dt.datetime | None, with_date: bool = True) -> str:
    return formatting.local_time(value, context["tz"], with_date)


templates.env.filters.update(
    number=formatting.number, wan=formatting.wan, percent=formatting.percent, local=_local
)


def words(ctx: ApiState, lang: Lang, who: Caller | None) -> dict[str, Any]:
    names = queries.place_names(ctx)
    return {
        "t": lambda key, **values: text(key, lang, **values),
        "rule": lambda name: messages.rule_title(name, lang),
        "severity": lambda level: messages.severity_word(level, lang),
        "detail": lambda name, evidence: messages.detail(name, evidence, lang),
        "lang": lang,
        "who": who,
        "tz": ctx.tz,
        "names": names,
        "actor": lambda who: messages.actor_name(who, lang, names),
        "field": lambda name: _field(name, lang),
    }


def _field(name: str, lang: Lang) -> str:
    """A record's field by its column title where the catalog has one."""
    try:
        return text(f"col.{name}", lang)
    except MissingText:
        return name


def html_of(ctx: ApiState, name: str, lang: Lang, who: Caller | None, **data: Any) -> str:
    """A template rendered as a document (no request, no banner)."""
    return templates.get_template(name).render(**words(ctx, lang, who), progress=None, **data)
