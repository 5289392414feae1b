-- Pace-derived numbers per run: moving minutes, and the moving minutes at or faster than the
-- athlete's threshold pace (for quality-run detection).
-- The sums come from int_activity_samples: a sample's speed is its speed_mps, else the distance it
-- covers until the next sample over the time to it; each sample counts until the next one, at most
-- 30 s, so a paused watch adds nothing. Moving: speed above 1 m/s (3.6 km/h, below any walk), so a
-- stop at a crossing is not running at any pace. At threshold pace: speed >= 1000 / threshold_pace_s_per_km.
select
    a.activity_id,
    coalesce(p.moving_minutes, 0) as moving_minutes,
    coalesce(p.minutes_at_threshold_pace, 0) as minutes_at_threshold_pace
from stg_activities as a
left join int_activity_samples as p using (activity_id)
where a.sport = 'running'
