"""Data: the raw table in place (DVC or the default dataset) and its validation."""
