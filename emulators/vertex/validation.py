"""Input rules Vertex AI enforces on IDs, aliases and labels.

Sources: model.proto / model_service.proto docstrings shipped with google-cloud-aiplatform
and the GCP labels overview. Where those disagree (model.proto says labels are "no longer
than 64 characters", the labels overview says 63) the stricter published limit wins, and
docs/emulators/vertex.md lists the choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .errors import invalid

MODEL_ID_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
ALIAS_RE = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$")
METADATA_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{3,127}$")
LABEL_MAX_CHARS = 63
LABEL_MAX_COUNT = 64
DISPLAY_NAME_MAX = 128


def _label_char_ok(ch: str) -> bool:
    if ch in "_-" or ("a" <= ch <= "z") or ("0" <= ch <= "9"):
        return True
    # "International characters are allowed": non-ASCII letters that are not upper case.
    return ord(ch) > 127 and ch.isalpha() and not ch.isupper()


def validate_labels(labels: Mapping[str, str], what: str = "labels") -> None:
    """Reject label maps the service refuses: count, lengths, and the lowercase charset."""
    if len(labels) > LABEL_MAX_COUNT:
        raise invalid(f"Too many {what}: {len(labels)} given, at most {LABEL_MAX_COUNT} are allowed.")
    for key, value in labels.items():
        if not key:
            raise invalid(f"Label key must not be empty in {what}.")
        if len(key) > LABEL_MAX_CHARS:
            raise invalid(f"Label key '{key}' is longer than {LABEL_MAX_CHARS} characters.")
        first = key[0]
        if not (("a" <= first <= "z") or (ord(first) > 127 and first.isalpha() and not first.isupper())):
            raise invalid(f"Label key '{key}' must start with a lowercase letter or an international character.")
        if not all(_label_char_ok(c) for c in key):
            raise invalid(
                f"Label key '{key}' may contain only lowercase letters, numeric characters, underscores and dashes."
            )
        if len(value) > LABEL_MAX_CHARS:
            raise invalid(f"Label value '{value}' for key '{key}' is longer than {LABEL_MAX_CHARS} characters.")
        if not all(_label_char_ok(c) for c in value):
            raise invalid(
                f"Label value '{value}' for key '{key}' may contain only lowercase letters, numeric "
                "characters, underscores and dashes."
            )


def validate_model_id(model_id: str) -> None:
    if not MODEL_ID_RE.match(model_id):
        raise invalid(
            f"Model id '{model_id}' is invalid: it may be up to 63 characters of [a-z0-9_-] and the "
            "first character cannot be a number or hyphen."
        )


def validate_alias(alias: str) -> None:
    if alias.isdigit() or not ALIAS_RE.match(alias):
        raise invalid(
            f"Version alias '{alias}' is invalid: it must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9] "
            "and must not be a number."
        )


def validate_aliases(aliases: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for alias in aliases:
        validate_alias(alias)
        if alias in seen:
            raise invalid(f"Version alias '{alias}' is given more than once.")
        seen.append(alias)
    return seen


def validate_display_name(display_name: str, required: bool = True) -> None:
    if required and not display_name:
        raise invalid("Model display_name is required.")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise invalid(f"Display name must be at most {DISPLAY_NAME_MAX} characters.")


def validate_metadata_id(resource_id: str, kind: str) -> None:
    if not METADATA_ID_RE.match(resource_id):
        raise invalid(
            f"{kind} id '{resource_id}' is invalid: it must be 4-128 characters of [a-z0-9-] "
            "starting with a letter or number."
        )
