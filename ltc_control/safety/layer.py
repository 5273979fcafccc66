"""BarrierNet layer: the safety filter's QP as a batched, differentiable torch layer.

`BarrierNetLayer(safety_filter)(q, v, u_nominal, gains) -> u_safe` solves, per sample, exactly the
QP of ltc_control.safety.qp (same constraints, scaling, slacks, torque box), but with the class-K
gains of the CBF constraints taken from `gains` (B, len(layer.gain_names)) instead of the config,
so a network can output them (BarrierNet's "penalty functions", Xiao et al. 2023). Gradients flow
to u_nominal and gains (q and v are data: the model terms are not differentiated).

Forward: DAQP per sample (exact active-set solution, ~10 µs each). Backward: implicit
differentiation of the KKT system at the solution's active set 𝒜 (OptNet, Amos & Kolter 2017):

    K = [[H, A_𝒜ᵀ], [A_𝒜, 0]],  K [y_x; y_ν] = [dℓ/dx; 0]
    dℓ/df = -y_x,  dℓ/db_𝒜 = y_ν,  dℓ/dA_𝒜 = -(ν y_xᵀ + y_ν xᵀ),  dℓ/dH = -(y_x xᵀ + x y_xᵀ)/2

one batched torch.linalg.solve; inactive rows are padded as identity rows (zero gradient). This is
exact wherever the active set is locally constant (strict complementarity), which is where a QP
layer is differentiable at all. A sample whose hard rows no command satisfies (a state outside
the safe set: an unfiltered expert rollout reaches 2-4x a velocity limit) gets what the deployed
filter gives it, `SafetyFilter.braking_command`, and no gradient (`fallbacks` counts them). Chosen over qpth (batched interior point in torch) because it
returns the same solution as the 1 kHz filter to machine precision and is faster at batch 64
(bench/safety.py measures both); cvxpylayers is not used (not installed).
"""

from __future__ import annotations

import daqp
import numpy as np
import torch

from ltc_control.errors import LtcControlError
from ltc_control.safety.constraints import condition_coefficients
from ltc_control.safety.filter import SafetyFilter
from ltc_control.safety.qp import INFINITY

_ROW_KEYS = ("L", "e", "h", "h_dot")  # per constraint row, in the filter's group order
_ACTIVE_TOLERANCE = 1e-9  # a constraint with a smaller residual and a positive multiplier


class BarrierNetError(LtcControlError, ValueError):
    """Bad input to the layer (shape, non-positive gains) or a QP the solver could not solve."""


