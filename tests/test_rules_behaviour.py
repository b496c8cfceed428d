"""Behaviour of the MC3xx-MC9xx rules beyond their documented examples: boundaries, severity escalation,
where a finding points, what its fix writes, and which tool a rule is for."""

from __future__ import annotations

from metaconf.lint.engine import LintOptions, lint_text
from metaconf.lint.finding import Finding, Severity


def run(text: str, code: str, *, data: bool = False) -> list[Finding]:
    return [f for f in lint_text(text, "c.yaml", LintOptions(select=[code], data=data)) if f.code == code]


def one(text: str, code: str, *, data: bool = False) -> Finding:
    found = run(text, code, data=data)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


# --------------------------------------------------------------------------------------------- budget
def test_mc301_error_when_design_exceeds_the_run_warning_when_only_capped() -> None:
    over = one("stopping: {n_trials: 40}\ninitial_design: {size: 60}\n", "MC301")
    assert over.severity == Severity.error
    assert "cuts it to 10" in over.message
    assert over.fix is not None and not over.fix.safe
    assert over.fix.edits[0].path == ("initial_design", "size") and over.fix.edits[0].value == 10
    capped = one("stopping: {n_trials: 40}\ninitial_design: {size: 20}\n", "MC301")
    assert capped.severity == Severity.warning
    assert run("stopping: {n_trials: 40}\ninitial_design: {size: 10}\n", "MC301") == []
    assert run("stopping: {n_trials: 40}\ninitial_design: {size: 11, max_ratio: 0.5}\n", "MC301") == []


def test_mc301_counts_hyperparameters_of_the_built_space() -> None:
    text = "search_space: {models: [svm]}\nstopping: {n_trials: 40}\ninitial_design: {per_hyperparameter: 10}\n"
    finding = one(text, "MC301")
    assert finding.span.line == 3  # points at per_hyperparameter, the key the user wrote
    assert "asks for" in finding.message


def test_mc301_is_silent_for_smac_defaults_but_not_for_random_search() -> None:
    assert run("stopping: {n_trials: 10}\n", "MC301") == []  # default 10 per HP: SMAC's own, not a mistake
    # metaconf hands random search the configured design too, so SMAC caps it the same way
    random = "optimizer: {kind: random}\nstopping: {n_trials: 10}\ninitial_design: {size: 60}\n"
    assert one(random, "MC301").severity == Severity.error
    assert one(random, "MC314").severity == Severity.info
    design = "initial_design: {{kind: {kind}, size: 60}}\nstopping: {{n_trials: 100, trial_walltime: 1m}}\nbudget: {{walltime: 2m}}\n"
    assert run(design.format(kind="default"), "MC305") == []  # the default design is one configuration
    assert one(design.format(kind="sobol"), "MC305")  # 25 (capped) x 1 minute


def test_walltime_in_force_is_the_smaller_one() -> None:
    text = "budget: {walltime: 5m}\nstopping: {walltime: 1h, trial_walltime: 10m}\n"
    finding = one(text, "MC302")
    assert "`budget.walltime`" in finding.message and "(5m," in finding.message


def test_mc302_is_for_smac_and_mc802_for_autosklearn() -> None:
    smac = "stopping: {walltime: 5m, trial_walltime: 10m}\n"
    assert one(smac, "MC302").json_path == ("stopping", "trial_walltime")
    assert run("tool: auto-sklearn\n" + smac, "MC302") == []
    assert one("tool: auto-sklearn\n" + smac, "MC802").severity == Severity.warning
    assert run(smac, "MC802") == []


def test_mc303_ignores_an_external_cluster() -> None:
    assert run("budget: {cores: 2}\nexecution: {workers: 8, dask_scheduler: 'tcp://h:8786'}\n", "MC303") == []
    finding = one("budget: {cores: 2}\nexecution: {workers: 8}\n", "MC303")
    assert finding.fix is not None and finding.fix.edits[0].value == 2


