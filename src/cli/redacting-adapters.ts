import type { Redactor } from '../config/redactor';
import type { Bus, Notifier, ReleaseHook, ResultSink } from '../listener/ports';

/**
 * Peers get what CVP says through these, so that a secret which reached some text (an error
 * message quoting a URL, say) never leaves the process.
 */
function scrub<T>(value: T, r: Redactor): T {
  return r.empty ? value : (JSON.parse(r.redact(JSON.stringify(value))) as T);
}

export function redactingBus(bus: Bus, r: Redactor): Bus {
  return {
    subscribe: (topic, onDelivery) => bus.subscribe(topic, onDelivery),
    publish: (destination, body, headers) => bus.publish(destination, r.redact(body), scrub(headers, r)),
    ack: (d) => bus.ack(d),
    nack: (d) => bus.nack(d),
    close: () => bus.close(),
  };
}

export function redactingNotifier(n: Notifier, r: Redactor): Notifier {
  return { name: n.name, post: (notice) => n.post(scrub(notice, r)), find: (key, channel, opts) => n.find(key, channel, opts) };
}

export function redactingResults(s: ResultSink, r: Redactor): ResultSink {
  return { name: s.name, submit: (result) => s.submit(scrub(result, r)), findByRun: (runId, tc, item) => s.findByRun(runId, tc, item) };
}

export function redactingRelease(h: ReleaseHook, r: Redactor): ReleaseHook {
  return { call: (url, method, body, key) => h.call(url, method, r.redact(body), key) };
}
