"""The API layer and the simulator never import textual."""

from __future__ import annotations

import ast
import subprocess
import sys


def test_api_and_simulator_do_not_import_textual() -> None:
    code = (
        "import sys, qoder_tui.api, qoder_tui.api.follower, qoder_tui.simulator, qoder_tui.cli, "
        "qoder_tui.render.summary, qoder_tui.store\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _loaded_after(code: str, *modules: str) -> list[str]:
    """Which of `modules` a fresh interpreter holds (loaded, not set aside) after `code`."""
    script = f"{code}\nimport sys\nprint(sorted(m for m in {modules!r} if sys.modules.get(m)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return ast.literal_eval(out.strip())


def test_httpx_is_imported_without_its_command_line_client() -> None:
    """qoder-tui never runs `httpx` the CLI: click and pygments stay out of a launch."""
    code = "import qoder_tui.api.client, httpx\nassert callable(httpx.AsyncClient)"
    assert _loaded_after(code, "click", "pygments", "httpx._main") == []


def test_a_launch_loads_no_emoji_table_and_compiles_no_wide_character_pattern() -> None:
    """Work a first paint does not need: rich's emoji table (read whenever a str label is
    parsed as markup) and the double-width pattern (only lines that are not ASCII)."""
    code = """
import asyncio, sys
from tests.conftest import running_sim, settings_for
from qoder_tui.app import QoderApp
from qoder_tui.screens.main import MainScreen
from qoder_tui.widgets import event_log

async def main():
    with running_sim() as sim:
        app = QoderApp(settings_for(sim), open_live_session=True, live=False)
        async with app.run_test(size=(140, 40)) as pilot:
            for _ in range(2000):
                screen = app.screen
                store = (
                    screen.log_view.store
                    if isinstance(screen, MainScreen) and screen.is_mounted
                    else None
                )
                if store is not None and len(store) and screen.tree_view.session_nodes:
                    break
                await pilot.pause(0.01)
            else:
                raise SystemExit("the session never showed")
            await pilot.pause()
            print(sorted(m for m in ("rich._emoji_codes",) if m in sys.modules),
                  event_log._wide is not None)

asyncio.run(main())
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.split("\n")[-2] == "[] False"


def test_the_viewer_is_imported_without_httpx() -> None:
    """httpx and its transport load with the app's first request of its own, after
    the first paint (the opening answers come through api/prefetch.py, standard library only)."""
    code = (
        "import qoder_tui.cli, qoder_tui.app\n"
        "from qoder_tui.api.prefetch import Prefetch\n"
        "from qoder_tui.api.client import tls_context\n"
        "tls_context('https://api.qoder.com/api/v1/cloud/')"
    )
    assert _loaded_after(code, "httpx", "httpcore", "h11", "anyio") == []


def test_every_package_the_app_imports_is_declared_in_pyproject() -> None:
    """Each third-party package a module of qoder_tui imports (at any depth, eagerly or on
    first use) is one pyproject.toml names: the simulator's in its optional extra, the
    rest in the dependencies.  (A package that only arrives with another may not.)"""
    import re
    import tomllib
    from importlib.metadata import packages_distributions
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\s<>=!\[;~]", r, maxsplit=1)[0].lower() for r in requirements}

    core = names(project["dependencies"])
    simulator = core | names(project["optional-dependencies"]["simulator"])
    dists = packages_distributions()
    missing: set[tuple[str, str]] = set()
    for path in (root / "qoder_tui").rglob("*.py"):
        declared = simulator if "simulator" in path.relative_to(root).parts else core
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "qoder_tui":
                    continue
                owners = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
                if not owners & declared:
                    missing.add((str(path.relative_to(root)), module))
    assert not missing, sorted(missing)
