#!/usr/bin/env python3
"""Train one model while measuring its energy (python train.py --help, --list)."""

from mlel.cli import exit_process, run_main
from mlel.experiments.cli import train_main

if __name__ == "__main__":
    exit_process(run_main(train_main, prog="train.py"))
