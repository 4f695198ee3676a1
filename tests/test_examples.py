"""Every script in ``examples/`` runs end to end (``--quick``) and its results make sense."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _run(name, *args, timeout=900):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_every_example_is_tested():
    tested = {"lotka_volterra_discovery.py", "stiff_ude_chemistry.py", "real_series.py", "sst_damping.py",
              "latent_ode_oscillators.py", "navier_stokes_inverse.py", "energy_balance_climate.py",
              "ebm_albedo_ude.py", "airfoil_design.py", "md_force_matching.py", "arm_identification.py",
              "arm_friction_ude.py", "latent_vae_oscillator.py", "arm_motion_synthesis.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} <= tested


@pytest.mark.slow
def test_lotka_volterra_discovery(tmp_path):
    pytest.importorskip("matplotlib")
    _run("lotka_volterra_discovery.py", "--quick", "--out", str(tmp_path))
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["ude"]["status"] == "SUCCESS" and res["refit"]["status"] == "SUCCESS"
    assert res["reload_identical"] is True
    # even the short training gets within 10x of the noise floor and finds the interaction terms
    assert res["ude"]["loss"] < 10 * res["ude"]["noise_floor"]
    assert all("prey*predator" in terms for terms in res["discovered"]["terms"])
    assert (tmp_path / "lv_discovery.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_latent_vae_oscillator_euler_vs_adaptive(tmp_path):
    _run("latent_vae_oscillator.py", "--quick", "--out", str(tmp_path))
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["status"] == "SUCCESS"
    euler = [res["errors"][f"euler dt={dt:g}"]["vs_adaptive"] for dt in res["euler_steps"]]
    assert euler[0] > euler[1] > euler[2] and 0.8 <= res["euler_order"] <= 1.2, res
    assert res["errors"]["adaptive (tsit5, rtol 1e-5)"]["vs_adaptive"] < 0.1 * euler[-1]


@pytest.mark.slow
def test_stiff_ude_chemistry(tmp_path):
    pytest.importorskip("matplotlib")
    _run("stiff_ude_chemistry.py", "--quick", "--out", str(tmp_path))
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["status"] == "SUCCESS" and np.isfinite(res["loss"])
    assert res["solver"] == "Rodas5P"
    assert res["rate_rel_rms_error"] < 0.25  # the learned rate law follows the true one along the data


@pytest.mark.slow
def test_real_series_sunspots(tmp_path):
    pytest.importorskip("statsmodels")
    pytest.importorskip("matplotlib")
    _run("real_series.py", "--quick", "--out", str(tmp_path))
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["status"] == "SUCCESS"
    assert res["train_r2_z"] > res["baseline_train_r2_z"]  # the network adds what the oscillator lacks
    errors = res["errors"]
    assert errors["ude"]["rmse"] < errors["climatology"]["rmse"]  # the 1980-2008 forecast beats climatology


def test_sst_damping(tmp_path):
    pytest.importorskip("eofs")
    xr = pytest.importorskip("xarray")
    out = tmp_path / "fit.nc"
    _run("sst_damping.py", "--out", str(out))
    res = xr.open_dataset(out)
    damping = res["damping"].values
    ocean = np.isfinite(damping)
    assert ocean.sum() > 400 and np.all(damping[ocean] > 0)


def test_navier_stokes_inverse_example(tmp_path):
    out = json.loads(_run("navier_stokes_inverse.py", "--quick", "--out", str(tmp_path / "ns.png")).stdout.splitlines()[-1])
    assert abs(out["nu"] - out["nu_true"]) / out["nu_true"] < 0.03 and out["w0_relative_error"] < 0.03
    assert (tmp_path / "ns.png").stat().st_size > 0


def test_energy_balance_climate_example(tmp_path):
    pytest.importorskip("matplotlib")
    out = json.loads(_run("energy_balance_climate.py", "--quick", "--out", str(tmp_path / "ebm.png")).stdout.splitlines()[-1])
    assert out["ice_edge"] == 70.0 and 13.0 < out["global_mean"] < 16.0  # climlab's EBM(): 14.29 degC, 70 degrees
    assert out["dTmean_dS0"] > (1 - 0.3) / (4 * 2.0)  # amplified by the ice-albedo feedback
    lo, hi = out["bistable_S0"]
    assert lo <= 1300.0 and hi >= 1800.0  # partly ice-covered and snowball states coexist in between
    assert out["two_box_max_error"] < 1e-8
    assert (tmp_path / "ebm.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow  # ~65 s CPU (25 s of it compiling the adjoint): 80 optimiser steps through Rodas5P
def test_ebm_albedo_ude_example(tmp_path):
    pytest.importorskip("matplotlib")
    out = json.loads(_run("ebm_albedo_ude.py", "--quick", "--out", str(tmp_path / "ude.png")).stdout.splitlines()[-1])
    assert out["status"] == "SUCCESS"
    assert out["albedo_rmse"] < 0.02 and out["temperature_rmse"] < 0.1  # noise 0.05 K
    found, true = out["discovered"], out["true"]
    assert abs(found["jump"] - true["jump"]) < 0.05 * true["jump"]
    assert abs(found["T_freeze"] - true["T_freeze"]) < 1.0 and abs(found["width"] - true["width"]) < 1.0
    assert (tmp_path / "ude.png").read_bytes()[:4] == b"\x89PNG"


def test_airfoil_design_example(tmp_path):
    pytest.importorskip("matplotlib")
    out = json.loads(_run("airfoil_design.py", "--quick", "--out", str(tmp_path / "foil.png")).stdout.splitlines()[-1])
    assert out["success"] and abs(out["cl_after"] - out["cl_target"]) < 2e-3 and abs(out["cl_camber_only"] - 0.8) < 1e-9
    # the optimised section reaches the same lift with a smaller nose-down moment than camber alone
    assert abs(out["cm_after"]) < 0.8 * abs(out["cm_camber_only"])
    assert (tmp_path / "foil.png").read_bytes()[:4] == b"\x89PNG"


def test_md_force_matching_example(tmp_path):
    out = json.loads(_run("md_force_matching.py", "--quick", "--out", str(tmp_path)).stdout.splitlines()[-1])
    assert abs(out["sigma"] / out["sigma_true"] - 1) < 0.01 and abs(out["epsilon"] / out["epsilon_true"] - 1) < 0.01
    if (tmp_path / "md_force_matching.png").exists():
        assert (tmp_path / "md_force_matching.png").stat().st_size > 0


def test_arm_identification_example(tmp_path):
    res = json.loads(_run("arm_identification.py", "--quick", "--out", str(tmp_path)).stdout.splitlines()[-1])
    assert res["success"] and np.max(np.abs(res["relative_errors"])) < 0.02


@pytest.mark.slow
def test_arm_friction_ude_example(tmp_path):
    res = json.loads(_run("arm_friction_ude.py", "--quick", "--out", str(tmp_path)).stdout.splitlines()[-1])
    assert res["status"] == "SUCCESS" and res["torque_rel_rms_error"] < 0.05
    assert sorted(res["discovered"]) == ["v", "v^3"]
    assert res["discovered"]["v"] == pytest.approx(-0.4, rel=0.05)
    assert res["discovered"]["v^3"] == pytest.approx(-0.05, rel=0.10)
    assert res["rms_frictionless"] > 20 * res["rms_ude"]
    if (tmp_path / "arm_friction_ude.png").exists():
        assert (tmp_path / "arm_friction_ude.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_arm_motion_synthesis_example(tmp_path):
    pytest.importorskip("matplotlib")
    _run("arm_motion_synthesis.py", "--quick", "--out", str(tmp_path))
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["status"] == "SUCCESS" and res["training_reach_error_m"] < 1e-6
    # generated reaches land near their targets, asked for the wrong target they do not (tests/test_arm_motion_synthesis.py)
    assert res["reach_error_m"]["mean"] < 0.1 < res["wrong_target_reach_error_m"]["mean"]
    assert res["torque_nm"]["generated_fraction_over_limit"] == 0.0
    assert (tmp_path / "arm_motion_synthesis.png").read_bytes()[:4] == b"\x89PNG"
