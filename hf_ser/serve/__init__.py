"""``hf-ser serve``: a model behind HTTP (FastAPI + uvicorn), micro-batched, with a small web page.

``create_app(hf_ser.load(...), settings=ServeSettings(...))`` builds the application; ``running_server`` runs it
in a thread (tests, benchmarks). Importing this package imports neither torch nor FastAPI.
"""

from hf_ser.serve.app import ServeSettings, create_app, running_server
from hf_ser.serve.batching import BatchSettings, MicroBatcher, Overloaded
from hf_ser.serve.uploads import UploadLimits, UploadRejected, decode_upload, sniff_format

__all__ = [
    "BatchSettings",
    "MicroBatcher",
    "Overloaded",
    "ServeSettings",
    "UploadLimits",
    "UploadRejected",
    "create_app",
    "decode_upload",
    "running_server",
    "sniff_format",
]
