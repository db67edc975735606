"""Progress bars: on for people at a keyboard, off where TQDM_DISABLE says so (executed notebooks)."""

from symbiote_lite.runtime import progress_bar, progress_bars_off


def test_progress_bars_follow_tqdm_disable(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bars_off() and progress_bar(range(3), enabled=True).disable
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not progress_bars_off() and not progress_bar(range(3), enabled=True).disable
    assert progress_bar(range(3), enabled=False).disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not progress_bars_off()
