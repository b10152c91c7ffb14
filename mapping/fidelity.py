"""Where each common field lives on a backend: the published fidelity map.

Every adapter declares, per field of the common schema, whether the backend stores it in its
own field (native), in reserved ``mrg.`` keys of its tags/labels/metadata (envelope), in the
``mrg.json`` sidecar next to the artifact (sidecar), or cannot carry it at all (unsupported).
Migration plans and pilot reports read these maps; the fidelity matrix in the docs is
generated from tests that prove them.
"""

from __future__ import annotations

from enum import StrEnum


class Placement(StrEnum):
    NATIVE = "native"
    ENVELOPE = "envelope"
    SIDECAR = "sidecar"
    UNSUPPORTED = "unsupported"


# The fields of ModelVersion/Model that a backend must account for, in the order reports use.
VERSION_FIELDS: tuple[str, ...] = (
    "description",
    "tags",
    "stage",
    "approval",
    "aliases",
    "metrics",
    "params",
    "lineage.source_run",
    "lineage.datasets",
    "lineage.parents",
    "lineage.code",
    "lineage.migrated_from",
    "model_card",
    "artifact.files",
    "artifact.sha256",
    "created_by",
)
MODEL_FIELDS: tuple[str, ...] = ("model.description", "model.tags")
ALL_FIELDS: tuple[str, ...] = MODEL_FIELDS + VERSION_FIELDS


def carried(fidelity: dict[str, Placement], field: str) -> bool:
    """A field is carried when it lives anywhere but 'unsupported' (missing counts as unsupported)."""
    return fidelity.get(field, Placement.UNSUPPORTED) is not Placement.UNSUPPORTED
