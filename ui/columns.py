"""Table column formats shared by the pages: money in whole dollars with separators, counts in units."""

from __future__ import annotations

import streamlit as st

from planner.plans.quota_lines import QuotaLine


def dollar_column(label: str | None = None, **kwargs) -> st.column_config.NumberColumn:
    """A money column shown as ``$1,114,923,799`` (whole dollars: step 1 sets the decimals to 0)."""
    return st.column_config.NumberColumn(label, format="dollar", step=1, **kwargs)


def amount_column(line: QuotaLine, label: str | None = None, **kwargs) -> st.column_config.NumberColumn:
    """A column of a quota line's amounts: whole dollars, or whole units of a count line."""
    if line.counts:
        return st.column_config.NumberColumn(label, format="%d", step=1, **kwargs)
    return dollar_column(label, **kwargs)


def unit_label(line: QuotaLine) -> str:
    """What a quota line's amounts are counted in, for column headers: ``$`` or ``deals``."""
    return line.unit if line.counts else "$"


def readable_columns(frame) -> dict:
    """Column configs for a raw table: sentence-case headers, whole dollars, dates without time."""
    config = {}
    for column in frame.columns:
        label = str(column).replace("_usd", " (USD)").replace("_id", " id").replace("_", " ")
        label = label[:1].upper() + label[1:]
        if str(column).endswith("_usd"):
            config[column] = dollar_column(label)
        elif str(frame[column].dtype).startswith("datetime"):
            config[column] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        else:
            config[column] = st.column_config.Column(label)
    return config
