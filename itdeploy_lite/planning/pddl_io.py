"""Reading PDDL domain and problem files with the ``pddl`` library, with errors that say where.

PDDL is case-insensitive, the ``pddl`` library is not: text is lower-cased before parsing, so
``(On A B)`` and ``(on a b)`` are the same atom, as in VAL.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lark.exceptions import UnexpectedInput
from pddl.core import Domain, Problem
from pddl.exceptions import PDDLError as _LibraryPDDLError
from pddl.parser.domain import DomainParser
from pddl.parser.problem import ProblemParser


class PDDLError(ValueError):
    """A PDDL file that cannot be read or is outside the supported fragment.

    Attributes:
        source: the file path (or ``"<string>"`` name) the text came from.
        line: the 1-based line of the error where the parser gives one, else ``None``.
        message: what is wrong.
    """

    def __init__(self, source: str, message: str, line: int | None = None):
        self.source, self.message, self.line = str(source), message, line
        where = f"{source}:{line}" if line is not None else str(source)
        super().__init__(f"{where}: {message}")


_DOMAIN_PARSER = DomainParser()
_PROBLEM_PARSER = ProblemParser()
# The pddl library's parsers are not thread-safe ("parser is in an unexpected state" when two
# threads parse at once); callers such as a thread pool of planner calls share them under this lock.
_PARSE_LOCK = threading.Lock()


def _parse(parser, text: str, source: str):
    try:
        with _PARSE_LOCK:
            return parser(text.lower())
    except UnexpectedInput as err:  # lark syntax error: it knows the line
        first = str(err).strip().splitlines()[0]
        raise PDDLError(source, f"syntax error: {first}", line=getattr(err, "line", None)) from None
    except _LibraryPDDLError as err:
        raise PDDLError(source, str(err)) from None
    except Exception as err:  # the library raises bare errors on some malformed input
        raise PDDLError(source, f"cannot parse: {type(err).__name__}: {err}") from None


def read_text(path: str | Path, what: str) -> str:
    """Read a PDDL or plan file as text.

    Raises:
        FileNotFoundError: with a message naming ``what`` (e.g. "problem file") and the path.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    return path.read_text(encoding="utf-8", errors="replace")


def parse_domain_text(text: str, source: str = "<domain>") -> Domain:
    """Parse PDDL domain text (lower-cased first). Raises :class:`PDDLError` naming ``source`` and the line."""
    return _parse(_DOMAIN_PARSER, text, source)


def parse_problem_text(text: str, source: str = "<problem>") -> Problem:
    """Parse PDDL problem text (lower-cased first). Raises :class:`PDDLError` naming ``source`` and the line."""
    return _parse(_PROBLEM_PARSER, text, source)
