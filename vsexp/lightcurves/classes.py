"""The class vocabulary: the paper's class sets, and catalogue names mapped onto them."""

# The paper's class sets; catalogue names are mapped onto them by CLASS_ALIASES.
CLASS_SETS = {
    "ogle": ("CEPH", "DSCT", "ECLP", "LPV", "RRL"),
    "crts": ("EW", "EA", "RRab", "RRc", "RRd", "RSCVn", "LPV"),
}
CLASS_ALIASES = {"RS_CVn": "RSCVn", "RRC": "RRc", "RRD": "RRd", "RRAB": "RRab", "CEP": "CEPH", "ECL": "ECLP", "RRLYR": "RRL"}
OTHER = "Other"  # with data.other_class, every catalogue class outside the class set becomes this one
