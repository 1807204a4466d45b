"""Production records: scored batches, ground truth that comes back, performance monitoring."""
