"""The multi-input network: branches by config, dict inputs (trained and served through the registry's tests)."""

import pytest

from vsexp.errors import ConfigError
from vsexp.models.multi.config import MultiConfig
from vsexp.models.multi.network import build_multi
from vsexp.models.registry import family


def test_branches_select_inputs():
    inputs = family("multi").inputs
    assert inputs(MultiConfig()) == ("folded", "features_scaled")
    assert inputs(MultiConfig(branches="sequence,dmdt")) == ("sequence", "dmdt")
    model = build_multi(MultiConfig(branches="folded,features,dmdt,sequence"),
                        {"folded": (64, 2), "features_scaled": (50,), "dmdt": (24, 16), "sequence": (128, 1)}, 5)
    assert len(model.inputs) == 4 and model.output_shape == (None, 5)
    with pytest.raises(ConfigError, match="subset of folded, features, dmdt, sequence"):
        MultiConfig(branches="folded,spectra")
