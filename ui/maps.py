"""Folium maps that render offline.

Folium loads Leaflet from a CDN by default; behind a firewall the map stays silently
empty. Every map here loads Leaflet 1.9.4 (BSD-2, vendored from the npm package into
``static/leaflet/``) through Streamlit's static file serving
(``--server.enableStaticServing true`` serves ``static/`` at ``/app/static/``), draws
no basemap tiles, and uses the canvas renderer so ~3,100 county polygons stay fluid.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

LEAFLET_JS = [("leaflet", "/app/static/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "/app/static/leaflet/leaflet.css")]
#: ColorBrewer YlGnBu, 7 classes (sequential, colour-blind safe).
SEQUENTIAL = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
DISPLAY_TOLERANCE_DEG = 0.01


def display_units(units: gpd.GeoDataFrame, tolerance_deg: float = DISPLAY_TOLERANCE_DEG) -> gpd.GeoDataFrame:
    """Units with geometry simplified for display, shared borders kept shared (coverage simplify)."""
    simplified = shapely.coverage_simplify(units.geometry.to_numpy(), tolerance_deg)
    simplified = shapely.set_precision(simplified, 1e-4)  # ~10 m: fewer digits in the payload
    return units.set_geometry(gpd.GeoSeries(simplified, index=units.index, crs=units.crs))


def offline_map(bounds: np.ndarray) -> folium.Map:
    """A tile-less folium map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees)."""
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, zoom_snap=0.25)
    fmap.default_js = LEAFLET_JS
    fmap.default_css = LEAFLET_CSS
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
    classes, edges = quantile_classes(units[measure])
    colours = np.array(SEQUENTIAL)[np.linspace(0, len(SEQUENTIAL) - 1, len(edges) - 1).round().astype(int)]
    columns = list((tooltip_columns or {}).keys())
    layer = units[[*columns, "geometry"]].assign(_fill=colours[classes.to_numpy()])
    fmap = offline_map(units.total_bounds)
    folium.GeoJson(
        layer.reset_index(),
        name=measure,
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "fillOpacity": 0.85,
            "color": "#7a7a7a",
            "weight": 0.3,
        },
        tooltip=folium.GeoJsonTooltip(fields=columns, aliases=list((tooltip_columns or {}).values()))
        if columns
        else None,
    ).add_to(fmap)
    if territories is not None:
        outlines = units[["geometry"]].assign(territory_id=territories.reindex(units.index).to_numpy())
        dissolved = outlines.dissolve("territory_id").boundary.to_frame("geometry").reset_index()
        folium.GeoJson(
            dissolved,
            name="territories",
            style_function=lambda f: {"color": "#222222", "weight": 1.8, "fill": False},
            interactive=False,
        ).add_to(fmap)
    if homes is not None:
        for rep_id, rep in homes.iterrows():
            folium.CircleMarker(
                location=[rep["home_lat"], rep["home_lon"]],
                radius=4,
                color="#b30000",
                fill=True,
                fill_opacity=1.0,
                tooltip=f"{rep['name']} ({rep_id})",
            ).add_to(fmap)
    legend = [(colours[i], f"{edges[i]:,.0f} – {edges[i + 1]:,.0f}") for i in range(len(edges) - 1)]
    return fmap, legend
