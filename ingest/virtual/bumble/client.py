"""A bleak client backend that connects through a ``VirtualAir``'s central."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import att, core, gatt, hci
from bumble.device import Connection, Device, Peer
from bumble.gatt_client import AttributeProxy, CharacteristicProxy

from ingest.virtual.bumble.common import BumbleConnectTimeoutError, BumbleDeviceDetails, bleak_uuid, parse_address

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

REQUESTED_MTU = 517
"""ATT MTU requested after every connect, as OS stacks do (Bumble keeps 23 unless asked)."""
DEFAULT_ATT_MTU = 23
DISCONNECT_TIMEOUT = 5.0


def _property_names(properties: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if bit <= 0x80 and properties & bit]


class BumbleClient(BaseBleakClient):
    """bleak client backend for a ``VirtualAir``; pass ``**air.client_kwargs()`` to ``BleakClient``.

    A string address is connected directly (as a static random address), without scanning first.
    Pairing is not supported: ``connect(pair=True)`` logs and connects unpaired, ``pair()``/``unpair()`` raise.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        air: VirtualAir,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout, **kwargs)
        self._air = air
        details = address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        self._peer_address = (
            details.address if isinstance(details, BumbleDeviceDetails) else parse_address(self.address)
        )
        self._advertised_name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._service_filter = services
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._established = False
        self._disconnect_requested = False
        self._gap_name: str | None = None
        self._notify_subscribers: dict[int, Callable[[bytes], None]] = {}

    # Properties

    @property
    def name(self) -> str:
        """GAP Device Name if read at connect, else the advertised name, else the address with dashes."""
        return self._gap_name or self._advertised_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 while disconnected)."""
        return self._connection.att_mtu if self._connection is not None else DEFAULT_ATT_MTU

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        return self._connection is not None

    # Connectivity

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, request MTU 517 and discover services, all within ``timeout`` seconds.

        Raises ``BumbleConnectTimeoutError`` (a ``BleakError`` and ``asyncio.TimeoutError``) on timeout and
        ``BleakError`` for other failures; ``dangerous_use_bleak_cache`` is accepted and ignored.
        """
        if self.is_connected:
            return
        if pair:
            logger.info("%s: pairing is not supported by the Bumble backend, connecting unpaired", self.address)
        timeout = float(kwargs.get("timeout", self._timeout))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        central = await self._air.central()
        connection = await self._open_link(central, deadline, timeout)

        self._connection = connection
        self._peer = Peer(connection)
        self._established = False
        self._disconnect_requested = False
        connection.on(Connection.EVENT_DISCONNECTION, functools.partial(self._on_disconnection, connection))
        try:
            async with asyncio.timeout_at(deadline):
                with self._translated_errors("connect"):
                    await self._peer.request_mtu(REQUESTED_MTU)
                    self.services = await self._discover_services(self._peer)
                    self._gap_name = await self._read_gap_name(self._peer)
        except TimeoutError as error:
            await self._drop_link()
            raise BumbleConnectTimeoutError(f"{self.address}: GATT setup not done within {timeout:g} s") from error
        except BaseException:
            await self._drop_link()
            raise
        if self._connection is not connection:
            raise BleakError(f"{self.address}: disconnected during connect")
        self._established = True

    async def disconnect(self) -> None:
        """Disconnect; does nothing when already disconnected. The disconnected callback is not called."""
        connection = self._connection
        if connection is None:
            return
        self._disconnect_requested = True
        if connection.handle not in connection.device.connections:
            self._on_disconnection(connection, hci.HCI_CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR)
            return
        try:
            async with asyncio.timeout(DISCONNECT_TIMEOUT):
                await connection.disconnect()
        except (TimeoutError, core.BaseBumbleError) as error:
            logger.warning("%s: disconnect did not complete cleanly: %s", self.address, error)
            self._on_disconnection(connection, hci.HCI_CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Not supported by this backend."""
        raise NotImplementedError("pairing is not supported by the Bumble backend")

    async def unpair(self) -> None:
        """Not supported by this backend."""
        raise NotImplementedError("unpairing is not supported by the Bumble backend")

    # GATT I/O

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic value (or its last received value with ``use_cached``)."""
        return await self._read(characteristic.obj, use_cached, f"read of {characteristic.uuid}")

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor value."""
        return await self._read(descriptor.obj, use_cached, f"read of descriptor {descriptor.handle}")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool) -> None:
        """Write a characteristic value, with or without response."""
        peer = self._require_peer()
        with self._translated_errors(f"write of {characteristic.uuid}"):
            await peer.write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        """Write a descriptor value (always with response)."""
        peer = self._require_peer()
        with self._translated_errors(f"write of descriptor {descriptor.handle}"):
            await peer.write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Enable notifications (indications if the characteristic only indicates) by writing its CCCD."""
        peer = self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        if previous := self._notify_subscribers.pop(proxy.handle, None):
            with self._translated_errors(f"stop_notify of {characteristic.uuid}"):
                await peer.unsubscribe(proxy, previous)

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._notify_subscribers[proxy.handle] = deliver
        with self._translated_errors(f"start_notify of {characteristic.uuid}"):
            await peer.subscribe(proxy, deliver, prefer_notify=True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Disable notifications/indications by clearing the CCCD."""
        peer = self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        subscriber = self._notify_subscribers.pop(proxy.handle, None)
        with self._translated_errors(f"stop_notify of {characteristic.uuid}"):
            await peer.gatt_client.unsubscribe(proxy, subscriber, force=subscriber is None)

    # Internals

    async def _open_link(self, central: Device, deadline: float, timeout: float) -> Connection:
        """Create the LE link, one connect at a time per central; the cancel on timeout is sent by Bumble."""
        lock = self._air.connect_lock
        try:
            async with asyncio.timeout_at(deadline):
                await lock.acquire()
        except TimeoutError as error:
            raise BumbleConnectTimeoutError(
                f"{self.address}: another connect held the central for {timeout:g} s"
            ) from error
        try:
            remaining = max(deadline - asyncio.get_running_loop().time(), 0.001)
            return await central.connect(self._peer_address, timeout=remaining)
        except core.TimeoutError as error:
            raise BumbleConnectTimeoutError(f"{self.address}: device not connected within {timeout:g} s") from error
        except core.BaseBumbleError as error:
            raise BleakError(f"{self.address}: connect failed: {error}") from error
        except asyncio.CancelledError:
            await asyncio.shield(self._cancel_pending_connect(central))
            raise
        finally:
            lock.release()

    @staticmethod
    async def _cancel_pending_connect(central: Device) -> None:
        """Withdraw a connect abandoned by cancellation, so the central can connect again."""
        with contextlib.suppress(Exception):
            await central.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())

    async def _drop_link(self) -> None:
        self._disconnect_requested = True
        with contextlib.suppress(Exception):
            await asyncio.shield(self.disconnect())

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if self._connection is not connection:
            return  # a link this client already let go of
        unsolicited = self._established and not self._disconnect_requested
        self._connection = None
        self._peer = None
        self._established = False
        self._notify_subscribers.clear()
        self.services = None
        logger.debug("%s: disconnected, reason 0x%02x, unsolicited=%s", self.address, reason, unsolicited)
        if unsolicited and self._disconnected_callback is not None:
            try:
                self._disconnected_callback()
            except Exception:
                logger.exception("%s: disconnected callback failed", self.address)

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    async def _read(self, proxy: AttributeProxy[bytes], use_cached: bool, operation: str) -> bytearray:
        peer = self._require_peer()
        if use_cached and (cached := peer.gatt_client.cached_values.get(proxy.handle)) is not None:
            return bytearray(cached[1])
        with self._translated_errors(operation):
            return bytearray(await peer.read_value(proxy))

    @contextlib.contextmanager
    def _translated_errors(self, operation: str) -> Iterator[None]:
        """Map Bumble errors to the exceptions bleak backends raise."""
        try:
            yield
        except att.ATT_Error as error:
            raise BleakGATTProtocolError(int(error.error_code)) from error
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # Bumble cancels in-flight GATT requests when the link drops.
            raise BleakError(f"{self.address}: {operation} aborted, the device disconnected") from None
        except core.TimeoutError as error:
            raise TimeoutError(f"{self.address}: {operation} timed out") from error
        except core.BaseBumbleError as error:
            raise BleakError(f"{self.address}: {operation} failed: {error}") from error

    async def _discover_services(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            service_uuid = bleak_uuid(service.uuid)
            if self._service_filter is not None and service_uuid not in self._service_filter:
                continue
            await peer.discover_characteristics(service=service)
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            for characteristic in service.characteristics:
                await peer.discover_descriptors(characteristic=characteristic)
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bleak_uuid(characteristic.uuid),
                    _property_names(characteristic.properties),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                for descriptor in characteristic.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, bleak_uuid(descriptor.type), bleak_characteristic
                        )
                    )
        return collection

    @staticmethod
    async def _read_gap_name(peer: Peer) -> str | None:
        for service in peer.services:
            for characteristic in service.characteristics:
                if characteristic.uuid == gatt.GATT_DEVICE_NAME_CHARACTERISTIC:
                    value = await peer.read_value(characteristic)
                    return value.decode("utf-8", errors="replace") or None
        return None
