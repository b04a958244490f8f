"""Automatic discovery of the accuracy/energy Pareto front (``python -m mlel.tradeoff``).

``space`` declares the model families and hyperparameters searched; ``methods`` chooses the next
configuration (``bo``: BoTorch multi-objective Bayesian optimisation; ``random``; ``grid``);
``evaluators`` runs a configuration (a real, measured experiment, or a synthetic test function);
``search`` is the resumable loop and its output files; ``plots`` draws the front and the
hypervolume curve. Importing this package imports neither torch nor BoTorch.
"""
