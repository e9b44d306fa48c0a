"""srcgrad: differentiate NumPy-style Python by source transformation.

Two engines share one registry of derivative rules:

* the source engine: ``srcgrad.grad(f)`` emits readable NumPy gradient code;
* Tensor mode: a PyTorch-style tape (``import srcgrad as torch``) for code
  the source engine cannot transform.
"""

from . import autograd, rules, tree
from .api import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    jvp_source,
    source,
    value_and_grad,
    vjp,
)
from .autograd import (
    Size,
    Tensor,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.dtypes import (
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .autograd.factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .autograd.formatting import set_printoptions
from .autograd.legacy import (
    BoolTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
)
from .autograd.namespace import *  # noqa: F403 - torch-style functions (exp, cat, ...)
from .errors import FallbackWarning, NoRuleError, RuleExistsError, TransformError
from .rules import alias, defjvp, defrule, defvjp, get_rule, nondifferentiable, primitive

__version__ = "0.1.0"
