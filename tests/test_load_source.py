"""One load source per athlete: sRPE when most sessions carry it, else TRIMP (a watch user who rated a few runs)."""

from __future__ import annotations

import numpy as np

from ingest.store.base import ManyFrame
from monitor.analyze import SRPE_MIN_SHARE, session_loads

NAN = np.nan


def frame(srpe: list[float], trimp: list[float]) -> ManyFrame:
    n = len(srpe)
    return ManyFrame(
        ["A"],
        np.zeros(n, np.int64),
        np.arange(n, dtype=np.int64),
        {
            "srpe_load": np.array(srpe, float),
            "rpe": np.full(n, NAN),
            "duration_s": np.full(n, 3600.0),
            "trimp": np.array(trimp, float),
        },
    )


def test_a_watch_user_who_rated_one_run_keeps_trimp() -> None:
    load, sources = session_loads(frame([NAN, NAN, NAN, 300.0], [80.0, 90.0, 85.0, 70.0]))
    assert sources == ["trimp"] and load.tolist() == [80.0, 90.0, 85.0, 70.0]


def test_srpe_from_the_share_on() -> None:
    assert SRPE_MIN_SHARE == 0.8
    # 4 of 5 sessions rated: exactly 80 % → sRPE; the unrated session adds nothing
    load, sources = session_loads(frame([200.0, 210.0, 190.0, 220.0, NAN], [80.0] * 5))
    assert sources == ["srpe"] and np.isnan(load[4]) and load[:4].tolist() == [200.0, 210.0, 190.0, 220.0]
    # 3 of 5: below the share and fewer than the TRIMPs → TRIMP
    _, sources = session_loads(frame([200.0, 210.0, 190.0, NAN, NAN], [80.0] * 5))
    assert sources == ["trimp"]


def test_logs_without_heart_rate_use_srpe_and_nothing_gives_no_source() -> None:
    _, sources = session_loads(frame([200.0, NAN, 150.0], [NAN, NAN, NAN]))  # 2 of 3 rated, no TRIMP at all
    assert sources == ["srpe"]
    _, sources = session_loads(frame([NAN, NAN], [NAN, NAN]))
    assert sources == [None]
