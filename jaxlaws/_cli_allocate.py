"""The ``allocate`` subcommand: compute-optimal and constrained allocations, points and bands."""

from __future__ import annotations


from ._errors import OptionError
from ._util import x64
from ._cli_common import assignments, float_opt, read_json
from ._cli_output import check_output, write_result


@x64
def _loss_floor(law, params):
    """The law's loss as N and D grow without bound (other inputs at 1): the lowest reachable target."""
    X = {"N": 1e30, "D": 1e30, **{k: 1.0 for k in law.inputs if k not in ("N", "D")}}
    return float(law({k: float(v) for k, v in params.items()}, *[X[k] for k in law.inputs]))


def cmd_allocate(args):
    import numpy as np

    from ._allocate import check_allocatable, compute_optimal
    from ._io import resolve_law_spec

    law = resolve_law_spec(args.law)
    if bool(args.params) == bool(args.coefficients):
        raise OptionError("give exactly one of --params FIT.json or --coefficients NAME")
    if args.params:
        d = read_json(args.params, "--params")
        params = d.get("params") if isinstance(d, dict) else None
        if not isinstance(params, dict):
            raise OptionError(f"--params {args.params!r} has no 'params' object (write one with jaxlaws fit --json)")
    else:
        params = law.coefficient_set(args.coefficients)
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            raise OptionError(f"--params: parameter {k!r} = {v!r} is not a finite number")
        if k in law.params and not bool(law.params[k].contains(float(v))):
            raise OptionError(f"--params: parameter {k} = {v!r} is outside its domain ({law.params[k]!r}): no allocation")
    saved_units = d.get("units") if args.params and isinstance(d.get("units"), dict) else None
    check_allocatable(law, args.coefficients, units=saved_units)
    if args.params and args.draws:
        same_study(args.params, d, args.draws, read_json(args.draws, "--draws"), law.name)
    if args.json:
        check_output(args.json, args.force)
    if args.memory is not None and not (args.memory > 0):
        raise OptionError(f"--memory {args.memory:g}: a memory budget must be a positive number of parameters (infeasible)")
    if args.inference_tokens is not None and args.target_loss is None:
        raise OptionError("--inference-tokens applies with --target-loss (the inference-aware problem); "
                          "give --target-loss or drop it")
    if args.target_loss is not None:
        floor = _loss_floor(law, params)
        if not (args.target_loss > floor):
            raise OptionError(f"--target-loss {args.target_loss:g} is at or below {law.name}'s floor {floor:.6g} "
                              f"(its loss as N and D grow without bound): no model reaches it (infeasible)")
    if args.objective is not None:
        from ._decide import parse_objective

        parse_objective(args.objective)
        if not args.draws:
            raise OptionError("--objective needs --draws BOOT.json: the expected loss is over parameter draws")
        if args.target_loss is not None or args.memory is not None:
            raise OptionError("--objective applies to compute-optimal allocation (--compute), not --memory/--target-loss")
    if args.target_loss is not None or args.memory is not None:
        return allocate_constrained(args, law, params)
    if args.compute is None:
        raise OptionError("--compute is required (or --target-loss for the inference-aware problem)")
    try:
        C = [float(c) for c in args.compute.split(",")]
    except ValueError:
        raise OptionError(f"--compute {args.compute!r}: give comma-separated numbers, e.g. 1e22,1e24") from None
    inputs = assignments(args.input, "--input", "U=25e9")
    if args.objective is not None:
        return allocate_under_uncertainty(args, law, params, C, inputs)
    point = compute_optimal(law, params, C, flops_per_token=args.flops_per_token, inputs=inputs)
    out = {"law": law.name, "params": params, "inputs": inputs, "allocations": []}
    q = None
    draws = read_draws(args)
    if draws is not None:
        lo, hi = (1 - args.level) / 2, 1 - (1 - args.level) / 2
        q = compute_optimal(law, draws, C,
                            flops_per_token=args.flops_per_token, inputs=inputs).quantiles((lo, 0.5, hi))
    print(f"law: {law.name}   budget: C = {args.flops_per_token:g} N D" + (f"   inputs: {inputs}" if inputs else ""))
    hdr = f"{'C':>10} {'N_opt':>12} {'D_opt':>12} {'D/N':>8} {'loss':>9} {'status':>10}"
    if q is not None:
        hdr += f"   {'N_opt band':>25} {'D/N band':>17}"
    print(hdr)
    from ._extrapolation import outside

    # how far each allocation lies beyond the fitted runs (a saved fit's input_ranges; a
    # published coefficient set's runs are not known here)
    ranges = d.get("input_ranges") if args.params and isinstance(d.get("input_ranges"), dict) else None
    far = outside(ranges, {"N": point.N, "D": point.D}) if ranges else None
    for j, c in enumerate(point.C):
        line = (f"{c:>10.3g} {point.N[j]:>12.4g} {point.D[j]:>12.4g} {point.tokens_per_param[j]:>8.2f} "
                f"{point.loss[j]:>9.4f} {point.status[j]:>10}")
        row = {"C": c, "N_opt": point.N[j], "D_opt": point.D[j], "tokens_per_param": point.tokens_per_param[j],
               "loss": point.loss[j], "status": str(point.status[j])}
        if far is not None:
            row.update(decades_outside=float(far[0][j]), extrapolation=far[1][j])
        if q is not None:
            r = q.iloc[j]
            cols = [col for col in q.columns if col.startswith("N_opt_q")]
            tcols = [col for col in q.columns if col.startswith("tokens_per_param_q")]
            line += f"   [{r[cols[0]]:>10.4g}, {r[cols[2]]:>10.4g}] [{r[tcols[0]]:>6.2f}, {r[tcols[2]]:>6.2f}]"
            row.update({col: float(r[col]) for col in q.columns if col != "C"})
        print(line)
        out["allocations"].append({k: (float(v) if not isinstance(v, str) else v) for k, v in row.items()})
    if q is not None:
        print(f"bands: {args.level:.0%} over {int(q.n_draws.min())} parameter draws")
    if far is not None and np.any(far[0] > 0):
        j = int(np.argmax(far[0]))
        print(f"extrapolation: {int(np.sum(far[0] > 0))} of {len(far[0])} allocations lie outside the fitted runs, up "
              f"to {far[0][j]:.2g} decades (C = {point.C[j]:.3g}: {far[1][j]})")
    if args.json:
        write_result(args.json, out, args.force)
    return 0


