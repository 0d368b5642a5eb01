"""The multi-input network's settings."""

from __future__ import annotations

import dataclasses

from vsexp.config import comma_separated
from vsexp.errors import ConfigError


BRANCHES = ("folded", "features", "dmdt", "sequence")


@dataclasses.dataclass(frozen=True)
class MultiConfig:
    """A network with one branch per input, merged before the classifier; see ``vsexp.models.multi``.

    ``branches`` picks the inputs (comma-separated): ``folded`` (the curve folded at its period),
    ``features`` (the scaled feature vector), ``dmdt`` (the dm-dt map), ``sequence`` (the padded
    raw curve). ``sequence,dmdt`` is the paper's proposed two-branch model; ``folded,features`` the
    period-aware one.
    """

    name: str = "multi"
    branches: str = "folded,features"
    folded_filters: tuple[int, ...] = (32, 64, 64)
    folded_kernels: tuple[int, ...] = (5, 5, 3)
    feature_units: tuple[int, ...] = (128, 64)
    dmdt_filters: tuple[int, ...] = (16, 32, 64)
    dmdt_kernels: tuple[int, ...] = (3, 5, 5)
    sequence_filters: tuple[int, ...] = (16, 16, 32, 32)
    sequence_kernels: tuple[int, ...] = (3, 3, 5, 5)
    lstm_units: tuple[int, ...] = (32,)
    dense_units: tuple[int, ...] = (256, 128)
    dropout_rate: float = 0.3

    def __post_init__(self):
        unknown = set(self.branch_list) - set(BRANCHES)
        if unknown or not self.branch_list:
            raise ConfigError(f"model.branches must be a comma-separated subset of {', '.join(BRANCHES)}, "
                              f"got '{self.branches}'")
        for prefix in ("folded", "dmdt", "sequence"):
            if len(getattr(self, f"{prefix}_filters")) != len(getattr(self, f"{prefix}_kernels")):
                raise ConfigError(f"model.{prefix}_filters and model.{prefix}_kernels must be of equal length")

    @property
    def branch_list(self) -> tuple[str, ...]:
        return comma_separated(self.branches)
