#!/usr/bin/env bash
# The long versions of the queue's cross-process tests: exactly-once with
# per-producer order over 1 000 000 items (4 producers x 4 consumers), and
# random SIGKILLs of producers and consumers (150 kills by default), for
# ShmQueue and for SpscQueue (1 000 000 items, 150 kills), in a release
# build. Usage: scripts/queue-stress.sh [ROUNDS] (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds"
    QUEUE_ITEMS="${QUEUE_ITEMS:-1000000}" cargo test --release --test queue -- --nocapture \
        queue_4_producers_4_consumers
    QUEUE_KILLS="${QUEUE_KILLS:-150}" cargo test --release --test queue_kill -- --nocapture
    SPSC_ITEMS="${SPSC_ITEMS:-1000000}" cargo test --release --test spsc -- --nocapture \
        spsc_delivers_every_item_exactly_once_in_order_across_processes
    SPSC_KILLS="${SPSC_KILLS:-150}" cargo test --release --test spsc_kill -- --nocapture
done
