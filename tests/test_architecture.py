"""The core (planner/) never imports the UI (streamlit or the app's ui package)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "planner"
FORBIDDEN = ("streamlit", "ui", "app_pages")


def test_core_source_has_no_ui_imports():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_whole_core_loads_no_streamlit():
    modules = sorted(
        ".".join(p.relative_to(CORE.parent).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.stem not in ("__init__", "__main__") and "migrations" not in p.parts
    )
    assert len(modules) > 60  # every module of every folder
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'ui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_data_model_doc_is_generated_from_the_schema():
    from planner.data.schema import schema_markdown

    doc = (CORE.parent / "docs" / "data-model.md").read_text()
    assert doc.strip() == schema_markdown().strip(), "run: python -m planner.data.schema > docs/data-model.md"
