"""`app.callback` with its type kept: Dash's decorator is not annotated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

Function = TypeVar("Function", bound=Callable[..., Any])


def callback(app: Any, *dependencies: Any, **options: Any) -> Callable[[Function], Function]:
    return cast(Callable[[Function], Function], app.callback(*dependencies, **options))
