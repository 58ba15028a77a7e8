"""What runs write and show: run records (seed, parameters, versions), atomic JSON/npz writes and
progress bars.

JSON conversion itself is :func:`flowtheory.jsonable.to_jsonable` (shared with the command line's
``--json`` output); this package never imports the app layer :mod:`flowtheory.cli`.
"""

from .progress import progress_bar as progress_bar
from .progress import track as track
from .provenance import run_record as run_record
from .provenance import save_figure_atomic as save_figure_atomic
from .provenance import save_npz_atomic as save_npz_atomic
from .provenance import versions as versions
from .provenance import write_json_atomic as write_json_atomic