def test_mc304_counts_every_worker_and_proposes_a_share() -> None:
    finding = one("budget: {memory: 4GB}\nstopping: {trial_memory: 3GB}\nexecution: {workers: 2}\n", "MC304")
    assert "2 x 3GB = 6GB" in finding.message
    assert finding.fix is not None and finding.fix.edits[0].value == "2GB"
    assert run("budget: {memory: 6GB}\nstopping: {trial_memory: 3GB}\nexecution: {workers: 2}\n", "MC304") == []


def test_mc305_boundary_is_inclusive() -> None:
    base = "stopping: {{n_trials: 200, trial_walltime: 1m}}\ninitial_design: {{size: 10}}\nbudget: {{walltime: {w}}}\n"
    assert run(base.format(w="10m"), "MC305") == []
    assert one(base.format(w="9m"), "MC305").json_path == ("budget", "walltime")
    assert run(base.format(w="5m") + "execution: {workers: 2}\n", "MC305") == []


def test_mc306_each_zero_limit() -> None:
    found = run("budget: {walltime: 0}\nstopping: {walltime: 0, cputime: 0}\n", "MC306")
    assert {f.json_path for f in found} == {("budget", "walltime"), ("stopping", "walltime"), ("stopping", "cputime")}


def test_mc308_reads_the_raw_number_even_when_the_schema_rejects_it() -> None:
    assert run("budget: {memory: 4GB}\n", "MC308") == []
    assert run("budget: {memory: 2048}\n", "MC308") == []
    finding = one("budget: {memory: 3221225472}\n", "MC308")
    assert finding.fix is not None and finding.fix.edits[0].value == "3GB"
    too_big = lint_text("budget: {memory: 4000000000}\n", "c.yaml", LintOptions(select=["MC102", "MC308"]))
    assert {f.code for f in too_big} == {"MC102", "MC308"}


def test_mc309_fix_is_the_limit_pynisher_enforces() -> None:
    finding = one("stopping: {trial_walltime: 0.2s}\n", "MC309")
    assert finding.fix is not None and finding.fix.safe and finding.fix.edits[0].value == "1s"
    assert run("stopping: {trial_walltime: 1s}\n", "MC309") == []


def test_mc312_error_when_smac_would_refuse_warning_when_it_eats_half() -> None:
    warm = "\n".join(f"    - {{C: {c}}}" for c in (1, 2, 3))
    refused = one(f"stopping: {{n_trials: 3}}\ninitial_design:\n  size: 1\n  warm_start:\n{warm}\n", "MC312")
    assert refused.severity == Severity.error
    half = one(f"stopping: {{n_trials: 8}}\ninitial_design:\n  size: 1\n  warm_start:\n{warm}\n", "MC312")
    assert half.severity == Severity.warning
    assert run(f"stopping: {{n_trials: 9}}\ninitial_design:\n  size: 1\n  warm_start:\n{warm}\n", "MC312") == []


def test_mc313_several_families_point_at_the_models() -> None:
    finding = one("optimizer: {kind: bo_gp}\nsearch_space: {models: [svm, mlp]}\n", "MC313")
    assert finding.json_path == ("search_space", "models")
    assert run("optimizer: {kind: bo_gp}\nsearch_space: {models: [svm]}\nstopping: {n_trials: 100}\n", "MC313") == []
    every_family = one("optimizer: {kind: bo_gp}\n", "MC313")
    assert every_family.json_path == ("optimizer", "kind") and "`search_space.models` is unset" in every_family.message


# ------------------------------------------------------------------------------------- multi-fidelity
def test_mc402_equal_bounds_say_every_rung_is_the_same() -> None:
    finding = one("optimizer: {kind: hyperband}\nfidelity: {type: subsample, min: 0.5, max: 0.5}\n", "MC402")
    assert "same budget" in finding.message
    # defaults fill an unset end: 500 trees is above the default maximum of 300
    assert one("optimizer: {kind: hyperband}\nfidelity: {type: n_estimators, min: 500}\n", "MC402")


