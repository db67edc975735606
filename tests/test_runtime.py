"""Progress bars: on for people at a keyboard, off where TQDM_DISABLE says so (executed notebooks); the bench timer."""

from symbiote_lite.runtime import median_seconds, progress_bar, progress_bars_off


def test_progress_bars_follow_tqdm_disable(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bars_off() and progress_bar(range(3), enabled=True).disable
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not progress_bars_off() and not progress_bar(range(3), enabled=True).disable
    assert progress_bar(range(3), enabled=False).disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not progress_bars_off()


def test_median_seconds_runs_warmup_plus_repeats_and_takes_the_median(monkeypatch):
    calls, clock = [], iter([0.0, 1.0, 10.0, 13.0, 20.0, 30.0])  # timed calls last 1, 3 and 10 s
    monkeypatch.setattr("symbiote_lite.runtime.time.perf_counter", lambda: next(clock))
    assert median_seconds(lambda: calls.append(1), repeats=3, warmup=2) == 3.0
    assert len(calls) == 5
