"""The built-in domains shipped under ``data/domains/<name>/domain.pddl``."""

from __future__ import annotations

from pathlib import Path

from itdeploy_lite.paths import data_dir

#: Domains written by this project (IPC semantics). Blocksworld, Rovers and Sokoban are the paper's first
#: experiment; Gripper (untyped) shows the validator is not tied to them; the last seven are the rest of the
#: paper's ten IPC 2023 learning-track domains (its second experiment).
BUILTIN_DOMAINS: tuple[str, ...] = (
    "blocksworld", "rovers", "sokoban", "gripper",
    "childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport",
)


def domain_path(name_or_path: str | Path) -> Path:
    """Resolve a built-in domain name or a path to a PDDL domain file.

    Args:
        name_or_path: a name in :data:`BUILTIN_DOMAINS` (any case), e.g. ``"blocksworld"`` or ``"ferry"``,
            or the path of a domain file.

    Returns:
        The path of an existing domain file.

    Raises:
        FileNotFoundError: if the name is not built in and no such file exists; the message lists the
            built-in names.
    """
    text = str(name_or_path)
    if text.lower() in BUILTIN_DOMAINS:
        return data_dir() / "domains" / text.lower() / "domain.pddl"
    path = Path(text)
    if path.is_file():
        return path
    raise FileNotFoundError(
        f"unknown domain {text!r}: not a built-in domain ({', '.join(BUILTIN_DOMAINS)}) "
        "and no such domain file"
    )


def domain_name(name_or_path: str | Path) -> str:
    """The domain's name: a built-in name as given (lower case), or the name a domain file declares in
    ``(define (domain NAME) ...)``, lower case (e.g. ``"ferry"`` for the IPC 2023 learning track's
    ``ferry/domain.pddl``).

    Raises:
        FileNotFoundError: see :func:`domain_path`.
        PDDLError: a domain file that does not parse (the message names the file and line).
    """
    text = str(name_or_path)
    if text.lower() in BUILTIN_DOMAINS:
        return text.lower()
    from itdeploy_lite.planning.pddl_io import parse_domain_text, read_text

    path = domain_path(text)
    return parse_domain_text(read_text(path, "domain"), str(path)).name.lower()
