"""Typed errors of the BLE decoding layer."""


class DecodeError(ValueError):
    """A characteristic payload does not follow its specification.

    The message is one line that names the characteristic and the problem, for example
    ``"0x2A37: 2 bytes, expected at least 3 for a uint16 heart rate"``.
    """
