"""Folium maps that render offline.

Folium loads Leaflet from a CDN by default; behind a firewall the map stays silently
empty. Every map here loads Leaflet 1.9.4 (BSD-2, vendored from the npm package into
``static/leaflet/``) through Streamlit's static file serving
(``--server.enableStaticServing true`` serves ``static/`` at ``/app/static/``), draws
no basemap tiles, and uses the canvas renderer so ~3,100 county polygons stay fluid.
The drawing toolbar (folium's ``Draw`` plugin) likewise loads Leaflet.draw 1.0.4 (MIT,
vendored from the npm package ``leaflet-draw`` into ``static/leaflet-draw/``).

Nothing here imports Streamlit: these are pure functions from frames to folium objects.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from planner.money import format_usd

LEAFLET_JS = [("leaflet", "/app/static/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "/app/static/leaflet/leaflet.css")]
#: ColorBrewer YlGnBu, 7 classes (sequential, colour-blind safe).
SEQUENTIAL = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
LEAFLET_DRAW_JS = [("leaflet_draw_js", "/app/static/leaflet-draw/leaflet.draw.js")]
LEAFLET_DRAW_CSS = [("leaflet_draw_css", "/app/static/leaflet-draw/leaflet.draw.css")]
#: Tableau 10: a categorical palette of ten colours that stay apart on a map.
CATEGORICAL = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
DISPLAY_TOLERANCE_DEG = 0.01
#: The editing map is lighter: about 2 km simplification, 3 decimals (~100 m) per coordinate.
EDITOR_TOLERANCE_DEG = 0.02
EDITOR_PRECISION_DEG = 1e-3
SELECTED_STYLE = {"color": "#111111", "weight": 2.5, "fillColor": "#ffffff", "fillOpacity": 0.45}
LOCKED_STYLE = {"color": "#1f3b73", "weight": 2.0, "dashArray": "4 3", "fill": False}
DETACHED_STYLE = {"color": "#d7191c", "weight": 3.0, "fillColor": "#d7191c", "fillOpacity": 0.25}


def display_units(
    units: gpd.GeoDataFrame, tolerance_deg: float = DISPLAY_TOLERANCE_DEG, *, precision_deg: float = 1e-4
) -> gpd.GeoDataFrame:
    """Units with geometry simplified for display, shared borders kept shared (coverage simplify).

    ``precision_deg`` snaps coordinates to a grid (1e-4 is about 10 m): fewer digits in the payload.
    """
    simplified = shapely.coverage_simplify(units.geometry.to_numpy(), tolerance_deg)
    simplified = shapely.set_precision(simplified, precision_deg)
    return units.set_geometry(gpd.GeoSeries(simplified, index=units.index, crs=units.crs))


def offline_map(bounds: np.ndarray) -> folium.Map:
    """A tile-less folium map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees)."""
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, zoom_snap=0.25)
    fmap.default_js = list(LEAFLET_JS)  # copies: folium's add_js_link would change a shared list
    fmap.default_css = list(LEAFLET_CSS)
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def quantile_classes(values: pd.Series, n_classes: int = len(SEQUENTIAL)) -> tuple[pd.Series, list[float]]:
    """Class (0..n-1) of each value by quantiles, and the class edges (n+1 values)."""
    finite = values.astype(float)
    edges = np.unique(np.nanquantile(finite, np.linspace(0, 1, n_classes + 1)))
    if len(edges) < 2:
        edges = np.array([finite.min(), finite.max() + 1.0])
    classes = np.clip(np.searchsorted(edges, finite, side="right") - 1, 0, len(edges) - 2)
    return pd.Series(classes, index=values.index), edges.tolist()


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of polygons: the fast coverage union, or a full union when they overlap (not a coverage)."""
    merged = shapely.coverage_union_all(geoms)
    return merged if shapely.is_valid(merged) else shapely.union_all(shapely.make_valid(geoms))


def territory_outlines(units: gpd.GeoDataFrame, assignment: pd.Series) -> gpd.GeoDataFrame:
    """Boundary of each territory (index ``territory_id``), from display polygons that form a coverage.

    Uses ``shapely.coverage_union_all`` per territory (about 20x faster than ``dissolve``
    on simplified counties, since shared edges are known to match).
    """
    labels = assignment.reindex(units.index).to_numpy()
    geoms = units.geometry.to_numpy()
    ids, inverse = np.unique(labels.astype(str), return_inverse=True)
    boundaries = [shapely.boundary(_union(geoms[inverse == k])) for k in range(len(ids))]
    return gpd.GeoDataFrame({"geometry": boundaries}, index=pd.Index(ids, name="territory_id"), crs=units.crs)


