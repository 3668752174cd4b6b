"""Pooling the model calls of per-example explainers (lime, shap) into large batches.

The lime and shap packages explain one text at a time and call a classifier function
with that text's perturbed strings. reportgen runs each example's call in its own
worker thread and gives every worker a ``predict`` function that does not call the
model: it files the strings as a request and blocks. The pool, in the calling thread,
lets the workers run **one at a time, in a fixed order** until each one is blocked on a
request or has finished; then it evaluates all pending strings of all workers in one
call of the shared batched predict function (``ModelRunner.predict_texts``: deduped,
length-sorted, dynamically padded) and hands every worker its rows.

Running the workers in turns (rather than letting them race) costs nothing here, since
the GIL serialises their Python code anyway, and it makes everything deterministic:

* the order of requests and model calls never depends on thread timing;
* each worker sees its own global NumPy random state, seeded from (run seed, example
  index) and swapped in at the start of each of its turns. shap's Partition explainer
  breaks ties in its priority queue with ``np.random.randn()``, so this is what makes an
  example's scores the same whichever examples share its batch, and the same as calling
  the package on that example alone after ``np.random.seed(example_seed(seed, index))``.
  The caller's global random state is restored afterwards.

An exception raised in a worker (by lime, shap or a failing model call) ends that
worker only and is returned as its outcome. If a pooled model call fails, each
request is evaluated again on its own so the error lands on the example that caused
it. A worker that does not yield its turn within ``turn_timeout`` seconds is given up
with a :class:`PoolTimeout`; the pool never waits for it again. Workers still blocked
when the pool stops (e.g. on an interrupt) are woken with :class:`PoolCancelled`.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from ..results.records import Example
from .batch import Batch
from .explainer import Explainer, Explanation
from .isolate import isolate
from .perturbed import ModelInput

Predict = Callable[[Sequence[ModelInput]], np.ndarray]
Job = Callable[[Predict], Any]

DEFAULT_TURN_TIMEOUT = 120.0
DEFAULT_MAX_POOLED_STRINGS = 16384


class PoolTimeout(TimeoutError):
    """A worker kept its turn longer than the pool's ``turn_timeout``."""


class PoolCancelled(RuntimeError):
    """The pool stopped before this worker's request was answered."""


def example_seed(seed: int, index: int) -> int:
    """The 32-bit seed of one example: a function of (run seed, example index) only."""
    entropy = [int(seed) % 2**64, int(index) % 2**64]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class _Worker:
    """One job in its own thread; runs only while the pool has handed it the turn."""

    def __init__(self, position: int, job: Job, seed: int):
        self.job = job
        self.rng_state = np.random.RandomState(seed).get_state()
        self.go = threading.Event()  # pool -> worker: your turn
        self.paused = threading.Event()  # worker -> pool: blocked on a request, or finished
        self.request: list[ModelInput] | None = None
        self.reply: np.ndarray | BaseException | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.abandoned: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._main, name=f"reportgen-pool-{position}", daemon=True)

    @property
    def outcome(self) -> Any:
        if self.abandoned is not None:
            return self.abandoned
        return self.error if self.error is not None else self.result

    def _main(self) -> None:
        self.go.wait()
        try:
            if self.cancelled:
                raise PoolCancelled("the pool stopped before this example started")
            self.result = self.job(self.predict)
        except BaseException as err:  # noqa: BLE001 - handed back as this example's outcome
            self.error = err
        finally:
            self.request = None
            self.finished = True
            self.paused.set()

    def predict(self, texts: Sequence[ModelInput]) -> np.ndarray:
        """What lime/shap call as their classifier (through the example's PerturbedText.inputs): file a
        request, wait for the pooled answer."""
        if threading.current_thread() is not self.thread:
            raise RuntimeError("a pooled predict function was called outside its worker thread")
        if self.cancelled or self.abandoned is not None:
            raise PoolCancelled("the pool no longer answers this example")
        self.reply = None
        self.request = [tuple(map(str, item)) if isinstance(item, tuple) else str(item) for item in texts]
        self.go.clear()
        self.paused.set()
        self.go.wait()
        reply, self.reply, self.request = self.reply, None, None
        if self.cancelled:
            raise PoolCancelled("the pool stopped before this request was answered")
        if isinstance(reply, BaseException):
            raise reply
        return reply


