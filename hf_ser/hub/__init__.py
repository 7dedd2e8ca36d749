"""Distribution to the Hugging Face Hub: push a run with an honest model card, push a prepared corpus."""

from hf_ser.hub.card import load_run_summary, render_model_card
from hf_ser.hub.dataset import RedistributionError, push_dataset
from hf_ser.hub.push import HubPushError, collect_run_files, push_run

__all__ = [
    "HubPushError",
    "RedistributionError",
    "collect_run_files",
    "load_run_summary",
    "push_dataset",
    "push_run",
    "render_model_card",
]
