"""The API layer and the simulator never import textual."""

from __future__ import annotations

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


def test_httpx_is_imported_without_its_command_line_client() -> None:
    """qoder-tui never runs `httpx` the CLI: click and pygments stay out of a launch."""
    code = (
        "import sys, qoder_tui.api.client, httpx;"
        "assert callable(httpx.AsyncClient);"
        "print(sorted(m for m in ('click', 'pygments', 'httpx._main') if sys.modules.get(m)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
