"""Where things are, for the map (pure): each township's outline and label position from
its stations' positions in the registry.

The registry holds points, not boundaries, so a township's area is drawn as the convex hull
of its stations (``scipy.spatial.ConvexHull``), widened a little so the stations on its
edge sit inside it. That outline is where its stations are, not the legal boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import ConvexHull, QhullError

MARGIN = 1.08
"""Outlines are widened by this factor about their centre."""
PAD = 0.01
"""Degrees around stations that do not span an area (one, or all on a line)."""


def outline(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """A closed ring (the first point repeated at the end) around ``points`` (lon, lat)."""
    xy = np.unique(np.asarray(points, dtype=float), axis=0)
    centre = xy.mean(axis=0)
    try:
        ring = xy[ConvexHull(xy).vertices] if len(xy) >= 3 else None
    except QhullError:  # all on one line
        ring = None
    if ring is None:  # their bounding box, at least PAD wide
        (x0, y0), (x1, y1) = xy.min(axis=0) - PAD, xy.max(axis=0) + PAD
        ring = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    ring = centre + (ring - centre) * MARGIN
    closed = np.vstack([ring, ring[:1]])
    return [(round(float(x), 5), round(float(y), 5)) for x, y in closed]


def centre(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    xy = np.asarray(points, dtype=float)
    return (round(float(xy[:, 0].mean()), 5), round(float(xy[:, 1].mean()), 5))
