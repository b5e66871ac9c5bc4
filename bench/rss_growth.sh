#!/bin/bash
# Publishes 1,000,000 examples.add (results off) while one worker drains them; RSS at 100k and at 1M.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Q=rssq-$$
java -jar target/celerity.jar worker -b amqp://guest:guest@127.0.0.1:5672/celerity-test --result-backend disabled -Q $Q -c 8 -l WARNING --http-port 18121 -n rss@localhost > /tmp/rss-worker.log 2>&1 &
W=$!
sleep 4
rss() { grep VmRSS /proc/$W/status | awk '{print $2}'; }
done_count() { curl -s localhost:18121/control/stats | grep -o '"succeeded":[0-9]*' | cut -d: -f2; }
echo "idle rss KB $(rss)"
for chunk in $(seq 1 10); do
  /usr/bin/python3 bench/prefill.py amqp://guest:guest@127.0.0.1:5672/celerity-test $Q 100000 --ignore-result 2>/dev/null
  target=$((chunk * 99000))
  while [ "$(done_count)" -lt "$target" ]; do sleep 1; done
  echo "after ~$((chunk*100))k: done $(done_count) rss KB $(rss)"
done
kill $W
rabbitmqctl -q -p celerity-test delete_queue $Q > /dev/null 2>&1
