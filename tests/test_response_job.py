"""The treatment-response job on both stores (monitor.response_job) and `recovery-monitor response`: the store path
gives the verdicts the pure computation gives on the simulated arrays, complete visits are stored once as
`visit_response` points, local responses come from pod strides of the treated muscles, bad input is one line."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ingest.model import SESSION, STRIDE, VISIT_RESPONSE
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.visits import VisitNotFoundError, new_visit, write_visits
from monitor.asymmetry import si_from_left_share_pct, symmetry_index_pct
from monitor.cli.main import main
from monitor.response import visit_responses
from monitor.response_job import UnknownAthleteError, response_for

FIRST = dt.date(2025, 1, 1)
DAYS = 130
VISIT_DAY = 110
VISIT_DATE = FIRST + dt.timedelta(days=VISIT_DAY)
LAST = FIRST + dt.timedelta(days=DAYS - 1)  # day 19 after the visit
NOW_MS = day_start_ms(LAST) + DAY_MS


def history():
    """Four athletes, each an episode from day 100 and a visit on day 110: HRV, GCT and pedal with the treatment
    effect, muscle without. The pods sat on the medial gastrocnemius."""
    none = np.array([-1, -1, -1, -1])
    return simulate_training_history(
        4, DAYS, np.random.default_rng(3), sport=np.array(["mixed", "run", "ride", "mixed"]),
        hrv_drop_day=np.where(np.arange(4) == 0, 100, none), gct_onset_day=np.where(np.arange(4) == 1, 100, none),
        pedal_onset_day=np.where(np.arange(4) == 2, 100, none), muscle_onset_day=np.where(np.arange(4) == 3, 100, none),
        visit_day=VISIT_DAY, visit_effect=np.array([True, True, True, False]), pod_muscle="gastrocnemius medialis",
    )  # fmt: skip


def store_history(store) -> list:
    h = history()
    store.write(training_history_batches(h, day_start_ms(FIRST)))
    visits = [new_visit(a, day_start_ms(VISIT_DATE) + 12 * 3_600_000, "calf_l", now_ms=NOW_MS) for a in h.athlete_ids]
    write_visits(store, visits)
    return visits


def reference_verdicts() -> dict[str, dict[str, str]]:
    """The verdicts computed on the simulator's arrays directly (the pods' muscle is in the treated calf)."""
    h = history()
    daily = {
        "muscle_si_abs_pct": np.abs(symmetry_index_pct(h.muscle_load_left, h.muscle_load_right)),
        "gct_si_abs_pct": np.abs(symmetry_index_pct(h.gct_left_ms, h.gct_right_ms)),
        "pedal_si_abs_pct": np.abs(si_from_left_share_pct(h.pedal_balance_left_pct)),
        "ln_rmssd": h.ln_rmssd,
        "resting_hr_bpm": h.morning_hr_bpm,
    }
    r = visit_responses(np.full(4, VISIT_DAY), daily)
    return {a: {level: str(r[level].score.verdict[i]) for level in r} for i, a in enumerate(h.athlete_ids)}


def test_the_store_path_gives_the_verdicts_of_the_simulated_arrays_and_stores_them_once(each_store):
    visits = store_history(each_store)
    doc = response_for(each_store, as_of=LAST)
    got = {v["athlete"]: {level: r["verdict"] for level, r in v["levels"].items()} for v in doc["visits"]}
    assert got == reference_verdicts()
    assert got["S001"]["systemic"] == "improved" and got["S002"]["segmental"] == "improved"
    assert got["S003"]["segmental"] == "improved" and got["S004"]["local"] != "improved"  # S004: no effect
    first = doc["visits"][0]
    assert first["visit_id"] == visits[0].visit_id and first["at"] == f"{VISIT_DATE}T12:00:00Z"
    assert first["regions"] == ["calf_l"] and first["complete"] and first["after_window_ends"] == "2025-04-29"
    assert first["levels"]["local"]["muscles"] == ["gastrocnemius lateralis", "gastrocnemius medialis"]
    assert doc["summary"]["visits"] == doc["summary"]["complete"] == 4
    assert doc["summary"]["levels"]["segmental"]["improved"] == sum(g["segmental"] == "improved" for g in got.values())

    assert each_store.count(VISIT_RESPONSE.name) == 12  # one point per visit and level
    stored = each_store.read(
        VISIT_RESPONSE.name, "S001", ["verdict", "improvement_sd", "ci95_low_sd", "days_pre", "metrics"],
        tags={"level": "systemic"}, with_tags=["visit_id"],
    )  # fmt: skip
    systemic = first["levels"]["systemic"]
    assert stored.time_ms.tolist() == [visits[0].at_ms] and stored.columns["visit_id"][0] == visits[0].visit_id
    assert stored.columns["verdict"][0] == "improved"
    assert stored.columns["improvement_sd"][0] == pytest.approx(systemic["improvement_sd"])
    assert stored.columns["ci95_low_sd"][0] == pytest.approx(systemic["ci95_sd"][0])
    assert stored.columns["days_pre"][0] == systemic["days"]["pre"]
    assert stored.columns["metrics"][0] == "ln_rmssd,resting_hr_bpm"
    again = response_for(each_store, as_of=LAST)
    assert again == doc and each_store.count(VISIT_RESPONSE.name) == 12


def test_a_visit_is_complete_once_day_8_has_passed(each_store):
    store_history(each_store)
    day8 = VISIT_DATE + dt.timedelta(days=8)
    pending = response_for(each_store, athlete="S001", as_of=day8)
    (visit,) = pending["visits"]
    assert not visit["complete"] and pending["summary"]["complete"] == 0
    assert {r["verdict"] for r in visit["levels"].values()} == {"insufficient data"}
    assert visit["levels"]["systemic"]["reason"] == "days 2–8 after the visit end on 2025-04-29"
    assert each_store.count(VISIT_RESPONSE.name) == 0
    done = response_for(each_store, athlete="S001", as_of=day8 + dt.timedelta(days=1))
    assert done["visits"][0]["complete"] and done["visits"][0]["levels"]["systemic"]["verdict"] == "improved"
    assert each_store.count(VISIT_RESPONSE.name) == 3
    assert response_for(each_store, athlete="S001", as_of=VISIT_DATE - dt.timedelta(days=1))["visits"] == []


def test_unknown_athletes_and_visits_are_refused(each_store):
    visits = store_history(each_store)
    with pytest.raises(UnknownAthleteError, match="athlete 'X99': no data"):
        response_for(each_store, athlete="X99", as_of=LAST)
    with pytest.raises(VisitNotFoundError, match="visit 'v-000000000000': no such visit"):
        response_for(each_store, visit_id="v-000000000000", as_of=LAST)
    with pytest.raises(VisitNotFoundError, match="not a visit of athlete 'S002'"):
        response_for(each_store, athlete="S002", visit_id=visits[0].visit_id, as_of=LAST)
    only = response_for(each_store, visit_id=visits[1].visit_id, as_of=LAST)
    assert [v["athlete"] for v in only["visits"]] == ["S002"]
    assert each_store.count(VISIT_RESPONSE.name) == 3


def stride_batches(athlete: str, muscle: str, days: range, left: list[float], right: list[float]) -> list:
    """Three strides per side on each of ``days`` (day index from FIRST) with the given EMG per day."""
    batches = []
    for side, emg in (("left", left), ("right", right)):
        times, values = [], []
        for d, e in zip(days, emg):
            for k in range(3):
                times.append(day_start_ms(FIRST) + d * DAY_MS + 17 * 3_600_000 + k * 700)
                values.append(e + (k - 1) * 0.5)
        tags = {"athlete": athlete, "device": f"pod-{side}", "source": "ble", "side": side, "muscle": muscle}
        batches.append(STRIDE.batch(tags, times, {"emg_rms_pct_mvc": values, "gct_ms": [250] * len(times)}))
    return batches


def test_the_local_response_comes_from_the_strides_of_the_treated_muscles(each_store):
    rng = np.random.default_rng(5)
    base = range(VISIT_DAY - 67, VISIT_DAY - 7)
    pre, post = range(VISIT_DAY - 7, VISIT_DAY), range(VISIT_DAY + 2, VISIT_DAY + 9)
    batches = []
    for days, shift in ((base, 0.0), (pre, 10.0), (post, 1.0)):
        noise = rng.normal(0, 1.0, len(days))
        batches += stride_batches("P01", "soleus", days, list(45 + shift / 2 + noise), list(45 - shift / 2 - noise))
    batches += stride_batches("P01", "tibialis anterior", pre, [60.0] * 7, [20.0] * 7)  # not treated
    unnamed = [day_start_ms(FIRST) + d * DAY_MS + 8 * 3_600_000 for d in post]  # sessions naming no muscle
    load = {"muscle_load_left": [90.0] * 7, "muscle_load_right": [10.0] * 7, "duration_s": [3600.0] * 7}
    batches.append(SESSION.batch({"athlete": "P01", "source": "csv", "sport": "run"}, unnamed, load))
    each_store.write(batches)
    at_ms = day_start_ms(VISIT_DATE) + 9 * 3_600_000
    write_visits(
        each_store,
        [
            new_visit("P01", at_ms, "soleus_l,lumbar", now_ms=NOW_MS),
            new_visit("P01", at_ms - 3 * DAY_MS, "lumbar", now_ms=NOW_MS),
        ],
    )
    doc = response_for(each_store, athlete="P01", as_of=LAST)
    lumbar, soleus = doc["visits"]
    local = soleus["levels"]["local"]
    assert local["verdict"] == "improved" and local["muscles"] == ["soleus"]
    assert local["days"] == {"pre": 7, "post": 7} and local["metrics_used"] == ["muscle_si_abs_pct"]
    metric = local["metrics"]["muscle_si_abs_pct"]
    assert metric["pre_mean"] > 15 and metric["post_mean"] < 8 and metric["days"]["baseline"] == 60  # no 160 % days
    assert soleus["levels"]["systemic"]["verdict"] == "insufficient data"  # no mornings at all
    assert lumbar["levels"]["local"]["verdict"] == "insufficient data" and lumbar["levels"]["local"]["muscles"] == []
    assert lumbar["levels"]["local"]["reason"] == "no muscle-load pod muscle in the treated regions"


# --- the command ---------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    store = SQLiteStore(tmp_path / "store.sqlite", url=url)
    store_history(store)
    store.close()
    return url


def test_the_command_prints_json_and_a_table(sqlite_url, capsys):
    as_of = LAST.isoformat()
    assert main(["response", "--store", sqlite_url, "--as-of", as_of, "--athlete", "S002", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [v["athlete"] for v in doc["visits"]] == ["S002"] and doc["as_of"] == as_of
    assert set(doc["visits"][0]["levels"]) == {"local", "segmental", "systemic"}
    assert doc["visits"][0]["levels"]["segmental"]["verdict"] == "improved"
    assert main(["response", "--store", sqlite_url, "--as-of", as_of]) == 0
    out = capsys.readouterr().out
    for text in ("S001", "S004", "improved", "segmental: ", "followed by improvement", "no control group"):
        assert text in out
    day8 = (VISIT_DATE + dt.timedelta(days=8)).isoformat()
    assert main(["response", "--store", sqlite_url, "--as-of", day8]) == 0
    assert "pending: day 8 is 2025-04-29" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--athlete", "NOPE"], "athlete 'NOPE': no data for this athlete"),
        (["--visit", "v-0123456789ab"], "visit 'v-0123456789ab': no such visit"),
        (["--as-of", "2025-13-01"], "--as-of '2025-13-01': expected a date as YYYY-MM-DD"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(sqlite_url, tmp_path, capsys, args, message):
    assert main(["response", "--store", sqlite_url, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    store = SQLiteStore(tmp_path / "store.sqlite", url=sqlite_url)
    try:
        assert store.count(VISIT_RESPONSE.name) == 0
    finally:
        store.close()


def test_the_clinic_api_answers_the_same_response_and_writes_nothing(tmp_path):
    """`GET /api/v1/athletes/{id}/response` on the running server: the verdicts of the simulated arrays, the
    document `response_for` computes, checked against the served OpenAPI document, and no point written."""
    from api_client import AUTH, TOKEN, Client, running_api

    from ingest.store.sqlite import SQLiteStore
    from monitor.service.api.auth import BearerAuth

    store = SQLiteStore(tmp_path / "store.sqlite")
    visits = store_history(store)
    with running_api(store.url, BearerAuth.for_token(TOKEN)) as server:
        client = Client(server)
        try:
            answer = client.call("GET", "/api/v1/athletes/S002/response", headers=AUTH)
            one = client.call("GET", f"/api/v1/athletes/S002/response?visit_id={visits[1].visit_id}", headers=AUTH)
        finally:
            client.close()
    assert answer.status_code == 200 and one.status_code == 200
    doc = answer.json()
    assert [v["visit_id"] for v in doc["visits"]] == [visits[1].visit_id] and one.json() == doc
    got = {level: r["verdict"] for level, r in doc["visits"][0]["levels"].items()}
    assert got == reference_verdicts()["S002"] and got["segmental"] == "improved"
    assert doc == json.loads(json.dumps(response_for(store, "S002", write=False)))
    assert store.count(VISIT_RESPONSE.name) == 0
    store.close()
