"""The feature vector scaled for a network: robustly standardised with the training split's medians
and interquartile ranges, missing values at the median (0), clipped to +-10."""

from __future__ import annotations

import numpy as np

FEATURE_CLIP = 10.0


class ScaledFeaturesRepresentation:
    """``features_scaled``: [F] float32 (state: the training medians and interquartile ranges)."""

    name = "features_scaled"

    def fit(self, settings, train) -> tuple[tuple[float, ...], tuple[float, ...]]:
        features = train.features()
        center = np.nanmedian(features, axis=0)
        spread = np.nanpercentile(features, 75, axis=0) - np.nanpercentile(features, 25, axis=0)
        scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
        return tuple(np.nan_to_num(center).tolist()), tuple(scale.tolist())

    def needs_features(self, state) -> bool:
        return True

    def compute(self, state, curves, features, extractor, progress=None) -> np.ndarray:
        center, scale = (np.asarray(values) for values in state)
        scaled = (features - center) / scale
        return np.clip(np.nan_to_num(scaled, nan=0.0), -FEATURE_CLIP, FEATURE_CLIP).astype(np.float32)

    def to_dict(self, state) -> dict:
        return {"feature_center": list(state[0]), "feature_scale": list(state[1])}

    def from_dict(self, data: dict):
        return tuple(data["feature_center"]), tuple(data["feature_scale"])


REPRESENTATION = ScaledFeaturesRepresentation()
