"""vsexp: MLflow-tracked experiments for classifying variable-star light curves.

The Python API is ``read_source``, ``load_model`` and the ``Classifier`` it returns (see
``vsexp.api``); importing the package stays cheap (no TensorFlow, no MLflow until they are used).
"""

from vsexp.api import Classifier, load_model, read_source

__all__ = ["Classifier", "load_model", "read_source"]
