"""vsexp's Python API: read light curves, load a registered model, classify raw arrays.

Everything the command line and the MLflow entry points do is built on these and on the pipelines
(``vsexp.pipelines``); a notebook or another program needs only this module.

Examples
--------
Read the tiny synthetic survey, train and register a forest on it, load the model from the
registry and classify one star's raw arrays:

>>> import vsexp
>>> stars = vsexp.read_source("synthetic-ogle", size="tiny", min_points=40)
>>> stars.classes
['CEPH', 'DSCT', 'ECLP', 'LPV', 'RRL']
>>> from vsexp.pipelines.train import train
>>> from vsexp.presets import load_preset
>>> summary = train(load_preset("tiny", "baseline"))
>>> model = vsexp.load_model("models:/vsexp-synthetic-ogle-baseline@challenger")
>>> model.classes == stars.classes
True
>>> star = stars.curves("test")[0]
>>> predictions = model.predict([(star.times, star.mags, star.errors)])
>>> list(predictions.columns[:3])
['label', 'probability', 'n_points']
>>> predictions.loc[0, "label"] in model.classes
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from vsexp.config import DataConfig

if TYPE_CHECKING:
    import pandas


def read_source(source: str, *, class_set: str = "auto", min_points: int = 100, size: str = "small",
                seed: int = 42):
    """Read (or simulate) a survey's light curves into a checked, split, cached data set.

    Parameters
    ----------
    source : str
        ``synthetic-ogle``, ``synthetic-crts``, ``ogle:DIR``, ``crts:DIR``, ``generic:PATH`` or a
        path whose layout is detected.
    class_set : str
        ``ogle`` or ``crts`` (the paper's classes), ``all``, a comma-separated list of class names,
        or ``auto`` (the survey's own set).
    min_points : int
        Curves with fewer valid points are rejected (counted in the data set's report).
    size : str
        The simulator's size preset (``tiny``, ``small``, ``medium``, ``paper``); ignored for files.
    seed : int
        Seeds the simulator and the split by star.

    Returns
    -------
    vsexp.dataset.build.Dataset
        ``.classes``, ``.table`` (one row per star), ``.curves(split)`` (``LightCurve`` objects with
        ``times``, ``mags``, ``errors``), ``.manifest`` (counts, rejections, content hash).

    Raises
    ------
    vsexp.errors.DatasetError
        The source does not exist or leaves no usable curve; the error names it.
    """
    from vsexp.config import parse_source
    from vsexp.dataset.build import build_dataset

    parse_source(source)
    return build_dataset(DataConfig(source=source, size=size, class_set=class_set, min_points=min_points, seed=seed))


class Classifier:
    """A logged or registered vsexp model, classifying raw light curves.

    Parameters
    ----------
    model_uri : str
        ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` or ``runs:/RUN_ID/model``.

    Attributes
    ----------
    classes : list of str
        The class names, in the order of the probability columns.
    min_points : int
        The fewest points a curve may have (the model's own ``data.min_points``).
    """

    def __init__(self, model_uri: str):
        import mlflow

        self.model_uri = model_uri
        self._pyfunc = mlflow.pyfunc.load_model(model_uri)
        served = self._pyfunc.unwrap_python_model()
        self.classes, self.min_points = list(served.class_names), served.min_points

    def predict(self, curves: Iterable[Sequence]) -> pandas.DataFrame:
        """Classify raw light curves.

        Parameters
        ----------
        curves : iterable of (times, mags, errors)
            One triple of equal-length arrays per star, in any order of time; each is checked and
            cleaned like a file (non-finite values and non-positive errors removed, sorted, shared
            times merged).

        Returns
        -------
        pandas.DataFrame
            One row per curve: ``label``, ``probability`` (of the label), ``n_points`` and one
            ``prob_<class>`` column per class.

        Raises
        ------
        mlflow.exceptions.MlflowException
            A curve is invalid or has fewer than ``min_points`` points; the message names it.
        """
        import pandas as pd

        rows = [tuple(list(map(float, values)) for values in curve) for curve in curves]
        return self._pyfunc.predict(pd.DataFrame(rows, columns=["times", "mags", "errors"]))


def load_model(model_uri: str) -> Classifier:
    """Load a model from the tracking store or the registry (see ``Classifier``)."""
    return Classifier(model_uri)
