"""Node-separable NLP assembly: derivatives built once per node, mapped over the mesh, scattered by constant maps.

Why: the collocation NLP is separable. Every nonlinear term lives at one mesh node (it depends on that node's
states x_k and controls u_k only); the coupling between nodes (trapezoidal defects, the mean-power sum, the
half-cycle shift of an inertial crank) is linear in the node terms and in the decision vector. So

    g(w) = A_y vec(Y(w)) + A_w w + b,    f(w) = 1/N sum_k f_k(w) + 1/2 c(p) w' Q w,

with Y[:, k] = y(theta_k, x_k, u_k, p) and f_k the node terms of `node_terms`, A_y, A_w, Q constant sparse
matrices and c(p) a parameter. The constraint Jacobian is then A_y blockdiag(dy/dz_k) P + A_w and the Hessian
of the Lagrangian is sum_k P' hess_z(sigma/N f_k + mu_k' y_k) P + sigma c Q, with mu = A_y' lambda_g and P the
permutation of w into node order. The node Jacobian and Hessian are SX functions of one node (built once, their
size independent of the mesh), evaluated over all nodes with `map`, and their nonzeros land in the global
sparse matrices through a constant sparse matrix built here with index arithmetic. Building is cheap and grows
linearly with the mesh (index arrays only); the second derivatives stay exact; evaluation is the SX virtual
machine per node (or compiled C, see compiled.py) plus one sparse matrix-vector product.

The alternative, mapping the node function over SX symbols, expands the whole NLP into one SX graph and lets
CasADi differentiate it: exact too, but seconds to build, growing with the mesh. Mapping over MX symbols and
letting CasADi differentiate the MX graph builds fast but evaluates the Hessian ~10x slower (measured).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import casadi as ca
import numpy as np


@dataclass
class Coupling:
    """Linear coupling of node terms into the constraint vector: g = A_y vec(Y) + A_w w + b.

    Triplets (row, column, value); Y columns index vec(Y) (node k, term i -> k * ny + i); w columns index the
    decision vector. Duplicated (row, column) pairs add up."""

    n_rows: int
    y_rows: np.ndarray
    y_cols: np.ndarray
    y_vals: np.ndarray
    w_rows: np.ndarray
    w_cols: np.ndarray
    w_vals: np.ndarray
    offset: np.ndarray


def _nz_triplets(sp: ca.Sparsity) -> tuple[np.ndarray, np.ndarray]:
    r, c = sp.get_triplet()
    return np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)


def _sparse_dm(nrow: int, ncol: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> ca.DM:
    """A CasADi sparse matrix from triplets, duplicates summed (numpy only: no scipy in the solve path)."""
    key = cols.astype(np.int64) * nrow + rows.astype(np.int64)  # column-major, CasADi's nonzero order
    uk, inv = np.unique(key, return_inverse=True)
    v = np.zeros(len(uk))
    np.add.at(v, inv, vals)
    sp = ca.Sparsity.triplet(nrow, ncol, (uk % nrow).tolist(), (uk // nrow).tolist())
    return ca.DM(sp, v)


def _same_signature(a: ca.Function, b: ca.Function) -> bool:
    return (a.n_in() == b.n_in() and a.n_out() == b.n_out()
            and all(a.size_in(i) == b.size_in(i) for i in range(a.n_in()))
            and all(a.size_out(i) == b.size_out(i) for i in range(a.n_out())))


class SeparableNLP:
    """The NLP functions (f and g, gradient, Jacobian, upper-triangular Hessian of the Lagrangian) of a
    node-separable collocation problem, as CasADi functions that IPOPT calls through `nlpsol` options.

    node_terms(theta, x, u, par) -> (y [ny], f [1]) is one node. Decision vector w = [vec(X); vec(U)] with X
    (nx, N), U (nu, N) column-major. The objective is the mean of f over the nodes plus the quadratic term
    1/2 quad_weight(par) w' quad w."""

    def __init__(self, node_terms: ca.Function, nx: int, nu: int, theta: np.ndarray, n_par: int,
                 coupling: Coupling, quad: tuple[np.ndarray, np.ndarray, np.ndarray],
                 quad_weight: Callable[[ca.MX], ca.MX], structure: tuple = ()):
        self.nx, self.nu, self.N = nx, nu, len(theta)
        self.nz, self.nw = nx + nu, (nx + nu) * len(theta)
        self.n_par = n_par
        self.theta = np.asarray(theta, dtype=float)
        self.coupling = coupling
        self.quad = quad
        self.quad_weight = quad_weight
        self.structure = structure  # what node_terms computes, beyond the code (key of the compiled library)
        self._node_derivatives(node_terms)
        self.compiled = False
        self.library = None  # where the compiled node functions are (or will be, while compiling)

    # --- one node (SX, built once: size independent of the mesh) -------------------------------------------
    def _node_derivatives(self, node_terms: ca.Function) -> None:
        th = ca.SX.sym("theta")
        x, u = ca.SX.sym("x", self.nx), ca.SX.sym("u", self.nu)
        par = ca.SX.sym("par", self.n_par)
        y, fk = node_terms(th, x, u, par)
        self.ny = y.numel()
        z = ca.vertcat(x, u)
        jy = ca.jacobian(y, z)
        gf = ca.gradient(fk, z)
        mu, sigma = ca.SX.sym("mu", self.ny), ca.SX.sym("sigma")
        hess = ca.triu(ca.hessian(sigma * fk + ca.dot(mu, y), z)[0])
        self.jac_sp, self.hess_sp = jy.sparsity(), hess.sparsity()
        ins, names = [th, x, u, par], ["theta", "x", "u", "par"]
        # No common-subexpression elimination (option "cse"): it removes a quarter of the instructions but
        # costs ~0.5 s per structure to run, more than it saves in a solve.
        self.f_y = ca.Function("node_y", ins, [y], names, ["y"])
        self.f_f = ca.Function("node_f", ins, [fk], names, ["f"])
        self.f_gf = ca.Function("node_grad_f", ins, [fk, gf], names, ["f", "grad"])
        self.f_jac = ca.Function("node_jac_y", ins, [y, ca.vertcat(*jy.nonzeros())], names, ["y", "jac_nz"])
        self.f_hess = ca.Function("node_hess", ins + [mu, sigma], [ca.vertcat(*hess.nonzeros())],
                                  names + ["mu", "sigma"], ["hess_nz"])

    # --- index maps (numpy; linear in the mesh) ------------------------------------------------------------
    def _z_to_w(self) -> np.ndarray:
        """zw[i, k]: position in w of node k's local variable i (x then u)."""
        k = np.arange(self.N)
        xi = k[None, :] * self.nx + np.arange(self.nx)[:, None]
        ui = self.nx * self.N + k[None, :] * self.nu + np.arange(self.nu)[:, None]
        return np.vstack([xi, ui])

    def _jacobian_map(self) -> tuple[ca.Sparsity, ca.DM, ca.DM]:
        """Global Jacobian sparsity, the matrix taking mapped node-Jacobian nonzeros to global nonzeros, and
        the constant nonzeros (A_w)."""
        c, N, ny = self.coupling, self.N, self.ny
        lr, lc = _nz_triplets(self.jac_sp)
        nnz = len(lr)
        zw = self._z_to_w()
        # Node-Jacobian nonzeros grouped by local row: A_y entry (R, k*ny + i, a) meets node k's entries of row i.
        rows, cols, srcs, vals = [], [], [], []
        yk, yi = c.y_cols // ny, c.y_cols % ny
        for i in range(ny):
            t = np.where(lr == i)[0]
            sel = np.where(yi == i)[0]
            if len(t) == 0 or len(sel) == 0:
                continue
            R = np.repeat(c.y_rows[sel], len(t))
            K = np.repeat(yk[sel], len(t))
            T = np.tile(t, len(sel))
            rows.append(R)
            cols.append(zw[lc[T], K])
            srcs.append(K * nnz + T)
            vals.append(np.repeat(c.y_vals[sel], len(t)))
        rows = np.concatenate(rows + [c.w_rows]).astype(np.int64)
        cols = np.concatenate(cols + [c.w_cols]).astype(np.int64)
        n_node = len(rows) - len(c.w_rows)
        key = cols * c.n_rows + rows
        uk, pos = np.unique(key, return_inverse=True)
        sp = ca.Sparsity.triplet(c.n_rows, self.nw, (uk % c.n_rows).tolist(), (uk // c.n_rows).tolist())
        scatter = _sparse_dm(len(uk), nnz * N, pos[:n_node], np.concatenate(srcs), np.concatenate(vals))
        const = np.zeros(len(uk))
        np.add.at(const, pos[n_node:], c.w_vals)
        return sp, scatter, ca.DM(const)

    def _hessian_map(self) -> tuple[ca.Sparsity, ca.DM, ca.DM]:
        """Global upper-triangular Hessian sparsity, the scatter of mapped node-Hessian nonzeros, and the
        quadratic objective term's nonzeros (to be scaled by sigma * quad_weight)."""
        lr, lc = _nz_triplets(self.hess_sp)
        nnz = len(lr)
        zw = self._z_to_w()
        K = np.repeat(np.arange(self.N), nnz)
        a, b = zw[np.tile(lr, self.N), K], zw[np.tile(lc, self.N), K]
        qr, qc, qv = self.quad
        up = qr <= qc  # upper triangle of the symmetric quadratic term
        rows = np.concatenate([np.minimum(a, b), qr[up]]).astype(np.int64)
        cols = np.concatenate([np.maximum(a, b), qc[up]]).astype(np.int64)
        key = cols * self.nw + rows
        uk, pos = np.unique(key, return_inverse=True)
        sp = ca.Sparsity.triplet(self.nw, self.nw, (uk % self.nw).tolist(), (uk // self.nw).tolist())
        n_node = len(a)
        scatter = _sparse_dm(len(uk), nnz * self.N, pos[:n_node], np.arange(n_node), np.ones(n_node))
        qnz = np.zeros(len(uk))
        np.add.at(qnz, pos[n_node:], qv[up])
        return sp, scatter, ca.DM(qnz)

    def node_functions(self, compile_mode: str | None = None) -> dict[str, ca.Function]:
        """The node derivative functions by name: compiled from the disk cache when available (compiled.py), else
        the SX ones."""
        from . import compiled

        sx = [self.f_y, self.f_f, self.f_gf, self.f_jac, self.f_hess]
        lib, self.library = compiled.load(sx, self.structure, compile_mode)
        if lib is not None and not all(_same_signature(lib[f.name()], f) for f in sx):
            lib = None  # not what this process built (cannot happen with an intact cache): use the SX ones
        self.compiled = lib is not None
        return lib if lib is not None else {f.name(): f for f in sx}

    def compiled_ready(self) -> bool:
        """True when a library compiled in the background has appeared since these functions were made."""
        return not self.compiled and self.library is not None and self.library.exists()

    # --- global functions (MX: a handful of nodes whatever the mesh) -------------------------------------
    def functions(self, compile_mode: str | None = None) -> dict[str, ca.Function]:
        """nlp (x, p) -> (f, g); grad_f (x, p) -> (f, grad_f); jac_g (x, p) -> (g, jac_g);
        hess_lag (x, p, lam_f, lam_g) -> upper triangle of the Hessian of the Lagrangian."""
        N, c = self.N, self.coupling
        nf = self.node_functions(compile_mode)
        w, p = ca.MX.sym("x", self.nw), ca.MX.sym("p", self.n_par)
        lam_f, lam_g = ca.MX.sym("lam_f"), ca.MX.sym("lam_g", c.n_rows)
        X = ca.reshape(w[: self.nx * N], self.nx, N)
        U = ca.reshape(w[self.nx * N:], self.nu, N)
        th, P = ca.DM(self.theta).T, ca.repmat(p, 1, N)
        Ay = _sparse_dm(c.n_rows, self.ny * N, c.y_rows, c.y_cols, c.y_vals)
        Aw = _sparse_dm(c.n_rows, self.nw, c.w_rows, c.w_cols, c.w_vals)
        qr, qcol, qv = self.quad
        Q = _sparse_dm(self.nw, self.nw, qr, qcol, qv)
        qw = self.quad_weight(p)
        b = ca.DM(c.offset)

        def g_of(Y):
            return ca.mtimes(Ay, ca.vec(Y)) + ca.mtimes(Aw, w) + b

        Qw = ca.mtimes(Q, w)
        f_quad = 0.5 * qw * ca.dot(w, Qw)
        f = ca.sum2(nf["node_f"].map(N)(th, X, U, P)) / N + f_quad
        g = g_of(nf["node_y"].map(N)(th, X, U, P))
        nlp = ca.Function("nlp", [w, p], [f, g], ["x", "p"], ["f", "g"])

        fk, gk = nf["node_grad_f"].map(N)(th, X, U, P)
        grad = ca.vertcat(ca.vec(gk[: self.nx, :]), ca.vec(gk[self.nx:, :])) / N + qw * Qw
        grad_f = ca.Function("grad_f", [w, p], [ca.sum2(fk) / N + f_quad, grad], ["x", "p"], ["f", "grad_f_x"])

        jsp, jscatter, jconst = self._jacobian_map()
        Y, jnz = nf["node_jac_y"].map(N)(th, X, U, P)
        jac = ca.MX(jsp, ca.mtimes(jscatter, ca.vec(jnz)) + jconst)
        jac_g = ca.Function("jac_g", [w, p], [g_of(Y), jac], ["x", "p"], ["g", "jac_g_x"])

        hsp, hscatter, hq = self._hessian_map()
        mu = ca.reshape(ca.mtimes(Ay.T, lam_g), self.ny, N)
        hnz = nf["node_hess"].map(N)(th, X, U, P, mu, ca.repmat(lam_f / N, 1, N))
        hess = ca.MX(hsp, ca.mtimes(hscatter, ca.vec(hnz)) + lam_f * qw * hq)
        hess_lag = ca.Function("hess_lag", [w, p, lam_f, lam_g], [hess],
                               ["x", "p", "lam_f", "lam_g"], ["triu_hess_gamma_x_x"])
        return {"nlp": nlp, "grad_f": grad_f, "jac_g": jac_g, "hess_lag": hess_lag}
