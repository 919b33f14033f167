"""docs/ecr-coverage.md is generated from the code and must stay in step with it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from stiva.api.ecr.model import EcrModel
from stiva.api.ecr.operations import NOT_YET, OPERATIONS
from stiva.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "ecr-coverage.md"


def test_coverage_doc_is_current() -> None:
    result = CliRunner().invoke(main, ["ecr-coverage"])
    assert result.exit_code == 0
    assert DOC.read_text() == result.output, "run: stiva ecr-coverage > docs/ecr-coverage.md"


def test_every_served_operation_is_in_the_model() -> None:
    text = DOC.read_text()
    for name in OPERATIONS:
        assert f"| {name} | served |" in text


def test_every_model_operation_is_in_a_table() -> None:
    model = set(EcrModel.load().operation_names())
    assert model - OPERATIONS.keys() - NOT_YET.keys() == set()
    assert OPERATIONS.keys() & NOT_YET.keys() == set()
    assert (OPERATIONS.keys() | NOT_YET.keys()) - model == set()
