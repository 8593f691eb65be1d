"""docs/card-file-map.md is generated from neweid.formats.filemap and must not go stale (CARD-2, CARD-9)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from neweid.formats.filemap import MASTER_FILES, ZONES, Access

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_file_map.py"
DOC = ROOT / "docs" / "card-file-map.md"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_file_map", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_committed_doc_is_up_to_date() -> None:
    result = _run("--check")
    assert result.returncode == 0, result.stderr


def test_check_detects_stale_and_missing_doc(tmp_path: Path, gen: ModuleType) -> None:
    target = tmp_path / "map.md"
    assert _run("--check", "--output", str(target)).returncode == 1  # missing
    assert _run("--output", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8") == gen.render()
    assert _run("--check", "--output", str(target)).returncode == 0
    target.write_text(gen.render().replace("| 2F00 |", "| 2F01 |"), encoding="utf-8")
    stale = _run("--check", "--output", str(target))
    assert stale.returncode == 1
    assert "stale" in stale.stderr


def test_every_file_has_a_row(gen: ModuleType) -> None:
    text: str = gen.render()
    for spec in MASTER_FILES:
        assert f"| {spec.name} | {spec.fid:04X} | {spec.sfi:02X} |" in text
    for zone in ZONES:
        assert zone.aid.hex().upper() in text
        assert f"DF FID `{zone.fid:04X}`" in text
        for spec in zone.files:
            assert f"| {spec.name} | {spec.fid:04X} | {spec.sfi:02X} | {spec.content} |" in text


def test_rows_state_read_and_update_conditions(gen: ModuleType) -> None:
    text: str = gen.render()
    photo_row = next(line for line in text.splitlines() if "| DG10 | 010A |" in line)
    assert "| SM | read-only | contact, contactless | 32,768 |" in photo_row
    address_row = next(line for line in text.splitlines() if "| full household address |" in line)
    assert "updatable (SM + TA)" in address_row
    sex_row = next(line for line in text.splitlines() if "| sex |" in line)
    assert "| SM + PIN1 + TA | read-only | contact only |" in sex_row


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        (Access.ALWAYS, "always"),
        (Access.SM, "SM"),
        (Access.SM | Access.PIN1 | Access.TA, "SM + PIN1 + TA"),
        (Access.SM | Access.PIN2, "SM + PIN2"),
        (Access.NEVER, "never"),
    ],
)
def test_describe_access(gen: ModuleType, access: Access, expected: str) -> None:
    assert gen.describe_access(access) == expected


def test_update_labels(gen: ModuleType) -> None:
    assert gen.describe_update(Access.NEVER) == "read-only"
    assert gen.describe_update(Access.SM | Access.TA) == "updatable (SM + TA)"


def test_memory_budget_fits_card_9(gen: ModuleType) -> None:
    total = sum(s.max_size for s in MASTER_FILES) + sum(s.max_size for z in ZONES for s in z.files)
    assert gen.total_max_size() == total
    assert total <= 120 * 1024
    assert f"**{total:,}**" in gen.render()
    assert "**fits**" in gen.render()


def test_legend_names_every_condition(gen: ModuleType) -> None:
    text: str = gen.render()
    for term in ("always", "SM", "PIN1", "PIN2", "TA", "never", "read-only", "updatable"):
        assert f"| **{term}** |" in text


def test_markdown_cells_are_escaped(gen: ModuleType) -> None:
    assert gen._row(("a|b", "c")) == "| a\\|b | c |"


def test_doc_carries_the_zones_tag_plan(gen: ModuleType) -> None:
    text: str = gen.render()
    assert "## Data-group encoding" in text
    assert "household   1    county_code 80" in text
