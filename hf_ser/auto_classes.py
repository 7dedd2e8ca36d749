"""Register hf_ser's model classes with transformers' Auto classes as soon as a process uses them.

``import hf_ser`` must stay cheap (``hf-ser --help`` imports no torch), yet after it
``pipeline("audio-classification", model=dir)`` and ``AutoModelForAudioClassification.from_pretrained(dir)``
must find hf_ser's own classes, never the code saved in the model folder. So ``import hf_ser`` installs a
finder that waits for ``transformers.models.auto.modeling_auto`` (every Auto model class and ``pipeline``
import it, and it imports torch anyway): once that module has run, ``hf_ser.models`` and ``hf_ser.baselines``
are imported, and each registers its classes at the end of its own import (and then imports the other). Nothing is imported when
transformers is never used; when it already was, registration happens at once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

TRIGGER = "transformers.models.auto.modeling_auto"
REGISTERING_PACKAGES = ("hf_ser.models", "hf_ser.baselines")


def register_now(registered: str | None = None) -> None:
    """Import the packages that register hf_ser's classes.

    Each of them calls this again at the end of its own import, naming itself as ``registered``: while
    another one is still being imported (its import is what loaded transformers' Auto classes), the others
    wait until it is complete.
    """
    if any(_initialising(sys.modules.get(name)) for name in REGISTERING_PACKAGES if name != registered):
        return
    for name in REGISTERING_PACKAGES:
        if name not in sys.modules:
            importlib.import_module(name)


def _initialising(module: types.ModuleType | None) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


class _RegisteringLoader(importlib.abc.Loader):
    """Runs the real loader of the trigger module, then registers hf_ser's classes."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        register_now()


class _TriggerFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``TRIGGER`` when some other finder finds it."""

    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001 (importlib signature)
        if fullname != TRIGGER:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Called by ``import hf_ser``: register now if transformers' Auto classes are loaded, else on their import."""
    if TRIGGER in sys.modules:
        register_now()
    elif not any(isinstance(f, _TriggerFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TriggerFinder())
