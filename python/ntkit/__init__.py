"""NTKit from Python: the Swift NTK engine in process, numpy in and out.

    import ntkit
    model = ntkit.Model("Models/fuel_table_a1.model.json")   # or a dict with the same keys
    params = model.init(seed=0)                              # {"layers.{i}.kernel"/".bias": np.ndarray}
    K = ntkit.ntk(model, params, x)                          # [N, N], summed over the outputs
    cv = ntkit.collective_variables(K)                       # trace, entropy, lambda_max, eigenvalues

Keyword names and defaults follow the ``ntk`` command-line flags. Bad input raises
``ntkit.NTKitError`` (a ``ValueError``) with the CLI's one-line message; long calls
release the GIL and stop on Ctrl-C with ``KeyboardInterrupt``.
"""

from ._errors import NTKitError
from .compute import collective_variables, forward, jacobian, ntk
from .from_flax import from_flax
from .model import Model
from .selection import select
from .training import train
from .weights import load_weights, save_weights

__version__ = "0.4.0"

__all__ = ["NTKitError", "Model", "forward", "jacobian", "ntk", "collective_variables", "select", "train",
           "load_weights", "save_weights", "from_flax", "__version__"]