def read_draws(args):
    """Parameter draws from a ``jaxlaws bootstrap --json`` file (or None without --draws)."""
    import numpy as np

    if not args.draws:
        return None
    d = read_json(args.draws, "--draws")
    draws = d.get("draws") if isinstance(d, dict) else None
    if not isinstance(draws, dict):
        raise OptionError(f"--draws {args.draws!r} has no 'draws' object (write one with jaxlaws bootstrap --json)")
    out = {}
    for k, v in draws.items():
        try:
            arr = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise OptionError(f"--draws {args.draws!r}: draws of {k!r} are not a list of numbers") from None
        if arr.ndim != 1 or arr.size == 0:
            raise OptionError(f"--draws {args.draws!r}: draws of {k!r} must be a flat, non-empty list of numbers")
        out[k] = arr
    lengths = {len(a) for a in out.values()}
    if len(lengths) > 1:
        raise OptionError(f"--draws {args.draws!r}: the parameters have different numbers of draws {sorted(lengths)}")
    return out


def allocate_constrained(args, law, params):
    """MoE under memory (--memory) or inference-aware training (--target-loss); with --draws
    every budget is re-solved under each bootstrap draw and bands are printed."""
    import numpy as np

    from ._constrained import allocate, inference_problem, moe_problem, total_params

    draws = read_draws(args)
    lo_q, hi_q = (1 - args.level) / 2, 1 - (1 - args.level) / 2
    if args.memory is not None:
        if "E" not in law.inputs:
            raise OptionError(f"--memory needs a law with an expert-count input E (e.g. joint_moe); {law.name} has {list(law.inputs)}")
        if args.compute is None:
            raise OptionError("--memory needs --compute")
        problem, pars = moe_problem(law), params
        batch = {"C": [float_opt("--compute", c) for c in args.compute.split(",")]}
        batch["M"] = [args.memory] * len(batch["C"])
        key = "C"
        print(f"law: {law.name}   budgets: C = 6 N_active D, total params N (1/3 + 2/3 E) <= {args.memory:g}")
        cols = (("N_active", lambda x: x["N"], ".4g"), ("D", lambda x: x["D"], ".4g"), ("experts", lambda x: x["E"], ".0f"),
                ("total_params", lambda x: total_params(x["N"], x["E"]), ".4g"))
        obj_name = "loss"
    else:
        if args.inference_tokens is None:
            raise OptionError("--target-loss needs --inference-tokens (tokens served over the model's lifetime)")
        problem, pars = inference_problem(law), {**params, "target": args.target_loss}
        batch = {"T": [float_opt("--inference-tokens", t) for t in args.inference_tokens.split(",")]}
        if not all(0 <= t < float("inf") for t in batch["T"]):  # also refuses nan
            raise OptionError(f"--inference-tokens {args.inference_tokens}: give tokens served, numbers >= 0")
        key = "T"
        print(f"law: {law.name}   reach loss {args.target_loss:g} at least cost 6 N D + 2 N T")
        cols = (("N", lambda x: x["N"], ".4g"), ("D", lambda x: x["D"], ".4g"), ("D/N", lambda x: x["D"] / x["N"], ".1f"))
        obj_name = "flops"
    r = allocate(problem, pars, batch)
    rb = allocate(problem, pars, batch, draws=draws) if draws is not None else None
    hdr = f"{key:>10} " + " ".join(f"{c[0]:>12}" for c in cols) + f" {obj_name:>10} {'status':>10}"
    if rb is not None:
        hdr += f"   {cols[0][0] + ' band':>25} {obj_name + ' band':>23}"
    print(hdr)
    rows = []
    for j, b in enumerate(batch[key]):
        xj = {k: v[j] for k, v in r.x.items()}
        obj = float(np.exp(r.objective[j]))
        line = f"{b:>10.3g} " + " ".join(f"{float(fn(xj)):>12{fmt}}" for _, fn, fmt in cols) + f" {obj:>10.4g} {r.status[j]:>10}"
        row = {key: b, **{name: float(fn(xj)) for name, fn, _ in cols}, obj_name: obj, "status": str(r.status[j])}
        if rb is not None:
            ok = rb.status[:, j] == "converged"
            first = np.asarray(cols[0][1]({k: v[:, j] for k, v in rb.x.items()}))[ok]
            objs = np.exp(rb.objective[ok, j])
            band = (np.quantile(first, lo_q), np.quantile(first, hi_q)) if ok.any() else (np.nan, np.nan)
            oband = (np.quantile(objs, lo_q), np.quantile(objs, hi_q)) if ok.any() else (np.nan, np.nan)
            line += f"   [{band[0]:>10.4g}, {band[1]:>10.4g}] [{oband[0]:>9.4g}, {oband[1]:>9.4g}]"
            row.update({f"{cols[0][0]}_lo": float(band[0]), f"{cols[0][0]}_hi": float(band[1]),
                        f"{obj_name}_lo": float(oband[0]), f"{obj_name}_hi": float(oband[1]), "n_draws": int(ok.sum())})
        print(line)
        rows.append(row)
    if rb is not None:
        print(f"bands: {args.level:.0%} over {int((rb.status == 'converged').sum(axis=0).min())} parameter draws")
    if args.json:
        write_result(args.json, {"law": law.name, "params": params, "allocations": rows}, args.force)
    return 0


