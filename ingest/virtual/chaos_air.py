"""A VirtualAir whose link can fail like a real radio: link loss, half-open links, devices out of range.

``ChaosLink`` is a ``LocalLink`` that

* delivers advertising only to controllers that scan, or initiate a connection to that advertiser (the base link
  sends every advertisement to every controller, which grows with N² and only costs CPU),
* drops advertising, ACL and LL control PDUs to and from controllers marked unreachable (out of range),
* taps every ATT notification that reaches a live connection, so virtual sensors count what was **delivered**.

Faults (see docs in ``ble-protocols.md`` §3): ``link_loss`` fires the LE-disconnected handler with reason 0x08
(connection timeout) on both controllers; ``half_open`` does it on the sensor's controller only, so the gateway
keeps a link that carries nothing; ``out_of_range`` makes a controller unreachable, fires the supervision timeout
after ``supervision_timeout_s`` and makes it reachable again after ``duration_s``.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

from bumble import core, hci, ll
from bumble.controller import Controller
from bumble.link import LocalLink

from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

CONNECTION_TIMEOUT = hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR  # 0x08
_ATT_CID = 0x0004
_ATT_NOTIFICATION = 0x1B
_ATT_INDICATION = 0x1D

NotificationTap = Callable[[int, bytes], None]
"""Called with (attribute handle, value) for every notification or indication delivered from a controller."""


class ChaosLink(LocalLink):
    """A LocalLink with reachability, delivery taps and scanner-only advertising delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.unreachable: set[Controller] = set()
        self.dropped_pdus = 0
        self._taps: dict[Controller, NotificationTap] = {}
        self._by_address: dict[bytes, Controller] = {}

    def add_controller(self, controller: Controller) -> None:
        super().add_controller(controller)
        self._by_address.clear()

    def remove_controller(self, controller: Controller) -> None:
        super().remove_controller(controller)
        self._by_address.clear()

    def add_tap(self, controller: Controller, tap: NotificationTap) -> None:
        """Report notifications from ``controller`` that reach a live connection."""
        self._taps[controller] = tap

    def _find(self, address: hci.Address) -> Controller | None:
        key = bytes(address)
        if not self._by_address:
            self._by_address = {bytes(c.random_address): c for c in self.controllers}
        return self._by_address.get(key) or self.find_le_controller(address)

    def send_acl_data(
        self,
        sender_controller: Controller,
        destination_address: hci.Address,
        transport: core.PhysicalTransport,
        data: bytes,
    ) -> None:
        if transport != core.PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        destination = self._find(destination_address)
        if destination is None or sender_controller in self.unreachable or destination in self.unreachable:
            self.dropped_pdus += 1
            return
        source_address = sender_controller.random_address
        tap = self._taps.get(sender_controller)

        def deliver() -> None:
            if sender_controller in self.unreachable or destination in self.unreachable:
                self.dropped_pdus += 1
                return
            if source_address not in destination.le_connections:
                self.dropped_pdus += 1  # the link dropped while the PDU was in flight
                return
            if tap is not None:
                _tap_notification(tap, data)
            destination.on_link_acl_data(source_address, transport, data)

        asyncio.get_running_loop().call_soon(deliver)

    def send_advertising_pdu(self, sender_controller: Controller, packet: ll.AdvertisingPdu) -> None:
        if sender_controller in self.unreachable:
            self.dropped_pdus += 1
            return
        loop = asyncio.get_running_loop()
        connect = isinstance(packet, ll.ConnectInd)
        advertiser = getattr(packet, "advertiser_address", None)
        for controller in self.controllers:
            if controller is sender_controller or controller in self.unreachable:
                continue
            pending = controller.pending_le_connection
            if connect or controller.le_scan_enable or (pending is not None and pending.peer_address == advertiser):
                loop.call_soon(controller.on_ll_advertising_pdu, packet)

    def send_ll_control_pdu(
        self, sender_address: hci.Address, receiver_address: hci.Address, packet: ll.ControlPdu
    ) -> None:
        sender = self._find(sender_address)
        receiver = self._find(receiver_address)
        if receiver is None or sender in self.unreachable or receiver in self.unreachable:
            self.dropped_pdus += 1
            return
        if sender_address not in receiver.le_connections:
            return  # the receiver already dropped this link (e.g. a half-open link being terminated)
        super().send_ll_control_pdu(sender_address, receiver_address, packet)


def _tap_notification(tap: NotificationTap, data: bytes) -> None:
    if len(data) < 7:
        return
    _length, cid = struct.unpack_from("<HH", data)
    if cid == _ATT_CID and data[4] in (_ATT_NOTIFICATION, _ATT_INDICATION):
        tap(struct.unpack_from("<H", data, 5)[0], bytes(data[7:]))


class ChaosAir(VirtualAir):
    """A VirtualAir on a ``ChaosLink``, with fault injection per peripheral controller."""

    def __init__(self, *, supervision_timeout_s: float = 1.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.supervision_timeout_s = supervision_timeout_s

    async def start(self) -> None:
        if self._link is None:
            self._link = ChaosLink()

    @property
    def chaos_link(self) -> ChaosLink:
        link = self.link
        assert isinstance(link, ChaosLink)
        return link

    async def central_controller(self) -> Controller:
        return self.controller_of(await self.central())

    async def link_loss(self, peripheral: Controller) -> int:
        """Supervision timeout on both sides of every link of ``peripheral``; returns the links dropped."""
        central = await self.central_controller()
        dropped = 0
        for address, connection in list(peripheral.le_connections.items()):
            peer = central.le_connections.get(peripheral.random_address)
            if peer is not None and address == central.random_address:
                central.on_le_disconnected(peer, CONNECTION_TIMEOUT)
            peripheral.on_le_disconnected(connection, CONNECTION_TIMEOUT)
            dropped += 1
        return dropped

    async def half_open(self, peripheral: Controller) -> int:
        """The sensor's side times out; the gateway's side stays connected and receives nothing."""
        dropped = 0
        for connection in list(peripheral.le_connections.values()):
            peripheral.on_le_disconnected(connection, CONNECTION_TIMEOUT)
            dropped += 1
        return dropped

    async def out_of_range(self, peripheral: Controller, duration_s: float) -> float:
        """Unreachable for ``duration_s``: links time out after the supervision timeout. Returns when back
        in range, with the loop time at which the device became reachable again."""
        link = self.chaos_link
        link.unreachable.add(peripheral)
        try:
            await asyncio.sleep(min(self.supervision_timeout_s, duration_s))
            await self.link_loss(peripheral)
            await asyncio.sleep(max(duration_s - self.supervision_timeout_s, 0.0))
        finally:
            link.unreachable.discard(peripheral)
        return asyncio.get_running_loop().time()
