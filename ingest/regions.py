"""The one body-region vocabulary: where a visit treated an athlete (and, later, where a check-in says it hurts).

A region is a muscle group or spinal segment, with a side for paired structures. Names are `<group>_l` /
`<group>_r` for sided regions and the bare group for midline ones (`lumbar`). `view` says on which side of a body
map (front or back) a region is drawn. docs/regions.md lists the vocabulary; tests/test_visits.py checks that it
matches this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Side = Literal["l", "r"]
View = Literal["front", "back"]


@dataclass(frozen=True)
class Region:
    """One region: ``name`` (e.g. `calf_l`), human ``label`` ("Calf, left"), ``side`` (`l`, `r` or None for
    midline), body-map ``view`` and the ``group`` it belongs to (e.g. `calf`)."""

    name: str
    label: str
    side: Side | None
    view: View
    group: str


_SIDED: tuple[tuple[str, str, View], ...] = (
    # group, label, body-map view
    ("calf", "Calf (gastrocnemius)", "back"),
    ("soleus", "Soleus", "back"),
    ("achilles", "Achilles tendon", "back"),
    ("plantar_fascia", "Plantar fascia", "back"),
    ("tibialis_anterior", "Tibialis anterior", "front"),
    ("peroneals", "Peroneals", "front"),
    ("hamstring", "Hamstrings", "back"),
    ("quadriceps", "Quadriceps", "front"),
    ("adductor", "Adductors", "front"),
    ("hip_flexor", "Hip flexors (iliopsoas)", "front"),
    ("tfl_itb", "Tensor fasciae latae / iliotibial band", "front"),
    ("glute_max", "Gluteus maximus", "back"),
    ("glute_med", "Gluteus medius", "back"),
    ("piriformis", "Piriformis", "back"),
    ("quadratus_lumborum", "Quadratus lumborum", "back"),
    ("shoulder", "Shoulder (deltoid, rotator cuff)", "front"),
    ("upper_trap", "Upper trapezius", "back"),
)
_MIDLINE: tuple[tuple[str, str, View], ...] = (
    ("cervical", "Cervical spine (neck)", "back"),
    ("thoracic", "Thoracic spine", "back"),
    ("lumbar", "Lumbar spine", "back"),
    ("abdominals", "Abdominals", "front"),
)
_SIDE_LABELS: dict[Side, str] = {"l": "left", "r": "right"}

REGIONS: tuple[Region, ...] = (
    *(
        Region(f"{group}_{side}", f"{label}, {_SIDE_LABELS[side]}", side, view, group)
        for group, label, view in _SIDED
        for side in ("l", "r")
    ),
    *(Region(group, label, None, view, group) for group, label, view in _MIDLINE),
)
"""Every region: the sided groups (left, then right) from the lower leg up, then the midline ones."""
REGION_NAMES: tuple[str, ...] = tuple(r.name for r in REGIONS)
_BY_NAME = {r.name: r for r in REGIONS}


REGION_MUSCLES: dict[str, tuple[str, ...]] = {
    "calf": ("gastrocnemius medialis", "gastrocnemius lateralis"),
    "soleus": ("soleus",),
    "achilles": ("gastrocnemius medialis", "gastrocnemius lateralis", "soleus"),
    "tibialis_anterior": ("tibialis anterior",),
    "quadriceps": ("vastus lateralis", "vastus medialis", "rectus femoris"),
    "hamstring": ("biceps femoris", "semitendinosus"),
    "glute_max": ("gluteus maximus",),
    "glute_med": ("gluteus medius",),
}
"""Body-region group → the muscle-load pod muscles in it (the `muscle` tag of `stride` points,
``ingest.ble.muscle_load.MUSCLES``). The Achilles tendon is the triceps surae's (both gastrocnemius heads and
soleus). Every other region (plantar fascia, peroneals, adductors, hip flexors (iliopsoas), TFL/ITB, piriformis,
quadratus lumborum, trunk, neck, shoulders) holds no pod muscle: its visits have no local measurement."""


def muscle_group(muscle: str) -> str | None:
    """The region group a pod muscle belongs to: the first group of ``REGION_MUSCLES`` holding it, i.e. the muscle
    belly (`gastrocnemius medialis` → `calf`, `soleus` → `soleus`, never the tendon); None for a muscle outside it."""
    return next((group for group, muscles in REGION_MUSCLES.items() if muscle in muscles), None)


class UnknownRegionError(ValueError):
    """Region names outside the vocabulary; the message names them and lists the allowed names."""

    def __init__(self, unknown: Iterable[str]) -> None:
        self.unknown: tuple[str, ...] = tuple(unknown)
        self.allowed: tuple[str, ...] = REGION_NAMES
        names = ", ".join(repr(name) for name in self.unknown)
        plural = "s" if len(self.unknown) != 1 else ""
        super().__init__(f"unknown region{plural} {names}: allowed are {', '.join(self.allowed)}")


def region(name: str) -> Region:
    """The region called ``name``; `UnknownRegionError` when the vocabulary has none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownRegionError([name]) from None


def parse_regions(value: str | Iterable[str]) -> tuple[str, ...]:
    """Region names from a comma list (`"calf_l, hamstring_r"`) or a sequence of names: stripped, lower-cased,
    de-duplicated and sorted. Empty items are ignored; ValueError when none is left, `UnknownRegionError`
    naming every name outside the vocabulary."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"a region name must be text, not {type(item).__name__}")
        if name := item.strip().lower():
            names.add(name)
    if not names:
        raise ValueError("no region given: name at least one, e.g. calf_l")
    unknown = sorted(names - _BY_NAME.keys())
    if unknown:
        raise UnknownRegionError(unknown)
    return tuple(sorted(names))
