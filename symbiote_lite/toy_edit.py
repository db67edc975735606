"""Switching one feature off in a toy model of superposition, and the exact edit that does it.

The toy model of chapter 1 is ``x' = ReLU(WᵀW x + b)`` with ``W`` (m, n): column ``W_i`` is feature i's direction
in hidden space, and ``b`` is the output bias. Here a *diff* ``ΔW`` (and optionally ``Δb``) edits one model; the
goal of "switch feature i off" is ``x'_i = 0`` on every input while every other feature is reconstructed as before.

**The exact reference.** Feature i enters the model only through its column ``W_i``: as an input (encoder, ``W x``)
and as an output (decoder, row i of ``Wᵀ``). Removing the column, ``ΔW* = −W_i e_iᵀ``, makes
``x'_i = ReLU(0ᵀ h + b_i) = ReLU(b_i)``, so together with ``Δb*_i = −max(b_i, 0)`` the output is exactly 0 for every
input. For another feature j the pre-activation changes by exactly ``−(W_jᵀW_i) x_i``: the interference that
feature i wrote onto j is gone and nothing else changes. Without superposition (``W_jᵀW_i = 0`` for all j ≠ i)
every other output is therefore unchanged for every input; in superposition the other features lose i's
interference, which is the part of the edit a minimal one cannot avoid touching: those terms *are* ``W_i``.
``Δb*`` is zero whenever ``b_i ≤ 0`` (every represented feature of a model in superposition, whose biases are
negative), so the reference is then an edit of ``W`` alone.

Shapes: ``W`` (m, n), ``b`` (n,), diffs ``dW`` (..., m, n), inputs ``x`` (batch, n).
"""

import torch


def check_feature(W: torch.Tensor, i: int) -> int:
    """``i`` if it names a feature (column) of ``W``, else a ValueError that names the allowed range."""
    n = W.shape[-1]
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
        raise ValueError(f"feature index {i!r} is out of range: this model has features 0..{n - 1}")
    return i


def edited_output(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, dW: torch.Tensor | None = None,
                  db: torch.Tensor | None = None) -> torch.Tensor:
    """Outputs ``ReLU((W+ΔW)ᵀ(W+ΔW) x + b + Δb)`` of the model under each diff: (..., batch, n).

    ``dW`` (..., m, n) and ``db`` (..., n) broadcast together; ``None`` means no edit of that parameter.
    """
    if W.ndim != 2 or b.shape != W.shape[-1:] or x.ndim != 2 or x.shape[-1] != W.shape[-1]:
        raise ValueError(f"expected W (m, n), b (n,), x (batch, n); got W {tuple(W.shape)}, b {tuple(b.shape)}, "
                         f"x {tuple(x.shape)}")
    if dW is not None and dW.shape[-2:] != W.shape:
        raise ValueError(f"dW has shape {tuple(dW.shape)}; expected (..., {W.shape[0]}, {W.shape[1]})")
    Wp = W if dW is None else W + dW  # (..., m, n)
    bp = b if db is None else b + db  # (..., n)
    h = torch.einsum("...mn,bn->...bm", Wp, x)  # hidden code W' x
    return torch.relu(torch.einsum("...mn,...bm->...bn", Wp, h) + bp[..., None, :])


def exact_reference(W: torch.Tensor, b: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference edit for feature i (see the module docstring): ``ΔW* = −W_i e_iᵀ`` (m, n) and
    ``Δb* = −max(b_i, 0) e_i`` (n,)."""
    check_feature(W, i)
    dW = torch.zeros_like(W)
    dW[:, i] = -W[:, i]
    db = torch.zeros_like(b)
    db[i] = -b[i].clamp(min=0)
    return dW, db


def column_share(dW: torch.Tensor, i: int, eps: float = 1e-12) -> torch.Tensor:
    """(...) share ``‖ΔW[:, i]‖² / ‖ΔW‖²_F`` of a diff's squared norm on feature i's column (0 for a zero diff)."""
    check_feature(dW, i)
    total = dW.pow(2).sum((-2, -1))
    return dW[..., :, i].pow(2).sum(-1) / total.clamp(min=eps)


def reference_cosine(dW: torch.Tensor, W: torch.Tensor, i: int, eps: float = 1e-12) -> torch.Tensor:
    """(...) cosine (Frobenius) between each diff of W and the reference ``−W_i e_iᵀ`` (0 for a zero diff)."""
    ref = exact_reference(W, torch.zeros_like(W[0]), i)[0]
    dot = (dW * ref).sum((-2, -1))
    return dot / (dW.pow(2).sum((-2, -1)).sqrt() * ref.norm()).clamp(min=eps)


def switch_off_scores(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, i: int, importance: torch.Tensor,
                      dW: torch.Tensor | None = None, db: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """How well an edit switches feature i off, on inputs ``x`` (batch, n), importance (n,):

    * ``residual``: ``E[x'_i²]`` under the edit over ``E[x'_i²]`` of the unedited model (0 = fully off);
    * ``collateral``: the other features' importance-weighted reconstruction loss under the edit, minus the
      unedited one, over the unedited one (0 = unchanged; negative = the others got better).
    """
    check_feature(W, i)
    before, after = edited_output(W, b, x), edited_output(W, b, x, dW, db)
    others = torch.ones(W.shape[-1], dtype=torch.bool, device=W.device)
    others[i] = False
    power = before[:, i].pow(2).mean()
    if power <= 0:
        raise ValueError(f"feature {i} has no output on these inputs (its x'_i is always 0): nothing to switch off")

    def retain_loss(out):
        return (importance[others] * (x[:, others] - out[..., others]) ** 2).sum(-1).mean(-1)

    return {"residual": after[..., i].pow(2).mean(-1) / power,
            "collateral": retain_loss(after) / retain_loss(before) - 1}
