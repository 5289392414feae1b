-- materialized: view
-- The as-of date of the current build (the last build's, or today when none ran yet).
select coalesce((select max(as_of) from raw.build_state), current_date) as as_of
