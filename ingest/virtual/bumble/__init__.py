"""A bleak backend (client and scanner) running on an in-process Bumble BLE stack."""

from ingest.virtual.bumble.air import VirtualAir, VirtualController
from ingest.virtual.bumble.client import BumbleClient
from ingest.virtual.bumble.common import BumbleConnectTimeoutError, BumbleDeviceDetails
from ingest.virtual.bumble.scanner import BumbleScanner

__all__ = [
    "BumbleClient",
    "BumbleConnectTimeoutError",
    "BumbleDeviceDetails",
    "BumbleScanner",
    "VirtualAir",
    "VirtualController",
]
