-- materialized: view
-- The [rules] thresholds of runlift.toml (one row), for models whose definitions use them.
select * from raw.rules
