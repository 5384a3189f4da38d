"""The data model in code: every measurement the stores hold, with its tags, fields, field types, units and meaning.

docs/data-model.md describes the same model in prose and tables; tests/test_data_model.py checks that its tables
and this module agree (names, tags, field names and types). Writers and readers take measurement, tag and field
names from here, so a rename is one edit caught by the type checker and that test. The declaring classes
(Tag, Field, Measurement and its `batch`) live in `ingest.schema`.
"""

from __future__ import annotations

from ingest.schema import BOOL, FLOAT, INT, STRING, Field, Measurement, Tag, fields
from ingest.store.base import PointBatch, field_type

ATHLETE = Tag("athlete", "pseudonymous athlete ID")
DEVICE = Tag("device", "sensor name or address; watch files: the recording device")
SOURCE = Tag("source", "`ble` (live), `fit` (watch file), `file` (imported RR file), `history` (simulated)")
STREAM_TAGS = (ATHLETE, DEVICE, SOURCE)
SIDE = Tag("side", "`left` or `right`")

HR = Measurement(
    "hr",
    "heart rate as notified by a strap (about 1 Hz) or recorded by a watch",
    STREAM_TAGS,
    (
        Field("bpm", INT, "heart rate, beats/min"),
        Field("contact", BOOL, "skin contact detected (only when the sensor supports contact detection)"),
        Field("energy_kj", INT, "energy expended since the last reset, kJ"),
    ),
    "arrival of the notification at the gateway",
)
RR = Measurement(
    "rr",
    "one point per beat",
    STREAM_TAGS,
    (Field("rr_ms", FLOAT, "RR interval ending at this beat, ms"),),
    "the beat",
)
READINESS = Measurement(
    "readiness",
    "one morning HRV reading",
    (ATHLETE, Tag("source", "absent for readings from beats; `hrv4training`, `elitehrv` for app exports")),
    (
        Field("rmssd_ms", FLOAT, "root mean square of successive differences of valid beats, ms"),
        Field("ln_rmssd", FLOAT, "natural log of `rmssd_ms`"),
        Field("sdnn_ms", FLOAT, "standard deviation of valid RR, ms"),
        Field("mean_rr_ms", FLOAT, "mean RR, ms"),
        Field("mean_hr_bpm", FLOAT, "mean heart rate, bpm"),
        Field("n_beats", INT, "beats in the reading"),
        Field("artifact_pct", FLOAT, "share of beats flagged as artifacts, %"),
        Field("duration_s", FLOAT, "length of the reading, s"),
        Field("app_score", FLOAT, "the app's own score"),
        Field("app_verdict", STRING, "the app's verdict (`normal`, `green`, …)"),
        Field("app_message", STRING, "HRV4Training's daily message as written"),
    ),
    "first beat of the reading",
)
_SI = "symmetry index (Robinson: positive = left larger), %"
SESSION = Measurement(
    "session",
    "per-session summary",
    (ATHLETE, Tag("source", "`ble`, `fit`, `csv`, `rpe`"), Tag("sport", "`run`, `ride`, `swim`, `strength`, …")),
    (
        Field("duration_s", FLOAT, "timer time, s"),
        Field("distance_m", FLOAT, "m"),
        *fields(FLOAT, "average / maximum heart rate, bpm", "avg_hr_bpm", "max_hr_bpm"),
        Field("rr_count", INT, "beats recorded"),
        Field("hr_samples", INT, "HR samples of a session found in a `ble` HR stream"),
        Field("superseded", BOOL, "covered by another session of the same training; left out of the analysis"),
        Field("rpe", FLOAT, "session RPE, CR-10"),
        Field("srpe_load", FLOAT, "RPE × duration in minutes, AU (Foster)"),
        Field("trimp", FLOAT, "Banister TRIMP, AU"),
        Field("trimp_edwards", FLOAT, "Edwards TRIMP, AU"),
        *fields(FLOAT, "time in an Edwards zone, s", *(f"hr_zone{z}_s" for z in range(1, 6))),
        Field("hr_time_s", FLOAT, "time the HR samples stand for, s"),
        *fields(FLOAT, "HRmax / HRrest the HR loads were computed with, bpm", "load_hr_max_bpm", "load_hr_rest_bpm"),
        Field("load_sex", STRING, "TRIMP coefficients used: `female`, `male` or `unspecified`"),
        Field("cadence_spm", FLOAT, "mean cadence, steps/min (running) or rpm (cycling)"),
        Field("gct_balance_left_pct", FLOAT, "left foot's share of ground-contact time, %"),
        *fields(FLOAT, "mean ground-contact time per foot, ms", "gct_left_ms", "gct_right_ms"),
        Field("gct_symmetry_index_pct", FLOAT, _SI),
        *fields(FLOAT, "muscle load per side", "muscle_load_left", "muscle_load_right"),
        Field("muscle_symmetry_index_pct", FLOAT, _SI),
        Field("muscle", STRING, "the muscle the muscle-load pods sat on (a `stride` `muscle` name), when known"),
        Field("pedal_balance_left_pct", FLOAT, "left leg's share of pedal power, %"),
        Field("pedal_symmetry_index_pct", FLOAT, _SI),
        Field("activity", STRING, "PMSys activity labels as written"),
        Field("elapsed_s", FLOAT, "elapsed time, s"),
        Field("sub_sport", STRING, "FIT sub-sport"),
        Field("avg_power_w", FLOAT, "W"),
        Field("gct_ms", FLOAT, "mean ground-contact time, ms"),
        Field("gct_source", STRING, "`running_dynamics` or `footpods`"),
        Field("rr_gap_count", INT, "RR values above 3000 ms (gaps, pauses)"),
        Field("pedal_balance_side_unknown_pct", FLOAT, "pedal share when the side is unknown, %"),
        Field("device_training_effect", FLOAT, "the device's aerobic training effect, 0–5"),
        Field("device_anaerobic_training_effect", FLOAT, "the device's anaerobic training effect, 0–5"),
        Field("device_training_load", FLOAT, "the device's training load"),
        Field("device_tss", FLOAT, "the device's Training Stress Score"),
        Field("device_intensity_factor", FLOAT, "the device's intensity factor"),
    ),
    "session start",
)
PROFILE = Measurement(
    "profile",
    "an athlete's heart-rate profile",
    (ATHLETE,),
    (
        Field("hr_max_bpm", FLOAT, "maximum heart rate, bpm"),
        Field("hr_rest_bpm", FLOAT, "resting heart rate, bpm"),
        Field("sex", STRING, "`female` or `male`"),
    ),
    "when it was set",
)
_ASYMMETRY = ("gct", "muscle", "pedal")
DAILY = Measurement(
    "daily",
    "indicators of one athlete and day",
    (ATHLETE,),
    (
        Field("ln_rmssd", FLOAT, "that morning's ln rMSSD"),
        Field("ln_rmssd_7d", FLOAT, "mean ln rMSSD of the valid mornings in the 7 days"),
        *fields(FLOAT, "60-day baseline mean / SD of ln rMSSD", "ln_rmssd_baseline_mean", "ln_rmssd_baseline_sd"),
        Field("ln_rmssd_lower_bound", FLOAT, "normal range lower bound, mean − 0.5 SD"),
        Field("readings_7d", INT, "valid mornings in the 7-day window"),
        Field("status", STRING, "`ok`, `suppressed` or `insufficient data`"),
        *fields(FLOAT, "training load of the day / of 7 days, AU", "daily_load", "load_7d"),
        *fields(INT, "days with a known load in the last 7 / 28 days", "load_known_days_7d", "load_known_days_28d"),
        Field("typical_day_load", FLOAT, "typical training day: geometric mean of the training-day loads, AU"),
        Field("load_7d_typical_days", FLOAT, "load of the last 7 days in typical training days, each day ≤ 2"),
        Field("load_source", STRING, "`srpe` or `trimp`"),
        Field("acwr", FLOAT, "acute:chronic workload ratio, EWMA 7 d / 28 d"),
        *fields(FLOAT, "rolling ACWR, coupled / uncoupled", "acwr_coupled", "acwr_uncoupled"),
        Field("monotony", FLOAT, "Foster monotony"),
        *fields(FLOAT, "7-day strain and its baseline, AU", "strain", "strain_baseline"),
        *fields(FLOAT, "chronic / acute training load, AU per day", "ctl", "atl"),
        *fields(FLOAT, "training stress balance; CTL change over 7 days", "tsb", "ramp_rate"),
        Field("ln_rmssd_cv_7d", FLOAT, "coefficient of variation of ln rMSSD over 7 days, %"),
        *fields(FLOAT, "morning HR, bpm", "rhr_7d", "rhr_baseline_mean", "rhr_baseline_sd", "rhr_upper_bound"),
        *fields(FLOAT, "mean SI of the sessions in the 7 days, %", *(f"{m}_symmetry_index_pct" for m in _ASYMMETRY)),
        *fields(
            FLOAT, "60-day baseline mean of the session SIs, %", *(f"{m}_symmetry_baseline_pct" for m in _ASYMMETRY)
        ),
        *fields(FLOAT, "60-day baseline SD of the session SIs, %", *(f"{m}_symmetry_baseline_sd" for m in _ASYMMETRY)),
        *fields(INT, "sessions carrying that SI in the 7 days", *(f"{m}_sessions_7d" for m in _ASYMMETRY)),
        Field("recommend_idn_visit", BOOL, "the IDN rule held that day"),
        Field("hooper_index", FLOAT, "that morning's Hooper index, 4–28 (higher = worse)"),
        Field("hooper_index_7d", FLOAT, "mean Hooper index of the check-ins in the 7 days"),
        *fields(FLOAT, "60-day baseline mean / SD of the Hooper index", "hooper_baseline_mean", "hooper_baseline_sd"),
        Field("hooper_upper_bound", FLOAT, "normal range upper bound, mean + 0.5 SD"),
        Field("checkins_7d", INT, "morning check-ins in the 7-day window"),
        Field("idn_regions", STRING, "candidate regions of the day's IDN recommendation, comma-separated"),
    ),
    "00:00 UTC of the day",
)
FLAG = Measurement(
    "flag",
    "an explainable flag",
    (
        ATHLETE,
        Tag("family", "`load`, `recovery`, `asymmetry`, `wellness`"),
        Tag("signal", "e.g. `hrv_suppressed`"),
        Tag("severity", "`watch` or `act`"),
    ),
    (
        Field("value", FLOAT, "the indicator's value"),
        Field("threshold", FLOAT, "the threshold it crossed"),
        Field("window", STRING, "the window the value is computed over"),
        Field("since", STRING, "`YYYY-MM-DD`, first day of the current continuous run"),
        Field("reason", STRING, "plain-language explanation with value, threshold, unit and window"),
        Field("post_visit", BOOL, "the day overlaps the quiet window after a visit (docs/episodes.md): shown muted"),
    ),
    "00:00 UTC of the day the flag was evaluated",
)
ACTIVITY = Measurement(
    "activity",
    "identity of an imported file",
    (ATHLETE, SOURCE, DEVICE),
    (
        Field("activity_id", STRING, "`fit:` + hash of file_id, or the text file's kind + content hash"),
        Field("sessions", INT, "sessions in the file"),
        Field("sport", STRING, "the session sport, or `multisport`"),
        *fields(FLOAT, "totals over sessions, s / m", "duration_s", "distance_m"),
    ),
    "file_id.time_created, else the first session start",
)
MOTION = Measurement(
    "motion",
    "speed, distance and cadence from watch files",
    STREAM_TAGS,
    (
        Field("speed_mps", FLOAT, "m/s"),
        Field("distance_m", FLOAT, "cumulative distance, m"),
        Field("cadence_spm", FLOAT, "steps/min in running sessions"),
        Field("cadence_rpm", FLOAT, "rpm (or strokes/min) otherwise"),
    ),
    "the record",
)
RUN_DYNAMICS = Measurement(
    "run_dynamics",
    "FIT running dynamics; 0 = missing",
    STREAM_TAGS,
    fields(
        FLOAT,
        "FIT running dynamics",
        "gct_ms",
        "gct_balance_left_pct",
        "stance_time_pct",
        "vertical_oscillation_mm",
        "vertical_ratio_pct",
        "step_length_mm",
    ),
    "the record",
)
ALERT = Measurement(
    "alert",
    "a prevention-visit alert the monitor delivered",
    (ATHLETE, Tag("channel", "`webhook`")),
    (
        Field("episode_id", STRING, "`idn/<athlete>/<first day>`"),
        Field("sent_ms", INT, "when it was sent, ms"),
        Field("http_status", INT, "the receiver's HTTP status"),
        Field("closed_reason", STRING, "how the episode ended: `treated`, `resolved` or `expired`"),
        Field("closed_ms", INT, "when it ended: the visit's time (treated), else 00:00 UTC of the deciding day, ms"),
        Field("visit_id", STRING, "the visit that closed it (treated only)"),
        Field("closed_http_status", INT, "the receiver's status for the `episode_closed` event (absent: not sent)"),
    ),
    "00:00 UTC of the episode's first day",
)
AFTERCARE = Measurement(
    "aftercare",
    "a post-visit after-care reminder the monitor delivered",
    (ATHLETE, Tag("channel", "`webhook`")),
    (
        Field("visit_id", STRING, "the visit it followed"),
        Field("until_ms", INT, "the end of the quiet window, visit + quiet hours, ms"),
        Field("sent_ms", INT, "when it was sent, ms"),
        Field("http_status", INT, "the receiver's HTTP status"),
    ),
    "the visit",
)
VISIT = Measurement(
    "visit",
    "a treatment visit (Integrative Dry Needling) of one athlete",
    (ATHLETE, Tag("visit_id", "`v-` + 12 hex digits of SHA-256 over athlete and visit second")),
    (
        Field("regions", STRING, "treated regions (docs/regions.md), comma-joined and sorted"),
        Field("therapist", STRING, "pseudonymous therapist code"),
        Field("needles", INT, "needles used"),
        Field("note", STRING, "short note, at most 500 characters"),
        Field("removed", BOOL, "tombstone: `visit remove` set it; writing the visit again clears it"),
    ),
    "the visit, whole seconds",
)
VISIT_RESPONSE = Measurement(
    "visit_response",
    "the measured response after a visit at one IDN level, descriptive (monitor.response, docs/response.md)",
    (
        ATHLETE,
        Tag("visit_id", "the visit's ID"),
        Tag("level", "`local`, `segmental` or `systemic`"),
    ),
    (
        Field("verdict", STRING, "`improved`, `unchanged`, `worse` or `insufficient data`"),
        Field("improvement_sd", FLOAT, "days 2–8 after minus the 7 days before, baseline SDs, positive = better"),
        *fields(FLOAT, "95 % Welch interval of `improvement_sd`, baseline SDs", "ci95_low_sd", "ci95_high_sd"),
        *fields(INT, "days with a value in the 7 days before / days 2–8 after", "days_pre", "days_post"),
        Field("metrics", STRING, "the level's metrics with enough data, comma-joined"),
        Field("muscles", STRING, "local level: the pod muscles of the treated regions, comma-joined"),
    ),
    "the visit",
)
_WELLNESS_SOURCE = Tag("source", "`checkin` (the check-in form), `csv`, `history` (simulated)")
_HOOPER = "Hooper item, 1 = very, very good … 7 = very, very bad (higher = worse)"
WELLNESS = Measurement(
    "wellness",
    "one morning check-in of one athlete (Hooper & Mackinnon 1995; McLean 2010)",
    (ATHLETE, _WELLNESS_SOURCE),
    (
        *fields(INT, _HOOPER, "sleep_quality", "fatigue", "soreness", "stress"),
        Field("hooper_index", INT, "sum of the four Hooper items, 4–28"),
        Field("pain", BOOL, "the athlete reports pain"),
        Field("aftercare_followed", BOOL, "after a visit: followed the after-care advice (no NSAIDs, no ice)"),
        Field("submission_id", STRING, "the form's one-time ID: a resubmitted form is the same check-in"),
        Field("note", STRING, "the athlete's note, one line, at most 500 characters"),
    ),
    "the submission, whole seconds (UTC)",
)
SORENESS = Measurement(
    "soreness",
    "one sore region of a morning check-in",
    (ATHLETE, Tag("region", "a region of the vocabulary (docs/regions.md)"), _WELLNESS_SOURCE),
    (Field("rating", INT, "soreness 1–10 (not sore: no point)"),),
    "the `wellness` point's time",
)
CHECKIN_LINK = Measurement(
    "checkin_link",
    "an athlete's personal check-in link (`recovery-monitor athlete link`): only its token's SHA-256",
    (ATHLETE,),
    (
        Field("token_sha256", STRING, "hex SHA-256 of the link's random 256-bit token"),
        Field("created_ms", INT, "when the link was made, ms"),
    ),
    "1970-01-01T00:00:00Z (one point per athlete: a new link replaces, and so revokes, the old one)",
)
RSC = Measurement(
    "rsc",
    "footpod (≈2 Hz)",
    STREAM_TAGS,
    (
        Field("speed_mps", FLOAT, "m/s"),
        Field("cadence_spm", INT, "steps/min"),
        Field("running", BOOL, "running rather than walking"),
        Field("stride_length_m", FLOAT, "m (when sent)"),
        Field("total_distance_m", FLOAT, "m (when sent)"),
    ),
    "arrival",
)
POWER = Measurement(
    "power",
    "cycling power meter (live) or power from watch files",
    STREAM_TAGS,
    (
        Field("power_w", INT, "W (may be negative)"),
        Field("pedal_balance_left_pct", FLOAT, "left share, only when the side is known, %"),
        Field("pedal_balance_side_unknown_pct", FLOAT, "share of an unknown side, %"),
        Field("cadence_rpm", FLOAT, "rpm, from crank deltas"),
        Field("speed_mps", FLOAT, "m/s, from wheel deltas"),
    ),
    "arrival, or the record",
)
ACC = Measurement(
    "acc",
    "accelerometer (Polar PMD)",
    STREAM_TAGS,
    fields(FLOAT, "acceleration, mg (factor applied)", "x_mg", "y_mg", "z_mg"),
    "each sample, from the sensor clock mapped to host time",
)
ECG = Measurement(
    "ecg",
    "single-lead chest ECG (Polar H10 PMD, 130 Hz); only from sensors configured with the `pmd_ecg` profile",
    STREAM_TAGS,
    (Field("ecg_uv", INT, "ECG voltage, µV"),),
    "each sample, from the sensor clock mapped to host time",
)
STRIDE = Measurement(
    "stride",
    "one ground contact of one foot (muscle-load pods, or RunScribe fields of watch files)",
    (*STREAM_TAGS, SIDE, Tag("muscle", "the muscle the pod sits on")),
    (
        Field("gct_ms", INT, "contact time, ms"),
        Field("emg_rms_pct_mvc", FLOAT, "EMG RMS, % MVC"),
        *fields(FLOAT, "impact / braking, g", "impact_g", "braking_g"),
        Field("footstrike_type", FLOAT, "RunScribe foot-strike type"),
        Field("pronation_deg", FLOAT, "pronation excursion, °"),
        Field("seq", INT, "the pod's sequence number"),
        Field("sensor_ms", INT, "raw pod clock, ms"),
    ),
    "initial contact",
)
GATEWAY = Measurement(
    "gateway",
    "gateway health (every telemetry interval)",
    (Tag("gateway", "the gateway's name"),),
    (
        *fields(
            INT,
            "counter or gauge of the gateway",
            "devices_configured",
            "devices_connected",
            "reconnects",
            "watchdog_trips",
            "notifications",
            "samples",
            "malformed",
            "sequence_gaps",
            "rr_zero_skipped",
            "spool_points",
            "spool_bytes",
            "spool_rejected",
            "store_failures",
        ),
        Field("notifications_per_s", FLOAT, "notifications per second"),
        Field("ingest_lag_ms", FLOAT, "now minus the oldest sample not yet acknowledged by the store, ms"),
        Field("store_ok", BOOL, "the last write to the store succeeded"),
    ),
    "the telemetry interval",
)
DEVICE_STATE = Measurement(
    "device_state",
    "one point per state change of a sensor",
    (ATHLETE, DEVICE, Tag("profile", "the sensor profile"), Tag("gateway", "the gateway's name"), SIDE),
    (
        Field("state", STRING, "`searching`, `connected`, `lost contact`, `reconnecting`, `stopped`"),
        Field("reason", STRING, "why the state changed"),
        Field("reconnects", INT, "reconnections so far"),
        Field("battery_pct", INT, "battery level, %"),
        Field("rssi_dbm", INT, "signal strength, dBm"),
    ),
    "the state change",
)
SIMULATED = Measurement(
    "simulated",
    "marks an athlete a simulation created",
    (ATHLETE,),
    (Field("generator", STRING, "`demo` or `ingest --virtual`"),),
    "the start of the run that marked it",
)
REST_DAY = Measurement(
    "rest_day",
    "an athlete's own word on a day: rested, or not (a log-based athlete's day without a log is otherwise unknown)",
    (ATHLETE, Tag("source", "`cli` (`recovery-monitor rest`), `import` (a session log's rest column), `checkin`")),
    (Field("rest", BOOL, "true: the athlete did not train that day; false withdraws an earlier mark"),),
    "00:00 UTC of the day",
)
ANALYSIS_DUE = Measurement(
    "analysis_due",
    "an athlete's stored analysis is out of date from a day on",
    (ATHLETE,),
    (
        Field("from_ms", INT, "the earliest time whose data changed, ms"),
        Field("pending", BOOL, "the analysis has not yet caught up"),
    ),
    "1970-01-01T00:00:00Z (one point per athlete)",
)

