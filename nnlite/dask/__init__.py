"""Fit and predict on dask arrays, with the numbers of one process.

nnlite imports this package only when it meets a dask array (or when you
import it); it needs the optional extra ``pip install "nnlite[dask]"``.

- **L-BFGS** (``train(..., LBFGS())`` and ``solver="lbfgs"`` in the presets)
  sends the parameter vector to the blocks once per evaluation; every block
  returns the *sum* of its loss and of its gradient, the client adds them in
  block order, divides once and adds the L2 term.  The weights do not depend on
  how many workers ran which block.
- **SGD/Adam** stream the blocks through the client (two at most at once).
- **Prediction** returns lazy dask arrays, one task per block.

A ``distributed.Client`` is used when one is active, dask's local scheduler
otherwise.  See the "Scale out on Dask" page of the documentation.
"""

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "nnlite.dask needs dask; install the optional extra: pip install 'nnlite[dask]'"
    ) from exc

from ._lbfgs import BlockObjective
from ._predict import predict
from ._train import train

__all__ = ["train", "predict", "BlockObjective"]
