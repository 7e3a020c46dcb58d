"""Forwards an SDK call's progress to the App while the call runs."""

import queue
import threading

_DONE = object()


def run_reporting_progress(ctx, function, *args, **kwargs):
    """Runs ``function(*args, progress=callback, **kwargs)`` and reports each update.

    A generator (use ``result = yield from run_reporting_progress(...)``): an App-run
    operator streams ``set_progress`` messages, which it can only do from its own generator,
    so the SDK call runs in a worker thread and its updates are relayed from a queue. A
    delegated run records each update on its operation document instead.
    """
    updates = queue.Queue()
    outcome = {}

    def report(stage, done, total):
        # the SDK calls progress(stage, done, total), e.g. ("embed", 128, 1000)
        updates.put((done / total if total else None, f"{stage}: {done}/{total}"))

    def work():
        try:
            outcome["result"] = function(*args, progress=report, **kwargs)
        except BaseException as error:  # re-raised in the operator's thread below
            outcome["error"] = error
        finally:
            updates.put(_DONE)

    worker = threading.Thread(target=work, name=f"petturtle-{ctx.operator_uri}", daemon=True)
    worker.start()
    while (update := updates.get()) is not _DONE:
        fraction, label = update
        if ctx.delegated:
            ctx.set_progress(progress=fraction, label=label)
        else:
            yield ctx.ops.set_progress(label=label, progress=fraction)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
