"""``itdeploy run`` flags built from the config dataclasses: one flag per field, its help text the
field's entry in the class docstring (:class:`~itdeploy_lite.config.RunConfig`)."""

from __future__ import annotations

import argparse
import dataclasses
import re

from itdeploy_lite.config import RunConfig


def _flag(f: dataclasses.Field, prefix: str = "") -> str:
    return f.metadata.get("flag") or "--" + (prefix + f.name).replace("_", "-")


def add_config_arguments(parser, cls=RunConfig, prefix: str = "") -> None:
    """Add one flag per field of ``cls`` (nested config dataclasses are flattened), defaults from the class."""
    defaults = cls()
    for f in dataclasses.fields(cls):
        default = getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            add_config_arguments(parser, type(default), prefix)
            continue
        doc = _field_doc(cls, f.name)
        kwargs = {"dest": f.name, "default": default, "help": f"{doc} (default: {default!r})"}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = type(default)
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(_flag(f, prefix), **kwargs)


def _field_doc(cls, name: str) -> str:
    """The text of ``name:`` in the class docstring's Attributes section (first sentence)."""
    doc = cls.__doc__ or ""
    marker = f"        {name}:"
    if marker not in doc:
        return name
    text = doc.split(marker, 1)[1]
    lines = [text.split("\n", 1)[0]]
    for line in text.split("\n")[1:]:
        if not line.startswith("            "):
            break
        lines.append(line.strip())
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", " ".join(" ".join(lines).split()))
    return text.replace("``", "").replace("%", "%%")


def config_from_args(args, cls=RunConfig):
    """Build a ``cls`` from parsed flags (the inverse of :func:`add_config_arguments`)."""
    values = {}
    for f in dataclasses.fields(cls):
        default = getattr(cls(), f.name)
        values[f.name] = config_from_args(args, type(default)) if dataclasses.is_dataclass(default) else getattr(args, f.name)
    return cls(**values)
