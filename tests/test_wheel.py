"""The built wheel carries the stylesheet, and the installed app loads it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = textwrap.dedent(
    """
    import asyncio, sys
    import qoder_tui
    from qoder_tui.app import QoderApp, styles_dir
    from qoder_tui.api.settings import Secret, Settings
    from qoder_tui.simulator import SimConfig, SimulatorServer, WorldConfig

    assert "site-packages" in qoder_tui.__file__, qoder_tui.__file__
    assert str(styles_dir()).startswith(str(qoder_tui.__path__[0])), styles_dir()

    async def main():
        async with SimulatorServer(SimConfig(token="t", world=WorldConfig(live=False))) as server:
            app = QoderApp(Settings(base_url=server.base_url, token=Secret("t")), open_live_session=True)
            async with app.run_test(size=(120, 36)) as pilot:
                screen = app.screen
                for _ in range(400):
                    store = getattr(screen, "log_view", None) and screen.log_view.store
                    if store is not None and store.started:
                        break
                    await pilot.pause(0.02)
                tree = screen.query_one("#tree")
                assert tree.styles.width.value == 38, tree.styles.width
                assert store is not None and len(store) > 0
        print("ok", qoder_tui.__file__)

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_wheel_installs_and_starts_with_its_stylesheet(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(dist.glob("qoder_tui-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "qoder_tui/styles/app.tcss" in names

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # Dependencies come from this environment (no download); the package itself only from the wheel.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run = subprocess.run(
        [str(python), "-c", CHECK], capture_output=True, text=True, timeout=120, cwd=str(tmp_path)
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok ") and str(venv) in run.stdout
