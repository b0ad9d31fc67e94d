"""Terrain: the Streamlit entry point. Sets the page config and routes to the pages.

Run with ``streamlit run app.py --server.enableStaticServing true`` (static serving
delivers the vendored Leaflet, so maps render offline).
"""

import streamlit as st

from ui.identity import banner

st.set_page_config(page_title="Terrain", page_icon=":world_map:", layout="wide")
banner()  # sign-in gate, or the demo-mode warning, on every page

pages = [
    st.Page("app_pages/overview.py", title="Data overview", icon=":material/map:", default=True),
    st.Page("app_pages/workspace.py", title="Territory workspace", icon=":material/edit_location_alt:"),
    st.Page("app_pages/scenarios.py", title="Scenarios", icon=":material/compare:"),
    st.Page("app_pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page("app_pages/capacity.py", title="Capacity", icon=":material/groups:"),
    st.Page("app_pages/quotas.py", title="Quotas", icon=":material/target:"),
    st.Page("app_pages/approvals.py", title="Approvals", icon=":material/fact_check:"),
    st.Page("app_pages/exports.py", title="Exports", icon=":material/download:"),
    st.Page("app_pages/comp.py", title="Comp", icon=":material/payments:"),
]
st.navigation(pages).run()
