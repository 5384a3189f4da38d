"""FIT activity files (decoded with Garmin's FIT SDK) → sessions and streams of the data model.

`decode_fit(data)` is pure: bytes in, a `FitActivity` out (identity, sessions, record columns, beats), or a
`FileDecodeError` whose message is the one-line reason. `FitActivity.batches(athlete)` gives the points.
"""

from ingest.activity import FileDecodeError
from ingest.fit.activity import FitActivity, FitSession, decode_fit

__all__ = ["FileDecodeError", "FitActivity", "FitSession", "decode_fit"]
