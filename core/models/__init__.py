"""The model registry shared by the ML lab, the RL lab and the autopilot (``ws.models``)."""

from core.models._registry import (
    ArtifactIntegrityError,
    ModelRecord,
    ModelRegistry,
    model_id_for,
    sha256_of,
)

__all__ = ["ArtifactIntegrityError", "ModelRecord", "ModelRegistry", "model_id_for", "sha256_of"]
