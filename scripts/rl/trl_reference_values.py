#!/usr/bin/env python3
"""Reference values for ShoalRL's GRPO objective, from TRL's loss expressions under torch autograd.

Run with a Python that has torch (e.g. /work/torchenv/bin/python). It evaluates the per-token
loss of TRL 1.16 `GRPOTrainer._compute_loss` (token-level importance sampling, clipped
surrogate, k3 KL added with weight beta) on the fixed batch below, aggregated as
loss_type="dapo" (sum / active tokens) and loss_type="grpo" (per-sequence mean, then mean),
and prints the loss and d loss / d logp per token as the Swift literal used by
Tests/ShoalRLTests/TRLReferenceTests.swift. The inputs there must match INPUTS here.
"""
import torch

torch.set_default_dtype(torch.float64)

# (current logp, sampling logp, reference logp) per token, and the sequence's advantage.
INPUTS = [
    ([(-1.2, -1.7, -1.0), (-0.4, -0.1, -0.9), (-2.0, -2.05, -1.5)], 1.3),
    ([(-0.7, -0.2, -0.6), (-1.9, -2.4, -2.2)], -0.8),
    ([(-0.3, -0.3, -0.35)], 0.5),
    ([(-2.5, -2.0, -2.6), (-1.1, -1.6, -0.8), (-0.9, -0.95, -1.3), (-1.4, -1.0, -1.4)], -1.6),
]
EPS_LOW, EPS_HIGH, BETA = 0.2, 0.28, 0.04


def evaluate(loss_type):
    width = max(len(tokens) for tokens, _ in INPUTS)
    def column(k, fill):
        return torch.tensor([[t[k] for t in tokens] + [fill] * (width - len(tokens)) for tokens, _ in INPUTS])
    per_token_logps = column(0, 0.0).requires_grad_(True)
    old_per_token_logps, ref_per_token_logps = column(1, 0.0), column(2, 0.0)
    mask = torch.tensor([[1.0] * len(tokens) + [0.0] * (width - len(tokens)) for tokens, _ in INPUTS])
    advantages = torch.tensor([a for _, a in INPUTS]).unsqueeze(1)

    coef_1 = torch.exp(per_token_logps - old_per_token_logps)
    per_token_kl = torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
    coef_2 = torch.clamp(coef_1, 1 - EPS_LOW, 1 + EPS_HIGH)
    per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages) + BETA * per_token_kl
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    else:  # "dapo", one process, no accumulation: normalizer = active tokens of the batch
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    loss.backward()
    grads = [[per_token_logps.grad[i, t].item() for t in range(len(tokens))] for i, (tokens, _) in enumerate(INPUTS)]
    return loss.item(), grads


for loss_type in ["dapo", "grpo"]:
    loss, grads = evaluate(loss_type)
    rows = ", ".join("[" + ", ".join(repr(g) for g in row) + "]" for row in grads)
    print(f'"{loss_type}": (loss: {loss!r}, gradient: [{rows}]),')
