-- Per athlete, exercise and ISO week: the best estimated 1RM, the heaviest weight and the working
-- sets, for every exercise the athlete trained that week with weight, and for the key lower-body
-- lifts (pattern squat, hinge, single_leg, calf) even when done without weight, so their trend
-- shows every week they were done. Every kept session counts (a progress curve needs no
-- qualifying session); warm-ups do not.
select
    athlete_id,
    exercise,
    iso_week,
    max(e1rm_kg) as best_e1rm_kg,
    max(weight_kg) filter (where weight_kg > 0) as best_weight_kg,
    count(*) as sets
from int_strength_sets
where is_working
  and exercise is not null
  and (weight_kg > 0 or pattern in ('squat', 'hinge', 'single_leg', 'calf'))
group by athlete_id, exercise, iso_week
