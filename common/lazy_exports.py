"""A package facade whose names load on first use (PEP 562).

The analytics and web packages pull in pandas, SciPy, scikit-learn or Flask: seconds
of start-up that most CLI verbs and every ledger request never need. A facade lists
where each public name lives and imports that module the first time the name is
asked for; type checkers read the same names from imports under `TYPE_CHECKING`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str | None]) -> Callable[[str], Any]:
    """The `__getattr__` for `package`: `homes` maps a public name to the submodule
    defining it, or to None when the name is itself a submodule."""
    namespace = importlib.import_module(package).__dict__

    def load(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        home = homes[name]
        module = importlib.import_module(f"{package}.{home or name}")
        value = module if home is None else getattr(module, name)
        # Importing a submodule binds it on the package under its own name, hiding a
        # public function of the same name (`warehouse.member_features`): unbind it.
        for public, where in homes.items():
            if where is not None and isinstance(namespace.get(public), ModuleType):
                del namespace[public]
        namespace[name] = value
        return value

    return load