def test_mc403_says_what_smac_does_with_each_bad_eta() -> None:
    base = "optimizer: {{kind: hyperband}}\nfidelity: {{type: subsample, eta: {eta}}}\n"
    assert "every trial at the maximum budget" in one(base.format(eta=0), "MC403").message
    assert "NaN" in one(base.format(eta=-2), "MC403").message
    assert "OverflowError" in one(base.format(eta=1), "MC403").message
    assert run(base.format(eta=2), "MC403") == []
    assert run("fidelity: {eta: 1}\n", "MC403") == []  # not multi-fidelity: MC405's business


def test_mc405_reports_only_what_was_written() -> None:
    assert run("optimizer: {kind: bo}\n", "MC405") == []
    finding = one("optimizer: {kind: bo}\nfidelity: {eta: 2}\n", "MC405")
    assert "`fidelity.eta`" in finding.message


def test_mc406_needs_log_eta_of_the_ratio() -> None:
    base = "optimizer: {{kind: hyperband}}\nfidelity: {{type: n_estimators, min: {lo}, max: 300, eta: 3}}\n"
    assert one(base.format(lo=150), "MC406")
    assert run(base.format(lo=100), "MC406") == []


def test_mc408_partial_support_is_a_warning() -> None:
    text = "optimizer: {kind: hyperband}\nfidelity: {type: max_iter}\nsearch_space: {models: [mlp, random_forest]}\n"
    finding = one(text, "MC408")
    assert finding.severity == Severity.warning and "`random_forest`" in finding.message and "`mlp`" not in finding.message
    regression = "task: {type: regression}\n" + text.replace("[mlp, random_forest]", "[linear]")
    assert one(regression, "MC408").severity == Severity.error  # Ridge ignores max_iter


def test_mc409_mirrors_the_evaluators_subsample_floor() -> None:
    base = "data: {{demo: {demo}}}\noptimizer: {{kind: hyperband}}\nfidelity: {{type: subsample, min: {low}}}\n{r}"
    holdout, cv = "resampling: {strategy: holdout}\n", "resampling: {strategy: cv, folds: 5}\n"
    # iris: 120 search rows; holdout fits on 80 of them, 5-fold CV on 96; the floor is max(3 x 3, 10) = 10
    assert run(base.format(demo="iris", low=0.15, r=holdout), "MC409", data=True) == []
    finding = one(base.format(demo="iris", low=0.05, r=cv), "MC409", data=True)
    assert "fit on 5 of 96 rows" in finding.message and "at least 10 (3 per class, 10 in all)" in finding.message
    assert finding.fix is not None and finding.fix.safe and finding.fix.edits[0].value == 0.11
    regression = one(base.format(demo="diabetes", low=0.02, r=holdout) + "task: {type: regression}\n", "MC409", data=True)
    assert "(10 in all)" in regression.message
    tiny = base.format(demo="iris, sample_rows: 12", low=0.5, r=cv)
    assert "every budget fits on all of them" in one(tiny, "MC409", data=True).message


# ------------------------------------------------------------------------------------------- stopping
def test_mc501_any_criterion_silences_it() -> None:
    assert one("tool: auto-sklearn\n", "MC501").message.endswith("(one hour)")
    for criterion in ("budget: {walltime: 1h}", "stopping: {n_trials: 5}", "stopping: {plateau_patience: 5}"):
        assert run(criterion + "\n", "MC501") == []


def test_mc502_fix_is_the_metrics_worst_cost() -> None:
    finding = one("task: {metric: r2, type: regression}\nstopping: {crash_cost: .inf}\n", "MC502")
    assert finding.fix is not None and finding.fix.safe and finding.fix.edits[0].value == 10.0
    unknown_scale = one("task: {type: regression}\nstopping: {crash_cost: .inf}\n", "MC502")
    assert unknown_scale.fix is not None and unknown_scale.fix.edits[0].delete


