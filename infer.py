#!/usr/bin/env python3
"""Measure inference of a trained model (python infer.py --model runs/train_.../)."""

from mlel.cli import exit_process, run_main
from mlel.experiments.cli import infer_main

if __name__ == "__main__":
    exit_process(run_main(infer_main, prog="infer.py"))
