"""Where the project's shipped data lives (domains, models), in a source checkout or an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Return the folder holding ``domains/`` (and later ``models/``).

    Order: the ``ITDEPLOY_DATA`` environment variable; ``data/`` beside the package in a source
    checkout or editable install; ``itdeploy_lite/_data`` inside a built wheel.

    Raises:
        FileNotFoundError: if none of these folders exists.
    """
    candidates = []
    if os.environ.get("ITDEPLOY_DATA"):
        candidates.append(Path(os.environ["ITDEPLOY_DATA"]))
    candidates += [_PACKAGE.parent / "data", _PACKAGE / "_data"]
    for folder in candidates:
        if (folder / "domains").is_dir():
            return folder
    raise FileNotFoundError(
        "itdeploy_lite cannot find its data folder (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "); set ITDEPLOY_DATA to the repository's data/ folder."
    )
