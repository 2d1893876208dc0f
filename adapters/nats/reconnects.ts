import { Events, type NatsConnection } from "nats";

/** One status loop per connection, whatever the number of listeners. */
const listeners = new WeakMap<NatsConnection, Set<() => void>>();

/**
 * Calls `onReconnect` each time the connection comes back after losing the server. Returns a
 * function that stops calling it.
 */
export function watchReconnects(nc: NatsConnection, onReconnect: () => void): () => void {
  let set = listeners.get(nc);
  if (!set) {
    const created = new Set<() => void>();
    listeners.set(nc, created);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Reconnect) for (const l of [...created]) l();
      }
    })();
    set = created;
  }
  set.add(onReconnect);
  const mine = set;
  return () => void mine.delete(onReconnect);
}
