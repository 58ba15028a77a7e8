"""Named errors. Bad input raises one of these, never returns a silent NaN.

All derive from :class:`FlowtheoryError` (itself a :class:`ValueError`), which the command line
turns into a one-line message and exit status 2.
"""


class FlowtheoryError(ValueError):
    """Base class of every input error raised by flowtheory and numerics."""


class InvalidParameterError(FlowtheoryError):
    """A parameter outside its domain: dimension <= 0, sigma_w <= 0, N <= 0, unknown name, ..."""


class NotSymmetricError(FlowtheoryError):
    """A metric (or kernel) that should be symmetric/Hermitian is not."""


class NotPositiveDefiniteError(FlowtheoryError):
    """A metric that should be positive definite is not (at some sample point)."""


class SignatureError(FlowtheoryError):
    """An indefinite metric whose eigenvalue signs (p positive, q negative) are not the signature asked for."""


class NonFiniteError(FlowtheoryError):
    """NaN or infinity in input or in a result that must be finite."""


class OffManifoldError(FlowtheoryError):
    """A point that does not lie on the manifold (hypersurface equation not satisfied)."""


class SingularManifoldError(FlowtheoryError):
    """A singular member of a family (e.g. psi^5 = 1 for the quintic family), or a singular point."""


class NonConvexError(FlowtheoryError):
    """A function required to be convex (e.g. F in an ultra-local functional) is not."""


class UnsupportedOrderError(FlowtheoryError):
    """A functional depends on derivatives of higher order than the engine supports."""


class NotKahlerError(FlowtheoryError):
    """A Hermitian metric g_{a b̄} that is not Kähler: ∂_c g_{a b̄} ≠ ∂_a g_{c b̄} (dJ ≠ 0)."""


class ProofGraphError(FlowtheoryError):
    """The proofs' dependency graph is broken: a duplicate id, a dependency that names no proof, or a cycle."""


class EmptyInputError(InvalidParameterError):
    """An input that must hold at least one item (a point set, a list of sizes, weights) is empty."""


class DegenerateInputError(InvalidParameterError):
    """An input with no information for the asked quantity: a zero metric, equal sample sizes in a
    slope fit, weights that sum to zero."""


class InvalidFileError(FlowtheoryError):
    """A file (point set, checkpoint, resume record) that is unreadable, of another format, or whose
    content fails validation; the message names the file and the field."""

    def __init__(self, path, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        where = f"{self.path}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


class OutputExistsError(FlowtheoryError):
    """An output path that already holds results: refused unless the user asks to overwrite or resume."""


class ResourceLimitError(FlowtheoryError):
    """A request whose size exceeds a stated bound (steps, dimension, points, memory)."""


class SymbolicLimitError(ResourceLimitError):
    """Symbolic work that would blow up: an expression too large, an exponent too high, a time limit."""
