"""Work orders in tests: whom an order may go to, and photos as a phone sends them."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image

from api.users import demo_maintainer
from pvmon.certification import crew_of, why_not_maintainer
from pvmon.registry.schema import Registry
from pvmon.settings import Settings


def crew(
    registry: Registry, settings: Settings, certified: bool, on: dt.date, station: str | None = None
) -> tuple[str, str]:
    """(village station, one of its responsible maintainers) with or without a valid
    certificate of the type the station requires on ``on`` — of ``station`` if given."""
    for s in registry.stations:
        if s.kind != "village" or station not in (None, s.id):
            continue
        for person in crew_of(registry, s.id):
            refused = why_not_maintainer(
                registry, s.id, person, on, settings.registry.required_cert
            )
            if (refused is None) == certified:
                return s.id, person
    raise AssertionError("the registry has no such maintainer")


def photo(size: tuple[int, int] = (1600, 1200), kind: str = "JPEG") -> bytes:
    """A camera-sized picture: a gradient, so that it compresses like a photo."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def elsewhere(registry: Registry) -> str:
    """A village station outside the demo supervisor's and maintainer's township."""
    village = demo_maintainer(registry).village_id
    home = next(v.township_id for v in registry.villages if v.id == village)
    return next(s.id for s in registry.stations if s.kind == "village" and s.township_id != home)
