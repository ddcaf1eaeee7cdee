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
from pvmon.registry.schema import YONGHE

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@pass_context
def _local(context: Any, value: dt.datetime | None, with_date: bool = True) -> str:
    return formatting.local_time(value, context["tz"], with_date)


templates.env.filters.update(
    number=formatting.number, wan=formatting.wan, percent=formatting.percent, local=_local
)


def words(ctx: ApiState, lang: Lang, who: Caller | None) -> dict[str, Any]:
    names = queries.place_names(ctx)
    place = county_name(ctx, who)
    return {
        "place": place,
        "page_title": title_of(place, lang),
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


def deployment_title(ctx: ApiState, lang: Lang, who: Caller | None) -> str:
    """The system's name as pages and exports head it: the county's, or the province's."""
    return title_of(county_name(ctx, who), lang)


def title_of(place: str | None, lang: Lang) -> str:
    return text("title", lang, county=place) if place else text("title_province", lang)


def county_name(ctx: ApiState, who: Caller | None) -> str | None:
    """The county the pages speak for: the deployment's only county, or the one county the
    caller works in; None for a province's bureau (or a caller whose places span counties)."""
    registry = ctx.view().registry
    counties = registry.counties or [YONGHE]
    if len(counties) == 1:
        return counties[0].name
    if who is None or who.scope.townships is None:
        return None
    county_of = registry.county_of()
    theirs = {county_of.get(t) for t in who.scope.townships}
    names = {c.id: c.name for c in counties}
    return names.get(theirs.pop()) if len(theirs) == 1 else None


def _field(name: str, lang: Lang) -> str:
    """A record's field by its column title where the catalog has one."""
    try:
        return text(f"col.{name}", lang)
    except MissingText:
        return name


def html_of(
    ctx: ApiState,
    name: str,
    lang: Lang,
    who: Caller | None,
    progress: queries.YearProgress | None = None,
    **data: Any,
) -> str:
    """A template rendered: a page (with the filling-in banner while ``progress`` is
    pending), or a document (none)."""
    return templates.get_template(name).render(**words(ctx, lang, who), progress=progress, **data)
