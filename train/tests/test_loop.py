"""The training loop's pure parts: the learning-rate schedule and the provenance's
path rule."""
import argparse
import os

import pytest

pytest.importorskip("torch")

from earflow_train import loop  # noqa: E402


def args(**kw):
    a = argparse.Namespace(lr=1e-3, lr_final=0.05, warmup=10, cycles=1)
    a.__dict__.update(kw)
    return a


def test_lr_warmup_then_cosine_to_the_floor():
    a = args()
    lrs = [loop.lr_at(s, 110, a) for s in range(110)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(x >= y for x, y in zip(lrs[10:], lrs[11:]))          # decreasing after warm-up
    assert lrs[-1] == pytest.approx(1e-3 * 0.05, rel=0.01)


def test_lr_cycles_restart():
    a = args(cycles=2)
    lrs = [loop.lr_at(s, 210, a) for s in range(210)]
    # a restart at the middle: back to the peak after the first cycle's floor
    assert lrs[109] < 1e-4 and lrs[110] == pytest.approx(1e-3)


def test_ema_moves_a_share_of_the_way_and_leaves_buffers():
    import torch
    ema, model = _tiny_model(1), _tiny_model(2)
    loop.set_time_frequencies(ema)          # buffers that differ, so the last check can fail
    model.emb.t_freqs.fill_(7.0)
    before = {k: v.clone() for k, v in ema.state_dict().items()}
    loop.ema_update(ema, model, 0.75)
    for name, p in ema.named_parameters():
        want = 0.75 * before[name] + 0.25 * dict(model.named_parameters())[name].detach()
        assert torch.allclose(p, want, atol=1e-7), name
    assert torch.equal(ema.emb.t_freqs, before["emb.t_freqs"])     # a buffer: not averaged


def test_provenance_paths_are_repository_relative():
    inside = os.path.join(loop.REPO, "train", "data", "corpus")
    assert loop.repo_relative(inside) == os.path.join("train", "data", "corpus")
    assert loop.repo_relative("/home/someone/set") == "<outside the repository>/set"
    argv = loop.portable_argv(["--data", "/home/someone/set", "--run=/tmp/x/run", "--lr", "1e-3", inside])
    assert argv == ["--data", "<outside the repository>/set", "--run=<outside the repository>/run",
                    "--lr", "1e-3", os.path.join("train", "data", "corpus")]


class _L1Task:
    """The smallest real task: L1 of the end-point estimate against the target."""

    def losses(self, yhat, b):
        l1 = (yhat - b["y"]).abs().mean()
        return {"l1": l1, "total": l1}


def _tiny_model(seed):
    """The smallest separation network (velocity head), seeded."""
    import torch
    from earflow_train.model import EarflowUNet
    cfg = loop.make_config(argparse.Namespace(widths="8,8", dil_mid="1", dil_dec="", groups=4, emb_dim=8,
                                              no_freq_emb=True, head="velocity", n_fft=32, hop=16, alpha=0.5,
                                              beta=0.1, sigma=0.0, solver="euler", default_steps=1, t0=0.0),
                           "separate", {"smoothing_ms": 20, "labels": ["a"], "remove": "subtract"})
    torch.manual_seed(seed)
    return EarflowUNet(cfg)


def _states_seen(states, y_scale, anchor=1.0):
    """The network inputs of one training step's evaluation at t > 0, for a target y
    scaled by y_scale (same model, mixture, noise and t)."""
    import torch
    model = _tiny_model(3)
    g = torch.Generator().manual_seed(5)
    mix = torch.randn(2, 2, 6, 16, generator=g)
    b = {"cond": mix, "z": mix, "prior": None, "y": y_scale * torch.randn(2, 2, 6, 16, generator=g),
         "c": torch.zeros(2, 6, 2)}
    a = argparse.Namespace(sigma=0.0, t_sampling="uniform", t_zero_frac=0.5, anchor_weight=anchor, states=states)
    seen = []
    hook = model.in_conv.register_forward_hook(lambda m, inp, out: seen.append(inp[0][:, :2].clone()))
    loop.step_losses(_L1Task(), model, b, a, torch.Generator().manual_seed(9))
    hook.remove()
    return seen[-1]          # the evaluation from x_t (the first is the anchor's, from x_0)


def test_self_states_never_hold_the_target():
    """--states self: the state at t > 0 is built from the network's own first
    estimate, so no target reaches the network's input; --states target puts it there
    (the inversion separation model 2's stage 2 learned)."""
    import torch
    assert torch.equal(_states_seen("self", 1.0), _states_seen("self", 3.0))
    assert torch.equal(_states_seen("self", 1.0, anchor=0.0), _states_seen("self", 3.0, anchor=0.0))
    assert not torch.allclose(_states_seen("target", 1.0), _states_seen("target", 3.0))


def _tiny_velocity():
    import torch
    model = _tiny_model(4)
    loop.set_time_frequencies(model)
    g = torch.Generator().manual_seed(6)
    cond = torch.randn(1, 2, 6, 16, generator=g)
    c = torch.zeros(1, 6, 2)

    def U(x, t):
        return model.velocity(x, cond, t, c)
    return U, cond


def test_solver_states_are_the_euler_schedules_own():
    """--states solver: the state at t = k / N is what N-step Euler (flow.solve, as the
    engine runs it) holds after k steps; at N steps it is the schedule's end state, and
    after one step it is --states self's x_t (the blend with the first estimate)."""
    import torch
    from earflow_train import flow
    U, x0 = _tiny_velocity()
    t0 = torch.zeros(1)
    with torch.no_grad():
        v0 = U(x0, t0)
        for n in flow.GRID_STEPS:
            end = flow.euler_states(U, x0, v0, n, torch.ones(1))
            ref = flow.solve(lambda x, t, k: U(x, torch.full((1,), t)), x0, "euler", n, 0.0)
            assert torch.allclose(end, ref, atol=1e-6), n
        half = flow.euler_states(U, x0, v0, 4, torch.full((1,), 0.25))
        blend = flow.interpolate(x0, flow.estimate(x0, v0, t0), torch.full((1,), 0.25))
        assert torch.allclose(half, blend, atol=1e-6)
        two = flow.euler_states(U, x0, v0, 4, torch.full((1,), 0.5))
        assert not torch.allclose(two, flow.interpolate(x0, flow.estimate(x0, v0, t0), torch.full((1,), 0.5)),
                                  atol=1e-4)    # a second evaluation moved it


def test_grid_times_are_a_schedules_times():
    """--t-sampling grid: every time is k / N for an N of GRID_STEPS and 0 < k < N."""
    import torch
    from earflow_train import flow
    gen = torch.Generator().manual_seed(2)
    seen = set()
    for _ in range(300):
        t, n = flow.sample_grid(3, gen, "cpu")
        k = float(t[0]) * n
        assert n in flow.GRID_STEPS and abs(k - round(k)) < 1e-6 and 0 < round(k) < n
        assert torch.all(t == t[0])
        seen.add((n, round(k)))
    assert len(seen) == sum(n - 1 for n in flow.GRID_STEPS)


def test_committed_models_name_no_machine_paths():
    """Shipped and staged model files name repository-relative paths only: no absolute
    path (a machine's folders or interpreter) anywhere in their metadata; the trainer
    writes its command as `python3 SCRIPT ...`."""
    import glob
    import re
    from earflow_train.export import read_safetensors
    assert loop.shown_command("train/train_separate.py", ["--run", "/tmp/x/run"]) == \
        "python3 train/train_separate.py --run <outside the repository>/run"
    files = sorted(glob.glob(os.path.join(loop.REPO, "models", "*.safetensors")) +
                   glob.glob(os.path.join(loop.REPO, "train", "stages", "*.safetensors")))
    assert files
    for f in files:
        _, meta = read_safetensors(f)
        text = " ".join(meta.values())
        found = re.findall(r'(?:^|[\s"=\[,])(/[\w.-]+(?:/[\w.-]+)+)', text)
        assert not found, (os.path.relpath(f, loop.REPO), sorted(set(found)))
