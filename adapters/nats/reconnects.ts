import { Events, type NatsConnection } from "nats";

/** Calls `onReconnect` each time the connection comes back after losing the server. */
export function watchReconnects(nc: NatsConnection, onReconnect: () => void): void {
  void (async () => {
    for await (const s of nc.status()) if (s.type === Events.Reconnect) onReconnect();
  })();
}
