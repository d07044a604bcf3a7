"""The official Python SDK making the same describe round trips as benches/describe.rs.

Usage (after `cargo bench --bench describe --no-run`):
    BIN=$(ls target/release/deps/describe-* | grep -v '\\.d$')
    URL=$(taskset -c 1 $BIN --serve & sleep 1)   # or start it and copy the URL it prints
    taskset -c 1 python benches/python_describe.py URL 10000
Needs `pip install pinecone==10.2.0`.
"""

import sys
import time

from pinecone import Pinecone


def main() -> None:
    url, calls = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    pc = Pinecone(api_key="bench-key", host=url)
    pc.assistant.describe(name="support-bot")  # warm-up: opens the connection
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        pc.assistant.describe(name="support-bot")
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"python pinecone describe x {calls}")
    print(f"  requests/s:          {calls / wall:.0f}")
    print(f"  wall per call:       {wall * 1e6 / calls:.1f} µs")
    print(f"  client CPU per call: {cpu * 1e6 / calls:.1f} µs")


if __name__ == "__main__":
    main()
