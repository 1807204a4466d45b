"""Data-drift monitoring: fit detectors on training features, check production batches."""
