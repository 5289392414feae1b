-- materialized: view
-- The configured athletes, as `runlift` mirrors them from runlift.toml before every write.
select athlete_id, timezone, max_hr, resting_hr, sex, threshold_hr, strength_target_per_week
from raw.athletes
