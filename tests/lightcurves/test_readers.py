"""Readers on real fixture files (copied from the surveys' archives) and the folder iterator."""

import numpy as np
import pytest

from vsexp.errors import DatasetError, LightCurveError
from vsexp.lightcurves.readers import detect_format, iter_folder, ogle_class_from_id, read_file, read_ogle_ident


def test_crts_reader_reads_real_file(data_dir):
    curve = read_file(data_dir / "crts/lightcurves/1001031060643.csv", min_points=100)
    assert curve.survey == "crts"
    assert curve.object_id == "1001031060643"
    assert len(curve) == 179
    assert np.all(np.diff(curve.times) > 0)
    assert 12 < np.median(curve.mags) < 21
    assert np.all(curve.errors > 0)
    assert curve.metadata["ra"] == pytest.approx(curve.metadata["ra"])


def test_crts_placeholder_time_rows_are_removed_and_counted(data_dir):
    curve = read_file(data_dir / "crts/lightcurves/1009027044598.csv", min_points=100)
    assert curve.row_counts["placeholder_time"] >= 1
    assert curve.times.min() > 40000  # no JD-0 placeholder left


def test_crts_shared_timestamps_are_merged_and_counted(data_dir):
    curve = read_file(data_dir / "crts/lightcurves/1004110089475.csv", min_points=100)
    assert curve.row_counts["duplicate_time_merged"] == 2
    assert np.all(np.diff(curve.times) > 0)


def test_ogle_reader_and_class_from_id(data_dir):
    curve = read_file(data_dir / "ogle/I/OGLE-LMC-CEP-0001.dat")
    assert curve.survey == "ogle"
    assert curve.label == "CEPH"
    assert curve.object_id == "OGLE-LMC-CEP-0001"
    assert np.all(curve.errors > 0) and np.median(curve.errors) < 0.05
    assert ogle_class_from_id("OGLE-BLG-RRLYR-01234") == "RRL"
    assert ogle_class_from_id("not-an-id") is None


def test_gzipped_file_reads_like_the_plain_one(data_dir):
    plain = read_file(data_dir / "ogle/I/OGLE-LMC-CEP-0001.dat")
    zipped = read_file(data_dir / "ogle_gz/I/OGLE-LMC-CEP-0001.dat.gz")
    assert zipped.object_id == plain.object_id
    np.testing.assert_array_equal(zipped.mags, plain.mags)


def test_ogle_ident_gives_pulsation_modes(data_dir):
    ident = read_ogle_ident(data_dir / "ogle/ident.dat")
    assert ident["OGLE-LMC-CEP-0001"]["mode"] == "1O"
    assert ident["OGLE-LMC-CEP-0002"]["mode"] == "F"
    curves = [c for c in iter_folder(data_dir / "ogle", require_labels=True)]
    assert {c.metadata["mode"] for c in curves} == {"1O", "F"}


def test_generic_reader_single_star_csv(tmp_path):
    path = tmp_path / "star42.csv"
    path.write_text("time,mag,err\n" + "".join(f"{i * 1.5},{15 + 0.1 * (i % 3)},0.02\n" for i in range(120)))
    curve = read_file(path)
    assert curve.object_id == "star42" and curve.survey == "generic" and len(curve) == 120


def test_crts_folder_labels_and_counts(data_dir):
    items = list(iter_folder(data_dir / "crts", require_labels=True))
    curves = [i for i in items if not isinstance(i, LightCurveError)]
    assert len(items) == 10
    assert {c.label for c in curves} >= {"EW", "EA", "RRab", "RRc", "RRd", "RS_CVn", "LPV"}


def test_detect_format(data_dir):
    assert detect_format(data_dir / "crts/lightcurves/1001031060643.csv") == "crts"
    assert detect_format(data_dir / "ogle/I/OGLE-LMC-CEP-0002.dat") == "ogle"


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="not a folder"):
        list(iter_folder(tmp_path / "nope"))
    with pytest.raises(DatasetError, match="no light-curve files"):
        list(iter_folder(tmp_path))


def test_plain_ogle_tables_take_the_fast_path_and_equal_pandas(data_dir):
    import io

    import pandas as pd

    from vsexp.lightcurves.readers import _plain_numeric_table

    paths = sorted((data_dir / "ogle").rglob("OGLE-*.dat"))
    assert paths
    for path in paths:
        text = path.read_text()
        fast = _plain_numeric_table(text)
        slow = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, comment="#").to_numpy(float)
        assert fast is not None and np.array_equal(fast, slow, equal_nan=True), path


@pytest.mark.parametrize("text", ["# HJD mag err\n1 2 3\n", "1 2 3\n4 5\n", "1 2 x\n", "1 2 3e\n", "", "\n\n"])
def test_irregular_tables_leave_the_fast_path(text):
    from vsexp.lightcurves.readers import _plain_numeric_table

    assert _plain_numeric_table(text) is None


def test_crts_files_in_the_catalogue_layout_take_the_fast_path_and_read_as_with_pandas(data_dir, monkeypatch, tmp_path):
    from vsexp.lightcurves import readers

    repaired = tmp_path / "1000000000001.csv"  # numeric ids (the fast path) with rows to repair: NaN, unsorted, shared time
    rows = [(53500 + 7 * i, 15 + 0.1 * np.sin(i), 0.05) for i in range(30)]
    rows[3], rows[4], rows[9], rows[12] = (53600.0, float("nan"), 0.05), rows[2], rows[8], (rows[12][0], 15.0, 0.0)
    repaired.write_text(readers.CRTS_HEADER + "\n" + "".join(f"1000000000001,{t},{m},{e},10.5,-2.25\n" for t, m, e in rows))
    paths = (sorted((data_dir / "crts/lightcurves").glob("*.csv")) + [repaired]
             + sorted((data_dir / "bad/lightcurves").glob("*.csv")))
    assert all(readers._plain_crts_table(p.read_text()) is not None for p in paths[:11])  # catalogue layout

    def read_all():
        results = {}
        for path in paths:
            try:
                curve = readers.read_crts(path, min_points=5)
                results[path.name] = (curve.times, curve.mags, curve.errors, curve.metadata, curve.row_counts)
            except LightCurveError as error:
                results[path.name] = (error.reason, str(error))
        return results

    fast = read_all()
    monkeypatch.setattr(readers, "_plain_crts_table", lambda text: None)
    slow = read_all()
    assert fast.keys() == slow.keys()
    for name in fast:
        for mine, theirs in zip(fast[name], slow[name]):
            if isinstance(mine, np.ndarray):
                np.testing.assert_array_equal(mine, theirs, err_msg=name)
            else:
                assert mine == theirs, name
