"""The runnable examples in the package's docstrings (every module with one), as a user would run them."""

import doctest
import importlib
from pathlib import Path

import pytest

import vsexp

PACKAGE = Path(vsexp.__file__).parent
WITH_EXAMPLES = sorted(".".join(("vsexp", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
                       for path in PACKAGE.rglob("*.py") if ">>> " in path.read_text())


def test_the_public_api_and_the_registry_have_examples():
    assert {"vsexp.api", "vsexp.models.registry", "vsexp.presets"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
