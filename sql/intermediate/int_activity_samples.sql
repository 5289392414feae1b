-- What each activity's samples add up to, in one sorted pass over them (the samples are most of
-- a build's work: int_activity_hr and int_activity_pace read these sums, not the samples).
-- Each sample counts until the next one, at most 30 s, so a paused watch adds nothing; an HR
-- sample (heart_rate > 0) counts until the next HR sample. A sample's speed is its speed_mps,
-- else the distance it covers until the next sample over the time to it.
-- TRIMP per sample = dt_min * HRr * k * exp(b * HRr), HRr = (HR - rest) / (max - rest) clamped to
-- [0, 1]; k, b = 0.64, 1.92 (men) or 0.86, 1.67 (women) (Banister 1991).
-- Moving: speed above 1 m/s; at threshold pace: speed >= 1000 / threshold_pace_s_per_km.
with athletes as (
    select
        athlete_id, resting_hr, max_hr as hr_max, threshold_hr, threshold_pace_s_per_km,
        case when sex = 'f' then 0.86 else 0.64 end as k,
        case when sex = 'f' then 1.67 else 1.92 end as b
    from stg_athletes
),
kept as (  -- a number per kept activity: the sorted pass partitions by it (an integer sorts in
    -- half the time of the text id: this pass is most of a full build)
    select a.activity_id, a.athlete_id, row_number() over (order by a.activity_id) as n
    from stg_activities as a
),
gaps as (  -- seconds to the next sample from the epoch in microseconds (cheaper than an interval)
    select
        s.n,
        s.heart_rate,
        s.speed_mps,
        lead(s.distance_m) over w - s.distance_m as next_m,
        (lead(s.us) over w - s.us) / 1e6 as next_s,
        case when s.heart_rate > 0 then
            (lead(case when s.heart_rate > 0 then s.us end ignore nulls) over w - s.us) / 1e6
        end as next_hr_s
    from (
        select k.n, x.heart_rate, x.speed_mps, x.distance_m, epoch_us(x.ts_utc) as us
        from stg_samples as x
        join kept as k using (activity_id)
    ) as s
    window w as (partition by s.n order by s.us)
),
per_sample as (
    select
        g.n,
        g.heart_rate,
        least(coalesce(g.next_hr_s, 0), 30) as dt_hr_s,
        greatest(0, least(1, (g.heart_rate - ath.resting_hr) / (ath.hr_max - ath.resting_hr))) as hrr,
        coalesce(g.speed_mps, g.next_m / nullif(g.next_s, 0)) as speed,
        least(coalesce(g.next_s, 0), 30) as dt_s,
        ath.k,
        ath.b,
        ath.threshold_hr,
        ath.threshold_pace_s_per_km
    from gaps as g
    join kept as a using (n)
    join athletes as ath using (athlete_id)
),
sums as (
    select
        n,
        count(*) filter (where heart_rate > 0) as hr_samples,
        sum(dt_hr_s / 60.0 * hrr * k * exp(b * hrr)) filter (where heart_rate > 0) as trimp,
        sum(dt_hr_s) filter (where heart_rate > 0 and heart_rate >= threshold_hr) / 60.0 as minutes_at_threshold,
        sum(dt_hr_s) filter (where heart_rate > 0) as hr_seconds,
        sum(dt_s) filter (where speed > 1.0) / 60.0 as moving_minutes,
        sum(dt_s) filter (where speed > 1.0 and speed >= 1000.0 / threshold_pace_s_per_km) / 60.0
            as minutes_at_threshold_pace
    from per_sample
    group by n
)
select k.activity_id, s.hr_samples, s.trimp, s.minutes_at_threshold, s.hr_seconds, s.moving_minutes,
       s.minutes_at_threshold_pace
from sums as s
join kept as k using (n)
