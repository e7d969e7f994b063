"""Sphinx extension: the garbage collector of Sphinx's main process stops walking the environment.

A statewide book's environment holds about 1.6 million Python objects (16 MB pickled). Sphinx's main process
unpickles it at the start of a build, in a parallel build unpickles each reader's whole environment to merge it, then unpickles the doctree of
every page it numbers and of every page it resolves for writing; the collector's full collections walk the
environment again and again meanwhile (unpickling a doctree of an LEA page took 3–4 ms beside the
environment, 1.2 ms once the environment was frozen). So:

- before a reader's environment is unpickled, the garbage of the last merge is collected and what is left
  (the environment merged so far, Sphinx's own objects) is frozen (`gc.freeze`): later collections skip it,
  in this process and in the readers and writers it forks;
- unpickling the environment, a reader's environment or a doctree runs with the collector off: nothing being unpickled is
  garbage before it returns (a reader's environment of a statewide book took 2–4 s to unpickle beside the
  main one, 0.3 s with the collector off; the environment alone 0.8 s, 0.2 s);
- once every page is read (`env-updated`), the garbage is collected and the environment frozen once more,
  before the numbering walk and the write phase.

Frozen objects are never collected, so only those points freeze: no reader's environment is alive then, nor a
doctree (a serial read's cached doctrees wait for the write phase: then nothing is frozen). At the end of the
build everything frozen is handed back to the collector. The pages are the same bytes (tests/test_sphinx_gc.py).
"""

from __future__ import annotations

import functools
import gc
import pickle
from types import SimpleNamespace
from typing import Any, Callable

from sphinx import application, builders
from sphinx.environment import BuildEnvironment


def collector_off(load: Callable) -> Callable:
    """`load` run with the garbage collector off (as it was afterwards)."""
    @functools.wraps(load)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        was = gc.isenabled()
        gc.disable()
        try:
            return load(*args, **kwargs)
        finally:
            if was:
                gc.enable()
    quiet.collector_off = True
    return quiet


def freeze_survivors() -> None:
    """Collect the garbage, then freeze what is alive."""
    gc.collect()
    gc.freeze()


def _merging_loads(data: bytes) -> Any:
    """A reader's environment, unpickled by Sphinx's merge (the only `pickle.loads` of sphinx.builders)."""
    freeze_survivors()  # the last merge's reader environment is garbage by now
    return collector_off(pickle.loads)(data)


def _pickle(**instead: Callable) -> SimpleNamespace:
    """The pickle module's functions that Sphinx's modules use, some `instead`."""
    return SimpleNamespace(**{"dump": pickle.dump, "dumps": pickle.dumps, "load": pickle.load, "loads": pickle.loads,
                              "HIGHEST_PROTOCOL": pickle.HIGHEST_PROTOCOL, **instead})


def _read(app: Any, env: BuildEnvironment) -> None:
    if not getattr(env, "_write_doc_doctree_cache", None):
        freeze_survivors()


def setup(app: Any) -> dict:
    if not getattr(BuildEnvironment.get_doctree, "collector_off", False):
        BuildEnvironment.get_doctree = collector_off(BuildEnvironment.get_doctree)
    if getattr(application, "pickle", None) is pickle:  # its only use: `load` of the environment
        application.pickle = _pickle(load=collector_off(pickle.load))
    if getattr(builders, "pickle", None) is pickle:
        builders.pickle = _pickle(loads=_merging_loads)
    app.connect("env-updated", _read)
    app.connect("build-finished", lambda app, exc: gc.unfreeze())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
