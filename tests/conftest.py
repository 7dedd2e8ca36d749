import os
import sys
from pathlib import Path

# Tests never reach the network: fail fast instead of timing out on the Hub, keep wandb local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Make the fixture helpers importable as `from audio_fixtures import write_wav` from any test folder.
sys.path.insert(0, str(Path(__file__).parent))
