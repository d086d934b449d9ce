"""Results: the Parquet schema, atomic writers, the unified reader and leaderboard aggregation."""
