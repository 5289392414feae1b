-- materialized: view
-- Per-sample streams of the kept activities (a view: it is large and needs no computation).
select activity_id, ts_utc, lat, lon, distance_m, speed_mps, heart_rate, cadence, altitude_m
from stg_samples
