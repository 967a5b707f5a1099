"""scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``) for
toolbox's cross-validation functions and searches.

With routing off (the default) the historical rules apply: ``groups`` goes to the splitter,
every other parameter to the estimator's ``fit`` (and a search forwards ``sample_weight`` to the
scorers that take it). With routing on, each parameter goes where its consumer requested it
(``set_fit_request``, ``set_score_request``, ``set_split_request``), through scikit-learn's own
``process_routing``, and an unrequested one raises its ``UnsetMetadataPassedError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ByScorer", "Routed", "check_groups_routing_disabled", "reject_params_without_routing", "route",
           "routing_enabled"]


class ByScorer(dict):
    """Routed scorer parameters: scorer name -> its own keyword arguments (routing on)."""


def routing_enabled() -> bool:
    """Whether scikit-learn's metadata routing is switched on (``sklearn.set_config``)."""
    import sklearn

    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def check_groups_routing_disabled(groups: Any) -> None:
    """scikit-learn's error for ``groups=`` while routing is on (it goes in ``params`` then)."""
    if groups is not None and routing_enabled():
        raise ValueError("`groups` can only be passed if metadata routing is not enabled via "
                         "`sklearn.set_config(enable_metadata_routing=True)`. When routing is enabled, pass "
                         "`groups` alongside other metadata via the `params` argument instead.")


def reject_params_without_routing(params: dict[str, Any], owner: Any, method: str) -> None:
    """scikit-learn's error for extra keyword arguments of ``method`` when routing is off."""
    if params and not routing_enabled():
        raise ValueError(f"Passing extra keyword arguments to {type(owner).__name__}.{method} is only supported if "
                         "enable_metadata_routing=True, which you can set using `sklearn.set_config`. See the "
                         "Metadata Routing User guide <https://scikit-learn.org/stable/metadata_routing.html> for "
                         f"more details. Extra parameters passed are: {set(params)}")


@dataclass
class Routed:
    """Where each parameter goes: the splitter's ``split``, the estimator's ``fit``, each scorer.

    ``by_scorer`` is None with routing off (the caller's own rule for scorers applies); with
    routing on it maps each scorer name to its parameters (full-length; sliced per fold).
    """

    split: dict[str, Any]
    fit: dict[str, Any]
    by_scorer: ByScorer | None = field(default=None)


class _EstimatorScore:
    """The default scorer (``estimator.score``) as a consumer: the estimator's own score requests."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def get_metadata_routing(self) -> Any:
        from sklearn.utils.metadata_routing import get_routing_for_object

        return get_routing_for_object(self.estimator)  # as scikit-learn's _PassthroughScorer


class _Scorers:
    """A dict of scorers as one router, as scikit-learn's ``_MultimetricScorer`` routes to its members
    (toolbox's default scorer stands for ``estimator.score``'s requests)."""

    def __init__(self, scorers: dict[str, Any], estimator: Any = None) -> None:
        from ._scoring import _passthrough

        self.scorers = {name: _EstimatorScore(estimator) if sc is _passthrough and estimator is not None else sc
                        for name, sc in scorers.items()}

    def get_metadata_routing(self) -> Any:
        from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

        return MetadataRouter(owner="scorers").add(
            **self.scorers, method_mapping=MethodMapping().add(caller="score", callee="score"))


def route(owner: str, *, estimator: Any, splitter: Any, scorers: dict[str, Any], groups: Any,
          params: dict[str, Any] | None) -> Routed:
    """Route ``params`` (and ``groups``) for a cross-validation run owned by ``owner``."""
    params = dict(params or {})
    if not routing_enabled():
        return Routed(split={"groups": groups} if groups is not None else {}, fit=params)
    check_groups_routing_disabled(groups)
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

    router = (MetadataRouter(owner=owner)
              .add(splitter=splitter, method_mapping=MethodMapping().add(caller="fit", callee="split"))
              .add(estimator=estimator, method_mapping=MethodMapping().add(caller="fit", callee="fit"))
              .add(scorer=_Scorers(scorers, estimator), method_mapping=MethodMapping().add(caller="fit", callee="score")))
    try:
        routed = process_routing(router, "fit", **params)
    except UnsetMetadataPassedError as e:  # the user called cross_validate, not a fit of it
        raise UnsetMetadataPassedError(message=str(e).replace(f"{owner}.fit", owner),
                                       unrequested_params=e.unrequested_params,
                                       routed_params=e.routed_params) from None
    score_params = dict(routed.scorer.score)
    by_scorer = ByScorer({name: {} for name in scorers})
    if score_params:
        per = process_routing(_Scorers(scorers, estimator), "score", **score_params)
        by_scorer = ByScorer({name: dict(per[name].score) for name in scorers})
    return Routed(split=dict(routed.splitter.split), fit=dict(routed.estimator.fit), by_scorer=by_scorer)
