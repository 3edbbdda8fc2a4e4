"""The file service and the notification service of the RabbitMQ benchmark, with pika.

load URI N EXCHANGE QUEUE: publishes N file.uploaded events (p1..pN, confirmed), then reads N
  results from QUEUE; prints JSON: seconds from the first publish to the last result, and the
  publish-to-result latency of each file in ms.
idle URI K EXCHANGE QUEUE: K events (idle1..idleK, in/idleI.jpg) one at a time, each after the previous one's result;
  prints JSON: the latencies in ms.
"""
import json, sys, time
import pika

mode, uri, count, exchange, queue = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
connection = pika.BlockingConnection(pika.URLParameters(uri))
channel = connection.channel()
channel.confirm_delivery()
channel.basic_qos(prefetch_count=200)
sent = {}

def publish(name, key):
    body = json.dumps({"specversion": "1.0", "id": name, "source": "/bench", "type": "file.uploaded",
                       "data": {"fileId": name, "bucket": "uploads", "key": key}})
    sent[name] = time.monotonic()
    channel.basic_publish(exchange, "file.uploaded", body.encode(),
                          pika.BasicProperties(content_type="application/cloudevents+json", delivery_mode=2))

def results(expected):
    latencies = {}
    for method, props, body in channel.consume(queue, inactivity_timeout=300):
        if method is None:
            break
        name = (props.headers or {}).get("mediad-key")
        if isinstance(name, bytes):
            name = name.decode()
        channel.basic_ack(method.delivery_tag)
        if name in sent and name not in latencies:
            latencies[name] = (time.monotonic() - sent[name]) * 1000
        if len(latencies) >= expected:
            break
    channel.cancel()
    return latencies

if mode == "load":
    start = time.monotonic()
    for i in range(1, count + 1):
        publish(f"p{i}", f"in/p{i}.jpg")
    latencies = results(count)
    print(json.dumps({"seconds": time.monotonic() - start, "latencies": sorted(latencies.values())}))
elif mode == "idle":
    out = []
    for i in range(1, count + 1):
        name = f"idle{i}"
        publish(name, f"in/{name}.jpg")
        out += list(results(1).values())
        time.sleep(0.5)
    print(json.dumps({"latencies": sorted(out)}))
connection.close()
