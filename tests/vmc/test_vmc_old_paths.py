"""The module paths and names of ``vmc`` before its split by physics (issue 20)
still work for one release, each with a DeprecationWarning naming the new home."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

OLD_MODULES = {"vmc.hamiltonian": "vmc.trap.hamiltonian", "vmc.wavefunction": "vmc.trap.wavefunction",
               "vmc.samplers": "vmc.trap.samplers", "vmc.kernels": "vmc.trap.kernels",
               "vmc.lattice": "vmc.spins.lattice", "vmc.tfim": "vmc.spins.tfim",
               "vmc.tfim_exact": "vmc.spins.exact", "vmc.tfim_run": "vmc.spins.runner",
               "vmc.spin_kernels": "vmc.spins.kernels", "vmc.spin_samplers": "vmc.spins.samplers",
               "vmc.spin_wavefunction": "vmc.spins.wavefunction",
               "vmc.tomography": "vmc.spins.tomography"}


@pytest.mark.parametrize("old", sorted(OLD_MODULES))
def test_an_old_module_path_warns_and_gives_the_same_objects(old):
    code = (f"import warnings, {OLD_MODULES[old]} as new\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            f"    import {old} as mod\n"
            "assert any(issubclass(x.category, DeprecationWarning) and "
            f"'{OLD_MODULES[old]}' in str(x.message) for x in w), [str(x.message) for x in w]\n"
            "assert mod.__all__ and all(getattr(mod, n) is getattr(new, n) "
            "for n in new.__all__)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name, home", [("Hamiltonian", "vmc.trap"), ("exact_energy", "vmc.trap"),
                                        ("Lattice", "vmc.spins"),
                                        ("free_fermion_energy", "vmc.spins")])
def test_an_old_top_level_name_warns_and_is_the_new_object(name, home):
    import vmc
    with pytest.warns(DeprecationWarning, match=f"{home}.{name}"):
        old = getattr(vmc, name)
    assert old is getattr(importlib.import_module(home), name)


def test_the_trap_run_moved_out_of_the_driver_with_a_warning():
    import vmc.driver
    import vmc.trap
    with pytest.warns(DeprecationWarning, match="vmc.trap.runner.sgd_stable_rate"):
        assert vmc.driver.sgd_stable_rate is vmc.trap.sgd_stable_rate


def test_the_conveniences_do_not_warn():
    import warnings

    import vmc
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vmc.run is vmc.trap.run and vmc.run_tfim is vmc.spins.run_tfim
        assert vmc.VMCResult and vmc.SR and vmc.make_optimizer