def territory_pairs(edges: pd.DataFrame, assignment: pd.Series) -> set[tuple[str, str]]:
    """Pairs of territories ``(a, b)``, ``a < b``, that share a unit border.

    Parameters
    ----------
    edges : DataFrame
        Unit adjacency as ``unit_a``, ``unit_b`` (see :meth:`planner.data.adjacency.Adjacency.edge_frame`).
    assignment : Series
        ``territory_id`` by ``unit_id``.
    """
    a = assignment.reindex(edges["unit_a"]).to_numpy(dtype=object)
    b = assignment.reindex(edges["unit_b"]).to_numpy(dtype=object)
    keep = pd.notna(a) & pd.notna(b) & (a != b)
    return {(min(x, y), max(x, y)) for x, y in zip(a[keep], b[keep], strict=True)}


def colour_territories(
    territories: Iterable[str],
    pairs: Collection[tuple[str, str]],
    previous: Mapping[str, str] | None = None,
    palette: tuple[str, ...] = CATEGORICAL,
) -> dict[str, str]:
    """A colour per territory such that neighbours rarely share one (greedy graph colouring).

    Territories keep their ``previous`` colour unless a neighbour that comes first (most
    neighbours first, then by id) took it, so one edit recolours few territories. A
    territory with neighbours in every colour gets the colour least used among them.

    Examples
    --------
    >>> colour_territories(["A", "B", "C"], {("A", "B"), ("B", "C")}, palette=("red", "blue"))
    {'B': 'red', 'A': 'blue', 'C': 'blue'}
    """
    ids = list(dict.fromkeys(str(t) for t in territories))
    neighbours: dict[str, set[str]] = {t: set() for t in ids}
    for a, b in pairs:
        if a in neighbours and b in neighbours:
            neighbours[a].add(b)
            neighbours[b].add(a)
    previous = previous or {}
    order = sorted(ids, key=lambda t: (t not in previous, -len(neighbours[t]), t))
    usage = dict.fromkeys(palette, 0)
    colours: dict[str, str] = {}
    for territory in order:
        taken = [colours[n] for n in neighbours[territory] if n in colours]
        wanted = previous.get(territory)
        if wanted in usage and wanted not in taken:
            choice = wanted
        else:
            free = [c for c in palette if c not in taken]
            pool = free or palette
            choice = min(pool, key=lambda c: (taken.count(c), usage[c]))
        colours[territory] = choice
        usage[choice] += 1
    return colours


def draw_control() -> folium.plugins.Draw:
    """Folium's Draw toolbar (rectangle and polygon only), loading Leaflet.draw from ``static/``."""
    draw = folium.plugins.Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            # showArea off: Leaflet.draw 1.0.4 assigns an undeclared variable while measuring area
            # (github.com/Leaflet/Leaflet.draw/issues/1026).
            "rectangle": {"showArea": False, "shapeOptions": {"color": "#111111", "weight": 2}},
            "polygon": {"showArea": False, "shapeOptions": {"color": "#111111", "weight": 2}},
        },
        edit_options={"edit": False},
    )
    draw.default_js = list(LEAFLET_DRAW_JS)
    draw.default_css = list(LEAFLET_DRAW_CSS)
    return draw


def editor_map(bounds: np.ndarray) -> folium.Map:
    """Offline map fitted to ``bounds`` with the drawing toolbar; layers go in a FeatureGroup on top."""
    fmap = offline_map(bounds)
    draw_control().add_to(fmap)
    return fmap


def _homes_layer(parent: folium.Map | folium.FeatureGroup, homes: pd.DataFrame) -> None:
    for rep_id, rep in homes.iterrows():
        if pd.isna(rep["home_lat"]) or pd.isna(rep["home_lon"]):
            continue
        folium.CircleMarker(
            location=[float(rep["home_lat"]), float(rep["home_lon"])],
            radius=4,
            color="#b30000",
            fill=True,
            fill_opacity=1.0,
            tooltip=f"{rep['name']} ({rep_id})",
        ).add_to(parent)


def geometry_json(geometries: gpd.GeoSeries) -> dict[str, dict]:
    """GeoJSON geometry (as a dict) of each geometry, by index value as str."""
    texts = shapely.to_geojson(geometries.to_numpy())
    return {str(k): json.loads(t) for k, t in zip(geometries.index, texts, strict=True)}


