"""Tables and figures built from the tracking store, beside the paper's published numbers."""
