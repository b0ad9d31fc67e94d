"""Table column formats shared by the pages: money in whole dollars with separators."""

from __future__ import annotations

import streamlit as st


def dollar_column(label: str | None = None, **kwargs) -> st.column_config.NumberColumn:
    """A money column shown as ``$1,114,923,799`` (whole dollars: step 1 sets the decimals to 0)."""
    return st.column_config.NumberColumn(label, format="dollar", step=1, **kwargs)
