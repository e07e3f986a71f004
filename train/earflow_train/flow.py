"""The flow, as the C engine runs it (docs/model-spec.md section 5) and as training
samples it.

    x_0 = prior + sigma * eps                  the noisy start (eps seeded)
    x_t = t * y + (1 - t) * x_0                 the straight path to the target y
    v   = y - x_0                               its velocity
    solve: h = (1 - t0) / N, t_i = t0 + (1 - t0) i / N;
      euler     x += h U(x, t_i)
      midpoint  x += h U(x + h/2 U(x, t_i), t_i + h/2)

Early skip is t0 > 0: the solver starts at t0 from x_0 itself (not from x_t0, which
needs the unknown y), so a model is only good at early skip if it was trained on
states that look like x_0 at times >= t0; none of the samplings below does that yet
(the flow trial in the README measures what early skip costs).

Time-step sampling for training (--t-sampling):
  zero         t = 0 only: a one-step predictor (the shipped models before pipeline 2)
  uniform      t ~ U[0, 1)
  logitnormal  t = sigmoid(N(0, 1)): more weight mid-path (rectified-flow practice)
  mix          a share (--t-zero-frac) of the batch at t = 0, the rest uniform
  grid         the times an Euler schedule evaluates at: per batch a step count N from
               GRID_STEPS and t = k / N, k uniform in 1..N-1 (t = 0 is the anchor's).
               A time embedding with frequencies up to 32 cycles per unit of t lets
               the network's function of t vary fast, so uniform t trains the exact
               times a schedule uses (1/2, 1/4, ...) only through their neighbours;
               the grid trains them themselves

Training states (--states):
  target  x_t = t y + (1 - t) x_0, the straight path to the target (rectified flow).
          Where x_0 is (nearly) the conditioning itself (sigma ~ 0), y is a linear
          function of x_t and the conditioning for every t > 0: the network can learn
          that inversion instead of the task, and it is useless at t = 0, where a
          render starts (separation model 2's stage 2 did: +9.6 dB SI-SDRi from x_0.5,
          -0.1 from x_0).
  self    x_t = t a + (1 - t) x_0 with a the network's own one-step estimate from x_0
          (held fixed: no gradient through it). Euler's later states are exactly of
          this form (a a blend of the earlier estimates), so each later evaluation
          learns to improve on the first from what the solver will show it, and the
          answer is never in the input. N Euler steps end at the N-th evaluation's
          estimate; midpoint's end point 2 a_mid - a_0 extrapolates past it.
  solver  (needs --t-sampling grid) x_t is the state N-step Euler reaches at t = k / N
          from x_0, run by the network itself without gradient: exactly what the k-th
          evaluation of that schedule sees (self is the same for k = 1 and for N = 2).
"""

import numpy as np
import torch

T_MODES = ("zero", "uniform", "logitnormal", "mix", "grid")
STATE_MODES = ("target", "self", "solver")
GRID_STEPS = (2, 4, 8)


def start(prior, sigma, eps):
    """x_0 = prior + sigma * eps (eps None or sigma 0: the prior itself)."""
    if eps is None or sigma == 0:
        return prior
    return prior + sigma * eps


def sample_grid(batch, gen, device):
    """--t-sampling grid: (t [batch], N) with one Euler step count N and one k per
    batch, t = k / N."""
    n = GRID_STEPS[int(torch.randint(len(GRID_STEPS), (1,), generator=gen))]
    k = int(torch.randint(1, n, (1,), generator=gen))
    return torch.full((batch,), k / n, device=device), n


def sample_t(mode, batch, gen, device, zero_frac=0.5):
    """[batch] training times in [0, 1) drawn from the CPU generator `gen`."""
    if mode == "grid":
        return sample_grid(batch, gen, device)[0]
    if mode == "zero":
        return torch.zeros(batch, device=device)
    if mode == "uniform":
        return torch.rand(batch, generator=gen).to(device)
    if mode == "logitnormal":
        return torch.sigmoid(torch.randn(batch, generator=gen)).to(device)
    if mode == "mix":
        u = torch.rand(batch, generator=gen).to(device)
        k = int(round(zero_frac * batch))
        return torch.where(torch.arange(batch, device=device) < k, torch.zeros_like(u), u)
    raise ValueError("unknown t sampling %r (one of %s)" % (mode, ", ".join(T_MODES)))


def interpolate(x0, y, t):
    """x_t = t y + (1 - t) x_0, t [B]."""
    tt = t[:, None, None, None]
    return tt * y + (1 - tt) * x0


def euler_states(velocity, x0, v0, n, t):
    """The state N-step Euler reaches at time t (a multiple of 1 / N, [B] all equal)
    from x0, whose first velocity v0 is given: x_{j+1} = x_j + v_j / N, v_j =
    velocity(x_j, t_j [B])."""
    k = int(round(float(t[0]) * n))
    x, h = x0, 1.0 / n
    for j in range(k):
        v = v0 if j == 0 else velocity(x, torch.full_like(t, j * h))
        x = x + h * v
    return x


def estimate(x, v, t):
    """The end point one Euler step from x at t reaches: x + (1 - t) v."""
    return x + (1 - t)[:, None, None, None] * v


def schedule(steps, t0):
    """Step start times t_i and the step h (python floats, as the engine's doubles)."""
    h = (1.0 - t0) / steps
    return [t0 + (1.0 - t0) * i / steps for i in range(steps)], h


def evaluations(solver, steps):
    """Network evaluations per frame of a schedule."""
    return steps * (2 if solver == "midpoint" else 1)


def solve(velocity, x, solver, steps, t0):
    """Run the engine's solver from state x (a torch tensor, batched or not, or a numpy
    array): velocity(x, t, k) with t the evaluation time (a python float) and k the
    evaluation's index in the frame (the engine keeps one set of causal-conv history
    buffers per index). The step sizes are float32, as the engine multiplies them.
    Differentiable unless called under no_grad."""
    ts, h = schedule(steps, t0)
    h32, half = np.float32(h), np.float32(h / 2.0)
    for i, ti in enumerate(ts):
        if solver == "euler":
            x = x + velocity(x, ti, i) * h32
        elif solver == "midpoint":
            xm = x + velocity(x, ti, 2 * i) * half
            x = x + velocity(xm, ti + h / 2.0, 2 * i + 1) * h32
        else:
            raise ValueError("unknown solver %r (euler or midpoint)" % (solver,))
    return x


def parse_schedules(text, flow_cfg=None):
    """'euler:1:0,midpoint:2:0.5,default' -> [(solver, steps, t0)], duplicates dropped;
    'default' is the model's flow section."""
    out = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        if item == "default":
            if flow_cfg is None:
                raise ValueError("'default' needs a model config")
            s = (flow_cfg["solver"], int(flow_cfg["steps"]), float(flow_cfg["t0"]))
        else:
            solver, n, t0 = item.split(":")
            s = (solver, int(n), float(t0))
        if s not in out:
            out.append(s)
    return out


def schedule_name(s):
    return "%s %d step%s t0 %g (%d NFE)" % (s[0], s[1], "" if s[1] == 1 else "s", s[2],
                                          evaluations(s[0], s[1]))
