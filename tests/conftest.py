"""Test-wide settings: no hub access (models and data sets come from the repository or site-packages)."""

import os

import pytest

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Lab 04: a notebook run by nbmake cannot click the curation widget; its DEMO cell then decides what is
# left undecided (a student running the lab leaves this unset and curates by hand).
os.environ.setdefault("ITDEPLOY_LAB_DEMO", "1")


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for tiny models: on a busy 2-core machine two threads oversubscribe the cores
    and ran 5-30x slower; alone, small matrices gain nothing from a second thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- labs (issue 6): which notebooks the grading tests in tests/grading/ load --------------------------
# These live here, not in tests/grading/conftest.py, because pytest reads command-line options only from
# the conftest files it loads first.


def pytest_addoption(parser):
    group = parser.getgroup("labs", "grading the lab notebooks (tests/grading)")
    group.addoption("--lab-dir", default="solutions",
                    help="folder of the notebooks the grading tests load: solutions (default) or labs (the stubs)")
    group.addoption("--notebook", default=None,
                    help="grade this one notebook (a student's copy) instead of --lab-dir/NN_*.ipynb")
    group.addoption("--grading-timeout", type=float, default=0.0,
                    help="fail a test (set-up or call) that runs longer than this many seconds (0: no limit)")
    group.addoption("--exercise", default=None,
                    help="run only the grading tests marked @pytest.mark.exercise(NAME) with this NAME")
    group.addoption("--grading-token-fd", type=int, default=None,
                    help="(itdeploy grade) read a one-time token from this file descriptor before any notebook "
                         "runs and put it in the JUnit report, so the grader can tell its report from a forged one")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "exercise(name): the lab exercise (student function) a grading test "
                            "checks; itdeploy grade gives one point per exercise, earned when all its tests pass")
    if os.environ.get("ITDEPLOY_GRADING_ROOM"):  # itdeploy grade's room: no repository (solutions/) on sys.path
        import sys
        from pathlib import Path

        sys.path[:] = [p for p in sys.path if not (p and ((Path(p) / "solutions").is_dir()
                                                          or (Path(p) / "tests" / "grading").is_dir()))]
    fd = config.getoption("--grading-token-fd", default=None)
    if fd is not None:
        data = b""
        while chunk := os.read(fd, 64):
            data += chunk
        os.close(fd)  # read once, then gone: a notebook cannot read it from there
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        if xml is not None:
            xml.add_global_property("grading-token", data.decode().strip())
        del data


def pytest_collection_modifyitems(config, items):
    """Every grading test names its exercise (a JUnit property, read by itdeploy grade); --exercise NAME
    keeps only that exercise's tests."""
    wanted, kept, dropped = config.getoption("--exercise"), [], []
    for item in items:
        marker = item.get_closest_marker("exercise")
        if marker is not None:
            item.user_properties.append(("exercise", marker.args[0]))
        if wanted is not None and (marker is None or marker.args[0] != wanted):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def load_benchmark():
    """Factory: ``load_benchmark("loop")`` -> the module ``benchmarks/loop.py``, imported from its file
    (``benchmarks/`` is not a package)."""
    import importlib.util
    from pathlib import Path

    def load(name):
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def load_lab(request):
    """Factory: ``load_lab("01")`` -> a namespace with lab 01's setup and exercise cells executed.

    The notebook is ``--notebook PATH`` if given, else the one ``NN_*.ipynb`` in ``--lab-dir`` (relative
    to the repository root). Loaded once per session and notebook.
    """
    from pathlib import Path

    from itdeploy_lite.labs.grading import load_exercises

    cache = {}

    def load(number):
        number = f"{int(number):02d}"
        notebook = request.config.getoption("--notebook")
        if notebook:
            path = Path(notebook)
        else:
            folder = Path(request.config.getoption("--lab-dir"))
            folder = folder if folder.is_absolute() else request.config.rootpath / folder
            found = sorted(folder.glob(f"{number}_*.ipynb"))
            if len(found) != 1:
                pytest.fail(f"expected one notebook {folder}/{number}_*.ipynb, found {len(found)}"
                            + (" (build them: python -m itdeploy_lite.labs.build)" if not found else ""),
                            pytrace=False)
            path = found[0]
        key = path.resolve()
        if key not in cache:
            cache[key] = load_exercises(path)
        return cache[key]

    return load


def _with_time_limit(item):
    """Run a test phase under ``--grading-timeout`` (SIGALRM; the grader sets it per test)."""
    import signal

    seconds = item.config.getoption("--grading-timeout", default=0.0) or 0.0
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        return None

    def expired(signum, frame):
        pytest.fail(f"timed out after {seconds:g} s (--grading-timeout)", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return previous


def _clear_time_limit(previous):
    import signal

    if previous is not None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    previous = _with_time_limit(item)
    try:
        yield
    finally:
        _clear_time_limit(previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    previous = _with_time_limit(item)
    try:
        yield
    finally:
        _clear_time_limit(previous)