def test_mc503_below_the_best_cost_is_an_error() -> None:
    assert one("stopping: {crash_cost: -1}\n", "MC503").severity == Severity.error
    assert one("stopping: {crash_cost: 0.5}\n", "MC503").severity == Severity.warning
    assert run("stopping: {crash_cost: 1}\n", "MC503") == []
    assert run("task: {type: regression}\nstopping: {crash_cost: 0.5}\n", "MC503") == []  # rmse scale unknown


def test_mc503_expected_cost_uses_the_matrix() -> None:
    matrix = "task:\n  metric: expected_cost\n  cost_matrix: {labels: [a, b], costs: [[0, 1], [5, 0]]}\n"
    assert one(matrix + "stopping: {crash_cost: 2}\n", "MC503").fix.edits[0].value == 5.0  # type: ignore[union-attr]


def test_mc504_names_each_reason() -> None:
    finding = one("stopping: {cputime: 10m}\nexecution: {workers: 2}\n", "MC504")
    assert "Dask workers" in finding.message
    assert run("stopping: {cputime: 10m}\n", "MC504") == []


def test_mc506_score_like_threshold() -> None:
    finding = one("stopping: {cost_threshold: 0.95}\n", "MC506")
    assert finding.severity == Severity.warning
    assert finding.fix is not None and finding.fix.edits[0].value == 0.05
    assert one("stopping: {cost_threshold: -0.1}\n", "MC506").severity == Severity.warning
    assert one("stopping: {cost_threshold: 1.2}\n", "MC506").severity == Severity.error
    assert run("stopping: {cost_threshold: 0.1}\n", "MC506") == []


def test_mc507_counts_the_initial_design_and_warm_starts() -> None:
    base = "stopping: {{n_trials: 40, plateau_patience: {p}}}\ninitial_design: {{size: 10, warm_start: [{{C: 1}}]}}\n"
    assert run(base.format(p=28), "MC507") == []
    assert "29 trials left" in one(base.format(p=29), "MC507").message


# ----------------------------------------------------------------------------------------- resampling
def test_mc602_says_when_no_fold_can_be_stratified() -> None:
    some = one("data: {demo: wine}\nresampling: {strategy: cv, folds: 40}\n", "MC602", data=True)
    assert "cannot be stratified" not in some.message  # the smallest wine class has 38 training rows, the largest 56
    every = one("data: {demo: wine}\nresampling: {strategy: cv, folds: 60}\n", "MC602", data=True)
    assert every.severity == Severity.warning and "cannot be stratified" in every.message
    assert every.fix is not None and every.fix.edits[0].value == 38


def test_mc609_points_at_the_bad_cell() -> None:
    text = "task:\n  metric: expected_cost\n  cost_matrix:\n    labels: [a, b]\n    costs: [[0, 1], [-5, 0]]\n"
    finding = one(text, "MC609")
    assert finding.json_path == ("task", "cost_matrix", "costs", 1, 0)
    assert (finding.span.line, finding.span.col) == (5, 22)
    zero = "task:\n  cost_matrix:\n    labels: [a, b]\n    costs: [[0, 0], [0, 0]]\n"
    assert "every model is perfect" in one(zero, "MC609").message
    repeated = "task:\n  cost_matrix:\n    labels: [1, '1']\n    costs: [[0, 1], [1, 0]]\n"
    assert "more than once" in one(repeated, "MC609").message


def test_mc611_holdout_split_too() -> None:
    text = "data: {demo: iris, sample_rows: 12, test_size: 0.25}\nresampling: {holdout_fraction: 0.1}\n"
    finding = one(text, "MC611", data=True)
    assert "holdout split has 1 rows for 3 classes" in finding.message