class BarrierNetLayer(torch.nn.Module):
    """Differentiable filter QP; gains per CBF constraint group, in `gain_names` order."""

    def __init__(self, safety_filter: SafetyFilter) -> None:
        super().__init__()
        self.safety_filter = safety_filter
        robot = safety_filter.robot
        _, groups = safety_filter.rows(robot.home, np.zeros(robot.dof))
        self._groups = [(rows.relative_degree, len(rows.h)) for rows in groups]
        n_rows, dof = sum(size for _, size in self._groups), robot.dof
        # Widths of the flattened per-sample rows (sample_rows): L, e, h, h_dot, M^-1, a0.
        self._row_shapes = ((n_rows, dof), (n_rows,), (n_rows,), (n_rows,), (dof, dof), (dof,))
        self.gain_names = safety_filter.gain_names
        self.default_gains = torch.tensor(safety_filter.configured_gains, dtype=torch.float64)
        self.fallbacks = 0  # samples answered with the braking command (infeasible QP)
        layout = safety_filter.layout
        self._hessian = torch.as_tensor(layout.hessian)
        self._slack_columns = torch.as_tensor(layout.slack_columns)
        self._penalties = torch.as_tensor(layout.penalties)
        self._scale = torch.as_tensor(safety_filter.torque_reference)
        lower, upper = safety_filter.qp_bounds
        finite = upper < INFINITY
        n_x = len(lower)
        # Bounds as rows: x <= upper (finite ones) and -x <= -lower.
        eye = np.eye(n_x)
        self._bound_rows = torch.as_tensor(np.vstack((eye[finite], -eye)))
        self._bound_rhs = torch.as_tensor(np.concatenate((upper[finite], -lower)))

    def forward(
        self,
        q: torch.Tensor,
        v: torch.Tensor,
        u_nominal: torch.Tensor,
        gains: torch.Tensor | None = None,
        rows: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Safe torques (B, dof), float64, differentiable in u_nominal and gains. `rows`
        (B, row_width): the samples' `sample_rows`, computed here from q, v when not given."""
        batch = u_nominal.shape[0]
        if gains is None:
            gains = self.default_gains.expand(batch, -1)
        self._check(q, v, u_nominal, gains)
        if rows is None:
            rows = self.rows_of(q, v)
        elif rows.shape != (batch, self.row_width):
            raise BarrierNetError(f"rows must have shape ({batch}, {self.row_width})")
        H, f, A, b = self.quadratic_program(
            rows, u_nominal.to(torch.float64), gains.to(torch.float64)
        )
        x, solved = DenseQP.apply(H, f, A, b)
        u = x[:, : self.safety_filter.robot.dof] * self._scale
        return u if bool(solved.all()) else self._braking_where_unsolved(u, solved, q, v)

    def _check(self, q, v, u_nominal, gains) -> None:
        dof, batch = self.safety_filter.robot.dof, u_nominal.shape[0]
        for name, x, width in (("q", q, dof), ("v", v, dof), ("u_nominal", u_nominal, dof)):
            if x.shape != (batch, width):
                raise BarrierNetError(
                    f"{name} must have shape ({batch}, {width}), got {tuple(x.shape)}"
                )
        if gains.shape != (batch, len(self.gain_names)):
            raise BarrierNetError(f"gains must have shape ({batch}, {len(self.gain_names)})")
        if not torch.all(torch.isfinite(gains)) or torch.any(gains <= 0):
            raise BarrierNetError(
                "gains must be finite and positive (use softplus on network outputs)"
            )

    def _braking_where_unsolved(self, u, solved, q, v):
        """The deployed filter's answer to an infeasible QP: its braking command (constant)."""
        unsolved = torch.nonzero(~solved).squeeze(-1).tolist()
        self.fallbacks += len(unsolved)
        braking = [
            self.safety_filter.braking_command(
                q[i].detach().double().numpy(), v[i].detach().double().numpy()
            )
            for i in unsolved
        ]
        return u.index_put((~solved,), torch.as_tensor(np.stack(braking), dtype=u.dtype))

    def quadratic_program(self, rows, u_nominal, gains):
        """Batched (H, f, A, b) of min ½xᵀHx + fᵀx s.t. A x <= b (bounds included as rows);
        `rows` (B, row_width): every sample's `sample_rows`."""
        L, e, h, h_dot, inverse_mass, a0 = self._unpack(rows)
        kappa, c1, c0 = self._row_coefficients(gains)
        kappa_L = kappa.unsqueeze(-1) * L
        G = -(kappa_L @ inverse_mass)
        w = (kappa_L @ a0.unsqueeze(-1)).squeeze(-1) + kappa * e + c1 * h_dot + c0 * h
        Gz = G * self._scale
        norms = torch.linalg.vector_norm(Gz, dim=-1).clamp_min(1e-12)
        batch = u_nominal.shape[0]
        slack_columns = self._slack_columns.expand(batch, -1, -1)
        constraint_rows = torch.cat((Gz / norms.unsqueeze(-1), slack_columns), dim=-1)
        A = torch.cat((constraint_rows, self._bound_rows.expand(batch, -1, -1)), dim=1)
        b = torch.cat((w / norms, self._bound_rhs.expand(batch, -1)), dim=1)
        f = torch.cat((-2.0 * u_nominal / self._scale, self._penalties.expand(batch, -1)), dim=1)
        return self._hessian.expand(batch, -1, -1), f, A, b

    @property
    def row_width(self) -> int:
        return sum(int(np.prod(shape)) for shape in self._row_shapes)

    def sample_rows(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The constraint classes' rows at one state (L, e, h, h_dot, M^-1, a0), flattened: data
        the layer does not differentiate, so a training set can compute them once per sample."""
        terms, groups = self.safety_filter.rows(np.asarray(q, float), np.asarray(v, float))
        parts = [np.concatenate([getattr(rows, key) for rows in groups]) for key in _ROW_KEYS]
        parts += [terms.inverse_mass, terms.free_acceleration]
        return np.concatenate([np.ravel(part) for part in parts])

    def rows_of(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """`sample_rows` of a batch of states, (B, row_width)."""
        q_np, v_np = q.detach().cpu().double().numpy(), v.detach().cpu().double().numpy()
        return torch.as_tensor(
            np.stack([self.sample_rows(*state) for state in zip(q_np, v_np, strict=True)])
        )

    def _unpack(self, rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        rows = rows.to(torch.float64)
        parts, start = [], 0
        for shape in self._row_shapes:
            width = int(np.prod(shape))
            parts.append(rows[:, start : start + width].reshape(-1, *shape))
            start += width
        return tuple(parts)

    def _row_coefficients(self, gains: torch.Tensor):
        """Per-row (kappa, c1, c0), (B, rows) each, from the per-group gains."""
        dt = self.safety_filter.config.control_period
        columns = {"kappa": [], "c1": [], "c0": []}
        start = 0
        for degree, size in self._groups:
            group_gains = [gains[:, start + i] for i in range(degree)]
            start += degree
            for key, value in zip(
                columns, condition_coefficients(degree, group_gains, dt), strict=True
            ):
                value = value if torch.is_tensor(value) else torch.full_like(gains[:, 0], value)
                columns[key].append(value.unsqueeze(1).expand(-1, size))
        return tuple(torch.cat(columns[key], dim=1) for key in columns)


class DenseQP(torch.autograd.Function):
    """(x*, solved) of min ½xᵀHx + fᵀx s.t. A x <= b, batched; DAQP forward, KKT backward.
    An unsolved sample (infeasible) has x = 0, solved False and no gradient."""

    @staticmethod
    def forward(ctx, H, f, A, b):
        Hn, fn, An, bn = (t.detach().cpu().double().numpy() for t in (H, f, A, b))
        xs, multipliers, solved = [], [], []
        for Hi, fi, Ai, bi in zip(Hn, fn, An, bn, strict=True):
            x, _, exitflag, info = daqp.solve(
                np.ascontiguousarray(Hi), fi, np.ascontiguousarray(Ai), bi,
                np.full(len(bi), -INFINITY), np.zeros(len(bi), dtype=np.int32), primal_tol=1e-10,
            )  # fmt: skip
            solved.append(exitflag == 1)
            xs.append(x if solved[-1] else np.zeros(len(fi)))
            multipliers.append(info["lam"] if solved[-1] else np.zeros(len(bi)))
        x = torch.as_tensor(np.stack(xs), dtype=H.dtype)
        nu = torch.as_tensor(np.stack(multipliers), dtype=H.dtype)
        solved = torch.as_tensor(solved)
        ctx.save_for_backward(H, A, b, x, nu, solved)
        ctx.mark_non_differentiable(solved)
        return x, solved

    @staticmethod
    def backward(ctx, grad_x, _grad_solved):
        H, A, b, x, nu, solved = ctx.saved_tensors
        grad_x = grad_x * solved.unsqueeze(-1).to(grad_x.dtype)  # no gradient where unsolved
        residual = b - (A @ x.unsqueeze(-1)).squeeze(-1)
        active = (nu > 0) & (residual < _ACTIVE_TOLERANCE * (1 + b.abs()))
        # Rows inactive in every sample decouple exactly (identity rows, zero right-hand side:
        # y_nu = 0 there), so the batched KKT system only holds rows active somewhere.
        used = active.any(dim=0).nonzero().squeeze(-1)
        mask = active[:, used].to(H.dtype)
        n_x, n_c = x.shape[1], len(used)
        A_active = A[:, used] * mask.unsqueeze(-1)
        K = torch.zeros(x.shape[0], n_x + n_c, n_x + n_c, dtype=H.dtype)
        K[:, :n_x, :n_x] = H
        K[:, :n_x, n_x:] = A_active.transpose(1, 2)
        K[:, n_x:, :n_x] = A_active
        K[:, n_x:, n_x:] = torch.diag_embed(1.0 - mask)
        rhs = torch.cat((grad_x, torch.zeros_like(mask)), dim=1)
        y = torch.linalg.solve(K, rhs)
        y_x = y[:, :n_x]
        y_nu = torch.zeros_like(b)
        y_nu[:, used] = y[:, n_x:] * mask
        nu = nu * active.to(H.dtype)
        grad_H = -0.5 * (y_x.unsqueeze(-1) * x.unsqueeze(1) + x.unsqueeze(-1) * y_x.unsqueeze(1))
        grad_A = -(nu.unsqueeze(-1) * y_x.unsqueeze(1) + y_nu.unsqueeze(-1) * x.unsqueeze(1))
        return grad_H, -y_x, grad_A, y_nu
