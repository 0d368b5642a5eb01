"""The served model: an MLflow pyfunc that takes raw light curves and returns class probabilities.

Input: a DataFrame with one row per star and columns ``times``, ``mags``, ``errors`` (lists of
floats of any length; an optional ``id``). Every row is validated like a file (non-finite values
and non-positive errors removed, sorted, shared timestamps merged); a row left with fewer than
``min_points`` points (a request parameter; default: the minimum the model was trained and
evaluated with, ``data.min_points``) makes the whole request fail with a message naming the row. Output: ``label``, ``probability`` (of the label), ``n_points`` and one
``prob_<class>`` column per class. ``label`` is ``unknown`` where the top probability is below
``unknown_threshold`` (a request parameter; default: the model's own, fitted on its validation split
with ``unknown.rate``, whose probabilities are then calibrated by its fitted temperature; else 0, never).

Inside the model: the fitted ``Transform`` (each input's fitted state and the feature extractor),
the class names and the Keras model (``.keras``) or the scikit-learn pipeline (joblib), both taking
``{input name: array}``. ``mlflow models serve`` loads it.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types.schema import Array, ColSpec, DataType, ParamSchema, ParamSpec, Schema

from vsexp.console import import_tensorflow_quietly
from vsexp.errors import LightCurveError
from vsexp.lightcurves.record import clean
from vsexp.representations.cache import Transform
from vsexp.representations.extractor import FeatureConfig
from vsexp.representations.features import features_by
from vsexp.training.unknown import labels_with_unknown, scale_temperature

log = logging.getLogger(__name__)

DEFAULT_SERVING_MIN_POINTS = 10  # models logged before they recorded their own minimum
MAX_ERRORS_SHOWN = 10
ON_ERROR = ("raise", "row")  # a request with a bad curve fails whole (serving), or gets an error row (bulk)


def input_schema() -> Schema:
    return Schema([ColSpec(Array(DataType.double), "times"), ColSpec(Array(DataType.double), "mags"),
                   ColSpec(Array(DataType.double), "errors")])


def signature(class_names: list[str], min_points: int = DEFAULT_SERVING_MIN_POINTS,
              unknown_threshold: float = 0.0) -> ModelSignature:
    outputs = Schema([ColSpec(DataType.string, "label"), ColSpec(DataType.double, "probability"),
                      ColSpec(DataType.long, "n_points")]
                     + [ColSpec(DataType.double, f"prob_{name}") for name in class_names])
    params = ParamSchema([ParamSpec("min_points", DataType.long, min_points),
                          ParamSpec("on_error", DataType.string, "raise"),
                          ParamSpec("unknown_threshold", DataType.double, unknown_threshold)])
    return ModelSignature(inputs=input_schema(), outputs=outputs, params=params)


def validate_rows(frame: pd.DataFrame, min_points: int) -> tuple[list, list[LightCurveError]]:
    """Clean every row; returns (curves or None per row, the errors of the bad rows)."""
    missing = {"times", "mags", "errors"} - set(frame.columns)
    if missing:
        raise MlflowException(f"input lacks column(s) {sorted(missing)}; send times, mags, errors per star",
                              error_code=INVALID_PARAMETER_VALUE)
    ids = frame["id"].astype(str).tolist() if "id" in frame.columns else [f"row {i}" for i in range(len(frame))]
    curves, errors = [], []
    for object_id, times, mags, errs in zip(ids, frame["times"], frame["mags"], frame["errors"]):
        try:
            curves.append(clean(object_id, _as_array(times), _as_array(mags), _as_array(errs), min_points=min_points))
        except LightCurveError as error:
            curves.append(None)
            errors.append(error)
    return curves, errors


def _as_array(values) -> np.ndarray:
    if values is None or (np.ndim(values) == 0 and pd.isna(values)):
        return np.zeros(0)
    return np.asarray(values, dtype=np.float64)


class LightCurveClassifier(mlflow.pyfunc.PythonModel):
    """Raw light curves in, class probabilities out (see the module docstring)."""

    def load_context(self, context):
        meta = json.loads(Path(context.artifacts["metadata"]).read_text())
        self.class_names = meta["class_names"]
        self.min_points = meta.get("min_points", DEFAULT_SERVING_MIN_POINTS)
        self.unknown = meta.get("unknown")  # {"temperature", "threshold"} fitted on validation, or None
        self.transform = Transform.from_dict(meta["transform"], _first_format_inputs(meta))
        model_path = context.artifacts["model"]
        self.batch_size = None
        if model_path.endswith(".keras"):
            import_tensorflow_quietly()
            import keras

            from vsexp.models.registry import custom_objects

            self.model = keras.saving.load_model(model_path, custom_objects=custom_objects(), compile=False)
            self._predict = self._predict_keras
        else:
            import joblib

            self.model = joblib.load(model_path)
            self._predict = self.model.predict_proba

    def use_batch_mode(self, batch_size: int = 512) -> None:
        """Bulk prediction: XLA-compiled inference on batches padded to one fixed size.

        XLA compiles once per input shape, so padding every batch to ``batch_size`` rows keeps it to
        one compilation; serving (many small requests of varying size) stays on the plain path.
        """
        if hasattr(self.model, "jit_compile"):
            self.model.jit_compile = True
            self.batch_size = batch_size

    def _predict_keras(self, inputs):
        if self.batch_size is None:
            return self.model.predict(inputs, batch_size=512, verbose=0)
        count = len(next(iter(inputs.values())))
        padded = -(-count // self.batch_size) * self.batch_size

        def pad(array):
            return np.concatenate([array, np.zeros((padded - count, *array.shape[1:]), array.dtype)])

        inputs = {k: pad(v) for k, v in inputs.items()}
        return self.model.predict(inputs, batch_size=self.batch_size, verbose=0)[:count]

    def predict_curves(self, curves, features: np.ndarray | None = None) -> np.ndarray:
        """[n, num_classes] probabilities for clean ``LightCurve`` objects (``features``: theirs, if
        already computed)."""
        if not curves:
            return np.zeros((0, len(self.class_names)))
        return self.predict_inputs(self.transform.inputs(_triples(curves), features))

    def predict_inputs(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """[n, num_classes] probabilities for ``{name: [n, ...]}`` inputs made by ``self.transform``
        (calibrated by the model's temperature when it has an ``unknown`` decision)."""
        probabilities = np.asarray(self._predict(inputs), dtype=np.float64)
        return scale_temperature(probabilities, self.unknown["temperature"]) if self.unknown else probabilities

    # the type hint is a DataFrame (the signature is given explicitly): MLflow then neither validates
    # by it nor warns that the method has no type hint
    def predict(self, context, model_input: pd.DataFrame, params=None):
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        if frame.empty:
            raise MlflowException("no light curves in the request", error_code=INVALID_PARAMETER_VALUE)
        min_points = int((params or {}).get("min_points", self.min_points))
        curves, errors = validate_rows(frame, min_points)
        on_error = (params or {}).get("on_error", "raise")
        if on_error not in ON_ERROR:
            raise MlflowException(f"on_error must be one of {', '.join(ON_ERROR)}, got '{on_error}'",
                                  error_code=INVALID_PARAMETER_VALUE)
        threshold = float((params or {}).get("unknown_threshold", self.unknown_threshold))
        if not 0.0 <= threshold <= 1.0:
            raise MlflowException(f"unknown_threshold must be in [0, 1], got {threshold}", error_code=INVALID_PARAMETER_VALUE)
        if on_error == "row":  # bulk scoring (Spark): one row per curve, bad ones with their error
            return self.to_frame_with_errors(curves, errors, threshold)
        if errors:
            shown = "; ".join(map(str, errors[:MAX_ERRORS_SHOWN]))
            more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
            raise MlflowException(f"{len(errors)} of {len(frame)} light curves are invalid: {shown}{more}",
                                  error_code=INVALID_PARAMETER_VALUE)
        return self.to_frame(curves, self.predict_curves(curves), threshold)

    @property
    def unknown_threshold(self) -> float:
        """The model's own threshold for ``unknown`` (0: it has none)."""
        return float(self.unknown["threshold"]) if self.unknown else 0.0

    def to_frame_with_errors(self, curves: list, errors: list[LightCurveError], unknown_threshold: float | None = None
                             ) -> pd.DataFrame:
        """``to_frame`` of the valid curves, in request order with the invalid ones: those have an
        empty ``label``, no probabilities and their ``error`` (empty for the valid ones). Empty
        strings rather than nulls: Spark cannot type a batch whose strings are all null."""
        good = [c for c in curves if c is not None]
        scored = self.to_frame(good, self.predict_curves(good), unknown_threshold) if good else None
        frame = pd.DataFrame(index=range(len(curves)), columns=self.output_columns())
        rows = [i for i, c in enumerate(curves) if c is not None]
        if scored is not None:
            frame.loc[rows, scored.columns] = scored.to_numpy()
        frame.loc[[i for i, c in enumerate(curves) if c is None], "error"] = [f"{e.reason}: {e}" for e in errors]
        frame[["label", "error"]] = frame[["label", "error"]].fillna("")
        return frame.astype({"label": "string", "probability": "float64", "n_points": "Int64", "error": "string",
                             **{f"prob_{name}": "float64" for name in self.class_names}})

    def output_columns(self) -> list[str]:
        return ["label", "probability", "n_points", *[f"prob_{name}" for name in self.class_names], "error"]

    def to_frame(self, curves, probabilities: np.ndarray, unknown_threshold: float | None = None) -> pd.DataFrame:
        """One row per curve (the module docstring); ``unknown_threshold``: default the model's own."""
        best = probabilities.argmax(axis=1)
        threshold = self.unknown_threshold if unknown_threshold is None else unknown_threshold
        frame = pd.DataFrame({
            "label": labels_with_unknown(probabilities, self.class_names, threshold),
            "probability": probabilities[np.arange(len(best)), best],
            "n_points": [len(c) for c in curves],
        })
        for index, name in enumerate(self.class_names):
            frame[f"prob_{name}"] = probabilities[:, index]
        return frame


class EnsembleClassifier(LightCurveClassifier):
    """Several logged classifiers and a fitted ``ProbabilityCombiner``: raw light curves in, combined
    (calibrated) probabilities out. Each member computes its own representations inside, from
    features computed once for all of them."""

    def load_context(self, context):
        import joblib

        meta = json.loads(Path(context.artifacts["metadata"]).read_text())
        self.class_names, self.batch_size, self.unknown = meta["class_names"], None, None
        self.min_points = meta.get("min_points", DEFAULT_SERVING_MIN_POINTS)
        self.members = [mlflow.pyfunc.load_model(context.artifacts[f"member_{i}"]).unwrap_python_model()
                        for i in range(meta["members"])]
        self.combiner = joblib.load(context.artifacts["combiner"])

    def use_batch_mode(self, batch_size: int = 512) -> None:
        for member in self.members:
            member.use_batch_mode(batch_size)

    def predict_curves(self, curves, features: np.ndarray | None = None) -> np.ndarray:
        """``features``: the curves' features by the default extractor (``FeatureConfig()``), when at
        hand. Members trained with another extractor get features computed by theirs (once per extractor)."""
        if not curves:
            return np.zeros((0, len(self.class_names)))
        triples, by_extractor = _triples(curves), {}
        for member in self.members:
            extractor = member.transform.extractor
            if member.transform.needs_features() and extractor not in by_extractor:
                by_extractor[extractor] = (features if features is not None and extractor == FeatureConfig()
                                           else features_by(triples, extractor))
        return self.combiner.predict_proba([member.predict_curves(curves, by_extractor.get(member.transform.extractor))
                                            for member in self.members])


def _first_format_inputs(meta: dict) -> list[str] | None:
    """The inputs of a model saved in the first format (its ``input_kind``: a name or a list)."""
    kind = meta.get("input_kind")
    return [kind] if isinstance(kind, str) else kind


def _triples(curves) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return [(c.times, c.mags, c.errors) for c in curves]


def pip_requirements() -> list[str]:
    """What the served model needs, pinned to the versions installed here: vsexp's own dependencies
    (read from its installed distribution; vsexp itself travels with the model as code)."""
    pinned = []
    for requirement in importlib.metadata.requires("vsexp") or []:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+(\[[^]]*\])?", requirement).group(0)
        try:
            version = importlib.metadata.version(re.sub(r"\[.*\]", "", name))
        except importlib.metadata.PackageNotFoundError:  # the other platform's TensorFlow
            continue
        pinned.append(f"{name}=={version}")
    return pinned


