"""The sensor profiles the gateway understands: how to recognise them, their data, their nominal rate."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.ble.cycling_power import CYCLING_POWER_MEASUREMENT_UUID, CYCLING_POWER_SERVICE_UUID
from ingest.ble.heart_rate import HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID
from ingest.ble.muscle_load import MUSCLE_LOAD_SERVICE_UUID, STRIDE_FRAME_UUID
from ingest.ble.polar_pmd import PMD_DATA_UUID, PMD_SERVICE_UUID
from ingest.ble.rsc import RSC_MEASUREMENT_UUID, RSC_SERVICE_UUID


@dataclass(frozen=True)
class Profile:
    """A sensor profile: ``kind`` names it in reports, ``measurements`` are the points its samples become."""

    name: str
    kind: str
    service_uuid: str
    data_uuid: str
    period_s: float
    measurements: tuple[str, ...]
    name_prefixes: tuple[str, ...] = ()
    advertised: bool = True


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("heart_rate", "strap", HEART_RATE_SERVICE_UUID, HEART_RATE_MEASUREMENT_UUID, 1.0, ("hr", "rr")),
        Profile("rsc", "footpod", RSC_SERVICE_UUID, RSC_MEASUREMENT_UUID, 0.5, ("rsc",)),
        Profile("cycling_power", "power", CYCLING_POWER_SERVICE_UUID, CYCLING_POWER_MEASUREMENT_UUID, 0.5, ("power",)),
        Profile(
            "pmd_acc",
            "acc",
            PMD_SERVICE_UUID,
            PMD_DATA_UUID,
            0.2,
            ("acc",),
            name_prefixes=("Polar ",),
            advertised=False,
        ),
        Profile(
            "pmd_ecg",
            "ecg",
            PMD_SERVICE_UUID,
            PMD_DATA_UUID,
            73 / 130,
            ("ecg",),
            name_prefixes=("Polar H10",),  # of Polar's PMD sensors only the H10 records ECG
            advertised=False,
        ),
        Profile("muscle_load", "pod", MUSCLE_LOAD_SERVICE_UUID, STRIDE_FRAME_UUID, 0.75, ("stride",)),
    )
}


def recognise(service_uuids: list[str], name: str | None) -> list[Profile]:
    """Profiles an advertisement announces (by service UUID, or by name for sensors that hide the service)."""
    uuids = {uuid.lower() for uuid in service_uuids}
    found = [profile for profile in PROFILES.values() if profile.service_uuid in uuids]
    if name:
        found += [
            profile
            for profile in PROFILES.values()
            if not profile.advertised and profile not in found and name.startswith(profile.name_prefixes)
        ]
    return found