@dataclass(frozen=True)
class MapUnits:
    """Display polygons of the units with their GeoJSON made once (cache one per data set).

    Converting ~3,100 polygons to GeoJSON takes longer than everything else on a map, so
    the maps below take a ``MapUnits`` and only add the per-plan properties.

    Attributes
    ----------
    frame : GeoDataFrame
        Display geometry and tooltip text columns, indexed by ``unit_id``.
    geometries : dict
        ``unit_id`` -> GeoJSON geometry dict (shared: never modify).
    """

    frame: gpd.GeoDataFrame
    geometries: Mapping[str, dict]

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> MapUnits:
        """Wrap display units, converting their geometry to GeoJSON."""
        frame = frame.set_axis(frame.index.astype(str))
        return cls(frame, geometry_json(frame.geometry))

    @property
    def bounds(self) -> np.ndarray:
        """minx, miny, maxx, maxy in degrees."""
        return self.frame.total_bounds

    def features(self, properties: pd.DataFrame) -> dict:
        """A FeatureCollection of the units indexed in ``properties``, whose columns become properties.

        Every feature has ``id`` and property ``unit_id`` equal to its unit id.
        """
        ids = properties.index.astype(str)
        columns = list(properties.columns)
        rows = zip(*(properties[c].tolist() for c in columns), strict=True) if columns else ((),) * len(ids)
        features = [
            {
                "type": "Feature",
                "id": unit_id,
                "geometry": self.geometries[unit_id],
                "properties": {"unit_id": unit_id, **dict(zip(columns, row, strict=True))},
            }
            for unit_id, row in zip(ids, rows, strict=True)
        ]
        return {"type": "FeatureCollection", "features": features}


def _map_units(units: gpd.GeoDataFrame | MapUnits) -> MapUnits:
    # Test for the frame, not for MapUnits: a cached MapUnits may come from a module
    # that Streamlit has reloaded since (its class is then another object).
    return MapUnits.from_frame(units) if isinstance(units, gpd.GeoDataFrame) else units


def _outline_layer(
    parent: folium.Map | folium.FeatureGroup, units: gpd.GeoDataFrame, territories: pd.Series
) -> None:
    outlines = territory_outlines(units, territories)
    folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "id": str(t), "geometry": g, "properties": {"territory_id": str(t)}}
                for t, g in geometry_json(outlines.geometry).items()
            ],
        },
        name="territories",
        style_function=lambda f: {"color": "#222222", "weight": 1.8, "fill": False},
        interactive=False,
    ).add_to(parent)


def _tooltip(tooltip_columns: Mapping[str, str] | None) -> folium.GeoJsonTooltip | None:
    if not tooltip_columns:
        return None
    return folium.GeoJsonTooltip(fields=list(tooltip_columns), aliases=list(tooltip_columns.values()))


def _filled_layer(
    parent: folium.Map | folium.FeatureGroup,
    shapes: MapUnits,
    properties: pd.DataFrame,
    style: Mapping[str, object],
    name: str,
    tooltip_columns: Mapping[str, str] | None,
) -> None:
    """Units filled with their ``fill`` property, styled in the browser.

    A Python ``style_function`` makes folium write a style switch listing every feature
    id; a JavaScript style reading ``feature.properties.fill`` is lighter and faster.
    """
    script = f"function(feature) {{ return Object.assign({json.dumps(dict(style))}, "
    script += "{fillColor: feature.properties.fill}); }"
    folium.GeoJson(
        shapes.features(properties),
        name=name,
        tooltip=_tooltip(tooltip_columns),
        style=JsCode(script),
    ).add_to(parent)


