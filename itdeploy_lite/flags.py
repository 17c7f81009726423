"""Command-line flags built from the config dataclasses by transformers' ``HfArgumentParser``.

One flag per field (``--tasks-per-generation``, also spelled ``--tasks_per_generation``); a field whose
type is itself a config dataclass (``RunConfig.finetune``, ``RLConfig.run``) contributes its own fields'
flags, flattened. The help text of a flag is its field's entry in the class docstring's ``Attributes``
section, put into the field's metadata by :func:`documented`, so the docstring stays the one place a
setting is described::

    @documented
    @dataclass
    class FinetuneConfig:
        '''...

        Attributes:
            lora_r: LoRA rank.
        '''
        lora_r: int = 16
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import types


def field_doc(cls, name: str) -> str:
    """The text of ``name:`` in ``cls``'s docstring ``Attributes`` section, one line, reST roles and
    double backquotes dropped, ``%`` escaped for argparse (the field's name if it has no entry)."""
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


def documented(cls):
    """Class decorator (above ``@dataclass``): copy each field's docstring entry into its metadata
    ``help`` (what ``HfArgumentParser`` shows); metadata already there (``choices``, ``aliases``) is kept."""
    for f in dataclasses.fields(cls):
        f.metadata = types.MappingProxyType({"help": field_doc(cls, f.name), **f.metadata})
    return cls


def config_types(cls) -> list[type]:
    """``cls`` and, depth first, the config dataclasses of its fields' defaults (the flattened flag sets)."""
    found = [cls]
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            found += config_types(type(default))
    return found


def config_parser_class():
    """The parser class for ``argparse`` sub-commands (``add_subparsers(parser_class=...)``): an
    ``HfArgumentParser`` that flattens nested configs; pass ``dataclass_types=config_types(cls)`` to
    ``add_parser`` for a command whose flags are a config's."""
    from transformers import HfArgumentParser

    class ConfigParser(HfArgumentParser):
        """``HfArgumentParser`` that leaves nested config fields to their own dataclass's flags; a command
        without config flags keeps argparse's plain help format."""

        def __init__(self, dataclass_types=None, **kwargs):
            if not dataclass_types:
                kwargs.setdefault("formatter_class", argparse.HelpFormatter)
            super().__init__(dataclass_types, **kwargs)

        @staticmethod
        def _parse_dataclass_field(parser, field):
            if dataclasses.is_dataclass(field.type):
                return None
            return HfArgumentParser._parse_dataclass_field(parser, field)

    return ConfigParser


def config_from_args(args, cls):
    """Build a ``cls`` (e.g. :class:`~itdeploy_lite.config.RunConfig`) from parsed flags (a ``Namespace``
    holding one attribute per leaf field), nested configs included.

    Raises:
        ValueError: ``args`` lacks a field's flag (the parser was not built from ``cls``).
    """
    values = {}
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            values[f.name] = config_from_args(args, type(default))
        elif hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
        else:
            raise ValueError(f"no --{f.name.replace('_', '-')} among the parsed flags of {cls.__name__}")
    return cls(**values)
