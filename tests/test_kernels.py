"""The numerical core on plain arrays, against closed forms and scipy/numpy references."""


import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from jaxlaws import kernels as K


def test_lse_matches_log_sum_exp_and_survives_extremes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 50)) * 5
    ref = np.log(np.exp(z).sum(0))
    np.testing.assert_allclose(K.lse(*jnp.asarray(z)), ref, rtol=1e-14)
    # exp(800) overflows float64, the shifted form does not
    big = K.lse(jnp.array([800.0]), jnp.array([799.0]), jnp.array([-1e3]))
    np.testing.assert_allclose(big, 800 + np.log1p(np.exp(-1.0)), rtol=1e-15)
    g = jax.grad(lambda a: K.lse(a, jnp.array(799.0), jnp.array(0.0)))(jnp.array(800.0))
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-1.0)), rtol=1e-14)


def test_huber_equals_scipy():
    r = np.linspace(-0.01, 0.01, 101)
    for d in (1e-3, 3e-3, 0.1):
        np.testing.assert_allclose(K.LOSSES["huber"].rho(jnp.asarray(r), jnp.array([d])), scipy.special.huber(d, r),
                                   rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(jax.grad(lambda x: K.LOSSES["huber"].rho(x, jnp.array([1e-3])))(0.5), 1e-3)


def test_modified_cholesky_solves_pd_exactly_and_descends_on_indefinite():
    rng = np.random.default_rng(1)
    for p in (1, 3, 5, 8):
        M = rng.normal(size=(p, p))
        H = M @ M.T + p * np.eye(p)
        g = rng.normal(size=p)
        np.testing.assert_allclose(K.modified_cholesky_solve(jnp.asarray(H), jnp.asarray(g)), np.linalg.solve(H, g), rtol=1e-10)
        np.testing.assert_allclose(K.cholesky_solve(jnp.asarray(H), jnp.asarray(g)), np.linalg.solve(H, g), rtol=1e-10)
        Hi = M + M.T  # indefinite
        d = -np.asarray(K.modified_cholesky_solve(jnp.asarray(Hi), jnp.asarray(g)))
        assert np.all(np.isfinite(d)) and g @ d < 0
        if p > 1:
            assert np.isnan(np.asarray(K.cholesky_solve(jnp.asarray(Hi), jnp.asarray(g)))).any()


def _quad_problem():
    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
    b = jnp.array([1.0, -1.0])

    def value(t, args):
        del args
        return 0.5 * t @ A @ t - b @ t + 1.0

    def vgh(t, args):
        return value(t, args), A @ t - b, A

    return value, vgh, np.linalg.solve(np.asarray(A), np.asarray(b))


def test_pivoted_solve_matches_numpy_on_indefinite_systems_and_flags_singular():
    rng = np.random.default_rng(0)
    solve = jax.jit(K.pivoted_solve)
    for n in (1, 2, 4):
        A = rng.standard_normal((n, n))
        A = A + A.T  # symmetric indefinite, like a KKT matrix
        if n > 1:
            A[0, 0] = 0.0  # a zero leading entry needs a row swap
        b = rng.standard_normal(n)
        np.testing.assert_allclose(np.asarray(solve(jnp.asarray(A), jnp.asarray(b))),
                                   np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    # vmapped, and transposable in b (implicit differentiation needs it)
    As = jnp.asarray(rng.standard_normal((4, 3, 3)))
    bs = jnp.asarray(rng.standard_normal((4, 3)))
    np.testing.assert_allclose(np.asarray(jax.vmap(K.pivoted_solve)(As, bs)),
                               np.linalg.solve(np.asarray(As), np.asarray(bs)[..., None])[..., 0], rtol=1e-10)
    g = jax.grad(lambda b: K.pivoted_solve(As[0], b).sum())(bs[0])
    np.testing.assert_allclose(np.asarray(g), np.linalg.solve(np.asarray(As[0]).T, np.ones(3)), rtol=1e-10)
    assert np.all(np.isnan(np.asarray(solve(jnp.array([[1.0, 2.0], [2.0, 4.0]]), jnp.ones(2)))))


def test_damped_newton_converges_on_quadratic_and_rosenbrock():
    value, vgh, xstar = _quad_problem()
    obj = K.Objective(value, vgh)
    r = K.iterate_batch(K.DampedNewton(ftol=1e-14), obj, jnp.array([[5.0, 5.0], [-3.0, 10.0]]), None, 100)
    assert np.all(np.asarray(r.result) == K.results.CONVERGED)
    np.testing.assert_allclose(r.value, np.stack([xstar, xstar]), rtol=1e-8)

    def rosen(t, args):
        return (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2 + 1e-3

    def rvgh(t, args):
        return rosen(t, args), jax.grad(rosen)(t, args), jax.hessian(rosen)(t, args)

    r = K.iterate_batch(K.DampedNewton(ftol=1e-12), K.Objective(rosen, rvgh), jnp.array([[-1.2, 1.0], [2.0, 2.0]]),
                        None, 500)
    assert np.all(np.asarray(r.result) == K.results.CONVERGED)
    np.testing.assert_allclose(r.value, np.ones((2, 2)), rtol=1e-5)


def test_multistart_accounts_for_every_start_and_ignores_nonfinite():
    # A 1-D double well with a better minimum near x=-1: (x^2-1)^2 + 0.3 x
    def value(t, args):
        x = t[0]
        return jnp.where(jnp.abs(x) > 50, jnp.nan, (x * x - 1) ** 2 + 0.3 * x + 2.0)

    def vgh(t, args):
        return value(t, args), jax.grad(value)(t, args), jax.hessian(value)(t, args)

    starts = jnp.linspace(-60, 60, 41)[:, None]
    r = K.multistart(K.Objective(value, vgh), starts, None, screen_k=10, keep_k=4, halving_iters=3)
    ss = np.asarray(r.start_status)
    assert ss.shape == (41,)
    assert (ss == K.results.NONFINITE).sum() == 8  # the 8 starts with |x| > 50: nan objective
    assert (ss == K.results.PRUNED_SCREEN).sum() == 41 - 10 - 8
    assert (ss == K.results.PRUNED_HALVING).sum() == 6
    assert int(r.status) == K.results.CONVERGED
    # global minimiser of (x^2-1)^2 + 0.3x, from numpy's roots of the derivative
    roots = np.roots([4, 0, -4, 0.3]).real
    xg = roots[np.argmin((roots**2 - 1) ** 2 + 0.3 * roots)]
    np.testing.assert_allclose(r.theta[0], xg, rtol=1e-10)


def test_row_blocked_objective_equals_the_whole_table_for_sum_and_mean():
    # Large tables are summed over blocks of rows (memory flat in rows); the value, gradient and
    # Hessian must be those of the whole table, for the analytic power-sum and the autodiff path.
    rng = np.random.default_rng(3)
    n = 1024
    xs = (jnp.asarray(rng.normal(size=n)), jnp.asarray(rng.normal(size=n)))
    y = jnp.asarray(1.0 + 0.3 * rng.normal(size=n))
    w = jnp.asarray(rng.integers(0, 3, size=n).astype(float))
    lp = jnp.array([1e-2])
    theta = jnp.array([0.1, 0.5, -0.2, 0.3, 0.2])  # (log E, log A, log B, alpha, beta)
    rho = K.LOSSES["huber"].rho

    def pred(th, Xb):
        X = Xb[0]
        return K.lse(th[1] - th[3] * X[0], th[2] - th[4] * X[1], jnp.broadcast_to(th[0], X[0].shape))

    for mean in (False, True):
        ps = K.power_sum_objective(((1, 3), (2, 4)), 0, 5, rho, mean)
        ps0 = K.power_sum_objective(((1, 3), (2, 4)), 0, 5, rho, False)
        wrap = lambda o: K.Objective(lambda t, a: o.value(t, (a[0][0],) + a[1:]),  # noqa: E731
                                     lambda t, a: o.vgh(t, (a[0][0],) + a[1:]))
        generic = (K.make_objective(pred, rho, mean), K.make_objective(pred, rho, False))
        for whole, summed in ((wrap(ps), wrap(ps0)), generic):
            args = ((xs, None), y, w, lp)
            blocked = K.row_blocked(whole, summed, mean=mean, block=64, block_from=256)
            f, g, H = whole.vgh(theta, args)
            fb, gb, Hb = jax.jit(blocked.vgh)(theta, args)
            np.testing.assert_allclose(fb, f, rtol=1e-12)
            np.testing.assert_allclose(gb, g, rtol=1e-11, atol=1e-14 * np.abs(g).max())
            np.testing.assert_allclose(Hb, H, rtol=1e-11, atol=1e-14 * np.abs(H).max())
            np.testing.assert_allclose(jax.jit(blocked.value)(theta, args), whole.value(theta, args), rtol=1e-12)
            # below block_from, or when the block does not divide the rows: the whole table as is
            small = K.row_blocked(whole, summed, mean=mean, block=100, block_from=256)
            assert float(small.value(theta, args)) == float(whole.value(theta, args))


def test_screen_rows_is_each_rows_own_objective_and_stratified_ranking():
    # The bootstrap's shared screen: per-point losses once, each weight row's objective as a
    # matrix product. It must equal the objective each row evaluates alone, and rank as the
    # multistart screen does (stratum bests first; ties by index; non-finite last).
    rng = np.random.default_rng(4)
    n, S = 60, 40
    xs = (jnp.asarray(rng.normal(size=n)), jnp.asarray(rng.normal(size=n)))
    y = jnp.asarray(1.0 + 0.3 * rng.normal(size=n))
    lp = jnp.array([1e-2])
    obj = K.power_sum_objective(((1, 3), (2, 4)), 0, 5, K.LOSSES["huber"].rho)
    starts = jnp.asarray(rng.normal(size=(S, 5)))
    starts = starts.at[3, 0].set(jnp.nan)  # a non-finite start: +inf for every row
    one = lambda t, a, b, c: obj.value(t, ((a[None], b[None]), c[None], jnp.ones(1), lp))  # noqa: E731
    L = jax.vmap(lambda t: jax.vmap(lambda a, b, c: one(t, a, b, c))(xs[0], xs[1], y))(starts)
    W = jnp.asarray(rng.integers(0, 3, size=(7, n)).astype(float))
    strata = rng.integers(0, 6, S)
    idx, f = jax.jit(K.screen_rows, static_argnames="k")(L, W, jnp.asarray(K.strata_groups(strata)), k=12)
    alone = jax.vmap(lambda w: jax.vmap(lambda t: obj.value(t, (xs, y, w, lp)))(starts))(W)
    alone = jnp.where(jnp.isfinite(alone), alone, jnp.inf)
    np.testing.assert_allclose(f, alone, rtol=1e-12)
    assert np.all(np.isinf(np.asarray(f)[:, 3]))
    key = jax.vmap(lambda r: jax.lax.top_k(-K.stratified_key(r, jnp.asarray(strata)), 12)[1])(alone)
    np.testing.assert_array_equal(idx, key)
    # ties and non-finite objectives, many strata layouts: the same order as the full sort
    ref = jax.jit(lambda f, s: jax.lax.top_k(-K.stratified_key(f, s), 9)[1])
    new = jax.jit(lambda f, g: K.stratified_top_k(f, g, 9))
    for t in range(12):
        lab = rng.integers(0, [1, 3, 40][t % 3], S)
        fv = rng.integers(0, 6, S).astype(float) if t % 2 else rng.normal(size=S)
        fv[rng.random(S) < 0.15] = np.inf
        np.testing.assert_array_equal(new(jnp.asarray(fv), jnp.asarray(K.strata_groups(lab))),
                                      ref(jnp.asarray(fv), jnp.asarray(lab)))
