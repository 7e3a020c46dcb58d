"""Terminal progress bars for the SDK's long calls, with the caller's callback kept in the loop."""

import fiftyone.core.utils as fou

# What one unit of work is, per stage, as the bar counts it.
_UNITS = {"embed": "images", "read": "samples", "train": "steps", "select": "scorings", "write": "samples"}


class StageProgress:
    """Called as ``progress(stage, done, total)``: draws one FiftyOne progress bar per stage
    (they honour ``fo.config.show_progress_bars``) and forwards each report to ``callback``.

    Use it as a context manager so the last bar is closed even when the call fails.
    """

    def __init__(self, callback=None):
        self._callback = callback
        self._stage = None
        self._bar = None

    def __call__(self, stage, done, total):
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = fou.ProgressBar(total=total, iters_str=_UNITS.get(stage, "steps"))
            self._bar.start()
        self._bar.set_iteration(done)
        if self._callback is not None:
            self._callback(stage, done, total)

    def close(self, *args):
        if self._bar is not None:
            self._bar.close(*args)
        self._bar = self._stage = None

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close(*args)
