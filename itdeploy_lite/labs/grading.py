"""Load a lab notebook's exercises for grading: its ``setup`` and ``exercise`` cells, nothing else.

The grading tests (``tests/grading/test_labNN.py``) call the functions a student wrote in their notebook.
:func:`load_exercises` executes only the cells tagged ``setup`` (imports, small helpers) or ``exercise``
(the student's functions), in notebook order, in one fresh module, so grading never runs a lab's slow
story cells. An unfinished exercise (``raise NotImplementedError``) loads fine and fails only when a test
calls it.
"""

from __future__ import annotations

import itertools
import re
import sys
import types
from pathlib import Path

GRADED_TAGS = ("setup", "exercise")

_MAGIC = re.compile(r"^(\s*)[%!]")
_counter = itertools.count()


class LabLoadError(RuntimeError):
    """A graded cell of a notebook could not be executed; the message names the notebook and the cell."""


def _without_magics(code: str) -> str:
    """IPython-only lines (``%pip ...``, ``!ls``) replaced by ``pass``; a ``%%`` cell magic empties the cell."""
    if code.lstrip().startswith("%%"):
        return ""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) if _MAGIC.match(line) else line for line in code.split("\n"))


def load_exercises(notebook_path: str | Path) -> types.SimpleNamespace:
    """Execute the ``setup`` and ``exercise`` cells of a notebook and return what they defined.

    Args:
        notebook_path: a lab notebook (``labs/01_pddl_and_validation.ipynb``, a solution, or a student's copy).

    Returns:
        types.SimpleNamespace: every public name the graded cells defined (functions, constants, imports).

    Raises:
        FileNotFoundError: no such notebook.
        LabLoadError: the notebook cannot be read, or a graded cell fails to execute; the message names
            the notebook, the cell (``cell 7 of 24``, counting from 1 as JupyterLab's order) and the error.
            A ``NotImplementedError`` raised while a cell executes is not an error (an unfinished
            exercise); the names defined before it are kept.
    """
    import nbformat

    path = Path(notebook_path)
    if not path.is_file():
        raise FileNotFoundError(f"load_exercises: no notebook at {path}")
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as err:  # invalid JSON, not a notebook
        raise LabLoadError(f"{path}: not a readable notebook ({type(err).__name__}: {err})") from err
    name = f"itdeploy_lab_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{next(_counter)}"
    module = types.ModuleType(name, f"graded cells of {path}")
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pickling look classes' modules up here
    cells = notebook.cells
    for index, cell in enumerate(cells, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or not any(tag in GRADED_TAGS for tag in tags):
            continue
        where = f"{path}: cell {index} of {len(cells)} (tagged {', '.join(tags)})"
        try:
            code = compile(_without_magics(cell.source), f"<{path.name} cell {index}>", "exec")
        except SyntaxError as err:
            raise LabLoadError(f"{where} has a syntax error: {err.msg} (line {err.lineno} of the cell)") from err
        try:
            exec(code, module.__dict__)
        except NotImplementedError:
            continue
        except Exception as err:
            raise LabLoadError(f"{where} failed: {type(err).__name__}: {err}") from err
    return types.SimpleNamespace(**{k: v for k, v in module.__dict__.items() if not k.startswith("__")})
