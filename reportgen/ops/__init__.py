"""Pure functions shared by the stages: word folding, quadrature, rollout, ranking, statistics, numbers."""
