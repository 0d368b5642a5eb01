"""Model families, one folder each (see ``vsexp.models.registry``), and the ensemble that combines
trained models (``vsexp.models.ensemble``)."""
