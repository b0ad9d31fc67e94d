"""The territory map: a Leaflet map in the browser that recolours, labels and selects in place.

The unit polygons are written once per data set to a file under ``static/maps/`` (see
:mod:`ui.territory_map.layer`); each rerun then sends only what changed (territory of
each unit, colours, selection) and the browser restyles the polygons it already holds
(see :mod:`ui.territory_map.component`).
"""
