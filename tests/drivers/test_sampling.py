"""Sampling helpers: the time estimate and when progress is shown."""

import pytest

from cxkit.drivers import sampling


def test_expected_seconds_counts_rounds_of_parallel_chains():
    one = sampling.expected_seconds(0.001, family="bernoulli", chains=4, tune=1000, draws=1000,
                                    cores=2)
    # 2 rounds of 2 chains x 2000 iterations x 15 gradients x 1 ms
    assert one == pytest.approx(2 * 2000 * 15 * 0.001)
    assert sampling.expected_seconds(0.001, family="bernoulli", chains=4, tune=1000,
                                     draws=1000, cores=4) == pytest.approx(one / 2)


def test_time_gradient_calls_the_compiled_function():
    calls = []

    class Compiled:
        n_dim = 3

        def logp_func(self, x):
            calls.append(x.shape)

    assert sampling.time_gradient(Compiled(), n_evals=4) >= 0
    assert calls == [(3,)] * 5  # one warm-up call, then four timed


def test_one_blas_thread_limits_and_restores():
    from threadpoolctl import threadpool_info

    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    with sampling.one_blas_thread():
        inside = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert all(n == 1 for n in inside)
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before
