"""Key → partition, the same everywhere: librdkafka's ``consistent`` partitioner (CRC-32 of the key).

The Kafka sink, tape writers and generators all place a keyed event with `partition_for`, so a tape
made offline and a topic filled by the live services put each instrument in the same partition.

Examples
--------
>>> partition_for(b"AAPL", 4) == partition_for(b"AAPL", 4)
True
>>> 0 <= partition_for(b"MSFT", 3) < 3
True
>>> partition_for(None, 3)
0
"""

import zlib


def partition_for(key: bytes | None, partition_count: int) -> int:
    """The partition of ``key`` among ``partition_count`` partitions (keyless → partition 0)."""
    if partition_count < 1:
        raise ValueError(f"partition_count must be >= 1, was {partition_count}")
    if key is None:
        return 0
    return zlib.crc32(key) % partition_count
