"""Property-based corruption of the files a run trusts: point files (:func:`numerics.cy.io.load_points`)
and flow checkpoints (``flow run --resume``).

Every corruption — truncation, flipped bytes, a deleted or retyped metadata field, an array of
another shape or dtype — must end in a named :class:`~flowtheory.errors.FlowtheoryError` (whose
message names the file), or load data that is exactly the original's or that satisfies every
invariant of the schema.  Any other exception, or a loaded sample that breaks an invariant
(``n_candidates < n_points`` gave a volume of -200), fails the test.
"""

from __future__ import annotations

import io
import json
import zipfile

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from flowtheory.errors import FlowtheoryError, InvalidFileError
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.io import load_points, save_points
from numerics.cy.sampling import sample_in_chart

FUZZ = settings(max_examples=60, deadline=None)
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.integers(-3, 12), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.complex128, np.int64, np.bool_, np.dtype("U3")]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
)


@pytest.fixture(scope="module")
def point_file(tmp_path_factory):
    """A valid chart-selected point file (24 points in chart (0, 1) of the Fermat quintic), its bytes and arrays."""
    sample = sample_in_chart(fermat_quintic(), 24, jax.random.PRNGKey(7), 0, 1)
    path = save_points(tmp_path_factory.mktemp("points") / "pts.npz", sample, seed=7)
    with np.load(path) as data:
        arrays = dict(data)
    return path.read_bytes(), arrays


def _check_loaded_or_named(path, original_arrays=None):
    """Load ``path``: a named error naming the file, or a sample satisfying the schema's invariants."""
    try:
        sample, metadata = load_points(path)
    except FlowtheoryError as exc:
        assert str(path) in str(exc)
        return None
    n = len(sample)
    assert n >= 1 and sample.points.shape == (n, sample.surface.n_ambient)
    assert np.all(np.isfinite(sample.points)) and np.allclose(np.max(np.abs(sample.points), axis=1), 1)
    assert 0 <= sample.n_rejected_lines <= sample.n_lines and np.all((0 <= sample.line_ids) & (sample.line_ids < sample.n_lines))
    if sample.chart is None:
        assert sample.n_candidates is None
    else:
        assert sample.n_candidates >= n and 0 < sample.acceptance_rate <= 1
    if original_arrays is not None:
        np.testing.assert_array_equal(sample.points, original_arrays["points"])
    return sample


@FUZZ
@given(cut=st.floats(0, 0.999))
def test_truncated_point_files_are_named_errors(point_file, cut, tmp_path_factory):
    blob, _ = point_file
    path = tmp_path_factory.mktemp("cut") / "pts.npz"
    path.write_bytes(blob[: int(cut * len(blob))])
    with pytest.raises(InvalidFileError, match="not a readable point file"):
        load_points(path)


@FUZZ
@given(position=st.floats(0, 0.999), value=st.integers(0, 255))
def test_flipped_bytes_are_named_errors_or_harmless(point_file, position, value, tmp_path_factory):
    blob, arrays = point_file
    i = int(position * len(blob))
    damaged = blob[:i] + bytes([value]) + blob[i + 1:]
    path = tmp_path_factory.mktemp("flip") / "pts.npz"
    path.write_bytes(damaged)
    _check_loaded_or_named(path, arrays if damaged != blob else None)


@FUZZ
@given(data=st.data())
def test_mutated_metadata_fields_are_named_errors_or_valid(point_file, data, tmp_path_factory):
    _, arrays = point_file
    metadata = json.loads(str(arrays["metadata"]))
    field = data.draw(st.sampled_from(sorted(metadata)))
    if data.draw(st.booleans()):
        del metadata[field]
    else:
        metadata[field] = data.draw(JSON_VALUES)
    path = tmp_path_factory.mktemp("meta") / "pts.npz"
    np.savez(path, **{**arrays, "metadata": np.array(json.dumps(metadata))})
    _check_loaded_or_named(path)


