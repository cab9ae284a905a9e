"""Experiments on playbook steps: outcomes per member, and the difference between arms."""
