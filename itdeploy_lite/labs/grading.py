"""Load a lab notebook's exercises for grading: its ``setup`` and ``exercise`` cells, nothing else.

The grading tests (``tests/grading/test_labNN.py``) call the functions a student wrote in their notebook.
:func:`load_exercises` executes only the cells tagged ``setup`` (imports, small helpers) or ``exercise``
(the student's functions), in notebook order, in one fresh module, so grading never runs a lab's slow
story cells. An unfinished exercise (``raise NotImplementedError``) loads fine and fails only when a test
calls it.

The package's own answers to a lab's exercises (:data:`REFERENCES`, e.g. ``GroundAction.applicable`` for
lab 01's ``applicable``) raise :class:`ReferenceUnavailable` when called from the notebook's code, however
they are reached, so an exercise cannot be passed by calling them.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import sys
import types
from collections.abc import Callable
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


# --- the package's answers are out of reach of the notebook (issue 13) --------------------------------------

#: Per lab: the package's functions that answer one of its exercises, as ``"module:qualified.name"``. While a
#: notebook of that lab is graded, each of them raises :class:`ReferenceUnavailable` when it is called with
#: code of the notebook anywhere on the call stack (directly, through ``import``, ``importlib``,
#: ``sys.modules``, a registry such as ``POLICIES`` or a method of an object the test passed in). Called from
#: anywhere else (the grading tests, the package itself), they run as usual.
REFERENCES: dict[str, tuple[str, ...]] = {
    "01": ("itdeploy_lite.planning.task:GroundAction.applicable", "itdeploy_lite.planning.task:GroundAction.apply",
           "itdeploy_lite.planning.validate:validate"),
    "03": ("itdeploy_lite.planning.plan_text:parse_plan", "itdeploy_lite.prompts:completion_plan_text",
           "itdeploy_lite.metrics:pass_at_k_by_size"),
    "04": ("itdeploy_lite.curate:curate", "itdeploy_lite.curate:paper", "itdeploy_lite.curate:latest",
           "itdeploy_lite.curate:manual", "itdeploy_lite.curate:read_decisions",
           "itdeploy_lite.curate:_shortest_per_task"),
    "06": ("itdeploy_lite.metrics:pass_at_k_by_size", "itdeploy_lite.metrics:generation_metrics",
           "itdeploy_lite.metrics:pool_metrics"),
    "07": ("itdeploy_lite.theory.toy:scores", "itdeploy_lite.theory.offpolicy:exact_weights",
           "itdeploy_lite.theory.offpolicy:self_normalised_weights", "itdeploy_lite.theory.offpolicy:density_ratio"),
    "08": ("itdeploy_lite.safety:implicit_reward",),
}


class ReferenceUnavailable(RuntimeError):
    """An exercise called the package's own answer to it while being graded (see :data:`REFERENCES`)."""


_banned_files: dict[str, set[str]] = {}  # "module:qualname" -> code file names of the cells that may not call it
_guarded: dict[int, Callable] = {}       # id(original) -> its guard


def _notebook_caller(reference: str) -> bool:
    files = _banned_files.get(reference, ())
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in files:
            return True
        frame = frame.f_back
    return False


def _guard(reference: str) -> None:
    """Replace the function ``reference`` by a guard that raises when called from a banned notebook, in its
    owner and wherever a loaded module (or a module-level dict, such as a registry) holds it."""
    module_name, _, qualname = reference.partition(":")
    owner = importlib.import_module(module_name)
    *path, attribute = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = inspect.getattr_static(owner, attribute)
    if id(original) in _guarded or getattr(original, "_itdeploy_guard", False):
        return

    def guard(*args, **kwargs):
        if _notebook_caller(reference):
            raise ReferenceUnavailable(f"{reference.replace(':', '.')} is the package's answer to an exercise "
                                       "and cannot be used in the notebook being graded: write it yourself")
        return original(*args, **kwargs)

    for field in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(guard, field, getattr(original, field, None))
    guard._itdeploy_guard = True
    _guarded[id(original)] = guard
    setattr(owner, attribute, guard)
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if value is original:
                namespace[key] = guard
            elif type(value) is dict and not key.startswith("__"):
                for k, v in list(value.items()):
                    if v is original:
                        value[k] = guard


def _lab_number(path: Path) -> str | None:
    match = re.match(r"(\d{2})(?!\d)", path.name)
    return match.group(1) if match else None


def load_exercises(notebook_path: str | Path, references: tuple[str, ...] | None = None) -> types.SimpleNamespace:
    """Execute the ``setup`` and ``exercise`` cells of a notebook and return what they defined.

    Args:
        notebook_path: a lab notebook (``labs/01_pddl_and_validation.ipynb``, a solution, or a student's copy).
        references: the package functions this notebook's code may not call (``"module:qualname"``);
            default: :data:`REFERENCES` of the lab the file name's two digits name. Each is replaced, once
            per process, by a guard that raises :class:`ReferenceUnavailable` when code of a notebook it
            is banned for is on the call stack (a barrier against answering an exercise with the package's
            own function, not a sandbox: run untrusted notebooks through ``itdeploy grade``).

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
    if references is None:
        references = REFERENCES.get(_lab_number(path) or "", ())
    tag = next(_counter)
    files = {f"<{path.name} cell {index} #{tag}>" for index in range(1, len(notebook.cells) + 1)}
    for reference in references:
        _banned_files.setdefault(reference, set()).update(files)
        _guard(reference)
    cells = notebook.cells
    for index, cell in enumerate(cells, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or not any(tag in GRADED_TAGS for tag in tags):
            continue
        where = f"{path}: cell {index} of {len(cells)} (tagged {', '.join(tags)})"
        try:
            code = compile(_without_magics(cell.source), f"<{path.name} cell {index} #{tag}>", "exec")
        except SyntaxError as err:
            raise LabLoadError(f"{where} has a syntax error: {err.msg} (line {err.lineno} of the cell)") from err
        try:
            exec(code, module.__dict__)
        except NotImplementedError:
            continue
        except Exception as err:
            raise LabLoadError(f"{where} failed: {type(err).__name__}: {err}") from err
    return types.SimpleNamespace(**{k: v for k, v in module.__dict__.items() if not k.startswith("__")})
