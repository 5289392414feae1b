-- materialized: view
-- The configured athletes, as `runlift` mirrors them from runlift.toml before every write.
select
    athlete_id, timezone, max_hr, resting_hr, sex, threshold_hr, strength_target_per_week,
    threshold_pace_s_per_km, coalesce(strength_experience, 'new') as strength_experience,
    coalesce(long_run_minutes, 90) as long_run_minutes
from raw.athletes
