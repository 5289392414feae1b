-- Quality runs (SPEC Definitions): a title naming hard work as a whole word and no easy word
-- (the keyword table sql/seeds/quality_keywords.csv, as the macro pipeline/quality_titles.py
-- builds), >= 10 min at or above threshold HR, or a run on an A-race date. The first reason kept.
select
    a.activity_id,
    case
        when internal.is_quality_title(a.title) then 'title'
        when h.minutes_at_threshold >= 10 then 'threshold_hr'
        when exists (
            select 1 from stg_races as r
            where r.athlete_id = a.athlete_id and r.priority = 'A' and r.race_date = a.local_date
        ) then 'a_race'
    end as quality_reason
from stg_activities as a
left join int_activity_hr as h using (activity_id)
where a.sport = 'running'
