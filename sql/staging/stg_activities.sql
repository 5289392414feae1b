-- materialized: view
-- Recorded activities without the duplicates ingest found, with local times in the athlete's zone.
select
    a.activity_id,
    a.athlete_id,
    a.sport,
    a.sub_sport,
    a.title,
    a.start_utc,
    a.end_utc,
    timezone(ath.timezone, a.start_utc) as start_local,
    cast(timezone(ath.timezone, a.start_utc) as date) as local_date,
    strftime(timezone(ath.timezone, a.start_utc), '%G-W%V') as iso_week,
    a.duration_s,
    a.moving_s,
    a.distance_m,
    a.avg_hr,
    a.max_hr,
    a.n_hr_samples,
    a.source_format,
    a.source_file
from raw.activities as a
join raw.athletes as ath using (athlete_id)
where a.duplicate_of is null
