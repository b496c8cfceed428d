"""What metaconf knows about the data before it configures a run: the data profile and the trial-cost probe."""
