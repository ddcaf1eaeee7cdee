"""The layers hold: the composition root (``launch``) above the services, the services
above the core (``pvmon``), and the API meeting the other services only through their
public modules (``.importlinter``). Each contract is also shown to fail when broken."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = configparser.ConfigParser()
CONTRACTS.read(ROOT / ".importlinter")
PACKAGES = CONTRACTS["importlinter"]["root_packages"].split()
"""The packages the contracts cover, as .importlinter lists them."""
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    return tree


def test_the_contracts_hold() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "injected", "broken"),
    [
        ("pvmon/domain.py", "import ingest.service", "pvmon.domain -> ingest.service"),
        ("ingest/parse.py", "import alerts.lifecycle", "ingest.parse -> alerts.lifecycle"),
        ("api/pages.py", "import alerts.lifecycle", "api.pages -> alerts.lifecycle"),
        ("alerts/rules.py", "import launch.up", "alerts.rules -> launch.up"),
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(
    tmp_path: Path, module: str, injected: str, broken: str
) -> None:
    tree = copy_of_the_tree(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\n{injected}  # injected by the test\n")
    result = lint(tree)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "BROKEN" in result.stdout
    assert broken in result.stdout, result.stdout[-3000:]
