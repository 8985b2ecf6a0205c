"""Function Compute 3.0 errors with the status, code and message the real service answers."""

from __future__ import annotations

from ..core import ServiceError


def function_not_found(function: str) -> ServiceError:
    return ServiceError(404, "FunctionNotFound", f"function '{function}' does not exist.")


def qualifier_not_found(function: str, qualifier: str) -> ServiceError:
    """Only LATEST exists here: no version was published and no alias made."""
    if qualifier.isdigit():
        return ServiceError(404, "VersionNotFound",
                            f"version '{qualifier}' of function '{function}' does not exist.")
    return ServiceError(404, "AliasNotFound", f"alias '{qualifier}' of function '{function}' does not exist.")


def trigger_not_found(function: str, trigger: str) -> ServiceError:
    return ServiceError(404, "TriggerNotFound", f"trigger '{trigger}' of function '{function}' does not exist.")


def invalid_argument(message: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", message)