class Pool:
    """Runs jobs in turn-taking worker threads and pools their model calls.

    ``predict`` is the one batched function that evaluates strings (class probabilities,
    one row per string). ``calls`` lists the number of strings of every call made to it.
    """

    def __init__(
        self,
        predict: Predict,
        turn_timeout: float = DEFAULT_TURN_TIMEOUT,
        max_pooled_strings: int = DEFAULT_MAX_POOLED_STRINGS,
    ):
        self.predict = predict
        self.turn_timeout = turn_timeout
        self.max_pooled_strings = max(int(max_pooled_strings), 1)
        self.calls: list[int] = []
        self.rounds = 0

    def run(self, jobs: Sequence[Job], seeds: Sequence[int]) -> list[Any]:
        """Each job's return value, or the exception it ended with, in job order."""
        if len(jobs) != len(seeds):
            raise ValueError("one seed per job is needed")
        workers = [_Worker(i, job, seed) for i, (job, seed) in enumerate(zip(jobs, seeds))]
        saved = np.random.get_state()
        try:
            for worker in workers:
                worker.thread.start()
            live = workers
            while live:
                for worker in live:
                    self._turn(worker)
                live = [w for w in live if not w.finished and w.abandoned is None]
                if live:
                    self.rounds += 1
                    self._answer(live)
        finally:
            np.random.set_state(saved)
            self._cancel([w for w in workers if not w.finished and w.abandoned is None])
        return [worker.outcome for worker in workers]

    def _turn(self, worker: _Worker) -> None:
        """Let one worker run until it files a request or finishes."""
        np.random.set_state(worker.rng_state)
        worker.paused.clear()
        worker.go.set()
        if worker.paused.wait(self.turn_timeout):
            worker.rng_state = np.random.get_state()
            return
        worker.abandoned = PoolTimeout(
            f"the explainer did not reach its next model call within {self.turn_timeout:g} s"
        )
        worker.cancelled = True

    def _answer(self, waiting: list[_Worker]) -> None:
        """One pooled evaluation for every pending request; errors go to their own request."""
        requests = [w.request or [] for w in waiting]
        replies = isolate(requests, lambda some: self._split(self._evaluate([t for r in some for t in r]), some),
                          lambda request, err: err)
        for worker, reply in zip(waiting, replies):
            worker.reply = reply

    def _evaluate(self, texts: list[str]) -> np.ndarray:
        parts = []
        for start in range(0, max(len(texts), 1), self.max_pooled_strings):
            chunk = texts[start : start + self.max_pooled_strings]
            self.calls.append(len(chunk))
            out = np.asarray(self.predict(chunk), dtype=np.float64)
            if out.ndim != 2 or out.shape[0] != len(chunk):
                raise ValueError(f"the predict function gave shape {out.shape} for {len(chunk)} strings")
            parts.append(out)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    @staticmethod
    def _split(values: np.ndarray, requests: list[list[str]]) -> list[np.ndarray]:
        ends = np.cumsum([len(r) for r in requests])
        return [values[end - len(r) : end].copy() for r, end in zip(requests, ends)]

    @staticmethod
    def _cancel(workers: list[_Worker]) -> None:
        for worker in workers:
            worker.cancelled = True
            worker.go.set()
        for worker in workers:
            worker.thread.join(timeout=5.0)


class PooledExplainer(Explainer):
    """An explainer whose per-example package call runs in a :class:`Pool`.

    Subclasses give ``job(batch, ex)``: a function of the pooled predict function that
    returns the example's :class:`Explanation`. If any example fails, the batch raises
    that example's exception (the engine then retries the examples one at a time to
    isolate it); the explanations of the examples that did succeed are kept and handed
    back on those retries instead of being computed again (results do not depend on
    batching, so they are the same).
    """

    turn_timeout: float = DEFAULT_TURN_TIMEOUT

    def __init__(self, seed: int = 0, **params: Any):
        super().__init__(seed, **params)
        self._salvaged: dict[tuple, Explanation] = {}
        self.last_pool: Pool | None = None

    def job(self, batch: Batch, ex: Example) -> Job:
        raise NotImplementedError

    def attribute(self, batch: Batch) -> list[Explanation]:
        keys = [self._key(batch, ex) for ex in batch.examples]
        results: list[Any] = [self._salvaged.pop(key, None) for key in keys]
        todo = [i for i, result in enumerate(results) if result is None]
        if todo:
            pool = Pool(batch.runner.predict_inputs, turn_timeout=self.turn_timeout)
            self.last_pool = pool
            jobs, seeds = [], []
            for i in todo:
                ex = batch.examples[i]
                seeds.append(example_seed(self.seed, ex.index))
                try:
                    jobs.append(self.job(batch, ex))
                except Exception as err:  # noqa: BLE001 - preparing this example failed
                    jobs.append(_raiser(err))
            for i, outcome in zip(todo, pool.run(jobs, seeds)):
                results[i] = outcome
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            if len(results) > 1:
                self._salvaged = {
                    key: r for key, r in zip(keys, results) if not isinstance(r, BaseException)
                }
            raise failures[0]
        return results

    def _key(self, batch: Batch, ex: Example) -> tuple:
        return (id(batch.runner), ex.index, ex.target, tuple(ex.input_ids), ex.text)


def _raiser(err: BaseException) -> Job:
    def job(predict: Predict) -> Any:
        raise err

    return job
