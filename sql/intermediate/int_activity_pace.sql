-- Pace-derived numbers per run: moving minutes, and the moving minutes at or faster than the
-- athlete's threshold pace (for quality-run detection).
-- A sample's speed is its speed_mps, else the distance it covers until the next sample over the
-- time to it. Each sample counts until the next one, at most 30 s (as in int_activity_hr), so a
-- paused watch adds nothing. Moving: speed above 1 m/s (3.6 km/h, below any walk), so a stop at
-- a crossing is not running at any pace. At threshold pace: speed >= 1000 / threshold_pace_s_per_km.
with gaps as (  -- seconds to the next sample from the epoch in microseconds (cheaper than an interval)
    select
        s.activity_id,
        s.speed_mps,
        lead(s.distance_m) over w - s.distance_m as next_m,
        (lead(epoch_us(s.ts_utc)) over w - epoch_us(s.ts_utc)) / 1e6 as next_s
    from stg_samples as s
    where s.activity_id in (select activity_id from stg_activities where sport = 'running')
    window w as (partition by s.activity_id order by s.ts_utc)
),
timed as (
    select
        activity_id,
        coalesce(speed_mps, next_m / nullif(next_s, 0)) as speed_mps,
        least(coalesce(next_s, 0), 30) as dt_s
    from gaps
),
per_run as (
    select
        t.activity_id,
        sum(t.dt_s) filter (where t.speed_mps > 1.0) / 60.0 as moving_minutes,
        sum(t.dt_s) filter (where t.speed_mps > 1.0 and t.speed_mps >= 1000.0 / ath.threshold_pace_s_per_km)
            / 60.0 as minutes_at_threshold_pace
    from timed as t
    join stg_activities as a using (activity_id)
    join stg_athletes as ath using (athlete_id)
    group by t.activity_id
)
select
    a.activity_id,
    coalesce(p.moving_minutes, 0) as moving_minutes,
    coalesce(p.minutes_at_threshold_pace, 0) as minutes_at_threshold_pace
from stg_activities as a
left join per_run as p using (activity_id)
where a.sport = 'running'
