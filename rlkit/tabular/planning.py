"""Dynamic programming on a known model: value iteration and policy evaluation.

Both take Gymnasium's toy-text model ``P[s][a] = [(prob, next_state, reward,
terminated), ...]`` (``env.unwrapped.P`` of FrozenLake, CliffWalking, Taxi) or a
:class:`~rlkit.tabular.model.TabularModel`, convert it once to dense ``(S, A, S)``
arrays and iterate with matrix products. They are the ground truth the learners are
tested against.

``gamma = 1`` is allowed for episodic tasks, where every policy considered reaches a
terminating outcome: values stay finite and the iteration converges. Where it does not
(a policy that loops forever), the iteration cap stops it with :class:`ConvergenceError`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rlkit.tabular.model import FloatArray, IntArray, TabularModel, TransitionModel

__all__ = ["ConvergenceError", "greedy_policy", "policy_evaluation", "value_iteration"]

#: Default cap on sweeps; gamma = 0.999 needs about 25 000 sweeps to reach tol = 1e-10.
MAX_ITERATIONS = 100_000


class ConvergenceError(RuntimeError):
    """Raised when an iteration does not converge within its cap (e.g. gamma = 1 and a
    policy that never terminates)."""


def value_iteration(
    P: TransitionModel | TabularModel,
    n_states: int,
    n_actions: int,
    gamma: float,
    *,
    tol: float = 1e-10,
    max_iterations: int = MAX_ITERATIONS,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Optimal values, action values and a greedy policy of a finite MDP.

    Parameters
    ----------
    P : mapping or TabularModel
        ``P[s][a] = [(prob, next_state, reward, terminated), ...]``.
    n_states, n_actions : int
        Sizes of the state and action sets (checked against ``P``).
    gamma : float
        Discount in [0, 1]; 1 only for episodic tasks (see the module docstring).
    tol : float
        Stop when no value changes by more than ``tol`` in a sweep.
    max_iterations : int
        Cap on the number of sweeps.

    Returns
    -------
    V : numpy.ndarray of float, shape (S,)
    Q : numpy.ndarray of float, shape (S, A)
    policy : numpy.ndarray of int, shape (S,)
        ``argmax_a Q[s, a]`` (the lowest action among ties).

    Raises
    ------
    ValueError
        If ``gamma``, ``tol`` or the model is invalid.
    ConvergenceError
        If the values still change after ``max_iterations`` sweeps.

    Examples
    --------
    From state 0, action 0 ends the episode with reward 1; action 1 moves to state 1
    (reward 0), where the only action ends the episode with reward 2:

    >>> P = {0: {0: [(1.0, 0, 1.0, True)], 1: [(1.0, 1, 0.0, False)]},
    ...      1: {0: [(1.0, 1, 2.0, True)], 1: [(1.0, 1, 2.0, True)]}}
    >>> V, Q, policy = value_iteration(P, 2, 2, gamma=0.9)
    >>> V.round(6).tolist(), Q.round(6).tolist(), policy.tolist()
    ([1.8, 2.0], [[1.0, 1.8], [2.0, 2.0]], [1, 0])
    """
    model = _as_model(P, n_states, n_actions)
    gamma = _check_gamma(gamma)
    _check_iteration(tol, max_iterations)
    R = model.expected_reward
    C = model.continuation.reshape(model.n_states * model.n_actions, model.n_states)
    V = np.zeros(model.n_states)
    for _ in range(max_iterations):
        Q = R + gamma * (C @ V).reshape(model.n_states, model.n_actions)
        V_new = Q.max(axis=1)
        delta = float(np.abs(V_new - V).max())
        V = V_new
        if delta <= tol:
            return V, Q, greedy_policy(Q)
    raise ConvergenceError(
        f"value_iteration did not converge in {max_iterations} sweeps (last change "
        f"{delta:.3g} > tol={tol}) with gamma={gamma}; with gamma=1 the task must "
        f"terminate under every policy, otherwise use gamma < 1"
    )


