"""Streamlit-side helpers for the Terrain app (maps, cached loaders); the core is planner/."""
