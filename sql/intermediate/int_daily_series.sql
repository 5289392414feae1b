-- One row per athlete per local day of the series, zero-load days included (monotony and the
-- rolling windows need them).
select s.athlete_id, cast(d.day as date) as local_date, strftime(d.day, '%G-W%V') as iso_week
from int_athlete_spans as s,
    lateral (select unnest(generate_series(s.series_start, s.series_end, interval 1 day)) as day) as d
