import pytest

from collapse_utils._progress import progress_bar


@pytest.mark.parametrize("value, off", [("1", True), ("", False), ("0", False)])
def test_progress_bar_obeys_tqdm_disable(monkeypatch, value, off):
    """tqdm's notebook bars ignore TQDM_DISABLE; the course's bars read it themselves."""
    monkeypatch.setenv("TQDM_DISABLE", value)
    with progress_bar(total=3, desc="test") as bar:
        assert bar.disable is off
    with progress_bar(range(3), enabled=False) as bar:
        assert bar.disable is True
        assert list(bar) == [0, 1, 2]
