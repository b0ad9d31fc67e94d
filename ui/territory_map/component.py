"""The territory map component: Python side (what to draw) of ``frontend/territory_map.js``.

Each call sends the per-unit state by position in the :class:`~ui.territory_map.layer.MapLayer`
file: the territory of each unit, a fill colour index, the selection, locked, cut-off and
moved units, labels and a line of facts per territory. The browser keeps its polygons and
restyles only what changed.

The component's value is the user's selection, ``{"selected": [unit ids], "nonce", "seq"}``;
pass the last ``nonce`` and ``seq`` seen back as ``selection_echo`` so the browser knows
Python has caught up with it (see the frontend's header).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import pandas as pd
import streamlit.components.v1 as components

from ui.territory_map.layer import MapLayer

_territory_map = components.declare_component("territory_map", path=str(Path(__file__).parent / "frontend"))
DEFAULT_HEIGHT_PX = 620


def map_arguments(
    layer: MapLayer,
    assignment: pd.Series,
    fills: pd.Series,
    *,
    labels: Mapping[str, str] | None = None,
    info: Mapping[str, str] | None = None,
    selected: Iterable[str] = (),
    locked: Iterable[str] = (),
    detached: Iterable[str] = (),
    moved: Iterable[str] = (),
    homes: pd.DataFrame | None = None,
    focus: str | None = None,
    focus_token: int = 0,
    selection_echo: tuple[str, int] = ("", 0),
    height_px: int = DEFAULT_HEIGHT_PX,
    selectable: bool = True,
) -> dict:
    """The JSON arguments of one render (pure: tested without a browser).

    Parameters
    ----------
    assignment : Series
        ``territory_id`` by ``unit_id``.
    fills : Series
        Fill colour (CSS) by ``unit_id``; units without one are grey.
    labels, info : mapping, optional
        Per territory: the label drawn inside it, and a line of facts shown on hover.
    homes : DataFrame, optional
        Rep homes with ``home_lat``, ``home_lon``, ``name``.
    focus : str, optional
        Territory to outline; the map zooms to it whenever ``focus_token`` changes.
    selectable : bool
        Show the selection tools (False: a map to look at).
    """
    territory = layer.aligned(assignment.astype(str))
    territories = sorted(set(territory.dropna()) | set(labels or {}))
    codes = pd.Categorical(territory, categories=territories).codes
    colour = layer.aligned(fills)
    palette = sorted(set(colour.dropna()))
    fill_codes = pd.Categorical(colour, categories=palette).codes
    home_points = []
    if homes is not None:
        for rep_id, rep in homes.iterrows():
            if pd.notna(rep["home_lat"]) and pd.notna(rep["home_lon"]):
                home_points.append(
                    [float(rep["home_lat"]), float(rep["home_lon"]), f"{rep['name']} ({rep_id})"]
                )
    return {
        "geometry_url": layer.url,
        "height": int(height_px),
        "selectable": bool(selectable),
        "palette": palette,
        "fills": fill_codes.tolist(),
        "territories": territories,
        "territory_of": codes.tolist(),
        "labels": [(labels or {}).get(t, t) for t in territories],
        "info": [(info or {}).get(t, "") for t in territories],
        "selected": layer.positions(selected),
        "locked": layer.positions(locked),
        "detached": layer.positions(detached),
        "moved": layer.positions(moved),
        "homes": home_points,
        "focus": territories.index(focus) if focus in territories else -1,
        "focus_token": int(focus_token),
        "selection_nonce": selection_echo[0],
        "selection_seq": int(selection_echo[1]),
    }


def selection_from_map(value: Mapping, known: Collection[str]) -> tuple[list[str], tuple[str, int]]:
    """The selection the map sent (ids the data set lacks dropped) and the echo to send back."""
    return [u for u in value["selected"] if u in known], (str(value["nonce"]), int(value["seq"]))


def territory_map(arguments: dict, *, key: str, on_change=None) -> dict | None:
    """Draw the map with :func:`map_arguments`; returns the last selection the user made (or None)."""
    return _territory_map(**arguments, key=key, on_change=on_change, default=None)