@FUZZ
@given(name=st.sampled_from(["points", "line_ids", "metadata"]), array=ARRAYS | st.none())
def test_replaced_or_missing_arrays_are_named_errors_or_valid(point_file, name, array, tmp_path_factory):
    _, arrays = point_file
    arrays = dict(arrays)
    if array is None:
        del arrays[name]
    else:
        arrays[name] = array
    path = tmp_path_factory.mktemp("arr") / "pts.npz"
    np.savez(path, **arrays)
    _check_loaded_or_named(path)


@pytest.mark.parametrize(
    "field,value,fragment",
    [("n_candidates", -5, "metadata.n_candidates"), ("n_candidates", 3, "metadata.n_candidates"), ("n_lines", "7", "metadata.n_lines"),
     ("psi", [1.0, 0.0], "metadata.psi"), ("chart", [0, 0], "metadata.chart"), ("format", "flowtheory.cy.points/0", "metadata.format")],
)
def test_named_metadata_errors(point_file, field, value, fragment, tmp_path):
    """The probe's cases: a negative candidate count once gave a volume of -200; psi = 1 is the singular member."""
    _, arrays = point_file
    metadata = {**json.loads(str(arrays["metadata"])), field: value}
    path = tmp_path / "pts.npz"
    np.savez(path, **{**arrays, "metadata": np.array(json.dumps(metadata))})
    with pytest.raises(FlowtheoryError, match=fragment) as info:
        load_points(path)
    assert str(path) in str(info.value)


# --- flow checkpoints -----------------------------------------------------------------------------

