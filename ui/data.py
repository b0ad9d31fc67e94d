"""Cached loaders shared by the pages (pure functions of their arguments)."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from planner.dataset import Dataset
from planner.demo import load_demo
from ui.maps import display_units


@st.cache_resource(max_entries=1, show_spinner="Loading the demo data set...")
def demo_dataset() -> Dataset:
    """The shipped demo data set, loaded once per server (treat it as read-only)."""
    return load_demo()


@st.cache_data(max_entries=4, show_spinner="Simplifying polygons for the map...")
def demo_display_units() -> gpd.GeoDataFrame:
    """Demo units with display-simplified polygons."""
    return display_units(demo_dataset().units)
