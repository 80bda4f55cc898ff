"""The worker's side of the protocol on arbitrary bytes, read as the worker reads its stdin
(Channel.read_request, line by line): each line is a request or a ProtocolError (answered with
`bad_request`); any other exception would end the worker with a traceback instead of a reply. Run by scripts/fuzz with atheris; without atheris (the tests), the
corpus is replayed by workers/python/tests/test_fuzz_corpus.py through the same check()."""
import io
import sys

from dlbench_worker.protocol import Channel, ProtocolError


def check(data: bytes) -> None:
    channel = Channel(reply_fd=-1, requests=io.BytesIO(data))
    while True:
        try:
            if channel.read_request() is None:
                return
        except ProtocolError:
            pass


def main() -> None:
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
