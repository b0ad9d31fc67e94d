"""The progress callback every long-running core function accepts.

A leaf module (it imports nothing from the planner), so every folder of the core may use
it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable

#: Called with (fraction done 0-1, message) as a long computation works: the optimizer,
#: a backtest, an export, a comp run. The CLI feeds it to a rich progress bar, the app to
#: ``st.progress``.
ProgressCallback = Callable[[float, str], None]

__all__ = ["ProgressCallback"]
