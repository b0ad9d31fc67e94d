"""The baseline of the workspace benchmark: the map as a folium page, rebuilt on every edit.

This is how the workspace drew its map before the territory map component: every unit
polygon with its fill and tooltip, and each territory's outline, written into a new
HTML page on each rerun (Leaflet loaded from the app's static files).
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd
import shapely

LEAFLET_JS = [("leaflet", "/app/static/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "/app/static/leaflet/leaflet.css")]


def folium_territory_map(
    units: gpd.GeoDataFrame, assignment: pd.Series, colours: Mapping[str, str], tolerance_deg: float = 0.02
) -> folium.Map:
    """Units filled by territory colour with a tooltip, and thick territory outlines."""
    geometry = shapely.set_precision(
        shapely.coverage_simplify(units.geometry.to_numpy(), tolerance_deg), 1e-3
    )
    shown = gpd.GeoDataFrame(
        {
            "name": units["name"].astype(str).to_numpy(),
            "territory": assignment.reindex(units.index).astype(str).to_numpy(),
        },
        geometry=geometry,
        index=units.index.astype(str),
        crs=units.crs,
    )
    shown["fill"] = shown["territory"].map(colours).fillna("#cccccc")
    fmap = folium.Map(tiles=None, prefer_canvas=True)
    fmap.default_js, fmap.default_css = list(LEAFLET_JS), list(LEAFLET_CSS)
    minx, miny, maxx, maxy = shown.total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.GeoJson(
        shown.__geo_interface__,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#fff", "weight": 0.4},
        tooltip=folium.GeoJsonTooltip(fields=["name", "territory"]),
    ).add_to(fmap)
    outlines = shown.dissolve("territory").boundary
    folium.GeoJson(
        outlines.__geo_interface__, style_function=lambda f: {"color": "#222", "weight": 1.8}
    ).add_to(fmap)
    return fmap
