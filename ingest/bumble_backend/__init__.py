"""A bleak backend (client and scanner) running on an in-process Bumble BLE stack."""

from ingest.bumble_backend.air import VirtualAir, VirtualController
from ingest.bumble_backend.client import BumbleClient
from ingest.bumble_backend.common import BumbleConnectTimeoutError, BumbleDeviceDetails
from ingest.bumble_backend.scanner import BumbleScanner

__all__ = [
    "BumbleClient",
    "BumbleConnectTimeoutError",
    "BumbleDeviceDetails",
    "BumbleScanner",
    "VirtualAir",
    "VirtualController",
]