FLOW_ARGS = ["ultralocal-torus", "--grid", "8", "--dt", "0.004", "--steps", "8", "--save-every", "4"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real checkpoint at step 8, the parameters of its run and the preset's initial state."""
    from flowtheory.cli import build_parser, main
    from flowtheory.cli.flow import _parameters

    from numerics.grid.presets import prepare

    out = tmp_path_factory.mktemp("flow") / "run"
    assert main(["flow", "run", *FLOW_ARGS, "--out", str(out), "--json"]) == 0
    args = build_parser().parse_args(["flow", "run", *FLOW_ARGS, "--out", str(out)])
    prepared = prepare(args.spec, grid=args.grid, seed=args.seed, sigma=0.0 if args.sigma is None else args.sigma)
    parameters = {**_parameters(args, prepared), "seed": args.seed}
    with np.load(out / "checkpoint.npz") as data:
        arrays = dict(data)
    return (out / "checkpoint.npz").read_bytes(), arrays, parameters, prepared.initial


def _load_or_named(path, parameters, initial, steps=16):
    from flowtheory.cli.flow import _load_checkpoint
    from flowtheory.cli.output import CliError

    try:
        step, t, state, ts, energy, spread, history = _load_checkpoint(path, parameters, initial, steps)
    except (FlowtheoryError, CliError) as exc:
        assert str(path) in str(exc) or str(path.parent) in str(exc)
        return None
    every = parameters["save_every"]
    assert 0 < step <= steps and step % every == 0 and len(ts) == len(energy) == len(spread) == step // every + 1
    for k, v in initial.items():
        assert state[k].shape == np.shape(v) and np.all(np.isfinite(state[k])) and len(history[k]) == len(ts)
    return step


@FUZZ
@given(cut=st.floats(0, 0.999))
def test_truncated_checkpoints_are_named_errors(checkpoint, cut, tmp_path_factory):
    blob, _, parameters, initial = checkpoint
    path = tmp_path_factory.mktemp("cut") / "checkpoint.npz"
    path.write_bytes(blob[: int(cut * len(blob))])
    assert _load_or_named(path, parameters, initial) is None


@FUZZ
@given(position=st.floats(0, 0.999), value=st.integers(0, 255))
def test_checkpoint_bytes_flipped_are_named_errors_or_harmless(checkpoint, position, value, tmp_path_factory):
    blob, _, parameters, initial = checkpoint
    i = int(position * len(blob))
    path = tmp_path_factory.mktemp("flip") / "checkpoint.npz"
    path.write_bytes(blob[:i] + bytes([value]) + blob[i + 1:])
    _load_or_named(path, parameters, initial)


@FUZZ
@given(data=st.data())
def test_checkpoint_arrays_replaced_or_deleted_are_named_errors_or_valid(checkpoint, data, tmp_path_factory):
    _, arrays, parameters, initial = checkpoint
    arrays = dict(arrays)
    name = data.draw(st.sampled_from(sorted(arrays)))
    action = data.draw(st.sampled_from(["delete", "replace", "json"]))
    if action == "delete":
        del arrays[name]
    elif action == "replace":
        arrays[name] = data.draw(ARRAYS)
    else:
        saved = json.loads(str(arrays["parameters"]))
        key = data.draw(st.sampled_from(sorted(saved)))
        saved[key] = data.draw(JSON_VALUES)
        arrays["parameters"] = np.array(json.dumps(saved))
    path = tmp_path_factory.mktemp("arr") / "checkpoint.npz"
    np.savez(path, **arrays)
    _load_or_named(path, parameters, initial)


def test_a_checkpoint_that_is_a_folder_or_has_a_wrong_shape_is_refused(checkpoint, tmp_path, capsys):
    from flowtheory.cli import main

    _, arrays, _, _ = checkpoint
    folder = tmp_path / "dir"
    (folder / "checkpoint.npz").mkdir(parents=True)
    assert main(["flow", "run", *FLOW_ARGS, "--steps", "16", "--out", str(folder), "--resume", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "not a readable checkpoint" in captured.err
    shaped = tmp_path / "shape"
    shaped.mkdir()
    np.savez(shaped / "checkpoint.npz", **{**arrays, "state_phi": np.zeros((4, 4))})
    assert main(["flow", "run", *FLOW_ARGS, "--steps", "16", "--out", str(shaped), "--resume", "--json"]) == 2
    err = capsys.readouterr().err
    assert "field 'state_phi'" in err and "(8, 8)" in err


def test_zip_members_renamed_are_named_errors(point_file, tmp_path):
    """A zip whose member names were edited loses its arrays: InvalidFileError naming what is missing."""
    blob, _ = point_file
    source = zipfile.ZipFile(io.BytesIO(blob))
    path = tmp_path / "renamed.npz"
    with zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item.filename.replace("points", "pointz"), source.read(item))
    with pytest.raises(InvalidFileError, match="no points"):
        load_points(path)


# --- result records (quintic distances --resume) --------------------------------------------------


@FUZZ
@given(position=st.floats(0, 0.999), value=st.integers(0, 255), cut=st.booleans())
def test_damaged_distance_records_are_named_errors_or_unchanged(position, value, cut, tmp_path_factory):
    """A record changed anywhere — a digit of a row, a key, a bracket — fails its digest or its
    parse: InvalidFileError naming the file; an edit that changes nothing parsed loads the same rows."""
    from flowtheory.cli.quintic_distances import DISTANCES_FORMAT, _validate_distances
    from numerics.io.records import read_record, write_record

    rows = [{"n": 100, "repeat": 0, "min": 0.1, "mean": 0.3, "mean_se": 0.01, "max": 0.6}]
    path = write_record(tmp_path_factory.mktemp("rec") / "quintic_distances.json", DISTANCES_FORMAT,
                        {"samples": rows, "run_record": {"seed": 0, "parameters": {}}})
    blob = path.read_bytes()
    i = int(position * len(blob))
    path.write_bytes(blob[:i] if cut else blob[:i] + bytes([value]) + blob[i + 1:])
    try:
        record = read_record(path, DISTANCES_FORMAT, _validate_distances)
    except InvalidFileError as exc:
        assert str(path) in str(exc)
    else:
        assert record["samples"] == rows
