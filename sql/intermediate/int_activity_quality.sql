-- Quality runs (SPEC Definitions). quality_reason is the first that applies, in this order:
--   race            on the local date of a configured race of any priority;
--   title           a title naming hard work as a whole word and no easy word (the keyword table
--                   sql/seeds/quality_keywords.csv, as the macro pipeline/quality_titles.py builds);
--   laps            a structured workout: a rest/recovery lap with an active/interval lap before
--                   and after it in lap order (watches mark every auto-lap active, so laps that
--                   are all active are a steady run, not a workout);
--   threshold_hr    >= 10 min at or above threshold HR (int_activity_hr);
--   threshold_pace  >= 10 moving min at or faster than threshold pace (int_activity_pace).
with work_span as (
    select
        activity_id,
        min(lap_index) filter (where intensity in ('active', 'interval')) as first_work,
        max(lap_index) filter (where intensity in ('active', 'interval')) as last_work
    from stg_laps
    group by activity_id
),
structured as (
    select distinct w.activity_id
    from work_span as w
    join stg_laps as l
        on l.activity_id = w.activity_id
        and l.intensity in ('rest', 'recovery')
        and l.lap_index > w.first_work
        and l.lap_index < w.last_work
)
select
    a.activity_id,
    case
        when exists (
            select 1 from stg_races as r
            where r.athlete_id = a.athlete_id and r.race_date = a.local_date
        ) then 'race'
        when internal.is_quality_title(a.title) then 'title'
        when a.activity_id in (select activity_id from structured) then 'laps'
        when h.minutes_at_threshold >= 10 then 'threshold_hr'
        when p.minutes_at_threshold_pace >= 10 then 'threshold_pace'
    end as quality_reason
from stg_activities as a
left join int_activity_hr as h using (activity_id)
left join int_activity_pace as p using (activity_id)
where a.sport = 'running'
