"""``hf-ser serve MODEL [--backend onnx] [--host 127.0.0.1] [--port 8000]``: the model behind HTTP with a web page
(``hf_ser.serve``; needs the ``serve`` extra: ``pip install 'hf_ser[serve]'``)."""

from __future__ import annotations

import argparse
import logging

from hf_ser.commands.flags import add_asr_flag, add_calibration_flag, add_trust_remote_code_flag

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="saved model folder (runs/<name>/model), Hub id, or an `hf-ser export onnx` output")
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch", help="inference backend")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--max-batch", type=int, default=8, help="requests run as one batch at most (1: no micro-batching)")
    parser.add_argument("--max-wait-ms", type=float, default=10.0, help="how long a batch waits to fill")
    parser.add_argument("--max-queue", type=int, default=64, help="requests waiting at most; more are answered 503")
    parser.add_argument("--max-bytes", type=int, default=25 * 1024 * 1024, help="largest upload (413 above)")
    parser.add_argument("--max-duration-s", type=float, default=600.0, help="longest audio (413 above)")
    add_trust_remote_code_flag(parser)
    add_calibration_flag(parser)
    add_asr_flag(parser, "each upload sent")


def run(args: argparse.Namespace) -> int:
    from hf_ser.errors import UserError

    try:
        import uvicorn
    except ImportError:
        raise UserError("hf-ser serve needs FastAPI and uvicorn: pip install 'hf_ser[serve]'") from None
    import hf_ser
    from hf_ser.serve import BatchSettings, ServeSettings, UploadLimits, create_app

    try:
        settings = ServeSettings(
            UploadLimits(max_bytes=args.max_bytes, max_duration_s=args.max_duration_s),
            BatchSettings(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, max_queue=args.max_queue),
        )
    except ValueError as e:
        raise UserError(f"--max-batch / --max-wait-ms / --max-queue: {e}") from None
    model = hf_ser.load(
        args.model, backend=args.backend, trust_remote_code=args.trust_remote_code, calibrated=not args.no_calibration,
        asr=args.asr,
    )
    app = create_app(model, source=args.model, settings=settings)
    logger.info("serving %s (%s) on http://%s:%d", args.model, args.backend, args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
