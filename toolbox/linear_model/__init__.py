"""Linear models (layer 3), named as in scikit-learn.

Least squares (:class:`LinearRegression`, :class:`Ridge`) go through the Gram matrix and a
Cholesky solve; :class:`Lasso` and :class:`ElasticNet` through accelerated proximal gradient
on the Gram matrix; :class:`LogisticRegression` through Newton's method (L-BFGS for many
parameters). All run on the data's own backend and device.
"""

from ._elastic_net import ElasticNet, Lasso
from ._least_squares import LinearRegression
from ._logistic import LogisticRegression
from ._ridge import Ridge

__all__ = ["ElasticNet", "Lasso", "LinearRegression", "LogisticRegression", "Ridge"]
