"""Small types shared by the Bumble air, scanner and client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bleak.exc import BleakError
from bumble import core, hci


@dataclass(frozen=True)
class BumbleDeviceDetails:
    """``BLEDevice.details`` of a device seen on a virtual air: the typed Bumble address.

    Deliberately not a dict with a ``"path"`` key, so bleak-retry-connector never takes its BlueZ code paths.
    """

    address: hci.Address


class BumbleConnectTimeoutError(BleakError, TimeoutError):
    """A connect did not complete within its timeout.

    It is both a ``BleakError`` and an ``asyncio.TimeoutError``, so callers and bleak-retry-connector
    treat it like a timeout of any other bleak backend.
    """


def bleak_uuid(bumble_uuid: core.UUID) -> str:
    """The 128-bit lower-case UUID string bleak uses for a Bumble UUID of any size."""
    return str(uuid.UUID(bytes=bytes(reversed(bumble_uuid.to_bytes(force_128=True)))))


def parse_address(address: str) -> hci.Address:
    """A typed LE address from a string; virtual devices use static random addresses."""
    return hci.Address.from_string_for_transport(address, core.PhysicalTransport.LE)


def is_static_random(address: hci.Address) -> bool:
    """True for a random address whose two most significant bits are set (static random)."""
    most_significant_octet = bytes(address)[5]
    return address.address_type == hci.Address.RANDOM_DEVICE_ADDRESS and most_significant_octet & 0xC0 == 0xC0
