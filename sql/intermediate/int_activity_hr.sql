-- Heart-rate derived numbers per activity: Banister TRIMP integrated per sample, and the
-- minutes at or above the athlete's threshold HR (for quality-run detection).
-- TRIMP = sum over samples of dt_min * HRr * k * exp(b * HRr), HRr = (HR - rest) / (max - rest)
-- clamped to [0, 1]; k, b = 0.64, 1.92 (men) or 0.86, 1.67 (women) (Banister 1991).
-- The per-sample sums come from int_activity_samples (each sample counts until the next, at most 30 s).
-- Without HR samples the average HR stands in for the whole duration; without either, null.
-- hr_coverage: the share of the moving time (moving_s, else duration_s) the HR samples cover,
-- each counting as above, at most 1. A run with only a summary average HR (no HR samples)
-- counts as fully covered (1): the device averaged the whole recording, and dropping it would
-- turn an athlete whose files carry only summaries into minutes-only load. No HR at all: 0.
with athletes as (
    select
        athlete_id, resting_hr, max_hr as hr_max,
        case when sex = 'f' then 0.86 else 0.64 end as k,
        case when sex = 'f' then 1.67 else 1.92 end as b
    from stg_athletes
),
from_samples as (
    select activity_id, trimp, coalesce(minutes_at_threshold, 0) as minutes_at_threshold, hr_seconds
    from int_activity_samples
    where hr_samples > 0
)
select
    a.activity_id,
    coalesce(
        f.trimp,
        case when a.avg_hr is not null then
            a.duration_s / 60.0 * hrr_avg * ath.k * exp(ath.b * hrr_avg)
        end
    ) as trimp,
    case when f.trimp is not null then 'samples' when a.avg_hr is not null then 'avg_hr' end as trimp_source,
    coalesce(f.minutes_at_threshold, 0) as minutes_at_threshold,
    case
        when f.activity_id is not null then
            case when coalesce(a.moving_s, a.duration_s) > 0
                then least(1.0, f.hr_seconds / coalesce(a.moving_s, a.duration_s)) else 0.0 end
        when a.avg_hr is not null then 1.0
        else 0.0
    end as hr_coverage
from stg_activities as a
join athletes as ath using (athlete_id)
left join from_samples as f using (activity_id),
lateral (select greatest(0, least(1, (a.avg_hr - ath.resting_hr) / (ath.hr_max - ath.resting_hr))) as hrr_avg)
