"""Attack explorer — sheet §2.1–2.2 on a real digit: the smallest change that fools a model, white-box or black-box."""

import numpy as np
import streamlit as st

from core import runs
from core.figures import explorer as figs
from core.mnist import explorer
from core.mnist.robust import CHECKPOINT, load_model
from ui import common as ui

ctx = ui.setup_page("Attack explorer", "🔍")
st.title("🔍 Attack explorer")
st.markdown(
    "Pick a test digit and a model, then attack it. **FGSM** and **PGD** are white-box: they use the gradient "
    "∇ₓL. The **black box** only sees the model's probabilities and estimates the gradient by finite differences, "
    "paying one query per model evaluation."
)
st.latex(r"\delta^* = \arg\max_{\|\delta\| \le \epsilon} L_\theta(x+\delta, y), \qquad "
         r"\delta_{\mathrm{FGSM},\infty} = \epsilon\,\mathrm{sign}\big(\nabla_x L\big), \qquad "
         r"\delta_{\mathrm{FGSM},2} = \epsilon\,\frac{\nabla_x L}{\|\nabla_x L\|_2}")  # fmt: skip

QUICK = "quick"


@st.cache_resource(show_spinner=False)
def _digits():
    from core.mnist.data import load_mnist

    return load_mnist("auto")


@st.cache_resource(show_spinner="Training a quick standard CNN on the MNIST training digits (3 epochs)…")
def _quick_model(seed: int):
    return explorer.quick_standard_model(seed)


@st.cache_resource(show_spinner="Loading the run's checkpoint…", max_entries=16)
def _run_model(path: str, mtime_ns: int):
    return load_model(path)[0]


@st.cache_data(show_spinner="Attacking…", max_entries=256)
def _attack(model_key: str, _model, digit: int, method: str, eps: float, norm: str, steps: int, budget: int,
            fd_method: str, n_dirs: int, seed: int) -> explorer.ExplorerResult:  # fmt: skip
    data = _digits()
    image = data.x_test[digit].astype(np.float32) / 255.0
    return explorer.attack_digit(_model, image, int(data.y_test[digit]), method, eps, norm, steps, budget,
                                 fd_method, n_dirs, seed=seed)  # fmt: skip


with ui.user_errors():
    data = _digits()
finished = {
    i.run_id: i
    for i in runs.list_runs(kind="robust")
    if i.status == "done" and (i.path / CHECKPOINT).is_file()
}


def model_name(key: str) -> str:
    if key == QUICK:
        return "quick standard CNN (trained here, 3 epochs)"
    cfg = finished[key].config
    return f"run {key[-4:]} · {cfg.get('mode')} ε={cfg.get('eps')} · {cfg.get('epochs')} ep"


c1, c2, c3 = st.columns([2, 1, 1])
with c1:
    model_key = ui.select("Model", "model", [QUICK, *finished], QUICK, format_func=model_name,
                          help="Any finished adversarial-training run, or a standard CNN trained on demand.")  # fmt: skip
with c2:
    digit = ui.number("Test digit #", "digit", 0, len(data.y_test) - 1, 0, 1)
with c3:
    method = ui.select(
        "Method", "method", explorer.METHODS, "pgd", format_func=lambda m: explorer.METHOD_NAMES[m]
    )

c1, c2, c3 = st.columns(3)
with c1:
    norm = ui.radio(
        "Norm of the ball", "norm", ["inf", "2"], "inf", format_func=lambda n: "L∞" if n == "inf" else "L2"
    )
with c2:
    if norm == "inf":
        eps = ui.slider("ε (L∞, pixels in [0, 1])", "eps_inf", 0.0, 0.5, 0.15, 0.01)
    else:
        eps = ui.slider("ε (L2)", "eps_2", 0.0, 6.0, 1.5, 0.1)
with c3:
    steps, budget, fd_method, n_dirs = 20, 2000, "random", 20
    if method == "pgd":
        steps = ui.slider("PGD steps k", "steps", 1, 100, 20, 1)
    elif method == "blackbox":
        budget = ui.slider("Query budget", "budget", 200, 20000, 2000, 100,
                           help="Model evaluations the attacker may ask for; each gradient estimate costs 2·(directions) + 1.")  # fmt: skip
        fd_method = ui.radio("Finite differences", "fd", list(explorer.FD_METHODS), "random",
                             format_func=lambda m: {"random": "random directions", "coordinate": "coordinate-wise (1,569 per step)"}[m])  # fmt: skip
        if fd_method == "random":
            n_dirs = ui.slider("Directions per estimate", "dirs", 1, 100, 20, 1)

with ui.user_errors():
    if model_key == QUICK:
        model = _quick_model(ctx.seed)
        key = f"quick-{ctx.seed}"
    else:
        path = finished[model_key].path / CHECKPOINT
        model = _run_model(str(path), path.stat().st_mtime_ns)
        key = f"{model_key}-{path.stat().st_mtime_ns}"
    result = _attack(key, model, int(digit), method, float(eps), norm, int(steps), int(budget), fd_method,
                     int(n_dirs), ctx.seed)  # fmt: skip

ui.metric_row({
    "true class y": str(result.label),
    "prediction before": f"{result.pred} ({100 * result.probs.max():.0f} %)",
    "prediction after": f"{result.pred_adv} ({100 * result.probs_adv.max():.0f} %)",
    "‖δ‖∞": f"{result.linf:.3f}",
    "‖δ‖₂": f"{result.l2:.3f}",
    "queries used": f"{result.queries:,}",
}, help={"queries used": "black box: model evaluations asked for; white box: gradient evaluations"})  # fmt: skip
if result.pred != result.label:
    st.warning("The model already gets this digit wrong before any attack — pick another digit.")
elif result.fooled:
    st.success(f"Fooled: {result.label} is now read as {result.pred_adv}.", icon="🎯")
else:
    st.info(
        "Not fooled within this budget: raise ε, the steps or the query budget — or it is a robust model."
    )

ui.look_for("the perturbation (middle, amplified) looks like noise or faint strokes, yet the prediction flips; "
            "an L∞ attack touches every pixel a little, an L2 attack fewer pixels more.")  # fmt: skip
ui.chart(figs.digits_figure(result), key="fig_digits")
ui.look_for("the probability mass moves from the true class to another one.")
ui.chart(figs.probabilities_figure(result), key="fig_probs")