def add_measure_layers(
    parent: folium.Map | folium.FeatureGroup,
    units: gpd.GeoDataFrame | MapUnits,
    measure: str | pd.Series,
    *,
    territories: pd.Series | None = None,
    homes: pd.DataFrame | None = None,
    tooltip_columns: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Add the layers of :func:`measure_map` to ``parent`` (a map or a feature group); return the legend.

    ``measure`` is a column of ``units`` or, with :class:`MapUnits`, a Series by ``unit_id``.
    """
    shapes = _map_units(units)
    frame = shapes.frame
    values = measure if isinstance(measure, pd.Series) else frame[measure]
    values = values.set_axis(values.index.astype(str)).reindex(frame.index)
    classes, edges = quantile_classes(values)
    colours = np.array(SEQUENTIAL)[np.linspace(0, len(SEQUENTIAL) - 1, len(edges) - 1).round().astype(int)]
    fill = dict(zip(frame.index, colours[classes.to_numpy()], strict=True))
    columns = list((tooltip_columns or {}).keys())
    labels = None if territories is None else territories.set_axis(territories.index.astype(str))
    properties = frame[[c for c in columns if c != "territory" or labels is None]]
    if labels is not None and "territory" in columns:
        properties = properties.assign(territory=labels.reindex(frame.index).astype(str).to_numpy())
    _filled_layer(
        parent,
        shapes,
        properties.assign(fill=[fill[u] for u in frame.index]),
        {"fillOpacity": 0.85, "color": "#7a7a7a", "weight": 0.3},
        str(values.name or "measure"),
        tooltip_columns,
    )
    if labels is not None:
        _outline_layer(parent, frame, labels)
    if homes is not None:
        _homes_layer(parent, homes)
    return [(colours[i], f"{edges[i]:,.0f} – {edges[i + 1]:,.0f}") for i in range(len(edges) - 1)]


def measure_map(
    units: gpd.GeoDataFrame,
    measure: str,
    *,
    territories: pd.Series | None = None,
    homes: pd.DataFrame | None = None,
    tooltip_columns: dict[str, str] | None = None,
) -> tuple[folium.Map, list[tuple[str, str]]]:
    """Choropleth of ``measure`` by quantile class, with territory outlines and rep homes.

    Parameters
    ----------
    units : GeoDataFrame
        Display geometry (see :func:`display_units`), indexed by ``unit_id``.
    measure : str
        Numeric column to colour by.
    territories : Series, optional
        ``territory_id`` by ``unit_id``; outlines are drawn around each territory.
    homes : DataFrame, optional
        Rep home bases with ``home_lat``, ``home_lon``, ``name``, drawn as circle markers.
    tooltip_columns : dict, optional
        Column -> label shown in each unit's tooltip (pre-formatted text columns).

    Returns
    -------
    (folium.Map, legend) where legend lists ``(colour, range label)`` pairs.
    """
    fmap = offline_map(units.total_bounds)
    legend = add_measure_layers(
        fmap, units, measure, territories=territories, homes=homes, tooltip_columns=tooltip_columns
    )
    return fmap, legend


def add_territory_layers(
    parent: folium.Map | folium.FeatureGroup,
    units: gpd.GeoDataFrame | MapUnits,
    territories: pd.Series,
    colours: Mapping[str, str],
    *,
    homes: pd.DataFrame | None = None,
    tooltip_columns: dict[str, str] | None = None,
) -> None:
    """Units filled by territory colour, thick territory outlines and rep homes.

    Every unit feature carries ``unit_id`` and ``territory`` in its properties, so a
    click on the map says which unit was clicked.

    Parameters
    ----------
    units : GeoDataFrame or MapUnits
        Display geometry indexed by ``unit_id``, with the tooltip columns.
    territories : Series
        ``territory_id`` by ``unit_id``.
    colours : mapping
        Fill colour per territory (see :func:`colour_territories`); others are grey.
    tooltip_columns : dict, optional
        Column -> label in each unit's tooltip; the column ``territory`` is filled in here.
    """
    shapes = _map_units(units)
    frame = shapes.frame
    labels = territories.set_axis(territories.index.astype(str)).reindex(frame.index).astype(str)
    columns = [c for c in (tooltip_columns or {}) if c != "territory"]
    properties = frame[columns].assign(territory=labels.to_numpy())
    palette = dict(colours)
    _filled_layer(
        parent,
        shapes,
        properties.assign(fill=[palette.get(t, "#cccccc") for t in labels]),
        {"fillOpacity": 0.8, "color": "#ffffff", "weight": 0.4},
        "units",
        tooltip_columns,
    )
    _outline_layer(parent, frame, labels)
    if homes is not None:
        _homes_layer(parent, homes)


def add_highlight(
    parent: folium.Map | folium.FeatureGroup,
    units: gpd.GeoDataFrame | MapUnits,
    unit_ids: Iterable[str],
    style: Mapping[str, object],
    name: str,
) -> None:
    """Draw ``unit_ids`` again on top with ``style`` (selection, locks, detached pieces); not clickable."""
    shapes = _map_units(units)
    ids = shapes.frame.index.intersection(pd.Index([str(u) for u in unit_ids]))
    if not len(ids):
        return
    fixed = dict(style)
    folium.GeoJson(
        shapes.features(pd.DataFrame(index=ids)),
        name=name,
        style_function=lambda f: fixed,
        interactive=False,
    ).add_to(parent)


#: Tooltip of a unit on the editing maps: column -> label (text columns of :func:`map_units`).
UNIT_TOOLTIP = {
    "name": "Unit",
    "territory": "Territory",
    "tam_text": "TAM",
    "bookings_text": "Bookings 12m",
    "accounts_text": "Accounts",
}


def _money(values: pd.Series) -> pd.Series:
    """Whole-dollar tooltip text of a ``*_usd`` column (empty where missing)."""
    return values.map(lambda v: format_usd(usd=v, decimals=0) if pd.notna(v) else "")


def map_units(units: gpd.GeoDataFrame) -> MapUnits:
    """Units for the editing maps: light polygons, their GeoJSON and tooltip text (cache the result).

    The frame holds ``name``, ``tam_text``, ``bookings_text``, ``accounts_text``; a
    measure the data set lacks shows an empty text.
    """
    light = display_units(units, EDITOR_TOLERANCE_DEG, precision_deg=EDITOR_PRECISION_DEG)
    blank = pd.Series("", index=units.index)
    frame = pd.DataFrame(
        {
            "name": units["name"].astype(str) if "name" in units else units.index.to_series().astype(str),
            "tam_text": _money(units["tam_usd"]) if "tam_usd" in units else blank,
            "bookings_text": _money(units["bookings_usd"]) if "bookings_usd" in units else blank,
            "accounts_text": units["accounts"].map("{:,.0f}".format) if "accounts" in units else blank,
        },
        index=units.index,
    )
    return MapUnits.from_frame(gpd.GeoDataFrame(frame, geometry=light.geometry, crs=units.crs))


def field_reps(reps: pd.DataFrame) -> pd.DataFrame | None:
    """Reps to draw as home markers: not managers, with ``home_lat``/``home_lon``/``name``; None if none."""
    if not {"home_lat", "home_lon", "name"} <= set(reps.columns) or not len(reps):
        return None
    return reps[reps["role"] != "manager"] if "role" in reps.columns else reps


def workspace_map(
    shapes: MapUnits,
    assignment: pd.Series,
    colours: Mapping[str, str],
    *,
    colour_by: str | pd.Series = "territory",
    homes: pd.DataFrame | None = None,
    selected: Iterable[str] = (),
    locked: Iterable[str] = (),
    detached: Iterable[str] = (),
) -> tuple[folium.Map, folium.FeatureGroup, list[tuple[str, str]]]:
    """The workspace's map: a fixed base (offline map + Draw toolbar) and a layer group for the plan.

    Give the group to ``st_folium(feature_group_to_add=...)``: edits then replace the
    layers without reloading the map, so the view (zoom, pan) stays where the user left it.

    Parameters
    ----------
    shapes : MapUnits
        Units for display (see :func:`map_units`).
    assignment : Series
        ``territory_id`` by ``unit_id``.
    colours : mapping
        Fill colour per territory.
    colour_by : "territory" or Series
        Fill by territory, or a choropleth of this measure (Series by ``unit_id``, named).
    homes : DataFrame, optional
        Rep homes drawn as circle markers.
    selected, locked, detached : iterables of unit ids
        Drawn on top: selected (white, black border), locked (dashed), cut off from
        their territory (red).

    Returns
    -------
    (base map, layer group, legend as ``(colour, label)`` pairs)
    """
    fmap = editor_map(shapes.bounds)
    layers = folium.FeatureGroup(name="plan")
    if isinstance(colour_by, pd.Series):
        legend = add_measure_layers(
            layers, shapes, colour_by, territories=assignment, homes=homes, tooltip_columns=UNIT_TOOLTIP
        )
    else:
        add_territory_layers(layers, shapes, assignment, colours, homes=homes, tooltip_columns=UNIT_TOOLTIP)
        legend = [(colours[t], str(t)) for t in sorted(set(assignment.astype(str))) if t in colours]
    add_highlight(layers, shapes, selected, SELECTED_STYLE, "selected")
    add_highlight(layers, shapes, locked, LOCKED_STYLE, "locked")
    add_highlight(layers, shapes, detached, DETACHED_STYLE, "detached")  # on top: problems stay visible
    return fmap, layers, legend