def policy_evaluation(
    P: TransitionModel | TabularModel,
    policy: npt.ArrayLike,
    gamma: float,
    *,
    tol: float = 1e-10,
    max_iterations: int = MAX_ITERATIONS,
) -> FloatArray:
    """State values of a fixed policy.

    With ``gamma < 1`` the Bellman equation ``V = R_pi + gamma C_pi V`` is solved
    exactly; with ``gamma = 1`` it is iterated until the values settle.

    Parameters
    ----------
    P : mapping or TabularModel
        ``P[s][a] = [(prob, next_state, reward, terminated), ...]``.
    policy : array_like
        Deterministic, shape (S,) of actions; or stochastic, shape (S, A) of
        probabilities (rows summing to 1).
    gamma : float
        Discount in [0, 1].
    tol, max_iterations
        Stopping rule of the iteration used when ``gamma = 1``.

    Returns
    -------
    numpy.ndarray of float, shape (S,)

    Raises
    ------
    ValueError
        If the policy's shape, actions or probabilities are invalid, or ``gamma`` is.
    ConvergenceError
        If ``gamma = 1`` and the policy does not terminate (values do not settle).

    Examples
    --------
    >>> P = {0: {0: [(1.0, 0, 1.0, True)], 1: [(1.0, 1, 0.0, False)]},
    ...      1: {0: [(1.0, 1, 2.0, True)], 1: [(1.0, 1, 2.0, True)]}}
    >>> policy_evaluation(P, [0, 0], gamma=0.9).round(6).tolist()
    [1.0, 2.0]
    >>> policy_evaluation(P, [[0.5, 0.5], [1.0, 0.0]], gamma=1.0).round(6).tolist()
    [1.5, 2.0]
    """
    model = _as_model(P, None, None)
    gamma = _check_gamma(gamma)
    _check_iteration(tol, max_iterations)
    pi = _policy_matrix(policy, model.n_states, model.n_actions)
    R_pi = (pi * model.expected_reward).sum(axis=1)
    C_pi = np.einsum("sa,sat->st", pi, model.continuation)
    if gamma < 1.0:
        return np.asarray(np.linalg.solve(np.eye(model.n_states) - gamma * C_pi, R_pi))
    V = np.zeros(model.n_states)
    for _ in range(max_iterations):
        V_new = R_pi + C_pi @ V
        delta = float(np.abs(V_new - V).max())
        V = V_new
        if delta <= tol:
            return V
    raise ConvergenceError(
        f"policy_evaluation did not converge in {max_iterations} sweeps with gamma=1: "
        f"the policy does not reach a terminating outcome from every state; use gamma < 1"
    )


def greedy_policy(q_table: npt.ArrayLike) -> IntArray:
    """``argmax_a Q[s, a]`` for every state (the lowest action among ties).

    Examples
    --------
    >>> greedy_policy([[0.0, 1.0], [2.0, 2.0]]).tolist()
    [1, 0]
    """
    q = np.asarray(q_table, dtype=np.float64)
    if q.ndim != 2:
        raise ValueError(f"q_table must have shape (S, A), got {q.shape}")
    return np.asarray(q.argmax(axis=1), dtype=np.int64)


def _as_model(
    P: TransitionModel | TabularModel, n_states: int | None, n_actions: int | None
) -> TabularModel:
    # Sizes are inferred from P first, so a mismatch is reported as such rather than as
    # a missing entry.
    model = P if isinstance(P, TabularModel) else TabularModel.from_transitions(P)
    for name, given, actual in (
        ("n_states", n_states, model.n_states),
        ("n_actions", n_actions, model.n_actions),
    ):
        if given is not None and given != actual:
            raise ValueError(f"{name}={given} does not match the model, which has {actual}")
    return model


def _check_gamma(gamma: float) -> float:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    return float(gamma)


def _check_iteration(tol: float, max_iterations: int) -> None:
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations!r}")


def _policy_matrix(policy: npt.ArrayLike, n_states: int, n_actions: int) -> FloatArray:
    pi = np.asarray(policy)
    if pi.shape == (n_states,):
        if not np.issubdtype(pi.dtype, np.integer) or ((pi < 0) | (pi >= n_actions)).any():
            raise ValueError(f"policy actions must be integers in [0, {n_actions}), got {pi}")
        matrix = np.zeros((n_states, n_actions))
        matrix[np.arange(n_states), pi] = 1.0
        return matrix
    if pi.shape == (n_states, n_actions):
        matrix = pi.astype(np.float64)
        if (matrix < 0).any() or not np.allclose(matrix.sum(axis=1), 1.0):
            raise ValueError("policy of shape (S, A) must hold probabilities summing to 1 per row")
        return matrix
    raise ValueError(
        f"policy must have shape ({n_states},) (actions) or ({n_states}, {n_actions}) "
        f"(probabilities), got {pi.shape}"
    )
