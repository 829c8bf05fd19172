"""Calls to the Hugging Face hub that fail with one clear message when it cannot be reached."""

from __future__ import annotations

import os


class HubUnavailableError(RuntimeError):
    """The Hugging Face hub (a model or a dataset) could not be reached."""


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``HF_DATASETS_OFFLINE``) asks for no network."""
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def hub_call(what: str, fn):
    """Run ``fn()``, which loads ``what`` from the hub; raise :class:`HubUnavailableError` if it
    fails, saying why and what to use offline."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the hub libraries raise many types
        why = (
            "HF_HUB_OFFLINE=1 is set, so nothing is downloaded"
            if hub_offline()
            else f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        raise HubUnavailableError(
            f"could not load {what} from the Hugging Face hub ({why}). This needs the internet "
            "(e.g. on Colab) or a copy in the Hugging Face cache. Offline, use the 'cpu-small' "
            "preset (model='tiny', data='synthetic'), data='files' with local text files, or "
            "model=<a local model folder>."
        ) from exc
