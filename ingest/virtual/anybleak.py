"""Any bleak code, unchanged, on the virtual air: ``bleak.BleakClient`` and ``bleak.BleakScanner`` resolve to it.

Inside a ``with virtual_bleak(air):`` block, every ``BleakClient`` and ``BleakScanner`` created without an explicit
``backend=`` runs on the in-process Bumble backend of ``air``::

    from bleak import BleakClient, BleakScanner
    from ingest.virtual.anybleak import virtual_bleak
    from ingest.virtual.bumble.air import VirtualAir
    from ingest.virtual.pmd_sensor import VirtualPmdSensor

    async with VirtualAir() as air:
        h10 = VirtualPmdSensor(air, "Polar H10 0A1B2C3D", "C0:00:00:05:00:01")
        await h10.start()
        with virtual_bleak(air):
            device = await BleakScanner.find_device_by_name("Polar H10 0A1B2C3D")  # third-party code, unchanged
            async with BleakClient(device) as client:
                print(await client.read_gatt_char("2a19"))  # battery level

How: when a ``BleakClient`` or ``BleakScanner`` is created without ``backend=``, bleak asks
``bleak.get_platform_client_backend_type()`` / ``bleak.get_platform_scanner_backend_type()`` for the platform's
backend; inside the block those two return the Bumble backend bound to the air. So the switch reaches code that
imported the classes long before (``from bleak import BleakClient`` in polar-python, bleakheart, pycycling),
bleak-retry-connector's ``establish_connection`` and classmethods such as ``BleakScanner.discover``. Clients and
scanners keep the backend they were created with: create them inside the block; those created outside are
untouched. Blocks nest; the switch is process-wide, so do not run real and virtual bleak code in two threads at once.

Whole programs, with no code at all: ``python -m ingest.virtual.anybleak [--athletes N] [--seed S] -m MODULE
[ARGS...]`` (or ``SCRIPT [ARGS...]``) runs a bleak program inside the block, against a virtual squad (per athlete a
strap, a footpod, two muscle-load pods, an H10-like PMD sensor and a power meter, ``ingest.virtual.squad``) that
starts in the program's own event loop on its first scan or connect and streams in real time; for example
``python -m ingest.virtual.anybleak -m polar_python stream --name-contains "Polar ACC" --stream hr --duration 5``.
This launcher is the environment switch: it needs no sitecustomize or ``.pth`` hook and nothing in the program.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import runpy
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import bleak
import numpy as np
from bumble.device import Device

from ingest.virtual.bumble.air import VirtualAir
from ingest.virtual.bumble.client import BumbleClient
from ingest.virtual.bumble.scanner import BumbleScanner
from ingest.virtual.chaos_air import ChaosAir

logger = logging.getLogger(__name__)

BACKEND_ID = "virtual air (Bumble)"
AirSource = VirtualAir | Callable[[], VirtualAir]
"""The air itself, or a function that returns it when a client or scanner is created (the launcher's per loop)."""
_CLIENT_HOOK = "get_platform_client_backend_type"
_SCANNER_HOOK = "get_platform_scanner_backend_type"


def _resolve(source: AirSource) -> VirtualAir:
    return source if isinstance(source, VirtualAir) else source()


def bound_backends(source: AirSource) -> tuple[type[BumbleClient], type[BumbleScanner]]:
    """Client and scanner backend classes that need no ``air=`` keyword: they take theirs from ``source``."""

    class AirClient(BumbleClient):
        def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
            kwargs.setdefault("air", _resolve(source))
            super().__init__(address_or_ble_device, **kwargs)

    class AirScanner(BumbleScanner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("air", _resolve(source))
            super().__init__(*args, **kwargs)

    return AirClient, AirScanner


@contextlib.contextmanager
def virtual_bleak(source: AirSource) -> Iterator[None]:
    """Within the block, ``bleak.BleakClient(...)`` and ``bleak.BleakScanner(...)`` without ``backend=`` use the
    virtual air ``source`` (see the module docstring); the platform's backends come back on exit."""
    client, scanner = bound_backends(source)
    previous = getattr(bleak, _CLIENT_HOOK), getattr(bleak, _SCANNER_HOOK)
    setattr(bleak, _CLIENT_HOOK, lambda: (client, BACKEND_ID))
    setattr(bleak, _SCANNER_HOOK, lambda: (scanner, BACKEND_ID))
    try:
        yield
    finally:
        setattr(bleak, _CLIENT_HOOK, previous[0])
        setattr(bleak, _SCANNER_HOOK, previous[1])


class SquadAir(ChaosAir):
    """A ChaosAir that starts a virtual squad and drives it in real time the first time a central is needed."""

    def __init__(self, athletes: int, seed: int) -> None:
        super().__init__(advertising_interval_ms=50.0)
        self.athletes = athletes
        self.seed = seed
        self._squad_lock = asyncio.Lock()
        self._drive: asyncio.Task[None] | None = None

    async def central(self) -> Device:
        await self._start_squad()
        return await super().central()

    async def _start_squad(self) -> None:
        from ingest.virtual.squad import VirtualSquad

        async with self._squad_lock:
            if self._drive is not None:
                return
            await self.start()
            squad = VirtualSquad(self, self.athletes, np.random.default_rng(self.seed), with_acc=True, with_power=True)
            await squad.start()
            names = ", ".join(sensor.name for sensor in squad.sensors)
            logger.info("virtual squad on the air: %s", names)
            self._drive = asyncio.get_running_loop().create_task(squad.drive(asyncio.Event()), name="virtual squad")


class LoopAirs:
    """One ``SquadAir`` per event loop (a program may call ``asyncio.run`` more than once)."""

    def __init__(self, athletes: int, seed: int) -> None:
        self.athletes = athletes
        self.seed = seed
        self._airs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SquadAir] = weakref.WeakKeyDictionary()

    def __call__(self) -> VirtualAir:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("create BleakClient and BleakScanner in a running event loop") from None
        air = self._airs.get(loop)
        if air is None:
            air = self._airs[loop] = SquadAir(self.athletes, self.seed)
        return air


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ingest.virtual.anybleak``: run a bleak program against a virtual squad (module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest.virtual.anybleak",
        description="run any bleak program, unchanged, against a virtual squad on the in-process Bumble stack",
    )
    parser.add_argument("--athletes", type=int, default=1, metavar="N", help="virtual athletes (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m does")
    parser.add_argument("program", nargs=argparse.REMAINDER, help="SCRIPT and its arguments, or the module's")
    args = parser.parse_args(argv)
    if not 1 <= args.athletes <= 99:
        parser.error(f"--athletes {args.athletes}: expected 1-99")
    if args.module is None and not args.program:
        parser.error("name a program: -m MODULE [ARGS...] or SCRIPT [ARGS...]")
    target = args.module or args.program[0]
    rest = args.program if args.module else args.program[1:]
    sys.argv = [target, *rest]
    with virtual_bleak(LoopAirs(args.athletes, args.seed)):  # the program's SystemExit passes through
        if args.module:
            runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
