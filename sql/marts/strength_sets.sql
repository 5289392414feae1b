-- Every set of the kept strength sessions, with the exercise normalised and classified (at build),
-- and the set measures of int_strength_sets: rest_s, e1rm_kg, pct_e1rm, is_heavy (SPEC Definitions).
select
    session_id,
    set_index,
    exercise,
    exercise_raw,
    pattern,
    set_type,
    reps,
    weight_kg,
    rpe,
    duration_s,
    rest_s,
    is_unilateral,
    is_plyometric,
    is_lower_body,
    e1rm_kg,
    pct_e1rm,
    is_heavy,
    start_utc
from int_strength_sets