MEASUREMENTS: tuple[Measurement, ...] = (
    HR,
    RR,
    READINESS,
    SESSION,
    PROFILE,
    DAILY,
    FLAG,
    ACTIVITY,
    MOTION,
    RUN_DYNAMICS,
    ALERT,
    AFTERCARE,
    VISIT,
    VISIT_RESPONSE,
    WELLNESS,
    SORENESS,
    CHECKIN_LINK,
    RSC,
    POWER,
    ACC,
    ECG,
    STRIDE,
    GATEWAY,
    DEVICE_STATE,
    SIMULATED,
    ANALYSIS_DUE,
    REST_DAY,
)
_BY_NAME = {m.name: m for m in MEASUREMENTS}


def measurement(name: str) -> Measurement:
    """The declared measurement ``name``; KeyError when the model has none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"the data model declares no measurement {name!r}") from None


def batch_problems(batch: PointBatch) -> list[str]:
    """What in ``batch`` the model does not declare: its measurement, a tag, a field, or a field's type."""
    m = _BY_NAME.get(batch.measurement)
    if m is None:
        return [f"undeclared measurement {batch.measurement!r}"]
    problems = [f"{m.name}: undeclared tag {t!r}" for t in batch.tags if t not in m.tag_names]
    declared = {f.name: f.type for f in m.fields}
    for name, column in batch.fields.items():
        if name not in declared:
            problems.append(f"{m.name}: undeclared field {name!r}")
        elif len(column) and field_type(column) != declared[name]:
            problems.append(f"{m.name}.{name}: {field_type(column)}, declared {declared[name]}")
    return problems