def allocate_under_uncertainty(args, law, params, C, inputs):
    """``--objective``: the allocation minimising the expected loss (or a quantile) over the draws."""
    from ._decide import decide

    draws = read_draws(args)
    missing = [k for k in law.param_names if k not in draws]
    if missing:
        raise OptionError(f"--draws {args.draws!r} lacks draws of {missing} for {law.name}")
    d = decide(law, draws, C, objective=args.objective, point=params, flops_per_token=args.flops_per_token,
               inputs=inputs or None)
    crit = "expected loss" if d.objective in ("expected", "mean") else f"loss {d.objective}"
    print(f"law: {law.name}   budget: C = {args.flops_per_token:g} N D   decision: minimise the {crit} over "
          f"{d.n_draws} parameter draws")
    tab = d.to_frame()
    with __import__("pandas").option_context("display.width", 200):
        print(tab.to_string(index=False, float_format=lambda x: f"{x:.5g}"))
    print("value: the criterion at N; value_plugin: the same criterion at the point estimate's N_opt (N_plugin);\n"
          "regret_plugin = value_plugin - value; evpi: expected loss saved by knowing the law exactly")
    if args.json:
        write_result(args.json, {"law": law.name, "params": params, **d.to_dict()}, args.force)
    return 0


def same_study(params_path, fit_d, draws_path, boot_d, law_name):
    """Refuse a fit and bootstrap draws of different laws or different data (their data
    fingerprints differ): an optimum and a band from two studies would not belong together."""
    from ._prepare import check_same_data

    boot_fit = boot_d.get("fit") if isinstance(boot_d, dict) else None
    if not isinstance(boot_fit, dict):
        return  # not a jaxlaws bootstrap file: read_draws says what is wrong with it
    for path, d in ((params_path, fit_d), (draws_path, boot_fit)):
        if d.get("law") not in (None, law_name):
            raise OptionError(f"{path} holds a fit of {d.get('law')!r}, but --law is {law_name!r}")
    check_same_data(f"--params {params_path}", fit_d.get("n_points"), fit_d.get("data_fingerprint"),
                    f"--draws {draws_path}", boot_fit.get("n_points"), boot_fit.get("data_fingerprint"))