def log_classifier(model, *, transform: Transform, class_names: list[str], work_dir: Path,
                   min_points: int = DEFAULT_SERVING_MIN_POINTS, name: str = "model",
                   unknown: dict | None = None) -> mlflow.models.model.ModelInfo:
    """Log a Keras model or a fitted forest as a ``LightCurveClassifier`` pyfunc (``min_points``: the
    fewest points of the curves it was trained and evaluated on, its default for shorter requests;
    ``unknown``: its fitted temperature and threshold, ``vsexp.training.unknown.fit_unknown``)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "predict_proba"):  # a scikit-learn pipeline; a Keras model is saved as .keras
        import joblib

        model_path = work_dir / "forest.joblib"
        joblib.dump(model, model_path)
    else:
        model_path = work_dir / "model.keras"
        model.save(model_path)
    metadata_path = work_dir / "metadata.json"
    metadata_path.write_text(json.dumps({"class_names": class_names, "inputs": list(transform.names),
                                         "transform": transform.to_dict(), "min_points": min_points,
                                         **({"unknown": unknown} if unknown else {})}))
    return _log_pyfunc("served_classifier.py", {"model": str(model_path), "metadata": str(metadata_path)},
                       class_names, name, min_points, unknown["threshold"] if unknown else 0.0)


def _log_pyfunc(code_file: str, artifacts: dict[str, str], class_names: list[str], name: str, min_points: int,
                unknown_threshold: float = 0.0):
    """Log a raw-light-curve pyfunc from its code file beside this module (MLflow's models from code:
    nothing pickled) with the project's signature, requirements and package."""
    return mlflow.pyfunc.log_model(
        name=name, python_model=str(Path(__file__).with_name(code_file)), artifacts=artifacts, signature=signature(class_names, min_points, unknown_threshold),
        pip_requirements=pip_requirements(), code_paths=[str(Path(__file__).resolve().parents[1])],
    )


def log_ensemble(member_uris: list[str], combiner, *, class_names: list[str], work_dir: Path,
                 min_points: int = DEFAULT_SERVING_MIN_POINTS, name: str = "model") -> mlflow.models.model.ModelInfo:
    """Log members (copied from ``member_uris``) and a fitted combiner as an ``EnsembleClassifier`` pyfunc."""
    import joblib

    work_dir.mkdir(parents=True, exist_ok=True)
    artifacts = {f"member_{i}": mlflow.artifacts.download_artifacts(uri, dst_path=str(work_dir / f"member_{i}"))
                 for i, uri in enumerate(member_uris)}
    joblib.dump(combiner, work_dir / "combiner.joblib")
    metadata_path = work_dir / "metadata.json"
    metadata_path.write_text(json.dumps({"class_names": class_names, "members": len(member_uris),
                                         "member_uris": member_uris, "min_points": min_points}))
    artifacts.update(combiner=str(work_dir / "combiner.joblib"), metadata=str(metadata_path))
    return _log_pyfunc("served_ensemble.py", artifacts, class_names, name, min_points)
