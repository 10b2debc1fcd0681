"""ML lab: XGBoost cross-sectional stock selection, walk-forward, honest ICs (``ws.ml``).

Features (:class:`FeatureSet`) and the label are computed on a panel of closes with data up to
each date only; one booster per walk-forward fold is trained with a purge gap of h + 1 bars;
everything reported is measured on the test folds; leak canaries run with every training.
Models live in the registry (``core.models``) in XGBoost's own format.
"""

from core.ml._canaries import causality, planted, planted_dataset, run_canaries, shuffled_labels
from core.ml._data import Universe, load_universe, read_universe_file, universe_from_frames
from core.ml._evaluate import daily_ic, ic_summary, newey_west_tstat, quantile_returns
from core.ml._features import (
    FeaturePanel,
    causality_gaps,
    compute_features,
    cross_rank,
    feature_names,
    forward_returns,
    make_label,
)
from core.ml._folds import Fold, fold_splits
from core.ml._pipeline import Dataset, WalkForwardRun, build_dataset, run_walk_forward
from core.ml._portfolio import simulate, top_weights
from core.ml._report import train_and_evaluate
from core.ml._service import MLService, parse_request
from core.ml._spec import (
    BUNDLED_UNIVERSE,
    INDEX_BENCHMARK,
    BoosterParams,
    FeatureSet,
    LabelSpec,
    MLTrainRequest,
)
from core.ml._store import FOLD_KIND, PARENT_KIND, Scorer, load_scorer

__all__ = [
    "BUNDLED_UNIVERSE",
    "FOLD_KIND",
    "INDEX_BENCHMARK",
    "PARENT_KIND",
    "BoosterParams",
    "Dataset",
    "FeaturePanel",
    "FeatureSet",
    "Fold",
    "LabelSpec",
    "MLService",
    "MLTrainRequest",
    "Scorer",
    "Universe",
    "WalkForwardRun",
    "build_dataset",
    "causality",
    "causality_gaps",
    "compute_features",
    "cross_rank",
    "daily_ic",
    "feature_names",
    "fold_splits",
    "forward_returns",
    "ic_summary",
    "load_scorer",
    "load_universe",
    "make_label",
    "newey_west_tstat",
    "parse_request",
    "planted",
    "planted_dataset",
    "quantile_returns",
    "read_universe_file",
    "run_canaries",
    "run_walk_forward",
    "shuffled_labels",
    "simulate",
    "top_weights",
    "train_and_evaluate",
    "universe_from_frames",
]
