"""Session-state keys of the app, in one place: pages and helpers use these names, never literals.

Values kept per browser session (``st.session_state``), never in module globals:

- the data set the user uploaded (the demo otherwise), with a token naming it;
- the :class:`ui.workspace.Workspace` (plan history for undo/redo, locked units);
- saved scenarios, the territory colours (kept stable across edits), the last
  optimization's before/after report and the problems of the last upload.

Keys of widgets are listed too, so callbacks and tests address widgets by name.
"""

from __future__ import annotations

# Values owned by the app.
DATASET = "terrain.dataset"  #: uploaded Dataset; absent means the demo
DATASET_TOKEN = "terrain.dataset_token"  #: "demo" or "upload-<sha256 of the files>"
DEMO_GEOGRAPHY = "ws_demo_geography"  #: radio: which demo geography (a token of ui.data.DEMO_GEOGRAPHIES)
DATASET_LABEL = "terrain.dataset_label"  #: what the data set is called in captions
WORKSPACE = "terrain.workspace"  #: ui.workspace.Workspace
SCENARIOS = "terrain.scenarios"  #: dict name -> Plan, in the order saved
COLOURS = "terrain.colours"  #: dict territory_id -> fill colour
CANDIDATES = "terrain.candidates"  #: ui.optimize_panel.Candidates: plans from the last optimize or frontier
PLAN_VIEW = "terrain.plan_view"  #: ((plan, tolerances), derived tables) of the last plan drawn
MAP_ECHO = "terrain.map_echo"  #: (nonce, seq) of the last selection the map sent
FOCUS_TOKEN = "terrain.focus_token"  #: increases each time the user asks the map to zoom to a territory
UPLOAD_PROBLEMS = "terrain.upload_problems"  #: list of (severity, text) from the last upload
NOTICE = "terrain.notice"  #: (kind, text) shown once at the top of the workspace

# Widgets of the workspace page.
SELECTION = "ws_selection"  #: selected unit ids (set by the map, cleared by the Clear button)
MOVE_TARGET = "ws_move_target"  #: selectbox of existing territories
NEW_TERRITORY = "ws_new_territory"  #: text input: a new territory id (wins over MOVE_TARGET)
COLOUR_BY = "ws_colour_by"  #: selectbox: "territory" or a measure
MAP = "ws_map"  #: territory map key; its value is the last selection made on the map
FIND_TERRITORY = "ws_find_territory"  #: selectbox: territory to zoom to and outline
CHART_MEASURE = "ws_chart_measure"  #: selectbox: the measure of the deviation chart
PREVIEW = "ws_preview"  #: radio: which candidate plan the map previews ("" for none)
BALANCE_MEASURES = "ws_balance_measures"  #: multiselect of measures in the balance table
TOLERANCE_PREFIX = "ws_tolerance_pct_"  #: + measure: number input, tolerance in percent
HARD_MEASURES = "ws_hard_measures"  #: multiselect: measures whose tolerance is a hard limit
BUDGET_MULTIPLE = (
    "ws_budget_multiple"  #: select slider: budget as a multiple of the transport floor, or "none"
)
KEEP_HOMES = "ws_keep_homes"  #: checkbox: territories stay around their reps' homes
TIME_LIMIT = "ws_time_limit_s"
COMPACTNESS = "ws_compactness_weight"
SCENARIO_NAME = "ws_scenario_name"
UPLOADER = "ws_uploader"

# Widgets of the scenarios page.
SCENARIO_LEFT = "sc_left"
SCENARIO_RIGHT = "sc_right"

# Quotas and approvals.
USER = "terrain.user"  #: selectbox: the acting user id (roles apply in the core)
QUOTA_VERSION = "q_version"  #: selectbox of plan version ids on the Quotas page
QUOTA_LINE = "q_line"  #: the quota line shown on the Quotas page (versions with several lines)
APPROVAL_VERSION = "ap_version"  #: selectbox of plan version ids on the Approvals page
