"""`Checkpointed`: an estimator whose snapshots cost a checkpoint every N learns, not a deep copy each.

Bytewax snapshots (deep-copies) every touched key's state at each epoch; a heavy River model (an
adaptive random forest) takes seconds to copy. `Checkpointed` keeps the model's pickled bytes from the
last checkpoint plus the examples learned since (the journal). Copying or pickling it copies only
those bytes (immutable, so shared) and the short journal; the copy rebuilds its model lazily —
unpickle, then re-learn the journal — the first time it is used, so a restored state predicts
exactly as the original would have.
"""

from __future__ import annotations

import pickle
from typing import Any


class Checkpointed:
    """Wrap ``model``; journal what it learns; re-checkpoint after ``every`` learned examples.

    Parameters
    ----------
    model
        A River estimator (anything picklable with a ``learn_one`` method).
    every
        Examples learned between checkpoints: small for cheap models, large for heavy ones.

    Examples
    --------
    >>> import copy
    >>> from river import linear_model
    >>> wrapped = Checkpointed(linear_model.LinearRegression(), every=3)
    >>> for i in range(5):
    ...     wrapped.learn_one({"x": float(i)}, 2.0 * i)
    >>> wrapped.journal_size, len(copy.deepcopy(wrapped).__getstate__()["journal"])
    (2, 2)
    >>> restored = copy.deepcopy(wrapped)
    >>> restored.model.predict_one({"x": 1.0}) == wrapped.model.predict_one({"x": 1.0})
    True
    """

    def __init__(self, model: Any, every: int = 500):
        if every < 1:
            raise ValueError(f"every must be at least 1; was {every}")
        self.every = every
        self._model: Any = model
        self._checkpoint = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        self._journal: list[tuple] = []

    @property
    def model(self) -> Any:
        """The live estimator (rebuilt from the checkpoint and journal on first use after a restore)."""
        if self._model is None:
            model = pickle.loads(self._checkpoint)
            for args in self._journal:
                model.learn_one(*args)
            self._model = model
        return self._model

    @property
    def journal_size(self) -> int:
        """Examples learned since the last checkpoint."""
        return len(self._journal)

    def learn_one(self, *args: Any) -> None:
        """Learn one example (the estimator's own ``learn_one`` arguments) and journal it."""
        self.model.learn_one(*args)
        self._journal.append(args)
        if len(self._journal) >= self.every:
            self._checkpoint = pickle.dumps(self._model, protocol=pickle.HIGHEST_PROTOCOL)
            self._journal = []

    def __getstate__(self) -> dict[str, Any]:
        return {"every": self.every, "checkpoint": self._checkpoint, "journal": tuple(self._journal)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.every = state["every"]
        self._checkpoint = state["checkpoint"]
        self._journal = list(state["journal"])
        self._model = None
