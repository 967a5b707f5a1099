"""Histogram gradient boosting, split by stage: binning, loss, histograms and splits, grower, predictor."""