def test_mc612_and_mc606_fixes() -> None:
    assert one("task: {positive_label: yes}\n", "MC612").fix is not None
    finding = one("task: {type: classification, metric: rmse}\n", "MC606")
    assert finding.fix is not None and finding.fix.edits[0].value == "accuracy"


def test_mc613_decision_threshold_where_no_threshold_is_chosen() -> None:
    for text, why in (
        ("tool: auto-sklearn\ntask: {metric: f1, decision_threshold: auto}\n", "auto-sklearn"),
        ("task: {type: regression, decision_threshold: natural}\n", "regression"),
        ("task: {metric: accuracy, decision_threshold: natural}\n", "`accuracy`"),
    ):
        finding = one(text, "MC613")
        assert why in finding.message and finding.fix is not None and finding.fix.safe
    for text in (
        "task: {metric: f1, decision_threshold: natural}\n",
        "task: {metric: roc_auc, decision_threshold: natural}\n",
        "task: {metric: accuracy}\n",  # not written: nothing to say
    ):
        assert run(text, "MC613") == []


def test_mc614_selection_margin_with_auto_sklearn() -> None:
    finding = one("tool: auto-sklearn\nresampling: {selection_margin: 1}\n", "MC614")
    assert "ensemble" in finding.message and finding.fix is not None and finding.fix.safe
    assert finding.json_path == ("resampling", "selection_margin")
    for text in (
        "resampling: {selection_margin: 1}\n",  # SMAC uses it
        "tool: auto-sklearn\nresampling: {strategy: cv}\n",  # not written: nothing to say
    ):
        assert run(text, "MC614") == []


# -------------------------------------------------------------------------------------------- data
def test_mc902_matches_labels_ignoring_case() -> None:
    text = "data: {demo: breast_cancer}\ntask: {metric: f1, positive_label: Malignant}\n"
    assert run(text, "MC902", data=True) == []


def test_mc903_regression_on_labels_is_a_warning() -> None:
    assert one("data: {demo: iris}\ntask: {type: regression}\n", "MC903", data=True).severity == Severity.warning


def test_mc901_missing_class_rows() -> None:
    text = (
        "data: {demo: iris}\ntask:\n  metric: expected_cost\n  cost_matrix:\n"
        "    labels: [setosa, versicolor]\n    costs: [[0, 1], [1, 0]]\n"
    )
    assert "`virginica`" in one(text, "MC901", data=True).message


# ---------------------------------------------------------------------------------------- auto-sklearn
def test_autosklearn_rules_only_run_for_autosklearn() -> None:
    assert run("stopping: {walltime: 20s}\n", "MC801") == []
    assert run("optimizer: {kind: hyperband}\n", "MC811") == []


def test_mc804_divides_the_memory_budget_by_the_workers() -> None:
    finding = one("tool: auto-sklearn\nbudget: {memory: 1.5GB, cores: 2}\nexecution: {workers: 2}\n", "MC804")
    assert "768 MB" in finding.message
    assert run("tool: auto-sklearn\nbudget: {memory: 3GB}\n", "MC804") == []


def test_mc805_without_explicit_metalearning_is_a_warning() -> None:
    finding = one("tool: auto-sklearn\nstopping: {n_trials: 10}\n", "MC805")
    assert finding.severity == Severity.warning and finding.json_path == ("stopping", "n_trials")
    custom = "tool: auto-sklearn\nstopping: {n_trials: 10}\ntask:\n  metric: expected_cost\n"
    assert run(custom, "MC805") == []  # meta-learning is off for a custom metric anyway


def test_mc807_suggests_the_closest_component() -> None:
    finding = one("tool: auto-sklearn\nauto_sklearn:\n  include:\n    classifier: [randomforest]\n", "MC807")
    assert finding.fix is not None and finding.fix.edits[0].path == ("auto_sklearn", "include", "classifier", 0)
    assert finding.fix.edits[0].value == "random_forest"
